"""Excel fidelity on Linux, part (c): property-based tests of every UDF with what Excel can
pass — blanks (None), empty strings, text, error strings (#N/A …), NaN and infinities, huge
and tiny numbers, dates, booleans, ragged and empty 2-D lists, 1×1 ranges — and with long,
mostly valid series that carry a few such cells. The UDF never raises and returns a finite
number, a short text, or a rectangular 2-D list of such values; a problem is one '#…' string.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import addin.udfs as U

ERRORS = ["#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]

cell = st.one_of(
    st.none(), st.just(""), st.just("   "), st.sampled_from(ERRORS),
    st.text(max_size=12), st.sampled_from(["Price", "Yield", "TRUE", "Long", "1,234.5", "2019",
                                           "2023Q1", "compound", "simple"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 1e-300, 1e15, 0.005, -0.09, 12.0, 36.0]),
    st.integers(min_value=-10**12, max_value=10**12), st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 1, 1)),
)
row = st.lists(cell, min_size=0, max_size=4)
ragged = st.lists(row, min_size=0, max_size=5)                        # any 2-D list
one_by_one = cell.map(lambda v: [[v]])
column = st.lists(cell, min_size=1, max_size=8).map(lambda vs: [[v] for v in vs])
excel_value = st.one_of(cell, one_by_one, column, ragged, st.just([]), st.just([[]]))


def _month_ends(n: int, start: int = 1950) -> list[dt.datetime]:
    out = []
    for k in range(n):
        y, m = start + (k + 1) // 12, (k + 1) % 12 + 1
        out.append(dt.datetime(y, m, 1) - dt.timedelta(days=1))
    return out


@st.composite
def dirty_series(draw, n_min=60, n_max=110):
    """A long monthly column of dates and positive levels, with a few Excel oddities."""
    n = draw(st.integers(n_min, n_max))
    dates = [[d] for d in _month_ends(n)]
    level, vals = 100.0, []
    steps = draw(st.lists(st.floats(-0.08, 0.08), min_size=n, max_size=n))
    for s in steps:
        level *= math.exp(s)
        vals.append([level])
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, n - 1))
        which = draw(st.sampled_from(["value", "date"]))
        (vals if which == "value" else dates)[i] = [draw(cell)]
    return dates, vals


def check(result):
    """What Excel can show: one value, or a rectangular 2-D list of values."""
    def ok_value(v):
        if isinstance(v, bool):
            return True
        if isinstance(v, (int, float)):
            return math.isfinite(v)
        return isinstance(v, str) and len(v) < 2000

    if isinstance(result, list):
        assert result and all(isinstance(r, list) for r in result), result
        assert len({len(r) for r in result}) == 1 and len(result[0]) > 0, result
        assert all(ok_value(v) for r in result for v in r), result
        assert not any(isinstance(v, str) and v.startswith("#") for r in result for v in r)
    else:
        assert ok_value(result), result
    if isinstance(result, str) and result.startswith("#"):
        assert result.split(":")[0] in ("#VALUE!", "#N/A", "#NUM!"), result
        assert len(result) > 6  # says what is wrong


FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=12, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(excel_value, excel_value, excel_value)
def test_position_any_input(forecast, band, quote):
    check(U.gamma_position(forecast, band, quote))


@FAST
@given(excel_value, excel_value)
def test_trade_any_input(prev, new):
    check(U.gamma_trade(prev, new))


@FAST
@given(excel_value)
def test_link_any_input(returns):
    check(U.gamma_link(returns))


@FAST
@given(excel_value, excel_value)
def test_annualize_any_input(total, months):
    check(U.gamma_annualize(total, months))


@FAST
@given(excel_value, excel_value, excel_value, excel_value, excel_value)
def test_perf_any_input(dates, returns, asof, years, header):
    check(U.gamma_perf(dates, returns, asof, years, header))


@FAST
@given(excel_value, excel_value, excel_value, excel_value, excel_value, excel_value)
def test_gdp_gap_any_input(periods, growth, trend, base, method, header):
    check(U.gamma_gdp_gap(periods, growth, trend, base, method, header))


@FAST
@given(excel_value, excel_value, excel_value, excel_value, excel_value)
def test_valuation_functions_any_input(dates, prices, fundamentals, quote, header):
    check(U.gamma_valuation(dates, prices, fundamentals, quote, header))
    check(U.gamma_sigma(dates, prices, fundamentals, quote))
    check(U.gamma_bond_valuation(dates, prices, quote, fundamentals, header))
    check(U.gamma_forecast(dates, prices, fundamentals, quote))


@SLOW
@given(dirty_series(), st.sampled_from([None, "Price", "Yield", "Commodity", "FX", "Bond"]),
       st.sampled_from([False, True, None, "TRUE"]))
def test_valuation_on_long_dirty_series(series, quote, header):
    dates, prices = series
    check(U.gamma_valuation(dates, prices, None, quote, header))
    check(U.gamma_sigma(dates, prices, None, quote))
    check(U.gamma_bond_valuation(dates, prices, 10, None, header))


@settings(max_examples=4, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(dirty_series(n_min=98, n_max=104))
def test_forecast_on_long_dirty_series(series):
    dates, prices = series
    check(U.gamma_forecast(dates, prices))


@FAST
@given(dirty_series(n_min=14, n_max=40), cell, st.integers(-1, 11))
def test_perf_on_dirty_returns(series, asof, years):
    dates, levels = series
    rets = [[(v[0] / 200.0 - 0.5) if isinstance(v[0], float) else v[0]] for v in levels]
    check(U.gamma_perf(dates, rets, asof, years, True))
    check(U.gamma_perf(dates, rets))


def test_clean_inputs_give_numbers_not_errors():
    """The properties above would pass if every call returned '#…': pin real results."""
    dates = [[d] for d in _month_ends(72)]
    prices = [[100.0 * 1.01 ** k + (k % 5)] for k in range(72)]
    val = U.gamma_valuation(dates, prices)
    assert isinstance(val, list) and len(val[0]) == 12 and isinstance(val[0][0], float)
    assert U.gamma_link([[0.1], [None], [0.1]]) == pytest.approx(0.21)
    assert U.gamma_annualize(0.21, 24) == pytest.approx(0.1)
    assert U.gamma_position([[0.02], [-0.02], [None]], 0.01) == [[1], [-1], [""]]
    assert U.gamma_trade(-1, 1) == "CS&B"
