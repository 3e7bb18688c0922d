"""The Performance and GDP Gap sheet builders on a WorkbookData built in the test."""

import math

import numpy as np
import pandas as pd
import pytest

from engine.inputs.data import WorkbookData
from engine.tables import gdp_gap as gdp_builder
from engine.tables import performance as perf_builder
from engine.tables.base import RefreshContext, check_refs
from engine.tables.charts import Ref


def make_data(asof="1998-12-31", n_months=120, extra_settings=None) -> WorkbookData:
    idx = pd.date_range(end=asof, periods=n_months, freq="ME")
    rng = np.random.default_rng(11)
    mkt = rng.normal(0.009, 0.045, n_months)
    ret = pd.DataFrame({"MODEL": 0.002 + 0.6 * mkt + rng.normal(0, 0.015, n_months),
                        "INCOME": rng.normal(0.006, 0.01, n_months),
                        "MKT": mkt, "TBILL": np.full(n_months, 0.004)}, index=idx)
    ret.loc[: idx[-31], "INCOME"] = np.nan  # 30 months of record
    series = pd.DataFrame({
        "Name": ["MKT", "MODEL", "INCOME"],
        "Role": ["Benchmark", "Strategy", "Strategy"],
        "Basis": ["Gross", "Net", "Net"],
        "Inception": [None, idx[0], idx[-30]],
        "Benchmark": ["", "MKT", "MKT"],
        "Description": ["US market total return", "Model equity strategy (hypothetical)",
                        "High income strategy"]})
    inc_idx = idx[-30:]
    income = pd.DataFrame({"Income": rng.uniform(0.008, 0.012, 30),
                           "Cashflow": rng.uniform(0.01, 0.013, 30),
                           "Loss": rng.uniform(-0.0005, 0.001, 30)}, index=inc_idx)
    # the newsletter's GDP inputs (2019 … 2023Q3), relabelled to end before As Of
    y = pd.Timestamp(asof).year
    macro = pd.DataFrame({"Period": [str(y - 4), str(y - 3), str(y - 2), str(y - 1), f"{y}Q1",
                                     f"{y}Q2", f"{y}Q3"],
                          "Growth": [None, -2.8, 5.9, 2.1, 2.2, 2.1, 5.2],
                          "Source": "BEA via newsletter"})
    settings = {"As Of": pd.Timestamp(asof), "Risk Free": "TBILL", "Trend Growth": 2.24,
                "Base Period": str(y - 4), "Firm Name": "Test Advisers LLC",
                "Disclosure": "Test disclosure text.", "Income Strategy": "INCOME"}
    settings.update(extra_settings or {})
    return WorkbookData(asof=pd.Timestamp(asof), instruments={}, prices={},
                        fundamentals=pd.DataFrame(), returns=ret, series=series,
                        income=income, macro=macro, settings=settings)


def test_performance_sheet():
    ctx = RefreshContext(make_data())
    [sc] = perf_builder.build(ctx)
    assert sc.sheet == "Performance"
    names = [t.name for t in sc.tables]
    assert names == ["Performance", "PerformanceNewsletter", "IncomeStrategy"]
    perf = sc.tables[0].df.set_index("Code")
    assert list(perf.index) == ["MODEL", "INCOME", "MKT"]
    assert sc.tables[0].formats["YTD"] == "0.00%"
    m = ctx.data.returns["MODEL"].to_numpy()
    ex = m[-36:] - 0.004
    assert perf.loc["MODEL", "Sharpe"] == pytest.approx(ex.mean() / ex.std(ddof=1) * 12 ** 0.5)
    assert math.isnan(perf.loc["INCOME", "5 Yr (ann.)"])
    assert "5 Yr (ann.): needs 60 months, has 30" in perf.loc["INCOME", "Note"]
    assert ctx.failures == {}
    inc = sc.tables[2].df.set_index("Code")
    assert inc.loc["Income", "YTD"] == pytest.approx(ctx.data.income["Income"].iloc[-12:].sum())


