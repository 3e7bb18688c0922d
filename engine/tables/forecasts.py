"""Forecast tables (seed ``003_…`` Tables 2, 4, 6, 8), the ``Signals`` sheet, the forecast
section of ``Track Record``, and the forecast panels of ``Charts`` (Charts 1, 4, 5: summary
row, price chart, Model Signals chart), which :mod:`engine.tables.chart_sheet` lays out.

Table conventions (DESIGN.md): ``Code`` first, the seed's columns with the seed's headers,
``Phase`` last (then ``Note`` only when some instrument failed or has a suspect input value:
``input suspect: Prices!B2355``, :mod:`engine.inputs.plausibility`). Forecasts are decimals shown as
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

The walk-forward histories are the models' results (:attr:`RefreshContext.results`); the
current rows go to ``ctx.forecast_rows[code]`` for the History builder and the charts.

Reuse across refreshes: when the pipeline sets ``ctx.fit_store`` to a mutable mapping
(e.g. a dict loaded from a JSON file kept beside the
workbook, saved after the refresh), the Markov estimations are read from and added to it. Its
keys are SHA-1 hashes of the data up to each refit date (:func:`engine.models.regimes.fit_key`),
so a stored fit is only ever reused for exactly the same data; a monthly refresh then only
estimates the refits that are new.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.inputs.data import Instrument
from engine.inputs.sampling import month_end_index
from engine.domain import MIN_TRAIN
from engine.models.signals import (POSITION_WORDS, default_band, position, to_position,
                                   trade, update_date_of)
from engine.models.track_record import METRICS, verdict
from engine.tables.base import (DATE, INT, NUM, NUM2, PCT, PCT1, YIELD, RefreshContext,
                                SheetContent, Table, register)
from engine.tables.charts import Axis, ChartSpec, Ref, Series
from engine.tables.labels import panel_notes, stale_quote_note, synthetic_euro_note

SHEETS = {"Equity": "Stock Forecasts", "Bond": "Bond Forecasts", "FX": "FX Forecasts",
          "Commodity": "Commodity Forecasts"}
# (name column, price column, forecast column) per asset class, the seed's headers
_HEAD = {
    "Equity": ("Stock Index", "Price", "1 Mo Forecast"),
    "Bond": ("Debt Instrument", "Current Yield", "1 Mo Yield Forecast"),
    "FX": ("Currency", "Spot FX Rate", "1 Mo Forecast"),
    # the seed's "Cash/Futures Price ($)" loses its "($)": the levels are not all dollars
    # (the demo's gold and silver are index levels); the Unit column beside it says what
    # each is (Instrument.unit_label)
    "Commodity": ("Commodity", "Cash/Futures Price", "1 Month Forecast"),
}
CHART_MONTHS = 120  # the charts show the last ten years ("the past several years")


def instrument_history(ctx: RefreshContext, code: str) -> pd.DataFrame:
    """Walk-forward forecast history of one instrument (from :attr:`RefreshContext.results`);
    the composite's own exception if it refused the data."""
    r = ctx.results[code]
    if r.forecast_error is not None:
        raise r.forecast_error
    return r.history


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
    band = ctx.results[code].input.neutral_band
    last = h.iloc[-1]
    fc = float(last["forecast"])
    if not np.isfinite(fc):
        raise ValueError(f"not enough history for a forecast ({len(h)} months of prices; "
                         f"the model needs {MIN_TRAIN + 2} consecutive months)")
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
        "updated": update_date_of(h.index[-1], inst.update, inst.calendar),
        "phase": last["phase"],
        "last_date": h.index[-1], "regime_prob": float(last["regime_prob"]),
        "sigma": float(last["sigma"]),
    }


def suspect_note(ctx: RefreshContext, code: str) -> str:
    """``input suspect: Prices!B2355, Fundamentals!C40`` when the instrument's prices or Fair
    Value Inputs hold a suspect value (:mod:`engine.inputs.plausibility`), else ``""``."""
    cells = [p.where for p in ctx.data.suspects.get(code, [])]
    return f"input suspect: {', '.join(cells)} (see Data Status)" if cells else ""


