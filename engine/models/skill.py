"""Out-of-sample skill: the one-month forecasts and the valuation horizon forecasts of one
instrument scored against simple rivals on the same months (the Track Record sheet,
``bench/bench_skill.py`` and the skill test all read this module).

Every forecast scored here is made at month t with data dated ≤ t and is scored against the
change realised from t to t+1 (prices: simple return, decimal; yields: change in percentage
points). Rivals, each walk-forward (expanding window, re-estimated every month):

* ``Historical mean`` — the prevailing mean of past monthly changes (the benchmark of the
  R² and of Clark–West);
* ``Random walk`` — zero change;
* ``AR(1)`` — least squares of the next change on the last one;
* ``Momentum 12-1`` — least squares of the next change on the sign of 12-1 momentum;
* ``Valuation only`` — least squares of the next change on valuation σ;
* ``<fundamental>`` — one per fundamental series of the instrument: least squares of the next
  change on that series alone, as the literature uses it (:func:`predictor`: the log of a
  valuation ratio such as D/P or E/P, a rate in percentage points, a yield's spread over a
  short rate, 12-month inflation of a price level).

Metrics (:func:`skill_table`), on the months where the model being scored and the prevailing
mean both have a forecast and the next change is known (a rival without a forecast in a month
of the sample takes the prevailing mean there, its natural fallback; ``Coverage`` says how
often): ``OOS R²`` = 1 − Σ(y−f)²/Σ(y−m)² against the prevailing mean m, ``OOS R² vs 0``
against zero change, ``Clark-West`` (the t-statistic of the adjusted MSFE difference against
the mean; one-sided, 1.28 = 10 %), ``Hit Rate`` (share of months with a non-zero forecast in
which the forecast had the sign of the change), ``PT`` (the Pesaran–Timmermann statistic of
that directional accuracy against independence, N(0, 1), one-sided) and ``Equal To`` / ``Equal
Share`` (the rival the forecast equals most often, and the share of months it does: a model
that is a rival in disguise shows it here).

Horizons (:func:`horizon_skill`): for h = 1…60 months, the OOS R² of a forecast of the h-month
change against the prevailing mean of past h-month changes, with the number of forecasts and
of independent ones (origins at least h months apart: the honest sample size).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.domain import MIN_MEAN, MIN_TRAIN
from engine.inputs.data import asof
from engine.inputs.roles import column_roles
from engine.models.predictors import momentum_12_1, predictor, realized_changes
from engine.models.walk_forward import walk_forward_ols

__all__ = ["RIVALS", "SKILL_COLUMNS", "EQUAL_LIMIT", "rival_forecasts", "skill_table",
           "pesaran_timmermann", "clark_west", "horizon_skill", "SkillSample", "EQUAL_TOL"]

RIVALS = ("Historical mean", "Random walk", "AR(1)", "Momentum 12-1", "Valuation only")
SKILL_COLUMNS = ("Model", "Months", "Coverage", "OOS R²", "OOS R² vs 0", "Clark-West",
                 "Hit Rate", "PT", "Equal To", "Equal Share")
EQUAL_TOL = 1e-12  # relative: a forecast within this of a rival's is that rival's

EQUAL_LIMIT = 0.20  # a forecast equal to a rival in more months than this must say why


@dataclass(frozen=True)
class SkillSample:
    """The months one instrument is scored on: ``y_next`` the realised change t→t+1 and
    ``mean`` the prevailing mean at t, on ``index``."""

    index: pd.DatetimeIndex
    y_next: np.ndarray
    mean: np.ndarray


def _prevailing_mean(change: pd.Series) -> np.ndarray:
    return change.expanding(min_periods=MIN_MEAN).mean().to_numpy(dtype=float)


def rival_forecasts(prices: pd.Series, *, quote: str = "Price", asset_class: str = "Equity",
                    fundamentals: pd.DataFrame | None = None, sigma: pd.Series | None = None,
                    min_train: int = MIN_TRAIN, roles: Mapping[str, str] | None = None
                    ) -> pd.DataFrame:
    """Every rival's forecast of the change t→t+1 (module docstring), one column each, on the
    index of ``prices`` (monthly levels; yields in pct points); row t uses data dated ≤ t.
    ``roles``: each fundamental's :data:`engine.domain.Role` (else guessed from its name)."""
    change = realized_changes(prices, quote)
    y_next = change.shift(-1).to_numpy(dtype=float)
    one = np.ones(len(prices))
    mean = _prevailing_mean(change)

    def ols(x: np.ndarray) -> np.ndarray:
        return walk_forward_ols(np.column_stack([one, x]), y_next, min_train=min_train)

    out = {"Historical mean": mean, "Random walk": np.where(np.isfinite(mean), 0.0, np.nan),
           "AR(1)": ols(change.to_numpy(dtype=float)),
           "Momentum 12-1": ols(np.sign(momentum_12_1(prices, quote).to_numpy(dtype=float)))}
    if sigma is not None:
        s = asof(pd.to_numeric(sigma, errors="coerce"), prices.index).to_numpy(dtype=float)
        out["Valuation only"] = ols(s) if np.isfinite(s).any() else np.full(len(one), np.nan)
    cols = fundamentals.columns if fundamentals is not None else []
    known = column_roles(cols, "Bond" if quote == "Yield" else asset_class, roles)
    for col in cols:
        x = predictor(fundamentals[col], str(col), prices, quote, asset_class,
                      known[str(col)]).to_numpy()
        if np.isfinite(x).sum() > min_train:
            out[str(col)] = ols(x)
    return pd.DataFrame(out, index=prices.index)


