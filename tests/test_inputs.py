"""Reading the workbook contract: every malformed input is reported with its cell, all at once."""

from __future__ import annotations

import datetime as dt
import zipfile

import pandas as pd
import pytest

import workbook_factory as wf
from engine.inputs.problems import InputError
from engine.inputs.reader import read_workbook
from engine.inputs.sampling import monthly


def problems_of(tmp_path, mutate, **kw) -> list[str]:
    path = wf.build(tmp_path / "w.xlsx", mutate=mutate, **kw)
    with pytest.raises(InputError) as e:
        read_workbook(path)
    return [str(p) for p in e.value.problems if p.severity == "error"]


def set_cell(sheet, ref, value):
    def m(wb):
        wb[sheet][ref] = value
    return m


def test_valid_workbook_reads(tmp_path):
    d = read_workbook(wf.build(tmp_path / "w.xlsx"))
    assert d.asof == pd.Timestamp("2020-12-31")
    assert set(d.prices) == {"EQ1", "BD1", "FX1", "CM1"}
    assert all(len(s) == 120 for s in d.prices.values())
    # the 15th-updating instrument is sampled on the 15th, month-end ones at month end
    assert (d.prices["CM1"].index.day == 15).all()
    assert (d.prices["EQ1"].index.is_month_end).all()
    assert d.instruments["BD1"].is_yield and d.instruments["BD1"].maturity == 10
    assert d.problems == []


# (mutation, expected text in one problem) — each names the sheet and the cell
MALFORMED = [
    ("text in a price", set_cell("Prices", "B5", "n/a?"),
     'Prices!B5: text "n/a?" where a number is expected'),
    ("Excel error in a price", set_cell("Prices", "C7", "#N/A"),
     "Prices!C7: Excel error #N/A where a number is expected"),
    ("unknown code", set_cell("Prices", "F1", "XYZ"), 'Prices!F1: code "XYZ" is not in Instruments'),
    ("duplicate code", set_cell("Instruments", "A3", "EQ1"),
     'Instruments!A3: duplicate code "EQ1" (first on row 2)'),
    ("non-positive price", set_cell("Prices", "B9", -3), "Prices!B9: price -3 is not positive"),
    ("yield out of range", set_cell("Prices", "C9", 425),
     "Prices!C9: yield 425 is outside the sane range"),
    ("missing required column", set_cell("Instruments", "D1", "Class"),
     'Instruments!1:1: required column "Asset Class" is missing'),
    ("bad asset class", set_cell("Instruments", "D2", "Equities"),
     'Instruments!D2: asset class "Equities" is not one of Equity, Bond, FX, Commodity'),
    ("bond without maturity", set_cell("Instruments", "F3", None),
     "Instruments!F3: a bond quoted as a yield needs a Maturity (years)"),
    ("unknown fair value input", set_cell("Instruments", "H2", "CPI, EPS"),
     'Instruments!H2: fair value input "EPS" is not a column of Fundamentals'),
    ("bad update rule", set_cell("Instruments", "G2", "weekly"),
     "Instruments!G2: update rule must be MonthEnd, 15 or 20, got 'weekly'"),
    ("as-of beyond the data", set_cell("Settings", "B2", dt.datetime(2030, 1, 31)),
     "Settings!B2: As Of 2030-01-31 is beyond the data: the last Prices date is 2020-12-31"),
    ("text date", set_cell("Prices", "A10", "yesterday"),
     'Prices!A10: text "yesterday" where a date is expected'),
    ("return in percent", set_cell("Returns", "B5", 2.5),
     "Returns!B5: return 2.5 is not a monthly decimal return"),
    ("bad series role", set_cell("Series", "B2", "Fund"),
     'Series!B2: role "Fund" must be Strategy or Benchmark'),
    ("bad macro period", set_cell("Macro", "A3", "Q1 2020"),
     'Macro!A3: period "Q1 2020" is not a year (2021) or quarter (2023Q1)'),
    ("negative neutral band", set_cell("Instruments", "I2", -0.01),
     "Instruments!I2: neutral band -0.01 is negative"),
    ("boolean price", set_cell("Prices", "D11", True),
     "Prices!D11: TRUE/FALSE where a number is expected"),
    ("series without returns column", set_cell("Series", "A3", "Bench C"),
     'Series!A3: series "Bench C" has no column in Returns'),
]


