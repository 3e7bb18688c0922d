"""Composite one-month forecast: walk-forward estimation, units, no look-ahead."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from engine.models.composite import (forecast_history, momentum_12_1, one_month_forecast,
                                     realized_changes, walk_forward_ols)


def _equity(n=360, seed=3):
    """Synthetic (labelled) monthly index with earnings, for model mechanics only."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("1960-01-31", periods=n, freq="ME")
    r = rng.normal(0.007, 0.045, n)
    px = pd.Series(100 * np.exp(np.cumsum(r)), index=idx)
    earn = pd.Series(5 * np.exp(np.cumsum(rng.normal(0.005, 0.02, n))), index=idx)
    return px, pd.DataFrame({"Earnings": earn})


def test_walk_forward_ols_matches_statsmodels_on_each_window():
    rng = np.random.default_rng(0)
    T = 120
    X = np.column_stack([np.ones(T), rng.normal(size=T), rng.normal(size=T)])
    y_next = 0.3 * X[:, 1] + rng.normal(size=T)
    y_next[-1] = np.nan
    X[10, 2] = np.nan  # a missing feature: that row is neither trained on nor forecast
    f = walk_forward_ols(X, y_next, min_train=30)
    assert np.isnan(f[10])
    for t in (40, 77, 119):
        rows = [s for s in range(t) if np.isfinite(X[s]).all() and np.isfinite(y_next[s])]
        beta = sm.OLS(y_next[rows], X[rows]).fit().params
        assert f[t] == pytest.approx(X[t] @ beta, rel=1e-9)   # same LS problem, rounding only
    n_before = [sum(np.isfinite(X[s]).all() and np.isfinite(y_next[s]) for s in range(t))
                for t in range(T)]
    assert all(np.isnan(f[t]) for t in range(T) if n_before[t] < 30)


def test_walk_forward_ridge_closed_form():
    rng = np.random.default_rng(1)
    T = 80
    X = np.column_stack([np.ones(T), rng.normal(2, 3, T)])
    y = 0.1 * X[:, 1] + rng.normal(size=T)
    f = walk_forward_ols(X, y, min_train=20, ridge=0.5)
    t = 60
    Xt, yt = X[:t], y[:t]
    var = Xt[:, 1].var()  # population variance, as documented (n × var)
    A = Xt.T @ Xt + np.diag([0.0, 0.5 * t * var])
    beta = np.linalg.solve(A, Xt.T @ yt)
    assert f[t] == pytest.approx(X[t] @ beta, rel=1e-9)


def test_changes_and_momentum_units():
    idx = pd.date_range("2000-01-31", periods=14, freq="ME")
    p = pd.Series(np.arange(100, 114, dtype=float), index=idx)
    assert realized_changes(p).iloc[1] == pytest.approx(101 / 100 - 1)
    assert realized_changes(p, "Yield").iloc[1] == pytest.approx(1.0)
    m = momentum_12_1(p)
    assert m.iloc[12] == pytest.approx(np.log(111 / 100))   # P[t-1] / P[t-12]
    assert momentum_12_1(p, "Yield").iloc[13] == pytest.approx(112 - 101)


def test_no_look_ahead_prices_times_three():
    px, fund = _equity()
    h = forecast_history(px, fund, quote="Price", asset_class="Equity")
    t = px.index[250]
    changed_px = px.where(px.index <= t, px * 3.0)
    changed_f = fund.copy()
    changed_f.loc[changed_f.index > t] *= 3.0
    h2 = forecast_history(changed_px, changed_f, quote="Price", asset_class="Equity")
    pd.testing.assert_frame_equal(h.loc[:t], h2.loc[:t])
    assert h["forecast"].notna().sum() > 100


def test_yield_forecasts_in_points_and_inverted_positions():
    rng = np.random.default_rng(5)
    n = 300
    y = np.empty(n)
    y[0] = 6.0
    for i in range(1, n):  # strongly mean-reverting yield around 6 %: forecastable by sigma
        y[i] = y[i - 1] + 0.3 * (6.0 - y[i - 1]) + rng.normal(0, 0.2)
    idx = pd.date_range("1970-01-31", periods=n, freq="ME")
    s = pd.Series(y, index=idx)
    sigma = (s - 6.0) / 0.3  # a known valuation signal (yield above fair = cheap bond)
    h = forecast_history(s, quote="Yield", asset_class="Bond", sigma=sigma)
    late = h.iloc[-100:]
    # the model learns the reversion: forecast ~ -0.3 * (y - 6) percentage points
    slope = np.polyfit(late["price"] - 6.0, late["forecast"], 1)[0]
    assert -0.4 < slope < -0.15
    assert late["weight"].iloc[-1] > 0.7      # the regression earned its weight
    hi = late[late["forecast"] < -0.05]
    assert (hi["position"] == 1).all()        # yield fall forecast -> Long the bond
    lo = late[late["forecast"] > 0.05]
    assert (lo["position"] == -1).all()
    ynext = h["change"].shift(-1)
    ok = h["forecast"].notna() & ynext.notna()
    r2 = 1 - ((ynext - h["forecast"])[ok] ** 2).sum() / ((ynext - h["mean"])[ok] ** 2).sum()
    assert r2 > 0.05  # population R² ≈ 0.15; the early months carry the 0.5 prior weight