def clark_west(y: np.ndarray, f: np.ndarray, bench: np.ndarray) -> float:
    """Clark–West (2007) t-statistic of the model ``f`` against the nested benchmark
    ``bench`` (one-sided: large and positive = the model adds to the benchmark)."""
    adj = (y - bench) ** 2 - ((y - f) ** 2 - (bench - f) ** 2)
    n = len(adj)
    sd = adj.std(ddof=1) if n > 1 else np.nan
    return float(adj.mean() / (sd / math.sqrt(n))) if sd and sd > 1e-15 else np.nan


def pesaran_timmermann(f: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """(hit rate, PT statistic, months) of the forecast signs ``f`` against the outcome signs
    ``y`` over the months where both are non-zero (Pesaran & Timmermann 1992: N(0, 1) under
    independence; large and positive = directional skill). NaN figures with under 12 months
    or when a side never changes sign (the test is then undefined)."""
    use = (f != 0) & (y != 0) & np.isfinite(f) & np.isfinite(y)
    n = int(use.sum())
    if n < 12:
        return np.nan, np.nan, n
    fx, yy = f[use] > 0, y[use] > 0
    hit = float((fx == yy).mean())
    py, px = yy.mean(), fx.mean()
    pstar = py * px + (1 - py) * (1 - px)
    v_hat = pstar * (1 - pstar) / n
    v_star = ((2 * py - 1) ** 2 * px * (1 - px) + (2 * px - 1) ** 2 * py * (1 - py)) / n + \
        4 * py * px * (1 - py) * (1 - px) / n ** 2
    d = v_hat - v_star
    return hit, float((hit - pstar) / math.sqrt(d)) if d > 1e-15 else np.nan, n


def _equal_share(f: np.ndarray, others: dict[str, np.ndarray]) -> tuple[str, float]:
    best, share = "", 0.0
    scale = np.nanmax(np.abs(f)) if np.isfinite(f).any() else 0.0
    tol = EQUAL_TOL * max(scale, 1e-300)
    for name, g in others.items():
        s = float(np.mean(np.abs(f - g) <= tol)) if len(f) else 0.0
        if s > share:
            best, share = name, s
    return best, share


def skill_table(forecasts: pd.DataFrame, sample: SkillSample) -> pd.DataFrame:
    """Metrics (module docstring, :data:`SKILL_COLUMNS`) of every column of ``forecasts``
    (one per model, on ``sample.index``) on the months of ``sample``; a model's missing
    forecasts there take the prevailing mean (``Coverage`` = the share it had its own)."""
    y, m = sample.y_next, sample.mean
    cols = {c: forecasts[c].reindex(sample.index).to_numpy(dtype=float) for c in forecasts}
    filled = {c: np.where(np.isfinite(v), v, m) for c, v in cols.items()}
    rows = []
    sse_m, sse_0 = float(((y - m) ** 2).sum()), float((y ** 2).sum())
    for c, f in filled.items():
        sse = float(((y - f) ** 2).sum())
        hit, pt, _ = pesaran_timmermann(f, y)
        # against the rivals' own forecasts: a rival scored as the mean where it had none
        # is not "equal" to the mean there
        name, share = _equal_share(f, {k: v for k, v in cols.items() if k != c})
        rows.append({"Model": c, "Months": len(y),
                     "Coverage": float(np.isfinite(cols[c]).mean()) if len(y) else np.nan,
                     "OOS R²": 1 - sse / sse_m if sse_m > 0 else np.nan,
                     "OOS R² vs 0": 1 - sse / sse_0 if sse_0 > 0 else np.nan,
                     "Clark-West": clark_west(y, f, m) if c != "Historical mean" else np.nan,
                     "Hit Rate": hit, "PT": pt, "Equal To": name, "Equal Share": share})
    return pd.DataFrame(rows, columns=list(SKILL_COLUMNS))


def sample_for(prices: pd.Series, model: pd.Series, quote: str = "Price") -> SkillSample:
    """The months on which the forecast ``model`` (on the index of ``prices``) is scored: it
    and the prevailing mean exist and the next change is known."""
    change = realized_changes(prices, quote)
    y_next = change.shift(-1).to_numpy(dtype=float)
    mean = _prevailing_mean(change)
    f = model.reindex(prices.index).to_numpy(dtype=float)
    ok = np.isfinite(y_next) & np.isfinite(mean) & np.isfinite(f)
    return SkillSample(prices.index[ok], y_next[ok], mean[ok])


def horizon_skill(prices: pd.Series, forecasts: dict[int, pd.Series], *,
                  quote: str = "Price") -> pd.DataFrame:
    """OOS R² of h-month forecasts (``forecasts[h]``: the h-month change forecast made at
    each date — log change for prices, pct points for yields) against the prevailing mean of
    the h-month changes completed by then; one row per horizon with ``n_forecasts`` and
    ``n_independent`` (origins at least h months apart)."""
    from engine.models.horizons import horizon_paths

    rows = []
    zero = pd.Series(0.0, index=prices.index)
    for h, f in sorted(forecasts.items()):
        path = horizon_paths(prices, zero, h, quote=quote)  # mean and outcome of h changes
        fc = f.reindex(prices.index).to_numpy(dtype=float)
        out, mean = path["outcome"].to_numpy(), path["mean"].to_numpy()
        use = np.isfinite(fc) & np.isfinite(out) & np.isfinite(mean)
        n = int(use.sum())
        sse = float(((out - fc)[use] ** 2).sum())
        sse_m = float(((out - mean)[use] ** 2).sum())
        ids = prices.index[use].year * 12 + prices.index[use].month
        indep, last = 0, None
        for i in ids:
            if last is None or i - last >= h:
                indep, last = indep + 1, i
        rows.append({"horizon": h, "n_forecasts": n, "n_independent": indep,
                     "oos_r2": 1 - sse / sse_m if n and sse_m > 0 else np.nan})
    return pd.DataFrame(rows)
