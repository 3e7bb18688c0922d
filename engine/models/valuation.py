"""Fair value and sigma valuation of one instrument, strictly walk-forward (seed Tables 3, 5, 7, 9).

Conventions (``shared/DESIGN.md``):

* Prices are levels (> 0); yields are percentage points as quoted (4.25 = 4.25 %).
* ``deviation`` = log price − log fair value (yields: yield − fair yield, percentage points).
  Positive = rich: price above fair value, or yield above fair yield (a *cheap* bond).
* ``sigma`` = deviation / its standard deviation — the seed's ``Valuation (σ)``.
* ``valuation_pct`` = P/FV − 1 and ``to_fair_value_pct`` = FV/P − 1, decimals, so
  ``(1 + valuation_pct)·(1 + to_fair_value_pct) = 1`` exactly. NaN for yields (bond price
  valuation needs a maturity: :mod:`engine.models.bonds`).
* ``frequency`` = share of the instrument's own history (under the model in force on that date)
  at least as extreme as today's deviation, two-sided (``|σ_s| ≥ |σ_t|``), decimal.

Estimation: the fair value at date ``t`` is the fitted value at ``t`` of an OLS regression
estimated on every valid observation dated ``≤ t`` — refitted on *every* date (expanding
window), by closed-form least squares on running sums of X'X and X'y (the same numbers as
``statsmodels.OLS`` on the same rows: see :func:`fit_fair_value` and the tests). Nothing dated
after ``t`` enters any figure for ``t``. The residual standard deviation behind σ is the OLS
``sqrt(SSR / (m − k))`` of that same fit (``m`` observations, ``k`` parameters).

Fair-value models, in order of preference (the first whose inputs are present and have
``min_history`` valid observations on date ``t`` is in force; the ``model`` column says which):

========== =========================================================== =====================
class      models (use ``fundamentals``), first preferred               fallback
========== =========================================================== =====================
Equity     1. CAPE: log P − log(CPI · E10) on const, E10 = the 10-year   log P on const +
           (120-month) average of real earnings E/CPI (Shiller's         time trend
           smoothed real earnings; nominal E if no price level), the
           first level input named like earnings (else the first level)
           2. dividend yield: −log DY on const (a rate input named like
           a dividend yield, in %): FV = P·DY / its geometric mean
           3. log P on const + log of each level input + log price level
           (cointegrating); or, with a price level only, log(P / CPI) on
           const + trend
Commodity  1. real price level: log(P / CPI) on const (stationary)       log P on const + trend
           2. log(P / CPI) on const + trend (real long-run trend)
FX         log S − log(P_quote / P_base) on const (PPP; two price       log S on const
           levels: first = base currency's, second = quote currency's)   (long-run level)
Yield      y on const + inflation (12-month % change of a price level,  y on const (the
           or an inflation rate given) + the short rate (any input      expanding mean)
           that is not a price level is used as a rate, in pct points)
========== =========================================================== =====================

The stationary ratio models (equity 1, 2 and commodity 1) are preferred because their
deviation reverts to a constant instead of to a refitted trend; ``stationary=False`` leaves
them out (the models before they were added; kept for comparison:
``bench/bench_valuation_skill.py``). A CAPE needs 120 months of earnings before its first
value, so an equity's history switches from the cointegration to the CAPE model once it has
``min_history`` CAPE months.

The role of a fundamentals column comes from its name (:func:`fundamental_role`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.inputs.data import ASSET_CLASSES, asof
from engine.inputs.roles import column_roles, fundamental_role
from engine.inputs.sampling import month_ids
from engine.models.mackinnon import mackinnon_pvalue

__all__ = ["valuation_history", "valuation_snapshot", "fit_fair_value", "residual_stationarity",
           "adf_statistic",
           "fundamental_role", "column_roles", "month_end", "month_ids", "VALUATION_COLUMNS"]

VALUATION_COLUMNS = ("fair_value", "deviation", "sigma", "valuation_pct", "to_fair_value_pct",
                     "frequency")
QUOTES = ("Price", "Yield")
_SD_TOL = 1e-10  # a residual std below this (log units or pct points) counts as zero
_BLOCK = 64      # fits per block of the residual matrix (64 × n floats stay in cache)
SMOOTH_MONTHS = 120  # CAPE: the 10-year window of the smoothed real earnings
_EARNINGS_WORDS = ("EARN", "EPS", "PROFIT")
_DIVIDEND_YIELD_WORDS = ("DIV", "D/P")

def month_end(series: pd.Series) -> pd.Series:
    """Daily (or any-frequency) levels → the last observation of each calendar month, indexed
    by its actual date; NaNs dropped, months without data absent. Thin wrapper over the
    workbook reader's sampler so UDFs and refresh sample identically."""
    from engine.inputs.sampling import monthly

    return monthly(series, "MonthEnd")