def _forecast_table(ctx: RefreshContext, asset_class: str) -> Table | None:
    insts = ctx.data.by_class(asset_class)
    if not insts:
        return None
    name_col, price_col, fc_col = _HEAD[asset_class]
    rows, notes = [], []
    current = ctx.forecast_rows
    for inst in insts:
        base = {"Code": inst.code}
        if asset_class != "FX":
            base["Country"] = inst.country
        base[name_col] = inst.name
        suspect = suspect_note(ctx, inst.code)
        try:
            r = current_row(ctx, inst.code)
        except Exception as e:  # noqa: BLE001 - one instrument must not stop the others
            reason = f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else str(e)
            ctx.fail(inst.code, reason)
            rows.append({**base, "Note": "; ".join(filter(None, [reason, suspect]))})
            continue
        current[inst.code] = r
        rows.append({**base, price_col: r["price"], "Unit": inst.unit_label,
                     fc_col: r["forecast"],
                     "Previous Forecast": r["previous"],
                     "Position": POSITION_WORDS[r["position"]], "Trade": r["trade"],
                     "Updated": r["updated"], "Phase": r["phase"],
                     **({"Note": suspect} if suspect else {})})
    cols = ["Code"] + (["Country"] if asset_class != "FX" else []) + [
        name_col, price_col] + (["Unit"] if asset_class == "Commodity" else []) + [
        fc_col, "Previous Forecast", "Position", "Trade", "Updated", "Phase"]
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
    if asset_class == "Commodity":
        notes.append("Unit: what each Cash/Futures Price is (Instruments Unit column; USD when "
                     "blank): an index level is not a dollar price.")
    notes += [n for n in (stale_quote_note(insts, ctx.data.prices),
                          synthetic_euro_note(insts, ctx.data.prices)) if n]
    return Table(name=f"{asset_class}Forecasts", df=df, formats=formats, notes=notes)


def _signals(ctx: RefreshContext) -> Table:
    cols = {}
    for code in ctx.data.instruments:
        h = ctx.results[code].history
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


# --------------------------------------------------------------------------- charts
# The Charts sheet itself is laid out by engine.tables.chart_sheet; the pieces are here.

LATEST = "FcChartLatest"   # chart feed: the latest trade per instrument (one row each)


def price_format(values) -> str:
    """Tick format for a price axis: two decimals under 20 (FX rates, yields), else whole
    numbers with thousands separators."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").abs().max()
    return NUM2 if not np.isfinite(v) or v < 20 else "#,##0"


def _chart_window(ctx: RefreshContext, code: str) -> pd.DataFrame:
    """The months the forecast charts show: the last CHART_MONTHS months, from the first
    with a position on (a month without one inside the window stays, as a gap in the Model
    Signals), dated by month-end."""
    h = ctx.results[code].history
    first = h["position"].first_valid_index()
    s = (h.loc[first:] if first is not None else h.iloc[:0]).iloc[-CHART_MONTHS:]
    out = pd.DataFrame({"price": s["price"].to_numpy(dtype=float),
                        "position": s["position"].to_numpy(dtype=float)},
                       index=month_end_index(s.index))
    return out[~out.index.duplicated(keep="last")]


def latest_trade(ctx: RefreshContext, code: str) -> dict:
    """The point the Model Signals chart labels: this update's trade (Trade column of Tables
    2, 4, 6, 8) at the last date; when this update has none, the latest position change in
    the chart's window, labelled with its trade code; ``"no trade"`` when there is none."""
    r = ctx.forecast_rows[code]
    w = _chart_window(ctx, code)
    last = month_end_index(pd.DatetimeIndex([r["last_date"]]))[0]
    if r["trade"]:
        return {"Code": code, "Date": last, "Signal": r["position"], "Label": r["trade"]}
    pos = w["position"].to_numpy()
    moved = np.flatnonzero(pos[1:] != pos[:-1])
    if len(moved):
        k = int(moved[-1]) + 1
        return {"Code": code, "Date": w.index[k], "Signal": int(pos[k]),
                "Label": trade(int(pos[k - 1]), int(pos[k]))}
    return {"Code": code, "Date": last, "Signal": r["position"], "Label": "no trade"}


def latest_table(ctx: RefreshContext, codes: list[str]) -> Table:
    """Chart feed ``FcChartLatest``: Code, Date, Signal (1/0/−1) and Label (the trade code)
    of the point each Model Signals chart labels, one row per instrument in ``codes``."""
    df = pd.DataFrame([latest_trade(ctx, c) for c in codes],
                      columns=["Code", "Date", "Signal", "Label"])
    df["Date"] = pd.to_datetime(df["Date"])
    return Table(LATEST, df, formats={"Date": DATE, "Signal": INT})


