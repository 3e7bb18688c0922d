"""Client fact sheets: one PDF page per strategy (``gamma factsheet WORKBOOK --out DIR``).

Each page: firm and strategy name, as-of date, description, inception, benchmark(s), basis
(net/gross) and performance type (actual, hypothetical or illustrative:
:func:`engine.reports.disclosures.series_kind`), printed beside every figure of the series
(the table's Type column, the legends, the statistics' headers); the performance table of the
strategy against its benchmark(s); growth of $10,000 and drawdown charts from the strategy's
inception; risk statistics (36-month volatility and Sharpe, max drawdown, best/worst month,
beta, correlation, up/down capture vs the first benchmark); the income/cashflow/loss panel for
the income strategy; the disclosure block (:func:`engine.reports.disclosures.disclosure_block`:
what the returns deduct, the hypothetical statement, the standard statements, the firm's
Settings text, each sentence once).

Every figure comes from :mod:`engine.models.performance` / :mod:`engine.models.income`; the
page only formats them.

Settings used: the firm's keys (:mod:`engine.inputs.firm`: ``Firm Name``, ``Firm Address``,
``Firm Contact``, ``Regulatory Status``, ``Disclosure``), ``Risk Free`` (a Returns column),
``Income Strategy`` (the Returns column of the income strategy; default: a strategy whose
name or description says "income" when the Income sheet has data). Optional ``Series``
columns ``Performance Type`` (Actual, Illustrative, or Model/Hypothetical) and ``Fees
Deducted`` (what a net series deducts, in words). Fonts: DejaVu Sans, embedded
(:data:`engine.reports.render.FONT_RC`).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from engine.inputs.data import WorkbookData
from engine.inputs.firm import Firm
from engine.models import performance as perf
from engine.models.income import income_figures
from engine.models.performance import valid_series_meta
from engine.models.performance_tables import series_rows
from engine.reports.disclosures import (
    KIND_TAG,
    basis_phrase,
    disclosure_block,
    kind_label,
    series_kind,
)
from engine.reports.pages import column_chars
from engine.reports.render import (
    DASH,
    FONT_RC,
    GREY,
    LETTER,
    NAVY,
    PALETTE,
    RED,
    draw_table,
    fmt_num,
    fmt_pct,
    new_page,
    slug,
    wrap,
)

__all__ = ["factsheet_figures", "write_factsheets"]

STAT_ROWS = ("Volatility (36m, ann.)", "Sharpe (36m)", "Max Drawdown", "Best Month",
             "Worst Month", "Beta", "Correlation", "Up Capture", "Down Capture")
KIND_SHORT = {"Hypothetical": "hyp.", "Illustrative": "illus.", "Actual": ""}


def _income_code(data: WorkbookData, strategies: list[dict]) -> str | None:
    if data.config.income_strategy is not None:
        return data.config.income_strategy
    if data.income is None or len(data.income) == 0:
        return None
    for m in strategies:
        if "income" in f"{m['Name']} {m['Description']}".lower():
            return m["Name"]
    return None


def factsheet_figures(data: WorkbookData, code: str, meta_df: pd.DataFrame | None = None,
                      ) -> dict[str, object]:
    """Every number printed on ``code``'s fact sheet (decimals; NaN = not available):

    ``meta`` (the Series row as a dict), ``perf`` (DataFrame: one row per series — the
    strategy then its benchmarks — columns as :func:`engine.models.performance.performance_row`
    plus ``Basis``), ``stats`` (DataFrame indexed by :data:`STAT_ROWS`, one column per
    series; beta/correlation/capture vs the first benchmark are in the strategy's column),
    ``relative`` (the :func:`relative_stats` dict), ``wealth`` and ``drawdown`` (DataFrames
    of the $10,000 growth and drawdown paths from the strategy's inception), ``income``
    (the income figures or None), ``notes`` (why figures are blank), ``start`` (the month of
    the first return used: the later of Series Inception and the first return).
    ``meta_df``: the valid Series rows, when the caller already has them."""
    if meta_df is None:
        meta_df, _ = valid_series_meta(data.returns, data.series)
    metas = {m["Name"]: m for m in series_rows(data.returns, meta_df)}
    if code not in metas:
        raise ValueError(f"code: {code!r} is not a valid row of the Series sheet")
    m = metas[code]
    if code not in data.returns.columns:
        raise ValueError(f"code: no Returns column {code!r}")
    asof = data.asof
    rf_name = data.config.risk_free
    rf = data.returns[rf_name] if rf_name in data.returns.columns else None
    benches, bad_bench = [], []
    for b in m["Benchmark"]:
        if b not in data.returns.columns:
            continue
        try:  # a broken benchmark column is named, and does not sink the strategy's page
            perf.to_monthly(data.returns[b].dropna(), arg=f"benchmark {b}")
            benches.append(b)
        except ValueError as e:
            bad_bench.append(str(e))
    strat = data.returns[code].dropna()
    if m["Inception"] is not None:
        strat = strat[strat.index >= m["Inception"].to_period("M").to_timestamp()]
    if strat.empty:
        raise ValueError(f"code: {code!r} has no returns")
    start = strat.index[0]
    rows, notes, stats = {}, list(bad_bench), {}
    for name in [code, *benches]:
        s = strat if name == code else data.returns[name].dropna()
        vals, nts = perf.performance_row(s, asof, rf, years=3)
        late = None  # a benchmark starting after the strategy cannot cover its period
        if name != code and len(s) and s.index[0].to_period("M") > start.to_period("M"):
            late = (f"starts {s.index[0]:%Y-%m}, after the strategy's first month "
                    f"{start:%Y-%m}")
        if name != code:  # since-inception figures over the strategy's own period
            si, _, si_note = perf.since_inception(s, asof, inception=start)
            dd, dd_note = perf.max_drawdown(s, asof, inception=start)
            if late:
                si, si_note, dd, dd_note = math.nan, late, math.nan, late
            vals["Since Inception"], vals["Max Drawdown"] = si, dd
            nts = [n for n in nts if not n.startswith(("Since Inception", "Max Drawdown"))]
            nts += [f"{k}: {v}" for k, v in (("Since Inception", si_note),
                                              ("Max Drawdown", dd_note)) if v]
        vals["Basis"] = m["Basis"] if name == code else metas.get(name, {}).get("Basis", "Gross")
        rows[name] = vals
        notes += [f"{name} {n}" for n in nts]
        bw = perf.best_worst_month(s, asof, inception=start)
        if late:
            bw = {"best": math.nan, "worst": math.nan}
        stats[name] = {"Volatility (36m, ann.)": vals["Volatility (36m, ann.)"],
                       "Sharpe (36m)": vals["Sharpe"], "Max Drawdown": vals["Max Drawdown"],
                       "Best Month": bw["best"], "Worst Month": bw["worst"],
                       "Beta": math.nan, "Correlation": math.nan,
                       "Up Capture": math.nan, "Down Capture": math.nan}
    rel = {"note": "no benchmark"}
    if benches:
        months = 36 if len(strat[strat.index <= asof]) >= 36 else None
        rel = perf.relative_stats(strat, data.returns[benches[0]], asof, months)
        for k, key in (("Beta", "beta"), ("Correlation", "correlation"),
                       ("Up Capture", "up_capture"), ("Down Capture", "down_capture")):
            stats[code][k] = rel[key]
        for k in ("Beta", "Correlation", "Up Capture", "Down Capture"):
            stats[benches[0]][k] = 1.0 if rel["months"] else math.nan
    paths, dds = {}, {}
    for name in [code, *benches]:
        s = (strat if name == code else data.returns[name].dropna())
        s = s[(s.index >= start) & (s.index <= asof)]
        try:
            paths[name] = perf.wealth_index(s, 10_000.0)
            dds[name] = perf.drawdown_series(s)
        except ValueError as e:
            notes.append(f"{name} chart: {e}")
    inc = None
    if _income_code(data, [m]) == code and data.income is not None and len(data.income):
        try:
            inc = income_figures(data.income, asof)
        except ValueError as e:  # the rest of the sheet is still worth sending
            notes.insert(0, f"income panel: {e}")
    return {"meta": m, "perf": pd.DataFrame(rows).T, "stats": pd.DataFrame(stats, index=STAT_ROWS),
            "relative": rel, "wealth": pd.DataFrame(paths), "drawdown": pd.DataFrame(dds),
            "income": inc, "notes": notes, "perf_type": series_kind(_row_dict(meta_df, code)),
            "kinds": {b: series_kind(_row_dict(meta_df, b)) for b in [code, *benches]},
            "benchmarks": benches, "risk_free": rf_name if rf is not None else None,
            "start": pd.Timestamp(start).to_period("M"),
            "labels": {b: _label(meta_df, b) for b in benches},
            "rows": {b: {**_row_dict(meta_df, b), "Basis": metas[b]["Basis"] if b in metas
                         else _row_dict(meta_df, b).get("Basis")} for b in [code, *benches]}}


def _row_dict(meta_df: pd.DataFrame, code: str) -> dict:
    cols = {str(c).strip().lower(): c for c in meta_df.columns}
    if "name" in cols:
        hit = meta_df[meta_df[cols["name"]].astype(str).str.strip() == code]
        if len(hit):
            return hit.iloc[0].to_dict()
    return {"Name": code}


def _label(meta_df: pd.DataFrame, code: str) -> str:
    d = _row_dict(meta_df, code)
    desc = d.get("Description")
    return f"{code} ({desc})" if isinstance(desc, str) and desc.strip() and len(desc) < 40 \
        else str(code)


def _perf_table_rows(f: dict, asof: pd.Timestamp) -> tuple[list[str], list[list[str]]]:
    """The performance table: one row per series, its kind (Hypothetical, Illustrative,
    Actual; benchmarks: Index) and basis beside its figures."""
    end = perf.asof_month(asof).year
    cols = [("Month", "Month"), ("YTD", "YTD"), ("Trailing 1 Yr", "1 Yr"),
            ("3 Yr (ann.)", "3 Yr*"), ("5 Yr (ann.)", "5 Yr*"),
            ("Since Inception", "Incep.*"),
            *[(str(y), str(y)) for y in range(end - 1, end - 4, -1)]]
    header = ["", "Type", "Basis", *[h for _, h in cols]]
    rows = []
    for k, (name, r) in enumerate(f["perf"].iterrows()):
        kind = f["kinds"].get(name, "Actual")
        kind = kind if k == 0 or kind != "Actual" else "Index"
        rows.append([name, kind, r["Basis"], *[fmt_pct(r[c]) for c, _ in cols]])
    return header, rows


def _tag(f: dict, name: str) -> str:
    return KIND_SHORT.get(f["kinds"].get(name, "Actual"), "")


def _draw_page(data: WorkbookData, code: str, f: dict, firm: Firm):
    asof = data.asof
    month = f"{perf.asof_month(asof).to_timestamp():%B %Y}"  # the last month-end known at asof
    m = f["meta"]
    kind = f["perf_type"]
    fig = new_page(LETTER)
    # header band
    fig.patches.append(Rectangle((0, 0.935), 1, 0.065, transform=fig.transFigure, color=NAVY,
                                 zorder=-2, figure=fig))
    fig.text(0.05, 0.968, firm.name, color="white", fontsize=13, weight="bold", va="center")
    fig.text(0.95, 0.968, f"Fact sheet as of {asof:%B %d, %Y}", color="white", fontsize=9.5,
             ha="right", va="center")
    fig.text(0.05, 0.917, code, fontsize=15, weight="bold", color=NAVY, va="top")
    if kind != "Actual":  # the kind of performance beside the name, where the eye starts
        fig.text(0.95, 0.915, f"{kind.upper()} PERFORMANCE" if kind == "Hypothetical"
                 else "ILLUSTRATIVE FIGURES", fontsize=9, weight="bold", color=RED,
                 ha="right", va="top")
    first = f"{f['start'].to_timestamp():%B %Y}"  # the first return used
    inception = first
    if m["Inception"] is not None and pd.Timestamp(m["Inception"]).to_period("M") < f["start"]:
        inception = f"{m['Inception']:%B %Y} (returns from {first})"
    facts = [f"Strategy code: {code}", f"Inception: {inception}",
             "Benchmark: " + (", ".join(f["labels"][b] for b in f["benchmarks"]) or "none"),
             f"Returns: {basis_phrase(f['rows'][code], kind)}, monthly, in USD",
             f"Performance type: {kind}"]
    desc_lines = wrap(str(m["Description"] or ""), 125).split("\n")
    if len(desc_lines) > 3:  # keep the page to one: three lines, marked as cut
        desc_lines = desc_lines[:3]
        desc_lines[2] = desc_lines[2][:121].rstrip() + " \u2026"
    fig.text(0.05, 0.885, "\n".join(desc_lines), fontsize=8, color="#333333", va="top",
             linespacing=1.3)
    y0 = 0.885 - 0.0135 * len([x for x in desc_lines if x]) - 0.006
    fig.text(0.05, y0, "   |   ".join(x for x in facts[:3] if x), fontsize=8, color=GREY,
             va="top")
    fig.text(0.05, y0 - 0.016, "   |   ".join(facts[3:]), fontsize=8,
             color=RED if kind != "Actual" else GREY, va="top",
             weight="bold" if kind != "Actual" else "normal")
    # performance table
    header, rows = _perf_table_rows(f, asof)
    widths = column_chars(header, rows)[1]  # every column as wide as its widest text
    y = draw_table(fig, (0.05, y0 - 0.04, 0.90, 0.019), header, rows, widths,
                   fontsize=min(7.2, 0.90 * LETTER[0] * 72 / (sum(widths) * 0.64)),
                   title=f"Performance (%) to {month}", bold_rows=(0,))
    foot = wrap("* Annualized (since inception: from 12 months; benchmarks over the strategy's "
                f"period). {DASH} = record too short (or a month missing) for the period. Month "
                f"= {month}; 1 Yr = the 12 months to {month}; calendar years are "
                "full years. Type: Hypothetical = model results, not an account; Illustrative "
                "= not performance; Index = an unmanaged benchmark.", 165)
    fig.text(0.05, y - 0.006, foot, fontsize=6.2, color=GREY, va="top")
    y -= 0.0105 * foot.count("\n")
    # charts
    top = y - 0.03
    # charts and statistics kept compact: the disclosures below need room to be legible
    ax1 = fig.add_axes([0.09, top - 0.20, 0.39, 0.18])
    ax2 = fig.add_axes([0.56, top - 0.20, 0.39, 0.18])
    for i, (name, w) in enumerate(f["wealth"].items()):
        ax1.plot(w.index, w.to_numpy(), color=PALETTE[i % len(PALETTE)], lw=1.4 if i == 0 else 1,
                 label=kind_label(name, f["kinds"].get(name, "Actual")))
    log = len(f["wealth"]) and float(np.nanmax(f["wealth"].to_numpy())) > 200_000
    if log:  # decades of compounding: a log scale keeps the early years readable
        ax1.set_yscale("log")
        ax1.yaxis.set_minor_formatter(mticker.NullFormatter())
    ax1.set_title("Growth of $10,000" + (" (log scale)" if log else ""), fontsize=9,
                  color=NAVY, loc="left", weight="bold")
    ax1.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"${v:,.0f}"))
    for i, (name, d) in enumerate(f["drawdown"].items()):
        ax2.plot(d.index, d.to_numpy() * 100, color=PALETTE[i % len(PALETTE)],
                 lw=1.2 if i == 0 else 0.9, label=kind_label(name, f["kinds"].get(name, "")))
        if i == 0:
            ax2.fill_between(d.index, d.to_numpy() * 100, 0, color=PALETTE[0], alpha=0.15)
    ax2.set_title("Drawdown from previous peak (%)", fontsize=9, color=NAVY, loc="left",
                  weight="bold")
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=6.5)
        ax.grid(alpha=0.3, lw=0.5)
        ax.legend(fontsize=6, frameon=False, loc="best")
        loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    y = top - 0.235
    # risk statistics, each column headed by its series and its kind
    st = f["stats"]
    rel = f["relative"]
    header = ["Statistic", *[(f"{n} ({_tag(f, n)})" if _tag(f, n) else n)
                             for n in st.columns]]
    srows = []
    for k in STAT_ROWS:
        vals = st.loc[k]
        if k in ("Sharpe (36m)", "Beta", "Correlation"):
            cells = [fmt_num(v) for v in vals]
        else:
            cells = [fmt_pct(v, sign=k in ("Best Month", "Worst Month"))
                     for v in vals]
        srows.append([k, *cells])
    y_stats = draw_table(fig, (0.05, y, 0.50 if f["income"] is not None else 0.60, 0.0158),
                         header, srows, [2.0] + [max(1.2, 0.09 * len(h)) for h in header[1:]],
                         fontsize=6.6 if max(len(h) for h in header) > 18 else 7,
                         title="Risk statistics")
    per = rel.get("period") or ""
    bench0 = f["benchmarks"][0] if f["benchmarks"] else None
    rf = f["risk_free"]
    foot = [f"Beta, correlation and capture vs {bench0}, monthly returns {per}."
            if bench0 and per else "Beta, correlation, capture: " + str(rel.get("note", "")),
            "Volatility: std of monthly returns (n-1) x sqrt(12). Sharpe: mean / std of monthly "
            f"excess returns over {rf or 'the risk-free rate (not set)'} x sqrt(12).",
            "Max drawdown: worst peak-to-trough fall since inception. Capture: geometric mean "
            "return in benchmark up (down) months / benchmark's."]
    foot_text = "\n".join(wrap(t, 125 if f["income"] is None else 105) for t in foot)
    fig.text(0.05, y_stats - 0.006, foot_text, fontsize=5.8, color=GREY, va="top")
    y_foot = y_stats - 0.006 - (foot_text.count("\n") + 1) * 5.8 * 1.3 / 72 / LETTER[1]
    if f["income"] is not None:
        inc = f["income"]
        irows = [[k, fmt_pct(inc.loc[k, "Month"]), fmt_pct(inc.loc[k, "Month (ann.)"], 1),
                  fmt_pct(inc.loc[k, "YTD"], 2), fmt_pct(inc.loc[k, "YTD (ann.)"], 1)]
                 for k in inc.index]
        tag = KIND_TAG.get(kind, "")
        yi = draw_table(fig, (0.60, y, 0.35, 0.0158),
                        ["Rate", month[:3] + month[-5:], "Ann.", "YTD", "YTD ann."], irows,
                        [1.3, 1.1, 1, 1.1, 1.1], fontsize=7,
                        title="Income, cashflow and loss" + (f" ({tag})" if tag else ""))
        fig.text(0.60, yi - 0.006, wrap("Monthly rates as a share of the portfolio. "
                 "Annualized = month x 12; YTD = sum of monthly rates since January, "
                 "annualized x 12 / months. A negative loss rate is a gain from recoveries.",
                 62), fontsize=5.8, color=GREY, va="top")
    # disclosures: the block of engine.reports.disclosures, then why figures are blank
    ydesc = min(y_foot, y) - 0.02
    fig.text(0.05, ydesc, "Disclosures", fontsize=8.5, weight="bold", color=NAVY, va="top")
    lines = disclosure_block(firm, [(f["rows"][code], kind)])
    if f["notes"]:
        lines.append("Figures not shown: " + "; ".join(f["notes"][:6])
                     + ("…" if len(f["notes"]) > 6 else ""))
    # fit the disclosures between the heading and the footer: smaller type first, then cut
    room = ydesc - 0.018 - 0.04
    for size in (6.6, 6.2, 5.9, 5.4, 5.0, 4.6):
        width = int(0.90 * LETTER[0] * 72 / (size * 0.56))  # DejaVu Sans: ~0.56 em a character
        body_lines = "\n".join(wrap(t, width) for t in lines).split("\n")
        if len(body_lines) * size * 1.35 / 72 / LETTER[1] <= room:
            break
    max_lines = int(room / (size * 1.35 / 72 / LETTER[1]))
    if len(body_lines) > max_lines:
        body_lines = body_lines[:max_lines - 1] + [
            f"\u2026 (disclosure text continues: {firm.name}'s full disclosures are available "
            "on request)"]
    body = "\n".join(body_lines)
    fig.text(0.05, ydesc - 0.018, body, fontsize=size, color="#333333", va="top",
             linespacing=1.35)
    fig.text(0.05, 0.02, f"{firm.name} · {code} · as of {asof:%Y-%m-%d}", fontsize=6,
             color=GREY)
    fig.text(0.95, 0.02, "Page 1 of 1", fontsize=6, color=GREY, ha="right")
    return fig


def write_factsheets(data: WorkbookData, out_dir, problems: dict[str, str] | None = None,
                     ) -> list[Path]:
    """Write one single-page PDF per strategy (Series rows with Role = Strategy) into
    ``out_dir`` (created if needed), named ``<code>_factsheet_<yyyy-mm>.pdf``; return the
    paths. A strategy that cannot be computed is skipped, its reason put in ``problems``
    (code -> reason) when given; if no sheet at all can be written, ValueError naming them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if data.series is None or len(data.series) == 0:
        raise ValueError("data.series: the Series sheet has no rows, so there is no strategy")
    firm = data.config.firm
    meta_df, bad = valid_series_meta(data.returns, data.series)
    strategies = [m for m in series_rows(data.returns, meta_df) if m["Role"] == "Strategy"]
    written, errors = [], dict(bad)
    for m in strategies:
        try:
            f = factsheet_figures(data, m["Name"], meta_df)
        except ValueError as e:
            errors[m["Name"]] = str(e)
            continue
        path = out / f"{slug(m['Name'])}_factsheet_{data.asof:%Y-%m}.pdf"
        with matplotlib.rc_context(FONT_RC):
            fig = _draw_page(data, m["Name"], f, firm)
            fig.savefig(path, format="pdf", metadata={"Title": f"{m['Name']} fact sheet",
                                                      "Author": firm.name})
        written.append(path)
    if problems is not None:
        problems.update(errors)
    if not written and errors:
        raise ValueError("factsheets: no fact sheet could be written: "
                         + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    return written
