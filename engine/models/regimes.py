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
statsmodels' EM (``MarkovSwitching._fit_em``, written out in :func:`em_refit`, the same
figures): the first fit from statsmodels' start parameters for 200 iterations (what its
``fit(em_iter=200)`` runs), the refits warm-started from the previous refit's parameters, at
most 10 EM iterations or a relative log-likelihood change below 1e-5; on changes divided by
their sample standard deviation (numerical scaling only). :func:`regime_probabilities_many`
runs many instruments' estimations together (numpy across instruments), with the same
figures as one by one.

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
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.inputs.sampling import after_previous_month

__all__ = ["WINDOW", "RegimeFit", "fit_key", "fit_to_record", "fit_from_record",
           "model_changes", "fit_regimes", "fit_many", "em_refit", "start_params",
           "filter_probabilities", "filter_many", "regime_probabilities", "regime_probabilities_many", "phase", "phases", "PHASES", "HIGH_VOL_PROB",
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


def _rescale(prev: RegimeFit, scale: float) -> np.ndarray:
    p = prev.params.copy()
    r = prev.scale / scale
    p[2:4] *= r
    p[4:6] *= r * r
    return p


def start_params(z: np.ndarray) -> np.ndarray:
    """statsmodels' ``MarkovRegression(z, 2, switching_variance=True).start_params``, in
    closed form: equal transitions, regime means 0 and half the mean, variances a tenth of and
    the whole sample variance (ddof 0). ``z``: (T,) or (T, N) — then one column per series."""
    mean = z.mean(axis=0)
    var = np.var(z - mean, axis=0)
    half = np.full_like(mean, 0.5)
    return np.array([half, half, np.zeros_like(mean), 0.5 * mean, var / 10.0, var])


def _check_fit(params: np.ndarray, scale: float) -> RegimeFit | None:
    params = np.asarray(params, dtype=float)
    if (not np.isfinite(params).all() or params[4:6].min() < 1e-4
            or not (0 <= params[0] <= 1 and 0 <= params[1] <= 1)):
        return None
    return RegimeFit(params=params, scale=scale, high=int(np.argmax(params[4:6])))


def _scale(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1))


