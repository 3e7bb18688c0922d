"""Valuation tables (seed ``003_…`` Tables 3, 5, 7, 9), the valuation charts on ``Charts``
(Charts 2, 3, 6) and the valuation section of ``Track Record``.

Each table: ``Code``, the seed's columns in the seed's order, then ``To Fair Value (%)``,
``Frequency (%)`` and ``Fair Value`` (bonds: ``Fair Yield``), then ``Note`` only when some
instrument failed. Units (DESIGN.md): σ plain; valuation %, to-fair-value %, frequency and price
forecasts are decimals shown as percent (forecasts annualized); yields, fair yields and bond
forecasts (cumulative yield change over the horizon) in percentage points.

Bonds: ``Valuation (σ)`` is in yield terms (+ = yield above fair yield = the bond is cheap);
``Price Valuation (%)`` = price at the current yield of a bond with the instrument's
``Maturity`` and coupon = fair yield, over its price at the fair yield (par), − 1;
``To Fair Value (%)`` = the price move back to fair value, ``1/(1 + price valuation) − 1``.

Results for other builders: ``ctx.cache["valuation"][code]`` = the
:func:`~engine.models.valuation.valuation_history` DataFrame (walk-forward ``sigma`` …),
``ctx.cache["valuation_forecasts"][code]`` = the walk-forward horizon forecasts.
"""

from __future__ import annotations

from functools import partial
import math

import numpy as np
import pandas as pd
from openpyxl.chart import ScatterChart, Series
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties

from engine.inputs.data import Instrument
from engine.inputs.sampling import month_end_index
from engine.models.bonds import price_valuation
from engine.models.horizons import (HORIZON_LABELS, HORIZONS, evaluate_horizons,
                                    forecasts_from_paths, horizon_paths)
from engine.models.valuation import residual_stationarity, valuation_history
from engine.tables.base import (DATE, INT, NUM, NUM2, PCT, YIELD, ChartSpec, RefreshContext,
                                SheetContent, Table, register)
from engine.workbook import charts as xlc

SHEETS = {"Equity": "Stock Valuation", "Bond": "Bond Valuation", "FX": "FX Valuation",
          "Commodity": "Commodity Valuation"}
TABLE_NAMES = {"Equity": "StockValuation", "Bond": "BondValuation", "FX": "FXValuation",
               "Commodity": "CommodityValuation"}
HZ = [HORIZON_LABELS[h] for h in HORIZONS]
MIN_HISTORY = 60
CHART_MONTHS = 360   # valuation charts show the last 30 years
BAND = 1.75          # the seed's "extremes in excess of ±1.75 standard deviations"
FX_NUM = "0.0000"


def _columns(asset_class: str) -> list[str]:
    """The table's columns: Code, the seed's, then the three additions (DESIGN.md)."""
    if asset_class == "Bond":
        return ["Code", "Country", "Debt Instrument", "Current Yield", "Valuation (σ)",
                "Price Valuation (%)", *HZ, "To Fair Value (%)", "Frequency (%)", "Fair Yield"]
    lead = {"Equity": ["Country"], "FX": ["FX Rate"], "Commodity": ["Commodity"]}[asset_class]
    return ["Code", *lead, "Valuation (σ)", "Valuation (%)", *HZ, "To Fair Value (%)",
            "Frequency (%)", "Fair Value"]


def _formats(asset_class: str) -> dict[str, str]:
    if asset_class == "Bond":
        return {"Current Yield": YIELD, "Valuation (σ)": NUM2, "Price Valuation (%)": PCT,
                **{c: YIELD for c in HZ}, "To Fair Value (%)": PCT, "Frequency (%)": PCT,
                "Fair Yield": YIELD}
    return {"Valuation (σ)": NUM2, "Valuation (%)": PCT, **{c: PCT for c in HZ},
            "To Fair Value (%)": PCT, "Frequency (%)": PCT,
            "Fair Value": FX_NUM if asset_class == "FX" else NUM}


