"""UDF adapters: Excel-shaped input, one '#…' string on bad input, never raising."""

import numpy as np
import pandas as pd
import pytest

from addin.udfs_forecast import gamma_forecast, gamma_position, gamma_trade
from engine.models.signals import DEFAULT_BANDS
from engine.models.composite import forecast_history
from engine.models.valuation import month_end


def _excel_columns(n=150, seed=2):
    """Synthetic (labelled) monthly prices and CPI as Excel would pass them."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("1980-01-31", periods=n, freq="ME")
    px = 100 * np.exp(np.cumsum(rng.normal(0.006, 0.04, n)))
    cpi = 100 * np.exp(np.cumsum(rng.normal(0.003, 0.002, n)))
    dates = [[d.to_pydatetime()] for d in idx]
    return dates, [[float(v)] for v in px], [["CPI"]] + [[float(v)] for v in cpi], idx, px, cpi


def test_gamma_forecast_matches_engine():
    dates, prices, factors, idx, px, cpi = _excel_columns()
    got = gamma_forecast(dates, prices, factors)
    h = forecast_history(month_end(pd.Series(px, index=idx)), pd.DataFrame({"CPI": cpi}, index=idx))
    assert isinstance(got, float)
    assert got == pytest.approx(h["forecast"].iloc[-1], rel=1e-12)


def test_gamma_forecast_errors():
    dates, prices, _, *_ = _excel_columns(n=30)
    assert gamma_forecast(dates, prices).startswith("#N/A: need 38 months of prices, got 30")
    dates, prices, _, *_ = _excel_columns()
    bad = [list(r) for r in prices]
    bad[5] = ["abc"]
    assert gamma_forecast(dates, bad).startswith('#VALUE!: prices (row 6): text "abc"')
    assert gamma_forecast(dates, prices, quote="Level").startswith("#VALUE!: quote")
    assert gamma_forecast(dates[:-1], prices).startswith("#VALUE!: dates has")


def test_gamma_position():
    assert gamma_position(0.0073) == 1
    assert gamma_position(-0.09, 0, "Yield") == 1
    assert gamma_position(0.01, 0.005, "Yield") == -1
    assert gamma_position(0.0005, 0.001) == 0
    assert gamma_position([[0.02], [None], [-0.02]]) == [[1], [""], [-1]]
    assert gamma_position("x").startswith("#VALUE!: forecast")
    assert gamma_position(0.01, -1).startswith("#VALUE!: band")
    assert gamma_position(0.01, 0, "Level").startswith("#VALUE!: quote")


@pytest.mark.parametrize("asset_class", sorted(DEFAULT_BANDS))
def test_gamma_position_blank_band_is_the_refreshs_default_for_the_asset_class(asset_class):
    band = DEFAULT_BANDS[asset_class]
    inside, outside = 0.6 * band, 1.5 * band
    sign = -1 if asset_class == "Bond" else 1  # a bond is quoted as a yield: a rise is Short
    assert gamma_position(inside, None, None, asset_class) == 0
    assert gamma_position(outside, None, None, asset_class) == sign
    assert gamma_position(inside, "", asset_class) == 0          # the class named as quote
    assert gamma_position(inside) == (1 if inside > 0 else 0)    # no class: band 0
    assert gamma_position(inside, 0, None, asset_class) == sign  # an explicit band wins
    # the docstring (Excel's help, docs/functions.md) states the same defaults
    assert f"{band:g}" in gamma_position.__doc__.replace("0.005 % points", "0.005")
    assert gamma_position(0.01, None, "Bond", "Equity").startswith("#VALUE!: asset_class")
    assert gamma_position(0.01, None, None, "Stocks").startswith("#VALUE!: asset_class")


def test_a_caller_editing_a_result_does_not_change_the_next_call():
    """The cache hands out copies: mutating a returned range leaves the cached one intact."""
    fc = [[0.02], [None], [-0.02]]
    first = gamma_position(fc, 0.001)
    assert first == [[1], [""], [-1]]
    first[0][0] = "tampered"
    first.append(["extra"])
    again = gamma_position(fc, 0.001)
    assert again == [[1], [""], [-1]]
    again[2].clear()
    assert gamma_position(fc, 0.001) == [[1], [""], [-1]]
    trades = gamma_trade([[0], [1]], [[1], [0]])
    trades[0][0] = "X"
    assert gamma_trade([[0], [1]], [[1], [0]]) == [["B"], ["CL"]]


def test_gamma_trade():
    assert gamma_trade(0, 1) == "B"
    assert gamma_trade("Long", "Short") == "CL&S"
    assert gamma_trade(-1.0, "long") == "CS&B"
    assert gamma_trade(1, 1) == ""
    assert gamma_trade([[0], [1]], [[1], [0]]) == [["B"], ["CL"]]
    assert gamma_trade(2, 1).startswith("#VALUE!: previous_position must be")
    assert gamma_trade(1, "Buy").startswith("#VALUE!: position must be")
    assert gamma_trade([[0], [1]], [[1]]).startswith("#VALUE!: previous_position is 2x1")


def test_result_cache_does_not_confuse_true_with_one():
    """The UDF result cache is keyed on the arguments; TRUE == 1 in Python, so a TRUE call
    must not serve (or be served) the result of a 1 call (failed in the whole-suite run after
    a property test had called gamma_trade(True, 1))."""
    gamma_trade.cache_clear()
    assert gamma_trade(True, 1).startswith("#VALUE!: previous_position")
    assert gamma_trade(1, 1) == ""
    assert gamma_trade([[True], [0]], [[1], [1]]).startswith("#VALUE!: previous_position")
    assert gamma_trade([[1], [0]], [[1], [1]]) == [[""], ["B"]]
    gamma_trade.cache_clear()
    assert gamma_trade(1, 0) == "CL"
    assert gamma_trade(True, False).startswith("#VALUE!")
