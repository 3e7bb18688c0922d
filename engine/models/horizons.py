"""Valuation-based horizon forecasts (seed Tables 3, 5, 7, 9, columns ``1 Mo`` … ``5 Yr``).

"Based solely on current valuation": the deviation from fair value reverts. With ``d(t)`` the
deviation of :func:`engine.models.valuation.valuation_history` (log price − log fair value for
prices; yield − fair yield in percentage points for yields) and ``ρ`` its monthly AR(1)
reversion in force at ``t`` (:mod:`engine.models.reversion`: the instrument's own estimate
shrunk toward the pooled estimate of its asset class, or toward the class's literature prior
when it is alone), the forecast of the h-month change made at ``t`` is

    f(t, h) = μ_h(t) + (ρ^h − 1) · d(t)

— the drift plus the expected closing of the gap: ``E[d(t+h)] = ρ^h·d(t)`` while the fair value
follows its drift. ``μ_h(t)`` (``drift``) is the prevailing mean h-month change, the mean over
the pairs ``(s, s+h)`` completed by ``t`` (the benchmark the Track Record scores against, so
the valuation part alone decides the score; no forecast before ``min_pairs`` = 12 such pairs:
a 5-year forecast needs 72 months of prices and a σ). ``drift="fair_value"`` uses the
prevailing mean h-month change of the walk-forward log fair value (fair yield) instead.

The *valuation part* (``departure``) is ``(ρ^h − 1)·d(t)``. Since ``0 ≤ ρ < 1`` it always has
the sign opposite to σ (σ = d / its standard deviation, same sign as d): **"never contradicts
σ"** means that the forecast is never on the same side of the drift as σ — rich (σ > 0)
forecasts are below the drift, cheap ones above, in the output unit too (the annualization is
increasing), and a zero σ or a fallback gives exactly the drift.

Fallback: where the instrument fails the reversion test
(:func:`engine.models.reversion.panel_reversion`, ``passes`` False: its own AR(1) slope is
``≥ 1`` over at least ``TEST_PAIRS`` months), ``departure`` is 0 and the forecast is the drift
(the valuation table's note says why, :func:`engine.models.reversion.fallback_reason`).

Units of the output: prices — annualized decimal return ``exp(f·12/h) − 1`` (the compound
annual rate implied by the forecast log change ``f``; DESIGN.md's ``(1+R)^(12/h) − 1`` with
``1+R = exp(f)``); yields — cumulative change over the horizon in percentage points, not
annualized (−0.77 = a 77 bp fall over the horizon).

Everything in row ``t`` uses data dated ``≤ t`` (prices, the walk-forward deviation, pairs of
the panel known by ``t``). :func:`horizon_regression` is a diagnostic: statsmodels OLS of the
h-month change on σ with Newey–West (HAC) standard errors (``h`` lags) for the overlap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.inputs.sampling import month_ids
from engine.models.reversion import reversion_history

__all__ = ["HORIZONS", "HORIZON_LABELS", "DRIFTS", "forward_changes", "horizon_paths",
           "horizon_forecasts", "forecasts_from_paths", "latest_forecasts",
           "horizon_regression", "evaluate_horizons"]

HORIZONS = (1, 3, 6, 12, 24, 36, 60)
HORIZON_LABELS = {1: "1 Mo", 3: "3 Mo", 6: "6 Mo", 12: "1 Yr", 24: "2 Yr", 36: "3 Yr",
                  60: "5 Yr"}
DRIFTS = ("mean", "fair_value")


def _check(prices: pd.Series, h: int, quote: str) -> None:
    if not isinstance(prices, pd.Series) or not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must be a pandas Series with a DatetimeIndex, got "
                         f"{type(prices).__name__}")
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise ValueError(f"horizon must be a positive whole number of months, got {h!r}")
    if quote not in ("Price", "Yield"):
        raise ValueError(f"quote must be 'Price' or 'Yield', got {quote!r}")
    if quote == "Price" and (prices.dropna() <= 0).any():
        raise ValueError("prices must be > 0 for quote='Price'")


def _valuation(prices: pd.Series, valuation, quote: str) -> pd.DataFrame:
    """The valuation frame on prices.index: valuation_history's, or built from a deviation
    Series (fair value = P·e^(−d) for prices, y − d for yields; one model throughout)."""
    if isinstance(valuation, pd.DataFrame):
        if "deviation" not in valuation.columns:
            raise ValueError("valuation: a DataFrame needs a 'deviation' column "
                             "(valuation_history's output)")
        if not valuation.index.equals(prices.index):
            raise ValueError("valuation must be on the same index as prices")
        if "fair_value" in valuation.columns:
            return valuation
        valuation = valuation["deviation"]
    if not isinstance(valuation, pd.Series) or not valuation.index.equals(prices.index):
        raise ValueError("valuation must be a valuation_history DataFrame or a deviation "
                         "Series on the same index as prices")
    d = pd.to_numeric(valuation, errors="coerce").to_numpy(dtype=float)
    p = prices.to_numpy(dtype=float)
    fv = p * np.exp(-d) if quote == "Price" else p - d
    return pd.DataFrame({"deviation": d, "fair_value": fv}, index=prices.index)


def _reversion(prices, frame, quote, asset_class, reversion) -> pd.DataFrame:
    if reversion is None:
        ac = asset_class or ("Bond" if quote == "Yield" else "Equity")
        return reversion_history(frame, ac, quote=quote)
    if not isinstance(reversion, pd.DataFrame) or not reversion.index.equals(prices.index):
        raise ValueError("reversion must be this instrument's panel_reversion frame on the "
                         "same index as prices")
    return reversion


def _level(prices: pd.Series, quote: str) -> np.ndarray:
    v = prices.to_numpy(dtype=float)
    return np.log(v) if quote == "Price" else v


def _pairs_of(ids: np.ndarray, lv: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """For each start row: the end row h calendar months later (−1 if absent) and the change."""
    n = len(ids)
    j = np.searchsorted(ids, ids + h)
    hit = j < n
    hit[hit] = ids[j[hit]] == ids[hit] + h
    end = np.where(hit, j, -1)
    r = np.full(n, np.nan)
    r[hit] = lv[end[hit]] - lv[hit]
    return end, r


def _pairs(prices: pd.Series, h: int, quote: str) -> tuple[np.ndarray, np.ndarray]:
    return _pairs_of(month_ids(prices.index), _level(prices, quote), h)


def forward_changes(prices: pd.Series, h: int, *, quote: str = "Price") -> pd.Series:
    """Realised change from each date to h calendar months later, indexed by the start date:
    log price change (prices) or yield change in pct points (yields); NaN if the end month
    has no observation. (The value at s is only *known* at s+h: for evaluation only.)"""
    _check(prices, h, quote)
    return pd.Series(_pairs(prices, h, quote)[1], index=prices.index, name=f"r{h}")


def _prevailing_mean(end: np.ndarray, r: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean of the changes whose end row is ≤ t, their count), for every row t."""
    ok = (end >= 0) & np.isfinite(r)
    c_n = np.cumsum(np.bincount(end[ok], minlength=n)).astype(float)
    c_y = np.cumsum(np.bincount(end[ok], weights=r[ok], minlength=n))
    with np.errstate(invalid="ignore", divide="ignore"):
        return c_y / c_n, c_n


