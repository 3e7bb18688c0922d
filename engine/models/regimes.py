"""Market phase from a two-regime Markov-switching model (seed ``003_…`` introduction:
"rational", "irrational" and "hyperrational" markets; the ``Phase`` column of Tables 2, 4, 6, 8;
input (c) of the composite forecast).

Model. The monthly change ``x_t`` — 100 × log price change for prices (percent), the change in
the yield in percentage points for yields — follows statsmodels'
:class:`~statsmodels.tsa.regime_switching.markov_regression.MarkovRegression` with two regimes,
a regime-dependent mean and a regime-dependent variance (``switching_variance=True``). The
regime with the larger variance is the *high-volatility* regime; ``prob_high_vol`` is its
**filtered** probability ``P(s_t = high | x_1 … x_t)`` — never the smoothed one, which would use
later data.

Walk-forward schedule. Parameters are first estimated once ``min_obs`` (default 60) changes
exist, then re-estimated every ``refit_every`` (default 12) months, each time with the data of
the last ``window`` (default 240) months up to and including the refit date only (the schedule
is anchored on the first observation, so appending a month never moves earlier refits; the
rolling window bounds the cost of a refit and lets the regimes follow structural change). For
the months from one refit up to the next the parameters are frozen and the Hamilton filter runs
over the same window's data up to each month. Estimation is
EM (statsmodels' ``fit(em_iter=…, maxiter=0)`` for the first fit; its EM loop ``_fit_em`` for
the refits — written out in :func:`em_refit`, the same figures — warm-started from the
previous refit's parameters, at most 10 EM iterations or a relative log-likelihood change
below 1e-5), on changes divided by their sample standard deviation (numerical scaling only).

Fallback. If an estimation raises, returns non-finite values, or a degenerate variance (scaled
σ² < 1e-4), the previous parameters are kept (``fit_ok`` = False on those months); before the
first successful fit ``prob_high_vol`` is NaN and the composite model treats the regime as
unknown (probability 0.5).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.inputs.sampling import after_previous_month

__all__ = ["WINDOW", "RegimeFit", "fit_key", "fit_to_record", "fit_from_record",
           "model_changes", "fit_regimes", "em_refit", "filter_probabilities",
           "regime_probabilities", "phase", "phases", "PHASES", "HIGH_VOL_PROB",
           "EXTREME_SIGMA", "RICH_SIGMA"]

PHASES = ("rational", "irrational", "hyperrational")
WINDOW = 240          # months of changes each estimation (and the filter) uses
HIGH_VOL_PROB = 0.5    # filtered probability above which the market is in its high-vol regime
EXTREME_SIGMA = 1.75   # |valuation σ| of an extreme (seed: "valuation extreme in excess of ±1.75")
RICH_SIGMA = 1.0       # |valuation σ| beyond which valuation is no longer near fair value


@dataclass(frozen=True)
class RegimeFit:
    """Parameters of one estimation, in scaled units (changes / ``scale``).

    ``params`` follow statsmodels' order ``[p[0->0], p[1->0], const[0], const[1], sigma2[0],
    sigma2[1]]``; ``high`` is the index (0/1) of the high-volatility regime."""

    params: np.ndarray
    scale: float
    high: int


def model_changes(prices: pd.Series, quote: str = "Price") -> pd.Series:
    """The monthly changes the regime model reads: 100 × log change for ``quote="Price"``
    (percent), first difference in percentage points for ``quote="Yield"``. First row dropped;
    NaN after a missing month (a change over two months or more is not a monthly change)."""
    if quote not in ("Price", "Yield"):
        raise ValueError(f"quote must be 'Price' or 'Yield', got {quote!r}")
    p = pd.to_numeric(prices, errors="coerce").astype(float)
    if quote == "Price":
        if (p.dropna() <= 0).any():
            raise ValueError("prices must be > 0 for quote='Price', got a value <= 0")
        x = 100.0 * np.log(p).diff()
    else:
        x = p.diff()
    return x.where(after_previous_month(p.index)).iloc[1:]


def _model(x: np.ndarray):
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    return MarkovRegression(x, k_regimes=2, switching_variance=True)


def _rescale(prev: RegimeFit, scale: float) -> np.ndarray:
    p = prev.params.copy()
    r = prev.scale / scale
    p[2:4] *= r
    p[4:6] *= r * r
    return p


def fit_regimes(x: np.ndarray, previous: RegimeFit | None = None) -> RegimeFit | None:
    """Estimate the two-regime model on the changes ``x`` (1-D, no NaN) by EM.

    ``previous`` warm-starts the estimation. Returns ``None`` when the estimation fails or is
    degenerate (see the module docstring for the fallback)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 10 or not np.isfinite(x).all():
        raise ValueError(f"x must be a 1-D array of >= 10 finite changes, got shape {x.shape}")
    scale = float(np.std(x, ddof=1))
    if not np.isfinite(scale) or scale <= 0:
        return None
    z = x / scale
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if previous is None:
                params = _model(z).fit(em_iter=200, maxiter=0, search_reps=0, disp=False,
                                 return_params=True, cov_type="none")
            else:
                params = em_refit(z, _rescale(previous, scale))
    except Exception:  # noqa: BLE001 - any estimation failure falls back (documented)
        return None
    params = np.asarray(params, dtype=float)
    if (not np.isfinite(params).all() or params[4:6].min() < 1e-4
            or not (0 <= params[0] <= 1 and 0 <= params[1] <= 1)):
        return None
    return RegimeFit(params=params, scale=scale, high=int(np.argmax(params[4:6])))