def test_unforecastable_series_fades_to_the_mean():
    px, _ = _equity(n=400, seed=11)
    h = forecast_history(px, quote="Price", asset_class="Equity", use_valuation=False)
    tail = h.dropna(subset=["forecast"]).iloc[-60:]
    gap = (tail["forecast"] - tail["anchor"]).abs().max()
    assert gap < (tail["regression"] - tail["anchor"]).abs().max() + 1e-12
    assert set(tail["anchor"].round(12)) <= set(tail["mean"].round(12)) | {0.0}
    assert set(h["position"].dropna().unique()) <= {-1.0, 0.0, 1.0}
    assert h.attrs["features"][0] == "const" and "sigma" not in h.attrs["features"]


def test_anchor_is_the_better_of_mean_and_zero_so_far():
    from engine.models.composite import _anchor
    y_next = np.array([0.01, -0.02, 0.0, 0.03, np.nan])
    mean = np.array([0.05, 0.05, 0.05, 0.05, 0.05])
    got = _anchor(y_next, mean, min_obs=2)
    # squared errors so far: mean 0.0016, 0.0049, 0.0025 ...; zero 0.0001, 0.0004, 0 ...
    assert got[0] == 0.05 and got[1] == 0.05          # fewer than 2 scored months
    assert got[2] == 0.0 and got[3] == 0.0 and got[4] == 0.0
    assert np.isnan(_anchor(y_next, np.full(5, np.nan))).all()


def test_one_month_forecast_is_last_row():
    px, fund = _equity()
    h = forecast_history(px, fund)
    last = one_month_forecast(px, fund)
    assert last["forecast"] == h["forecast"].iloc[-1]
    assert last["position"] == int(h["position"].iloc[-1])
    assert last["date"] == px.index[-1]


def test_bad_inputs():
    px, _ = _equity(n=30)
    with pytest.raises(ValueError, match="quote"):
        forecast_history(px, quote="Level")
    with pytest.raises(ValueError, match="prices must be > 0"):
        forecast_history(-px)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        forecast_history(px.reset_index(drop=True))
    with pytest.raises(ValueError, match="need about"):
        one_month_forecast(px)


def test_forecast_at_t_equals_a_refresh_with_data_up_to_t():
    """Truncation, not only tripling: the forecast history's row t must be what a refresh run
    with the data dated <= t produced. The feature set (a factor used once it has more than
    ``MIN_TRAIN`` 12-month changes, σ terms once σ exists, log vs difference for a factor that
    is positive so far) must be decided with data <= t too — a factor that only starts later
    must not remove forecasts (and move the track record's start) before it is usable."""
    px, fund = _equity(n=320, seed=4)
    rng = np.random.default_rng(9)
    late = pd.Series(np.nan, index=px.index)
    late.iloc[150:] = np.cumsum(rng.normal(0, 0.3, 170)) + 2.0    # starts at month 150 and
    late.iloc[260:] -= 6.0                                        # turns negative at 260
    fund = fund.assign(Late=late)
    sigma = pd.Series(rng.normal(0, 1, len(px)), index=px.index).where(
        np.arange(len(px)) >= 40)                                 # σ from month 40
    full = forecast_history(px, fund, sigma=sigma, use_valuation=False)
    checked = 0
    for i in (60, 90, 120, 170, 186, 200, 230, 262, 280, 319):
        t = px.index[i]
        cut = forecast_history(px.loc[:t], fund.loc[:t], sigma=sigma.loc[:t],
                               use_valuation=False)
        a, b = full.loc[t, "forecast"], cut["forecast"].iloc[-1]
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-15), t
        checked += np.isfinite(b)
    assert checked >= 8          # forecasts exist before the late factor is usable
    assert "d12_Late" in full.attrs["features"]


def test_a_missing_month_is_not_a_one_month_move():
    """Markets close (the NYSE, August–November 1914; the demo's DJIA has that gap): the move
    across a gap spans several months, so it must not be trained on or scored as one month.
    Expected values are computed by hand on the calendar, not by the functions under test."""
    from engine.models.regimes import model_changes
    from engine.models.track_record import long_returns
    px, earn = _equity(n=200)
    gap = px.drop(px.index[100:104])           # four months without an observation
    after = gap.index[100]                     # the first observation after the gap
    ch = realized_changes(gap)
    assert np.isnan(ch[after]) and np.isnan(ch.iloc[0])
    full = realized_changes(px)
    both = gap.index[1:].difference([after])
    pd.testing.assert_series_equal(ch[both], full[both])
    # 12-1 momentum by calendar month: P[m-1] / P[m-12]; NaN when either month is missing
    mom = momentum_12_1(gap)
    for t in gap.index[13:]:
        m1 = t - pd.offsets.MonthEnd(1)
        m12 = t - pd.offsets.MonthEnd(12)
        if m1 in gap.index and m12 in gap.index:
            assert mom[t] == pytest.approx(np.log(gap[m1] / gap[m12]), rel=1e-12)
        else:
            assert np.isnan(mom[t])
    assert mom.notna().sum() < momentum_12_1(px).iloc[: len(gap)].notna().sum()
    # the regime model and the strategy returns leave the gap out too
    x = model_changes(gap)
    assert np.isnan(x[after]) and x.drop(after).notna().all()
    h = forecast_history(gap, earn.loc[gap.index])
    ret = long_returns(h)
    before = gap.index[99]                     # the last observation before the gap
    assert np.isnan(ret[before]) and np.isfinite(ret.drop([before, gap.index[-1]])).all()
    assert np.isnan(h.loc[after, "change"])