def chart_feeds(ctx: RefreshContext, code: str, key: str) -> tuple[Table, Table]:
    """The instrument's chart feeds: ``FcPrices_<key>`` (Date, Price or Yield, one row per
    month of the window) and ``FcSignals_<key>`` (Date, Signal as steps: every date after
    the first twice, the previous position, then the new one)."""
    inst = ctx.data.instruments[code]
    w = _chart_window(ctx, code)
    col = "Yield" if inst.is_yield else "Price"
    prices = pd.DataFrame({"Date": w.index, col: w["price"].to_numpy()})
    prev = w["position"].shift(1)
    steps = pd.concat([pd.DataFrame({"Date": w.index, "Signal": prev.to_numpy(), "_k": 0}),
                       pd.DataFrame({"Date": w.index, "Signal": w["position"].to_numpy(),
                                     "_k": 1})])
    steps = steps.sort_values(["Date", "_k"], kind="stable").drop(columns="_k")
    steps = steps.iloc[1:].reset_index(drop=True)  # the first date has no previous position
    fmt = YIELD if inst.is_yield else price_format(w["price"])
    return (Table(f"FcPrices_{key}", prices, formats={"Date": DATE, col: fmt}),
            Table(f"FcSignals_{key}", steps, formats={"Date": DATE, "Signal": INT}))


def summary_table(ctx: RefreshContext, code: str, key: str,
                  shown_from: pd.Timestamp | None = None) -> Table:
    """``ChartFc_<key>``: the instrument's row of Table 2, 4, 6 or 8 as the chart's heading
    (Code, Name, the forecast, Previous Forecast, Position, Trade, Updated), real numbers
    with the table's number formats; notes: a stale quote, the synthetic euro when the
    panel shows months before 1999 (``shown_from``: its first month)."""
    inst = ctx.data.instruments[code]
    r = ctx.forecast_rows[code]
    fc_col = _HEAD[inst.asset_class][2]
    df = pd.DataFrame([{"Code": code, "Name": inst.name, fc_col: r["forecast"],
                        "Previous Forecast": r["previous"],
                        "Position": POSITION_WORDS[r["position"]], "Trade": r["trade"],
                        "Updated": pd.Timestamp(r["updated"])}])
    fmt = YIELD if inst.is_yield else PCT
    return Table(f"ChartFc_{key}", df, {fc_col: fmt, "Previous Forecast": fmt, "Updated": DATE},
                 title=f"{inst.label}: composite forecast",
                 notes=panel_notes(inst, ctx.data.prices.get(code), shown_from))


def price_chart(ctx: RefreshContext, code: str, prices: Table) -> ChartSpec:
    """Charts 1, 4, 5 (top): the instrument's price (or yield) over the chart window."""
    inst = ctx.data.instruments[code]
    col = "Yield" if inst.is_yield else "Price"
    return ChartSpec(
        title=inst.label + (": yield (%)" if inst.is_yield else ""),
        series=(Series(code, Ref(prices.name, "Date"), Ref(prices.name, col), color="1F3864"),),
        x_axis=Axis("", "yyyy", dates=True, gridlines=False),
        y_axis=Axis(inst.level_title, prices.formats[col]), width=18.0, height=7.0)


def signal_chart(ctx: RefreshContext, code: str, steps: Table, row: int) -> ChartSpec:
    """Charts 1, 4, 5 (bottom): Model Signals as steps on a fixed −2…2 scale, the point of
    the latest trade marked and labelled with the ``Label`` cell of row ``row`` of
    ``FcChartLatest``."""
    inst = ctx.data.instruments[code]
    latest = Series(Ref(LATEST, "Label", row), Ref(LATEST, "Date", row),
                    Ref(LATEST, "Signal", row), color="C00000", marker="circle",
                    label="top")
    return ChartSpec(
        title=f"Model Signals {code}" + (" (the bond: 1 = Long, yield expected to fall)"
                                         if inst.is_yield else ": 1 Long, 0 Neutral, −1 Short"),
        series=(Series("Signal", Ref(steps.name, "Date"), Ref(steps.name, "Signal"),
                       color="1F3864"), latest),
        x_axis=Axis("", "yyyy", dates=True, gridlines=False),
        y_axis=Axis("Position", INT, minimum=-2, maximum=2, major_unit=1),
        width=18.0, height=5.0, title_size=9.0)