def em_refit(z: np.ndarray, start: np.ndarray, maxiter: int = 10, tolerance: float = 1e-5
             ) -> np.ndarray:
    """A warm refit: statsmodels' EM for ``MarkovRegression(z, k_regimes=2,
    switching_variance=True)`` (``MarkovSwitching._fit_em``, the loop its ``fit`` runs before
    the optimiser) from ``start``, in statsmodels' parameter order, written out so that a
    monthly refresh needs no statsmodels import (``tests/test_regimes.py`` pins it to
    ``_fit_em`` on real series). Stops after ``maxiter`` iterations, or once the relative
    change of the log-likelihood ``2 (l_k − l_{k−1}) / |l_k + l_{k−1}|`` is at most
    ``tolerance`` (never before two iterations), as statsmodels does."""
    z = np.asarray(z, dtype=float)
    params = np.asarray(start, dtype=float)
    llf: list[float] = []
    i, delta = 0, 0.0
    while i < maxiter and (i < 2 or delta > tolerance):
        ll, params = _em_step(z, params)
        llf.append(ll)
        if i > 0:
            delta = 2 * (llf[-1] - llf[-2]) / abs(llf[-1] + llf[-2])
        i += 1
    return params


def _em_step(z: np.ndarray, params: np.ndarray) -> tuple[float, np.ndarray]:
    """One EM iteration: the log-likelihood at ``params`` (Hamilton filter from the steady
    state) and the new parameters (Kim smoother; statsmodels' M-step: transitions from the
    smoothed joint probabilities over the smoothed marginal ones, regime means and variances
    weighted by the smoothed marginal probabilities). The two-state recursions run on Python
    floats: with two states a step is a dozen multiplications, where numpy's per-call cost
    would be five times the arithmetic."""
    p00, p10, m0, m1, v0, v1 = (float(v) for v in params)
    n = len(z)
    q00, q10 = 1.0 - p00, 1.0 - p10
    trans = np.array([[p00, p10], [q00, q10]])  # [j, i] = P(s_t = j | s_t−1 = i)
    a = np.c_[(np.eye(2) - trans).T, np.ones(2)].T
    i0, i1 = (float(v) for v in np.maximum(np.linalg.pinv(a)[:, -1], 1e-20))  # steady state
    d0 = (np.exp(-0.5 * (z - m0) ** 2 / v0) / math.sqrt(2.0 * math.pi * v0)).tolist()
    d1 = (np.exp(-0.5 * (z - m1) ** 2 / v1) / math.sqrt(2.0 * math.pi * v1)).tolist()
    pred0, pred1 = [0.0] * n, [0.0] * n
    filt0, filt1 = [0.0] * n, [0.0] * n
    f0, f1, llf = i0, i1, 0.0
    log = math.log
    for t in range(n):
        r0 = p00 * f0 + p10 * f1
        r1 = q00 * f0 + q10 * f1
        pred0[t], pred1[t] = r0, r1
        j0, j1 = r0 * d0[t], r1 * d1[t]
        tot = j0 + j1
        llf += log(tot)
        f0, f1 = j0 / tot, j1 / tot
        filt0[t], filt1[t] = f0, f1
    s0, s1 = [0.0] * n, [0.0] * n
    s0[-1], s1[-1] = filt0[-1], filt1[-1]
    j00 = j01 = 0.0  # sums over t of P(s_t = 0, s_t−1 = 0 | data) and (= 0, = 1 | data)
    for t in range(n - 2, -1, -1):
        r0 = s0[t + 1] / pred0[t + 1]
        r1 = s1[t + 1] / pred1[t + 1]
        s0[t] = filt0[t] * (p00 * r0 + q00 * r1)
        s1[t] = filt1[t] * (p10 * r0 + q10 * r1)
        j00 += r0 * p00 * filt0[t]
        j01 += r0 * p10 * filt1[t]
    r0 = s0[0] / pred0[0]
    j00 += r0 * p00 * i0
    j01 += r0 * p10 * i1
    w0, w1 = np.array(s0), np.array(s1)
    n0, n1 = w0.sum(), w1.sum()
    mu0, mu1 = (w0 * z).sum() / n0, (w1 * z).sum() / n1
    return llf, np.array([j00 / n0, j01 / n1, mu0, mu1, (w0 * (z - mu0) ** 2).sum() / n0,
                          (w1 * (z - mu1) ** 2).sum() / n1])


