"""Expanding-window least squares, re-estimated every month: the estimation behind every
one-month predictor regression (the composite's components and the skill harness's rivals).

Row t uses only the pairs (x_s, y_{s+1}) with s ≤ t − 1, so every target it was trained on is
dated ≤ t. Running sums of X'X and X'y give, at every t, the same coefficients as
``statsmodels.OLS`` on those rows (and as the recursive coefficients of
``statsmodels.regression.recursive_ls.RecursiveLS``); the tests pin both. Running sums are used
because one Kalman pass per predictor and instrument would cost more than the whole monthly
refresh.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["walk_forward_ols", "expanding_slope", "Slope"]


def _lagged_cumsum(v: np.ndarray) -> np.ndarray:
    """Sum over rows s ≤ t − 1 (a leading zero, the last row dropped)."""
    c = np.cumsum(v, axis=0)
    return np.concatenate([np.zeros((1, *c.shape[1:])), c[:-1]])


def walk_forward_ols(X: np.ndarray, y_next: np.ndarray, *, min_train: int = 36) -> np.ndarray:
    """Expanding-window least squares forecasts, re-estimated every row.

    ``X`` (T × k, first column the intercept) holds the features known at row t; ``y_next``
    (T) the change realised from t to t+1 (NaN when not yet known). The forecast for row t is
    ``X[t] @ beta_t`` with ``beta_t`` fitted on the rows s ≤ t−1 whose features and target
    are finite. NaN before ``min_train`` pairs (and before k + 1).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y_next, dtype=float)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be T x k with T = len(y_next), got {X.shape} and {y.shape}")
    T, k = X.shape
    ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
    Xz = np.where(ok[:, None], X, 0.0)
    yz = np.where(ok, y, 0.0)
    xtx = _lagged_cumsum(Xz[:, :, None] * Xz[:, None, :])
    xty = _lagged_cumsum(Xz * yz[:, None])
    n = _lagged_cumsum(ok.astype(float))
    out = np.full(T, np.nan)
    rows = np.where((n >= max(min_train, k + 1)) & np.isfinite(X).all(axis=1))[0]
    if len(rows) == 0:
        return out
    try:
        beta = np.linalg.solve(xtx[rows], xty[rows][:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        beta = np.stack([np.linalg.lstsq(a, v, rcond=None)[0]
                         for a, v in zip(xtx[rows], xty[rows])])
    out[rows] = np.einsum("tk,tk->t", X[rows], beta)
    return out


class Slope(NamedTuple):
    """Expanding univariate regression y_{s+1} = a + b·x_s over the pairs s ≤ t − 1, per row t:
    ``slope`` b (units of y per unit of x), ``x_mean`` and ``y_mean`` over the same pairs,
    ``n`` their count. NaN where fewer than ``min_train`` pairs or x_t is missing."""

    slope: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    n: np.ndarray

    def departure(self, x: np.ndarray) -> np.ndarray:
        """b·(x_t − x̄): the fitted forecast's departure from the mean of its training
        targets (the forecast is ``y_mean + departure``)."""
        return self.slope * (np.asarray(x, dtype=float) - self.x_mean)


def expanding_slope(x: np.ndarray, y_next: np.ndarray, *, min_train: int = 36) -> Slope:
    """:class:`Slope` of ``y_next`` on ``x`` (both length T, aligned at t), walk-forward. A
    predictor with no variation so far gets slope 0 (no information, not a failure)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y_next, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y_next must be 1-d of one length, got {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    xs, ys = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    n, sx, sy = (_lagged_cumsum(v) for v in (ok.astype(float), xs, ys))
    sxx, sxy = _lagged_cumsum(xs * xs), _lagged_cumsum(xs * ys)
    good = (n >= min_train) & np.isfinite(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = sx / n, sy / n
        vxx = sxx - n * mx * mx
        # no variation beyond rounding (relative to Σx²): no slope
        b = np.where(vxx > 1e-10 * sxx, (sxy - n * mx * my) / vxx, 0.0)
    nan = np.nan
    return Slope(np.where(good, b, nan), np.where(good, mx, nan), np.where(good, my, nan), n)
