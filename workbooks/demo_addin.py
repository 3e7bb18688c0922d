"""The Excel add-in sheets of the demo workbook: ``xlwings.conf`` and ``Functions``.

``Functions`` calls every ``gamma_*`` UDF on the demo data (live formulas; they need the
xlwings add-in and *Import Functions*, see README "Use it from Excel") and writes beside each
call the engine's own figure, computed here by calling the engine models directly (not the
UDF adapters), so a user — and ``tests/test_addin_formulas.py`` — can check that Excel shows
what the engine computes. Multi-cell results are legacy array formulas over exactly the
result's cells (they display in every Excel version; typed by hand in Excel 365 the same
formula spills).

Called from :func:`workbooks.build_demo.build` after the input sheets are written:
``add_addin_sheets(path)``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from workbooks.demo_sheets import normalise

CONF_SHEET = "xlwings.conf"
FUNCTIONS_SHEET = "Functions"
RESULT_COL = 3      # column C: the live formula (its result spills to the right)
ENGINE_COL = 17     # column Q: the engine's figure, same shape
PCT, NUM2, LEVEL = "0.00%", "0.00", "#,##0.00"
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")

# Rows 1.. of xlwings.conf: xlwings reads column A/B from A1 down to the first blank cell.
CONF_ROWS = [("UDF Modules", "addin.udfs")]
CONF_HELP = [
    ("Optional settings", "Example", "Move a row up to row 2 (no blank row above it) to use it "
                                     "for this workbook only; a key with an empty value would "
                                     "override the xlwings ribbon, so add a key only with a value."),
    ("Interpreter_Win", r"C:\Users\you\gamma\.venv\Scripts\python.exe",
     "Windows: the Python that has gamma-desk installed (or use Conda Path + Conda Env)."),
    ("Interpreter_Mac", "/Users/you/gamma/.venv/bin/python",
     "macOS: the Python for the Refresh button (RunPython)."),
    ("Conda Path", r"C:\Users\you\miniconda3", "Instead of Interpreter_Win: the conda base."),
    ("Conda Env", "gamma", "Instead of Interpreter_Win: the conda environment."),
    ("PYTHONPATH", r"C:\Users\you\gamma-desk",
     "Only when gamma-desk is not pip-installed: the folder holding engine/ and addin/."),
]


@dataclass
class Call:
    """One UDF call on the Functions sheet and the engine's own figure for it."""

    label: str
    udf: str
    args: str                       # the formula's argument text
    engine: list[list[Any]]         # the engine's figure, same shape as the UDF result
    formats: list[str | None] = field(default_factory=list)  # per result column
    header: list[str] | None = None  # written above both blocks (not part of the result)

    @property
    def formula(self) -> str:
        return f"={self.udf}({self.args})"


def _column(ws: Worksheet, header: str) -> int:
    for c in ws[1]:
        if c.value == header:
            return c.column
    raise ValueError(f'{ws.title}: no column headed "{header}"')


def _row_of(ws: Worksheet, when: dt.datetime) -> int:
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, 1).value == when:
            return r
    raise ValueError(f"{ws.title}: no row dated {when:%Y-%m-%d}")


def _series(ws: Worksheet, col: int, last: int) -> pd.Series:
    """The non-blank values of one column, rows 2..last, indexed by column A dates."""
    idx, vals = [], []
    for r in ws.iter_rows(min_row=2, max_row=last, min_col=1, max_col=col, values_only=True):
        if r[col - 1] is not None:
            idx.append(r[0])
            vals.append(float(r[col - 1]))
    return pd.Series(vals, index=pd.DatetimeIndex(idx), dtype=float)


def _ref(ws: Worksheet, col: int, first: int, last: int) -> str:
    c = get_column_letter(col)
    return f"'{ws.title}'!{c}{first}:{c}{last}" if " " in ws.title else \
        f"{ws.title}!{c}{first}:{c}{last}"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    return v


