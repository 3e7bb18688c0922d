"""Valuation-based horizon forecasts (seed Tables 3, 5, 7, 9, columns ``1 Mo`` … ``5 Yr``).

"Based solely on current valuation": at date ``t`` the forecast for horizon ``h`` months is
what followed similar valuation in the instrument's own past — the OLS regression

    r(s, s+h) = a + b·σ(s) + e,   over every start month s whose end month s+h ≤ t,

evaluated at today's σ(t). ``σ(s)`` is the walk-forward sigma of
:func:`engine.models.valuation.valuation_history` (itself using data ≤ s only), and
``r(s, s+h)`` is the log price change ``log P(s+h) − log P(s)`` (prices) or the yield change
``y(s+h) − y(s)`` in percentage points (yields). Months are calendar months: a pair whose end
month is missing is skipped.

Shrinkage: overlapping h-month pairs carry about ``n_pairs / h`` independent observations;
the slope is shrunk toward zero (the forecast toward the unconditional mean) by the weight
``w = n_eff / (n_eff + prior_obs)`` with ``n_eff = n_pairs / h`` and ``prior_obs = 10`` by
default. No forecast (NaN) with fewer than ``min_pairs`` (12) completed pairs.

Units of the output: prices — annualized decimal return ``exp(f·12/h) − 1`` (the compound
annual rate implied by the forecast log change ``f``; DESIGN.md's ``(1+R)^(12/h) − 1`` with
``1+R = exp(f)``); yields — cumulative change over the horizon in percentage points, not
annualized (−0.77 = a 77 bp fall over the horizon).

Overlap-robust uncertainty: :func:`horizon_regression` refits the same regression with
statsmodels OLS and Newey–West (HAC) standard errors with ``h`` lags.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.inputs.sampling import month_ids

__all__ = ["HORIZONS", "HORIZON_LABELS", "forward_changes", "horizon_paths",
           "horizon_forecasts", "forecasts_from_paths", "latest_forecasts",
           "horizon_regression", "evaluate_horizons"]

HORIZONS = (1, 3, 6, 12, 24, 36, 60)
HORIZON_LABELS = {1: "1 Mo", 3: "3 Mo", 6: "6 Mo", 12: "1 Yr", 24: "2 Yr", 36: "3 Yr",
                  60: "5 Yr"}


def _check(prices: pd.Series, sigma: pd.Series, h: int, quote: str) -> None:
    if not isinstance(prices, pd.Series) or not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must be a pandas Series with a DatetimeIndex, got "
                         f"{type(prices).__name__}")
    if not isinstance(sigma, pd.Series) or not sigma.index.equals(prices.index):
        raise ValueError("sigma must be a pandas Series on the same index as prices")
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise ValueError(f"horizon must be a positive whole number of months, got {h!r}")
    if quote not in ("Price", "Yield"):
        raise ValueError(f"quote must be 'Price' or 'Yield', got {quote!r}")
    if quote == "Price" and (prices.dropna() <= 0).any():
        raise ValueError("prices must be > 0 for quote='Price'")


def _level(prices: pd.Series, quote: str) -> np.ndarray:
    v = prices.to_numpy(dtype=float)
    return np.log(v) if quote == "Price" else v


def _pairs(prices: pd.Series, h: int, quote: str) -> tuple[np.ndarray, np.ndarray]:
    """For each start row: the end row h calendar months later (−1 if absent) and the change."""
    ids = month_ids(prices.index)
    n = len(ids)
    j = np.searchsorted(ids, ids + h)
    hit = j < n
    hit[hit] = ids[j[hit]] == ids[hit] + h
    end = np.where(hit, j, -1)
    lv = _level(prices, quote)
    r = np.full(n, np.nan)
    r[hit] = lv[end[hit]] - lv[hit]
    return end, r


def forward_changes(prices: pd.Series, h: int, *, quote: str = "Price") -> pd.Series:
    """Realised change from each date to h calendar months later, indexed by the start date:
    log price change (prices) or yield change in pct points (yields); NaN if the end month
    has no observation. (The value at s is only *known* at s+h: for evaluation only.)"""
    _check(prices, pd.Series(np.nan, index=prices.index), h, quote)
    return pd.Series(_pairs(prices, h, quote)[1], index=prices.index, name=f"r{h}")


def horizon_paths(prices: pd.Series, sigma: pd.Series, h: int, *, quote: str = "Price",
                  prior_obs: float = 10.0, min_pairs: int = 12) -> pd.DataFrame:
    """Walk-forward regression of the h-month change on σ, one row per date ``t`` using only
    pairs completed by ``t``. Columns: ``forecast`` (cumulative log change / pct points,
    shrunk), ``mean`` (prevailing unconditional mean change), ``intercept`` and ``slope``
    (unshrunk OLS), ``weight`` (shrinkage weight on the slope), ``n_pairs``, ``outcome``
    (the realised change from t, known only at t+h: for evaluation)."""
    _check(prices, sigma, h, quote)
    if prior_obs < 0:
        raise ValueError(f"prior_obs must be >= 0, got {prior_obs}")
    n = len(prices)
    end, r = _pairs(prices, h, quote)
    x = sigma.to_numpy(dtype=float)
    ok = (end >= 0) & np.isfinite(r) & np.isfinite(x)
    e = end[ok]
    xo, ro = x[ok], r[ok]
    sums = np.stack([np.bincount(e, minlength=n).astype(float),
                     *(np.bincount(e, weights=v, minlength=n)
                       for v in (xo, ro, xo * xo, xo * ro))])
    c_n, c_x, c_y, c_xx, c_xy = np.cumsum(sums, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = c_x / c_n, c_y / c_n
        sxx = c_xx - c_n * mx ** 2
        sxy = c_xy - c_n * mx * my
        slope = np.where(sxx > 1e-12 * np.maximum(c_n, 1), sxy / sxx, 0.0)
    n_eff = c_n / h
    w = n_eff / (n_eff + prior_obs) if prior_obs > 0 else np.ones(n)
    enough = c_n >= min_pairs
    fc = np.where(enough & np.isfinite(x), my + w * slope * (x - mx), np.nan)
    return pd.DataFrame({"forecast": fc,
                         "mean": np.where(enough, my, np.nan),
                         "intercept": np.where(enough, my - slope * mx, np.nan),
                         "slope": np.where(enough, slope, np.nan),
                         "weight": np.where(enough, w, np.nan),
                         "n_pairs": c_n,
                         "outcome": r}, index=prices.index)


def _to_output(f: np.ndarray | float, h: int, quote: str):
    return np.expm1(np.asarray(f) * 12.0 / h) if quote == "Price" else f


def horizon_forecasts(prices: pd.Series, sigma: pd.Series, *, quote: str = "Price",
                      horizons: tuple[int, ...] = HORIZONS, prior_obs: float = 10.0,
                      min_pairs: int = 12) -> pd.DataFrame:
    """Valuation-based forecasts for every date and horizon (seed columns ``1 Mo`` … ``5 Yr``).

    Columns labelled as the seed (:data:`HORIZON_LABELS`; other horizons ``"{h} Mo"``).
    Prices: annualized decimal return; yields: cumulative yield change in pct points.
    Row ``t`` uses prices and σ dated ``≤ t`` only; NaN where fewer than ``min_pairs``
    pairs are complete."""
    out = {}
    for h in horizons:
        path = horizon_paths(prices, sigma, h, quote=quote, prior_obs=prior_obs,
                             min_pairs=min_pairs)
        out[HORIZON_LABELS.get(h, f"{h} Mo")] = _to_output(path["forecast"].to_numpy(), h, quote)
    return pd.DataFrame(out, index=prices.index)


def forecasts_from_paths(paths: dict[int, pd.DataFrame], quote: str = "Price") -> pd.DataFrame:
    """:func:`horizon_forecasts` from already computed :func:`horizon_paths` (keyed by h)."""
    index = next(iter(paths.values())).index if paths else None
    return pd.DataFrame({HORIZON_LABELS.get(h, f"{h} Mo"):
                         _to_output(p["forecast"].to_numpy(), h, quote)
                         for h, p in paths.items()}, index=index)


def latest_forecasts(prices: pd.Series, sigma: pd.Series, *, quote: str = "Price",
                     horizons: tuple[int, ...] = HORIZONS, prior_obs: float = 10.0,
                     min_pairs: int = 12) -> dict[str, float]:
    """The last row of :func:`horizon_forecasts` (same numbers, same units) without the
    per-date paths: the fast path of the Excel functions. Keys are the column labels."""
    out: dict[str, float] = {}
    x = sigma.to_numpy(dtype=float)
    for h in horizons:
        _check(prices, sigma, h, quote)
        end, r = _pairs(prices, h, quote)
        ok = (end >= 0) & np.isfinite(r) & np.isfinite(x)
        xo, ro = x[ok], r[ok]
        n = xo.size
        label = HORIZON_LABELS.get(h, f"{h} Mo")
        if n < min_pairs or not np.isfinite(x[-1]):
            out[label] = np.nan
            continue
        mx, my = xo.mean(), ro.mean()
        sxx = float(((xo - mx) ** 2).sum())
        slope = float(((xo - mx) * (ro - my)).sum()) / sxx if sxx > 1e-12 * n else 0.0
        n_eff = n / h
        w = n_eff / (n_eff + prior_obs) if prior_obs > 0 else 1.0
        out[label] = float(_to_output(my + w * slope * (x[-1] - mx), h, quote))
    return out


def horizon_regression(prices: pd.Series, sigma: pd.Series, h: int, *, quote: str = "Price",
                       asof_date: pd.Timestamp | None = None):
    """statsmodels OLS of the h-month change on [const, σ] over the pairs completed by
    ``asof_date`` (default: the last date), with Newey–West (HAC, ``h`` lags) covariance for
    the overlap. Unshrunk: its params equal ``intercept``/``slope`` of :func:`horizon_paths`.
    ValueError with fewer than 3 completed pairs."""
    from statsmodels.regression.linear_model import OLS

    _check(prices, sigma, h, quote)
    end, r = _pairs(prices, h, quote)
    t = len(prices) - 1 if asof_date is None else \
        int(np.searchsorted(prices.index, pd.Timestamp(asof_date), side="right")) - 1
    x = sigma.to_numpy(dtype=float)
    ok = (end >= 0) & (end <= t) & np.isfinite(r) & np.isfinite(x)
    if ok.sum() < 3:
        raise ValueError(f"horizon {h}: need 3 completed {h}-month periods with a sigma, "
                         f"got {int(ok.sum())}")
    exog = pd.DataFrame({"const": 1.0, "sigma": x[ok]}, index=prices.index[ok])
    endog = pd.Series(r[ok], index=prices.index[ok], name=f"change_{h}m")
    return OLS(endog, exog).fit(cov_type="HAC", cov_kwds={"maxlags": h})


def _non_overlapping(ids: np.ndarray, h: int) -> int:
    """Greedy count of origins at least h calendar months apart."""
    count, last = 0, None
    for m in ids:
        if last is None or m - last >= h:
            count, last = count + 1, m
    return count


def evaluate_horizons(prices: pd.Series, sigma: pd.Series, *, quote: str = "Price",
                      horizons: tuple[int, ...] = HORIZONS, prior_obs: float = 10.0,
                      min_pairs: int = 12,
                      paths: dict[int, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Walk-forward accuracy of the valuation forecasts, one row per horizon (Track Record,
    valuation section).

    For every origin ``t`` with a forecast (made with data ≤ t) and a realised change over
    ``t → t+h``: the model error and the error of the prevailing historical mean change (the
    mean over pairs completed by t). ``oos_r2`` = 1 − SSE(model)/SSE(mean) (> 0: beats the
    mean); ``n_forecasts`` origins; ``n_independent`` = origins at least h months apart (the
    honest sample size); ``first``/``last`` origin dates; ``rmse_model``/``rmse_mean`` in the
    change's unit (log change for prices, pct points for yields). ``paths`` may pass
    :func:`horizon_paths` results already computed with the same arguments, keyed by h."""
    rows = []
    for h in horizons:
        path = paths[h] if paths is not None and h in paths else horizon_paths(
            prices, sigma, h, quote=quote, prior_obs=prior_obs, min_pairs=min_pairs)
        use = path["forecast"].notna() & path["outcome"].notna()
        p = path[use]
        err_m = (p["outcome"] - p["forecast"]).to_numpy()
        err_0 = (p["outcome"] - p["mean"]).to_numpy()
        sse_m, sse_0 = float((err_m ** 2).sum()), float((err_0 ** 2).sum())
        n = int(use.sum())
        r2 = 1.0 - sse_m / sse_0 if n and sse_0 > 0 else np.nan
        rows.append({"horizon": h, "label": HORIZON_LABELS.get(h, f"{h} Mo"),
                     "n_forecasts": n,
                     "n_independent": _non_overlapping(month_ids(p.index), h) if n else 0,
                     "first": p.index[0] if n else pd.NaT,
                     "last": p.index[-1] if n else pd.NaT,
                     "rmse_model": np.sqrt(sse_m / n) if n else np.nan,
                     "rmse_mean": np.sqrt(sse_0 / n) if n else np.nan,
                     "oos_r2": r2,
                     "beats_mean": bool(r2 > 0) if np.isfinite(r2) else False})
    return pd.DataFrame(rows)