def fit_regimes(x: np.ndarray, previous: RegimeFit | None = None) -> RegimeFit | None:
    """Estimate the two-regime model on the changes ``x`` (1-D, no NaN) by EM.

    ``previous`` warm-starts the estimation. Returns ``None`` when the estimation fails or is
    degenerate (see the module docstring for the fallback)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 10 or not np.isfinite(x).all():
        raise ValueError(f"x must be a 1-D array of >= 10 finite changes, got shape {x.shape}")
    return fit_many(x[:, None], [previous])[0]


def fit_many(X: np.ndarray, previous: list[RegimeFit | None]) -> list[RegimeFit | None]:
    """:func:`fit_regimes` for the N series of the columns of ``X`` (T × N, one length, no
    NaN) at once, ``previous[i]`` warm-starting column i: the EM iterations run on all columns
    together (numpy across series, the cost of one series for a few hundred), each column
    stopping exactly where it would alone."""
    X = np.asarray(X, dtype=float)
    scales = np.std(X, axis=0, ddof=1)
    out: list[RegimeFit | None] = [None] * X.shape[1]
    good = np.isfinite(scales) & (scales > 0)
    cold = [i for i in range(X.shape[1]) if good[i] and previous[i] is None]
    warm = [i for i in range(X.shape[1]) if good[i] and previous[i] is not None]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for cols, first in ((cold, True), (warm, False)):
            if not cols:
                continue
            Z = X[:, cols] / scales[cols]
            start = start_params(Z) if first else np.column_stack(
                [_rescale(previous[i], scales[i]) for i in cols])
            if len(cols) == 1:  # one series: the Python-float path (see _em_step)
                Z, start = Z[:, 0], start[:, 0]
            try:  # numpy turns a failure into NaN (checked below); Python floats raise
                params = em_refit(Z, start, maxiter=COLD_ITER if first else WARM_ITER,
                                  tolerance=0.0 if first else WARM_TOL).reshape(6, -1)
            except (ArithmeticError, ValueError):  # math domain / overflow: documented fallback
                params = np.full((6, len(cols)), np.nan)
            for k, i in enumerate(cols):
                out[i] = _check_fit(params[:, k], float(scales[i]))
    return out


COLD_ITER = 200     # EM iterations of a first estimation (statsmodels' fit(em_iter=200))
WARM_ITER = 10      # ... of a warm refit
WARM_TOL = 1e-5     # relative log-likelihood change that ends a warm refit


def em_refit(z: np.ndarray, start: np.ndarray, maxiter: int = WARM_ITER,
             tolerance: float = WARM_TOL) -> np.ndarray:
    """statsmodels' EM for ``MarkovRegression(z, k_regimes=2, switching_variance=True)``
    (``MarkovSwitching._fit_em``, the loop its ``fit`` runs before the optimiser) from
    ``start``, in statsmodels' parameter order, written out so that a monthly refresh needs no
    statsmodels import (``tests/test_regimes.py`` pins it to ``_fit_em`` on real series).
    Stops after ``maxiter`` iterations, or once the relative change of the log-likelihood
    ``2 (l_k − l_{k−1}) / |l_k + l_{k−1}|`` is at most ``tolerance`` (never before two
    iterations), as statsmodels does.

    ``z`` (T,) with ``start`` (6,), or (T, N) with ``start`` (6, N): N series at once, each
    column's iterations stopping where they would alone (a finished column keeps its
    parameters while the others go on)."""
    z = np.asarray(z, dtype=float)
    params = np.asarray(start, dtype=float)
    active = np.ones(params.shape[1:], dtype=bool)
    last = np.zeros(params.shape[1:])
    i = 0
    while i < maxiter and active.any():
        if z.ndim == 2:  # only the columns still iterating: a finished one costs nothing
            cols = np.flatnonzero(active)
            ll = np.full(last.shape, np.nan)
            ll[cols], new = _em_step(z[:, cols], params[:, cols])
            params = params.copy()
            params[:, cols] = new
        else:
            ll, params = _em_step(z, params)
        if i > 0:
            delta = 2 * (ll - last) / np.abs(ll + last)
            active = active & (delta > tolerance)
        last = np.where(active, ll, last)
        i += 1
    return params


def _em_step(z: np.ndarray, params: np.ndarray) -> tuple:
    """One EM iteration: the log-likelihood at ``params`` (Hamilton filter from the steady
    state) and the new parameters (Kim smoother; statsmodels' M-step: transitions from the
    smoothed joint probabilities over the smoothed marginal ones, regime means and variances
    weighted by the smoothed marginal probabilities).

    ``z`` (T,): the recursions run on Python floats (with two states a step is a dozen
    multiplications, where numpy's per-call cost would be five times the arithmetic); ``z``
    (T, N): the same code runs on rows of N series, numpy's cost then shared by all."""
    batch = z.ndim == 2
    p00, p10, m0, m1, v0, v1 = params if batch else (float(v) for v in params)
    log = np.log if batch else math.log
    n = len(z)
    q00, q10 = 1.0 - p00, 1.0 - p10
    stay = 1.0 - p00 + p10  # steady state P(s = 0) = p10 / (1 − p00 + p10)
    i0 = np.where(stay > 0, p10 / np.where(stay > 0, stay, 1.0), 0.5)
    i0, i1 = np.maximum(i0, 1e-20), np.maximum(1.0 - i0, 1e-20)
    if not batch:
        i0, i1 = float(i0), float(i1)
    d0 = np.exp(-0.5 * (z - m0) ** 2 / v0) / np.sqrt(2.0 * math.pi * v0)
    d1 = np.exp(-0.5 * (z - m1) ** 2 / v1) / np.sqrt(2.0 * math.pi * v1)
    if not batch:
        d0, d1 = d0.tolist(), d1.tolist()
    pred0, pred1 = [0.0] * n, [0.0] * n
    filt0, filt1 = [0.0] * n, [0.0] * n
    f0, f1, llf = i0, i1, 0.0
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
    n0, n1 = w0.sum(axis=0), w1.sum(axis=0)
    mu0, mu1 = (w0 * z).sum(axis=0) / n0, (w1 * z).sum(axis=0) / n1
    return llf, np.array([j00 / n0, j01 / n1, mu0, mu1, (w0 * (z - mu0) ** 2).sum(axis=0) / n0,
                          (w1 * (z - mu1) ** 2).sum(axis=0) / n1])


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
    underflows (``a`` kept inside (1e-300, 1 − 1e-16): a certain regime stays certain)."""
    z = np.asarray(x, dtype=float) / fit.scale
    p0 = _filter(z, fit.params)
    return p0 if fit.high == 0 else 1.0 - p0


def filter_many(X: np.ndarray, fits: list[RegimeFit]) -> np.ndarray:
    """:func:`filter_probabilities` of the columns of ``X`` (T × N), column i with
    ``fits[i]``, computed together (numpy across columns)."""
    if X.shape[1] == 1:  # one series: the Python-float path
        return filter_probabilities(X[:, 0], fits[0])[:, None]
    Z = np.asarray(X, dtype=float) / np.array([f.scale for f in fits])
    p0 = _filter(Z, np.column_stack([f.params for f in fits]))
    high = np.array([f.high for f in fits])
    return np.where(high == 1, 1.0 - p0, p0)


def _filter(z: np.ndarray, params: np.ndarray) -> np.ndarray:
    """P(s_t = 0 | z_1 … z_t) (see :func:`filter_probabilities`); ``z`` (T,) on Python floats,
    or (T, N) with ``params`` (6, N) on numpy rows, by the same lines."""
    batch = z.ndim == 2
    p00, p10, m0, m1, v0, v1 = params if batch else (float(v) for v in params)
    if batch:
        log, log1p, exp, clip = np.log, np.log1p, np.exp, np.clip
    else:
        log, log1p, exp = math.log, math.log1p, math.exp
        clip = lambda v, lo, hi: min(max(v, lo), hi)  # noqa: E731 - the scalar np.clip
    d = 0.5 * np.log(v0 / v1) - (z - m1) ** 2 / (2 * v1) + (z - m0) ** 2 / (2 * v0)
    stay = 1.0 - p00 + p10  # steady state: P(s = 0) = p10 / (1 − p00 + p10)
    f0 = np.where(stay > 0, p10 / np.where(stay > 0, stay, 1.0), 0.5)
    f0 = f0 if batch else float(f0)
    out = []
    for di in (d if batch else d.tolist()):
        a = clip(p00 * f0 + p10 * (1.0 - f0), 1e-300, 1.0 - 1e-16)  # predicted P(s_t = 0)
        f0 = 1.0 / (1.0 + exp(clip(di + log1p(-a) - log(a), -700.0, 700.0)))
        out.append(f0)
    return np.array(out)


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


def _lookup(key: str, store: MutableMapping | None) -> tuple[bool, RegimeFit | None]:
    """(found, fit) of an estimation already made in this process or kept in ``store``."""
    if key in _FIT_CACHE:
        _FIT_CACHE.move_to_end(key)
        return True, _FIT_CACHE[key]
    if store is not None and key in store:
        fit = fit_from_record(store[key])
        _remember(key, fit, None)
        return True, fit
    return False, None


def _remember(key: str, fit: RegimeFit | None, store: MutableMapping | None) -> None:
    _FIT_CACHE[key] = fit
    if store is not None and key not in store:
        store[key] = fit_to_record(fit)
    if len(_FIT_CACHE) > _CACHE_SIZE:
        _FIT_CACHE.popitem(last=False)


FILTERED = "f:"  # store keys of filtered blocks (the others are estimations)


def _block_key(x: np.ndarray, start: int, end: int, schedule: tuple,
               store: MutableMapping | None) -> str | None:
    """Store key of the filtered block [start, end): a complete block (``refit_every``
    months) is final, kept under a key of all data up to its end — which also determines the
    fit — so a monthly refresh filters only the block still growing."""
    if store is None or end - start != schedule[0]:
        return None
    return FILTERED + fit_key(x[:end], schedule)


@dataclass
class _Walk:
    """One instrument's walk-forward run: its changes ``x``, the refit months ``starts`` and
    the state carried from one refit to the next."""

    prices: pd.Series
    changes: pd.Series
    starts: list[int]
    fit: RegimeFit | None = None
    fit_end: int = -1

    def __post_init__(self) -> None:
        n = len(self.changes)
        self.prob = np.full(n, np.nan)
        self.refit_at = np.full(n, -1)
        self.ok = np.zeros(n, dtype=bool)


def _walk(prices: pd.Series, quote: str, refit_every: int, min_obs: int) -> _Walk:
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must be indexed by dates (DatetimeIndex), got "
                         f"{type(prices.index).__name__}")
    prices = prices.dropna().sort_index()
    ch = model_changes(prices, quote).dropna() if len(prices) >= 2 else \
        pd.Series(dtype=float, index=pd.DatetimeIndex([]))
    return _Walk(prices, ch, list(range(min_obs - 1, len(ch), refit_every)))


def _frame(w: _Walk) -> pd.DataFrame:
    out = pd.DataFrame(index=w.prices.index)
    idx = w.changes.index
    out["change"] = pd.Series(w.changes.to_numpy(dtype=float), index=idx).reindex(out.index)
    out["prob_high_vol"] = pd.Series(w.prob, index=idx).reindex(out.index).astype(float)
    dates = idx.to_numpy()
    rd = np.where(w.refit_at >= 0, dates[np.clip(w.refit_at, 0, None)], np.datetime64("NaT")) \
        if len(dates) else np.array([], dtype="datetime64[ns]")
    out["refit_date"] = pd.Series(pd.DatetimeIndex(rd), index=idx).reindex(out.index)
    out["fit_ok"] = pd.Series(w.ok, index=idx).reindex(out.index).fillna(False).astype(bool)
    return out


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
    return regime_probabilities_many([prices], quotes=[quote], refit_every=refit_every,
                                     min_obs=min_obs, window=window, store=store)[0]


def regime_probabilities_many(prices: Sequence[pd.Series], *, quotes: Sequence[str] | None = None,
                              refit_every: int = 12, min_obs: int = 60,
                              window: int | None = WINDOW,
                              store: MutableMapping | None = None) -> list[pd.DataFrame]:
    """:func:`regime_probabilities` of many instruments (``quotes[i]`` of ``prices[i]``,
    default all ``"Price"``), the same frames as one by one: the instruments' k-th refits are
    estimated together (:func:`fit_many`, grouped by window length), which for hundreds of
    instruments costs a few times one instrument's."""
    if refit_every < 1:
        raise ValueError(f"refit_every must be >= 1 month, got {refit_every}")
    if min_obs < 20:
        raise ValueError(f"min_obs must be >= 20 changes, got {min_obs}")
    quotes = list(quotes) if quotes is not None else ["Price"] * len(prices)
    if len(quotes) != len(prices):
        raise ValueError(f"quotes: need one per price series ({len(prices)}), got {len(quotes)}")
    walks = [_walk(p, q, refit_every, min_obs) for p, q in zip(prices, quotes)]
    schedule = (refit_every, min_obs, window)
    for k in range(max((len(w.starts) for w in walks), default=0)):
        due = [w for w in walks if k < len(w.starts)]
        keys, new, todo = {}, {}, {}
        for w in due:
            start = w.starts[k]
            x = w.changes.to_numpy(dtype=float)
            keys[id(w)] = key = fit_key(x[: start + 1], schedule)  # the warm start depends
            found, fit = _lookup(key, store)                       # on all earlier data
            if found:
                new[id(w)] = fit
            else:
                lo = 0 if window is None else max(0, start + 1 - window)
                todo.setdefault(start + 1 - lo, []).append((w, x[lo: start + 1]))
        for items in todo.values():
            fits = fit_many(np.column_stack([seg for _, seg in items]),
                            [w.fit for w, _ in items])
            for (w, _), fit in zip(items, fits):
                new[id(w)] = fit
        blocks = {}
        for w in due:
            fit = new[id(w)]
            _remember(keys[id(w)], fit, store)
            start = w.starts[k]
            x = w.changes.to_numpy(dtype=float)
            end = min(start + refit_every, len(x))  # months [start, end) use the fit at start
            lo = 0 if window is None else max(0, start + 1 - window)
            if fit is not None:
                w.fit, w.fit_end = fit, start
            if w.fit is None:
                continue
            w.refit_at[start:end] = w.fit_end
            w.ok[start:end] = fit is not None
            bkey = _block_key(x, start, end, schedule, store)
            if bkey is not None and bkey in store:
                w.prob[start:end] = np.asarray(store[bkey], dtype=float)
            else:  # the filter runs from the window's start: grouped by shape
                blocks.setdefault((end - lo, start - lo), []).append((w, x[lo:end], bkey))
        for (_, off), items in blocks.items():
            P = filter_many(np.column_stack([seg for _, seg, _ in items]),
                            [w.fit for w, _, _ in items])[off:]
            for col, (w, _, bkey) in enumerate(items):
                start = w.starts[k]
                w.prob[start:start + len(P)] = P[:, col]
                if bkey is not None:
                    store[bkey] = P[:, col].tolist()
    return [_frame(w) for w in walks]


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
