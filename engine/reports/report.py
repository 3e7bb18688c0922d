"""The monthly Macro Intelligence Report (``gamma report WORKBOOK --out FILE.pdf``).

Content, in order: a dated cover with the contents and a list of what is missing; one section
per asset class (Equity, Fixed Income, Currencies, Commodities) with its forecast and
valuation tables (seed ``003_…`` Tables 2–9) and charts (price with model signals, price with
valuation σ, the valuation scatter: Charts 1–6); the Track Record summary; the real-GDP gap.

Tables are rendered from the :class:`~engine.tables.base.SheetContent` lists the refresh
builders produced (``Table.df`` with ``Table.formats``). Charts are re-plotted from the
chart-feed ``data_tables`` of those sheets: a table with a date column becomes a time-series
chart (price-like columns on top; position/signal and σ columns in a lower panel), a table
without dates and with two numeric columns becomes a scatter (first column on x, second on y,
points labelled by the first text column). When an asset class has no charts, its price
histories are plotted from :class:`WorkbookData` and labelled as such. Whatever is absent is
listed on the cover and in its section — the report never fails for a missing table.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from engine.inputs.data import WorkbookData
from engine.models.performance import setting
from engine.reports.pages import PageWriter
from engine.reports.render import GREY, NAVY, PALETTE, wrap
from engine.tables.base import RefreshContext, SheetContent, Table

__all__ = ["SECTIONS", "write_report"]

# (section title, asset class, forecast sheet, valuation sheet)
SECTIONS = (("Equity Markets", "Equity", "Stock Forecasts", "Stock Valuation"),
            ("Fixed Income", "Bond", "Bond Forecasts", "Bond Valuation"),
            ("Currencies", "FX", "FX Forecasts", "FX Valuation"),
            ("Commodities", "Commodity", "Commodity Forecasts", "Commodity Valuation"))
SKIP_APPENDIX = {"Data Status", "History", "Performance", "GDP Gap", "Track Record", "Charts",
                 "Signals"}
GDP_TITLE = "Real GDP gap (deferred demand)"
LOWER = re.compile(r"position|signal|σ|sigma|regime|prob|phase", re.IGNORECASE)


def _key(s: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(s).lower())


def _by_sheet(tables: dict[str, list[SheetContent]] | None) -> dict[str, SheetContent]:
    out: dict[str, SheetContent] = {}
    for contents in (tables or {}).values():
        for sc in contents or []:
            cur = out.setdefault(sc.sheet, SheetContent(sc.sheet))
            cur.blocks += sc.blocks
            cur.data_tables += sc.data_tables
            cur.intro += sc.intro
    return out


def _date_col(df: pd.DataFrame) -> str | None:
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]) or str(c).strip().lower() == "date":
            return c
    return None


def _numeric(df: pd.DataFrame, exclude=()) -> list[str]:
    return [c for c in df.columns if c not in exclude and pd.api.types.is_numeric_dtype(df[c])
            and df[c].notna().any()]


def _plot_series(table: Table):
    df = table.df
    dc = _date_col(df)
    x = pd.to_datetime(df[dc], errors="coerce")
    nums = _numeric(df, exclude=(dc,))
    low = [c for c in nums if LOWER.search(str(c))]
    top = [c for c in nums if c not in low]
    title = table.title or table.name

    def draw(fig, rect):
        l, b, w, h = rect
        if low and top:
            ax = fig.add_axes([l, b + h * 0.38, w, h * 0.62])
            ax2 = fig.add_axes([l, b, w, h * 0.30], sharex=ax)
        else:
            ax, ax2 = fig.add_axes(rect), None
        for i, c in enumerate(top or low):
            ax.plot(x, df[c].to_numpy(dtype=float), lw=1.1, color=PALETTE[i % len(PALETTE)],
                    label=str(c))
        if ax2 is not None:
            for i, c in enumerate(low):
                y = df[c].to_numpy(dtype=float)
                if re.search(r"position|signal", str(c), re.IGNORECASE):
                    ax2.step(x, y, where="post", lw=1.0, color=PALETTE[(i + 1) % 7],
                             label=str(c))
                    ax2.set_yticks([-1, 0, 1], ["Short", "Neutral", "Long"])
                else:
                    ax2.plot(x, y, lw=1.0, color=PALETTE[(i + 1) % 7], label=str(c))
                    if re.search(r"σ|sigma", str(c), re.IGNORECASE):
                        for lv in (-2, -1, 1, 2):
                            ax2.axhline(lv, color=GREY, lw=0.5, ls=":")
            ax2.legend(fontsize=6, frameon=False, loc="upper left")
            ax2.axhline(0, color=GREY, lw=0.5)
        ax.set_title(title, fontsize=9, color=NAVY, loc="left", weight="bold")
        ax.legend(fontsize=6.5, frameon=False, loc="upper left")
        for a in (ax, ax2):
            if a is None:
                continue
            a.tick_params(labelsize=6.5)
            a.grid(alpha=0.3, lw=0.5)
            loc = mdates.AutoDateLocator(minticks=4, maxticks=10)
            a.xaxis.set_major_locator(loc)
            a.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        if ax2 is not None:
            ax.tick_params(labelbottom=False)
    return draw


def _plot_scatter(table: Table):
    df = table.df
    nums = _numeric(df)
    xc, yc = nums[0], nums[1]
    labels = next((df[c] for c in df.columns if df[c].dtype == object or
                   pd.api.types.is_string_dtype(df[c])), None)
    title = table.title or table.name

    def draw(fig, rect):
        ax = fig.add_axes([rect[0] + 0.15, rect[1], rect[2] - 0.30, rect[3]])
        xs, ys = df[xc].to_numpy(dtype=float), df[yc].to_numpy(dtype=float)
        ax.scatter(xs, ys, s=22, color=NAVY, zorder=3)
        if labels is not None:
            for xv, yv, t in zip(xs, ys, labels):
                if np.isfinite(xv) and np.isfinite(yv):
                    ax.annotate(str(t), (xv, yv), fontsize=6.5, xytext=(4, 3),
                                textcoords="offset points")
        ax.margins(0.12)
        ax.axhline(0, color=GREY, lw=0.6)
        ax.axvline(0, color=GREY, lw=0.6)
        for col, axis, vals in ((xc, ax.xaxis, xs), (yc, ax.yaxis, ys)):
            fin = vals[np.isfinite(vals)]
            if fin.size and not re.search(r"σ|sigma", str(col), re.IGNORECASE) and \
                    np.abs(fin).max() < 2:  # decimal returns -> percent axis
                axis.set_major_formatter(mticker.PercentFormatter(1.0))
        ax.set_xlabel(str(xc), fontsize=7.5)
        ax.set_ylabel(str(yc), fontsize=7.5)
        ax.set_title(title, fontsize=9, color=NAVY, loc="left", weight="bold")
        ax.tick_params(labelsize=6.5)
        ax.grid(alpha=0.3, lw=0.5)
    return draw


def _chart_for(table: Table):
    """A draw function for a chart-feed table, or None when it is not chartable."""
    df = table.df
    if df is None or df.empty:
        return None
    if _date_col(df) is not None and _numeric(df, exclude=(_date_col(df),)):
        return _plot_series(table)
    if len(_numeric(df)) >= 2:
        return _plot_scatter(table)
    return None


# chart feeds of the forecast and valuation builders (engine/tables/forecasts.py, valuation.py)
KNOWN_FEEDS = ("FcChartPrices", "FcChartSignals", "FcChartLatest", "ValChartPrices",
               "ValChartSigma", "ValScatter")


def _style(ax, title: str | None = None, dates: bool = True) -> None:
    if title:
        ax.set_title(title, fontsize=8, color=NAVY, loc="left", weight="bold")
    ax.tick_params(labelsize=6.5)
    ax.grid(alpha=0.3, lw=0.5)
    if dates:
        loc = mdates.AutoDateLocator(minticks=4, maxticks=9)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _instrument_pair(feeds: dict[str, pd.DataFrame], inst):
    """Draw function: price with model signals (seed Chart 1) on the left, price with its fair
    value above valuation σ (Charts 2/6) on the right, for one instrument; None when neither
    feed has it."""
    code = inst.code
    fp, fs = feeds.get("FcChartPrices"), feeds.get("FcChartSignals")
    vp, vs = feeds.get("ValChartPrices"), feeds.get("ValChartSigma")
    has_fc = fp is not None and fs is not None and code in fp and code in fs
    has_val = vp is not None and vs is not None and code in vp and code in vs
    if not (has_fc or has_val):
        return None
    unit = "yield, %" if inst.is_yield else "price"
    latest = feeds.get("FcChartLatest")

    def panel(fig, rect, top_title, low_title):
        l, b, w, h = rect
        ax = fig.add_axes([l, b + h * 0.40, w, h * 0.55])
        ax2 = fig.add_axes([l, b, w, h * 0.30], sharex=ax)
        ax.tick_params(labelbottom=False)
        _style(ax, top_title)
        _style(ax2, low_title)
        ax2.title.set_fontsize(7)
        return ax, ax2

    def draw(fig, rect):
        l, b, w, h = rect
        half = (w - 0.06) / 2
        if has_fc:
            low = ("Model signal for the bond (1 Long = yield expected to fall)"
                   if inst.is_yield else "Model signal (1 Long, 0 Neutral, -1 Short)")
            ax, ax2 = panel(fig, [l, b, half, h], f"{inst.name} ({code}): {unit} and model "
                            "signals", low)
            x = pd.to_datetime(fp["Date"])
            ax.plot(x, fp[code].to_numpy(dtype=float), color=NAVY, lw=1)
            ax2.plot(pd.to_datetime(fs["Date"]), fs[code].to_numpy(dtype=float),
                     color=PALETTE[1], lw=1)
            ax2.set_ylim(-1.6, 1.6)
            ax2.set_yticks([-1, 0, 1])
            if latest is not None and code in set(latest["Code"]):
                r = latest[latest["Code"] == code].iloc[0]
                ax2.plot([pd.Timestamp(r["Date"])], [r["Signal"]], "o", color=PALETTE[1], ms=4)
                ax2.annotate(str(r["Label"]), (pd.Timestamp(r["Date"]), r["Signal"]),
                             fontsize=6.5, xytext=(-4, 5), textcoords="offset points",
                             ha="right")
        else:
            fig.text(l, b + h / 2, f"{code}: no model signals in this refresh", fontsize=8,
                     color=GREY)
        if has_val:
            ax, ax2 = panel(fig, [l + half + 0.06, b, half, h], f"{inst.name} ({code}): "
                            f"{unit} and fair value", "Valuation (σ)")
            x = pd.to_datetime(vp["Date"])
            ax.plot(x, vp[code].to_numpy(dtype=float), color=NAVY, lw=1, label=code)
            if f"{code} FV" in vp:
                ax.plot(x, vp[f"{code} FV"].to_numpy(dtype=float), color=GREY, lw=1, ls="--",
                        label="Fair value")
            ax.legend(fontsize=6, frameon=False, loc="upper left")
            ax2.plot(pd.to_datetime(vs["Date"]), vs[code].to_numpy(dtype=float),
                     color=PALETTE[1], lw=1)
            for c in vs.columns:
                if str(c).endswith("σ") and c != code:
                    ax2.plot(pd.to_datetime(vs["Date"]), vs[c].to_numpy(dtype=float),
                             color=GREY, lw=0.6, ls=":")
            ax2.axhline(0, color=GREY, lw=0.5)
        else:
            fig.text(l + half + 0.06, b + h / 2, f"{code}: no valuation in this refresh",
                     fontsize=8, color=GREY)
    return draw


def _valuation_scatter(df: pd.DataFrame):
    """Seed Chart 3: valuation % (x) against the 1-year valuation forecast (y), labelled."""
    t = Table("ValScatter", df[["Code", "Valuation (%)", "1 Yr"]],
              title="Stock indices: valuation (P/FV - 1) vs 1-year valuation-based forecast")
    return _plot_scatter(t)


def _price_panels(data: WorkbookData, asset_class: str, years: int = 10):
    insts = data.by_class(asset_class)
    insts = [i for i in insts if i.code in data.prices and len(data.prices[i.code])]
    if not insts:
        return None
    start = data.asof - pd.DateOffset(years=years)

    def draw(fig, rect):
        l, b, w, h = rect
        n = len(insts[:6])
        cols = 3 if n > 2 else n
        rows = int(np.ceil(n / cols))
        for k, inst in enumerate(insts[:6]):
            r, c = divmod(k, cols)
            ax = fig.add_axes([l + c * w / cols + 0.02, b + (rows - 1 - r) * h / rows + 0.03,
                               w / cols - 0.05, h / rows - 0.07])
            s = data.prices[inst.code]
            s = s[s.index >= start]
            ax.plot(s.index, s.to_numpy(dtype=float), lw=1, color=NAVY)
            unit = " (yield, %)" if inst.is_yield else ""
            ax.set_title(f"{inst.name}{unit}", fontsize=7.5, loc="left", color=NAVY)
            ax.tick_params(labelsize=6)
            ax.grid(alpha=0.3, lw=0.5)
            loc = mdates.AutoDateLocator(minticks=3, maxticks=6)
            ax.xaxis.set_major_locator(loc)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    return draw


def _own_tables(data: WorkbookData) -> dict[str, list[SheetContent]]:
    """GDP Gap content when the caller passed none (it needs only the input data)."""
    from engine.tables import gdp_gap as gdp_builder
    try:
        return {"gdp_gap": gdp_builder.build(RefreshContext(data))}
    except Exception:  # the report still renders without it
        return {}


def write_report(data: WorkbookData, tables: dict[str, list[SheetContent]] | None,
                 out_file) -> Path:
    """Write the Macro Intelligence Report PDF to ``out_file`` and return its path.

    ``tables``: builder name -> the SheetContent lists the refresh builders produced (None or
    partial is fine: the sections that can be built are, the rest is listed as missing)."""
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheets = _by_sheet(tables)
    if "GDP Gap" not in sheets:
        sheets.update(_by_sheet(_own_tables(data)))
    title = str(setting(data.settings, "Report Title", "Macro Intelligence Report"))
    firm = str(setting(data.settings, "Firm Name", "") or "")
    dated = f"{data.asof:%B %d, %Y}"
    charts_sheet = sheets.get("Charts")
    feeds = {t.name: t.df for sc in sheets.values() for t in sc.data_tables
             if t.name in KNOWN_FEEDS and t.df is not None}
    missing = [s for _, _, f, v in SECTIONS for s in (f, v) if s not in sheets]
    if "Track Record" not in sheets:
        missing.append("Track Record")

    subtitle = f"{firm}  ·  as of {dated}".strip(" ·")
    extra = [x for x in sheets if x not in SKIP_APPENDIX and sheets[x].tables
             and x not in {y for _, _, f, v in SECTIONS for y in (f, v)}]
    sections = [t for t, *_ in SECTIONS] + ["Track Record", GDP_TITLE, *extra]
    args = (data, sheets, feeds, charts_sheet, extra)
    dry = PageWriter(None, title, subtitle, dry=True)
    _cover(dry, title, firm, dated, missing, sections, None)
    _body(dry, *args)
    dry.close()
    pw = PageWriter(out, title, subtitle)
    _cover(pw, title, firm, dated, missing, sections, dry.marks)
    _body(pw, *args)
    pw.close()
    return out


def _cover(pw: PageWriter, title: str, firm: str, dated: str, missing: list[str],
           sections: list[str], pages: dict[str, int] | None) -> None:
    pw.new_page()
    pw.fig.text(0.05, 0.78, title, fontsize=30, weight="bold", color=NAVY)
    pw.fig.text(0.05, 0.72, f"{firm}", fontsize=14, color=GREY)
    pw.fig.text(0.05, 0.67, f"Forecasts and valuation as of {dated}", fontsize=13)
    pw.fig.text(0.05, 0.60, "Contents", fontsize=11, weight="bold", color=NAVY, va="top")
    for k, name in enumerate(sections):
        y = 0.565 - k * 0.028
        pw.fig.text(0.07, y, name, fontsize=10, va="top")
        if pages and name in pages:
            pw.fig.text(0.45, y, str(pages[name]), fontsize=10, va="top", ha="right")
    note = ("Not available in this report (not produced by this refresh): "
            + ", ".join(missing) + ".") if missing else "All forecast and valuation tables present."
    pw.fig.text(0.05, 0.565 - len(sections) * 0.028 - 0.03, wrap(note, 150), fontsize=9,
                va="top", color="#c0504d" if missing else GREY)
    pw.fig.text(0.05, 0.08, "Forecasts are model estimates of one-month-ahead changes; "
                "valuation horizons 1 month to 5 years. Past performance is not indicative of "
                "future results.", fontsize=8, color=GREY)


def _body(pw: PageWriter, data: WorkbookData, sheets: dict[str, SheetContent],
          feeds: dict[str, pd.DataFrame], charts_sheet: SheetContent | None,
          extra: list[str]) -> None:
    for sec, cls, fsheet, vsheet in SECTIONS:
        pw.heading(sec, page_break=True)
        codes = {_key(i.code) for i in data.by_class(cls)}
        charts: list[Table] = []
        found = False
        for sheet in (fsheet, vsheet):
            sc = sheets.get(sheet)
            if sc is None:
                pw.text(f"{sheet}: not available in this refresh.", color="#c0504d")
                continue
            found = True
            for line in sc.intro:
                pw.text(line, size=7.5, color=GREY)
            for k, t in enumerate(sc.tables):
                pw.table(t, sheet if k == 0 else None)
            charts += sc.data_tables
        if charts_sheet is not None:
            charts += [t for t in charts_sheet.data_tables if t.name not in KNOWN_FEEDS
                       and any(c and c in _key(f"{t.name} {t.title or ''}") for c in codes)]
        drawn = 0
        if cls == "Equity" and "ValScatter" in feeds and {"Code", "Valuation (%)", "1 Yr"} <= \
                set(feeds["ValScatter"].columns):
            pw.chart(_valuation_scatter(feeds["ValScatter"]), height=0.45, min_height=0.32)
            drawn += 1
        for inst in data.by_class(cls):
            fn = _instrument_pair(feeds, inst)
            if fn is not None:
                pw.chart(fn, height=0.40)
                drawn += 1
        for t in charts:
            fn = _chart_for(t)
            if fn is not None:
                pw.chart(fn)
                drawn += 1
        if not drawn:
            fn = _price_panels(data, cls)
            if fn is not None:
                pw.text("Model charts not available; price history (last 10 years) from the "
                        "input data.", size=7.5, color=GREY)
                pw.chart(fn, height=0.55)
            elif not found:
                pw.text(f"No {cls} instruments in this workbook.", color=GREY)

    pw.heading("Track Record", page_break=True)
    if "Track Record" in sheets:
        for line in sheets["Track Record"].intro:
            pw.text(line, size=7.5, color=GREY)
        for t in sheets["Track Record"].tables:
            pw.table(t)
        for t in sheets["Track Record"].data_tables:
            fn = _chart_for(t)
            if fn is not None:
                pw.chart(fn)
    else:
        pw.text("Track Record: not available in this refresh.", color="#c0504d")

    pw.heading(GDP_TITLE, page_break=True)
    if "GDP Gap" in sheets and sheets["GDP Gap"].tables:
        for line in sheets["GDP Gap"].intro:
            pw.text(line, size=7.5, color=GREY)
        for t in sheets["GDP Gap"].tables:
            pw.table(t)
    else:
        pw.text("GDP gap: not available (Macro sheet or Settings Trend Growth / Base Period "
                "missing).", color="#c0504d")

    for s in extra:
        pw.heading(s, page_break=True)
        for t in sheets[s].tables:
            pw.table(t)
