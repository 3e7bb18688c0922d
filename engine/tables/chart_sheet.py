"""The ``Charts`` sheet (seed ``003_…`` Charts 1–6), laid out as blocks a portfolio manager reads
top-down, one asset class after the other (Equity, Bond, FX, Commodity):

1. per instrument with a forecast, the composite panel (Charts 1, 4, 5): its one-row summary of
   Table 2, 4, 6 or 8 (``ChartFc_<code>``), the price chart, the Model Signals chart;
2. per instrument with a valuation, the valuation panel (Charts 2, 6): its one-row valuation
   summary (``ChartVal_<code>``), the price with its walk-forward fair value, valuation σ on
   the fixed −3…+3 scale with bands at ±1.75σ;
3. after the stock indices' valuation panels, Chart 3 once: the table ``ValScatter`` and the
   scatter of valuation against the 1-year valuation-based forecast.

So the blocks always run table → chart → chart per instrument (Chart 3: table → chart), and a
reader (the PDF report too) finds a chart's instrument in the table above it. ``<code>`` is
the instrument code sanitised for a table name (:func:`~engine.tables.base.name_part`; made
unique with ``_2``… if two codes sanitise alike). The chart feeds (``data_tables``) are
per instrument, so each chart's dates run exactly from its own first to its last month:
``FcPrices_<code>``, ``FcSignals_<code>``, ``ValChart_<code>``, plus ``FcChartLatest`` (the
labelled trade, one row per instrument).

The pieces come from :mod:`engine.tables.forecasts` and :mod:`engine.tables.valuation`; this
builder runs after both and reads the rows they passed on (``ctx.forecast_rows``,
``ctx.valuation_rows``). An instrument either of them failed has no panel of that kind; the intro says which.
"""

from __future__ import annotations

from engine.domain import ASSET_CLASSES
from engine.tables import forecasts, valuation
from engine.tables.base import RefreshContext, SheetContent, check_refs, name_part, register



def table_keys(codes) -> dict[str, str]:
    """Code -> the part of its table names: letters, digits and ``_`` only, unique."""
    keys: dict[str, str] = {}
    used: set[str] = set()
    for code in codes:
        base = name_part(code)
        key, n = base, 1
        while key.lower() in used:  # Excel table names are case-insensitive
            n += 1
            key = f"{base}_{n}"
        used.add(key.lower())
        keys[code] = key
    return keys


def _intro(ctx: RefreshContext, fc: list[str], val: list[str]) -> list[str]:
    lines = ["Charts — composite forecasts and valuation by instrument",
             "By asset class: per instrument its composite forecast (the row of Tables 2, 4, 6, "
             f"8) above its price and the Model Signals (last {forecasts.CHART_MONTHS // 12} "
             "years at most; 1 Long, 0 Neutral, −1 Short; the latest trade labelled); then per "
             "instrument its valuation (from Tables 3, 5, 7, 9) above its price with the "
             f"walk-forward fair value and its valuation in standard deviations (last "
             f"{valuation.CHART_MONTHS // 12} years at most; fixed scale −3…+3σ, a σ beyond it "
             f"runs off the chart; dashed lines at ±{valuation.BAND}σ, where major reversals "
             "often begin)."]
    if any(ctx.data.instruments[c].asset_class == "Equity" for c in val):
        lines[-1] += (" After the stock indices: their valuation against the 1-year "
                      "valuation-based forecast.")
    lines.append("Forecasts: % change of the price (FX: the first currency); bonds: yield "
                 "change in percentage points, and the position is the bond's (a forecast "
                 "fall in yield is Long).")
    missing = []
    for code in ctx.data.instruments:
        lack = [k for k, have in (("forecast", code in fc), ("valuation", code in val))
                if not have]
        if lack:
            why = ctx.failures.get(code)
            missing.append(f"{code} ({' and '.join(lack)}" + (f": {why})" if why else ")"))
    if missing:
        lines.append("No chart for: " + "; ".join(missing) + ".")
    return lines


@register("charts", order=40)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """The ``Charts`` sheet (module doc); nothing when no instrument has a forecast or a
    valuation."""
    fc = [c for c in ctx.data.instruments if c in ctx.forecast_rows]
    val = valuation.chart_codes(ctx)
    if not fc and not val:
        return []
    keys = table_keys(ctx.data.instruments)
    content = SheetContent("Charts", intro=_intro(ctx, fc, val))
    if fc:
        content.data_tables.append(forecasts.latest_table(ctx, fc))
    for ac in ASSET_CLASSES:
        for code in (c for c in fc if ctx.data.instruments[c].asset_class == ac):
            blocks, feeds = forecasts.chart_panel(ctx, code, keys[code], fc.index(code))
            content.add(*blocks)
            content.data_tables += feeds
        cls_val = [c for c in val if ctx.data.instruments[c].asset_class == ac]
        for code in cls_val:
            blocks, feeds = valuation.chart_panel(ctx, code, keys[code])
            content.add(*blocks)
            content.data_tables += feeds
        if ac == "Equity" and cls_val:
            content.add(*valuation.scatter_panel(ctx, cls_val))
    check_refs(content)
    return [content]
