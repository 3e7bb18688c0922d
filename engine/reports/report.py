"""The monthly Macro Intelligence Report (``gamma report WORKBOOK --out FILE.pdf``).

Content, in order (:func:`report_sections`): a dated cover with the contents and a list of
what is missing; one section per asset class (Equity, Fixed Income, Currencies, Commodities)
with its forecast and valuation tables (seed ``003_…`` Tables 2–9) and charts (price with
model signals, price with valuation σ, the valuation scatter: Charts 1–6); the Track Record
summary, one row per instrument (:mod:`engine.reports.track_summary`); the real-GDP gap; an
appendix with the Track Record in full; the Important disclosures
(:func:`engine.reports.disclosures.disclosure_block` with the firm's Settings). Sections are
packed: one starts below the previous one when enough of the page is left. The file is named
for the As Of month (:func:`report_path`), so a month's report never overwrites another's.

Tables are rendered from the :class:`~engine.tables.base.SheetContent` lists the refresh
builders produced (``Table.df`` with ``Table.formats``). Charts are the workbook's charts:
every :class:`~engine.tables.charts.ChartSpec` is drawn by :mod:`engine.reports.charts` from
the tables of its sheet. The ``Charts`` sheet's blocks are read as panels (a table and the
charts below it: the summary row, the price chart and the Model Signals or σ chart of one
instrument; Chart 3's table and scatter), and each section shows, after its tables, the panels
of its instruments, one instrument per row (its composite panel beside its valuation panel),
then Chart 3. When an asset class has no charts, its
price histories are plotted from :class:`WorkbookData` and labelled as such. Whatever is
absent is listed on the cover and in its section — the report never fails for a missing
table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd

from engine.inputs.data import WorkbookData
from engine.inputs.firm import Firm
from engine.reports.charts import draw_chart
from engine.reports.commentary_page import TITLE as COMMENTARY_TITLE, write_commentary
from engine.reports.disclosures import disclosure_block, hypothetical_statement
from engine.reports.pages import BOTTOM, WIDTH, PageWriter, column_chars, table_cells
from engine.reports.render import GREY, LANDSCAPE, NAVY, RED, draw_table, slug, wrap
from engine.reports.track_summary import hypothetical_headers, track_summary
from engine.tables.base import RefreshContext, SheetContent, Table
from engine.tables.charts import ChartSpec

__all__ = ["SECTIONS", "ReportParts", "Section", "report_path", "report_sections",
           "write_report"]

# (section title, asset class, forecast sheet, valuation sheet)
SECTIONS = (("Equity Markets", "Equity", "Stock Forecasts", "Stock Valuation"),
            ("Fixed Income", "Bond", "Bond Forecasts", "Bond Valuation"),
            ("Currencies", "FX", "FX Forecasts", "FX Valuation"),
            ("Commodities", "Commodity", "Commodity Forecasts", "Commodity Valuation"))
SKIP_APPENDIX = {"Data Status", "History", "Performance", "GDP Gap", "Track Record", "Charts",
                 "Signals", "Commentary"}
GDP_TITLE = "Real GDP gap (deferred demand)"
APPENDIX_TITLE = "Appendix: Track Record in detail"
DISCLOSURES_TITLE = "Important disclosures"
COMMENTARY = "Commentary"  # the engine sheet of what moved the forecasts (DESIGN.md)


def _by_sheet(tables: dict[str, list[SheetContent]] | None) -> dict[str, SheetContent]:
    out: dict[str, SheetContent] = {}
    for contents in (tables or {}).values():
        for sc in contents or []:
            cur = out.setdefault(sc.sheet, SheetContent(sc.sheet))
            cur.blocks += sc.blocks
            cur.data_tables += sc.data_tables
            cur.intro += sc.intro
    return out


@dataclass
class Panel:
    """A table and the charts below it on a sheet (the Charts sheet's blocks run summary table
    → chart → chart per instrument); ``table`` is None for charts above any table."""

    table: Table | None
    charts: list[ChartSpec] = field(default_factory=list)

    @property
    def codes(self) -> set[str]:
        t = self.table
        if t is None or t.df is None or "Code" not in t.df.columns:
            return set()
        return {str(c) for c in t.df["Code"]}

    @property
    def wide(self) -> bool:
        """Drawn across the page: a table of several rows (Chart 3), or no table."""
        return self.table is None or len(self.table.df) > 1


def chart_panels(content: SheetContent) -> list[Panel]:
    """``content.blocks`` grouped into panels: each table with the charts that follow it."""
    out: list[Panel] = []
    for b in content.blocks:
        if isinstance(b, Table):
            out.append(Panel(b))
        else:
            if not out:
                out.append(Panel(None))
            out[-1].charts.append(b)
    return [p for p in out if p.charts]


def _fit_table(table: Table, width: float, fig_w_in: float, max_font: float = 7.0):
    """Header, cells, column widths and the font size (points) that fits ``table`` into
    ``width`` (figure fraction)."""
    header, rows = table_cells(table)
    header, widths = column_chars(header, rows)
    pts = width * fig_w_in * 72
    fs = max(5.0, min(max_font, pts / (sum(widths) * 0.62)))
    return header, rows, widths, fs


def _draw_table_top(fig, l: float, top: float, width: float, table: Table,
                    font: float | None = None) -> float:
    """``table`` (title, header, rows) from ``top`` down in ``width``; returns the y below."""
    W, H = fig.get_size_inches()
    header, rows, widths, fs = _fit_table(table, width, W)
    fs = min(fs, font) if font else fs
    tw = min(width, sum(widths) * fs * 0.62 / 72 / W)
    rh = fs * 1.75 / 72 / H
    return draw_table(fig, (l, top, tw, rh), header, rows, widths, fontsize=fs,
                      title=table.title) - 0.012


def _draw_charts(fig, rect, charts: list[ChartSpec], content: SheetContent) -> None:
    """``charts`` stacked in ``rect``, each as tall as its ChartSpec height says relative to
    the others."""
    l, b, w, h = rect
    total = sum(c.height for c in charts) or 1.0
    y = b + h
    for spec in charts:
        hk = h * spec.height / total
        draw_chart(spec, content)(fig, [l, y - hk, w, hk])
        y -= hk


def _draw_panel(fig, rect, panel: Panel, content: SheetContent,
                font: float | None = None) -> None:
    """A panel in ``rect``: its table at the top, its charts below. A wide panel (Chart 3:
    a table of several rows) puts its table on the left and its charts to the right."""
    l, b, w, h = rect
    top = b + h
    if panel.table is None:
        _draw_charts(fig, rect, panel.charts, content)
    elif panel.wide:
        W = fig.get_size_inches()[0]
        _, _, widths, fs = _fit_table(panel.table, 0.38 * w, W)
        tw = min(0.38 * w, sum(widths) * fs * 0.62 / 72 / W)
        _draw_table_top(fig, l, top, tw, panel.table, font=fs)
        _draw_charts(fig, [l + tw + 0.03, b, w - tw - 0.03, h], panel.charts, content)
    else:
        y = _draw_table_top(fig, l, top, w, panel.table, font)
        _draw_charts(fig, [l, b, w, y - b], panel.charts, content)


def _panel_row(panels: list[Panel], content: SheetContent):
    """Draw function: up to two panels side by side (a wide panel alone, full width); the
    tables of a row share one font size."""

    def draw(fig, rect):
        l, b, w, h = rect
        if len(panels) == 1 and panels[0].wide:
            _draw_panel(fig, rect, panels[0], content)
            return
        gap = 0.035
        half = (w - gap) / 2
        W = fig.get_size_inches()[0]
        fonts = [_fit_table(p.table, half, W)[3] for p in panels if p.table is not None]
        font = min(fonts) if fonts else None
        for k, p in enumerate(panels):
            _draw_panel(fig, [l + k * (half + gap), b, half, h], p, content, font)
    return draw


PANEL_HEIGHT = 0.37     # a sub-heading and two panel rows on a page
WIDE_HEIGHT = 0.48


def _draw_panels(pw: PageWriter, panels: list[Panel], content: SheetContent) -> int:
    """Lay ``panels`` out one instrument per row: its panels side by side, in the sheet's
    order (the composite panel, then the valuation panel), two per row; wide panels (Chart
    3) after them, across the page. Returns how many panels were drawn."""
    rows: dict[str, list[Panel]] = {}
    wide: list[Panel] = []
    for p in panels:
        if p.wide or len(p.codes) != 1:
            wide.append(p)
        else:
            rows.setdefault(next(iter(p.codes)), []).append(p)
    for group in rows.values():
        for k in range(0, len(group), 2):
            pw.chart(_panel_row(group[k:k + 2], content), height=PANEL_HEIGHT)
    for p in wide:
        pw.chart(_panel_row([p], content), height=WIDE_HEIGHT, min_height=0.36)
    return len(panels)


def _chart_height(spec: ChartSpec) -> float:
    """Page fraction for a chart across the page, its ChartSpec's aspect ratio kept."""
    inches = (WIDTH - 0.06) * LANDSCAPE[0] * spec.height / max(spec.width, 1.0)
    return float(min(0.45, max(0.22, inches / LANDSCAPE[1] * 0.85)))