def filter_probabilities(x: np.ndarray, fit: RegimeFit) -> np.ndarray:
    """Filtered probability of the high-volatility regime for every element of ``x`` with the
    parameters of ``fit`` frozen (Hamilton filter, steady-state initialisation). Element t only
    depends on ``x[:t+1]``.

    The two-state recursion written out (the same figures as statsmodels'
    ``MarkovRegression.filter(params).filtered_marginal_probabilities`` to float rounding,
    pinned by ``tests/test_regimes.py``): a monthly refresh runs it ~500 times, and without
    building a statsmodels model for each run it costs a tenth of the time. With
    ``a`` = P(s_t = 0 | x_1 … x_{t−1}) and ``d`` = log N(x_t; μ₁, σ₁²) − log N(x_t; μ₀, σ₀²),
    P(s_t = 0 | x_1 … x_t) = 1 / (1 + exp(d + log((1 − a)/a))); in logs, so that no density
    underflows."""
    z = np.asarray(x, dtype=float) / fit.scale
    p00, p10, m0, m1, v0, v1 = (float(v) for v in fit.params)
    d = (0.5 * np.log(v0 / v1) - (z - m1) ** 2 / (2 * v1) + (z - m0) ** 2 / (2 * v0)).tolist()
    stay = 1.0 - p00 + p10  # steady state: P(s = 0) = p10 / (1 − p00 + p10)
    f0 = p10 / stay if stay > 0 else 0.5
    out = []
    for di in d:
        a = p00 * f0 + p10 * (1.0 - f0)  # predicted P(s_t = 0)
        if a <= 0.0 or a >= 1.0:
            f0 = 1.0 if a >= 1.0 else 0.0
        else:
            e = di + math.log1p(-a) - math.log(a)
            f0 = 0.0 if e > 700.0 else 1.0 / (1.0 + math.exp(e))
        out.append(f0)
    p0 = np.array(out)
    return p0 if fit.high == 0 else 1.0 - p0


