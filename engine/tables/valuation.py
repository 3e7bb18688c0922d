"""Valuation tables (seed ``003_…`` Tables 3, 5, 7, 9), the valuation section of ``Track
Record``, and the valuation panels of ``Charts`` (Charts 2, 6: summary row, price with fair
value, σ; Chart 3: the stock indices' scatter), which :mod:`engine.tables.chart_sheet` lays
out.

Each table: ``Code``, the seed's columns in the seed's order, then ``To Fair Value (%)``,
``Frequency (%)`` and ``Fair Value`` (bonds: ``Fair Yield``), then ``Note`` only when some
instrument failed. Units (DESIGN.md): σ plain; valuation %, to-fair-value %, frequency and price
forecasts are decimals shown as percent (forecasts annualized); yields, fair yields and bond
forecasts (cumulative yield change over the horizon) in percentage points.

Bonds: ``Valuation (σ)`` is in yield terms (+ = yield above fair yield = the bond is cheap);
``Price Valuation (%)`` = price at the current yield of a bond with the instrument's
``Maturity`` and coupon = fair yield, over its price at the fair yield (par), − 1;
``To Fair Value (%)`` = the price move back to fair value, ``1/(1 + price valuation) − 1``.

The models' results come from :attr:`RefreshContext.results`
(:class:`~engine.models.instrument.InstrumentResult`: the walk-forward valuation, the reversion
of its asset class pooled across the workbook's instruments quoted alike — each member shrunk
toward the pooled reversion of the others and the class's literature prior, walk-forward by
date — and the horizon paths). For other builders: ``ctx.valuation_rows[code]`` = the
instrument's row of its table (only when it has one).
An instrument that fails the reversion test gets the historical mean change in its horizon
columns, and the note under the table says why.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.inputs.data import Instrument
from engine.inputs.sampling import month_end_index
from engine.models.bonds import price_valuation
from engine.domain import MIN_HISTORY
from engine.models.horizons import HORIZON_LABELS, HORIZONS, evaluate_horizons
from engine.models.reversion import PRIORS, fallback_reason
from engine.models.valuation import residual_stationarity
from engine.tables.base import (DATE, INT, NUM, NUM2, PCT, YIELD, RefreshContext,
                                SheetContent, Table, register)
from engine.tables.charts import Axis, ChartSpec, Ref, Series
from engine.tables.labels import panel_notes, stale_quote_note, synthetic_euro_note

SHEETS = {"Equity": "Stock Valuation", "Bond": "Bond Valuation", "FX": "FX Valuation",
          "Commodity": "Commodity Valuation"}
TABLE_NAMES = {"Equity": "StockValuation", "Bond": "BondValuation", "FX": "FXValuation",
               "Commodity": "CommodityValuation"}
HZ = [HORIZON_LABELS[h] for h in HORIZONS]
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
    """Walk-forward valuation history and horizon paths of one instrument (from
    :attr:`RefreshContext.results`: its asset class pooled); its own exception if it
    failed."""
    r = ctx.results[code]
    if r.valuation_error is not None:
        raise r.valuation_error
    return r.valuation, r.paths


def _row(ctx: RefreshContext, inst: Instrument) -> dict:
    h, _ = instrument_valuation(ctx, inst.code)
    n = int(ctx.data.prices[inst.code].notna().sum())
    if h.empty or not math.isfinite(h["sigma"].iloc[-1]):
        raise ValueError(f"need {MIN_HISTORY} months of prices for a valuation, got {n}")
    last = h.iloc[-1]
    fc = ctx.results[inst.code].horizons.iloc[-1]
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
    h = ctx.results[code].valuation
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
                                   min_history=MIN_HISTORY, roles=d.roles_for(code))
    except Exception:  # noqa: BLE001 - a diagnostic must never fail the row
        return note + "."
    p = st["pvalue"]
    verdict = ("the deviation mean-reverts" if p < 0.05 else
               "weak evidence that the deviation mean-reverts" if p < 0.10 else
               "no evidence that the deviation mean-reverts: read σ with caution")
    return note + f"; {verdict} (Engle–Granger/ADF p = {p:.3f})."


def _reversion_note(ctx: RefreshContext, code: str) -> str | None:
    """How the horizon columns were made: the reversion in force on the last date (half-life,
    own months and weight, what it was pooled with) — or, when the instrument failed the
    reversion test, that its horizon columns are the historical mean change, and why."""
    rev = ctx.results[code].reversion
    if rev is None or rev.empty:
        return None
    r = rev.iloc[-1]
    inst = ctx.data.instruments[code]
    why = fallback_reason(r)
    if why is not None:
        return (f"{code}: no valuation-based forecast — {why}; its horizon columns show the "
                "historical mean change instead.")
    pool = (f"the pooled estimate of {int(r['members'])} other "
            f"{inst.asset_class.lower()} instrument(s) ({int(r['n_panel'])} months) and"
            if r["members"] > 0 else "")
    prior = PRIORS[inst.asset_class]
    return (f"{code}: horizon forecasts revert toward fair value with a half-life of "
            f"{r['half_life']:.1f} years (monthly ρ = {r['rho']:.4f}: its own "
            f"{int(r['n_own'])} months weighted {r['weight']:.0%}, the rest {pool} the "
            f"literature prior of {prior.half_life_years:g} years, {prior.source}).")


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
        ctx.valuation_rows[inst.code] = row
        for note in (_model_note(ctx, inst.code), _reversion_note(ctx, inst.code)):
            if note:
                notes.append(note)
    if any("Note" in r for r in rows):
        cols.append("Note")
    df = pd.DataFrame(rows).reindex(columns=cols)
    if asset_class == "Bond":
        head = ("Valuation (σ) in yield terms: + = yield above fair yield (bond cheap). "
                "Price Valuation (%): price at today's yield of a bond with coupon = fair yield "
                "over par, − 1. Horizon columns: cumulative yield change forecast over the "
                "horizon, percentage points: the historical mean change plus the expected "
                "reversion toward the fair yield.")
    else:
        who = "the first (base) currency" if asset_class == "FX" else "the price"
        head = (f"Valuation (σ): + = above fair value. Valuation (%) = P/FV − 1; To Fair Value "
                f"(%) = FV/P − 1. Horizon columns: annualized return forecast for {who}, "
                "based solely on current valuation: the historical mean change plus the "
                "expected reversion toward fair value (rich: below the mean, cheap: above).")
    notes = [head, "Frequency (%): share of the instrument's own history at least as extreme "
             "as today's σ. Every figure uses only data dated on or before its date."] + notes
    notes += [n for n in (stale_quote_note(insts, ctx.data.prices),
                          synthetic_euro_note(insts, ctx.data.prices)) if n]
    return Table(TABLE_NAMES[asset_class], df, formats=_formats(asset_class), notes=notes)


# --------------------------------------------------------------------------- charts

def chart_codes(ctx: RefreshContext) -> list[str]:
    """Instruments with a valuation row this refresh (in Instruments order): those the
    valuation charts show."""
    return [c for c in ctx.data.instruments if c in ctx.valuation_rows]


def chart_feed(ctx: RefreshContext, code: str, key: str) -> Table:
    """Chart feed ``ValChart_<key>``: Date (month-end), Price and Fair Value (bonds: Yield and
    Fair Yield) and Valuation (σ), the last CHART_MONTHS months with a σ."""
    inst = ctx.data.instruments[code]
    h = ctx.results[code].valuation
    s = h[h["sigma"].notna()].iloc[-CHART_MONTHS:]
    px, fv = ("Yield", "Fair Yield") if inst.is_yield else ("Price", "Fair Value")
    df = pd.DataFrame({"Date": month_end_index(s.index),
                       px: ctx.data.prices[code].reindex(s.index).to_numpy(dtype=float),
                       fv: s["fair_value"].to_numpy(dtype=float),
                       "Valuation (σ)": s["sigma"].to_numpy(dtype=float)})
    df = df[~df["Date"].duplicated(keep="last")].reset_index(drop=True)
    fmt = (YIELD if inst.is_yield else FX_NUM if inst.asset_class == "FX" else NUM)
    return Table(f"ValChart_{key}", df, formats={"Date": DATE, px: fmt, fv: fmt,
                                                 "Valuation (σ)": NUM2})


def summary_table(ctx: RefreshContext, code: str, key: str,
                  shown_from: pd.Timestamp | None = None) -> Table:
    """``ChartVal_<key>``: the instrument's valuation as the chart's heading (Charts 2, 6):
    Code, Name, Valuation (σ), Valuation (%) (bonds: Price Valuation (%)), and the 1 Yr and
    3 Yr valuation-based forecasts (annualized returns; bonds: yield changes in points).
    ``shown_from``: the first month the panel's charts show, for the synthetic-euro note."""
    inst = ctx.data.instruments[code]
    row = ctx.valuation_rows[code]
    pct = "Price Valuation (%)" if inst.asset_class == "Bond" else "Valuation (%)"
    df = pd.DataFrame([{"Code": code, "Name": inst.name, "Valuation (σ)": row["Valuation (σ)"],
                        pct: row.get(pct, np.nan), "1 Yr": row["1 Yr"], "3 Yr": row["3 Yr"]}])
    hz = YIELD if inst.asset_class == "Bond" else PCT
    return Table(f"ChartVal_{key}", df, {"Valuation (σ)": NUM2, pct: PCT, "1 Yr": hz,
                                         "3 Yr": hz},
                 title=f"{inst.label}: valuation",
                 notes=panel_notes(inst, ctx.data.prices.get(code), shown_from))