def chart_panel(ctx: RefreshContext, code: str, key: str, row: int
                ) -> tuple[list, list[Table]]:
    """Charts 1, 4, 5 for one instrument: (blocks, feeds) = ([summary table, price chart,
    Model Signals chart], [its price and signal feeds]); ``row`` is its row in
    ``FcChartLatest``."""
    prices, steps = chart_feeds(ctx, code, key)
    start = prices.df["Date"].iloc[0] if len(prices.df) else None
    return ([summary_table(ctx, code, key, start), price_chart(ctx, code, prices),
             signal_chart(ctx, code, steps, row)], [prices, steps])


def _track_record(ctx: RefreshContext) -> SheetContent | None:
    frames, notes = [], []
    for code in ctx.data.instruments:
        r = ctx.results[code]
        if r.track_record is None:
            continue
        tr = r.track_record.copy()
        tr.insert(0, "Code", code)
        frames.append(tr)
        notes.append(verdict(code, tr, r.history))
    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)
    comp = df[df["Model"] == "Composite"]
    n = int((comp["Months"] > 0).sum())
    wins = int((comp["OOS R²"] > 0).sum())
    sig = int(((comp["OOS R²"] > 0) & (comp["Clark-West"] > 1.2816)).sum())
    summary = (f"Overall: the composite beats the historical mean out of sample for {wins} of "
               f"{n} instruments (significantly, Clark-West > 1.28, for {sig}).")
    if wins == 0:
        summary += " It adds nothing over the historical mean forecast on this data."
    formats = {"Start": DATE, "End": DATE, "Months": INT, "Coverage": PCT1, "OOS R²": PCT,
               "OOS R² vs 0": PCT, "Clark-West": NUM2, "Equal Share": PCT1, "Hit Rate": PCT1,
               "Base Rate": PCT1, "PT": NUM2, "Annual Return": PCT, "Volatility": PCT,
               "Sharpe": NUM2, "Max Drawdown": PCT, "Trades/Yr": "0.0"}
    assert set(formats) | {"Equal To"} == set(METRICS)
    how = [
        "Every forecast was made with data dated on or before its month; all models of an "
        "instrument are scored on the same months, from the first month with a composite "
        "forecast to the last month whose next change is known.",
        "OOS R² vs the prevailing historical mean (> 0 beats it), and vs zero change; "
        "Clark-West: t-statistic vs the mean (> 1.28 significant at 10%); Coverage: share of "
        "the months the model had its own forecast (otherwise it is scored as the mean); "
        "Equal To / Equal Share: the rival the forecast equals most often and how often.",
        "Rivals: zero change (Random walk), AR(1) on changes, the sign of 12-1 momentum, "
        "valuation σ alone, and one expanding regression per fundamental (e.g. log D/P), each "
        "re-estimated every month on past data only.",
        "Strategy: hold the signal for one month, Neutral earns 0, no costs; Hit Rate: share "
        "of non-neutral months the position's direction was right; Base Rate: share of those "
        "same months a long position's was right; PT: Pesaran-Timmermann test of the "
        "positions' direction (> 1.28 significant at 10%); Sharpe without a risk-free rate.",
        "Direction for yields (bonds) is scored on the sign of the yield change, not on the "
        "bond's return: a long is right when the yield falls, a short when it rises; months "
        "without a move (an unchanged yield) are left out of both rates, as of PT. The "
        "return includes the carry (yield/12), positive almost every month, which would put a T-bill's base rate near 100%; the "
        "strategy returns (Annual Return, Sharpe, Max Drawdown) still include it.",
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
    """Tables 2, 4, 6, 8, ``Signals`` and the forecast ``Track Record`` (the charts:
    :mod:`engine.tables.chart_sheet`)."""
    out = []
    for ac, sheet in SHEETS.items():
        t = _forecast_table(ctx, ac)
        if t is not None:
            out.append(SheetContent(sheet, tables=[t]))
    if any(r.history is not None for r in ctx.results.values()):
        out.append(SheetContent("Signals", tables=[_signals(ctx)]))
    tr = _track_record(ctx)
    if tr is not None:
        out.append(tr)
    return out
