"""Forecast tables (seed ``003_…`` Tables 2, 4, 6, 8), the ``Signals`` sheet, the forecast
charts on ``Charts`` (Charts 1, 4, 5) and the forecast section of ``Track Record``.

Table conventions (DESIGN.md): ``Code`` first, the seed's columns with the seed's headers,
``Phase`` last (then ``Note`` only when some instrument failed). Forecasts are decimals shown as
percent for prices (FX: the base currency) and percentage points for yields. ``Position`` is shown
in the seed's words (``Long`` / ``Neutral`` / ``Short``) in the four forecast tables, and as
``1`` / ``0`` / ``−1`` on ``Signals``, in the charts and in ``History``.

``Previous Forecast`` (and the previous position behind ``Trade``) is the ``History`` row of the
instrument's previous update (the latest as-of before this one whose ``Last Data Date`` is before
the current last observation); on a workbook without such a row it is the walk-forward forecast
made at the previous update date (the previous monthly row).
``Updated`` is the update date the instrument's last observation feeds
(:func:`engine.models.signals.update_date_of`: for 15 / 20 an observation dated after that day
belongs to the next month's update, as in the monthly sampling).

The walk-forward histories are cached in ``ctx.cache["forecast_history"][code]`` and the current
rows in ``ctx.cache["forecast_current"][code]`` for the History builder.

Reuse across refreshes: when the pipeline puts a mutable mapping in
``ctx.cache["regime_fit_store"]`` (e.g. a dict loaded from a JSON file kept beside the
workbook, saved after the refresh), the Markov estimations are read from and added to it. Its
keys are SHA-1 hashes of the data up to each refit date (:func:`engine.models.regimes.fit_key`),
so a stored fit is only ever reused for exactly the same data; a monthly refresh then only
estimates the refits that are new.
"""

from __future__ import annotations

from functools import partial
import numpy as np
import pandas as pd
from openpyxl.chart import Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.series import SeriesLabel
from openpyxl.utils import get_column_letter

from engine.inputs.data import Instrument
from engine.inputs.sampling import month_end_index
from engine.models.composite import forecast_history
from engine.models.signals import (POSITION_WORDS, default_band, position, to_position,
                                   trade, update_date_of)
from engine.models.track_record import METRICS, track_record, verdict
from engine.tables.base import (DATE, INT, NUM, NUM2, PCT, PCT1, YIELD, ChartSpec,
                                RefreshContext, SheetContent, Table, register)
from engine.workbook import charts as xlc

SHEETS = {"Equity": "Stock Forecasts", "Bond": "Bond Forecasts", "FX": "FX Forecasts",
          "Commodity": "Commodity Forecasts"}
# (name column, price column, forecast column) per asset class, the seed's headers
_HEAD = {
    "Equity": ("Stock Index", "Price", "1 Mo Forecast"),
    "Bond": ("Debt Instrument", "Current Yield", "1 Mo Yield Forecast"),
    "FX": ("Currency", "Spot FX Rate", "1 Mo Forecast"),
    "Commodity": ("Commodity", "Cash/Futures Price ($)", "1 Month Forecast"),
}
CHART_MONTHS = 120  # the charts show the last ten years ("the past several years")


def _band(inst: Instrument) -> float:
    b = inst.neutral_band
    return float(b) if b is not None and np.isfinite(b) else default_band(inst.asset_class)


def _sigma_for(ctx: RefreshContext, code: str):
    val = ctx.cache.get("valuation")
    if isinstance(val, dict) and code in val:
        v = val[code]
        if isinstance(v, pd.DataFrame) and "sigma" in v:
            return v["sigma"]
        if isinstance(v, pd.Series):
            return v
    return None


