"""``Performance`` sheet: the performance table, the newsletter table and the income-strategy
figures (seed ``000_…``). Conventions: :mod:`engine.models.performance`,
:mod:`engine.models.income`, docs/performance.md."""

from __future__ import annotations

import pandas as pd

from engine.models.income import income_figures
from engine.models.performance import (
    newsletter_table,
    performance_table,
    setting,
    valid_series_meta,
)
from engine.tables.base import (
    DATE,
    INT,
    NUM2,
    PCT,
    RefreshContext,
    SheetContent,
    Table,
    register,
)

__all__ = ["build", "risk_free_series", "setting", "valid_series_meta"]


def risk_free_series(data, notes: list[str]) -> pd.Series | None:
    """The ``Returns`` column named by Settings ``Risk Free`` (monthly decimal returns), or
    None with a note explaining why Sharpe ratios are blank."""
    name = setting(data.settings, "Risk Free")
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


@register("performance", order=60)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """Tables ``Performance``, ``PerformanceNewsletter`` and ``IncomeStrategy`` on the
    ``Performance`` sheet. A Series row that cannot be computed is kept with its reason in
    ``Note`` and reported through ``ctx.fail``."""
    d = ctx.data
    asof = d.asof
    content = SheetContent("Performance")
    basis = "returns are monthly total returns linked geometrically; decimals shown as %"
    content.intro.append(f"Performance as of {asof:%Y-%m-%d} ({basis}).")
    tables = content.tables
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
                  "Basis: Net = after fees; Gross = before fees (benchmark indices)."]
        tables.append(Table("Performance", perf, _perf_formats(perf),
                            title="Performance (strategies, then benchmarks)", notes=notes))
        tables.append(Table("PerformanceNewsletter", news, _perf_formats(news),
                            title="Newsletter table",
                            notes=["Headers as printed in the newsletter; Basis says which "
                                   "rows are gross. Prior years are full calendar years."]))
    else:
        content.intro.append("No Returns/Series data: performance tables not built.")
    if d.income is not None and len(d.income):
        try:
            inc = income_figures(d.income, asof)
        except ValueError as e:
            ctx.fail("Income", str(e))
            inc = pd.DataFrame({"Note": [str(e)]}, index=["Income"])
        inc = inc.reset_index(names="Code")
        name = setting(d.settings, "Income Strategy", "Income strategy")
        tables.append(Table("IncomeStrategy", inc,
                            {"Month": PCT, "Month (ann.)": PCT, "YTD": PCT, "YTD (ann.)": PCT,
                             "YTD Months": INT},
                            title=f"{name}: income, cashflow and loss rates",
                            notes=["Annualized = month x 12; YTD = sum of the monthly rates "
                                   "since January, annualized x 12 / months.",
                                   "Loss: a negative loss rate is a gain from recoveries."]))
    return [content]
