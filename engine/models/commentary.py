"""What moved the forecasts this month, in sentences generated from the numbers (the seed's
"detailed explanation of the factors that are driving the Model signals").

Two steps, both pure:

1. :func:`forecast_drivers` splits each month's composite forecast
   (:class:`~engine.models.composite.CompositeForecast`) into the contributions of its parts,
   which add up to the forecast exactly: the ``Anchor``; ``Valuation``, ``Momentum``,
   ``AR(1)``, ``Phase`` and ``Fundamentals`` (all fundamental components together), each
   ``(component − anchor) / N`` over the N components the composite averages (a component
   without a forecast yet counts as the anchor, so contributes 0); and ``Floor``, what the
   zero floor on equity forecasts added. The change of the forecast from last month to this
   month is then the sum of the changes of these contributions.
2. :func:`instrument_comments` and :func:`class_summary` turn one row of figures per
   instrument (a mapping with the columns of :data:`ROW_COLUMNS`: this month and last month
   of the forecast, of each contribution, of σ, of the phase, of the last change and 12-1
   momentum, and of the position) into
   :class:`Comment` records. Every number in a sentence is a value of that row, printed with
   the precision of :func:`unit_of` — so a sentence can always be checked against the table
   the row is written to — and the same row always gives the same words.

Units: a price instrument's forecast and contributions are decimal returns (0.0073, printed
``+0.73%``; their changes in percentage points, ``pp``); a yield instrument's are yield
changes in percentage points (printed with three decimals, ``−0.092 pp``). σ as in the
valuation tables (for prices + = rich; for yields + = yield above fair yield, the bond cheap).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.models.composite import CompositeForecast
from engine.models.regimes import EXTREME_SIGMA
from engine.models.signals import POSITION_WORDS

__all__ = ["DRIVERS", "ROW_COLUMNS", "Comment", "forecast_drivers", "instrument_comments",
           "class_summary", "unit_of", "TRADE_WORDS"]

# the parts of a composite forecast, in the order they are listed on ties
DRIVERS = ("Anchor", "Valuation", "Momentum", "AR(1)", "Phase", "Fundamentals", "Floor")
_NAMED = ("Valuation", "Momentum", "AR(1)", "Phase")  # every other component is a fundamental
_WORDS = {"Anchor": "the anchor (prevailing mean or sum-of-parts return)",
          "Valuation": "valuation", "Momentum": "momentum", "AR(1)": "the last change (AR(1))",
          "Phase": "the market phase (high-volatility probability)",
          "Fundamentals": "the fundamentals", "Floor": "the zero floor on equity forecasts"}
TRADE_WORDS = {"B": "buy (Neutral to Long)", "S": "sell short (Neutral to Short)",
               "CL": "close the long (Long to Neutral)",
               "CS": "cover the short (Short to Neutral)",
               "CL&S": "close the long and sell short (Long to Short)",
               "CS&B": "cover the short and buy (Short to Long)"}

# One row of figures per instrument: what the sentences read (the tables layer writes them).
ROW_COLUMNS = ("Code", "Name", "Asset Class", "Quote", "Last Month", "This Month", "Change",
               *(f"Δ {d}" for d in DRIVERS), "Previous Forecast", "Previous σ",
               "Valuation (σ)", "Previous Phase", "Phase", "Previous High-Vol Prob.",
               "High-Vol Prob.", "Previous Last Change", "Last Change",
               "Previous 12-1 Momentum", "12-1 Momentum", "Previous Position", "Position",
               "Trade")


@dataclass(frozen=True)
class Comment:
    """One generated sentence: ``code`` (an instrument, or the asset class for its summary),
    ``asset_class``, ``topic`` (``Summary``, ``Forecast``, ``Valuation``, ``Phase``,
    ``Trade``) and the ``sentence``."""

    code: str
    asset_class: str
    topic: str
    sentence: str


def forecast_drivers(composite: CompositeForecast) -> pd.DataFrame:
    """The contribution of each part to the composite forecast, per month (module docstring,
    step 1): columns :data:`DRIVERS`, in the forecast's unit (decimal return; pp for yields);
    each row sums to the ``forecast`` column of ``composite.history`` (NaN rows where there is
    no forecast)."""
    h, comps = composite.history, composite.components
    anchor = h["anchor"].astype(float)
    n = max(comps.shape[1], 1)
    dev = comps.sub(anchor, axis=0).div(n).fillna(0.0)
    out = pd.DataFrame(index=h.index)
    out["Anchor"] = anchor
    for name in _NAMED:
        out[name] = dev[name] if name in dev else 0.0
    fund = [c for c in dev.columns if c not in _NAMED]
    out["Fundamentals"] = dev[fund].sum(axis=1) if fund else 0.0
    parts = out.sum(axis=1)
    floor = h["forecast"].astype(float) - parts
    # only an equity's floor makes a difference; below that it is float rounding of the mean
    out["Floor"] = floor.where(floor.abs() > 1e-12, 0.0)
    out[h["forecast"].isna()] = np.nan
    return out[list(DRIVERS)]


def unit_of(quote: str) -> tuple[float, int, int, str]:
    """How the figures of an instrument quoted ``quote`` are printed: (scale, decimals of a
    level, decimals of a change, suffix of a level) — prices as percent with 2 decimals and
    their changes in percentage points (``pp``) with 3 (monthly return forecasts are small);
    yields in percentage points with 3 decimals for both."""
    return (1.0, 3, 3, " pp") if quote == "Yield" else (100.0, 2, 3, "%")


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _round(x: float, quote: str, change: bool = False) -> float:
    scale, dec, cdec, _ = unit_of(quote)
    return round(x * scale, cdec if change else dec) + 0.0  # + 0.0: no "-0.000"


def _fmt(x: float, quote: str, change: bool = False) -> str:
    _, dec, cdec, level = unit_of(quote)
    return f"{_round(x, quote, change):+.{cdec if change else dec}f}" + (
        " pp" if change else level)


def _shown(x: float, quote: str) -> bool:
    """Whether the change ``x`` is non-zero at the printed precision."""
    return math.isfinite(x) and _round(x, quote, True) != 0


def _sigma_words(sigma: float, quote: str) -> str:
    if quote == "Yield":
        return "yield above fair yield: the bond cheap" if sigma > 0 else \
            "yield below fair yield: the bond rich"
    return "above fair value: rich" if sigma > 0 else "below fair value: cheap"


def _input_moved(driver: str, row: Mapping, quote: str) -> str:
    """What moved a part's input, last month to this month, in words (``""`` when the part
    has no single input or a figure is missing): σ for valuation, the high-volatility
    probability for the phase, the last monthly change for AR(1), 12-1 momentum (log, for
    prices; the yield change in pp, for yields) for momentum."""
    cols = {"Valuation": ("Previous σ", "Valuation (σ)"),
            "Phase": ("Previous High-Vol Prob.", "High-Vol Prob."),
            "AR(1)": ("Previous Last Change", "Last Change"),
            "Momentum": ("Previous 12-1 Momentum", "12-1 Momentum")}.get(driver)
    if cols is None:
        return ""
    a, b = (_num(row.get(c)) for c in cols)
    if not (math.isfinite(a) and math.isfinite(b)):
        return ""
    if driver == "Valuation":
        return f" (σ from {a:+.2f} to {b:+.2f})"
    if driver == "Phase":
        return f" (high-volatility probability from {a:.1%} to {b:.1%})"
    if driver == "AR(1)":
        return f" (monthly change {_fmt(b, quote)}, was {_fmt(a, quote)})"
    if quote == "Yield":
        return f" (12-1 yield change from {a:+.2f} to {b:+.2f} pp)"
    return f" (12-1 momentum, log, from {a:+.1%} to {b:+.1%})"


def instrument_comments(row: Mapping) -> list[Comment]:
    """The sentences for one instrument from its row of figures (columns
    :data:`ROW_COLUMNS`; module docstring): the forecast's change and the contributions that
    moved it most (up to three, largest change first), an extreme valuation (|σ| ≥ 1.75, or
    one that ended this month), a change of market phase, and this month's trade."""
    code, ac, quote = str(row["Code"]), str(row["Asset Class"]), str(row["Quote"])
    name = str(row.get("Name") or code)
    now, before, change = (_num(row["This Month"]), _num(row["Last Month"]),
                           _num(row["Change"]))
    out: list[Comment] = []
    fc_name = "1-month yield forecast" if quote == "Yield" else "1-month forecast"
    if not math.isfinite(now):
        return [Comment(code, ac, "Forecast", f"{name} ({code}): no forecast this month.")]
    if not math.isfinite(before):
        out.append(Comment(code, ac, "Forecast", f"{name} ({code}): the {fc_name} is "
                           f"{_fmt(now, quote)}; there is no forecast last month to compare."))
    else:
        if _round(now, quote) != _round(before, quote):
            verb = "rose" if change > 0 else "fell"
            text = (f"{name} ({code}): the {fc_name} {verb} from {_fmt(before, quote)} to "
                    f"{_fmt(now, quote)} ({_fmt(change, quote, True)})")
        elif _shown(change, quote):
            text = (f"{name} ({code}): the {fc_name} was little changed at "
                    f"{_fmt(now, quote)} ({_fmt(change, quote, True)})")
        else:
            text = f"{name} ({code}): the {fc_name} was unchanged at {_fmt(now, quote)}"
        moved = [(d, _num(row[f"Δ {d}"])) for d in DRIVERS]
        moved = [(d, v) for d, v in moved if _shown(v, quote)]
        moved.sort(key=lambda dv: -abs(_round(dv[1], quote, True)))  # stable: ties by DRIVERS
        if moved:
            parts = [f"{_WORDS[d]} {_fmt(v, quote, True)}{_input_moved(d, row, quote)}"
                     for d, v in moved[:3]]
            text += "; moved " + ("most " if len(moved) > 1 else "") + "by " + (
                ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
            if len(moved) > 3:
                text += f" (and {len(moved) - 3} smaller)"
        elif _shown(change, quote):
            text += "; no single part moved by a printed amount"
        recorded = _num(row.get("Previous Forecast"))
        if math.isfinite(recorded) and _round(recorded, quote) != _round(before, quote):
            text += (f". Last month's recorded forecast was {_fmt(recorded, quote)}; the "
                     f"comparison is with the forecast re-made on this month's data")
        out.append(Comment(code, ac, "Forecast", text + "."))
    sig, psig = _num(row["Valuation (σ)"]), _num(row["Previous σ"])
    if math.isfinite(sig) and abs(sig) >= EXTREME_SIGMA:
        new = math.isfinite(psig) and abs(psig) < EXTREME_SIGMA
        was = f", was {psig:+.2f}" if math.isfinite(psig) else ""
        out.append(Comment(code, ac, "Valuation", (
            f"{code} {'reached' if new else 'is at'} an extreme valuation: σ {sig:+.2f}{was} "
            f"({_sigma_words(sig, quote)}; extreme: |σ| ≥ {EXTREME_SIGMA:g}).")))
    elif math.isfinite(sig) and math.isfinite(psig) and abs(psig) >= EXTREME_SIGMA:
        out.append(Comment(code, ac, "Valuation", (
            f"{code} left its extreme valuation: σ {sig:+.2f}, was {psig:+.2f} "
            f"(extreme: |σ| ≥ {EXTREME_SIGMA:g}).")))
    ph, pph = str(row.get("Phase") or ""), str(row.get("Previous Phase") or "")
    if ph and pph and ph != pph:
        prob, pprob = _num(row["High-Vol Prob."]), _num(row["Previous High-Vol Prob."])
        extra = (f" (high-volatility probability {prob:.1%}, was {pprob:.1%}; σ {sig:+.2f}, "
                 f"was {psig:+.2f})" if all(map(math.isfinite, (prob, pprob, sig, psig)))
                 else "")
        out.append(Comment(code, ac, "Phase",
                           f"{code}: the market phase changed from {pph} to {ph}{extra}."))
    trade = str(row.get("Trade") or "")
    if trade:
        pos = row.get("Position")
        word = pos if isinstance(pos, str) else (
            POSITION_WORDS.get(int(pos), "") if math.isfinite(_num(pos)) else "")
        out.append(Comment(code, ac, "Trade", (
            f"{code}: trade {trade}, {TRADE_WORDS.get(trade, trade)}; the position is now "
            f"{word} on a {fc_name} of {_fmt(now, quote)}.")))
    return out


def class_summary(asset_class: str, rows: Sequence[Mapping]) -> Comment:
    """One sentence for an asset class from its instruments' rows: how many forecasts rose,
    fell or held, the trades, the extreme valuations and the phase changes."""
    up, down, same, none = [], [], [], []
    trades, extreme, phase = [], [], []
    for r in rows:
        code, quote = str(r["Code"]), str(r["Quote"])
        ch, now = _num(r["Change"]), _num(r["This Month"])
        if not math.isfinite(now) or not math.isfinite(ch):
            none.append(code)
        elif not _shown(ch, quote):
            same.append(code)
        else:
            (up if ch > 0 else down).append(code)
        if r.get("Trade"):
            trades.append(f"{code} {r['Trade']}")
        sig = _num(r.get("Valuation (σ)"))
        if math.isfinite(sig) and abs(sig) >= EXTREME_SIGMA:
            extreme.append(code)
        if r.get("Phase") and r.get("Previous Phase") and r["Phase"] != r["Previous Phase"]:
            phase.append(code)
    n = len(rows)
    moves = [f"{label} for {len(c)} ({', '.join(c)})" for label, c in
             (("rose", up), ("fell", down), ("held", same), ("no comparison", none)) if c]
    what = "yield forecasts" if rows and all(r["Quote"] == "Yield" for r in rows) else \
        "forecasts"
    text = (f"{asset_class}: of {n} instrument{'s' if n != 1 else ''}, {what} "
            + "; ".join(moves) + ". ")
    text += (f"Trades: {', '.join(trades)}. " if trades else "No trades. ")
    text += (f"Extreme valuations (|σ| ≥ {EXTREME_SIGMA:g}): {', '.join(extreme)}. "
             if extreme else "No extreme valuation. ")
    text += (f"Phase changes: {', '.join(phase)}." if phase else "No phase change.")
    return Comment(asset_class, asset_class, "Summary", text)