def _value_format(inst: Instrument, values) -> str:
    if inst.is_yield:
        return YIELD
    v = pd.to_numeric(pd.Series(values), errors="coerce").abs().max()
    return NUM2 if not np.isfinite(v) or v < 20 else "#,##0"


def price_chart(ctx: RefreshContext, code: str, feed: Table) -> ChartSpec:
    """Charts 2, 6 (top): the price (or yield) and its walk-forward fair value (fair yield)."""
    inst = ctx.data.instruments[code]
    px, fv = ("Yield", "Fair Yield") if inst.is_yield else ("Price", "Fair Value")
    t = feed.name
    return ChartSpec(
        title=f"{code}: " + ("yield and walk-forward fair yield" if inst.is_yield else
                             "price and walk-forward fair value"),
        series=(Series(px, Ref(t, "Date"), Ref(t, px), color="1F3864"),
                Series(fv, Ref(t, "Date"), Ref(t, fv), color="7F7F7F", dash="dash")),
        x_axis=Axis("", "yyyy", dates=True, gridlines=False),
        y_axis=Axis(inst.level_title,
                    _value_format(inst, feed.df[[px, fv]].to_numpy().ravel())),
        legend="bottom", width=18.0, height=7.0)


def sigma_chart(ctx: RefreshContext, code: str, feed: Table) -> ChartSpec:
    """Charts 2, 6 (bottom): valuation in standard deviations on the seed's fixed −3…+3 scale
    (a σ beyond ±3 runs off it), dashed bands at ±BAND σ."""
    inst = ctx.data.instruments[code]
    t = feed.name
    return ChartSpec(
        title=f"{code} valuation (σ" + (", + = yield above fair" if inst.is_yield else "")
              + f"), bands at ±{BAND}σ",
        series=(Series("Valuation (σ)", Ref(t, "Date"), Ref(t, "Valuation (σ)"),
                       color="C00000"),),
        x_axis=Axis("", "yyyy", dates=True, gridlines=False),
        y_axis=Axis("σ", INT,
                    minimum=-3, maximum=3, major_unit=1),
        bands=(-BAND, BAND), width=18.0, height=5.5, title_size=9.0)