# --------------------------------------------------------------------------- validation

def _check_inputs(prices: pd.Series, fundamentals: pd.DataFrame | None, quote: str,
                  asset_class: str, min_history: int) -> tuple[pd.Series, pd.DataFrame]:
    if not isinstance(prices, pd.Series):
        raise ValueError(f"prices must be a pandas Series, got {type(prices).__name__}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must have a DatetimeIndex, got "
                         f"{type(prices.index).__name__}")
    if quote not in QUOTES:
        raise ValueError(f"quote must be one of {QUOTES}, got {quote!r}")
    if asset_class not in ASSET_CLASSES:
        raise ValueError(f"asset_class must be one of {ASSET_CLASSES}, got {asset_class!r}")
    if isinstance(min_history, bool) or not isinstance(min_history, (int, np.integer)) \
            or min_history < 6:
        raise ValueError(f"min_history must be an integer >= 6 (months), got {min_history!r}")
    if not prices.index.is_monotonic_increasing:
        raise ValueError("prices: dates must be sorted ascending")
    ids = month_ids(prices.index)
    if len(ids) and (np.diff(ids) == 0).any():
        dup = prices.index[1:][np.diff(ids) == 0][0]
        raise ValueError(f"prices must hold one observation per month, got two in {dup:%Y-%m}")
    p = pd.to_numeric(prices, errors="coerce").astype(float)
    v = p.to_numpy()
    if np.isinf(v).any():
        raise ValueError("prices: infinite value")
    if quote == "Price" and (v[np.isfinite(v)] <= 0).any():
        bad = p[p <= 0].index[0]
        raise ValueError(f"prices must be > 0 for quote='Price', got {p[bad]} on {bad:%Y-%m-%d}")
    if fundamentals is None:
        f = pd.DataFrame(index=p.index)
    elif not isinstance(fundamentals, pd.DataFrame):
        raise ValueError("fundamentals must be a pandas DataFrame or None, got "
                         f"{type(fundamentals).__name__}")
    elif fundamentals.empty:
        f = fundamentals.reindex(p.index)
    else:
        if not isinstance(fundamentals.index, pd.DatetimeIndex):
            raise ValueError("fundamentals must have a DatetimeIndex, got "
                             f"{type(fundamentals.index).__name__}")
        # Every column as known on each price date (the last figure on or before it), also
        # when it already sits on the price index: a blank (a quarterly figure between
        # quarters, a month not yet published) keeps the last figure, as in the refresh.
        num = fundamentals.apply(pd.to_numeric, errors="coerce").astype(float)
        f = pd.DataFrame({c: asof(num[c], p.index) for c in num.columns}, index=p.index)
    f = f.apply(pd.to_numeric, errors="coerce").astype(float)
    return p, f


# --------------------------------------------------------------------------- model designs

@dataclass
class _Design:
    """One regression ``target − offset = X·beta + e``; fair value = offset + fitted."""

    name: str
    y: np.ndarray        # target − offset (log units for prices, pct points for yields)
    offset: np.ndarray   # log price-level ratio (PPP) or log deflator; 0 if none
    X: np.ndarray        # n × k, NaN where not available
    columns: list[str]

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.y) & np.isfinite(self.offset) & np.isfinite(self.X).all(axis=1)


def _years(index: pd.DatetimeIndex) -> np.ndarray:
    """Time trend in years since 1900-01 (a fixed origin: no dependence on the sample)."""
    return (month_ids(index) - 1900 * 12) / 12.0