def horizon_paths(prices: pd.Series, valuation: pd.DataFrame | pd.Series, h: int, *,
                  quote: str = "Price", asset_class: str | None = None,
                  reversion: pd.DataFrame | None = None, drift: str = "mean",
                  min_pairs: int = 12) -> pd.DataFrame:
    """Walk-forward h-month forecast of every date (module docstring).

    Parameters
    ----------
    prices : monthly levels (> 0) or yields in pct points, DatetimeIndex.
    valuation : :func:`~engine.models.valuation.valuation_history` of ``prices`` (its
        ``deviation``, and ``fair_value`` for ``drift="fair_value"``), or the deviation itself
        as a Series (log P − log FV; yields: pct points), on the same index.
    asset_class : picks the literature prior when ``reversion`` is not given (default: Bond
        for yields, Equity for prices).
    reversion : this instrument's frame of :func:`engine.models.reversion.panel_reversion`
        (the panel estimate of its asset class), on the same index; default: the instrument
        alone, shrunk toward the class prior (:func:`~engine.models.reversion.reversion_history`).
    drift : ``"mean"`` (prevailing mean h-month change) or ``"fair_value"``.
    min_pairs : completed h-month pairs needed for the prevailing mean.

    Returns
    -------
    DataFrame on ``prices.index``: ``forecast`` (cumulative log change / pct points),
    ``drift`` (μ_h), ``departure`` (valuation part, ``forecast − drift``: opposite sign to σ or
    0), ``mean`` (prevailing mean h-month change, NaN under ``min_pairs`` pairs: the
    benchmark), ``rho`` (monthly reversion in force), ``passes`` (reversion test), ``n_pairs``
    (completed h-month pairs) and ``outcome`` (the realised change from t, known only at t+h:
    for evaluation). Row ``t`` uses data dated ``≤ t`` only; ``forecast`` is NaN without a
    deviation or a drift.
    """
    _check(prices, h, quote)
    if drift not in DRIFTS:
        raise ValueError(f"drift must be one of {DRIFTS}, got {drift!r}")
    frame = _valuation(prices, valuation, quote)
    dev = frame["deviation"].to_numpy(dtype=float)
    n = len(prices)
    ids = month_ids(prices.index)
    lv = _level(prices, quote)
    end, r = _pairs_of(ids, lv, h)
    mean_h, c_n = _prevailing_mean(end, r, n)
    mean_h = np.where(c_n >= min_pairs, mean_h, np.nan)
    if drift == "fair_value":
        fv = frame["fair_value"].to_numpy(dtype=float)
        lfv = np.log(np.where(fv > 0, fv, np.nan)) if quote == "Price" else fv
        e_fv, r_fv = _pairs_of(ids, lfv, h)
        mu, c_fv = _prevailing_mean(e_fv, r_fv, n)
        mu = np.where(c_fv >= min_pairs, mu, np.nan)
    else:
        mu = mean_h.copy()
    reversion = _reversion(prices, frame, quote, asset_class, reversion)
    rho = reversion["rho"].to_numpy(dtype=float)
    passes = reversion["passes"].to_numpy(dtype=bool)
    dep = np.where(passes, (rho ** h - 1.0) * dev, 0.0)
    fc = np.where(np.isfinite(dev) & np.isfinite(rho), mu + dep, np.nan)
    return pd.DataFrame({"forecast": fc, "drift": mu,
                         "departure": np.where(np.isfinite(fc), dep, np.nan),
                         "mean": mean_h, "rho": rho, "passes": passes, "n_pairs": c_n,
                         "outcome": r}, index=prices.index)