def _blocks(pw: PageWriter, sc: SheetContent, fallback_title: str | None = None) -> None:
    """A sheet's tables and charts in their order (charts drawn from their ChartSpec)."""
    k = 0
    for b in sc.blocks:
        if isinstance(b, Table):
            pw.table(b, fallback_title if k == 0 else None)
            k += 1
        else:
            pw.chart(draw_chart(b, sc), height=_chart_height(b))


def _sheet(pw: PageWriter, sc: SheetContent) -> None:
    """A sheet's intro lines, then its tables and charts."""
    for line in sc.intro:
        pw.text(line, size=7.5, color=GREY)
    _blocks(pw, sc)


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


def report_path(data: WorkbookData, out=None) -> Path:
    """Where the report goes: ``out`` itself when it names a ``.pdf`` file; else the file
    ``<Report Title>-<yyyy-mm>.pdf`` (e.g. ``Macro-Intelligence-Report-1998-12.pdf``, the As
    Of month) in the folder ``out`` (default: the current folder), so each month's report
    keeps its own file."""
    p = Path(out) if out is not None else Path(".")
    if p.suffix.lower() == ".pdf" and not p.is_dir():
        return p
    title = data.config.report_title
    return p / f"{slug('-'.join(title.split()))}-{data.asof:%Y-%m}.pdf"