def _yoy_pct(level: pd.Series) -> np.ndarray:
    """12-month % change of a level on a monthly index, matched by calendar month."""
    ids = month_ids(level.index)
    pos = {m: i for i, m in enumerate(ids)}
    v = level.to_numpy()
    out = np.full(len(v), np.nan)
    for i, m in enumerate(ids):
        j = pos.get(m - 12)
        if j is not None and v[j] > 0 and v[i] > 0:
            out[i] = (v[i] / v[j] - 1.0) * 100.0
    return out


def _log_pos(x: np.ndarray) -> np.ndarray:
    out = np.full(len(x), np.nan)
    ok = np.isfinite(x) & (x > 0)
    out[ok] = np.log(x[ok])
    return out


def _trailing_mean(x: np.ndarray, index: pd.DatetimeIndex, months: int) -> np.ndarray:
    """Mean of ``x`` over the ``months`` calendar months ending at each row (that row
    included); NaN unless every one of those months has a row with a finite value."""
    ids = month_ids(index)
    v = np.where(np.isfinite(x), x, 0.0)
    good = np.isfinite(x).astype(float)
    c = np.concatenate([[0.0], np.cumsum(v)])
    g = np.concatenate([[0.0], np.cumsum(good)])
    lo = np.searchsorted(ids, ids - months + 1)          # first row inside the window
    hi = np.arange(len(x)) + 1
    cnt = g[hi] - g[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[hi] - c[lo]) / cnt
    return np.where((cnt == months) & (hi - lo == months), out, np.nan)


def _designs(p: pd.Series, f: pd.DataFrame, quote: str, asset_class: str,
             stationary: bool = True, given_roles: Mapping[str, str] | None = None
             ) -> list[_Design]:
    """The primary (fundamentals) design, if the inputs allow one, then the fallback."""
    n = len(p)
    one = np.ones(n)
    zero = np.zeros(n)
    t = _years(p.index)
    roles = column_roles(f.columns, "Bond" if quote == "Yield" else asset_class, given_roles)
    roles = {c: roles[str(c)] for c in f.columns}
    levels = [c for c in f.columns if roles[c] == "level"]
    plevels = [c for c in f.columns if roles[c] == "price_level"]
    rates = [c for c in f.columns if roles[c] == "rate"]
    yields = [c for c in f.columns if roles[c] == "yield"]
    out: list[_Design] = []
    if quote == "Yield":
        # a yield model has no use for a level: an input named neither as a price level nor
        # as a rate ("UST2Y", "GS2") is taken as the rate it must be, never dropped silently
        rates = [c for c in f.columns if roles[c] != "price_level"]
        y = p.to_numpy()
        cols, xs = [], []
        for c in plevels:
            cols.append(f"inflation({c})")
            xs.append(_yoy_pct(f[c]))
        for c in rates:
            cols.append(c)
            xs.append(f[c].to_numpy())
        if xs:
            out.append(_Design("fair yield: inflation/short rate", y, zero,
                               np.column_stack([one, *xs]), ["const", *cols]))
        out.append(_Design("fair yield: long-run level", y, zero, one[:, None], ["const"]))
        return out
    lp = _log_pos(p.to_numpy())
    if asset_class == "FX":
        if len(plevels) >= 2:
            off = _log_pos(f[plevels[1]].to_numpy()) - _log_pos(f[plevels[0]].to_numpy())
            out.append(_Design(f"PPP: {plevels[1]}/{plevels[0]}", lp - off, off, one[:, None],
                               ["const"]))
        out.append(_Design("long-run level", lp, zero, one[:, None], ["const"]))
        return out
    if stationary and asset_class == "Equity" and levels:
        # CAPE-like: price over the 10-year average of the real level input (Shiller's
        # smoothed real earnings), a ratio taken as stationary around its expanding mean
        e = next((c for c in levels if any(w in str(c).upper() for w in _EARNINGS_WORDS)),
                 levels[0])
        defl = _log_pos(f[plevels[0]].to_numpy()) if plevels else zero
        sm = _log_pos(_trailing_mean(np.exp(_log_pos(f[e].to_numpy()) - defl), p.index,
                                     SMOOTH_MONTHS))
        what = f"10-year real {e} (deflated by {plevels[0]})" if plevels else \
            f"10-year average {e}"
        out.append(_Design(f"CAPE: price / {what}", lp - defl - sm, defl + sm,
                           one[:, None], ["const"]))
    if stationary and asset_class == "Equity":
        # a dividend yield before any other valuation yield (an earnings yield)
        dy = sorted(yields, key=lambda c: not any(w in str(c).upper()
                                                  for w in _DIVIDEND_YIELD_WORDS))
        if dy:
            ldy = _log_pos(f[dy[0]].to_numpy())
            # log P − log FV = −(log DY − mean log DY): the dividend yield's own reversion
            out.append(_Design(f"dividend yield: {dy[0]}", -ldy, lp + ldy, one[:, None],
                               ["const"]))
    if asset_class in ("Equity", "Bond") and levels:
        xs = [_log_pos(f[c].to_numpy()) for c in levels]
        cols = [f"log {c}" for c in levels]
        if plevels:
            xs.append(_log_pos(f[plevels[0]].to_numpy()))
            cols.append(f"log {plevels[0]}")
        out.append(_Design("cointegration: " + ", ".join(cols), lp, zero,
                           np.column_stack([one, *xs]), ["const", *cols]))
    elif plevels:
        defl = _log_pos(f[plevels[0]].to_numpy())
        if stationary and asset_class == "Commodity":
            out.append(_Design(f"real price level (deflated by {plevels[0]})", lp - defl,
                               defl, one[:, None], ["const"]))
        out.append(_Design(f"real trend (deflated by {plevels[0]})", lp - defl, defl,
                           np.column_stack([one, t]), ["const", "trend"]))
    out.append(_Design("trend", lp, zero, np.column_stack([one, t]), ["const", "trend"]))
    return out


