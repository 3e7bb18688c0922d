"""Valuation-based horizon forecasts: a slow second implementation, known closed forms,
mean reversion, no look-ahead, shrinkage, HAC, the walk-forward evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from engine.models.horizons import (HORIZON_LABELS, evaluate_horizons, forward_changes,
                                    horizon_forecasts, horizon_paths, horizon_regression)
from engine.models.valuation import valuation_history

N = 420
IDX = pd.date_range("1960-01-31", periods=N, freq="ME")


def _mean_reverting(seed: int = 0, phi: float = 0.95, n: int = N) -> pd.Series:
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal(0, 0.035)
    return pd.Series(np.exp(np.log(100) + 0.006 * np.arange(n) + e), IDX[:n])


def test_forecasts_match_a_slow_loop_of_statsmodels_fits():
    p = _mean_reverting(1, n=200)
    sig = valuation_history(p, min_history=24)["sigma"]
    h = 3
    path = horizon_paths(p, sig, h, prior_obs=0.0, min_pairs=12)
    lp = np.log(p.to_numpy())
    for t in (40, 77, 120, 199):
        starts = [s for s in range(t - h + 1) if np.isfinite(sig.iloc[s])]
        r = np.array([lp[s + h] - lp[s] for s in starts])
        res = sm.OLS(r, sm.add_constant(sig.iloc[starts].to_numpy())).fit()
        expect = res.params[0] + res.params[1] * sig.iloc[t]
        assert path["forecast"].iloc[t] == pytest.approx(expect, abs=1e-10)
        assert path["n_pairs"].iloc[t] == len(starts)
        assert path["mean"].iloc[t] == pytest.approx(r.mean(), abs=1e-12)


def test_overvalued_forecasts_lower_on_mean_reverting_data():
    p = _mean_reverting(2)
    sig = valuation_history(p)["sigma"]
    fc = horizon_forecasts(p, sig)
    rich, cheap = sig > 1.0, sig < -1.0
    assert rich.sum() > 10 and cheap.sum() > 10
    for label in ("1 Yr", "2 Yr", "3 Yr"):
        assert fc.loc[rich, label].mean() < fc.loc[cheap, label].mean()
    assert horizon_paths(p, sig, 12)["slope"].iloc[-1] < 0


def test_constant_growth_annualizes_exactly():
    # 1 % a month, no noise: every 12-month log change is 12·log(1.01), sigma is 0
    p = pd.Series(100 * 1.01 ** np.arange(200), IDX[:200])
    sig = valuation_history(p)["sigma"]
    fc = horizon_forecasts(p, sig).iloc[-1]
    for label in HORIZON_LABELS.values():
        assert fc[label] == pytest.approx(1.01 ** 12 - 1, abs=1e-10)


def test_yield_forecasts_are_cumulative_changes_in_points():
    y = pd.Series(5.0 + 0.01 * np.arange(200), IDX[:200])  # +1 bp a month
    sig = valuation_history(y, quote="Yield", asset_class="Bond")["sigma"]
    fc = horizon_forecasts(y, sig, quote="Yield").iloc[-1]
    assert fc["1 Yr"] == pytest.approx(0.12, abs=1e-10)
    assert fc["5 Yr"] == pytest.approx(0.60, abs=1e-10)
    assert forward_changes(y, 3, quote="Yield").iloc[0] == pytest.approx(0.03)


def test_no_look_ahead():
    p = _mean_reverting(3)
    sig = valuation_history(p)["sigma"]
    base = horizon_forecasts(p, sig)
    k = 250
    p2 = p.copy()
    p2.iloc[k + 1:] *= 2.5
    sig2 = valuation_history(p2)["sigma"]
    alt = horizon_forecasts(p2, sig2)
    pd.testing.assert_frame_equal(base.iloc[:k + 1], alt.iloc[:k + 1])


def test_shrinkage_toward_mean_with_few_independent_observations():
    p = _mean_reverting(4)
    sig = valuation_history(p)["sigma"]
    raw = horizon_paths(p, sig, 60, prior_obs=0.0)
    shr = horizon_paths(p, sig, 60, prior_obs=10.0)
    t = np.flatnonzero(np.isfinite(shr["forecast"].to_numpy()))[0]
    n_eff = shr["n_pairs"].iloc[t] / 60
    assert shr["weight"].iloc[t] == pytest.approx(n_eff / (n_eff + 10))
    assert shr["weight"].iloc[t] < 0.05  # 12 pairs of 60 months: ~0.2 independent obs
    gap_raw = abs(raw["forecast"].iloc[t] - raw["mean"].iloc[t])
    gap_shr = abs(shr["forecast"].iloc[t] - shr["mean"].iloc[t])
    assert gap_shr == pytest.approx(shr["weight"].iloc[t] * gap_raw, rel=1e-9)
    # no forecast before min_pairs pairs are complete
    assert np.isnan(shr["forecast"].iloc[t - 1]) and shr["n_pairs"].iloc[t] == 12


def test_hac_regression_params_equal_fast_path_and_se_differs():
    p = _mean_reverting(5)
    sig = valuation_history(p)["sigma"]
    res = horizon_regression(p, sig, 12)
    path = horizon_paths(p, sig, 12)
    assert res.params["const"] == pytest.approx(path["intercept"].iloc[-1], abs=1e-10)
    assert res.params["sigma"] == pytest.approx(path["slope"].iloc[-1], abs=1e-10)
    assert res.cov_type == "HAC"
    plain = sm.OLS(res.model.endog, res.model.exog).fit()
    # overlapping 12-month changes: HAC standard errors are much wider than iid ones
    assert res.bse["sigma"] > 1.5 * plain.bse[1]
    with pytest.raises(ValueError, match="need 3 completed 12-month periods"):
        horizon_regression(p.iloc[:62], sig.iloc[:62], 12)


def test_evaluation_by_hand_and_honest_counts():
    p = _mean_reverting(6)
    sig = valuation_history(p)["sigma"]
    ev = evaluate_horizons(p, sig, horizons=(12,)).iloc[0]
    path = horizon_paths(p, sig, 12)
    lp = np.log(p.to_numpy())
    fcs, means, outs, origins = [], [], [], []
    for t in range(N - 12):
        if np.isfinite(path["forecast"].iloc[t]):
            fcs.append(path["forecast"].iloc[t])
            means.append(path["mean"].iloc[t])
            outs.append(lp[t + 12] - lp[t])
            origins.append(t)
    fcs, means, outs = map(np.array, (fcs, means, outs))
    r2 = 1 - ((outs - fcs) ** 2).sum() / ((outs - means) ** 2).sum()
    assert ev["oos_r2"] == pytest.approx(r2, abs=1e-12)
    assert ev["n_forecasts"] == len(origins)
    assert ev["n_independent"] == len(range(origins[0], origins[-1] + 1, 12))
    assert ev["beats_mean"] == (r2 > 0)


def test_strong_mean_reversion_beats_the_mean_and_random_walk_is_reported_honestly():
    ev = evaluate_horizons(_mean_reverting(7, phi=0.9), valuation_history(
        _mean_reverting(7, phi=0.9))["sigma"], horizons=(12, 24))
    assert (ev["oos_r2"] > 0).all() and ev["beats_mean"].all()
    rng = np.random.default_rng(8)
    rw = pd.Series(np.exp(np.cumsum(rng.normal(0.005, 0.04, N))), IDX)
    ev_rw = evaluate_horizons(rw, valuation_history(rw)["sigma"], horizons=(12,))
    assert np.isfinite(ev_rw["oos_r2"].iloc[0])
    assert ev_rw["beats_mean"].iloc[0] == (ev_rw["oos_r2"].iloc[0] > 0)


def test_gaps_skip_pairs_whose_end_month_is_missing():
    p = _mean_reverting(9).drop(IDX[[100, 101, 300]])
    r = forward_changes(p, 1)
    assert np.isnan(r.loc[IDX[99]]) and np.isfinite(r.loc[IDX[102]])
    assert r.loc[IDX[102]] == pytest.approx(np.log(p.loc[IDX[103]] / p.loc[IDX[102]]))


def test_short_history_gives_nan():
    p = _mean_reverting(10, n=70)
    sig = valuation_history(p)["sigma"]
    assert horizon_forecasts(p, sig).iloc[-1].isna().all()


@pytest.mark.parametrize("h, quote, message", [
    (0, "Price", "horizon must be a positive whole number of months, got 0"),
    (1.5, "Price", "horizon must be a positive whole number"),
    (1, "Level", "quote must be 'Price' or 'Yield', got 'Level'"),
])
def test_bad_input(h, quote, message):
    p = _mean_reverting(11, n=80)
    with pytest.raises(ValueError, match=message):
        horizon_paths(p, p * 0, h, quote=quote)


def test_sigma_must_share_the_index():
    p = _mean_reverting(12, n=80)
    with pytest.raises(ValueError, match="sigma must be a pandas Series on the same index"):
        horizon_paths(p, p.iloc[1:] * 0, 1)


def test_latest_forecasts_equal_last_row_of_paths():
    from engine.models.horizons import latest_forecasts

    for quote, s in (("Price", _mean_reverting(13)),
                     ("Yield", pd.Series(5 + np.sin(np.arange(N) / 9), IDX))):
        sig = valuation_history(s, quote=quote, asset_class="Bond" if quote == "Yield"
                                else "Equity")["sigma"]
        full = horizon_forecasts(s, sig, quote=quote).iloc[-1]
        fast = latest_forecasts(s, sig, quote=quote)
        assert list(fast) == list(full.index)
        np.testing.assert_allclose(list(fast.values()), full.to_numpy(), rtol=1e-9, atol=1e-13)


def test_precomputed_paths_give_the_same_tables():
    from engine.models.horizons import HORIZONS, forecasts_from_paths

    p = _mean_reverting(14)
    sig = valuation_history(p)["sigma"]
    paths = {h: horizon_paths(p, sig, h) for h in HORIZONS}
    pd.testing.assert_frame_equal(forecasts_from_paths(paths), horizon_forecasts(p, sig))
    pd.testing.assert_frame_equal(evaluate_horizons(p, sig, paths=paths),
                                  evaluate_horizons(p, sig))