def instrument_history(ctx: RefreshContext, code: str) -> pd.DataFrame:
    """Walk-forward forecast history of one instrument (cached on the context)."""
    cache = ctx.cache.setdefault("forecast_history", {})
    if code in cache:
        return cache[code]
    d = ctx.data
    inst = d.instruments[code]
    fund = d.fundamentals_for(code)
    sigma = _sigma_for(ctx, code)
    h = forecast_history(d.prices[code], fund if len(fund.columns) else None,
                         quote=inst.quote, asset_class=inst.asset_class, sigma=sigma,
                         band=_band(inst), fit_store=ctx.cache.get("regime_fit_store"))
    cache[code] = h
    return h


def previous_from_history(history: pd.DataFrame | None, code: str,
                          asof: pd.Timestamp,
                          last_date: pd.Timestamp | None = None,
                          previous_date: pd.Timestamp | None = None
                          ) -> tuple[float, object] | None:
    """(forecast, position) of the latest History row of ``code`` dated before ``asof``, or
    ``None``. The position is returned as stored (number or word).

    ``last_date`` (the last observation behind the current forecast): rows whose ``Last Data
    Date`` is on or after it hold *this* update (a refresh between two updates, e.g. on the
    15th for a month-end instrument), not the previous one, and are skipped.
    ``previous_date`` (the observation of the previous update): when the latest remaining row's
    ``Last Data Date`` is before it, History does not hold the previous update (the instrument
    failed then, or that month was never refreshed) and ``None`` is returned, so that the
    caller uses the forecast made at the previous update rather than an older one."""
    if history is None or len(history) == 0 or "Code" not in history:
        return None
    h = history[history["Code"].astype(str) == str(code)].copy()
    if h.empty:
        return None
    h["As Of"] = pd.to_datetime(h["As Of"], errors="coerce")
    h = h[h["As Of"] < pd.Timestamp(asof)]
    if last_date is not None and "Last Data Date" in h:
        ld = pd.to_datetime(h["Last Data Date"], errors="coerce")
        h = h[ld.isna() | (ld < pd.Timestamp(last_date).normalize())]
    h = h.sort_values("As Of", kind="stable")
    if h.empty:
        return None
    last = h.iloc[-1]
    if previous_date is not None and "Last Data Date" in h:
        ld = pd.to_datetime(pd.Series([last.get("Last Data Date")]), errors="coerce").iloc[0]
        if pd.notna(ld) and ld < pd.Timestamp(previous_date).normalize():
            return None
    f = pd.to_numeric(pd.Series([last.get("Forecast")]), errors="coerce").iloc[0]
    return (float(f) if np.isfinite(f) else np.nan), last.get("Position")


def current_row(ctx: RefreshContext, code: str) -> dict:
    """The current forecast row of one instrument: forecast, previous forecast, positions,
    trade, update date, phase, price, last data date."""
    inst = ctx.data.instruments[code]
    h = instrument_history(ctx, code)
    band = _band(inst)
    last = h.iloc[-1]
    fc = float(last["forecast"])
    if not np.isfinite(fc):
        raise ValueError(f"not enough history for a forecast ({len(h)} months of prices; "
                         "the valuation needs 60 and the regression 36 more)")
    pos = position(fc, band, inst.quote)
    prev = previous_from_history(ctx.history, code, ctx.data.asof, h.index[-1],
                                 h.index[-2] if len(h) > 1 else None)
    prev_pos = None
    if prev is not None:
        prev_fc, stored = prev
        try:
            prev_pos = None if pd.isna(stored) else to_position(stored)
        except ValueError:
            prev_pos = None
        if prev_pos is None and np.isfinite(prev_fc):
            prev_pos = position(prev_fc, band, inst.quote)
    else:
        prev_fc = float(h["forecast"].iloc[-2]) if len(h) > 1 else np.nan
        if np.isfinite(prev_fc):
            prev_pos = position(prev_fc, band, inst.quote)
    return {
        "code": code, "price": float(last["price"]), "forecast": fc,
        "previous": prev_fc, "position": pos, "previous_position": prev_pos,
        "trade": trade(prev_pos, pos) if prev_pos is not None else "",
        "updated": update_date_of(h.index[-1], inst.update), "phase": last["phase"],
        "last_date": h.index[-1], "regime_prob": float(last["regime_prob"]),
        "sigma": float(last["sigma"]),
    }


