"""Mean reversion toward fair value: a walk-forward panel AR(1) per asset class.

The deviation ``d(s)`` is :func:`engine.models.valuation.valuation_history`'s ``deviation``
(log price − log fair value for prices, a log ratio; yield − fair yield in percentage points
for yields; + = above fair value, the sign of σ). Its monthly reversion is the AR(1)

    d_i(s+1) = a_i + ρ · d_i(s) + e,        half-life = log(½) / log(ρ) months,

estimated on pairs of consecutive calendar months under the same fair-value model (a pair
across a model switch is dropped). A pair is known on the date of its second month; every
estimate in force at date ``t`` uses only pairs known by ``t``, of the instrument and of the
other members of its asset class (walk-forward: changing data after ``t`` changes nothing at
``t``).

What reverts (``through``). The horizon forecast (:mod:`engine.models.horizons`) assumes the
fair value follows its drift while the gap closes toward zero. ``through="price"`` (default)
estimates the reversion in exactly that sense: the second element of each pair is the next
month's level against *this* month's fair value, ``y = d(s) + Δlevel(s+1)`` (= ``d(s+1) +
ΔFV``; level = log price, or the yield). ``through="deviation"`` is the plain AR(1) of ``d``
(``y = d(s+1)``): it also counts the gap closing because the fair value moved toward the price
(a fair yield that follows the short rate, a refitted trend), which a price forecast must not
count; on the 39 real series of the skill harness it forecast worse (``docs/methodology.md``).

Intercepts (``demean``). The forecast is ``drift + (ρ^h − 1)·d``: reversion toward a zero
deviation, the instrument's drift as its intercept. The default (``demean=False``) estimates
exactly that model at one month — each instrument's change ``z = y − x`` demeaned on its own
pairs (its drift), ``x`` as it is, one pooled slope through the origin:
``ρ = 1 + Σ_i Σ x (z − z̄_i) / Σ_i Σ x²``. ``demean=True`` is the classic within (fixed
effects) estimator, ``x`` and ``y`` both demeaned per instrument: it measures reversion toward
each instrument's *average* deviation, which a walk-forward deviation need not have at zero
(a real price that keeps falling is "cheap" on average); it is kept as an option and measured.

Estimates, per instrument i and date t, on pairs known by t:

* ``rho_own`` — the instrument's own slope.
* ``rho_panel`` — the pooled slope of the *other* members of the class, one common slope on
  the stacked panel, each instrument demeaned on its own pairs (:func:`pooled_ar1`; its
  statsmodels twin is :func:`pooled_ar1_ols`). Leaving the instrument out keeps its data
  from counting twice.
* ``rho_pool`` — the anchor: the panel slope and the class's literature prior
  (:data:`PRIORS`) weighted by pairs, ``(n_panel·rho_panel + m_pool·rho_prior) / (n_panel +
  m_pool)``. With no other member (one Excel call) the anchor *is* the literature prior.
* ``rho`` — in force: ``w·rho_own + (1 − w)·rho_pool``, ``w = n_own / (n_own + m_own)``
  (``n_own`` own pairs, ``m_own`` the prior's strength: the months of own history that earn
  the own slope half the weight), clipped to ``[0, RHO_MAX]``. Shrinkage is toward the pooled
  reversion, never toward "no reversion" (ρ = 1) nor toward a zero slope.

Reversion test (``passes``). An instrument fails when it has at least ``test_pairs`` own
pairs and its own, unshrunk ``rho_own ≥ 1`` (no reversion in its own history), or — if
``max_pvalue`` is set — the Dickey–Fuller p-value of its deviation (``df_pvalue``: the
t-statistic of ``ρ − 1`` in the plain AR(1) of ``d`` with a constant, MacKinnon 1994 p-value,
one series) is above ``max_pvalue``; or when the shrunk ``rho`` reaches ``RHO_MAX``. A failed
instrument's horizon forecast is the drift alone and :func:`fallback_reason` says why. Before
``test_pairs`` own pairs the instrument is not tested: it uses the pooled/prior reversion. One
instrument's unit-root test has little power against half-lives of years — the reason to pool
— so ``max_pvalue`` is off by default (``docs/methodology.md`` has the measurements).

Literature priors (:data:`PRIORS`, half-lives of the deviation):

* Equity — 3.25 years: Balvers, Wu & Gilliland (2000), "Mean reversion across national stock
  markets and parametric contrarian investment strategies", Journal of Finance 55(2),
  745–772: 18 national indices 1969–1996, a half-life of three to three and a half years.
  (Spierdijk, Bikker & van den Hoek 2012, Journal of International Money and Finance: 13.8
  years on average over 1900–2008, 2.1 to 23.8 years in rolling windows — the figure is
  uncertain, hence the panel.)
* FX — 4 years: Rogoff (1996), "The purchasing power parity puzzle", Journal of Economic
  Literature 34(2), 647–668: the consensus half-life of real exchange rate deviations from PPP
  is three to five years.
* Commodity — 5 years: Cashin, Liang & McDermott (2000), "How persistent are shocks to world
  commodity prices?", IMF Staff Papers 47(2): shocks to real commodity prices are
  typically long-lasting and their persistence varies widely across commodities. 5 years is
  our reading of that evidence — a judgement, not a figure printed in the paper.
* Bond — 1.5 years (yield − fair yield, points): a judgement, no single literature figure;
  yield spreads over inflation and the short rate are persistent but revert within a few
  years, faster than valuation ratios.

Each prior weighs ``m_pool = 240`` months against the panel and ``m_own = 600`` months
against the instrument's own pairs (stated judgements, not fitted to the series scored).

Units: ``rho`` per month (dimensionless); half-lives in years; pair counts in months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, NamedTuple

import numpy as np
import pandas as pd

from engine.inputs.data import ASSET_CLASSES
from engine.inputs.sampling import month_ids
from engine.models.mackinnon import mackinnon_pvalue

__all__ = ["ReversionPrior", "PRIORS", "PooledAR1", "RHO_MAX", "TEST_PAIRS", "THROUGH",
           "REVERSION_COLUMNS", "deviation_pairs", "pooled_ar1", "pooled_ar1_ols",
           "panel_reversion", "reversion_history", "reversion_by_class", "half_life_years",
           "rho_from_half_life", "fallback_reason"]

RHO_MAX = 0.9995   # a shrunk ρ at or above this (half-life ≥ 115 years) is "no reversion"
TEST_PAIRS = 120   # own pairs (months) before an instrument's own slope can fail it
THROUGH = ("price", "deviation")
REVERSION_COLUMNS = ("n_own", "rho_own", "df_stat", "df_pvalue", "n_panel", "members",
                     "rho_panel", "rho_prior", "rho_pool", "weight", "rho", "half_life",
                     "passes")


@dataclass(frozen=True)
class ReversionPrior:
    """The literature prior of one asset class: ``half_life_years`` (of the deviation),
    ``pool_months`` (its weight, in months of pairs, against the other members' pairs),
    ``own_months`` (the own pairs that give an instrument's own slope half the weight) and
    ``source`` (the citation)."""

    half_life_years: float
    pool_months: float = 240.0
    own_months: float = 600.0
    source: str = ""

    @property
    def rho(self) -> float:
        """The monthly AR(1) coefficient of the half-life."""
        return rho_from_half_life(self.half_life_years)


PRIORS: dict[str, ReversionPrior] = {
    "Equity": ReversionPrior(3.25, source="Balvers, Wu & Gilliland (2000), Journal of "
                             "Finance 55(2): 3 to 3.5 years"),
    "FX": ReversionPrior(4.0, source="Rogoff (1996), Journal of Economic Literature 34(2): "
                         "3 to 5 years"),
    "Commodity": ReversionPrior(5.0, source="Cashin, Liang & McDermott (2000), IMF Staff "
                                "Papers 47(2): long-lasting shocks (5 years: our reading)"),
    "Bond": ReversionPrior(1.5, source="judgement (no single literature figure)"),
}


def rho_from_half_life(years: float) -> float:
    """Monthly AR(1) coefficient with the given half-life in years: ``0.5 ** (1/(12·years))``."""
    if not isinstance(years, (int, float, np.floating)) or not years > 0:
        raise ValueError(f"years must be > 0, got {years!r}")
    return 0.5 ** (1.0 / (12.0 * float(years)))


def half_life_years(rho: float | np.ndarray) -> float | np.ndarray:
    """Half-life in years of a monthly AR(1) coefficient: ``log ½ / log ρ / 12``; ``inf`` for
    ``ρ ≥ 1``, NaN for ``ρ ≤ 0`` or NaN."""
    r = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(r >= 1, np.inf, np.where(r > 0, np.log(0.5) / np.log(r) / 12.0, np.nan))
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- pairs

def _parts(v, name: str, quote: str) -> tuple[pd.Series, np.ndarray | None, np.ndarray | None]:
    """(deviation, model labels or None, level of the fair value or None) of one input."""
    model = level_fv = None
    if isinstance(v, pd.DataFrame):
        if "deviation" not in v.columns:
            raise ValueError(f"{name}: a DataFrame needs a 'deviation' column "
                             "(valuation_history's output)")
        if "model" in v.columns:
            model = v["model"].to_numpy()
        if "fair_value" in v.columns:
            fv = v["fair_value"].to_numpy(dtype=float)
            if quote == "Price":
                with np.errstate(divide="ignore", invalid="ignore"):
                    level_fv = np.log(np.where(fv > 0, fv, np.nan))
            else:
                level_fv = fv
        v = v["deviation"]
    if not isinstance(v, pd.Series) or not isinstance(v.index, pd.DatetimeIndex):
        raise ValueError(f"{name} must be a deviation Series or a valuation_history "
                         "DataFrame, with a DatetimeIndex")
    if not v.index.is_monotonic_increasing:
        raise ValueError(f"{name}: dates must be sorted ascending")
    return pd.to_numeric(v, errors="coerce").astype(float), model, level_fv


def _check_through(through: str) -> None:
    if through not in THROUGH:
        raise ValueError(f"through must be one of {THROUGH}, got {through!r}")


def _check_quote(quote: str | None, asset_class: str) -> str:
    if quote is None:
        return "Yield" if asset_class == "Bond" else "Price"
    if quote not in ("Price", "Yield"):
        raise ValueError(f"quote must be 'Price' or 'Yield', got {quote!r}")
    return quote


def deviation_pairs(deviation: pd.Series | pd.DataFrame, *, through: str = "price",
                    quote: str = "Price") -> pd.DataFrame:
    """The AR(1) pairs of consecutive calendar months: ``x = d(s)`` and ``y`` = ``d(s+1)``
    (``through="deviation"``) or ``d(s) + Δlevel(s+1) = d(s+1) + ΔFV`` (``"price"``: the
    next level against this month's fair value; needs the :func:`valuation_history`
    DataFrame, its ``fair_value`` read as a price level (logged) or a fair yield by
    ``quote``), indexed by the date of ``s+1`` — when the pair is known. A Series input is
    the deviation itself (then only ``through="deviation"``). Pairs across a change of the
    ``model`` column are dropped. Units those of the deviation."""
    _check_through(through)
    d, model, lfv = _parts(deviation, "deviation", quote)
    v = d.to_numpy()
    if len(v) < 2:
        return pd.DataFrame({"x": [], "y": []}, index=d.index[:0])
    ids = month_ids(d.index)
    ok = (np.diff(ids) == 1) & np.isfinite(v[:-1]) & np.isfinite(v[1:])
    if model is not None:
        ok &= model[:-1] == model[1:]
    y = v[1:].copy()
    if through == "price":
        if lfv is None:
            raise ValueError("deviation: through='price' needs the valuation_history "
                             "DataFrame (deviation and fair_value)")
        y = y + lfv[1:] - lfv[:-1]
        ok &= np.isfinite(y)
    return pd.DataFrame({"x": v[:-1][ok], "y": y[ok]}, index=d.index[1:][ok])


# --------------------------------------------------------------------------- pooled AR(1)

class PooledAR1(NamedTuple):
    """The pooled AR(1) slope of a panel on one date: ``rho`` (per month), ``se`` (its OLS
    standard error; degrees of freedom ``n_pairs − members − 1`` with fixed effects),
    ``n_pairs`` (pairs used) and ``members`` (instruments with at least two pairs)."""

    rho: float
    se: float
    n_pairs: int
    members: int


def _pair_frames(panel, asof, through: str, quote: str) -> dict[str, pd.DataFrame]:
    if not isinstance(panel, Mapping) or not panel:
        raise ValueError("panel must be a non-empty mapping of instrument code to its "
                         "valuation history (or deviation)")
    end = None if asof is None else pd.Timestamp(asof)
    out = {}
    for code, v in panel.items():
        pr = deviation_pairs(v, through=through, quote=quote)
        if end is not None:
            pr = pr[pr.index <= end]
        if len(pr) >= 2:
            out[str(code)] = pr
    return out


def _stack(frames: dict[str, pd.DataFrame], demean: bool) -> tuple[np.ndarray, np.ndarray]:
    """The regressor and regressand of the pooled slope (no constant): per-instrument
    demeaned x and y; or x and x + (z − z̄), z = y − x (reversion toward zero)."""
    xs, ys = [], []
    for pr in frames.values():
        x, y = pr["x"].to_numpy(), pr["y"].to_numpy()
        if demean:
            xs.append(x - x.mean())
            ys.append(y - y.mean())
        else:
            z = y - x
            xs.append(x)
            ys.append(x + z - z.mean())
    return (np.concatenate(xs), np.concatenate(ys)) if xs else (np.zeros(0), np.zeros(0))


def pooled_ar1(panel: Mapping[str, pd.Series | pd.DataFrame], asof=None, *,
               through: str = "price", quote: str = "Price", demean: bool = False
               ) -> PooledAR1:
    """The pooled AR(1) slope of the instruments in ``panel`` (code → valuation history, or
    deviation Series with ``through="deviation"``) on the pairs known by ``asof`` (default:
    all), in closed form: ``1 + Σ_i Σ x (z − z̄_i) / Σ_i Σ x²`` (``z = y − x``; default)
    or, with ``demean=True``, ``Σ_i Σ (x − x̄_i)(y − ȳ_i) / Σ_i Σ (x − x̄_i)²`` — the
    slope of :func:`pooled_ar1_ols` either way. NaN figures without pairs."""
    _check_through(through)
    frames = _pair_frames(panel, asof, through, quote)
    x, y = _stack(frames, demean)
    n, k = len(x), len(frames)
    sxx = float(x @ x)
    if n == 0 or sxx <= 0:
        return PooledAR1(np.nan, np.nan, n, k)
    rho = float(x @ y) / sxx
    e = y - rho * x
    dof = n - (k if demean else 0) - 1
    se = math.sqrt(float(e @ e) / dof / sxx) if dof > 0 else np.nan
    return PooledAR1(rho, se, n, k)


def pooled_ar1_ols(panel: Mapping[str, pd.Series | pd.DataFrame], asof=None, *,
                   through: str = "price", quote: str = "Price", demean: bool = False):
    """statsmodels OLS (no constant) on the stacked panel of pairs (:func:`deviation_pairs`),
    each instrument demeaned on its own pairs: regressand ``x + (z − z̄_i)`` on ``x``
    (default), or ``y − ȳ_i`` on ``x − x̄_i`` (``demean=True``). The statsmodels estimate
    :func:`pooled_ar1` reproduces (same slope; with ``demean=True`` statsmodels' standard
    error uses ``n − 1`` degrees of freedom, not ``n − members − 1``). Rows indexed by
    (code, date). ValueError when no instrument has two pairs by ``asof``."""
    from statsmodels.regression.linear_model import OLS

    _check_through(through)
    frames = _pair_frames(panel, asof, through, quote)
    if not frames:
        raise ValueError(f"panel: no instrument has two pairs of consecutive months by {asof}")
    x, y = _stack(frames, demean)
    index = pd.MultiIndex.from_tuples([(c, d) for c, pr in frames.items() for d in pr.index],
                                      names=["code", "date"])
    return OLS(pd.Series(y, index=index, name="next"),
               pd.DataFrame({"deviation": x}, index=index)).fit()


# --------------------------------------------------------------------------- walk-forward

def _cumsums(pr: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(known dates as int64, cumulative sums with a leading zero row: n, Σx, Σy, Σx², Σxy,
    Σy²)."""
    x, y = pr["x"].to_numpy(), pr["y"].to_numpy()
    m = np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y])
    return pr.index.asi8, np.vstack([np.zeros((1, 6)), np.cumsum(m, axis=0)])