# In-process memo: a refresh, its track record and the UDFs ask for the same fits.
_FIT_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 20000


def fit_key(x: np.ndarray, schedule: tuple) -> str:
    """Content key of one estimation: SHA-1 of the changes' bytes and the schedule. The same
    key always means the same data, so a stored fit can never be applied to other data."""
    h = hashlib.sha1(np.ascontiguousarray(x, dtype=float).tobytes())
    h.update(repr(tuple(schedule)).encode())
    return h.hexdigest()


def fit_to_record(fit: RegimeFit | None) -> list | None:
    """A JSON-friendly record of a fit (``None`` for a failed estimation)."""
    return None if fit is None else [*map(float, fit.params), float(fit.scale), int(fit.high)]


def fit_from_record(rec: list | None) -> RegimeFit | None:
    """Inverse of :func:`fit_to_record`."""
    if rec is None:
        return None
    return RegimeFit(params=np.asarray(rec[:6], dtype=float), scale=float(rec[6]),
                     high=int(rec[7]))


def _cached_fit(x: np.ndarray, previous: RegimeFit | None, schedule: tuple,
                store: MutableMapping | None = None,
                prefix: np.ndarray | None = None) -> RegimeFit | None:
    # keyed on all data up to the refit (``prefix``): the warm start depends on earlier fits
    key = fit_key(x if prefix is None else prefix, schedule)
    if key in _FIT_CACHE:
        _FIT_CACHE.move_to_end(key)
        fit = _FIT_CACHE[key]
    elif store is not None and key in store:
        fit = fit_from_record(store[key])
        _FIT_CACHE[key] = fit
    else:
        fit = fit_regimes(x, previous)
        _FIT_CACHE[key] = fit
    if store is not None and key not in store:
        store[key] = fit_to_record(fit)
    if len(_FIT_CACHE) > _CACHE_SIZE:
        _FIT_CACHE.popitem(last=False)
    return fit


FILTERED = "f:"  # store keys of filtered blocks (the others are estimations)


def _filtered_block(x: np.ndarray, lo: int, start: int, end: int, fit: RegimeFit,
                    schedule: tuple, store: MutableMapping | None) -> np.ndarray:
    """Filtered probabilities of months [start, end) with ``fit`` (the filter runs from
    ``lo``). A complete block (``refit_every`` months) is final: it is kept in ``store`` under
    a key of all data up to its end — which also determines the fit — so a monthly refresh
    filters only the block still growing."""
    full = store is not None and end - start == schedule[0]
    key = FILTERED + fit_key(x[:end], schedule) if full else None
    if full and key in store:
        return np.asarray(store[key], dtype=float)
    p = filter_probabilities(x[lo:end], fit)[start - lo:end - lo]
    if full:
        store[key] = p.tolist()
    return p


