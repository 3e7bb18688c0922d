"""``GDP Gap`` sheet: the real-GDP "deferred demand" table (seed ``000_…``) from ``Macro``
(Period, Growth in % as published, Source) and Settings ``Trend Growth`` (% per year),
``Base Period`` and the optional ``GDP Deannualize`` (compound | simple, default compound).

No look-ahead: only the Macro periods that had ended by As Of (plus Settings
``Macro Publication Lag`` months, default 0) are used (:func:`engine.inputs.data.macro_asof`,
applied here as well as by the reader, for data built without it); a Base Period that ends
after As Of is refused with that reason."""

from __future__ import annotations

import pandas as pd

from engine.domain import period_end
from engine.inputs.data import macro_asof, macro_lag
from engine.models.gdp_gap import contiguous_run, gdp_gap, parse_period
from engine.tables.base import RefreshContext, SheetContent, Table, register

__all__ = ["build", "newsletter_layout"]

FORMATS = {"Growth": "0.00", "Non Annualized": "0.000", "GDP Index": "0.0",
           "Trend Growth": "0.00", "Target Index": "0.0", "Gap": "0.0"}

_WIDE_ROWS = (("GDP Growth", "Growth"), ("Non Annualized", "Non Annualized"),
              ("GDP Index", "GDP Index"), ("Hist GDP Growth", "Trend Growth"),
              ("GDP Index Target", "Target Index"), ("Foregone GDP Gap", "Gap"))


def newsletter_layout(table: pd.DataFrame) -> pd.DataFrame:
    """The newsletter's transposed layout: one row per measure (Code = the newsletter's row
    label), one column per period."""
    rows = []
    for label, col in _WIDE_ROWS:
        rec = {"Code": label}
        rec.update(dict(zip(table["Period"], table[col])))
        rows.append(rec)
    return pd.DataFrame(rows, columns=["Code", *table["Period"]])


@register("gdp_gap", order=70)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """Tables ``GDPGap`` (one row per period) and ``GDPGapNewsletter`` (the newsletter's
    transposed layout) on the ``GDP Gap`` sheet; a problem is reported through ``ctx.fail``
    under code ``GDP`` and written on the sheet."""
    d = ctx.data
    content = SheetContent("GDP Gap")
    macro = d.macro
    try:
        lag = macro_lag(d.settings)
        if macro is not None and "Period" in macro:
            macro = macro_asof(macro, d.asof, lag)
    except ValueError as e:
        ctx.fail("GDP", str(e))
        content.intro.append(f"GDP gap not computed: {e}")
        return [content]
    if macro is None or len(macro) == 0:
        content.intro.append(f"No Macro data for periods ended by {d.asof:%Y-%m-%d}: GDP gap "
                             "not built.")
        return [content]
    trend, base = d.config.trend_growth, d.config.base_period
    method = d.config.gdp_deannualize
    cols = {str(c).strip().lower(): c for c in macro.columns}
    try:
        if trend is None:
            raise ValueError("Settings 'Trend Growth' is missing (percent per year, e.g. 2.24)")
        if base is None:
            raise ValueError("Settings 'Base Period' is missing (e.g. 2019)")
        if "period" not in cols or "growth" not in cols:
            raise ValueError(f"Macro needs Period and Growth columns, got {list(macro.columns)}")
        periods = macro[cols["period"]].tolist()
        growth = macro[cols["growth"]].tolist()
        y, q = parse_period(base, "base_period")
        if (y, q) not in [parse_period(p) for p in periods] \
                and period_end(base) > d.asof.normalize():
            raise ValueError(f"Settings 'Base Period' {y}{f'Q{q}' if q else ''} ends after As Of "
                             f"{d.asof:%Y-%m-%d}; only Macro periods ended by then are used "
                             "(choose a base period on or before As Of)")
        start, stop = contiguous_run(periods, base)
        gaps = None
        if (start, stop) != (0, len(periods)):
            skipped = [str(p) for p in periods[:start] + periods[stop:]]
            # a note under the table, in the reader's words (not the sheet's title)
            gaps = (f"Periods {skipped[0]} … {skipped[-1]} of the Macro sheet are outside the "
                    f"continuous run of periods around the base period {base} and are not "
                    "part of this table.")
        t = gdp_gap(periods[start:stop], growth[start:stop], trend, base, method)
        # shown from the base period (= 100) on, as the newsletter prints it; the index of a
        # period does not depend on the periods before the base
        k = [parse_period(p) for p in t["Period"]].index(parse_period(base, "base_period"))
        before = t["Period"].iloc[:k].tolist()
        t = t.iloc[k:].reset_index(drop=True)
    except ValueError as e:
        ctx.fail("GDP", str(e))
        content.intro.append(f"GDP gap not computed: {e}")
        return [content]
    y, q = parse_period(base, "base_period")
    notes = [f"Base {y}{f'Q{q}' if q else ''} = 100; trend growth "
             f"{float(trend):g} % per year compounded per period (a quarter: "
             f"(1+trend)^(1/4)-1); quarterly growth published annualized, de-annualized "
             f"{'(1+g)^(1/4)-1' if method == 'compound' else 'g/4'} ({method}).",
             "Gap = GDP Index - Target Index (negative: output below trend, deferred demand)."]
    if gaps:
        notes.append(gaps)
    if "source" in cols:
        used = macro[cols["source"]].iloc[start:stop].dropna()
        src = sorted({str(s) for s in used if str(s).strip()})
        if src:
            notes.append("Source: " + "; ".join(src))
    content.intro.append(f"Real GDP against its trend, {t['Period'].iloc[0]} … "
                         f"{t['Period'].iloc[-1]} (Macro sheet; refresh as of "
                         f"{d.asof:%Y-%m-%d}).")
    if before:
        notes.append(f"Shown from the base period on; the Macro sheet's {len(before)} earlier "
                     f"periods ({before[0]} … {before[-1]}) are not shown.")
    notes.append(f"Only periods ended by As Of {d.asof:%Y-%m-%d}"
                 + (f" plus a {lag}-month publication lag" if lag else "")
                 + " are used (no later figure).")
    # every engine table starts with Code (DESIGN.md), here the period, for XLOOKUP
    coded = t.copy()
    coded.insert(0, "Code", coded["Period"].astype(str))
    content.add(Table("GDPGap", coded, FORMATS, title="Real GDP and its trend target",
                      notes=notes))
    wide = newsletter_layout(t)
    content.add(Table("GDPGapNewsletter", wide,
                      {c: "0.00" for c in wide.columns if c != "Code"},
                      title="Newsletter layout"))
    return [content]