# --------------------------------------------------------------------------- expanding OLS

def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched least-squares solution of ``a x = b`` (``a``: r × k × k normal matrices);
    the pseudo-inverse where a matrix is singular (collinear inputs)."""
    try:
        x = np.linalg.solve(a, b[..., None])[..., 0]
        if np.isfinite(x).all():
            return x
    except np.linalg.LinAlgError:
        pass
    return np.einsum("nij,nj->ni", np.linalg.pinv(a, rcond=1e-12), b)


def _expanding_fit(d: _Design, min_history: int, need: np.ndarray | None = None
                   ) -> dict[str, np.ndarray]:
    """Fit at every row ``t`` on valid rows ``≤ t``; figures for row ``t`` (NaN where the row
    is invalid, fewer than ``min_history`` valid rows exist up to it, or ``need`` is False)."""
    n, k = d.X.shape
    ok = d.valid
    # Centre each non-constant regressor on its first valid value (a date <= every t that
    # gets a figure, so no look-ahead): same fitted values, far better conditioned sums.
    x0 = d.X[np.argmax(ok)].copy() if ok.any() else np.zeros(k)
    x0[0] = 0.0  # column 0 is the constant in every design
    X = np.where(ok[:, None], d.X - x0, 0.0)
    y = np.where(ok, d.y, 0.0)
    m = np.cumsum(ok)
    sxx = np.cumsum(X[:, :, None] * X[:, None, :], axis=0)
    sxy = np.cumsum(X * y[:, None], axis=0)
    want = ok & (m >= max(min_history, k + 2))
    if need is not None:
        want &= need
    rows = np.flatnonzero(want)
    fitted = np.full(n, np.nan)
    dev = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    freq = np.full(n, np.nan)
    if rows.size == 0:
        return {"fitted": fitted, "dev": dev, "sd": sd, "freq": freq, "m": m}
    beta = _solve(sxx[rows], sxy[rows])
    cols = np.arange(n)
    for lo in range(0, rows.size, _BLOCK):  # small blocks keep the residuals in cache
        r = rows[lo:lo + _BLOCK]
        w = r[-1] + 1                                   # only rows s <= t matter
        mask = (cols[None, :w] <= r[:, None]) & ok[None, :w]
        resid = beta[lo:lo + _BLOCK] @ X[:w].T          # fit at r, fitted value at every s
        np.subtract(y[None, :w], resid, out=resid)
        resid *= mask                                   # residuals of rows s <= r only
        e_t = resid[np.arange(r.size), r]
        ssr = np.einsum("ij,ij->i", resid, resid)
        np.abs(resid, out=resid)
        thr = np.abs(e_t) * (1 - 1e-9) - 1e-14          # ties count as "as extreme"
        hits = (resid >= thr[:, None]).sum(axis=1)
        hits -= np.where(thr <= 0, w - m[r], 0)         # masked zeros are not history
        fitted[r] = y[r] - e_t
        dev[r] = e_t
        sd[r] = np.sqrt(ssr / (m[r] - k))
        freq[r] = hits / m[r]
    return {"fitted": fitted, "dev": dev, "sd": sd, "freq": freq, "m": m}


def valuation_history(prices: pd.Series, fundamentals: pd.DataFrame | None = None, *,
                      quote: str = "Price", asset_class: str = "Equity",
                      min_history: int = 60, stationary: bool = True,
                      roles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Walk-forward fair value and sigma valuation of one instrument (seed Tables 3, 5, 7, 9:
    ``Valuation (σ)``, ``Valuation (%)``, ``To Fair Value (%)``, ``Frequency (%)``,
    ``Fair Value`` / ``Fair Yield``; Charts 2 and 6).

    Parameters
    ----------
    prices : monthly observations, one per calendar month (DatetimeIndex, sorted; NaN = no
        observation). Levels > 0 for ``quote="Price"``; yields in percent for ``"Yield"``.
    fundamentals : the instrument's ``Fair Value Inputs``, any DatetimeIndex; each column is
        read as known on each price date (:func:`engine.inputs.data.asof`: the last non-blank
        value on or before it), also when it is on the price index already.
        ``None``/empty = fallback model only.
    roles : each column's :data:`engine.domain.Role` (level, rate, yield, price_level), as the
        workbook's ``Role`` row gives it; a column not in it: :func:`fundamental_role`'s guess.
    quote : ``"Price"`` or ``"Yield"``.
    asset_class : ``"Equity"``, ``"Bond"``, ``"FX"`` or ``"Commodity"`` (picks the model).
    min_history : valid months needed (at or before ``t``) before a figure is produced.
    stationary : prefer the stationary ratio models (module docstring); False = without them.

    Returns
    -------
    DataFrame on ``prices.index`` with ``fair_value`` (price level; fair yield in % for
    yields), ``deviation`` (log P − log FV; yields: y − fair y, pct points), ``sigma``,
    ``valuation_pct`` (P/FV − 1, decimal; NaN for yields), ``to_fair_value_pct`` (FV/P − 1;
    NaN for yields), ``frequency`` (decimal, two-sided), ``n_obs`` (observations behind the
    fit) and ``model`` (the fair-value model in force). Row ``t`` uses data dated ``≤ t``
    only; rows before ``min_history`` valid months are NaN. A zero residual spread (e.g. a
    constant series) gives σ = 0 and frequency = 1.

    Raises
    ------
    ValueError naming the argument, the rule and the value received.
    """
    p, f = _check_inputs(prices, fundamentals, quote, asset_class, min_history)
    n = len(p)
    out = pd.DataFrame(np.nan, index=p.index, columns=[*VALUATION_COLUMNS, "n_obs"])
    out["model"] = pd.Series([None] * n, index=p.index, dtype=object)
    if n == 0:
        return out
    designs = _designs(p, f, quote, asset_class, stationary, roles)
    chosen = np.full(n, -1)
    fits = []
    for j, d in enumerate(designs):
        fit = _expanding_fit(d, min_history, need=chosen < 0)
        fits.append(fit)
        take = (chosen < 0) & np.isfinite(fit["dev"])
        chosen[take] = j
    fair = np.full(n, np.nan)
    dev = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    freq = np.full(n, np.nan)
    nobs = np.full(n, np.nan)
    model = np.full(n, None, dtype=object)
    for j, (d, fit) in enumerate(zip(designs, fits)):
        r = chosen == j
        fair[r] = d.offset[r] + fit["fitted"][r]
        dev[r] = fit["dev"][r]
        sd[r] = fit["sd"][r]
        freq[r] = fit["freq"][r]
        nobs[r] = fit["m"][r]
        model[r] = d.name
    flat = sd < _SD_TOL
    sigma = np.where(flat, 0.0, dev / np.where(flat, 1.0, sd))
    freq = np.where(flat & np.isfinite(dev), 1.0, freq)
    out["deviation"] = dev
    out["sigma"] = sigma
    out["frequency"] = freq
    out["n_obs"] = nobs
    out["model"] = model
    if quote == "Price":
        out["fair_value"] = np.exp(fair)
        out["valuation_pct"] = np.expm1(dev)
        out["to_fair_value_pct"] = np.expm1(-dev)
    else:
        out["fair_value"] = fair
    return out