def _to_output(f: np.ndarray | float, h: int, quote: str):
    return np.expm1(np.asarray(f) * 12.0 / h) if quote == "Price" else f


def _label(h: int) -> str:
    return HORIZON_LABELS.get(h, f"{h} Mo")


def horizon_forecasts(prices: pd.Series, valuation: pd.DataFrame | pd.Series, *,
                      quote: str = "Price", horizons: tuple[int, ...] = HORIZONS,
                      asset_class: str | None = None, reversion: pd.DataFrame | None = None,
                      drift: str = "mean", min_pairs: int = 12) -> pd.DataFrame:
    """Valuation-based forecasts for every date and horizon (seed columns ``1 Mo`` … ``5 Yr``).

    Columns labelled as the seed (:data:`HORIZON_LABELS`; other horizons ``"{h} Mo"``).
    Prices: annualized decimal return; yields: cumulative yield change in pct points.
    Arguments as :func:`horizon_paths`; row ``t`` uses data dated ``≤ t`` only."""
    if len(horizons):
        _check(prices, horizons[0], quote)
        valuation = _valuation(prices, valuation, quote)
        reversion = _reversion(prices, valuation, quote, asset_class, reversion)
    paths = {h: horizon_paths(prices, valuation, h, quote=quote, asset_class=asset_class,
                              reversion=reversion, drift=drift, min_pairs=min_pairs)
             for h in horizons}
    return forecasts_from_paths(paths, quote) if paths else \
        pd.DataFrame(index=prices.index)


def forecasts_from_paths(paths: dict[int, pd.DataFrame], quote: str = "Price") -> pd.DataFrame:
    """:func:`horizon_forecasts` from already computed :func:`horizon_paths` (keyed by h)."""
    index = next(iter(paths.values())).index if paths else None
    return pd.DataFrame({_label(h): _to_output(p["forecast"].to_numpy(), h, quote)
                         for h, p in paths.items()}, index=index)