def instrument_valuation(ctx: RefreshContext, code: str) -> tuple[pd.DataFrame, dict]:
    """Walk-forward valuation history and horizon paths of one instrument (cached)."""
    val = ctx.cache.setdefault("valuation", {})
    paths_cache = ctx.cache.setdefault("valuation_paths", {})
    if code in val and code in paths_cache:
        return val[code], paths_cache[code]
    d = ctx.data
    inst = d.instruments[code]
    prices = d.prices[code]
    fund = d.fundamentals_for(code)
    h = valuation_history(prices, fund if len(fund.columns) else None, quote=inst.quote,
                          asset_class=inst.asset_class, min_history=MIN_HISTORY)
    paths = {k: horizon_paths(prices, h["sigma"], k, quote=inst.quote) for k in HORIZONS}
    val[code] = h
    paths_cache[code] = paths
    ctx.cache.setdefault("valuation_forecasts", {})[code] = forecasts_from_paths(paths,
                                                                                 inst.quote)
    return h, paths


def _row(ctx: RefreshContext, inst: Instrument) -> dict:
    h, _ = instrument_valuation(ctx, inst.code)
    n = int(ctx.data.prices[inst.code].notna().sum())
    if h.empty or not math.isfinite(h["sigma"].iloc[-1]):
        raise ValueError(f"need {MIN_HISTORY} months of prices for a valuation, got {n}")
    last = h.iloc[-1]
    fc = ctx.cache["valuation_forecasts"][inst.code].iloc[-1]
    row = {"Valuation (σ)": last["sigma"], **{c: fc[c] for c in HZ},
           "Frequency (%)": last["frequency"]}
    if inst.asset_class == "Bond" and not inst.is_yield:
        raise ValueError("bond valuation needs Quote = Yield on Instruments")
    if inst.is_yield:
        y = float(ctx.data.prices[inst.code].iloc[-1])
        pv = np.nan
        if inst.maturity is not None and np.isfinite(inst.maturity) and inst.maturity > 0:
            pv = price_valuation(y, float(last["fair_value"]), float(inst.maturity))
        row.update({"Current Yield": y, "Price Valuation (%)": pv,
                    "To Fair Value (%)": 1.0 / (1.0 + pv) - 1.0, "Fair Yield": last["fair_value"]})
    else:
        row.update({"Valuation (%)": last["valuation_pct"],
                    "To Fair Value (%)": last["to_fair_value_pct"],
                    "Fair Value": last["fair_value"]})
    return row


def _model_note(ctx: RefreshContext, code: str) -> str | None:
    """Which fair-value model is in force, on how many months, and whether its deviation
    mean-reverts (Engle–Granger / ADF p-value on the residuals: a diagnostic only)."""
    h = ctx.cache.get("valuation", {}).get(code)
    if h is None or h.empty or h["model"].iloc[-1] is None:
        return None
    last = h.iloc[-1]
    note = (f"{code}: fair value by {last['model']}, fitted on {int(last['n_obs'])} months "
            f"to {h.index[-1]:%Y-%m-%d}")
    d, inst = ctx.data, ctx.data.instruments[code]
    try:
        fund = d.fundamentals_for(code)
        st = residual_stationarity(d.prices[code], fund if len(fund.columns) else None,
                                   quote=inst.quote, asset_class=inst.asset_class,
                                   min_history=MIN_HISTORY)
    except Exception:  # noqa: BLE001 - a diagnostic must never fail the row
        return note + "."
    p = st["pvalue"]
    ctx.cache.setdefault("valuation_stationarity", {})[code] = st
    verdict = ("the deviation mean-reverts" if p < 0.05 else
               "weak evidence that the deviation mean-reverts" if p < 0.10 else
               "no evidence that the deviation mean-reverts: read σ with caution")
    return note + f"; {verdict} (Engle–Granger/ADF p = {p:.3f})."


