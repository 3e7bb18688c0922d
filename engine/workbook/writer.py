"""Lay out :class:`~engine.tables.base.SheetContent` on engine sheets, in place.

Only the cells the engine wrote last time (recorded in the workbook's custom document
properties, see :mod:`engine.workbook.areas`) are cleared; a user's note beside an engine
table, their column widths and everything on other sheets are left alone.

Layout of one engine sheet, top-down: intro lines, then each table (bold title line, a real
Excel table with styled header and number formats, note lines, one blank row), then the
charts in a grid of two columns; ``data_tables`` (chart feeds) go to the right of both.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from openpyxl.chart import Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.table import Table as XLTable
from openpyxl.worksheet.table import TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from engine.tables.base import DATE, ENGINE_SHEETS, SheetContent, Table
from engine.workbook.areas import read_areas, write_areas

HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=12, color="1F3864")
NOTE_FONT = Font(italic=True, color="595959")
TABLE_STYLE = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
CM_PER_ROW = 0.53          # default row height 15 pt
CM_PER_COL = 1.9           # default column width 8.43 chars ≈ 64 px
CHART_COLS = 9             # columns one chart spans in the two-column chart grid


@dataclass
class Placed:
    """Where a table landed: first row (header), first column, its columns."""

    row: int
    col: int
    columns: list[str]
    nrows: int


@dataclass
class SheetLayout:
    areas: list[str] = field(default_factory=list)
    tables: dict[str, Placed] = field(default_factory=dict)


def merge_contents(contents: list[SheetContent]) -> dict[str, SheetContent]:
    """Contents of the same sheet from several builders, concatenated in builder order."""
    out: dict[str, SheetContent] = {}
    for c in contents:
        if c.sheet not in ENGINE_SHEETS:
            raise ValueError(f'builder wrote sheet "{c.sheet}", which is not an engine sheet')
        if c.sheet not in out:
            out[c.sheet] = SheetContent(c.sheet)
        m = out[c.sheet]
        m.intro += c.intro
        m.tables += c.tables
        m.charts += c.charts
        m.data_tables += c.data_tables
    return out


def write_contents(wb: Workbook, contents: list[SheetContent]) -> dict[str, list[str]]:
    """Write every engine sheet's content into ``wb``; returns the areas now owned per sheet
    (also stored in the workbook). Sheets are created in ``ENGINE_SHEETS`` order after the
    last sheet when missing."""
    merged = merge_contents(contents)
    old = read_areas(wb)
    used_names = {t for ws in wb.worksheets for t in ws.tables.keys()
                  if not (ws.title in merged)}
    new_areas: dict[str, list[str]] = {s: a for s, a in old.items() if s not in merged}
    for sheet in ENGINE_SHEETS:
        if sheet not in merged:
            continue
        created = sheet not in wb.sheetnames
        ws = wb.create_sheet(sheet) if created else wb[sheet]
        _clear(ws, old.get(sheet, []))
        layout = _write_sheet(ws, merged[sheet], used_names, set_widths=created)
        new_areas[sheet] = layout.areas
    write_areas(wb, new_areas)
    return new_areas


def _clear(ws: Worksheet, areas: list[str]) -> None:
    """Remove what the engine wrote last time: cells, tables, charts and merges in ``areas``."""
    boxes = [range_boundaries(a) for a in areas]

    def inside(col: int, row: int) -> bool:
        return any(c1 <= col <= c2 and r1 <= row <= r2 for c1, r1, c2, r2 in boxes)

    for name in list(ws.tables.keys()):
        c1, r1, _, _ = range_boundaries(ws.tables[name].ref)
        if inside(c1, r1):
            del ws.tables[name]
    ws._charts = [ch for ch in ws._charts if not inside(_anchor(ch)[1] + 1, _anchor(ch)[0] + 1)]
    for r, c in [k for k in ws._cells if inside(k[1], k[0])]:
        del ws._cells[(r, c)]
    ws.freeze_panes = None


def _anchor(chart) -> tuple[int, int]:
    """(row0, col0) of a chart's top-left anchor."""
    a = chart.anchor
    if isinstance(a, str):
        c, r, _, _ = range_boundaries(a + ":" + a)
        return r - 1, c - 1
    return a._from.row, a._from.col


def _write_sheet(ws: Worksheet, content: SheetContent, used_names: set[str],
                 set_widths: bool) -> SheetLayout:
    lay = SheetLayout()
    row = 1
    width = 1
    for line in content.intro:
        c = ws.cell(row=row, column=1, value=line)
        c.font = TITLE_FONT if row == 1 else NOTE_FONT
        lay.areas.append(f"A{row}")
        row += 1
    if content.intro:
        row += 1
    first_header = None
    for t in content.tables:
        placed, row = _write_table(ws, t, row, 1, used_names, lay)
        first_header = first_header or placed.row
        width = max(width, len(placed.columns))
        row += 1
    # data tables to the right of tables and charts
    dcol = max(width, 2 * CHART_COLS if content.charts else 0) + 2
    for t in content.data_tables:
        placed, _ = _write_table(ws, t, 1, dcol, used_names, lay, styled=False)
        dcol += len(placed.columns) + 1
    if content.charts:
        _place_charts(ws, content, row, lay)
    _set_widths(ws, [(t, 1) for t in content.tables] +
                [(t, lay.tables[t.name].col) for t in content.data_tables], only_unset=not set_widths)
    if first_header and len(content.tables) == 1 and not content.charts:
        ws.freeze_panes = ws.cell(row=first_header + 1, column=1)
    return lay