def _normal(s: np.ndarray, demean: bool) -> np.ndarray:
    """[n, Sxx, Sxy, Syy] of the slope's normal equation (see :func:`_stack`) from rows of
    raw sums [n, Σx, Σy, Σx², Σxy, Σy²]."""
    n = s[:, 0]
    inv = np.divide(1.0, n, out=np.zeros_like(n), where=n > 0)
    if demean:
        sxx = s[:, 3] - s[:, 1] ** 2 * inv
        sxy = s[:, 4] - s[:, 1] * s[:, 2] * inv
    else:
        sxx = s[:, 3]
        sxy = s[:, 4] - s[:, 1] * (s[:, 2] - s[:, 1]) * inv
    syy = s[:, 5] - s[:, 2] ** 2 * inv
    return np.column_stack([n, sxx, sxy, syy])


def _slope(w: np.ndarray, min_pairs: int) -> np.ndarray:
    ok = (w[:, 0] >= min_pairs) & (w[:, 1] > 1e-300)
    return np.divide(w[:, 2], w[:, 1], out=np.full(len(w), np.nan), where=ok)


def panel_reversion(panel: Mapping[str, pd.Series | pd.DataFrame], asset_class: str, *,
                    quote: str | None = None, prior: ReversionPrior | None = None,
                    through: str = "price", demean: bool = False,
                    test_pairs: int = TEST_PAIRS, max_pvalue: float | None = None,
                    min_pairs: int = 12) -> dict[str, pd.DataFrame]:
    """Walk-forward reversion estimates of every member of one asset class (module
    docstring).

    Parameters
    ----------
    panel : instrument code → its :func:`valuation_history` DataFrame (a deviation Series
        only with ``through="deviation"``), each on the instrument's own dates.
    asset_class : ``"Equity"``, ``"Bond"``, ``"FX"`` or ``"Commodity"``: the prior.
    quote : ``"Price"`` or ``"Yield"`` (default: Yield for Bond, else Price).
    prior : defaults to ``PRIORS[asset_class]``.
    through, demean, test_pairs, max_pvalue : the estimator and the reversion test.
    min_pairs : pairs an instrument needs before its own slope (or its part of the panel)
        counts.

    Returns
    -------
    code → DataFrame on that instrument's dates with :data:`REVERSION_COLUMNS`: ``n_own`` own
    pairs known by t, ``rho_own`` (NaN under ``min_pairs``), ``df_stat`` / ``df_pvalue``
    (Dickey–Fuller of the deviation's plain AR(1), with a constant), ``n_panel`` and
    ``members`` (the other members' pairs and how many members count), ``rho_panel``,
    ``rho_prior``, ``rho_pool`` (anchor), ``weight`` (w on the own slope), ``rho`` (in
    force, per month), ``half_life`` (years) and ``passes`` (reversion test). Row t uses
    pairs known on or before t only.
    """
    if asset_class not in ASSET_CLASSES:
        raise ValueError(f"asset_class must be one of {ASSET_CLASSES}, got {asset_class!r}")
    _check_through(through)
    quote = _check_quote(quote, asset_class)
    pri = prior if prior is not None else PRIORS[asset_class]
    if not isinstance(pri, ReversionPrior):
        raise ValueError(f"prior must be a ReversionPrior, got {type(pri).__name__}")
    if max_pvalue is not None and not 0 < max_pvalue <= 1:
        raise ValueError(f"max_pvalue must be in (0, 1] or None, got {max_pvalue!r}")
    if not isinstance(panel, Mapping) or not panel:
        raise ValueError("panel must be a non-empty mapping of instrument code to its "
                         "valuation history")
    dates, sums, plain = {}, {}, {}
    for code, v in panel.items():
        d, _, _ = _parts(v, f"panel[{code!r}]", quote)
        dates[code] = d.index
        sums[code] = _cumsums(deviation_pairs(v, through=through, quote=quote))
        plain[code] = sums[code] if through == "deviation" else \
            _cumsums(deviation_pairs(v, through="deviation", quote=quote))
    rho_prior = pri.rho
    # The class total of every member's normal sums, as a step function of the date: each
    # member's sums change only when it gets a pair, so the total is the cumulative sum of
    # the members' increments in date order (members count from their min_pairs-th pair).
    # A member's leave-one-out panel is that total minus its own part: O(pairs), not O(N²).
    ev_t, ev_d = [], []
    for t_j, c_j in sums.values():
        w_j = _normal(c_j, demean)
        w_j[w_j[:, 0] < min_pairs] = 0.0
        w_j = np.column_stack([w_j, w_j[:, 0] > 0])       # the member count, last column
        ev_t.append(t_j)
        ev_d.append(np.diff(w_j, axis=0))
    ev_t = np.concatenate(ev_t)
    order = np.argsort(ev_t, kind="stable")
    ev_t = ev_t[order]
    total = np.vstack([np.zeros((1, 5)), np.cumsum(np.concatenate(ev_d)[order], axis=0)])
    out = {}
    for code, index in dates.items():
        q = index.asi8
        t_i, c_i = sums[code]
        own = _normal(c_i[np.searchsorted(t_i, q, side="right")], demean)
        rho_own = _slope(own, min_pairs)
        n_own = own[:, 0]
        # Dickey–Fuller t of (ρ − 1) in the deviation's plain AR(1) with a constant
        t_p, c_p = plain[code]
        fe = _normal(c_p[np.searchsorted(t_p, q, side="right")], True)
        r_fe = _slope(fe, min_pairs)
        with np.errstate(invalid="ignore", divide="ignore"):
            s2 = (fe[:, 3] - r_fe * fe[:, 2]) / (fe[:, 0] - 2)
            df_stat = (r_fe - 1.0) / np.sqrt(s2 / fe[:, 1])
        df_p = np.array([mackinnon_pvalue(float(s), "c", 1) if np.isfinite(s) else np.nan
                         for s in df_stat])
        mine = np.column_stack([own, own[:, 0] >= min_pairs])
        mine[mine[:, 4] == 0] = 0.0
        agg = total[np.searchsorted(ev_t, q, side="right")] - mine
        members = np.rint(agg[:, 4]).astype(int)
        agg = agg[:, :4]
        agg[members == 0] = 0.0      # no other member: exactly nothing, not rounding residue
        rho_panel = _slope(agg, 1)
        n_panel = np.where(np.isfinite(rho_panel), agg[:, 0], 0.0)
        pool = (n_panel * np.nan_to_num(rho_panel) + pri.pool_months * rho_prior) \
            / (n_panel + pri.pool_months)
        w = np.where(np.isfinite(rho_own), n_own / (n_own + pri.own_months), 0.0)
        rho = np.clip(w * np.nan_to_num(rho_own) + (1.0 - w) * pool, 0.0, RHO_MAX)
        tested = n_own >= test_pairs
        fails = tested & (rho_own >= 1.0)
        if max_pvalue is not None:
            fails |= tested & (df_p > max_pvalue)
        out[code] = pd.DataFrame({
            "n_own": n_own.astype(int), "rho_own": rho_own, "df_stat": df_stat,
            "df_pvalue": df_p, "n_panel": n_panel.astype(int), "members": members,
            "rho_panel": rho_panel, "rho_prior": rho_prior, "rho_pool": pool, "weight": w,
            "rho": rho, "half_life": half_life_years(rho),
            "passes": ~fails & (rho < RHO_MAX)}, index=index)
    return out


