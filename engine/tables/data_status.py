"""``Data Status`` sheet: what the engine read for each instrument, and what is wrong with it."""

from __future__ import annotations

import pandas as pd

from engine.tables.base import DATE, INT, RefreshContext, SheetContent, Table, register
from engine.tables.labels import STALE_DAYS, quote_age

LEVEL = "#,##0.0000"  # four decimals: FX rates move in the fourth (1.6496, not 1.65)


@register("data_status", order=10)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """One row per instrument: Code, Name, Asset Class, Quote, Update, Calendar (the exchange
    calendar of its update days, as typed or defaulted), First and Last
    Observation (monthly samples, as of the refresh: the true date of the last quote),
    Updated (the update that quote feeds), Quote Age (days) (calendar days from the last
    observation to that update), Months (number of monthly observations), Last Value (price
    level, or yield in percent; four decimals), Unit (what the level is measured in), Stale
    (Yes when the last observation is more than two months before As Of, or more than
    :data:`engine.tables.labels.STALE_DAYS` days older than its update, e.g. a start-of-month
    FX quote shown under a month-end update), Problems (warnings from the reader — a suspect
    value of its prices or Fair Value Inputs with its cell —, the stale quote, and failures of
    the models, filled after every builder has run). Below it, when there are any, the
    warnings that concern no one instrument (``Input warnings``: Cell, Warning), e.g. a
    suspect Returns value."""
    d = ctx.data
    warn: dict[str, list[str]] = {}
    for p in d.problems:
        if getattr(p, "code", None) and getattr(p, "kind", None) != "suspect":
            warn.setdefault(p.code, []).append(p.message)
    for code, found in d.suspects.items():  # its prices' and its fair value inputs' cells
        warn.setdefault(code, []).extend(f"{p.where}: {p.message}" for p in found)
    rows = []
    for code, inst in d.instruments.items():
        s = d.prices.get(code, pd.Series(dtype=float))
        msgs = list(warn.get(code, []))
        stale = any("stale" in m for m in msgs)
        upd = age = None
        if len(s):
            upd, age = quote_age(inst, s.index[-1])
            if age > STALE_DAYS:
                stale = True
                msgs.append(f"stale quote: last observation {s.index[-1]:%Y-%m-%d} is {age} "
                            f"days before its {upd:%Y-%m-%d} update")
        rows.append({
            "Code": code, "Name": inst.name, "Asset Class": inst.asset_class,
            "Quote": inst.quote, "Update": inst.update, "Calendar": inst.calendar,
            "First Observation": s.index[0] if len(s) else None,
            "Last Observation": s.index[-1] if len(s) else None,
            "Updated": upd, "Quote Age (days)": age,
            "Months": len(s), "Last Value": float(s.iloc[-1]) if len(s) else None,
            "Unit": inst.unit_label,
            "Stale": "Yes" if stale else "No",
            "Problems": "; ".join(msgs),
        })
    df = pd.DataFrame(rows, columns=["Code", "Name", "Asset Class", "Quote", "Update",
                                     "Calendar", "First Observation", "Last Observation",
                                     "Updated", "Quote Age (days)", "Months", "Last Value",
                                     "Unit", "Stale", "Problems"])
    table = Table("DataStatus", df, formats={"First Observation": DATE,
                                             "Last Observation": DATE, "Updated": DATE,
                                             "Quote Age (days)": INT, "Months": INT,
                                             "Last Value": LEVEL})
    ctx.data_status = table  # failures are filled in by the pipeline at the end
    intro = [f"Data status as of {d.asof:%Y-%m-%d}",
             "Monthly observations sampled on each instrument's update day; yields in percent. "
             "Last Observation is the true date of the last quote; Quote Age counts the days "
             f"from it to the update it feeds (Stale beyond {STALE_DAYS} days)."]
    tables = [table]
    other = [p for p in d.problems if getattr(p, "severity", "") == "warning"
             and not getattr(p, "code", None)]
    if other:  # warnings of no one instrument (a Returns, Income, Fundamentals or Macro cell)
        tables.append(Table("DataWarnings", pd.DataFrame(
            {"Cell": [p.where for p in other], "Warning": [p.message for p in other]}),
            title="Input warnings (the refresh went on; check these cells)"))
    return [SheetContent("Data Status", tables=tables, intro=intro)]


def add_failures(table: Table, failures: dict[str, str]) -> None:
    """Append model failures (code -> reason) to the Problems column, in place."""
    df = table.df
    for code, reason in failures.items():
        m = df["Code"] == code
        df.loc[m, "Problems"] = df.loc[m, "Problems"].map(
            lambda s: f"{s}; model failed: {reason}" if s else f"model failed: {reason}")