@dataclass
class Section:
    """One entry of the contents: ``write(pw)`` draws it. A section starts on a new page when
    ``new_page`` is set or less than :data:`SECTION_ROOM` of the current page is left (the
    pages are packed: a short section does not leave a page two-thirds blank)."""

    title: str
    write: Callable[[PageWriter], None]
    new_page: bool = False


SECTION_ROOM = 0.42  # page fraction a section needs below its heading to start mid-page


@dataclass
class ReportParts:
    """What the sections draw from: the inputs, the refresh's sheets and the firm."""

    data: WorkbookData
    sheets: dict[str, SheetContent]
    firm: Firm
    dated: str
    extra: list[str]

    @property
    def charts(self) -> SheetContent | None:
        return self.sheets.get("Charts")


def report_sections(parts: ReportParts) -> list[Section]:
    """The report after its cover, in order: the ``Commentary`` sheet (when the refresh made
    one), the four asset classes, the Track Record summary, the GDP gap, other sheets, the
    Track Record detail (appendix) and the disclosures. A new section is one more
    :class:`Section` in this list; the first always starts a page of its own."""
    panels = chart_panels(parts.charts) if parts.charts is not None else []
    intro = [True]  # the Charts sheet's intro is printed once, before the first charts
    out = []
    if COMMENTARY in parts.sheets:  # what moved the forecasts this month: the first pages
        out.append(Section(COMMENTARY_TITLE,
                           lambda pw: write_commentary(pw, parts.sheets[COMMENTARY],
                                                       heading=False)))
    out += [Section(sec, _asset_section(parts, cls, f, v, panels, intro))
            for sec, cls, f, v in SECTIONS]
    classed = {i.code for _, cls, _, _ in SECTIONS for i in parts.data.by_class(cls)}
    rest = [p for p in panels if not (p.codes and p.codes <= classed)]
    if rest:  # charts of instruments of no section (or without a Code): still shown
        out.append(Section("Other charts", lambda pw: _draw_panels(pw, rest, parts.charts),
                           new_page=True))
    out.append(Section("Track Record", _track_section(parts), new_page=True))
    out.append(Section(GDP_TITLE, _gdp_section(parts)))
    out += [Section(s, (lambda pw, s=s: _sheet(pw, parts.sheets[s])))
            for s in parts.extra if s != COMMENTARY]
    if "Track Record" in parts.sheets:
        out.append(Section(APPENDIX_TITLE, _appendix(parts), new_page=True))
    out.append(Section(DISCLOSURES_TITLE, _disclosure_section(parts), new_page=True))
    return out