def test_every_net_gross_label_equals_its_rows_basis():
    """Issue #12: the newsletter table headed every column "… Net %" over Gross rows and the
    note called every gross row a benchmark index. Now no header says Net or Gross, each row
    carries its own Basis, and the note puts each series under its own basis."""
    import re
    d = make_data()
    d.series.loc[d.series["Name"] == "INCOME", "Basis"] = "Gross"  # a gross strategy
    [sc] = perf_builder.build(RefreshContext(d))
    truth = dict(zip(d.series["Name"], d.series["Basis"]))
    for name in ("Performance", "PerformanceNewsletter"):
        t = next(x for x in sc.tables if x.name == name)
        assert not [c for c in t.df.columns if re.search(r"\b(net|gross)\b", c, re.I)]
        assert dict(zip(t.df["Code"], t.df["Basis"])) == truth
        [note] = [n for n in t.notes if n.startswith("Basis:")]
        clauses = dict(re.findall(r"(Net|Gross) = [^(]*\(([^)]*)\)", note))
        for code, basis in truth.items():
            assert re.search(rf"\b{code}\b", clauses[basis]), (code, basis, note)
            other = "Gross" if basis == "Net" else "Net"
            assert not re.search(rf"\b{code}\b", clauses.get(other, "")), (code, note)
        assert "strategies INCOME" in clauses["Gross"]  # not "benchmark indices"


def test_bad_series_row_is_marked_and_others_kept():
    d = make_data()
    d.series.loc[1, "Basis"] = "Maybe"
    ctx = RefreshContext(d)
    [sc] = perf_builder.build(ctx)
    perf = sc.tables[0].df.set_index("Code")
    assert "must be Net or Gross" in perf.loc["MODEL", "Note"]
    assert not math.isnan(perf.loc["MKT", "YTD"])
    assert "MODEL" in ctx.failures


def test_missing_risk_free_setting_blanks_sharpe_with_note():
    ctx = RefreshContext(make_data(extra_settings={"Risk Free": "NOPE"}))
    [sc] = perf_builder.build(ctx)
    assert sc.tables[0].df["Sharpe"].isna().all()
    assert any("NOPE" in n for n in sc.tables[0].notes)


def test_gdp_gap_sheet():
    ctx = RefreshContext(make_data())
    [sc] = gdp_builder.build(ctx)
    assert sc.sheet == "GDP Gap"
    t = sc.tables[0].df.set_index("Period")
    assert t.loc["1998Q3", "Target Index"] == pytest.approx(100 * 1.0224 ** 3.75)
    wide = sc.tables[1].df.set_index("Code")
    assert wide.loc["Foregone GDP Gap", "1995"] == pytest.approx(97.2 - 102.24)
    ctx2 = RefreshContext(make_data(extra_settings={"Base Period": "1985"}))
    [sc2] = gdp_builder.build(ctx2)
    assert sc2.tables == [] and "GDP" in ctx2.failures
    assert "base_period" in ctx2.failures["GDP"]


def test_gdp_sheet_uses_the_run_around_the_base_period():
    d = make_data()
    early = pd.DataFrame({"Period": ["1988Q3", "1988Q4", "1989Q1"], "Growth": [-2.0, -5.4, -6.4],
                          "Source": "old"})
    d.macro = pd.concat([early, d.macro], ignore_index=True)
    [sc] = gdp_builder.build(RefreshContext(d))
    t = sc.tables[0].df
    assert list(t["Period"])[0] == "1994" and len(t) == 7
    assert any("1988Q3 … 1989Q1" in line for line in sc.tables[0].notes)  # a note, not a title
    assert not any("old" in n for n in sc.tables[0].notes)


def test_series_indexed_by_name_like_the_reader():
    d = make_data()
    d.series = d.series.set_index("Name")
    [sc] = perf_builder.build(RefreshContext(d))
    assert list(sc.tables[0].df["Code"]) == ["MODEL", "INCOME", "MKT"]


def test_growth_chart_feed_and_chart():
    ctx = RefreshContext(make_data())
    [sc] = perf_builder.build(ctx)
    [feed] = sc.data_tables
    assert feed.name == "PerfChartGrowth"
    df = feed.df
    # the latest start among the shown series is INCOME's (30 months): 31 points from $10,000
    assert list(df.columns) == ["Date", "MODEL", "INCOME", "MKT"] and len(df) == 31
    assert (df.iloc[0, 1:] == 10_000).all()
    r = ctx.data.returns["MODEL"].to_numpy()[-30:]
    assert df["MODEL"].iloc[-1] == pytest.approx(10_000 * np.prod(1 + r))
    # the chart: one line per feed column, after the performance tables, before the income
    check_refs(sc)
    assert [type(b).__name__ for b in sc.blocks] == ["Table", "Table", "ChartSpec", "Table"]
    [ch] = sc.charts
    assert [s.name for s in ch.series] == ["MODEL", "INCOME", "MKT"]
    assert all(s.x == Ref("PerfChartGrowth", "Date") for s in ch.series)
    assert [s.y for s in ch.series] == [Ref("PerfChartGrowth", c) for c in ("MODEL", "INCOME",
                                                                            "MKT")]
    assert ch.y_axis.number_format == "$#,##0" and ch.x_axis.dates and ch.legend == "bottom"
    assert ch.x_axis.minimum is None and ch.x_axis.maximum is None  # bounded by the data