def _table(ctx: RefreshContext, asset_class: str) -> Table | None:
    insts = ctx.data.by_class(asset_class)
    if not insts:
        return None
    cols = _columns(asset_class)
    rows, notes = [], []
    for inst in insts:
        base = {"Code": inst.code}
        if asset_class == "Equity":
            base["Country"] = f"{inst.country}: {inst.name}" if inst.country else inst.name
        elif asset_class == "Bond":
            base.update({"Country": inst.country, "Debt Instrument": inst.name})
        else:
            base[cols[1]] = inst.name
        try:
            row = _row(ctx, inst)
        except Exception as e:  # noqa: BLE001 - one instrument must not stop the others
            reason = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
            ctx.fail(inst.code, reason)
            rows.append({**base, "Note": reason})
            continue
        if asset_class == "Bond" and not np.isfinite(row["Price Valuation (%)"]):
            row["Note"] = "no Maturity on Instruments: no price valuation"
        rows.append({**base, **row})
        note = _model_note(ctx, inst.code)
        if note:
            notes.append(note)
    if any("Note" in r for r in rows):
        cols.append("Note")
    df = pd.DataFrame(rows).reindex(columns=cols)
    if asset_class == "Bond":
        head = ("Valuation (σ) in yield terms: + = yield above fair yield (bond cheap). "
                "Price Valuation (%): price at today's yield of a bond with coupon = fair yield "
                "over par, − 1. Horizon columns: cumulative yield change forecast over the "
                "horizon, percentage points.")
    else:
        who = "the first (base) currency" if asset_class == "FX" else "the price"
        head = (f"Valuation (σ): + = above fair value. Valuation (%) = P/FV − 1; To Fair Value "
                f"(%) = FV/P − 1. Horizon columns: annualized return forecast for {who}, "
                "based solely on current valuation.")
    notes = [head, "Frequency (%): share of the instrument's own history at least as extreme "
             "as today's σ. Every figure uses only data dated on or before its date."] + notes
    return Table(TABLE_NAMES[asset_class], df, formats=_formats(asset_class), notes=notes)


# --------------------------------------------------------------------------- charts

def _chart_tables(ctx: RefreshContext, codes: list[str]) -> tuple[Table, Table]:
    px, sg = {}, {}
    for code in codes:
        h = ctx.cache["valuation"][code]
        ok = h["sigma"].notna()
        s = h[ok].iloc[-CHART_MONTHS:]
        idx = month_end_index(s.index)
        px[code] = pd.Series(ctx.data.prices[code].reindex(s.index).to_numpy(), index=idx)
        px[f"{code} FV"] = pd.Series(s["fair_value"].to_numpy(), index=idx)
        sg[code] = pd.Series(s["sigma"].to_numpy(), index=idx)
    prices = pd.DataFrame(px).sort_index()
    sig = pd.DataFrame(sg).sort_index()
    sig[f"+{BAND}σ"] = BAND
    sig[f"−{BAND}σ"] = -BAND
    return (Table("ValChartPrices", prices.reset_index(names="Date"), formats={"Date": DATE}),
            Table("ValChartSigma", sig.reset_index(names="Date"), formats={"Date": DATE}))


def _line(ref, table: str, column: str, name: str, color: str | None = None,
          dash: str | None = None, width: int = 15875) -> Series:
    return xlc.line(ref(table, column), ref(table, "Date"), name, color, dash, width)


def price_chart(code: str, title: str, y_title: str):
    """ChartSpec factory (Charts 2, 6, top): the price (or yield) and its walk-forward fair
    value."""
    return partial(_price_chart, code, title, y_title)


def _price_chart(code, title, y_title, ref, header):
    ch = xlc.date_chart(title, y_title)
    ch.series.append(_line(ref, "ValChartPrices", code, code, "1F3864"))
    ch.series.append(_line(ref, "ValChartPrices", f"{code} FV", "Fair value", "7F7F7F",
                           "dash"))
    ch.legend.position = "b"
    return ch


def sigma_chart(code: str, lo: float, hi: float):
    """ChartSpec factory (Charts 2, 6, bottom): valuation σ with ±1.75σ bands."""
    return partial(_sigma_chart, code, lo, hi)


def _sigma_chart(code, lo, hi, ref, header):
    ch = xlc.date_chart(f"{code} valuation (σ), bands at ±{BAND}σ", "σ", 900)
    ch.series.append(_line(ref, "ValChartSigma", code, "Valuation (σ)", "C00000"))
    ch.series.append(_line(ref, "ValChartSigma", f"+{BAND}σ", f"+{BAND}σ", "808080",
                           "sysDash", 9525))
    ch.series.append(_line(ref, "ValChartSigma", f"−{BAND}σ", f"−{BAND}σ", "808080",
                           "sysDash", 9525))
    ch.y_axis.scaling.min = lo
    ch.y_axis.scaling.max = hi
    ch.y_axis.majorUnit = 1
    ch.legend = None
    return ch