def _forecast_table(ctx: RefreshContext, asset_class: str) -> Table | None:
    insts = ctx.data.by_class(asset_class)
    if not insts:
        return None
    name_col, price_col, fc_col = _HEAD[asset_class]
    rows, notes = [], []
    current = ctx.cache.setdefault("forecast_current", {})
    for inst in insts:
        base = {"Code": inst.code}
        if asset_class != "FX":
            base["Country"] = inst.country
        base[name_col] = inst.name
        try:
            r = current_row(ctx, inst.code)
        except Exception as e:  # noqa: BLE001 - one instrument must not stop the others
            reason = f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else str(e)
            ctx.fail(inst.code, reason)
            rows.append({**base, "Note": reason})
            continue
        current[inst.code] = r
        rows.append({**base, price_col: r["price"], fc_col: r["forecast"],
                     "Previous Forecast": r["previous"],
                     "Position": POSITION_WORDS[r["position"]], "Trade": r["trade"],
                     "Updated": r["updated"], "Phase": r["phase"]})
    cols = ["Code"] + (["Country"] if asset_class != "FX" else []) + [
        name_col, price_col, fc_col, "Previous Forecast", "Position", "Trade", "Updated",
        "Phase"]
    if any("Note" in r for r in rows):
        cols.append("Note")
    df = pd.DataFrame(rows).reindex(columns=cols)
    fmt = YIELD if asset_class == "Bond" else PCT
    price_fmt = {"Bond": YIELD, "FX": "0.0000"}.get(asset_class, NUM)
    formats = {price_col: price_fmt, fc_col: fmt,
               "Previous Forecast": fmt, "Updated": DATE}
    unit = ("yield change in percentage points (−0.09 = −9 bp); a fall is Long the bond"
            if asset_class == "Bond" else
            "percent change of the first (base) currency" if asset_class == "FX" else
            "percent change of the price")
    notes.append(f"1-month forecasts: {unit}. Position from the forecast and the neutral band; "
                 "Trade from the previous position (B, S, CL, CS, CL&S, CS&B).")
    return Table(name=f"{asset_class}Forecasts", df=df, formats=formats, notes=notes)


def _signals(ctx: RefreshContext) -> Table:
    cols = {}
    for code in ctx.data.instruments:
        h = ctx.cache.get("forecast_history", {}).get(code)
        if h is None:
            continue
        s = h["position"].copy()
        s.index = month_end_index(s.index)
        cols[code] = s[~s.index.duplicated(keep="last")]
    df = pd.DataFrame(cols).sort_index()
    df = df.dropna(how="all")
    df.index.name = "Date"
    out = df.reset_index()
    return Table(name="Signals", df=out, formats={c: INT for c in cols} | {"Date": DATE},
                 notes=["Walk-forward model positions by month: 1 = Long, 0 = Neutral, "
                        "−1 = Short (for bonds: the bond, so a forecast yield fall is 1). Each "
                        "month uses only data dated on or before it."])


def _chart_tables(ctx: RefreshContext, codes: list[str]) -> tuple[Table, Table, Table]:
    """Chart feeds: prices (last CHART_MONTHS months), signals as steps (each date twice:
    the previous position, then the new one), and the latest trade per instrument."""
    px, sg = {}, {}
    for code in codes:
        h = ctx.cache["forecast_history"][code]
        s = h.iloc[-CHART_MONTHS:]
        idx = month_end_index(s.index)
        px[code] = pd.Series(s["price"].to_numpy(), index=idx)
        sg[code] = pd.Series(s["position"].to_numpy(), index=idx)
    prices = pd.DataFrame(px).sort_index()
    sig = pd.DataFrame(sg).sort_index()
    prev = sig.shift(1)
    steps = pd.concat([prev.assign(_k=0), sig.assign(_k=1)]).reset_index(names="Date")
    steps = steps.sort_values(["Date", "_k"], kind="stable").drop(columns="_k")
    steps = steps.iloc[1:]  # the first date has no previous position
    latest = []
    for code in codes:
        r = ctx.cache["forecast_current"][code]
        label = r["trade"] if r["trade"] else "no trade"
        latest.append({"Code": code, "Date": month_end_index(pd.DatetimeIndex([r["last_date"]]))[0],
                       "Signal": r["position"], "Label": label})
    prices_t = Table("FcChartPrices", prices.reset_index(names="Date"), formats={"Date": DATE})
    steps_t = Table("FcChartSignals", steps.reset_index(drop=True), formats={"Date": DATE})
    latest_t = Table("FcChartLatest", pd.DataFrame(latest), formats={"Date": DATE})
    return prices_t, steps_t, latest_t


