"""Malformed workbooks, table-driven (issue 14, items 2 and 3's workbook side): fat fingers
(×100, ÷100, 1e12), a single spike, a level pasted in other units, zero and negative prices,
a yield of 500, returns of −150 % and of +150 %, text, nan-like strings ("N/A", "#N/A", "-",
"n/a") and other non-numbers in number cells.

Each case is one cell of the small synthetic workbook (``tests/workbook_factory.py``) changed,
and says what ``gamma check`` and ``gamma refresh`` must do with it:

* ``warn`` — a suspect value (:mod:`engine.inputs.plausibility`): both commands go on (exit 0)
  and print a warning naming the cell; the refreshed Data Status names it; the instrument's
  forecast row (when the cell is its price or one of its Fair Value Inputs) says
  ``input suspect`` with the cell;
* ``fail`` — a forecast that is impossible (:mod:`engine.models.forecast_bounds`): the
  instrument fails alone (exit 1, its forecast row marked with the reason, no forecast
  written), the other instruments' rows are written;
* ``refuse`` — invalid input: exit 2 from both, the message names the cell, and the file is
  byte-identical afterwards.

Layout of the factory workbook: Prices row 2 + 2k holds the 15th of month k (CM1, column E),
row 3 + 2k its month-end (EQ1 B, BD1 C, FX1 D); 120 months, As Of 2020-12-31.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from engine.cli import main
from workbook_factory import build

LAST = 3 + 2 * 119   # the last month-end row of Prices (2020-12-31)
MID = 3 + 2 * 80     # a month-end row inside the history (2017-09-30)


@dataclass(frozen=True)
class Case:
    id: str
    sheet: str
    cell: str
    value: object          # the new value, or a function of the old one
    outcome: str           # "warn", "fail" or "refuse"
    message: str           # a part of the message the commands print
    code: str | None = None  # the instrument whose forecast row must show it

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}"


def times(k):
    return lambda v: v * k


CASES = [
    # --- suspect values: a warning naming the cell, the refresh goes on (exit 0) ---------
    Case("price-x100-mid", "Prices", f"B{MID}", times(100), "warn", "times the previous", "EQ1"),
    Case("price-div100-mid", "Prices", f"B{MID}", times(0.01), "warn", "of the previous",
         "EQ1"),
    Case("price-x100-early", "Prices", "B23", times(100), "warn", "(a spike)", "EQ1"),
    Case("price-spike-x4", "Prices", f"B{MID}", times(4), "warn", "robust standard deviations",
         "EQ1"),
    Case("price-spike-div4", "Prices", f"B{MID}", times(0.25), "warn",
         "robust standard deviations", "EQ1"),
    Case("fx-x100", "Prices", f"D{MID}", times(100), "warn", "times the previous", "FX1"),
    Case("fx-div100-last", "Prices", f"D{LAST}", times(0.01), "warn", "of the previous", "FX1"),
    Case("commodity-div100", "Prices", f"E{MID - 1}", times(0.01), "warn", "of the previous",
         "CM1"),
    Case("yield-div100", "Prices", f"C{MID}", times(0.01), "warn", "of the previous", "BD1"),
    Case("yield-spike", "Prices", f"C{MID}", lambda v: v + 12, "warn",
         "robust standard deviations", "BD1"),
    Case("yield-x10-last", "Prices", f"C{LAST}", lambda v: min(v * 10, 39.0), "warn",
         "robust standard deviations", "BD1"),
    Case("cpi-x100", "Fundamentals", "B60", times(100), "warn", "times the previous", "EQ1"),
    Case("cpi-div100", "Fundamentals", "B60", times(0.01), "warn", "of the previous", "EQ1"),
    Case("return-spike", "Returns", "B60", 0.6, "warn", "robust standard deviations"),
    Case("benchmark-spike", "Returns", "C30", -0.8, "warn", "robust standard deviations"),
    Case("income-spike", "Income", "B12", 0.5, "warn", "robust standard deviations"),
    # --- impossible forecasts: that instrument fails alone (exit 1) ----------------------
    Case("price-1e12-last", "Prices", f"B{LAST}", 1e12, "fail", "is impossible", "EQ1"),
    Case("price-1e12-mid", "Prices", f"B{MID}", 1e12, "fail", "is impossible", "EQ1"),
    Case("fx-1e12-last", "Prices", f"D{LAST}", 1e12, "fail", "is impossible", "FX1"),
    Case("commodity-1e12-last", "Prices", f"E{LAST - 1}", 1e12, "fail", "is impossible", "CM1"),
    # --- invalid inputs: refused, nothing written (exit 2) -------------------------------
    Case("price-zero", "Prices", f"B{MID}", 0, "refuse", "price 0 is not positive"),
    Case("price-negative", "Prices", f"B{MID}", -12.5, "refuse", "price -12.5 is not positive"),
    Case("yield-500", "Prices", f"C{MID}", 500, "refuse", "yield 500 is outside"),
    Case("yield-minus-50", "Prices", f"C{MID}", -50, "refuse", "yield -50 is outside"),
    Case("return-minus-150pct", "Returns", "B60", -1.5, "refuse", "return -1.5 is not a monthly"),
    Case("return-plus-150pct", "Returns", "C60", 1.5, "refuse", "return 1.5 is not a monthly"),
    Case("return-in-percent", "Returns", "B61", 0.73 * 100, "refuse", "return 73 is not"),
    Case("text-NA", "Prices", f"B{MID}", "N/A", "refuse", 'text "N/A" where a number'),
    Case("text-hash-NA", "Prices", f"C{MID}", "#N/A", "refuse", "#N/A where a number"),
    Case("text-dash", "Prices", f"D{MID}", "-", "refuse", 'text "-" where a number'),
    Case("text-na-lower", "Fundamentals", "B70", "n/a", "refuse", 'text "n/a" where a number'),
    Case("text-thousands", "Prices", f"B{MID}", "1,234.5", "refuse", 'text "1,234.5"'),
    Case("text-div0", "Fundamentals", "B71", "#DIV/0!", "refuse", "#DIV/0! where a number"),
    Case("boolean-price", "Prices", f"E{MID - 1}", True, "refuse", "TRUE/FALSE where a number"),
    Case("date-in-price", "Prices", f"B{MID}", dt.datetime(2017, 9, 30), "refuse",
         "a date where a number"),
    Case("return-text", "Returns", "C40", "N/A", "refuse", 'text "N/A" where a number'),
    Case("income-dash", "Income", "C5", "-", "refuse", 'text "-" where a number'),
    Case("macro-growth-text", "Macro", "B4", "n/a", "refuse", 'text "n/a" where growth'),
    Case("maturity-text", "Instruments", "F3", "ten", "refuse", 'text "ten" where a maturity'),
    Case("band-dash", "Instruments", "I2", "-", "refuse", 'text "-" where a neutral band'),
]


def test_the_table_is_large_and_covers_every_outcome():
    assert len(CASES) >= 30
    assert {c.outcome for c in CASES} == {"warn", "fail", "refuse"}
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, Path]:
    """The valid workbook and the Markov fits of its refresh (copied beside every case so a
    case re-estimates only what it changed: speed only, the fits are keyed on the data)."""
    d = tmp_path_factory.mktemp("baseline")
    wb = build(d / "base.xlsx")
    ref = d / "ref.xlsx"
    shutil.copyfile(wb, ref)
    assert main(["refresh", "-q", str(ref)]) == 0
    return wb, d / ".ref.gamma-fits.json"


def _make(case: Case, baseline, tmp_path: Path) -> Path:
    base, fits = baseline
    wb = openpyxl.load_workbook(base)
    cell = wb[case.sheet][case.cell]
    old = cell.value
    cell.value = case.value(old) if callable(case.value) else case.value
    assert cell.value != old
    path = tmp_path / "case.xlsx"
    wb.save(path)
    if fits.exists():
        shutil.copyfile(fits, tmp_path / ".case.gamma-fits.json")
    return path


def _sheet_rows(wb, sheet: str) -> list[dict]:
    """The rows of the first table on an engine sheet, as dicts by header."""
    rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    k = next(i for i, r in enumerate(rows) if r and r[0] == "Code")
    head = rows[k]
    out = []
    for r in rows[k + 1:]:
        if r[0] is None or r[1] is None:
            break
        out.append(dict(zip(head, r)))
    return out


FORECAST_SHEET = {"EQ1": "Stock Forecasts", "BD1": "Bond Forecasts", "FX1": "FX Forecasts",
                  "CM1": "Commodity Forecasts"}


def _forecast_row(wb, code: str) -> dict:
    return next(r for r in _sheet_rows(wb, FORECAST_SHEET[code]) if r["Code"] == code)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_workbook(case: Case, baseline, tmp_path, capfd):
    path = _make(case, baseline, tmp_path)
    before = path.read_bytes()

    code = main(["check", "-q", str(path)])
    out = capfd.readouterr()
    text = out.out + out.err
    lines = [ln for ln in text.splitlines() if case.where in ln]
    assert lines, f"no message names {case.where}:\n{text}"
    assert "Traceback" not in text
    if case.outcome == "refuse":
        assert code == 2, text
        assert any(case.message in ln for ln in lines), text
    else:  # check computes no forecast: an impossible one shows as its suspect input
        assert code == 0 and "warning: input suspect" in lines[0], text
        assert case.outcome == "fail" or any(case.message in ln for ln in lines), text

    code = main(["refresh", "-q", str(path)])
    out = capfd.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    assert any(case.where in ln and case.message in ln for ln in text.splitlines()) or \
        case.outcome == "fail", text
    if case.outcome == "refuse":
        assert code == 2, text
        assert path.read_bytes() == before  # nothing written
        return
    assert case.where in text, text  # the suspect cell is named in the refresh output
    wb = openpyxl.load_workbook(path, data_only=True)
    status = _sheet_rows(wb, "Data Status")
    if case.code is not None:
        row = next(r for r in status if r["Code"] == case.code)
        assert case.where in (row["Problems"] or ""), row
    else:
        cells = [v for r in wb["Data Status"].iter_rows(values_only=True) for v in r
                 if isinstance(v, str)]
        assert case.where in cells, cells  # the Input warnings table
    if case.outcome == "warn":
        assert code == 0, text
        if case.code is not None:
            row = _forecast_row(wb, case.code)
            assert "input suspect" in row["Note"] and case.where in row["Note"], row
            assert isinstance(row["Position"], str)  # the forecast is still written
        return
    # an impossible forecast: exit 1, that instrument marked, the others written
    assert code == 1, text
    assert f"FAILED {case.code}: " in text and case.message in text, text
    failed = _forecast_row(wb, case.code)
    assert case.message in failed["Note"], failed
    assert failed["Position"] is None and failed["Previous Forecast"] is None, failed
    for other in FORECAST_SHEET:
        if other != case.code:
            row = _forecast_row(wb, other)
            assert isinstance(row["Position"], str) and row["Position"] in (
                "Long", "Neutral", "Short"), row
