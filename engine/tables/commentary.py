"""``Commentary`` sheet: what moved the forecasts this month (:mod:`engine.models.commentary`).

Tables: ``Commentary`` (Code, Asset Class, Topic, Sentence: a summary per asset class, then
per instrument the forecast's change and what moved it, an extreme valuation, a phase change,
the trade) and, per asset class, ``Commentary<Class>`` — the figures every sentence is made
from, one row per instrument: ``Last Month`` / ``This Month`` (the composite forecast at the
previous update and now), ``Change`` and the change of each part's contribution (``Δ Anchor``
… ``Δ Floor``, which add up to ``Change``), the ``Previous Forecast`` of the forecast table,
σ, phase, high-volatility probability, last monthly change, 12-1 momentum (log for prices,
pp for yields) and position last month and now, and the ``Trade``.

Units as in the forecast tables: decimals shown as percent for prices, percentage points for
yields. "Last month" is the previous monthly row of the walk-forward history (the previous
update); this month's forecast, position, trade and σ are those of the forecast and valuation
tables (``ctx.forecast_rows``, ``ctx.valuation_rows``), so the builder runs after them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.models.commentary import (DRIVERS, ROW_COLUMNS, class_summary, forecast_drivers,
                                      instrument_comments)
from engine.models.signals import POSITION_WORDS
from engine.tables.base import NUM2, PCT, PCT1, RefreshContext, SheetContent, Table, register

__all__ = ["build", "figures_row"]

CLASSES = ("Equity", "Bond", "FX", "Commodity")
_HIDDEN = ("Asset Class", "Quote")  # constant within a class table; the sentences read them


def _pair(s: pd.Series) -> tuple[float, float]:
    """(this month, last month) of a monthly column; NaN where absent."""
    v = s.to_numpy(dtype=float)
    return (float(v[-1]) if len(v) else np.nan, float(v[-2]) if len(v) > 1 else np.nan)


def _text(v) -> str:
    """A phase label as text ("" for a missing one, which pandas may hold as NaN)."""
    return v if isinstance(v, str) else ""


def figures_row(ctx: RefreshContext, code: str) -> dict:
    """The row of figures of one instrument (columns
    :data:`~engine.models.commentary.ROW_COLUMNS`); figures it has none of are NaN."""
    inst = ctx.data.instruments[code]
    row: dict = {c: np.nan for c in ROW_COLUMNS}
    row.update({"Code": code, "Name": inst.name, "Asset Class": inst.asset_class,
                "Quote": inst.quote, "Previous Phase": "", "Phase": "", "Trade": "",
                "Previous Position": "", "Position": ""})
    r = ctx.results.get(code)
    cur = ctx.forecast_rows.get(code)
    if r is None or r.composite is None or cur is None:
        return row
    h = r.history
    drivers = forecast_drivers(r.composite)
    now, before = _pair(h["forecast"])
    row.update({"This Month": now, "Last Month": before, "Change": now - before,
                "Previous Forecast": cur["previous"], "Trade": cur["trade"],
                "Position": POSITION_WORDS[cur["position"]],
                "Previous Position": POSITION_WORDS.get(cur["previous_position"], "")})
    for d in DRIVERS:
        a, b = _pair(drivers[d])
        row[f"Δ {d}"] = a - b
    sig, psig = _pair(h["sigma"])
    val = ctx.valuation_rows.get(code, {})
    row["Valuation (σ)"] = float(val.get("Valuation (σ)", sig))
    row["Previous σ"] = psig
    if len(h) > 1:
        row["Previous Phase"] = _text(h["phase"].iloc[-2])
    row["Phase"] = _text(cur["phase"])
    row["High-Vol Prob."], row["Previous High-Vol Prob."] = _pair(h["regime_prob"])
    row["Last Change"], row["Previous Last Change"] = _pair(h["change"])
    row["12-1 Momentum"], row["Previous 12-1 Momentum"] = _pair(h["momentum"])
    return row


@register("commentary", order=50)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """The ``Commentary`` sheet (module docstring)."""
    comments, figures = [], []
    for ac in CLASSES:
        insts = ctx.data.by_class(ac)
        if not insts:
            continue
        rows = [figures_row(ctx, i.code) for i in insts]
        comments.append(class_summary(ac, rows))
        for row in rows:
            comments += instrument_comments(row)
        df = pd.DataFrame(rows, columns=list(ROW_COLUMNS)).drop(columns=list(_HIDDEN))
        yields = all(i.is_yield for i in insts)
        # the precision the sentences print (engine.models.commentary.unit_of)
        level, change = ("0.000", "0.000") if yields else (PCT, "0.000%")
        fmt = {c: level for c in ("Last Month", "This Month", "Previous Forecast")}
        fmt |= {c: change for c in ("Change", *(f"Δ {d}" for d in DRIVERS))}
        fmt |= {"Valuation (σ)": NUM2, "Previous σ": NUM2, "High-Vol Prob.": PCT1,
                "Previous High-Vol Prob.": PCT1, "Last Change": level,
                "Previous Last Change": level, "12-1 Momentum": "0.00" if yields else PCT1,
                "Previous 12-1 Momentum": "0.00" if yields else PCT1}
        what = ("yield changes in percentage points" if yields else
                "decimal returns shown as percent; changes in percentage points")
        figures.append(Table(f"Commentary{ac}", df, fmt, title=f"{ac}: what moved the forecasts",
                             notes=[f"Forecasts and contributions: {what}. Δ columns: change "
                                    "of each part's contribution to the composite since last "
                                    "month; they add up to Change."]))
    if not comments:
        return []
    text = pd.DataFrame([{"Code": c.code, "Asset Class": c.asset_class, "Topic": c.topic,
                          "Sentence": c.sentence} for c in comments])
    intro = [f"What moved the forecasts this month (as of {ctx.data.asof:%Y-%m-%d}): sentences "
             "generated from the figures in the tables below, this month against the previous "
             "update."]
    return [SheetContent("Commentary", intro=intro,
                         tables=[Table("Commentary", text, title="Commentary"), *figures])]
