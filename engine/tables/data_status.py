"""``Data Status`` sheet: what the engine read for each instrument, and what is wrong with it."""

from __future__ import annotations

import pandas as pd

from engine.tables.base import DATE, INT, NUM, RefreshContext, SheetContent, Table, register


@register("data_status", order=10)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """One row per instrument: Code, Name, Asset Class, Quote, Update, Calendar (the exchange
    calendar of its update days, as typed or defaulted), First and Last
    Observation (monthly samples, as of the refresh), Months (number of monthly observations),
    Last Value (price level, or yield in percent), Stale (Yes when the last observation is more
    than two months before As Of), Problems (warnings from the reader and failures of the
    models, filled after every builder has run)."""
    d = ctx.data
    warn: dict[str, list[str]] = {}
    for p in d.problems:
        if getattr(p, "code", None):
            warn.setdefault(p.code, []).append(p.message)
    rows = []
    for code, inst in d.instruments.items():
        s = d.prices.get(code, pd.Series(dtype=float))
        stale = any("stale" in m for m in warn.get(code, []))
        rows.append({
            "Code": code, "Name": inst.name, "Asset Class": inst.asset_class,
            "Quote": inst.quote, "Update": inst.update, "Calendar": inst.calendar,
            "First Observation": s.index[0] if len(s) else None,
            "Last Observation": s.index[-1] if len(s) else None,
            "Months": len(s), "Last Value": float(s.iloc[-1]) if len(s) else None,
            "Stale": "Yes" if stale else "No",
            "Problems": "; ".join(warn.get(code, [])),
        })
    df = pd.DataFrame(rows, columns=["Code", "Name", "Asset Class", "Quote", "Update",
                                     "Calendar", "First Observation", "Last Observation", "Months",
                                     "Last Value", "Stale", "Problems"])
    table = Table("DataStatus", df, formats={"First Observation": DATE,
                                             "Last Observation": DATE, "Months": INT,
                                             "Last Value": NUM})
    ctx.data_status = table  # failures are filled in by the pipeline at the end
    intro = [f"Data status as of {d.asof:%Y-%m-%d}",
             "Monthly observations sampled on each instrument's update day; yields in percent."]
    return [SheetContent("Data Status", tables=[table], intro=intro)]


def add_failures(table: Table, failures: dict[str, str]) -> None:
    """Append model failures (code -> reason) to the Problems column, in place."""
    df = table.df
    for code, reason in failures.items():
        m = df["Code"] == code
        df.loc[m, "Problems"] = df.loc[m, "Problems"].map(
            lambda s: f"{s}; model failed: {reason}" if s else f"model failed: {reason}")
