"""Write the demo workbook's sheets with openpyxl: header in row 1, data from row 2, real Excel
dates, number formats, column widths, frozen header rows, no merged cells, no tables.

The file is made byte-reproducible: fixed document timestamps and fixed zip entry times, so
rebuilding an unchanged workbook gives an identical file (and no spurious git diff).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FIXED_TIME = dt.datetime(2026, 1, 1)
DATE_FMT = "yyyy-mm-dd"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INCOME_NOTE = ("Note: ILLUSTRATIVE — not real data. No MBS income, cashflow or loss series ships "
               "offline; these monthly rates (decimals) are generated deterministically to show "
               "the income-strategy layout. Replace them with the strategy's real figures.")

# sheet -> column -> number format (None key = default for the sheet's value columns)
FORMATS: dict[str, dict[str | None, str]] = {
    "Prices": {None: "#,##0.00", "AAA": "0.00", "BAA": "0.00", "TBILL": "0.00",
               "GBPUSD": "0.0000", "EURUSD": "0.0000", "EURGBP": "0.0000"},
    "Fundamentals": {None: "0.00"},
    "Returns": {None: "0.00%"},
    "Income": {None: "0.000%"},
    "Instruments": {"Maturity": "0.00##", "Neutral Band": "0.000"},
    "Macro": {"Growth": "0.0", "Period": "@"},
    "Series": {"Inception": DATE_FMT},
}
WIDTHS: dict[str, dict[str | None, float]] = {
    "Instruments": {None: 11, "Name": 32, "Country": 15, "Fair Value Inputs": 22, "Neutral Band": 13,
                    "Unit": 24},
    "Series": {None: 11, "Name": 17, "Benchmark": 13, "Description": 90},
    "Macro": {None: 10, "Source": 80},
    "Settings": {"Key": 18, "Value": 70},
    "Sources": {None: 14, "Source": 40, "Transformation": 80, "Span": 24, "Licence / Note": 60},
}


def _value(v):
    """A pandas/numpy value as something openpyxl writes (None for missing)."""
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime()
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def _write_frame(ws, df: pd.DataFrame, formats: dict, dated: bool) -> None:
    headers = (["Date"] if dated else []) + [str(c) for c in df.columns]
    ws.append(headers)
    for cell in ws[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    col_fmt = [DATE_FMT] if dated else []
    for c in df.columns:
        col_fmt.append(formats.get(c, formats.get(None)))
    for key, row in zip(df.index, df.itertuples(index=False, name=None)):
        vals = ([_value(key)] if dated else []) + [_value(v) for v in row]
        ws.append(vals)
    for j, fmt in enumerate(col_fmt, start=1):
        for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            if isinstance(cell.value, dt.datetime):
                cell.number_format = DATE_FMT
            elif fmt and cell.value is not None:
                cell.number_format = fmt


def _widths(ws, sheet: str, headers: list[str], dated: bool) -> None:
    conf = WIDTHS.get(sheet, {})
    for j, h in enumerate(headers, start=1):
        if dated and j == 1:
            w = 12
        else:
            w = conf.get(h, conf.get(None, max(10, len(h) + 3)))
        ws.column_dimensions[get_column_letter(j)].width = w


def write_workbook(sheets: dict[str, object], out: Path, *, income_note: str = INCOME_NOTE,
                   title: str = "Gamma Desk demo monthly workbook",
                   role_rows: dict[str, dict[str, str]] | None = None) -> None:
    """Write ``sheets`` (sheet name -> DataFrame, or list of (key, value) for Settings) to
    ``out``. DataFrames with a DatetimeIndex get a ``Date`` column A; ``income_note`` is
    written beside the Income table, ``title`` into the document properties. ``role_rows``:
    sheet name -> column -> role, written as a ``Role`` row under that sheet's header (the
    Fundamentals sheet states what each column is)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, content in sheets.items():
        ws = wb.create_sheet(name)
        if isinstance(content, pd.DataFrame):
            dated = isinstance(content.index, pd.DatetimeIndex)
            _write_frame(ws, content, FORMATS.get(name, {}), dated)
            headers = (["Date"] if dated else []) + [str(c) for c in content.columns]
            ws.freeze_panes = "B2" if dated and name != "Income" else "A2"
            if name in (role_rows or {}):
                ws.insert_rows(2)
                ws.cell(row=2, column=1, value="Role").font = HEADER_FONT
                for j, h in enumerate(headers[1:], start=2):
                    ws.cell(row=2, column=j, value=role_rows[name].get(h))
                ws.freeze_panes = "B3"
        else:  # Settings: key/value rows
            headers = ["Key", "Value"]
            ws.append(headers)
            for cell in ws[1]:
                cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            for key, value in content:
                ws.append([key, value])
                c = ws.cell(row=ws.max_row, column=2)
                if isinstance(value, dt.datetime):
                    c.number_format = DATE_FMT
                    c.alignment = Alignment(horizontal="left")
                elif isinstance(value, str) and len(value) > 70:
                    c.alignment = Alignment(wrap_text=True, vertical="top")
            ws.freeze_panes = "A2"
            dated = False
        _widths(ws, name, headers, dated)
        if name in ("Series", "Sources", "Macro"):
            for row in ws.iter_rows(min_row=2):
                for cell in row:
                    cell.alignment = Alignment(vertical="top")
        if name == "Instruments":  # Update mixes text (MonthEnd) and day numbers (15, 20)
            j = headers.index("Update") + 1
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.alignment = Alignment(horizontal="left")
        if name == "Income":
            ws["F1"] = income_note
            ws["F1"].font = Font(bold=True, color="C00000")
            ws.column_dimensions["F"].width = 110
    wb.properties.creator = "Gamma Desk demo builder (workbooks/build_demo.py)"
    wb.properties.title = title
    wb.properties.created = FIXED_TIME
    wb.save(out)
    normalise(out)


def normalise(path: Path) -> None:
    """Fix the save-time timestamp and the zip entry times so the bytes are reproducible."""
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp + rb"\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, data)
    tmp.replace(path)