@pytest.mark.parametrize("label,mutate,expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_inputs_are_reported_with_their_cell(tmp_path, label, mutate, expected):
    found = problems_of(tmp_path, mutate)
    assert any(expected in p for p in found), f"{label}: {expected!r} not in {found}"


def test_unsorted_and_duplicate_dates(tmp_path):
    def swap(wb):
        ws = wb["Prices"]
        ws["A6"], ws["A8"] = ws["A8"].value, ws["A6"].value
        wb["Fundamentals"]["A5"] = wb["Fundamentals"]["A4"].value
    found = problems_of(tmp_path, swap)
    assert any(p.startswith("Prices!A7: dates not in ascending order") or
               p.startswith("Prices!A8: dates not in ascending order") for p in found), found
    assert any(p.startswith("Fundamentals!A5: duplicate date") for p in found), found


def test_missing_sheet_and_missing_asof(tmp_path):
    found = problems_of(tmp_path, lambda wb: wb.remove(wb["Prices"]))
    assert found == ['Prices: required sheet "Prices" is missing (sheets: Instruments, '
                     'Fundamentals, Returns, Series, Income, Macro, Settings, Sources)']

    def no_asof(wb):
        wb["Settings"]["A2"] = "Comment"
    found = problems_of(tmp_path, no_asof)
    assert any('no "As Of" date' in p for p in found), found


def test_all_problems_listed_at_once(tmp_path):
    def many(wb):
        wb["Prices"]["B5"] = "n/a?"
        wb["Prices"]["C9"] = 425
        wb["Instruments"]["D2"] = "Equities"
    found = problems_of(tmp_path, many)
    assert len(found) >= 3
    assert {f.split(":")[0] for f in found} >= {"Prices!B5", "Prices!C9", "Instruments!D2"}


def test_formula_without_cached_value_is_reported_not_zero(tmp_path):
    # openpyxl writes formulas without cached values, as a non-computing tool would
    found = problems_of(tmp_path, set_cell("Prices", "B12", "=B10*1.01"))
    assert "Prices!B12: formula has no cached value (open and save the file in Excel so it " \
           "computes, or paste values)" in found


def test_formula_cells_read_through_their_cached_values(tmp_path):
    path = wf.build(tmp_path / "w.xlsx")
    plain = read_workbook(path).raw_prices["EQ1"]
    assert plain.iloc[9] > 0  # row 11 holds a month-end price
    wf.inject_formula(path, "xl/worksheets/sheet2.xml", "B11", 'BDH("SPX Index","PX_LAST")')
    assert '<f>BDH(' in zipfile.ZipFile(path).read("xl/worksheets/sheet2.xml").decode()
    d = read_workbook(path)
    pd.testing.assert_series_equal(d.raw_prices["EQ1"], plain)


def test_stale_series_is_a_warning_not_an_error(tmp_path):
    def stale(wb):
        ws = wb["Prices"]
        for r in range(ws.max_row - 11, ws.max_row + 1):
            ws.cell(row=r, column=3).value = None  # BD1 stops 6 months early
    d = read_workbook(wf.build(tmp_path / "w.xlsx", mutate=stale))
    msgs = [str(p) for p in d.problems]
    assert any("BD1 is stale: last observation 2020-06-30, 6 months before As Of" in m
               for m in msgs), msgs


def test_asof_override_drops_later_data(tmp_path):
    path = wf.build(tmp_path / "w.xlsx")
    d = read_workbook(path, asof="2019-06-30")
    assert d.asof == pd.Timestamp("2019-06-30")
    assert all(s.index.max() <= d.asof for s in d.prices.values())
    assert d.returns.index.max() == pd.Timestamp("2019-06-30")
    assert d.fundamentals.index.max() == pd.Timestamp("2019-06-30")


def test_monthly_sampling_on_update_days():
    days = pd.bdate_range("2021-01-01", "2021-03-31")
    s = pd.Series(range(len(days)), index=days, dtype=float)
    me = monthly(s, "MonthEnd")
    assert list(me.index.strftime("%Y-%m-%d")) == ["2021-01-29", "2021-02-26", "2021-03-31"]
    mid = monthly(s, "15", asof=pd.Timestamp("2021-03-31"))
    # the 15th or the business day before; 2021-05-15 would be the next, not yet due
    assert list(mid.index.strftime("%Y-%m-%d")) == ["2021-01-15", "2021-02-15", "2021-03-15"]
    twenty = monthly(s, "20", asof=pd.Timestamp("2021-03-19"))  # 2021-03-20 is a Saturday
    assert list(twenty.index.strftime("%Y-%m-%d")) == ["2021-01-20", "2021-02-19", "2021-03-19"]
    # a month still in progress is not sampled
    assert monthly(s, "MonthEnd", asof=pd.Timestamp("2021-03-30")).index[-1] == \
        pd.Timestamp("2021-02-26")


def test_income_reads_its_three_columns_and_names_the_real_cell(tmp_path):
    def note_and_bad_cell(wb):
        ws = wb["Income"]
        ws["F1"] = "ILLUSTRATIVE — not real data"
        ws["F2"] = "a note, not data"
        ws["C3"] = "x"
    found = problems_of(tmp_path, note_and_bad_cell)
    assert found == ['Income!C3: text "x" where a number is expected']
    d = read_workbook(wf.build(tmp_path / "ok.xlsx", mutate=lambda wb: wb["Income"].__setitem__(
        "F1", "ILLUSTRATIVE")))
    assert list(d.income.columns) == ["Income", "Cashflow", "Loss"]
    found = problems_of(tmp_path, set_cell("Income", "C1", "Cash"))
    assert found == ["Income!1:1: required column(s) Cashflow missing (headers: Date, Income, "
                     "Cash, Loss)"]


def _openpyxl_values(path, sheet):
    """What openpyxl's own cached-value reader gives for a sheet (the reference)."""
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


@pytest.mark.parametrize("epoch", ["1900", "1904"])
def test_grid_cells_typed_as_openpyxl_types_them(tmp_path, epoch):
    """The reader takes the cells from the guard's snapshot; every value must be what
    openpyxl's cached-value reader gives: ints, floats, text, booleans, dates in either date
    system, times, and blanks in the middle of a row."""
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    from engine.inputs.sheets import read_grids
    wb = Workbook()
    if epoch == "1904":
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Prices"
    ws.append(["Date", "Int", "Float", "Text", "Flag", "When", "Blank", "Last"])
    ws.append([dt.datetime(1998, 12, 31), 15, 1234.5678, "n/a?", True,
               dt.datetime(2001, 2, 3, 4, 5, 6), None, -0.25])
    ws.append([dt.datetime(1999, 1, 29), -3, 1e-12, " padded ", False, dt.time(13, 30),
               None, 7])
    ws["A5"] = dt.datetime(1999, 3, 31)  # a blank row 4 in between
    path = tmp_path / f"typed{epoch}.xlsx"
    wb.save(path)
    grids, names = read_grids(path, ("Prices", "Missing"))
    assert names == ["Prices"] and set(grids) == {"Prices"}
    g = grids["Prices"]
    ref = _openpyxl_values(path, "Prices")
    assert g.header == [str(v) for v in ref[0]]
    width = len(g.header)
    expected = [(r + [None] * width)[:width] for r in ref[1:]]
    assert g.rows == expected
    for got_row, ref_row in zip(g.rows, expected):
        assert [type(v) for v in got_row] == [type(v) for v in ref_row]


def test_grid_cells_of_the_demo_equal_openpyxl_reading():
    from pathlib import Path

    from engine.inputs.reader import INPUT_SHEETS
    from engine.inputs.sheets import read_grids
    demo = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"
    grids, _ = read_grids(demo, INPUT_SHEETS)
    for name, g in grids.items():
        ref = _openpyxl_values(demo, name)
        width = len(g.header)
        assert g.rows == [(r + [None] * width)[:width] for r in ref[1:]], name


@pytest.mark.parametrize("value", [10, "10", 15.5, "Weekly"])
def test_an_update_rule_the_schedule_does_not_know_is_refused_by_check(tmp_path, value):
    """`Update = 10` used to pass `gamma check` and fail at refresh: the reader now refuses
    every rule but MonthEnd, 15 and 20 (DESIGN.md), naming the cell — check and refresh run
    the same validation."""
    def mutate(wb):
        wb["Instruments"]["G2"] = value
    path = wf.build(tmp_path / "u.xlsx", mutate=mutate)
    with pytest.raises(InputError) as e:
        read_workbook(path)
    assert [p.where for p in e.value.problems] == ["Instruments!G2"]
    assert "MonthEnd, 15 or 20" in e.value.problems[0].message
