"""``Performance`` sheet: the performance table, the newsletter table and the income-strategy
figures (seed ``000_…``). Conventions: :mod:`engine.models.performance`,
:mod:`engine.models.income`, docs/performance.md."""

from __future__ import annotations

import pandas as pd

from engine.models import performance as perf_model
from engine.models.income import income_figures
from engine.models.performance import (
    newsletter_table,
    performance_table,
    valid_series_meta,
)
from engine.models.performance_tables import basis_note, series_rows
from engine.tables.base import (
    DATE,
    INT,
    NUM,
    NUM2,
    PCT,
    RefreshContext,
    SheetContent,
    Table,
    register,
)
from engine.tables.charts import Axis, ChartSpec, Ref, Series

__all__ = ["build", "risk_free_series", "valid_series_meta"]


def risk_free_series(data, notes: list[str]) -> pd.Series | None:
    """The ``Returns`` column named by Settings ``Risk Free`` (monthly decimal returns), or
    None with a note explaining why Sharpe ratios are blank."""
    name = data.config.risk_free
    if name is None:
        notes.append("Sharpe blank: no 'Risk Free' key in Settings (name a Returns column).")
        return None
    name = str(name).strip()
    if name not in data.returns.columns:
        notes.append(f"Sharpe blank: Settings 'Risk Free' names {name!r}, which is not a "
                     "Returns column.")
        return None
    return data.returns[name]


def _perf_formats(df: pd.DataFrame) -> dict[str, str]:
    fm = {c: PCT for c in df.columns
          if c not in ("Code", "Name", "Role", "Basis", "Inception", "Note", "Sharpe")}
    fm.update({"Sharpe": NUM2, "Inception": DATE})
    return {k: v for k, v in fm.items() if k in df.columns}


GROWTH_MONTHS = 120


def growth_table(returns: pd.DataFrame, meta: pd.DataFrame, asof,
                 months: int = GROWTH_MONTHS) -> Table | None:
    """Chart feed ``PerfChartGrowth``: growth of $10,000 (dollars) at each month-end over the
    last ``months`` months (from the latest start among the series shown, if later; a series
    starts at its Series Inception month when that is after its first return), one
    column per strategy and per benchmark named first by a strategy. A series with a missing
    month in that span is left out (None when nothing can be shown)."""
    rows = series_rows(returns, meta)
    inception = {m["Name"]: m["Inception"] for m in rows}
    names = [m["Name"] for m in rows if m["Role"] == "Strategy"]
    names += [m["Benchmark"][0] for m in rows if m["Role"] == "Strategy" and m["Benchmark"]
              and m["Benchmark"][0] in returns.columns and m["Benchmark"][0] not in names]
    names = [n for n in dict.fromkeys(names) if n in returns.columns]
    end = perf_model.asof_month(asof)

    def record(n):  # returns from the Series Inception month on, as in the Performance table
        s = returns[n].dropna()
        inc = inception.get(n)
        return s if inc is None else s[s.index.to_period("M") >= pd.Timestamp(inc).to_period("M")]

    starts = [record(n).index.min() for n in names]
    starts = [pd.Timestamp(t).to_period("M") for t in starts if t is not None and not pd.isna(t)]
    if not starts:
        return None
    first = max(max(starts), end - (months - 1))
    cols = {}
    for n in names:
        r = returns[n]
        r = r[(r.index.to_period("M") >= first) & (r.index.to_period("M") <= end)]
        try:
            w = perf_model.wealth_index(r, 10_000.0)
        except ValueError:
            continue
        if len(w) and w.index[-1].to_period("M") == end:
            cols[n] = w
    if not cols:
        return None
    df = pd.DataFrame(cols).reset_index(names="Date")
    return Table("PerfChartGrowth", df, {"Date": DATE, **{c: NUM for c in cols}},
                 title="Growth of $10,000")


def growth_chart(growth: Table) -> ChartSpec:
    """Growth of $10,000: one line per column of the ``PerfChartGrowth`` feed (strategies,
    then their benchmarks), dollars on a ``$#,##0`` axis, legend below."""
    cols = [c for c in growth.df.columns if c != "Date"]
    return ChartSpec(
        title="Growth of $10,000",
        series=tuple(Series(c, Ref(growth.name, "Date"), Ref(growth.name, c)) for c in cols),
        x_axis=Axis("", "yyyy", dates=True, gridlines=False),
        y_axis=Axis("Value of $10,000", "$#,##0"),
        legend="bottom", width=18.0, height=8.0)


