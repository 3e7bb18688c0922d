"""Walk-forward track record of the composite forecast and its simple rivals (``Track Record``
sheet, forecast section): the forecast scores of :mod:`engine.models.skill` beside the figures
of a strategy that follows each model's signals.

Every forecast evaluated here was made at month t with data dated ≤ t
(:func:`engine.models.composite.forecast_history`) and is scored against the change realised
from t to t+1. All models are scored on the **same months**: those with a composite forecast
and a prevailing mean whose next change (and long return) is known. A rival without a forecast
in some of them takes the prevailing mean there (``Coverage`` says how often).

Models (one row each, same columns): ``Composite``; the rivals of
:func:`engine.models.skill.rival_forecasts` (``Historical mean``, ``Random walk``, ``AR(1)``,
``Momentum 12-1``, ``Valuation only`` and one per fundamental); ``Buy & hold``, the always-long
reference for the strategy columns (no forecast).

Forecast columns (:func:`engine.models.skill.skill_table`): ``Coverage``, ``OOS R²`` (against
the prevailing mean; > 0 beats it), ``OOS R² vs 0`` (against zero change), ``Clark-West`` (the
t-statistic against the mean; one-sided, above 1.28 = significant at 10 %), ``Equal To`` /
``Equal Share`` (the rival the forecast equals most often, and in what share of months).

Strategy columns (:func:`score`): ``Hit Rate`` — share of the months with a non-neutral position
and a move in which the position's direction was right; ``Base Rate`` — share of the same
months in which a long position's direction was right; ``PT`` — the Pesaran–Timmermann
statistic of those position signs against the outcome signs (N(0, 1) under no skill,
one-sided). Direction is scored on the **price change** for prices and on the **sign of the
yield change** for yields (a long bond position is right when the yield falls, a short when it
rises; months without a move, e.g. an unchanged T-bill yield, are left out of both rates, as
of PT), never on the bond's total return: its carry ``Y/1200`` is positive in almost every
month (a T-bill's long return was positive in 95 % of months), which would put the base rate
near 100 % and make the hit rate unreadable beside it; ``Annual Return`` (geometric, decimal; NaN
under 12 months, never annualized), ``Volatility`` (annualised, √12), ``Sharpe`` (mean × 12 / volatility,
no risk-free rate subtracted; Neutral earns 0), ``Max Drawdown`` (worst fall of the strategy's
growth from its running peak, a negative decimal) and ``Trades/Yr`` (position changes per year,
the entry from flat at the start counted).

The strategy holds ``position`` (1/0/−1, from the forecast and the neutral band) from t to t+1.
Returns of a long position: the price change for prices (FX: the base currency's spot change,
no interest differential; commodities: spot, no roll); for yields an approximate bond return,
carry ``Y/1200`` minus the modified duration of a par bond of the instrument's maturity (10 years
if blank) times the yield change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.inputs.sampling import after_previous_month
from engine.models.signals import positions
from engine.models.skill import EQUAL_LIMIT, SkillSample, pesaran_timmermann, skill_table

__all__ = ["METRICS", "STRATEGY", "long_returns", "par_bond_duration", "score",
           "track_record", "verdict", "CW_10PCT", "EQUAL_LIMIT"]

STRATEGY = ("Hit Rate", "Base Rate", "PT", "Annual Return", "Volatility", "Sharpe",
            "Max Drawdown", "Trades/Yr")
METRICS = ("Start", "End", "Months", "Coverage", "OOS R²", "OOS R² vs 0", "Clark-West",
           "Equal To", "Equal Share", *STRATEGY)
CW_10PCT = 1.2816  # one-sided 10 % critical value of N(0, 1)
DEFAULT_MATURITY = 10.0


def par_bond_duration(yield_pct: np.ndarray | float, maturity: float) -> np.ndarray:
    """Modified duration (years) of a semi-annual par bond: ``(1 − (1 + y/2)^(−2M)) / y`` with
    ``y`` the yield as a decimal (input in percent); ``M`` for y → 0."""
    if not maturity or maturity <= 0:
        raise ValueError(f"maturity must be > 0 years, got {maturity!r}")
    y = np.asarray(yield_pct, dtype=float) / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (1.0 - (1.0 + y / 2.0) ** (-2.0 * maturity)) / y
    return np.where(np.abs(y) < 1e-9, maturity, d)


def long_returns(history: pd.DataFrame, quote: str = "Price",
                 maturity: float | None = None) -> pd.Series:
    """Return (decimal) of a long position held from t to t+1, aligned at t (NaN in the last
    row, and before a missing month: no one-month return exists there). Prices:
    ``P[t+1]/P[t] − 1``; yields: ``Y/1200 − D(Y, M) × ΔY/100`` (see module)."""
    p = history["price"].astype(float)
    one_month = pd.Series(after_previous_month(p.index), index=p.index).shift(-1,
                                                                              fill_value=False)
    if quote == "Price":
        return (p.shift(-1) / p - 1.0).where(one_month)
    if quote != "Yield":
        raise ValueError(f"quote must be 'Price' or 'Yield', got {quote!r}")
    m = DEFAULT_MATURITY if maturity is None or not np.isfinite(maturity) else float(maturity)
    d = par_bond_duration(p.to_numpy(), m)
    return pd.Series(p.to_numpy() / 1200.0 - d * (p.shift(-1) - p).to_numpy() / 100.0,
                     index=p.index).where(one_month)


def _max_drawdown(r: np.ndarray) -> float:
    w = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    return float(np.min(w / np.maximum.accumulate(w) - 1.0))


def score(pos: np.ndarray, ret_next: np.ndarray,
          direction: np.ndarray | None = None) -> dict[str, float]:
    """Strategy metrics (:data:`STRATEGY`, module docstring) of holding ``pos`` (1/0/−1 per
    month of the sample) with the long-position returns ``ret_next`` (decimal).

    ``direction``: the outcome whose sign a long position bets on, for the hit rate, base
    rate and PT (default ``ret_next``: prices); for yields pass minus the next yield change
    (percentage points), so that direction is scored without the carry."""
    n = len(ret_next)
    out: dict[str, float] = {}
    strat = pos * ret_next
    way = ret_next if direction is None else np.asarray(direction, dtype=float)
    # months with a position and a move: an unchanged yield (or price) has no direction,
    # as in the PT statistic
    active = (pos != 0) & (way != 0)
    out["Hit Rate"] = float((pos[active] * way[active] > 0).mean()) if active.any() else np.nan
    # the same months as the hit rate, so the two shares are comparable
    out["Base Rate"] = float((way[active] > 0).mean()) if active.any() else np.nan
    out["PT"] = pesaran_timmermann(pos, way)[1]
    if n:
        growth = float(np.prod(1.0 + strat))
        # a strategy that lost everything (a short through a >100 % rise) stays at -100 %;
        # under 12 months a return is never annualized (DESIGN): no annual figure then
        out["Annual Return"] = (np.nan if n < 12 else
                                growth ** (12.0 / n) - 1.0 if growth > 0 else -1.0)
        vol = strat.std(ddof=1) * np.sqrt(12.0) if n > 1 else np.nan
        out["Volatility"] = float(vol)
        out["Sharpe"] = float(strat.mean() * 12.0 / vol) if vol and vol > 1e-15 else np.nan
        out["Max Drawdown"] = _max_drawdown(strat)
        changes = np.count_nonzero(np.diff(np.concatenate([[0.0], pos])))
        out["Trades/Yr"] = changes * 12.0 / n
    else:
        for k in ("Annual Return", "Volatility", "Sharpe", "Max Drawdown", "Trades/Yr"):
            out[k] = np.nan
    return out


def track_record(history: pd.DataFrame, rivals: pd.DataFrame, *, quote: str = "Price",
                 band: float = 0.0, maturity: float | None = None,
                 start: object | None = None) -> pd.DataFrame:
    """Side-by-side walk-forward track record of the composite and its rivals for one
    instrument: one row per model (``Composite``, each column of ``rivals``, ``Buy & hold``),
    columns ``Model`` + :data:`METRICS`.

    ``history``: :func:`engine.models.composite.forecast_history` output. ``rivals``:
    :func:`engine.models.skill.rival_forecasts` on the same index (it must hold ``Historical
    mean``). ``band``: neutral band (forecast unit) turning every model's forecast into
    positions. ``start``: optional earliest evaluation date. An instrument without enough
    history gives ``Months`` = 0 and NaN figures.
    """
    y_next = history["change"].shift(-1)
    ret = long_returns(history, quote, maturity)
    mean = history["mean"]
    ok = history["forecast"].notna() & mean.notna() & y_next.notna() & ret.notna()
    if start is not None:
        ok &= history.index >= pd.Timestamp(start)
    s = ok[ok].index
    fc = pd.concat([history[["forecast"]].rename(columns={"forecast": "Composite"}),
                    rivals.reindex(history.index)], axis=1)
    sample = SkillSample(s, y_next.loc[s].to_numpy(float), mean.loc[s].to_numpy(float))
    skill = skill_table(fc, sample).set_index("Model")
    r = ret.loc[s].to_numpy(float)
    # direction for yields: the sign of the yield change (a fall is a long's gain), no carry
    way = -y_next.loc[s].to_numpy(float) if quote == "Yield" else None
    rows = []
    for model in [*fc.columns, "Buy & hold"]:
        if model == "Buy & hold":
            pos = np.ones(len(s))
            m = {k: np.nan for k in skill.columns}
            m["Months"] = len(s)
        else:
            f = fc.loc[s, model].to_numpy(dtype=float)
            f = np.where(np.isfinite(f), f, sample.mean)   # the rival's natural fallback
            pos = positions(pd.Series(f), band, quote).to_numpy()
            pos = np.where(np.isnan(pos), 0.0, pos)
            m = skill.loc[model].to_dict()
        m.update(score(pos, r, way))
        m["Model"] = model
        m["Start"] = s[0] if len(s) else pd.NaT
        m["End"] = s[-1] if len(s) else pd.NaT
        rows.append(m)
    out = pd.DataFrame(rows)[["Model", *METRICS]]
    out["Months"] = out["Months"].astype(int)
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%" if np.isfinite(x) else "n/a"


def _equal_reason(history: pd.DataFrame | None, start, end) -> str:
    """Why the composite equals a rival in many months (from its own history): the floor at
    zero (equities) and the months in which no component departed from the anchor."""
    if history is None or not {"forecast", "anchor"} <= set(history.columns):
        return ""
    h = history.loc[start:end]
    f, a = h["forecast"], h["anchor"]
    n = len(h)
    floor = int(((f == 0.0) & (a != 0.0)).sum())
    flat = int((f == a).sum())
    parts = []
    if floor:
        parts.append(f"in {floor / n:.0%} of months the floor at zero (a negative expected "
                     "equity return is not credible)")
    if flat:
        parts.append(f"in {flat / n:.0%} no component departed from the anchor (sign "
                     "restrictions or too short a history)")
    return " — " + " and ".join(parts) if parts else ""


def verdict(code: str, table: pd.DataFrame, history: pd.DataFrame | None = None) -> str:
    """One plain-words line saying whether the composite adds anything over its rivals, from a
    :func:`track_record` table; with the composite's ``history``, also why it equals a rival
    in more than :data:`EQUAL_LIMIT` of the months."""
    t = table.set_index("Model")
    if t.loc["Composite", "Months"] == 0:
        return f"{code}: not enough history for an out-of-sample track record yet."
    r2, cw = t.loc["Composite", "OOS R²"], t.loc["Composite", "Clark-West"]
    others = [m for m in t.index if m not in ("Composite", "Historical mean", "Buy & hold")]
    rivals = t.loc[others, "OOS R²"].dropna()
    best = rivals.idxmax() if len(rivals) else None
    sh, sh_bh = t.loc["Composite", "Sharpe"], t.loc["Buy & hold", "Sharpe"]
    n = int(t.loc["Composite", "Months"])
    parts = []
    if not np.isfinite(r2) or r2 <= 0:
        parts.append(f"the composite does not beat the historical mean out of sample "
                     f"(R² {_pct(r2)} over {n} months)")
    elif not np.isfinite(cw) or cw < CW_10PCT:
        parts.append(f"the composite beats the historical mean slightly (R² {_pct(r2)}) but "
                     f"not significantly (Clark-West {cw:.2f} < 1.28)")
    else:
        parts.append(f"the composite beats the historical mean (R² {_pct(r2)}, Clark-West "
                     f"{cw:.2f}, significant at 10%)")
    if best is not None and rivals[best] > (r2 if np.isfinite(r2) else -np.inf):
        parts.append(f"the {best} rival forecasts better (R² {_pct(rivals[best])})")
    share = t.loc["Composite"].get("Equal Share", np.nan)
    if isinstance(share, float) and np.isfinite(share) and share > EQUAL_LIMIT:
        parts.append(f"it equals the {t.loc['Composite', 'Equal To']} forecast in {share:.0%} "
                     "of months" + _equal_reason(history, t.loc["Composite", "Start"],
                                                  t.loc["Composite", "End"]))
    if np.isfinite(sh_bh) and (not np.isfinite(sh) or sh < sh_bh):
        parts.append(f"its signals earned a lower Sharpe ratio than buy-and-hold "
                     f"({sh:.2f} vs {sh_bh:.2f})" if np.isfinite(sh) else
                     "its signals never took a position")
    return f"{code}: " + "; ".join(parts) + "."