def build_calls(wb) -> list[Call]:
    """Every UDF on the demo data, with its engine figure (engine models called directly)."""
    from engine.models import performance as perf
    from engine.models.bonds import price_valuation
    from engine.models.composite import forecast_history
    from engine.models.gdp_gap import GDP_GAP_COLUMNS, gdp_gap
    from engine.models.horizons import HORIZON_LABELS, HORIZONS, latest_forecasts
    from engine.models.signals import position, trade
    from engine.models.valuation import month_end, valuation_history

    settings = {k: v for k, v in wb["Settings"].iter_rows(min_row=2, max_col=2,
                                                           values_only=True)}
    asof = settings["As Of"]
    px, ret, macro = wb["Prices"], wb["Returns"], wb["Macro"]
    last = _row_of(px, asof)
    dates = _ref(px, 1, 2, last)
    hz = [HORIZON_LABELS[h] for h in HORIZONS]
    calls: list[Call] = []

    def valuation(code: str, quote: str, asset_class: str):
        m = month_end(_series(px, _column(px, code), last))
        h = valuation_history(m, None, quote=quote, asset_class=asset_class, min_history=60)
        return m, h

    # gamma_valuation: S&P 500, no fundamentals (the model's default fair value)
    m, h = valuation("SPX", "Price", "Equity")
    fc = latest_forecasts(m, h, quote="Price", asset_class="Equity")
    r = h.iloc[-1]
    calls.append(Call(
        "S&P 500 sigma valuation", "gamma_valuation",
        f"{dates},{_ref(px, _column(px, 'SPX'), 2, last)}",
        [[r["sigma"], r["valuation_pct"], r["to_fair_value_pct"], r["frequency"],
          r["fair_value"], *[fc[c] for c in hz]]],
        [NUM2, PCT, PCT, PCT, LEVEL, *[PCT] * len(hz)],
        ["Valuation (σ)", "Valuation (%)", "To Fair Value (%)", "Frequency (%)",
         "Fair Value", *hz]))
    # gamma_sigma: gold
    _, h = valuation("GOLD", "Price", "Commodity")
    calls.append(Call("Gold valuation (σ)", "gamma_sigma",
                      f"{dates},{_ref(px, _column(px, 'GOLD'), 2, last)},,\"Commodity\"",
                      [[h["sigma"].iloc[-1]]], [NUM2]))
    # gamma_bond_valuation: Moody's Aaa, 25-year maturity from the Instruments sheet
    inst = {row[0]: row for row in wb["Instruments"].iter_rows(min_row=2, values_only=True)}
    maturity = float(inst["AAA"][5])
    m, h = valuation("AAA", "Yield", "Bond")
    fc = latest_forecasts(m, h, quote="Yield", asset_class="Bond")
    r = h.iloc[-1]
    calls.append(Call(
        "Moody's Aaa bond valuation", "gamma_bond_valuation",
        f"{dates},{_ref(px, _column(px, 'AAA'), 2, last)},{maturity:g}",
        [[r["sigma"], price_valuation(float(m.iloc[-1]), float(r["fair_value"]), maturity),
          r["fair_value"], r["frequency"], *[fc[c] for c in hz]]],
        [NUM2, PCT, NUM2, PCT, *[NUM2] * len(hz)],
        ["Valuation (σ)", "Price Valuation (%)", "Fair Yield", "Frequency (%)", *hz]))
    # gamma_forecast → gamma_position → gamma_trade, chained through the cells
    spx = month_end(_series(px, _column(px, "SPX"), last))
    f1 = float(forecast_history(spx, None, quote="Price", asset_class="Equity")
               ["forecast"].iloc[-1])
    calls.append(Call("S&P 500 one-month forecast", "gamma_forecast",
                      f"{dates},{_ref(px, _column(px, 'SPX'), 2, last)}", [[f1]], [PCT]))
    band = 0.005
    fc_cell = f"{get_column_letter(RESULT_COL)}{{row:forecast}}"
    p1 = position(f1, band, "Price")
    calls.append(Call("Position from that forecast (band 0.5 %)", "gamma_position",
                      f"{fc_cell},{band}", [[p1]], ["0"]))
    pos_cell = f"{get_column_letter(RESULT_COL)}{{row:position}}"
    calls.append(Call("Trade from Neutral to that position", "gamma_trade",
                      f"0,{pos_cell}", [[trade(0, p1)]], [None]))
    # gamma_perf / gamma_link / gamma_annualize on the Value Tilt strategy
    rlast = _row_of(ret, asof)
    name = "Value Tilt"
    rc = _column(ret, name)
    s = _series(ret, rc, rlast)
    end = pd.Timestamp(asof)
    years = [end.year - 1, end.year - 2]
    row = [perf.trailing_return(s, end, 1)[0], perf.ytd_return(s, end)[0],
           perf.trailing_return(s, end, 12)[0],
           *[perf.calendar_year_return(s, y, end)[0] for y in years]]
    calls.append(Call(f"{name}: performance row as of {asof:%Y-%m}", "gamma_perf",
                      f"{_ref(ret, 1, 2, rlast)},{_ref(ret, rc, 2, rlast)},Settings!B2,2",
                      [row], [PCT] * 5, ["Month", "YTD", "Trailing 1 Yr", *map(str, years)]))
    last12 = s.iloc[-12:].tolist()
    calls.append(Call(f"{name}: linked return of the last 12 months", "gamma_link",
                      _ref(ret, rc, rlast - 11, rlast), [[perf.link(last12)]], [PCT]))
    link36 = perf.link(s.iloc[-36:].tolist())
    calls.append(Call(f"{name}: 3 years linked, annualized", "gamma_annualize",
                      f"gamma_link({_ref(ret, rc, rlast - 35, rlast)}),36",
                      [[perf.annualize(link36, 36)]], [PCT]))
    # gamma_gdp_gap: the newsletter's periods (the last rows of Macro, base 2019 as printed;
    # the function has no As Of: the GDP Gap sheet of the 1998 demo uses Settings Base Period)
    mrows = list(macro.iter_rows(min_row=2, max_col=2, values_only=True))
    first = next(i for i, (p, _) in enumerate(mrows) if str(p) == "2019")
    per = [p for p, _ in mrows[first:]]
    gro = [g for _, g in mrows[first:]]
    t = gdp_gap(per, gro, float(settings["Trend Growth"]), "2019", "compound")
    r0, r1 = first + 2, len(mrows) + 1
    calls.append(Call(
        "Real GDP gap (newsletter periods)", "gamma_gdp_gap",
        f'{_ref(macro, 1, r0, r1)},{_ref(macro, 2, r0, r1)},Settings!B3,"2019"',
        [list(rec) for rec in t.itertuples(index=False)],
        [None, NUM2, NUM2, NUM2, NUM2, NUM2, NUM2], list(GDP_GAP_COLUMNS)))
    for c in calls:
        c.engine = [[_clean(v) for v in rec] for rec in c.engine]
    return calls