def price_chart(code: str, title: str, yield_quote: bool = False):
    """ChartSpec factory: the instrument's price history (scatter with lines, date axis)."""
    return partial(_price_chart, code, title, yield_quote)


def _price_chart(code, title, yield_quote, ref, header):
    ch = xlc.date_chart(title, "Yield (%)" if yield_quote else "Price")
    ch.series.append(xlc.line(ref("FcChartPrices", code), ref("FcChartPrices", "Date"),
                                 code, "1F3864"))
    ch.legend = None
    return ch


def signal_chart(code: str, row: int, title: str):
    """ChartSpec factory: step chart of the model signals (−1/0/1) with the latest trade
    labelled (a one-point series whose name is the trade)."""
    return partial(_signal_chart, code, row, title)


def _signal_chart(code, row, title, ref, header):
    ch = xlc.date_chart(title, "Position", 900)
    ch.series.append(xlc.line(ref("FcChartSignals", code), ref("FcChartSignals", "Date"),
                                 "Signal", "1F3864"))
    lx, ly, ll = (ref("FcChartLatest", c) for c in ("Date", "Signal", "Label"))
    t = Series(xlc.cell(ly, row), xlc.cell(lx, row), title_from_data=False)
    cell = f"${get_column_letter(ll.min_col)}${ll.min_row + row}"
    t.tx = SeriesLabel(strRef=StrRef(f"'{ll.worksheet.title}'!{cell}"))
    t.marker.symbol = "circle"
    t.marker.size = 7
    t.dLbls = DataLabelList()
    t.dLbls.showSerName = True
    for flag in ("showVal", "showCatName", "showLegendKey", "showPercent"):
        setattr(t.dLbls, flag, False)
    t.dLbls.position = "t"
    ch.series.append(t)
    ch.legend = None
    ch.y_axis.scaling.min = -2
    ch.y_axis.scaling.max = 2
    ch.y_axis.majorUnit = 1
    return ch


def _charts(ctx: RefreshContext) -> SheetContent | None:
    codes = [c for c in ctx.data.instruments if c in ctx.cache.get("forecast_current", {})]
    if not codes:
        return None
    prices_t, steps_t, latest_t = _chart_tables(ctx, codes)
    summary = []
    for code in codes:
        inst, r = ctx.data.instruments[code], ctx.cache["forecast_current"][code]
        summary.append({
            "Code": code, "Name": inst.name,
            "1 Mo Forecast": (f"{r['forecast']:+.2f} pp" if inst.is_yield
                              else f"{r['forecast']:+.2%}"),
            "Position": POSITION_WORDS[r["position"]], "Trade": r["trade"],
            "Updated": r["updated"]})
    charts = []
    for i, code in enumerate(codes):
        inst = ctx.data.instruments[code]
        r = ctx.cache["forecast_current"][code]
        fc = (f"{r['forecast']:+.2f} pp" if inst.is_yield else f"{r['forecast']:+.2%}")
        sig_title = (f"Model Signals {code}" + (" (the bond)" if inst.is_yield else "") +
                     f": forecast {fc}, {POSITION_WORDS[r['position']]}" +
                     (f", {r['trade']}" if r["trade"] else ""))
        charts.append(ChartSpec(make=price_chart(code, f"{inst.name} ({code})", inst.is_yield),
                                height=7.0))
        charts.append(ChartSpec(make=signal_chart(code, i, sig_title), height=5.0))
    top = Table("ForecastChartSummary", pd.DataFrame(summary), formats={"Updated": DATE},
                title="Composite forecasts (summary of Tables 2, 4, 6, 8)",
                notes=["Forecasts: % change of the price (FX: the first currency); bonds: "
                       "yield change in percentage points."])
    return SheetContent("Charts", tables=[top], charts=charts,
                        data_tables=[prices_t, steps_t, latest_t],
                        intro=["Composite model: price history and model signals "
                               f"(last {CHART_MONTHS // 12} years; 1 Long, 0 Neutral, −1 Short; "
                               "latest trade labelled)"])