@register("performance", order=60)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """Tables ``Performance``, ``PerformanceNewsletter`` and ``IncomeStrategy`` on the
    ``Performance`` sheet. A Series row that cannot be computed is kept with its reason in
    ``Note`` and reported through ``ctx.fail``."""
    d = ctx.data
    asof = d.asof
    content = SheetContent("Performance")
    basis = "returns are monthly total returns linked geometrically; decimals shown as %"
    month = perf_model.asof_month(asof)
    to = ("" if month == pd.Timestamp(asof).to_period("M") else
          f"; figures to the last month-end known at that date, {month.to_timestamp():%B %Y}")
    content.intro.append(f"Performance as of {asof:%Y-%m-%d} ({basis}{to}).")

    notes: list[str] = []
    if d.series is not None and len(d.series) and d.returns is not None:
        meta, bad = valid_series_meta(d.returns, d.series)
        rf = risk_free_series(d, notes)
        perf = performance_table(d.returns, meta, asof, rf)
        news = newsletter_table(d.returns, meta, asof, years=2)
        for name, reason in bad.items():
            ctx.fail(name, reason)
            perf.loc[len(perf)] = {"Code": name, "Note": reason}
            news.loc[len(news)] = {"Code": name, "Note": reason}
        figs = [c for c in perf.columns if c not in ("Code", "Name", "Role", "Basis",
                                                      "Inception", "Note")]
        for _, row in perf.iterrows():
            if row["Code"] not in bad and pd.isna(row[figs]).all() and row["Note"]:
                ctx.fail(row["Code"], str(row["Note"]))
        notes += ["Windows are exactly N month-ends ending at the as-of month; a blank figure "
                  "has its reason in Note.",
                  "3 Yr, 5 Yr and Since Inception (12 months or more) are annualized; Month, "
                  "YTD, Trailing 1 Yr and calendar years are not.",
                  "Volatility: monthly std (ddof=1) x sqrt(12). Sharpe: mean/std of monthly "
                  "excess returns over the risk-free series x sqrt(12), 36 months. Max "
                  "Drawdown: worst peak-to-trough fall since inception (negative).",
                  basis_note(d.returns, meta)]
        content.add(Table("Performance", perf, _perf_formats(perf),
                            title="Performance (strategies, then benchmarks)", notes=notes))
        content.add(Table("PerformanceNewsletter", news, _perf_formats(news),
                            title="Newsletter table",
                            notes=["The newsletter heads every column 'Net'; here each row's "
                                   "Basis is its Net/Gross label. Prior years are full "
                                   "calendar years.", basis_note(d.returns, meta)]))
        growth = growth_table(d.returns, meta, asof)
        if growth is not None:
            content.data_tables.append(growth)
            content.add(growth_chart(growth))
    else:
        content.intro.append("No Returns/Series data: performance tables not built.")
    if d.income is not None and len(d.income):
        try:
            inc = income_figures(d.income, asof)
        except ValueError as e:
            ctx.fail("Income", str(e))
            inc = pd.DataFrame({"Note": [str(e)]}, index=["Income"])
        inc = inc.reset_index(names="Code")
        name = d.config.income_strategy or "Income strategy"
        content.add(Table("IncomeStrategy", inc,
                            {"Month": PCT, "Month (ann.)": PCT, "YTD": PCT, "YTD (ann.)": PCT,
                             "Full Year (run rate)": PCT, "YTD Months": INT},
                            title=f"{name}: income, cashflow and loss rates",
                            notes=["Month (ann.) = month x 12. YTD = sum of the monthly rates "
                                   "since January.",
                                   "Two conventions for the year, labelled: YTD (ann.) = YTD x "
                                   "12 / months (the standard annualization); Full Year (run "
                                   "rate) = YTD + the months left in the year at this month's "
                                   "rate (a run-rate projection; the newsletter's \"YTD 13.6%, "
                                   "14.6% annualized\" is this one: 13.6% + 1 x 1.00%).",
                                   "Loss: a negative loss rate is a gain from recoveries."]))
    return [content]