def reversion_history(valuation: pd.Series | pd.DataFrame, asset_class: str, *,
                      quote: str | None = None, prior: ReversionPrior | None = None,
                      through: str = "price", demean: bool = False,
                      test_pairs: int = TEST_PAIRS, max_pvalue: float | None = None,
                      min_pairs: int = 12) -> pd.DataFrame:
    """:func:`panel_reversion` of one instrument alone (an Excel call): its own slope shrunk
    toward the asset class's literature prior. Same columns, on the instrument's dates."""
    return panel_reversion({"_": valuation}, asset_class, quote=quote, prior=prior,
                           through=through, demean=demean, test_pairs=test_pairs,
                           max_pvalue=max_pvalue, min_pairs=min_pairs)["_"]


def reversion_by_class(valuations: Mapping[str, pd.DataFrame],
                       asset_classes: Mapping[str, str], quotes: Mapping[str, str] | None = None,
                       **options) -> dict[str, pd.DataFrame]:
    """:func:`panel_reversion` of many instruments at once, each pooled with the others of its
    asset class quoted alike: ``valuations`` maps code → :func:`valuation_history` DataFrame,
    ``asset_classes`` code → asset class, ``quotes`` code → ``"Price"``/``"Yield"`` (default:
    Yield for Bond, else Price); ``options`` go to :func:`panel_reversion`. Returns code →
    its reversion frame. What the refresh and the skill bench call with a whole workbook or
    series set."""
    groups: dict[tuple[str, str], dict[str, pd.DataFrame]] = {}
    for code, v in valuations.items():
        if code not in asset_classes:
            raise ValueError(f"asset_classes: no asset class for {code!r}")
        ac = asset_classes[code]
        q = _check_quote(None if quotes is None else quotes.get(code), ac)
        groups.setdefault((ac, q), {})[code] = v
    out: dict[str, pd.DataFrame] = {}
    for (ac, q), panel in groups.items():
        out.update(panel_reversion(panel, ac, quote=q, **options))
    return out


def fallback_reason(row: pd.Series, max_pvalue: float | None = None) -> str | None:
    """Why the reversion test failed on one row of :func:`panel_reversion` (``None`` when it
    passed), in words for the valuation table's note."""
    if bool(row["passes"]):
        return None
    if np.isfinite(row["rho_own"]) and row["rho_own"] >= 1.0:
        return (f"its price has not reverted toward fair value over its own "
                f"{int(row['n_own'])} months (AR(1) ρ = {row['rho_own']:.4f} ≥ 1; "
                f"Dickey–Fuller p of the deviation = {row['df_pvalue']:.2f})")
    if max_pvalue is not None and np.isfinite(row["df_pvalue"]) and \
            row["df_pvalue"] > max_pvalue:
        return (f"its deviation from fair value fails the Dickey–Fuller test over "
                f"{int(row['n_own'])} months (p = {row['df_pvalue']:.2f} > {max_pvalue:g})")
    return f"no mean reversion estimated (ρ = {row['rho']:.4f})"