def test_growth_chart_starts_at_series_inception():
    """Returns before a strategy's Series Inception are not its track record: the chart,
    like the Performance table, starts at the inception month."""
    d = make_data()
    idx = d.returns.index
    d.series.loc[1, "Inception"] = idx[-24]  # MODEL has 120 months of returns
    [sc] = perf_builder.build(RefreshContext(d))
    perf = sc.tables[0].df.set_index("Code")
    assert perf.loc["MODEL", "Inception"] == idx[-24]
    df = sc.data_tables[0].df
    assert len(df) == 25 and df["Date"].iloc[0] == idx[-25]
    r = d.returns["MODEL"].to_numpy()[-24:]
    assert df["MODEL"].iloc[-1] == pytest.approx(10_000 * np.prod(1 + r))


def test_gdp_sheet_note_names_the_base_period_even_if_another_period_is_100():
    d = make_data(asof="2023-11-30", extra_settings={"Base Period": "2020"})
    d.macro = pd.DataFrame({"Period": ["2019", "2020", "2021"], "Growth": [1.0, 2.0, 0.0]})
    [sc] = gdp_builder.build(RefreshContext(d))
    t = sc.tables[0].df.set_index("Period")
    assert t.loc["2021", "GDP Index"] == 100.0  # 2021 grew 0 %: it is also at 100
    assert list(t.index) == ["2020", "2021"]    # shown from the base period on
    assert any("2019 … 2019" in n for n in sc.tables[0].notes)
    assert sc.tables[0].notes[0].startswith("Base 2020 = 100")


@pytest.mark.parametrize("asof, last", [("1998-12-31", "1998Q4"), ("1998-12-30", "1998Q3"),
                                        ("1999-06-30", "1999Q2"), ("2000-02-15", "1999Q4")])
def test_gdp_sheet_never_shows_a_period_after_as_of(asof, last):
    """Macro rows are labels, not dates: a report as of 1998 must not print 1999 or later,
    whatever the Base Period (issue #12); a quarter counts once it has ended."""
    d = make_data(asof="1998-12-31")
    d.asof = pd.Timestamp(asof)
    quarters = [f"{y}Q{q}" for y in range(1997, 2010) for q in range(1, 5)]
    d.macro = pd.DataFrame({"Period": quarters, "Growth": [2.0] * len(quarters)})
    d.settings["Base Period"] = "1997Q1"
    [sc] = gdp_builder.build(RefreshContext(d))
    t = sc.tables[0].df
    assert t["Period"].iloc[-1] == last
    assert list(sc.tables[1].df.columns)[-1] == last  # the newsletter layout too
    # a base period in the future is refused with the reason, never computed from the future
    d.settings["Base Period"] = "2005Q1"
    ctx = RefreshContext(d)
    [sc] = gdp_builder.build(ctx)
    assert sc.tables == [] and "ends after As Of" in ctx.failures["GDP"]


def test_macro_publication_lag_setting():
    d = make_data(asof="1998-12-31")
    d.macro.loc[len(d.macro)] = {"Period": "1998Q4", "Growth": 3.0, "Source": "test"}
    [sc] = gdp_builder.build(RefreshContext(d))
    assert sc.tables[0].df["Period"].iloc[-1] == "1998Q4"  # ended on As Of: usable, no lag
    d.settings["Macro Publication Lag"] = 1
    [sc] = gdp_builder.build(RefreshContext(d))
    assert sc.tables[0].df["Period"].iloc[-1] == "1998Q3"  # 1998Q4 is known from 1999-01-31
    assert any("1-month publication lag" in n for n in sc.tables[0].notes)