def regime_probabilities(prices: pd.Series, *, quote: str = "Price", refit_every: int = 12,
                         min_obs: int = 60, window: int | None = WINDOW,
                         store: MutableMapping | None = None) -> pd.DataFrame:
    """Walk-forward filtered probability of the high-volatility regime, per price date.

    ``prices``: monthly levels (yields in percentage points when ``quote="Yield"``), one row
    per month. Returns a DataFrame on the same index with columns ``change`` (model input, see
    :func:`model_changes`), ``prob_high_vol`` (0–1, NaN before the first fit), ``refit_date``
    (date of the data the parameters were estimated with) and ``fit_ok``. Row t uses data dated
    ≤ t only (refits every ``refit_every`` months; filtered, never smoothed probabilities).
    ``window``: estimation window in months (the last ``window`` changes up to the refit date;
    ``None`` = all data so far); the filter runs from the start of the same window.
    ``store``: optional mapping ``fit_key -> fit_to_record(fit)`` that estimations are read
    from and added to (content-keyed, so a persistent store lets a monthly refresh skip every
    refit it has already done; the caller owns its persistence); it also keeps the filtered
    probabilities of completed blocks (keys starting with :data:`FILTERED`).
    """
    if refit_every < 1:
        raise ValueError(f"refit_every must be >= 1 month, got {refit_every}")
    if min_obs < 20:
        raise ValueError(f"min_obs must be >= 20 changes, got {min_obs}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must be indexed by dates (DatetimeIndex), got "
                         f"{type(prices.index).__name__}")
    prices = prices.dropna().sort_index()
    out = pd.DataFrame(index=prices.index, columns=["change", "prob_high_vol", "refit_date",
                                                    "fit_ok"])
    out["change"] = np.nan
    out["prob_high_vol"] = np.nan
    out["refit_date"] = pd.NaT
    out["fit_ok"] = False
    if len(prices) < 2:
        return out
    ch = model_changes(prices, quote).dropna()  # a change across a gap is left out
    x = ch.to_numpy()
    out.loc[ch.index, "change"] = x
    n = len(x)
    prob = np.full(n, np.nan)
    refit_at = np.full(n, -1)
    ok = np.zeros(n, dtype=bool)
    fit: RegimeFit | None = None
    fit_end = -1
    schedule = (refit_every, min_obs, window)
    for start in range(min_obs - 1, n, refit_every):
        end = min(start + refit_every, n)  # months [start, end) use the fit at `start`
        lo = 0 if window is None else max(0, start + 1 - window)
        new = _cached_fit(x[lo: start + 1], fit, schedule, store, prefix=x[: start + 1])
        if new is not None:
            fit, fit_end = new, start
        if fit is None:
            continue
        prob[start:end] = _filtered_block(x, lo, start, end, fit, schedule, store)
        refit_at[start:end] = fit_end
        ok[start:end] = new is not None
    out.loc[ch.index, "prob_high_vol"] = prob
    out.loc[ch.index, "fit_ok"] = ok
    dates = ch.index.to_numpy()
    rd = np.where(refit_at >= 0, dates[np.clip(refit_at, 0, None)], np.datetime64("NaT"))
    out.loc[ch.index, "refit_date"] = pd.DatetimeIndex(rd)
    out["prob_high_vol"] = out["prob_high_vol"].astype(float)
    out["change"] = out["change"].astype(float)
    out["fit_ok"] = out["fit_ok"].astype(bool)
    return out


def phase(prob_high_vol: float, sigma: float) -> str:
    """The seed's market phase from the regime probability and the valuation σ.

    * ``"hyperrational"``: high-volatility regime (``prob_high_vol`` > 0.5) **and** extreme
      valuation (|σ| ≥ 1.75);
    * ``"irrational"``: one of the two — high-volatility regime, or valuation away from fair
      value (|σ| ≥ 1.0);
    * ``"rational"``: low-volatility regime and |σ| < 1.0.

    A missing σ counts as near fair value; a missing probability as the low-volatility regime;
    both missing gives ``""``.
    """
    p = float(prob_high_vol) if prob_high_vol is not None else np.nan
    s = float(sigma) if sigma is not None else np.nan
    if np.isnan(p) and np.isnan(s):
        return ""
    high = (not np.isnan(p)) and p > HIGH_VOL_PROB
    a = abs(s) if not np.isnan(s) else 0.0
    if high and a >= EXTREME_SIGMA:
        return "hyperrational"
    if high or a >= RICH_SIGMA:
        return "irrational"
    return "rational"


def phases(prob_high_vol: pd.Series, sigma: pd.Series | None = None) -> pd.Series:
    """:func:`phase` for aligned histories (same index)."""
    s = sigma.reindex(prob_high_vol.index) if sigma is not None else \
        pd.Series(np.nan, index=prob_high_vol.index)
    return pd.Series([phase(p, v) for p, v in zip(prob_high_vol.to_numpy(), s.to_numpy())],
                     index=prob_high_vol.index, name="phase", dtype=object)