def fit_fair_value(prices: pd.Series, fundamentals: pd.DataFrame | None = None, *,
                   quote: str = "Price", asset_class: str = "Equity", min_history: int = 60,
                   asof_date: pd.Timestamp | None = None, stationary: bool = True,
                   roles: Mapping[str, str] | None = None):
    """The fair-value regression in force on ``asof_date`` (default: the last date), fitted by
    ``statsmodels.OLS`` on the valid rows dated ``≤ asof_date``: the statsmodels twin of one
    row of :func:`valuation_history` (same parameters, same residual std ``sqrt(scale)``).

    Returns ``(results, model_name)``; ``results.model.exog_names`` names the regressors.
    ValueError if no model has ``min_history`` valid observations by then."""
    from statsmodels.regression.linear_model import OLS

    p, d, ok = _model_in_force(prices, fundamentals, quote, asset_class, min_history,
                               asof_date, stationary, roles)
    exog = pd.DataFrame(d.X[ok], index=p.index[ok], columns=d.columns)
    res = OLS(pd.Series(d.y[ok], index=p.index[ok], name="target"), exog).fit()
    return res, d.name


def _model_in_force(prices, fundamentals, quote, asset_class, min_history, asof_date,
                    stationary=True, roles=None):
    """(prices, design, rows) of the fair-value model in force on ``asof_date``: the first
    design (fundamentals, then the fallback) with ``min_history`` valid rows by then."""
    p, f = _check_inputs(prices, fundamentals, quote, asset_class, min_history)
    end = p.index[-1] if asof_date is None else pd.Timestamp(asof_date)
    upto = np.asarray(p.index <= end)
    if not upto.any():
        raise ValueError(f"asof_date {end:%Y-%m-%d} is before the first price")
    t = np.flatnonzero(upto)[-1]
    for d in _designs(p, f, quote, asset_class, stationary, roles):
        ok = d.valid & upto
        if ok[t] and ok.sum() >= max(min_history, d.X.shape[1] + 2):
            return p, d, ok
    raise ValueError(f"prices: need {min_history} valid months up to {end:%Y-%m-%d} for a "
                     f"fair value, got {int(np.isfinite(p[upto]).sum())}")


