"""Markov-switching market phase: filtered (never smoothed) walk-forward probabilities."""

import numpy as np
import pandas as pd
import pytest

from engine.models.regimes import (RegimeFit, filter_probabilities, fit_regimes, phase,
                                   phases, regime_probabilities)


def _two_regime_prices(n=300, seed=1):
    """Synthetic (labelled) log-price path: calm (sd 2 %) with two turbulent spells (sd 8 %)."""
    rng = np.random.default_rng(seed)
    high = np.zeros(n, dtype=bool)
    high[120:150] = True
    high[220:240] = True
    r = np.where(high, rng.normal(-0.5, 8.0, n), rng.normal(0.8, 2.0, n)) / 100
    idx = pd.date_range("1970-01-31", periods=n + 1, freq="ME")
    px = pd.Series(100 * np.exp(np.concatenate([[0.0], np.cumsum(r)])), index=idx)
    return px, pd.Series(high, index=idx[1:])


def _hamilton(x, params):
    """Independent two-state Hamilton filter (textbook recursion, steady-state start)."""
    p00, p10, m0, m1, s0, s1 = params
    P = np.array([[p00, 1 - p00], [p10, 1 - p10]])  # P[i, j] = P(s_t=j | s_{t-1}=i)
    pi1 = (1 - p00) / ((1 - p00) + p10)  # stationary P(s=1)
    prob = np.array([1 - pi1, pi1])
    out = []
    for v in x:
        pred = prob @ P
        dens = np.array([np.exp(-(v - m0) ** 2 / (2 * s0)) / np.sqrt(2 * np.pi * s0),
                         np.exp(-(v - m1) ** 2 / (2 * s1)) / np.sqrt(2 * np.pi * s1)])
        joint = pred * dens
        prob = joint / joint.sum()
        out.append(prob.copy())
    return np.array(out)


def test_filter_matches_textbook_recursion():
    px, _ = _two_regime_prices()
    x = 100 * np.log(px).diff().dropna().to_numpy()
    fit = fit_regimes(x)
    assert fit is not None
    got = filter_probabilities(x, fit)
    ref = _hamilton(x / fit.scale, fit.params)[:, fit.high]
    np.testing.assert_allclose(got, ref, atol=1e-8)  # same recursion, float rounding only


def test_filtered_not_smoothed_last_observation():
    px, _ = _two_regime_prices()
    x = 100 * np.log(px).diff().dropna().to_numpy()
    fit = fit_regimes(x)
    a = filter_probabilities(x, fit)
    x2 = x.copy()
    x2[-1] = -40.0  # a crash in the last month
    b = filter_probabilities(x2, fit)
    np.testing.assert_array_equal(a[:-1], b[:-1])
    assert b[-1] > a[-1]


def test_walk_forward_probabilities_ignore_later_data():
    px, _ = _two_regime_prices()
    full = regime_probabilities(px, refit_every=12)
    t = px.index[200]
    cut = regime_probabilities(px.loc[:t], refit_every=12)
    pd.testing.assert_series_equal(full.loc[:t, "prob_high_vol"], cut["prob_high_vol"])
    changed = px.copy()
    changed.loc[changed.index > t] *= 3.0
    again = regime_probabilities(changed, refit_every=12)
    pd.testing.assert_series_equal(full.loc[:t, "prob_high_vol"],
                                   again.loc[:t, "prob_high_vol"])
    # the refit schedule: first fit at 60 changes, then every 12 months, data <= refit date
    assert full["refit_date"].dropna().iloc[0] == px.index[60]
    assert (full["refit_date"].dropna() <= full["refit_date"].dropna().index).all()


def test_identifies_the_turbulent_spells():
    px, high = _two_regime_prices()
    out = regime_probabilities(px, refit_every=12)
    p = out["prob_high_vol"].iloc[1:]
    called = p > 0.5
    # the spells (months 120-150 and 220-240) are known; walk-forward detection lags a little
    assert called[high].mean() > 0.7
    # calm months once a turbulent spell is in the estimation window (before that, the two
    # regimes of calm-only data are both calm and the label "high" is arbitrary)
    later = pd.Series(np.arange(len(p)) >= 150, index=p.index)
    assert called[~high & later].mean() < 0.1