def write_report(data: WorkbookData, tables: dict[str, list[SheetContent]] | None,
                 out_file=None) -> Path:
    """Write the Macro Intelligence Report PDF and return its path (:func:`report_path` of
    ``out_file``: a ``.pdf`` file, or a folder for the dated default name).

    ``tables``: builder name -> the SheetContent lists the refresh builders produced (None or
    partial is fine: the sections that can be built are, the rest is listed as missing)."""
    out = report_path(data, out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheets = _by_sheet(tables)
    if "GDP Gap" not in sheets:
        sheets.update(_by_sheet(_own_tables(data)))
    title = data.config.report_title
    firm = data.config.firm
    dated = f"{data.asof:%B %d, %Y}"
    missing = [s for _, _, f, v in SECTIONS for s in (f, v) if s not in sheets]
    if "Track Record" not in sheets:
        missing.append("Track Record")
    extra = [x for x in sheets if x not in SKIP_APPENDIX and sheets[x].tables
             and x not in {y for _, _, f, v in SECTIONS for y in (f, v)}]
    parts = ReportParts(data, sheets, firm, dated, extra)
    subtitle = f"{firm.name}  ·  as of {dated}"
    marks: dict[str, int] | None = None
    for dry in (True, False):  # a dry run learns the page of each section, for the contents
        pw = PageWriter(None if dry else out, title, subtitle, dry=dry)
        sections = report_sections(parts)
        _cover(pw, title, firm, dated, missing, sections, marks)
        for k, sec in enumerate(sections):
            _start(pw, sec, first=k == 0)
            sec.write(pw)
        pw.close()
        marks = pw.marks
    return out


def _start(pw: PageWriter, sec: Section, first: bool) -> None:
    """The section's heading: on a new page (the first section: after the cover), or below
    what is there when enough is left."""
    if not (sec.new_page or first) and pw.y - SECTION_ROOM >= BOTTOM:
        pw.y -= 0.02
        pw.heading(sec.title)
    else:
        pw.heading(sec.title, page_break=True)


def _cover(pw: PageWriter, title: str, firm: Firm, dated: str, missing: list[str],
           sections: list[Section], pages: dict[str, int] | None) -> None:
    """The cover page: title, firm, date, the contents with page numbers, what is missing."""
    shown = [s.title for s in sections]
    pw.new_page()
    pw.fig.text(0.05, 0.78, title, fontsize=30, weight="bold", color=NAVY)
    pw.fig.text(0.05, 0.72, firm.name, fontsize=14, color=GREY)
    pw.fig.text(0.05, 0.67, f"Forecasts and valuation as of {dated}", fontsize=13)
    pw.fig.text(0.05, 0.60, "Contents", fontsize=11, weight="bold", color=NAVY, va="top")
    for k, name in enumerate(shown):
        y = 0.565 - k * 0.028
        pw.fig.text(0.07, y, name, fontsize=10, va="top")
        if pages and name in pages:
            pw.fig.text(0.45, y, str(pages[name]), fontsize=10, va="top", ha="right")
    if missing:
        note = ("Not available in this report (not produced by this refresh): "
                + ", ".join(missing) + ".")
        pw.fig.text(0.05, 0.565 - len(shown) * 0.028 - 0.03, wrap(note, 150), fontsize=9,
                    va="top", color=RED)
    where = f", page {pages[DISCLOSURES_TITLE]}" if pages and DISCLOSURES_TITLE in pages else ""
    pw.fig.text(0.05, 0.08, wrap(
        "Forecasts and valuations are model estimates made with data available at the date "
        "shown; they are not investment advice. The Track Record's returns are hypothetical "
        f"(a walk-forward simulation). Please read the Important disclosures{where}.", 170),
        fontsize=8, color=GREY)


def _asset_section(parts: ReportParts, cls: str, fsheet: str, vsheet: str,
                   panels: list[Panel], intro: list[bool]):
    """An asset class: its forecast and valuation tables, then its instruments' panels."""
    def write(pw: PageWriter) -> None:
        codes = {i.code for i in parts.data.by_class(cls)}
        found = False
        for sheet in (fsheet, vsheet):
            sc = parts.sheets.get(sheet)
            if sc is None:
                pw.text(f"{sheet}: not available in this refresh.", color=RED)
                continue
            found = True
            for line in sc.intro:
                pw.text(line, size=7.5, color=GREY)
            _blocks(pw, sc, sheet)
        mine = [k for k, p in enumerate(panels) if p.codes and p.codes <= codes]
        if mine:
            first = panels[mine[0]]
            # the heading with what follows it: the intro (the first time) or the first panels
            pw.room(0.15 if intro[0] else (0.36 if first.wide else PANEL_HEIGHT) + 0.06)
            pw.heading("Charts", size=11)
            if intro[0]:  # what the charts show, once (the Charts sheet's intro)
                for line in parts.charts.intro[1:]:
                    pw.text(line, size=7, color=GREY)
                intro[0] = False
            _draw_panels(pw, [panels[k] for k in mine], parts.charts)
        else:
            fn = _price_panels(parts.data, cls)
            if fn is not None:
                pw.text("Model charts not available; price history (last 10 years) from the "
                        "input data.", size=7.5, color=GREY)
                pw.chart(fn, height=0.55)
            elif not found:
                pw.text(f"No {cls} instruments in this workbook.", color=GREY)
    return write


def _track_section(parts: ReportParts):
    def write(pw: PageWriter) -> None:
        sc = parts.sheets.get("Track Record")
        if sc is None:
            pw.text("Track Record: not available in this refresh.", color=RED)
            return
        summary = track_summary(sc)
        if summary is None:  # a Track Record of other tables: shown whole, here
            _sheet(pw, sc)
            return
        pw.text("Every forecast was made with data dated on or before its month and scored "
                "on the change that followed. The strategy figures (hyp.) are HYPOTHETICAL: "
                "each model signal held for one month, Neutral earning nothing, with no fees, "
                "trading costs or taxes deducted; they are not the results of any account.",
                size=7.5, color=RED)
        pw.table(summary)
        overall = [n for t in sc.tables for n in t.notes[:1] if n.startswith("Overall")]
        for n in overall:
            pw.text(n, size=7.5)
        pw.text("OOS R²: out-of-sample R² against the prevailing historical mean (> 0 beats "
                "it); Clark-West: its t-statistic (> 1.28 significant at 10%); Best Rival: the "
                "simple model (random walk, AR(1), momentum, valuation alone, one regression "
                "per fundamental) with the highest OOS R²; Hit Rate: share of non-neutral "
                "months the position gained; Valuation Horizons Beating Mean: of the 1 Mo … "
                "5 Yr valuation forecasts scored. Detail per model and horizon, and the notes "
                "per instrument: " + APPENDIX_TITLE + ".", size=6.5, color=GREY)
    return write


def _gdp_section(parts: ReportParts):
    def write(pw: PageWriter) -> None:
        sc = parts.sheets.get("GDP Gap")
        if sc is not None and sc.tables:
            _sheet(pw, sc)
        else:
            pw.text("GDP gap: not available (Macro sheet or Settings Trend Growth / Base "
                    "Period missing).", color=RED)
    return write


def _appendix(parts: ReportParts):
    def write(pw: PageWriter) -> None:
        sc = parts.sheets["Track Record"]
        if track_summary(sc) is None:
            pw.text("The Track Record is shown in full in its section.", size=7.5, color=GREY)
            return
        pw.text("Columns headed (hyp.) are hypothetical strategy figures: each model signal "
                "held for one month, no fees, trading costs or taxes.", size=7.5, color=RED)
        for b in sc.blocks:
            if isinstance(b, Table):
                pw.table(hypothetical_headers(b))
            else:
                pw.chart(draw_chart(b, sc), height=_chart_height(b))
    return write


def report_statements(parts: ReportParts) -> list[str]:
    """What this report says about its own figures, before the standard statements."""
    firm, when = parts.firm.name, parts.dated
    return [
        hypothetical_statement(
            "the Track Record's annual returns, volatilities, Sharpe ratios, maximum "
            "drawdowns and trade counts are those of a walk-forward simulation that holds "
            "each model signal for one month, with no fees, trading costs or taxes deducted"),
        f"The forecasts, positions, trades, fair values and valuation-based returns in this "
        f"report are model estimates computed with data dated on or before {when}. They are "
        f"{firm}'s opinion as of that date, are not promises of future results and may change "
        "without notice. Positions and trades are model signals, not recommendations suited "
        "to any particular investor; consult your own adviser before any investment decision.",
        "Prices, yields and economic data are from sources believed reliable; their accuracy "
        "and completeness are not guaranteed.",
        f"{firm}, its officers and employees may hold, or may have held, positions in the "
        "instruments discussed.",
    ]


def _disclosure_section(parts: ReportParts):
    def write(pw: PageWriter) -> None:
        for para in disclosure_block(parts.firm, extra=report_statements(parts)):
            pw.text(para, size=8.5, width=150)
    return write