def residual_stationarity(prices: pd.Series, fundamentals: pd.DataFrame | None = None, *,
                          quote: str = "Price", asset_class: str = "Equity",
                          min_history: int = 60, asof_date: pd.Timestamp | None = None,
                          stationary: bool = True,
                          roles: Mapping[str, str] | None = None) -> dict[str, object]:
    """Does the deviation from fair value mean-revert? The Engle–Granger check of the model in
    force on ``asof_date``: an ADF test (no deterministic terms, lags by AIC up to 12:
    :func:`adf_statistic`, statsmodels' ``adfuller`` to float rounding) on the residuals of
    the regression :func:`fit_fair_value` fits (least squares in numpy: the same residuals),
    with MacKinnon's p-values (:mod:`engine.models.mackinnon`) for the number of stochastic
    variables in the regression (trend models: ``"ct"``).

    Returns ``model``, ``adf_stat``, ``pvalue`` (small = mean-reverting deviation, σ has an
    anchor; large = the fair value may not hold) and ``n_obs``. A diagnostic: no figure of
    the tables depends on it."""
    _, d, ok = _model_in_force(prices, fundamentals, quote, asset_class, min_history,
                               asof_date, stationary, roles)
    X, y = d.X[ok], d.y[ok]
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]  # the OLS residuals
    name, cols = d.name, d.columns
    if np.std(resid) < _SD_TOL:
        return {"model": name, "adf_stat": float("-inf"), "pvalue": 0.0, "n_obs": len(resid)}
    stat = adf_statistic(resid, maxlag=min(12, len(resid) // 4))[0]
    stochastic = [c for c in cols if c not in ("const", "trend")]
    pval = mackinnon_pvalue(stat, "ct" if "trend" in cols else "c", 1 + len(stochastic))
    return {"model": name, "adf_stat": stat, "pvalue": pval, "n_obs": len(resid)}


def adf_statistic(x: np.ndarray, maxlag: int) -> tuple[float, int]:
    """Augmented Dickey–Fuller statistic of ``x`` without deterministic terms, the number of
    lagged differences chosen by AIC among 0…``maxlag``: ``(t statistic of ρ, lags used)`` in
    ``Δx_t = ρ·x_{t−1} + Σ_j γ_j·Δx_{t−j} + e_t``.

    The computation of statsmodels' ``adfuller(x, maxlag, regression="n", autolag="AIC")``
    (the same samples, the same AIC, ties to the fewer lags), written with one QR
    decomposition — the nested regressions' residual sums of squares fall out of it — because
    the refresh runs it for every instrument, where ``adfuller`` costs a tenth of a second
    plus the import of ``statsmodels.tsa.stattools``. ``tests/test_valuation.py`` pins it to
    ``adfuller``."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or maxlag < 0 or len(x) < 2 * maxlag + 4:
        raise ValueError(f"x must be 1-D with at least 2·maxlag + 4 values, got {x.shape} "
                         f"for maxlag {maxlag}")

    def design(lags: int) -> tuple[np.ndarray, np.ndarray]:
        dx = np.diff(x)
        n = len(dx) - lags
        cols = [x[lags:lags + n]] + [dx[lags - j:lags - j + n] for j in range(1, lags + 1)]
        return np.column_stack(cols), dx[lags:]

    X, y = design(maxlag)                     # the common sample of the lag search
    n = len(y)
    q, _ = np.linalg.qr(X)
    qy = q.T @ y
    ssr = float(y @ y) - np.cumsum(qy ** 2)   # residual SS with the first k columns, k = 1…
    k = np.arange(1, X.shape[1] + 1)
    with np.errstate(divide="ignore"):
        aic = n * np.log(2 * np.pi) + n * np.log(np.maximum(ssr, 0) / n) + n + 2 * k
    lags = int(np.argmin(aic))                # the first minimum: ties go to fewer lags
    X, y = design(lags)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta
    s2 = float(e @ e) / (len(y) - X.shape[1])
    se = np.sqrt(s2 * np.linalg.inv(X.T @ X)[0, 0])
    return float(beta[0] / se), lags


def valuation_snapshot(prices: pd.Series, fundamentals: pd.DataFrame | None = None, *,
                       quote: str = "Price", asset_class: str = "Equity",
                       min_history: int = 60,
                       roles: Mapping[str, str] | None = None) -> dict[str, object]:
    """The latest row's valuation figures as a dict: ``date``, ``price`` (level, or yield in
    %), the :data:`VALUATION_COLUMNS`, ``n_obs`` and ``model``. ValueError when the last row
    has no figure (too short a history)."""
    h = valuation_history(prices, fundamentals, quote=quote, asset_class=asset_class,
                          min_history=min_history, roles=roles)
    if h.empty or not np.isfinite(h["sigma"].iloc[-1]):
        got = int(prices.notna().sum()) if isinstance(prices, pd.Series) else 0
        raise ValueError(f"prices: need {min_history} months of prices ending on the last "
                         f"date, got {got}")
    row = h.iloc[-1]
    snap: dict[str, object] = {"date": h.index[-1], "price": float(prices.iloc[-1])}
    for c in (*VALUATION_COLUMNS, "n_obs"):
        snap[c] = float(row[c])
    snap["model"] = row["model"]
    return snap
