"""Valuation UDFs: known truth through Excel-shaped inputs, header rows, daily sampling, and
every bad-input path (one '#…' string, never an exception)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from engine.xlsx.numfmt import excel_serial
from addin.udfs_valuation import (BOND_VALUATION_HEADER, VALUATION_HEADER, gamma_bond_valuation,
                                  gamma_sigma, gamma_valuation)
from engine.models.horizons import horizon_forecasts
from engine.models.valuation import valuation_history

N = 240
IDX = pd.date_range("1980-01-31", periods=N, freq="ME")
DATES = [[d.to_pydatetime()] for d in IDX]


def col(values) -> list[list]:
    return [[v] for v in values]


def _orthogonal(d: np.ndarray, X: np.ndarray) -> np.ndarray:
    beta, *_ = np.linalg.lstsq(X, d, rcond=None)
    return d - X @ beta


def _known(seed: int = 0):
    """Prices = exp(trend + d), d orthogonal to [1, t]: the full-sample fit is exact."""
    rng = np.random.default_rng(seed)
    t = ((IDX.year - 1900) * 12 + IDX.month - 1) / 12.0
    X = np.column_stack([np.ones(N), t])
    e = np.zeros(N)
    for i in range(1, N):
        e[i] = 0.93 * e[i - 1] + rng.normal(0, 0.04)
    d = _orthogonal(e, X)
    log_fv = np.log(80) + 0.07 * (t - t[0])
    return np.exp(log_fv + d), np.exp(log_fv), d


@pytest.fixture(autouse=True)
def _fresh_cache():
    for f in (gamma_valuation, gamma_bond_valuation, gamma_sigma):
        f.cache_clear()


def test_valuation_row_recovers_known_truth():
    p, fv, d = _known()
    out = gamma_valuation(DATES, col(p))
    assert isinstance(out, list) and len(out) == 1 and len(out[0]) == 12
    sig, val, to_fv, freq, fair, *hz = out[0]
    sd = np.sqrt((d ** 2).sum() / (N - 2))
    assert sig == pytest.approx(d[-1] / sd, abs=1e-8)
    assert val == pytest.approx(np.exp(d[-1]) - 1, abs=1e-9)
    assert (1 + val) * (1 + to_fv) == pytest.approx(1.0, abs=1e-12)
    assert fair == pytest.approx(fv[-1], rel=1e-9)
    assert freq == pytest.approx(np.mean(np.abs(d) >= abs(d[-1]) - 1e-12))
    m = pd.Series(p, IDX)
    # one instrument: the engine's forecasts with the Equity literature prior as the pool
    expect = horizon_forecasts(m, valuation_history(m), asset_class="Equity").iloc[-1]
    expect = expect.to_numpy()
    np.testing.assert_allclose(hz, expect, rtol=1e-12)
    assert gamma_sigma(DATES, col(p)) == pytest.approx(sig, abs=1e-12)


def test_header_row_and_caching():
    p, _, _ = _known(1)
    out = gamma_valuation(DATES, col(p), None, "Price", True)
    assert out[0] == VALUATION_HEADER and len(out) == 2
    assert out[0][5:] == ["1 Mo", "3 Mo", "6 Mo", "1 Yr", "2 Yr", "3 Yr", "5 Yr"]
    hits = gamma_valuation.cache_hits()
    again = gamma_valuation(DATES, col(p), None, "Price", True)
    assert gamma_valuation.cache_hits() == hits + 1  # served from the cache
    assert again == out and again is not out and again[1] is not out[1]  # as a copy


def test_daily_input_is_sampled_to_month_end():
    p, _, _ = _known(2)
    days = pd.bdate_range(IDX[0] - pd.Timedelta(days=27), IDX[-1])
    daily = pd.Series(p, IDX).reindex(days, method="bfill")  # month-end value on last bday
    # the last business day of each month carries that month's value
    last_bday = daily.groupby(days.to_period("M")).tail(1)
    daily.loc[last_bday.index] = p[:len(last_bday)]
    mono = gamma_valuation(DATES, col(p))[0]
    out = gamma_valuation([[d.to_pydatetime()] for d in days], col(daily.to_numpy()))[0]
    np.testing.assert_allclose(out[:4], mono[:4], rtol=1e-9, atol=1e-12)


def test_serial_dates_and_trailing_blank_rows():
    p, _, _ = _known(3)
    serial = [[excel_serial(d.to_pydatetime())] for d in IDX] + [[None], [None]]
    out = gamma_valuation(serial, col(list(p) + [None, None]))
    assert out[0] == gamma_valuation(DATES, col(p))[0]


def test_fundamentals_with_header_pick_the_model():
    p, _, _ = _known(4)
    cpi = np.exp(0.003 * np.arange(N))
    fund = [["CPI"]] + col(cpi)
    out = gamma_valuation(DATES, col(p * cpi), fund, "Commodity")[0]
    h = valuation_history(pd.Series(p * cpi, IDX), pd.DataFrame({"CPI": cpi}, index=IDX),
                          asset_class="Commodity")
    assert h["model"].iloc[-1] == "real price level (deflated by CPI)"
    assert out[0] == pytest.approx(h["sigma"].iloc[-1], abs=1e-12)
    # without the header the Commodity default role is the same price level
    assert gamma_valuation(DATES, col(p * cpi), col(cpi), "Commodity")[0][0] == \
        pytest.approx(out[0], abs=1e-12)


def test_quarterly_fundamentals_with_blanks_are_carried_forward_not_back():
    p, _, _ = _known(5)
    cpi = [100 * 1.01 ** (i // 3) if i % 3 == 2 else None for i in range(N)]
    out = gamma_valuation(DATES, col(p), [["CPI"]] + col(cpi), "Commodity")
    f = pd.DataFrame({"CPI": cpi}, index=IDX, dtype=float)
    h = valuation_history(pd.Series(p, IDX), f.ffill(), asset_class="Commodity")
    assert out[0][0] == pytest.approx(h["sigma"].iloc[-1], abs=1e-12)


def test_bond_valuation_row():
    rng = np.random.default_rng(6)
    y = 6 + np.cumsum(rng.normal(0, 0.15, N)) * 0.3
    out = gamma_bond_valuation(DATES, col(y), 10, None, True)
    assert out[0] == BOND_VALUATION_HEADER and len(out[1]) == 11
    sig, pv, fair, freq, *hz = out[1]
    assert fair == pytest.approx(y.mean(), abs=1e-10)  # no fundamentals: long-run level
    assert sig == pytest.approx((y[-1] - y.mean()) / y.std(ddof=1), abs=1e-10)
    i, c = y[-1] / 200, fair / 2  # hand price of a 10-year bond with coupon = fair yield
    hand = c * (1 - (1 + i) ** -20) / i + 100 * (1 + i) ** -20
    assert pv == pytest.approx(hand / 100 - 1, abs=1e-12)
    assert np.sign(pv) == -np.sign(sig)  # yield above fair = bond price below par
    assert 0 < freq <= 1
    assert all(isinstance(v, float) for v in hz)


def test_yield_via_gamma_valuation_leaves_percent_blank():
    y = 5 + np.sin(np.arange(N) / 7)
    out = gamma_valuation(DATES, col(y), None, "Yield")[0]
    assert out[1] == "" and out[2] == "" and isinstance(out[0], float)


BAD = [
    ((None, None), "#N/A: need 60 months of prices, got 0"),
    ((DATES[:24], col(np.linspace(1, 2, 24))), "#N/A: need 60 months of prices, got 24"),
    ((DATES, col([1.0] * (N - 1))), "#VALUE!: dates has 240 cells but prices has 239"),
    ((DATES, col(["abc"] + [1.0] * (N - 1))),
     '#VALUE!: prices (row 1): text "abc" where a number is expected'),
    ((DATES, col(["#N/A"] + [1.0] * (N - 1))), "#VALUE!: prices (row 1): contains the Excel "
                                               "error #N/A"),
    ((DATES, [[1.0, 2.0]] * N), "#VALUE!: prices: expected one column or one row, got a "
                                "240x2 range"),
    ((DATES, col([True] + [1.0] * (N - 1))), "#VALUE!: prices (row 1): TRUE/FALSE"),
    ((DATES, col([-1.0] + [1.0] * (N - 1))), "#VALUE!: prices: must be > 0, got -1 on "
                                             "1980-01-31"),
    (([[None]] + DATES[1:], col([1.0] * N)), "#VALUE!: dates (row 1): blank where a date"),
    (([["yesterday"]] + DATES[1:], col([1.0] * N)), '#VALUE!: dates (row 1): text "yesterday"'),
    ((DATES[:1] * N, col([1.0] * N)), "#VALUE!: dates: date 1980-01-31 appears twice"),
]


@pytest.mark.parametrize("args, expect", BAD)
def test_bad_inputs_return_one_error_string(args, expect):
    out = gamma_valuation(*args)
    assert isinstance(out, str) and out.startswith(expect)
    assert gamma_sigma(*args).startswith(expect)


@pytest.mark.parametrize("kwargs, expect", [
    ({"quote": "Stock"}, '#VALUE!: quote: expected "Price" or "Yield"'),
    ({"quote": 3}, '#VALUE!: quote: expected "Price" or "Yield"'),
    ({"header": "maybe"}, "#VALUE!: header: expected TRUE or FALSE, got 'maybe'"),
    ({"fundamentals": col([1.0] * 10)}, "#VALUE!: fundamentals has 10 rows but dates has 240"),
    ({"fundamentals": [["CPI"]] + col(["x"] * N)},
     '#VALUE!: fundamentals (row 1, column 1): text "x"'),
    ({"fundamentals": [["CPI", "cpi"]] + [[1.0, 1.0]] * N},
     "#VALUE!: fundamentals: header names repeat"),
    ({"fundamentals": [[1.0], [1.0, 2.0]]}, "#VALUE!: fundamentals: ragged range"),
])
def test_bad_optional_arguments(kwargs, expect):
    p, _, _ = _known(7)
    out = gamma_valuation(DATES, col(p), **kwargs)
    assert isinstance(out, str) and out.startswith(expect), out


@pytest.mark.parametrize("maturity, expect", [
    (None, "#VALUE!: maturity: blank cell where a number is expected"),
    ("ten", '#VALUE!: maturity: text "ten"'),
    (0, "#VALUE!: maturity: expected years between 0 and 100, got 0"),
    (-5, "#VALUE!: maturity: expected years between 0 and 100, got -5"),
    ("#REF!", "#VALUE!: maturity: contains the Excel error #REF!"),
])
def test_bond_bad_maturity(maturity, expect):
    y = 5 + np.sin(np.arange(N) / 7)
    out = gamma_bond_valuation(DATES, col(y), maturity)
    assert isinstance(out, str) and out.startswith(expect)


def test_bond_too_short_names_yields():
    out = gamma_bond_valuation(DATES[:30], col([5.0] * 30), 10)
    assert out == "#N/A: need 60 months of yields, got 30"


def test_never_raises_on_odd_python_values():
    for args in [({"a": 1}, [[1.0]]), (object(), object()), (DATES, {"x": 1})]:
        assert gamma_valuation(*args).startswith("#")


def test_blank_date_next_to_fundamental_value():
    p, _, _ = _known(8)
    dates = DATES[:-1] + [[None]]
    prices = col(list(p[:-1]) + [None])
    out = gamma_valuation(dates, prices, [["CPI"]] + col([1.0] * N), "Commodity")
    assert out.startswith("#VALUE!: dates (row 240): blank date next to fundamentals values")


def test_constant_prices():
    out = gamma_valuation(DATES, col([50.0] * N))[0]
    assert out[0] == 0.0 and out[1] == pytest.approx(0.0, abs=1e-12) and out[3] == 1.0
    assert out[4] == pytest.approx(50.0, rel=1e-12)


# Property: whatever Excel passes, the functions return a '#…' string or a row, never raise.
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_cell = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
                  st.booleans(), st.integers(-10, 50000),
                  st.datetimes(min_value=dt.datetime(1950, 1, 1),
                               max_value=dt.datetime(2030, 1, 1)))


@settings(max_examples=60, deadline=None)
@given(dates=st.lists(st.lists(_cell, min_size=1, max_size=2), max_size=70),
       prices=st.lists(st.lists(_cell, min_size=1, max_size=1), max_size=70),
       quote=st.one_of(st.none(), st.sampled_from(["Price", "Yield", "FX", "x"]), _cell))
def test_never_raises_property(dates, prices, quote):
    for out in (gamma_valuation(dates, prices, None, quote),
                gamma_bond_valuation(dates, prices, quote),
                gamma_sigma(dates, prices, None, quote)):
        assert (isinstance(out, str) and out.startswith("#")) or isinstance(out, (list, float))


def test_monthly_random_prices_with_blanks_give_a_row():
    rng = np.random.default_rng(9)
    p = list(100 * np.exp(np.cumsum(rng.normal(0.005, 0.05, N))))
    for i in (5, 50, 51, 200):
        p[i] = None  # blank cells: missing months, skipped
    out = gamma_valuation(DATES, col(p))
    assert isinstance(out, list) and all(isinstance(v, float) for v in out[0][:5])


def test_bond_headerless_fundamentals_are_rates():
    rng = np.random.default_rng(10)
    short = np.clip(4 + np.cumsum(rng.normal(0, 0.2, N)), 0.1, None)
    y = 1.0 + 0.8 * short + np.cumsum(rng.normal(0, 0.05, N)) * 0.2
    out = gamma_bond_valuation(DATES, col(y), 10, col(short))
    h = valuation_history(pd.Series(y, IDX), pd.DataFrame({"F1": short}, index=IDX),
                          quote="Yield", asset_class="Bond")
    assert h["model"].iloc[-1] == "fair yield: inflation/short rate"
    assert out[0][0] == pytest.approx(h["sigma"].iloc[-1], abs=1e-12)
    assert out[0][2] == pytest.approx(h["fair_value"].iloc[-1], abs=1e-12)


def test_mixed_frequency_fundamentals_on_the_same_rows_are_carried_forward():
    # Two columns on the price rows: monthly CPI, quarterly earnings (blank in between). A
    # blank means "no new figure", as in the workbook refresh (asof): the earnings model
    # (cointegration, then the CAPE once it has 120 months of earnings) must be in force every
    # month, not only in quarter-end months.
    p, _, _ = _known(7)
    cpi = 100 * np.exp(0.003 * np.arange(N))
    earn = [float(p[i] / 15) if i % 3 == 2 else None for i in range(N)]
    fund = [["Earnings", "CPI"]] + [[e, c] for e, c in zip(earn, cpi)]
    out = gamma_valuation(DATES, col(p), fund)[0]
    ffilled = pd.DataFrame({"Earnings": earn, "CPI": cpi}, index=IDX, dtype=float).ffill()
    h = valuation_history(pd.Series(p, IDX), ffilled)
    assert h["model"].iloc[-1].startswith(("cointegration", "CAPE"))
    assert out[0] == pytest.approx(h["sigma"].iloc[-1], abs=1e-10)
    assert out[4] == pytest.approx(h["fair_value"].iloc[-1], rel=1e-10)
