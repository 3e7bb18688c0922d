"""Expanding-window least squares: the same numbers as statsmodels on every window."""

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.regression.recursive_ls import RecursiveLS

from engine.models.walk_forward import expanding_slope, walk_forward_ols


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


def test_expanding_slope_is_statsmodels_recursive_least_squares():
    """RecursiveLS's recursive coefficients at s are the OLS fit on rows ≤ s: our slope at
    t (pairs s ≤ t − 1) must equal them at t − 1."""
    rng = np.random.default_rng(3)
    T = 150
    x = rng.normal(2.0, 1.5, T)
    y_next = 0.01 - 0.004 * x + rng.normal(0, 0.03, T)
    fit = expanding_slope(x, y_next, min_train=24)
    rec = RecursiveLS(y_next, np.column_stack([np.ones(T), x])).fit()
    b_rec = rec.recursive_coefficients.filtered[1]
    for t in (30, 90, 149):
        assert fit.slope[t] == pytest.approx(b_rec[t - 1], rel=1e-7)   # Kalman rounding
        assert fit.x_mean[t] == pytest.approx(x[:t].mean(), rel=1e-12)
        assert fit.y_mean[t] + fit.departure(x)[t] == pytest.approx(
            sm.OLS(y_next[:t], sm.add_constant(x[:t])).fit().predict([[1.0, x[t]]])[0],
            rel=1e-9)
    assert np.isnan(fit.slope[:24]).all() and np.isfinite(fit.slope[24:]).all()


def test_expanding_slope_of_a_constant_predictor_is_zero():
    x = np.full(60, 7.25)
    y = np.random.default_rng(1).normal(size=60)
    fit = expanding_slope(x, y, min_train=10)
    assert (fit.slope[10:] == 0.0).all()
    with pytest.raises(ValueError, match="one length"):
        expanding_slope(x[:-1], y)