def test_yield_changes_and_fallback():
    idx = pd.date_range("1990-01-31", periods=100, freq="ME")
    flat = pd.Series(5.0, index=idx)
    out = regime_probabilities(flat, quote="Yield")
    assert out["prob_high_vol"].isna().all()        # no variance: no fit, documented fallback
    assert not out["fit_ok"].any()
    with pytest.raises(ValueError, match="refit_every"):
        regime_probabilities(flat, refit_every=0)
    with pytest.raises(ValueError, match="quote"):
        regime_probabilities(flat, quote="Level")


@pytest.mark.parametrize("p,s,expected", [
    (0.9, 2.0, "hyperrational"), (0.9, -1.75, "hyperrational"), (0.9, 0.5, "irrational"),
    (0.1, 1.2, "irrational"), (0.1, -2.5, "irrational"), (0.1, 0.3, "rational"),
    (0.5, 0.99, "rational"), (np.nan, 0.2, "rational"), (0.7, np.nan, "irrational"),
    (np.nan, np.nan, ""),
])
def test_phase_rule(p, s, expected):
    assert phase(p, s) == expected


def test_phases_vectorized():
    idx = pd.RangeIndex(3)
    got = phases(pd.Series([0.9, 0.1, 0.2], index=idx), pd.Series([2.0, 0.0, -1.5], index=idx))
    assert got.tolist() == ["hyperrational", "rational", "irrational"]


def test_fit_regimes_bad_input():
    with pytest.raises(ValueError, match="x must be"):
        fit_regimes(np.array([1.0, np.nan] * 10))
    assert isinstance(fit_regimes(np.random.default_rng(0).normal(size=50)), (RegimeFit, type(None)))


def test_fit_store_reuses_estimations_exactly():
    import engine.models.regimes as rg
    px, _ = _two_regime_prices(n=200)
    store = {}
    rg._FIT_CACHE.clear()
    a = regime_probabilities(px, store=store)
    fits = [k for k in store if not k.startswith(rg.FILTERED)]
    assert len(fits) == len(range(59, 200, 12))           # one record per refit date
    assert len(store) - len(fits) == len(range(59, 200, 12)) - 1  # complete blocks filtered
    rg._FIT_CACHE.clear()
    calls, filters = [], []
    orig, orig_filter = rg.fit_many, rg.filter_many
    rg.fit_many = lambda *a, **k: calls.append(1) or orig(*a, **k)
    rg.filter_many = lambda *a, **k: filters.append(1) or orig_filter(*a, **k)
    try:
        b = regime_probabilities(px, store=store)          # everything from the store
        longer = px.copy()
        longer.loc[longer.index[-1] + pd.offsets.MonthEnd(1)] = longer.iloc[-1] * 1.01
        rg._FIT_CACHE.clear()
        c = regime_probabilities(longer, store=store)      # one new month, no new refit due
    finally:
        rg.fit_many, rg.filter_many = orig, orig_filter
    assert calls == []
    assert len(filters) == 2                               # only the block still growing
    pd.testing.assert_frame_equal(a, b)
    rg._FIT_CACHE.clear()
    pd.testing.assert_frame_equal(c, regime_probabilities(longer))  # the store changes nothing
    changed = px.copy()
    changed.iloc[100] *= 1.5                               # other data: other keys
    rg._FIT_CACHE.clear()
    n = len(store)
    regime_probabilities(changed, store=store)
    assert len(store) > n