def write_functions_sheet(ws: Worksheet, calls: list[Call]) -> dict[str, tuple[int, int]]:
    """Lay out the calls; returns udf label -> (row, column) of each formula's first cell."""
    ws["A1"] = "Gamma Desk functions on the demo data"
    ws["A1"].font = Font(bold=True, size=12, color="1F3864")
    ws["A2"] = ("Column C: live formulas (need the xlwings add-in: Import Functions, then "
                "Ctrl+Alt+F9). Column Q on: the engine's own figure, written by the workbook "
                "builder without the add-in. The two blocks should agree.")
    ws["A2"].font = Font(italic=True, color="595959")
    for col, text in ((1, "What"), (2, "Function"), (RESULT_COL, "Excel result →"),
                      (ENGINE_COL, "Engine figure →")):
        c = ws.cell(4, col, text)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    row = 6
    where: dict[str, tuple[int, int]] = {}
    rows: dict[str, int] = {}
    for call in calls:
        if call.header:
            for j, name in enumerate(call.header):
                for base in (RESULT_COL, ENGINE_COL):
                    ws.cell(row, base + j, name).font = Font(bold=True)
            row += 1
        ws.cell(row, 1, call.label)
        ws.cell(row, 2, call.udf)
        h, w = len(call.engine), len(call.engine[0])
        text = call.formula.replace("{row:forecast}", str(rows.get("gamma_forecast", 0))) \
            .replace("{row:position}", str(rows.get("gamma_position", 0)))
        anchor = f"{get_column_letter(RESULT_COL)}{row}"
        if h == 1 and w == 1:
            ws[anchor] = text
        else:
            end = f"{get_column_letter(RESULT_COL + w - 1)}{row + h - 1}"
            ws[anchor] = ArrayFormula(f"{anchor}:{end}", text)
        for i, rec in enumerate(call.engine):
            for j, v in enumerate(rec):
                c = ws.cell(row + i, ENGINE_COL + j, v)
                fmt = call.formats[j] if j < len(call.formats) else None
                if fmt:
                    c.number_format = fmt
                    ws.cell(row + i, RESULT_COL + j).number_format = fmt
        rows[call.udf] = row
        where[call.label] = (row, RESULT_COL)
        row += h + 1
    ws.column_dimensions["A"].width = 42
    ws.column_dimensions["B"].width = 22
    for j in range(RESULT_COL, ENGINE_COL + 13):
        ws.column_dimensions[get_column_letter(j)].width = 12
    ws.freeze_panes = "C5"
    return where


def write_conf_sheet(ws: Worksheet) -> None:
    """xlwings' per-workbook settings (A/B from A1 down to the first blank row)."""
    for i, (k, v) in enumerate(CONF_ROWS, start=1):
        ws.cell(i, 1, k)
        ws.cell(i, 2, v)
    top = len(CONF_ROWS) + 2
    for i, rec in enumerate(CONF_HELP):
        for j, v in enumerate(rec, start=1):
            c = ws.cell(top + i, j, v)
            if i == 0:
                c.font = Font(bold=True)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 44
    ws.column_dimensions["C"].width = 90


def add_addin_sheets(path: Path | str) -> Path:
    """Add (or rewrite) the ``xlwings.conf`` and ``Functions`` sheets of the workbook at
    ``path`` and save it in place."""
    path = Path(path)
    wb = load_workbook(path)
    calls = build_calls(wb)
    for name in (CONF_SHEET, FUNCTIONS_SHEET):
        if name in wb.sheetnames:
            del wb[name]
    write_functions_sheet(wb.create_sheet(FUNCTIONS_SHEET), calls)
    write_conf_sheet(wb.create_sheet(CONF_SHEET))
    wb.save(path)
    normalise(path)  # the save stamped the time: the same inputs give the same bytes
    return path


__all__ = ["Call", "build_calls", "add_addin_sheets", "write_functions_sheet",
           "write_conf_sheet", "CONF_SHEET", "FUNCTIONS_SHEET", "RESULT_COL", "ENGINE_COL"]
