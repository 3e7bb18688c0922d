"""Valuation-based horizon forecasts: drift + (ρ^h − 1)·deviation — the formula by hand, the
sign rule, units, the fallback, no look-ahead, the walk-forward evaluation, the HAC
diagnostic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from engine.models.horizons import (HORIZON_LABELS, HORIZONS, evaluate_horizons,
                                    forecasts_from_paths, forward_changes, horizon_forecasts,
                                    horizon_paths, horizon_regression, latest_forecasts)
from engine.models.reversion import panel_reversion, reversion_history
from engine.models.valuation import valuation_history

N = 420
IDX = pd.date_range("1960-01-31", periods=N, freq="ME")


def _mean_reverting(seed: int = 0, phi: float = 0.95, n: int = N) -> pd.Series:
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal(0, 0.035)
    return pd.Series(np.exp(np.log(100) + 0.006 * np.arange(n) + e), IDX[:n])


def _prevailing_mean_by_hand(lp: np.ndarray, h: int, t: int) -> float:
    """Mean of the h-month changes whose end month is ≤ t (a gap-free monthly index)."""
    r = [lp[s + h] - lp[s] for s in range(0, t - h + 1)]
    return float(np.mean(r)) if len(r) >= 12 else np.nan


def test_forecast_is_drift_plus_reversion_of_the_deviation_by_hand():
    p = _mean_reverting(1)
    vh = valuation_history(p)
    rev = reversion_history(vh, "Equity")
    lp = np.log(p.to_numpy())
    for h in (1, 12, 60):
        path = horizon_paths(p, vh, h)
        for t in (80, 200, N - 1):
            mu = _prevailing_mean_by_hand(lp, h, t)
            rho = rev["rho"].iloc[t]
            expect = mu + (rho ** h - 1) * vh["deviation"].iloc[t]
            if np.isnan(mu):
                assert np.isnan(path["forecast"].iloc[t])
                continue
            # 1e-12: the closed form and the running sums agree to float rounding
            assert path["forecast"].iloc[t] == pytest.approx(expect, abs=1e-12)
            assert path["drift"].iloc[t] == pytest.approx(mu, abs=1e-12)
            assert path["mean"].iloc[t] == pytest.approx(mu, abs=1e-12)
            assert path["rho"].iloc[t] == rho


def test_departure_never_has_the_sign_of_sigma_and_annualizes_monotonically():
    # "never contradicts σ": rich (σ > 0) forecasts below the drift, cheap ones above, in the
    # output unit too; σ = 0 gives exactly the drift
    for seed, quote in ((2, "Price"), (3, "Yield")):
        s = _mean_reverting(seed) if quote == "Price" else \
            pd.Series(5 + 0.5 * np.sin(np.arange(N) / 11)
                      + np.random.default_rng(seed).normal(0, 0.1, N), IDX)
        vh = valuation_history(s, quote=quote, asset_class="Equity" if quote == "Price"
                               else "Bond")
        for h in HORIZONS:
            path = horizon_paths(s, vh, h, quote=quote)
            ok = path["forecast"].notna()
            sig = vh["sigma"][ok].to_numpy()
            dep = path["departure"][ok].to_numpy()
            assert ok.sum() > 100
            assert (dep * sig <= 0).all()
            assert (np.sign(dep) == -np.sign(sig))[np.abs(sig) > 1e-9].all()
            out = forecasts_from_paths({h: path}, quote)[HORIZON_LABELS[h]][ok].to_numpy()
            drift = forecasts_from_paths({h: path.assign(forecast=path["drift"])},
                                         quote)[HORIZON_LABELS[h]][ok].to_numpy()
            assert (np.sign(out - drift) == -np.sign(sig))[np.abs(sig) > 1e-6].all()


def test_constant_growth_annualizes_exactly():
    # 1 % a month, no noise: every 12-month log change is 12·log(1.01) and the deviation is 0
    p = pd.Series(100 * 1.01 ** np.arange(200), IDX[:200])
    fc = horizon_forecasts(p, valuation_history(p)).iloc[-1]
    for label in HORIZON_LABELS.values():
        # 1e-10: the trend fit's residuals are float rounding (~1e-14) times (ρ^h − 1)
        assert fc[label] == pytest.approx(1.01 ** 12 - 1, abs=1e-10)


def test_yield_forecasts_are_cumulative_changes_in_points():
    y = pd.Series(5.0 + 0.01 * np.arange(200), IDX[:200])  # +1 bp a month
    vh = valuation_history(y, quote="Yield", asset_class="Bond")
    path = horizon_paths(y, vh, 12, quote="Yield")
    fc = horizon_forecasts(y, vh, quote="Yield").iloc[-1]
    # cumulative pct points, not annualized: the drift is 12 bp a year, 60 bp over 5 years,
    # plus (ρ^h − 1)·(yield − fair yield) in points
    # (a yield trending away from its long-run level fails the reversion test: the drift alone)
    dev = vh["deviation"].iloc[-1]
    rho, on = path["rho"].iloc[-1], path["passes"].iloc[-1]
    assert not on
    assert fc["1 Yr"] == pytest.approx(0.12 + on * (rho ** 12 - 1) * dev, abs=1e-12)
    assert fc["5 Yr"] == pytest.approx(0.60 + on * (rho ** 60 - 1) * dev, abs=1e-12)
    m = pd.Series(5 + np.log(_mean_reverting(20, phi=0.9, n=200) / 100)
                  - 0.006 * np.arange(200), IDX[:200])   # 5 % + an AR(1): one that reverts
    vm = valuation_history(m, quote="Yield", asset_class="Bond")
    pm = horizon_paths(m, vm, 24, quote="Yield")
    assert pm["passes"].iloc[-1]
    assert horizon_forecasts(m, vm, quote="Yield").iloc[-1]["2 Yr"] == pytest.approx(
        pm["drift"].iloc[-1] + (pm["rho"].iloc[-1] ** 24 - 1) * vm["deviation"].iloc[-1],
        abs=1e-12)
    assert forward_changes(y, 3, quote="Yield").iloc[0] == pytest.approx(0.03)


def test_price_output_is_the_compound_annual_rate():
    p = _mean_reverting(4)
    vh = valuation_history(p)
    for h in (1, 6, 36):
        f = horizon_paths(p, vh, h)["forecast"].to_numpy()
        got = horizon_forecasts(p, vh, horizons=(h,))[HORIZON_LABELS[h]].to_numpy()
        # exp(f·12/h) − 1: (1 + R)^(12/h) − 1 with 1 + R = e^f
        np.testing.assert_allclose(got, np.expm1(f * 12 / h), rtol=1e-13, equal_nan=True)


def test_the_panel_reversion_is_used_when_given():
    a, b = _mean_reverting(5), _mean_reverting(6, phi=0.9)
    va, vb = valuation_history(a), valuation_history(b)
    panel = panel_reversion({"A": va, "B": vb}, "Equity")
    with_panel = horizon_paths(a, va, 24, reversion=panel["A"])
    alone = horizon_paths(a, va, 24, asset_class="Equity")
    rho = panel["A"]["rho"].to_numpy()
    dev = va["deviation"].to_numpy()
    dep = with_panel["departure"].to_numpy()
    ok = np.isfinite(dep)
    np.testing.assert_allclose(dep[ok], ((rho ** 24 - 1) * dev)[ok], rtol=1e-13)
    assert not np.allclose(with_panel["forecast"][ok], alone["forecast"][ok])


def test_fallback_gives_the_drift_exactly():
    # a price that accelerates away from its long-run level: no reversion in its own history
    t = np.arange(N)
    rng = np.random.default_rng(7)
    p = pd.Series(np.exp(0.00002 * t ** 2 + np.cumsum(rng.normal(0, 0.01, N))), IDX)
    vh = valuation_history(p, asset_class="FX")
    rev = reversion_history(vh, "FX")
    assert rev["rho_own"].iloc[-1] >= 1 and not rev["passes"].iloc[-1]
    for h in (12, 60):
        path = horizon_paths(p, vh, h, asset_class="FX")
        off = ~path["passes"] & path["forecast"].notna()
        assert off.sum() > 50
        assert (path.loc[off, "departure"] == 0).all()
        assert (path.loc[off, "forecast"] == path.loc[off, "drift"]).all()


def test_no_look_ahead():
    p = _mean_reverting(8)
    base = horizon_forecasts(p, valuation_history(p))
    k = 250
    p2 = p.copy()
    p2.iloc[k + 1:] *= 2.5
    alt = horizon_forecasts(p2, valuation_history(p2))
    pd.testing.assert_frame_equal(base.iloc[:k + 1], alt.iloc[:k + 1])
    assert not base.iloc[k + 30:].equals(alt.iloc[k + 30:])


def test_evaluation_by_hand_and_honest_counts():
    p = _mean_reverting(9)
    vh = valuation_history(p)
    ev = evaluate_horizons(p, vh, horizons=(12,)).iloc[0]
    path = horizon_paths(p, vh, 12)
    lp = np.log(p.to_numpy())
    fcs, means, outs, origins = [], [], [], []
    for t in range(N - 12):
        if np.isfinite(path["forecast"].iloc[t]):
            fcs.append(path["forecast"].iloc[t])
            means.append(_prevailing_mean_by_hand(lp, 12, t))
            outs.append(lp[t + 12] - lp[t])
            origins.append(t)
    fcs, means, outs = map(np.array, (fcs, means, outs))
    r2 = 1 - ((outs - fcs) ** 2).sum() / ((outs - means) ** 2).sum()
    assert ev["oos_r2"] == pytest.approx(r2, abs=1e-12)
    assert ev["n_forecasts"] == len(origins)
    assert ev["n_independent"] == len(range(origins[0], origins[-1] + 1, 12))
    assert ev["beats_mean"] == (r2 > 0)


def test_strong_mean_reversion_beats_the_mean_and_random_walk_is_reported_honestly():
    p = _mean_reverting(10, phi=0.9)
    ev = evaluate_horizons(p, valuation_history(p), horizons=(12, 24))
    assert (ev["oos_r2"] > 0).all() and ev["beats_mean"].all()
    rng = np.random.default_rng(11)
    rw = pd.Series(np.exp(np.cumsum(rng.normal(0.005, 0.04, N))), IDX)
    ev_rw = evaluate_horizons(rw, valuation_history(rw), horizons=(12,))
    assert np.isfinite(ev_rw["oos_r2"].iloc[0])
    assert ev_rw["beats_mean"].iloc[0] == (ev_rw["oos_r2"].iloc[0] > 0)


def test_gaps_skip_pairs_whose_end_month_is_missing():
    p = _mean_reverting(12).drop(IDX[[100, 101, 300]])
    r = forward_changes(p, 1)
    assert np.isnan(r.loc[IDX[99]]) and np.isfinite(r.loc[IDX[102]])
    assert r.loc[IDX[102]] == pytest.approx(np.log(p.loc[IDX[103]] / p.loc[IDX[102]]))
    assert np.isfinite(horizon_forecasts(p, valuation_history(p)).iloc[-1]).all()


def test_short_history_gives_nan():
    p = _mean_reverting(13, n=70)
    fc = horizon_forecasts(p, valuation_history(p)).iloc[-1]
    # a σ from month 60; the drift needs 12 completed h-month changes: 72 months for 5 years
    assert np.isfinite(fc[["1 Mo", "1 Yr", "3 Yr"]]).all() and np.isnan(fc["5 Yr"])


@pytest.mark.parametrize("h, quote, message", [
    (0, "Price", "horizon must be a positive whole number of months, got 0"),
    (1.5, "Price", "horizon must be a positive whole number"),
    (1, "Level", "quote must be 'Price' or 'Yield', got 'Level'"),
])
def test_bad_input(h, quote, message):
    p = _mean_reverting(14, n=80)
    with pytest.raises(ValueError, match=message):
        horizon_paths(p, p * 0, h, quote=quote)


def test_valuation_must_share_the_index():
    p = _mean_reverting(15, n=80)
    with pytest.raises(ValueError, match="valuation must be .* on the same index as prices"):
        horizon_paths(p, p.iloc[1:] * 0, 1)
    with pytest.raises(ValueError, match="drift must be one of"):
        horizon_paths(p, p * 0, 1, drift="zero")
    with pytest.raises(ValueError, match="reversion must be this instrument's"):
        horizon_paths(p, p * 0, 1, reversion=pd.DataFrame(index=p.index[1:]))


def test_latest_forecasts_equal_last_row_of_paths():
    for quote, s in (("Price", _mean_reverting(16)),
                     ("Yield", pd.Series(5 + np.sin(np.arange(N) / 9), IDX))):
        ac = "Bond" if quote == "Yield" else "Equity"
        vh = valuation_history(s, quote=quote, asset_class=ac)
        full = horizon_forecasts(s, vh, quote=quote, asset_class=ac).iloc[-1]
        fast = latest_forecasts(s, vh, quote=quote, asset_class=ac)
        assert list(fast) == list(full.index)
        np.testing.assert_allclose(list(fast.values()), full.to_numpy(), rtol=0, atol=0)


def test_precomputed_paths_give_the_same_tables():
    p = _mean_reverting(17)
    vh = valuation_history(p)
    paths = {h: horizon_paths(p, vh, h) for h in HORIZONS}
    pd.testing.assert_frame_equal(forecasts_from_paths(paths), horizon_forecasts(p, vh))
    pd.testing.assert_frame_equal(evaluate_horizons(p, vh, paths=paths),
                                  evaluate_horizons(p, vh))


def test_a_deviation_series_is_read_as_the_deviation():
    p = _mean_reverting(18)
    vh = valuation_history(p)
    # the frame rebuilt from the deviation alone (fair value = P·e^−d) gives the same forecasts
    a = horizon_forecasts(p, vh[["deviation", "fair_value"]])
    b = horizon_forecasts(p, vh["deviation"])
    pd.testing.assert_frame_equal(a, b, rtol=1e-10)


def test_hac_regression_params_equal_hand_ols_and_se_differs():
    p = _mean_reverting(19)
    sig = valuation_history(p)["sigma"]
    res = horizon_regression(p, sig, 12)
    lp = np.log(p.to_numpy())
    s = [i for i in range(N - 12) if np.isfinite(sig.iloc[i])]
    ols = sm.OLS(np.array([lp[i + 12] - lp[i] for i in s]),
                 sm.add_constant(sig.iloc[s].to_numpy())).fit()
    np.testing.assert_allclose(res.params.to_numpy(), ols.params, rtol=1e-10)
    assert res.cov_type == "HAC"
    # overlapping 12-month changes: HAC standard errors are much wider than iid ones
    assert res.bse["sigma"] > 1.5 * ols.bse[1]
    with pytest.raises(ValueError, match="need 3 completed 12-month periods"):
        horizon_regression(p.iloc[:62], sig.iloc[:62], 12)