@pytest.mark.parametrize("params", [
    [0.95, 0.10, 0.1, -0.2, 0.5, 3.0],      # typical: calm regime 0, turbulent regime 1
    [0.60, 0.45, 0.0, 0.0, 2.0, 0.3],       # high-volatility regime first
    [0.999, 0.001, 0.3, -1.0, 0.2, 25.0],   # near-absorbing regimes, far-apart variances
])
def test_filter_equals_statsmodels_filter(params):
    """The written-out recursion gives statsmodels' own filtered probabilities."""
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0, 0.7, 150), rng.normal(0, 4.0, 40), [30.0, -30.0]])
    params = np.array(params)
    fit = RegimeFit(params=params, scale=1.7, high=int(np.argmax(params[4:6])))
    res = MarkovRegression(x / 1.7, k_regimes=2, switching_variance=True).filter(
        params, return_raw=True, cov_type="none")
    ref = np.asarray(res.filtered_marginal_probabilities)[fit.high]
    np.testing.assert_allclose(filter_probabilities(x, fit), ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("code", ["SPX", "AAA", "GBPUSD", "WTI", "GOLD"])
def test_warm_refit_equals_statsmodels_em(code):
    """A monthly refit runs statsmodels' EM written out (no statsmodels import at refresh):
    on the demo's real series it gives ``MarkovSwitching._fit_em``'s parameters. Tolerance
    1e-10 relative: ten iterations of the same arithmetic in another order (1e-14 seen)."""
    import warnings
    from pathlib import Path

    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    from engine.inputs.reader import read_workbook
    from engine.models.regimes import em_refit, model_changes
    d = read_workbook(Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx")
    x = model_changes(d.prices[code], d.instruments[code].quote).dropna().to_numpy()[-240:]
    z = x / np.std(x, ddof=1)
    mod = MarkovRegression(z, k_regimes=2, switching_variance=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = mod.fit(em_iter=200, maxiter=0, search_reps=0, disp=False,
                        return_params=True, cov_type="none")
        start = first * np.array([0.98, 1.02, 0.9, 1.1, 1.05, 0.95])  # last year's fit
        ref = mod._fit_em(start, transformed=True, cov_type="none", maxiter=10,
                          tolerance=1e-5, return_params=True)
    np.testing.assert_allclose(em_refit(z, start), ref, rtol=1e-10, atol=0)


def test_start_params_and_first_fit_are_statsmodels():
    """The first estimation is statsmodels' own EM from its own start parameters (what
    ``fit(em_iter=200)`` runs before the optimiser), written out."""
    import warnings

    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    from engine.models.regimes import em_refit, fit_regimes, start_params
    px, _ = _two_regime_prices(n=200)
    x = np.diff(100 * np.log(px.to_numpy()))
    z = x / np.std(x, ddof=1)
    mod = MarkovRegression(z, k_regimes=2, switching_variance=True)
    np.testing.assert_allclose(start_params(z), mod.start_params, rtol=1e-13, atol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mod._fit_em(mod.start_params, transformed=True, maxiter=200, tolerance=0,
                          return_params=True)
    # 200 iterations of the same arithmetic in another order: rounding drifts, still far
    # below any figure shown (probabilities to 1e-4)
    np.testing.assert_allclose(em_refit(z, start_params(z), maxiter=200, tolerance=0), ref,
                               rtol=1e-7, atol=1e-9)
    fit = fit_regimes(x)
    np.testing.assert_allclose(fit.params, ref, rtol=1e-7, atol=1e-9)


def test_many_instruments_together_equal_one_by_one():
    import engine.models.regimes as rg
    from engine.models.regimes import regime_probabilities_many
    series = [_two_regime_prices(n=n, seed=s)[0] for n, s in ((200, 1), (200, 2), (230, 3),
                                                               (90, 4), (40, 5))]
    rg._FIT_CACHE.clear()
    together = regime_probabilities_many(series)
    rg._FIT_CACHE.clear()
    for px, got in zip(series, together):
        alone = regime_probabilities(px)
        rg._FIT_CACHE.clear()
        # numpy across series vs Python floats alone: the same operations, last-bit rounding
        np.testing.assert_allclose(got["prob_high_vol"], alone["prob_high_vol"], rtol=1e-9,
                                   atol=1e-12)
        pd.testing.assert_series_equal(got["refit_date"], alone["refit_date"])
    assert together[-1]["prob_high_vol"].isna().all()     # 39 changes: no fit yet