def _write_table(ws: Worksheet, t: Table, row: int, col: int, used_names: set[str],
                 lay: SheetLayout, styled: bool = True) -> tuple[Placed, int]:
    df = t.df
    columns = [str(c) for c in df.columns]
    if t.title:
        c = ws.cell(row=row, column=col, value=t.title)
        c.font = TITLE_FONT
        lay.areas.append(f"{get_column_letter(col)}{row}")
        row += 1
    header_row = row
    for j, name in enumerate(columns):
        c = ws.cell(row=row, column=col + j, value=name)
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if any(len(name) > 12 for name in columns):  # room for a wrapped two-line header
        ws.row_dimensions[row].height = 30
    formats = [t.formats.get(name) or _default_format(df[df.columns[j]])
               for j, name in enumerate(columns)]
    values = df.to_numpy(dtype=object)
    for i in range(len(df)):
        for j in range(len(columns)):
            v = _cell_value(values[i, j])
            if v is None:  # a blank stays a blank: no empty <c/> to create and save
                continue
            c = ws.cell(row=row + 1 + i, column=col + j, value=v)
            if formats[j] and not isinstance(v, str):
                c.number_format = formats[j]
    nrows = max(len(df), 1)
    last_row = row + nrows
    last_col = col + max(len(columns), 1) - 1
    ref = f"{get_column_letter(col)}{row}:{get_column_letter(last_col)}{last_row}"
    if columns:
        name = _unique_name(t.name, used_names)
        xt = XLTable(displayName=name, ref=ref)
        xt.tableStyleInfo = TABLE_STYLE if styled else TableStyleInfo(
            name="TableStyleLight1", showRowStripes=False)
        ws.add_table(xt)
    lay.areas.append(ref)
    placed = Placed(header_row, col, columns, len(df))
    lay.tables[t.name] = placed
    row = last_row + 1
    for note in t.notes:
        c = ws.cell(row=row, column=col, value=note)
        c.font = NOTE_FONT
        lay.areas.append(f"{get_column_letter(col)}{row}")
        row += 1
    return placed, row


def _place_charts(ws: Worksheet, content: SheetContent, row: int, lay: SheetLayout) -> None:
    def ref(table: str, column: str) -> Reference:
        p = lay.tables[table]
        j = p.col + p.columns.index(column)
        return Reference(ws, min_col=j, max_col=j, min_row=p.row + 1,
                         max_row=p.row + max(p.nrows, 1))

    def header(table: str, column: str) -> Reference:
        p = lay.tables[table]
        j = p.col + p.columns.index(column)
        return Reference(ws, min_col=j, max_col=j, min_row=p.row, max_row=p.row)

    slot = 0           # position in the two-column grid
    band_rows = 0      # height of the current row band
    top = row
    prev_group: object = object()
    for spec in content.charts:
        new_band = slot == 2 or (slot == 1 and (spec.group is None or spec.group != prev_group))
        if new_band:
            top += band_rows + 1
            slot, band_rows = 0, 0
        chart = spec.make(ref, header)
        chart.width, chart.height = spec.width, spec.height
        col = 1 + slot * CHART_COLS
        ws.add_chart(chart, f"{get_column_letter(col)}{top}")
        rows = math.ceil(spec.height / CM_PER_ROW) + 1
        cols = max(CHART_COLS, math.ceil(spec.width / CM_PER_COL))
        lay.areas.append(f"{get_column_letter(col)}{top}:{get_column_letter(col + cols - 1)}"
                         f"{top + rows}")
        band_rows = max(band_rows, rows)
        prev_group = spec.group
        slot += 1 if spec.group is not None else 2


def _set_widths(ws: Worksheet, placed: list[tuple[Table, int]], only_unset: bool) -> None:
    """Column widths from header and content lengths (first 50 rows), capped at 48; with
    ``only_unset`` a width someone already set (the user, or an earlier refresh) is kept."""
    widths: dict[int, float] = {}
    for t, first in placed:
        for j, c in enumerate(t.df.columns, start=first):
            sample = t.df[c].head(50)
            longest = max([len(_fmt_len(v)) for v in sample] + [0])
            widths[j] = max(widths.get(j, 8), min(max(len(str(c)) * 0.9, longest) + 2, 48))
    for j, w in widths.items():
        dim = ws.column_dimensions[get_column_letter(j)]
        if only_unset and dim.customWidth:
            continue
        dim.width = round(w, 1)


def _fmt_len(v) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return "yyyy-mm-dd"
    return str(v)


def _default_format(s: pd.Series) -> str | None:
    if pd.api.types.is_datetime64_any_dtype(s):
        return DATE
    if s.dtype == object and len(s) and all(isinstance(v, (dt.date, pd.Timestamp))
                                            for v in s.dropna().head(5)) and s.notna().any():
        return DATE
    return None


def _cell_value(v):
    if v is None:
        return None
    if isinstance(v, (pd.Timestamp,)):
        return None if pd.isna(v) else v.to_pydatetime()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is pd.NaT or (isinstance(v, type(pd.NA)) and v is pd.NA):
        return None
    return v


def _unique_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "Table"
    if not re.match(r"[A-Za-z_]", base):
        base = "T_" + base
    cand, k = base, 2
    while cand.casefold() in {u.casefold() for u in used}:
        cand, k = f"{base}_{k}", k + 1
    used.add(cand)
    return cand