def scatter_chart(codes: list[str]):
    """ChartSpec factory (Chart 3): valuation % against the 1-year valuation forecast across
    stock indices, one labelled point per index."""
    return partial(_scatter_chart, codes)


def _scatter_chart(codes, ref, header):
    ch = ScatterChart()
    ch.title = xlc.title("Stock indices: valuation vs 1-year valuation-based forecast")
    ch.style = 2
    xs, ys = ref("ValScatter", "Valuation (%)"), ref("ValScatter", "1 Yr")
    for i, code in enumerate(codes):
        x = xlc.cell(xs, i)
        y = xlc.cell(ys, i)
        s = Series(y, x, title=code)
        s.marker.symbol = "circle"
        s.marker.size = 8
        s.marker.graphicalProperties = GraphicalProperties(solidFill="1F3864")
        s.graphicalProperties = GraphicalProperties(ln=LineProperties(noFill=True))
        s.dLbls = DataLabelList()
        s.dLbls.showSerName = True
        s.dLbls.showVal = False
        s.dLbls.position = "r"
        ch.series.append(s)
    xlc.style_axes(ch, "Valuation (%) = P/FV − 1", "1-year forecast")
    ch.x_axis.number_format = "0%"
    ch.y_axis.number_format = "0%"
    ch.x_axis.majorGridlines = None
    ch.legend = None
    return ch


def _charts(ctx: RefreshContext, done: list[str]) -> SheetContent | None:
    if not done:
        return None
    prices_t, sigma_t = _chart_tables(ctx, done)
    charts = []
    stocks = [c for c in done if ctx.data.instruments[c].asset_class == "Equity"]
    data_tables = [prices_t, sigma_t]
    if stocks:
        sc = []
        for c in stocks:
            h = ctx.cache["valuation"][c]
            fc = ctx.cache["valuation_forecasts"][c]
            sc.append({"Code": c, "Valuation (%)": h["valuation_pct"].iloc[-1],
                       "Valuation (σ)": h["sigma"].iloc[-1], "1 Yr": fc["1 Yr"].iloc[-1]})
        data_tables.append(Table("ValScatter", pd.DataFrame(sc),
                                 formats={"Valuation (%)": PCT, "1 Yr": PCT,
                                          "Valuation (σ)": NUM2}))
        charts.append(ChartSpec(make=scatter_chart(stocks), width=18.0, height=9.0))
    for code in done:
        inst = ctx.data.instruments[code]
        h = ctx.cache["valuation"][code]
        last = h.iloc[-1]
        s = ctx.cache["valuation"][code]["sigma"].dropna().iloc[-CHART_MONTHS:]
        lo = min(-3.0, math.floor(s.min())) if len(s) else -3.0
        hi = max(3.0, math.ceil(s.max())) if len(s) else 3.0
        if inst.is_yield:
            title = (f"{inst.name}: yield {ctx.data.prices[code].iloc[-1]:.2f}%, fair "
                     f"{last['fair_value']:.2f}%, {last['sigma']:+.2f}σ")
        else:
            fc = ctx.cache["valuation_forecasts"][code].iloc[-1]
            yr1, yr3 = (f"{fc[c]:+.1%}" if math.isfinite(fc[c]) else "n/a"
                        for c in ("1 Yr", "3 Yr"))  # n/a: history too short for a forecast
            title = (f"{inst.name}: {last['sigma']:+.2f}σ, {last['valuation_pct']:+.0%} vs "
                     f"fair value; 1 Yr {yr1}, 3 Yr {yr3} a yr")
        y_title = "Yield (%)" if inst.is_yield else ("Rate" if inst.asset_class == "FX"
                                                    else "Price")
        charts.append(ChartSpec(make=price_chart(code, title, y_title), width=18.0, height=7.5))
        charts.append(ChartSpec(make=sigma_chart(code, lo, hi), width=18.0, height=6.0))
    intro = ["Charts — valuation and forecasts by instrument",
             "Valuation charts: stock indices' valuation vs their 1-year valuation forecast; "
             "then per instrument the price with its walk-forward fair value above valuation in "
             f"standard deviations (last {CHART_MONTHS // 12} years; dashed lines at ±{BAND}σ, "
             "where major reversals often begin)."]
    return SheetContent("Charts", charts=charts, data_tables=data_tables, intro=intro)


