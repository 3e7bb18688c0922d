"""Walk-forward track record of the composite forecast and its simple rivals (``Track Record``
sheet, forecast section; issue #4 item 5).

Every forecast evaluated here was made at month t with data dated ≤ t
(:func:`engine.models.composite.forecast_history`) and is scored against the change realised
from t to t+1. All models are scored on the **same months**: from the first month in which the
composite and every available rival have a forecast (the *start*: about ``60 + 36`` months after
the first price, the valuation σ needing 60 months and the regression 36 training pairs) to the
last month whose next change is known.

Models (one row each, same columns):

* ``Composite`` — the composite forecast;
* ``Random walk`` — zero change;
* ``Historical mean`` — the prevailing mean of past monthly changes (the benchmark of R² and
  Clark–West);
* ``Momentum 12-1`` — walk-forward least squares of the next change on the sign of 12-1 momentum;
* ``Valuation only`` — walk-forward least squares of the next change on valuation σ;
* ``Buy & hold`` — the always-long reference for the strategy columns (no forecast).

Columns: ``Months``; ``OOS R²`` = 1 − Σ(y−f)² / Σ(y−m)² (m = prevailing mean; > 0 beats it);
``Clark-West`` — the t-statistic of the Clark–West (2007) adjusted MSFE difference against the
prevailing mean (one-sided; above 1.28 = significant at 10 %, 1.645 at 5 %); ``Hit Rate`` — share
of the months with a non-neutral position in which the position gained; ``Base Rate`` — share of
the same months in which a long position gained (what always long would have hit there); the signal strategy's
``Annual Return`` (geometric, decimal; NaN under 12 months, never annualized), ``Volatility`` (annualised, √12), ``Sharpe`` (mean × 12 /
volatility, no risk-free rate subtracted; Neutral earns 0), ``Max Drawdown`` (worst fall of the
strategy's growth from its running peak, a negative decimal) and ``Trades/Yr`` (position changes
per year, the entry from flat at the start counted).

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
from engine.models.composite import MIN_TRAIN
from engine.models.walk_forward import walk_forward_ols
from engine.models.signals import positions

__all__ = ["MODELS", "METRICS", "rival_forecasts", "long_returns", "par_bond_duration",
           "score", "track_record", "verdict", "CW_10PCT"]

MODELS = ("Composite", "Random walk", "Historical mean", "Momentum 12-1", "Valuation only",
          "Buy & hold")
METRICS = ("Start", "End", "Months", "OOS R²", "Clark-West", "Hit Rate", "Base Rate",
           "Annual Return", "Volatility", "Sharpe", "Max Drawdown", "Trades/Yr")
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


def rival_forecasts(history: pd.DataFrame, *, min_train: int = MIN_TRAIN) -> pd.DataFrame:
    """Forecasts of every model (columns = :data:`MODELS` without ``Buy & hold``), aligned with
    ``history`` (the output of ``forecast_history``), in the forecast's unit. Each rival's row t
    uses data dated ≤ t only."""
    y_next = history["change"].shift(-1).to_numpy()
    idx = history.index
    one = np.ones(len(idx))
    mom_sign = np.sign(history["momentum"].to_numpy())
    mom = walk_forward_ols(np.column_stack([one, mom_sign]), y_next, min_train=min_train)
    sig = history["sigma"].to_numpy(dtype=float)
    val = walk_forward_ols(np.column_stack([one, sig]), y_next, min_train=min_train) \
        if np.isfinite(sig).any() else np.full(len(idx), np.nan)
    return pd.DataFrame({
        "Composite": history["forecast"].to_numpy(dtype=float),
        "Random walk": np.where(history["mean"].notna(), 0.0, np.nan),
        "Historical mean": history["mean"].to_numpy(dtype=float),
        "Momentum 12-1": mom,
        "Valuation only": val,
    }, index=idx)


def _max_drawdown(r: np.ndarray) -> float:
    w = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    return float(np.min(w / np.maximum.accumulate(w) - 1.0))


def score(forecast: np.ndarray, y_next: np.ndarray, mean: np.ndarray, pos: np.ndarray,
          ret_next: np.ndarray) -> dict[str, float]:
    """Metrics of one model on aligned arrays (one element per month of the evaluation sample):
    ``forecast`` (NaN = no forecast, e.g. Buy & hold), realised ``y_next``, prevailing ``mean``,
    ``pos`` (1/0/−1 held over the month) and ``ret_next`` (long-position return). See the module
    docstring for the definitions."""
    n = len(y_next)
    out: dict[str, float] = {"Months": n}
    f = np.asarray(forecast, dtype=float)
    if n and np.isfinite(f).all():
        e_m = (y_next - mean) ** 2
        e_f = (y_next - f) ** 2
        den = e_m.sum()
        out["OOS R²"] = 1.0 - e_f.sum() / den if den > 0 else np.nan
        adj = e_m - (e_f - (mean - f) ** 2)
        sd = adj.std(ddof=1) if n > 1 else np.nan
        out["Clark-West"] = adj.mean() / (sd / np.sqrt(n)) if sd and sd > 1e-15 else np.nan
    else:
        out["OOS R²"] = out["Clark-West"] = np.nan
    strat = pos * ret_next
    active = pos != 0
    out["Hit Rate"] = float((strat[active] > 0).mean()) if active.any() else np.nan
    # the same months as the hit rate, so the two shares are comparable
    out["Base Rate"] = float((ret_next[active] > 0).mean()) if active.any() else np.nan
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


def track_record(history: pd.DataFrame, *, quote: str = "Price", band: float = 0.0,
                 maturity: float | None = None, start: object | None = None,
                 min_train: int = MIN_TRAIN) -> pd.DataFrame:
    """Side-by-side walk-forward track record of the composite and its rivals for one
    instrument: one row per :data:`MODELS` entry, columns ``Model`` + :data:`METRICS`.

    ``history``: :func:`engine.models.composite.forecast_history` output. ``band``: neutral band
    (forecast unit) turning every model's forecast into positions. ``start``: optional earliest
    evaluation date (later than the automatic start only). An instrument without enough history
    gives ``Months`` = 0 and NaN figures.
    """
    fc = rival_forecasts(history, min_train=min_train)
    y_next = history["change"].shift(-1)
    ret = long_returns(history, quote, maturity)
    need = ["Composite", "Historical mean", "Momentum 12-1"]
    if fc["Valuation only"].notna().any():
        need.append("Valuation only")
    ok = fc[need].notna().all(axis=1) & y_next.notna() & ret.notna()
    if start is not None:
        ok &= history.index >= pd.Timestamp(start)
    s = ok[ok].index
    rows = []
    for model in MODELS:
        if model == "Buy & hold":
            f = np.full(len(s), np.nan)
            pos = np.ones(len(s))
        else:
            f = fc.loc[s, model].to_numpy(dtype=float)
            pos = positions(pd.Series(f), band, quote).to_numpy()
            pos = np.where(np.isnan(pos), 0.0, pos)
        m = score(f, y_next.loc[s].to_numpy(float), history.loc[s, "mean"].to_numpy(float),
                  pos, ret.loc[s].to_numpy(float))
        m["Model"] = model
        m["Start"] = s[0] if len(s) else pd.NaT
        m["End"] = s[-1] if len(s) else pd.NaT
        rows.append(m)
    out = pd.DataFrame(rows)[["Model", *METRICS]]
    out["Months"] = out["Months"].astype(int)
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%" if np.isfinite(x) else "n/a"


def verdict(code: str, table: pd.DataFrame) -> str:
    """One plain-words line saying whether the composite adds anything over its rivals, from a
    :func:`track_record` table."""
    t = table.set_index("Model")
    if t.loc["Composite", "Months"] == 0:
        return f"{code}: not enough history for an out-of-sample track record yet."
    r2, cw = t.loc["Composite", "OOS R²"], t.loc["Composite", "Clark-West"]
    rivals = t.loc[["Random walk", "Momentum 12-1", "Valuation only"], "OOS R²"].dropna()
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
    if np.isfinite(sh_bh) and (not np.isfinite(sh) or sh < sh_bh):
        parts.append(f"its signals earned a lower Sharpe ratio than buy-and-hold "
                     f"({sh:.2f} vs {sh_bh:.2f})" if np.isfinite(sh) else
                     "its signals never took a position")
    return f"{code}: " + "; ".join(parts) + "."