def latest_forecasts(prices: pd.Series, valuation: pd.DataFrame | pd.Series, *,
                     quote: str = "Price", horizons: tuple[int, ...] = HORIZONS,
                     asset_class: str | None = None, reversion: pd.DataFrame | None = None,
                     drift: str = "mean", min_pairs: int = 12) -> dict[str, float]:
    """The last row of :func:`horizon_forecasts` (same numbers, same units), keyed by the
    column labels: what the Excel functions return."""
    fc = horizon_forecasts(prices, valuation, quote=quote, horizons=horizons,
                           asset_class=asset_class, reversion=reversion, drift=drift,
                           min_pairs=min_pairs)
    if len(fc) == 0:
        return {_label(h): np.nan for h in horizons}
    return {c: float(v) for c, v in fc.iloc[-1].items()}


def horizon_regression(prices: pd.Series, sigma: pd.Series | pd.DataFrame, h: int, *,
                       quote: str = "Price", asof_date: pd.Timestamp | None = None):
    """Diagnostic: statsmodels OLS of the h-month change on [const, σ] over the pairs
    completed by ``asof_date`` (default: the last date), with Newey–West (HAC, ``h`` lags)
    covariance for the overlap. ``sigma``: the σ Series, or the valuation history (its
    ``sigma``). A negative slope = rich valuations were followed by lower changes.
    ValueError with fewer than 3 completed pairs."""
    from statsmodels.regression.linear_model import OLS

    _check(prices, h, quote)
    if isinstance(sigma, pd.DataFrame):
        sigma = sigma["sigma"]
    if not isinstance(sigma, pd.Series) or not sigma.index.equals(prices.index):
        raise ValueError("sigma must be a pandas Series on the same index as prices")
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


def evaluate_horizons(prices: pd.Series, valuation: pd.DataFrame | pd.Series, *,
                      quote: str = "Price", horizons: tuple[int, ...] = HORIZONS,
                      asset_class: str | None = None, reversion: pd.DataFrame | None = None,
                      drift: str = "mean", min_pairs: int = 12,
                      paths: dict[int, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Walk-forward accuracy of the valuation forecasts, one row per horizon (Track Record,
    valuation section).

    For every origin ``t`` with a forecast (made with data ≤ t), a prevailing mean and a
    realised change over ``t → t+h``: the model error and the error of the prevailing
    historical mean change (the mean over pairs completed by t). ``oos_r2`` = 1 −
    SSE(model)/SSE(mean) (> 0: beats the mean); ``n_forecasts`` origins; ``n_independent`` =
    origins at least h months apart (the honest sample size); ``first``/``last`` origin
    dates; ``rmse_model``/``rmse_mean`` in the change's unit (log change for prices, pct
    points for yields). ``paths`` may pass :func:`horizon_paths` results already computed
    with the same arguments, keyed by h."""
    rows = []
    if len(horizons) and (paths is None or any(h not in paths for h in horizons)):
        _check(prices, horizons[0], quote)
        valuation = _valuation(prices, valuation, quote)
        reversion = _reversion(prices, valuation, quote, asset_class, reversion)
    for h in horizons:
        path = paths[h] if paths is not None and h in paths else horizon_paths(
            prices, valuation, h, quote=quote, asset_class=asset_class, reversion=reversion,
            drift=drift, min_pairs=min_pairs)
        use = path["forecast"].notna() & path["outcome"].notna() & path["mean"].notna()
        p = path[use]
        err_m = (p["outcome"] - p["forecast"]).to_numpy()
        err_0 = (p["outcome"] - p["mean"]).to_numpy()
        sse_m, sse_0 = float((err_m ** 2).sum()), float((err_0 ** 2).sum())
        n = int(use.sum())
        r2 = 1.0 - sse_m / sse_0 if n and sse_0 > 0 else np.nan
        rows.append({"horizon": h, "label": _label(h),
                     "n_forecasts": n,
                     "n_independent": _non_overlapping(month_ids(p.index), h) if n else 0,
                     "first": p.index[0] if n else pd.NaT,
                     "last": p.index[-1] if n else pd.NaT,
                     "rmse_model": np.sqrt(sse_m / n) if n else np.nan,
                     "rmse_mean": np.sqrt(sse_0 / n) if n else np.nan,
                     "oos_r2": r2,
                     "beats_mean": bool(r2 > 0) if np.isfinite(r2) else False})
    return pd.DataFrame(rows)