# --------------------------------------------------------------------------- track record

def _track_record(ctx: RefreshContext, done: list[str]) -> SheetContent | None:
    frames, notes = [], []
    for code in done:
        inst = ctx.data.instruments[code]
        h = ctx.cache["valuation"][code]
        paths = ctx.cache["valuation_paths"][code]
        ev = evaluate_horizons(ctx.data.prices[code], h["sigma"], quote=inst.quote,
                               paths=paths)
        ev.insert(0, "Asset Class", inst.asset_class)
        ev.insert(0, "Code", code)
        frames.append(ev)
        scored = ev[ev["n_forecasts"] > 0]
        lose = scored.loc[~scored["beats_mean"], "label"].tolist()
        none = ev.loc[ev["n_forecasts"] == 0, "label"].tolist()
        if lose:
            notes.append(f"{code}: the valuation forecast does not beat the historical mean at "
                         + ", ".join(lose) + ".")
        if none:
            notes.append(f"{code}: history too short to score " + ", ".join(none) + ".")
    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)
    df = df.rename(columns={"label": "Horizon", "n_forecasts": "Forecasts",
                            "n_independent": "Independent Obs", "first": "First",
                            "last": "Last", "rmse_model": "RMSE Valuation",
                            "rmse_mean": "RMSE Mean", "oos_r2": "OOS R²",
                            "beats_mean": "Beats Mean"}).drop(columns="horizon")
    df["Beats Mean"] = np.where(df["Forecasts"] > 0,
                                np.where(df["Beats Mean"], "Yes", "No"), "")
    scored = df[df["Forecasts"] > 0]
    wins = int((scored["OOS R²"] > 0).sum())
    summary = (f"Overall: the valuation forecasts beat the prevailing historical mean in {wins} "
               f"of {len(scored)} instrument-horizons scored.")
    if wins == 0:
        summary += " They add nothing over the historical mean on this data."
    thin = int((scored["Independent Obs"] < 10).sum())
    if thin:
        summary += (f" {thin} of them rest on fewer than 10 independent (non-overlapping) "
                    "periods: treat those R² as anecdotes, not evidence.")
    formats = {"Forecasts": INT, "Independent Obs": INT, "First": DATE, "Last": DATE,
               "RMSE Valuation": "0.0000", "RMSE Mean": "0.0000", "OOS R²": PCT}
    intro = ["Track record — walk-forward, out of sample (valuation forecasts, then the "
             "composite forecasts)"]
    how = ("Each valuation forecast was made with data dated on or before its month and is "
           "scored on the change that followed (log change for prices, yield change in points "
           "for bonds). OOS R² vs the prevailing historical mean change (> 0 beats it); "
           "Independent Obs: forecasts at least one horizon apart.")
    return SheetContent("Track Record", intro=intro, tables=[Table(
        "ValuationTrackRecord", df, formats=formats,
        title="Valuation forecasts by horizon (out of sample)", notes=[summary, how] + notes)])


@register("valuation", order=20)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """Tables 3, 5, 7, 9, the valuation charts (Charts 2, 3, 6) and the valuation section of
    ``Track Record``."""
    out = []
    for ac, sheet in SHEETS.items():
        t = _table(ctx, ac)
        if t is not None:
            out.append(SheetContent(sheet, tables=[t]))
    done = [c for c in ctx.data.instruments
            if c in ctx.cache.get("valuation", {}) and c not in ctx.failures
            and len(ctx.cache["valuation"][c])
            and np.isfinite(ctx.cache["valuation"][c]["sigma"].iloc[-1])]
    for part in (_charts(ctx, done), _track_record(ctx, done)):
        if part is not None:
            out.append(part)
    return out