def chart_panel(ctx: RefreshContext, code: str, key: str) -> tuple[list, list[Table]]:
    """Charts 2, 6 for one instrument: (blocks, feeds) = ([summary table, price and fair value
    chart, σ chart], [its feed])."""
    feed = chart_feed(ctx, code, key)
    start = feed.df["Date"].iloc[0] if len(feed.df) else None
    return ([summary_table(ctx, code, key, start), price_chart(ctx, code, feed),
             sigma_chart(ctx, code, feed)], [feed])


SCATTER = "ValScatter"


def scatter_panel(ctx: RefreshContext, codes: list[str]) -> list:
    """Chart 3: the table ``ValScatter`` (Code, Stock Index, Valuation (σ), Valuation (%),
    1 Yr) of the stock indices in ``codes``, then the scatter of Valuation (%) (x) against
    the 1-year valuation-based forecast (y), one point per index labelled with its code
    (indices without a 1-year forecast are in the table, not on the chart)."""
    rows = []
    for c in codes:
        r = ctx.valuation_rows[c]
        rows.append({"Code": c, "Stock Index": ctx.data.instruments[c].name,
                     "Valuation (σ)": r["Valuation (σ)"], "Valuation (%)": r["Valuation (%)"],
                     "1 Yr": r["1 Yr"]})
    df = pd.DataFrame(rows, columns=["Code", "Stock Index", "Valuation (σ)", "Valuation (%)",
                                     "1 Yr"])
    table = Table(SCATTER, df, {"Valuation (σ)": NUM2, "Valuation (%)": PCT, "1 Yr": PCT},
                  title="Stock indices: valuation vs 1-year valuation-based forecast")
    series = tuple(
        Series(Ref(SCATTER, "Code", i), Ref(SCATTER, "Valuation (%)", i), Ref(SCATTER, "1 Yr", i),
               color="1F3864", marker="circle", marker_size=8, label="right")
        for i in range(len(df))
        if np.isfinite(df["Valuation (%)"].iloc[i]) and np.isfinite(df["1 Yr"].iloc[i]))
    if not series:
        return [table]
    chart = ChartSpec(
        title="Stock indices: valuation vs 1-year valuation-based forecast",
        series=series, kind="scatter",
        x_axis=Axis("Valuation (%) = P/FV − 1 (negative = below fair value)", "0%"),
        y_axis=Axis("1-year valuation-based forecast (annualized return, %)", "0%"),
        width=18.0, height=9.0)
    return [table, chart]


# --------------------------------------------------------------------------- track record

def _track_record(ctx: RefreshContext, done: list[str]) -> SheetContent | None:
    frames, notes = [], []
    for code in done:
        inst = ctx.data.instruments[code]
        h, paths = ctx.results[code].valuation, ctx.results[code].paths
        ev = evaluate_horizons(ctx.data.prices[code], h, quote=inst.quote, paths=paths)
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
    tr = _track_record(ctx, chart_codes(ctx))
    if tr is not None:
        out.append(tr)
    return out