def _track_record(ctx: RefreshContext) -> SheetContent | None:
    frames, notes = [], []
    results = {}
    for code, inst in ctx.data.instruments.items():
        h = ctx.cache.get("forecast_history", {}).get(code)
        if h is None:
            continue
        tr = track_record(h, quote=inst.quote, band=_band(inst), maturity=inst.maturity)
        tr.insert(0, "Code", code)
        frames.append(tr)
        notes.append(verdict(code, tr))
        results[code] = tr
    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)
    ctx.cache["track_record"] = results
    comp = df[df["Model"] == "Composite"]
    n = int((comp["Months"] > 0).sum())
    wins = int((comp["OOS R²"] > 0).sum())
    sig = int(((comp["OOS R²"] > 0) & (comp["Clark-West"] > 1.2816)).sum())
    summary = (f"Overall: the composite beats the historical mean out of sample for {wins} of "
               f"{n} instruments (significantly, Clark-West > 1.28, for {sig}).")
    if wins == 0:
        summary += " It adds nothing over the historical mean forecast on this data."
    formats = {"Start": DATE, "End": DATE, "Months": INT, "OOS R²": PCT, "Clark-West": NUM2,
               "Hit Rate": PCT1, "Base Rate": PCT1, "Annual Return": PCT, "Volatility": PCT,
               "Sharpe": NUM2, "Max Drawdown": PCT, "Trades/Yr": "0.0"}
    assert set(formats) == set(METRICS)
    how = [
        "Every forecast was made with data dated on or before its month; all models of an "
        "instrument are scored on the same months, from the first month with a composite "
        "forecast to the last month whose next change is known.",
        "OOS R² vs the prevailing historical mean (> 0 beats it); Clark-West: t-statistic vs "
        "the mean (> 1.28 significant at 10%); Hit Rate: share of non-neutral months the "
        "position gained; Base Rate: share of those same months a long position gained. "
        "Strategy: hold "
        "the signal for one month, Neutral earns 0, no costs; Sharpe without a risk-free rate.",
    ]
    how.append("Caveat: series that are monthly averages (e.g. Moody's yields, a monthly-average "
               "oil price) have autocorrelated changes, which flatters their forecastability; "
               "an average cannot be traded.")
    return SheetContent("Track Record", tables=[Table(
        "ForecastTrackRecord", df, formats=formats,
        title="Composite forecast vs rivals — walk-forward, out of sample",
        notes=[summary] + notes + how)])


@register("forecasts", order=30)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """Tables 2, 4, 6, 8, ``Signals``, forecast charts and the forecast ``Track Record``."""
    out = []
    for ac, sheet in SHEETS.items():
        t = _forecast_table(ctx, ac)
        if t is not None:
            out.append(SheetContent(sheet, tables=[t]))
    if ctx.cache.get("forecast_history"):
        out.append(SheetContent("Signals", tables=[_signals(ctx)]))
    ch = _charts(ctx)
    if ch is not None:
        out.append(ch)
    tr = _track_record(ctx)
    if tr is not None:
        out.append(tr)
    return out
