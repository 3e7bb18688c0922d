"""Fact sheets and the Macro Intelligence Report: PDF page counts and text (pdftotext), with
every checked figure recomputed here independently (numpy on the same returns)."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from test_performance_tables import make_data

from engine.inputs.data import Instrument
from engine.reports.factsheets import write_factsheets
from engine.reports.report import write_report
from engine.tables.base import PCT, SheetContent, Table
from chart_fixtures import fake_charts

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def pdf_pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))


def pct(x):
    return f"{x * 100:+.2f}%"


def test_factsheets_one_page_per_strategy_with_correct_figures(tmp_path):
    d = make_data()
    paths = write_factsheets(d, tmp_path)
    assert [p.name for p in paths] == ["MODEL_factsheet_1998-12.pdf",
                                       "INCOME_factsheet_1998-12.pdf"]
    for p in paths:
        assert p.parent == tmp_path and pdf_pages(p) == 1
    text = pdf_text(paths[0])
    r = d.returns["MODEL"].to_numpy()
    mkt = d.returns["MKT"].to_numpy()
    assert "Test Advisers LLC" in text and "December 31, 1998" in text
    assert "Model equity strategy (hypothetical)" in text
    assert "Performance type: Hypothetical" in text and "HYPOTHETICAL PERFORMANCE: MODEL" in text
    assert "Past performance is not indicative of future results" in text
    assert "does not claim compliance" in text and "GIPS" in text
    assert "Test disclosure text." in text
    assert "net of fees" in text and "the fees deducted are not stated" in text
    # performance row, recomputed: month, YTD (= 1 year at December), 3-year annualized
    assert pct(r[-1]) in text
    assert pct(np.prod(1 + r[-12:]) - 1) in text
    assert pct(np.prod(1 + r[-36:]) ** (1 / 3) - 1) in text
    assert pct(np.prod(1 + r[-24:-12]) - 1) in text  # calendar 1997
    assert pct(np.prod(1 + mkt[-60:]) ** (1 / 5) - 1) in text  # benchmark 5 years
    # risk statistics
    w = r[-36:]
    assert f"{w.std(ddof=1) * 12 ** 0.5 * 100:.2f}%" in text
    ex = w - 0.004
    assert f"{ex.mean() / ex.std(ddof=1) * 12 ** 0.5:.2f}" in text
    wealth = np.concatenate([[1], np.cumprod(1 + r)])
    assert f"{(wealth / np.maximum.accumulate(wealth) - 1).min() * 100:.2f}%" in text
    assert pct(r.max()) in text and pct(r.min()) in text
    b = mkt[-36:]
    assert f"{np.cov(w, b)[0, 1] / np.var(b, ddof=1):.2f}" in text
    assert f"{np.corrcoef(w, b)[0, 1]:.2f}" in text
    assert "Growth of $10,000" in text and "Drawdown" in text


def test_income_factsheet_has_income_panel(tmp_path):
    d = make_data()
    [_, path] = write_factsheets(d, tmp_path)
    text = pdf_text(path)
    inc = d.income
    assert "Income, cashflow and loss" in text
    assert pct(inc["Income"].iloc[-1]) in text
    assert f"{inc['Income'].iloc[-1] * 1200:+.1f}%" in text
    assert pct(inc["Cashflow"].iloc[-12:].sum()) in text
    # a 30-month record: 5-year figure shown as a dash with the reason in the notes
    assert "needs 60 months, has 30" in text
    assert "Performance type: Actual" in text
    # the benchmark's since-inception figure covers the strategy's 30 months, annualized
    mkt = d.returns["MKT"].to_numpy()[-30:]
    assert pct(np.prod(1 + mkt) ** (12 / 30) - 1) in text
    s = d.returns["INCOME"].dropna().to_numpy()
    assert pct(np.prod(1 + s) ** (12 / 30) - 1) in text


def test_factsheet_problems_reported(tmp_path):
    d = make_data()
    d.series.loc[1, "Basis"] = "Maybe"
    problems = {}
    paths = write_factsheets(d, tmp_path, problems)
    assert len(paths) == 1 and "MODEL" in problems


def _fake_model_tables(d):
    """SheetContent shaped like the forecast/valuation builders' (seed Tables 2-3)."""
    fc = pd.DataFrame({"Code": ["SPX", "DAX"], "Country": ["US", "Germany"],
                       "Stock Index": ["S&P 500", "DAX"], "Price": [1229.23, 5006.57],
                       "1 Mo Forecast": [0.0073, -0.0121], "Previous Forecast": [0.0184, 0.0],
                       "Position": [1, -1], "Trade": ["", "S"],
                       "Updated": pd.to_datetime(["1998-12-31", "1998-12-31"]),
                       "Phase": ["Calm", "Volatile"]})
    val = pd.DataFrame({"Code": ["SPX", "DAX"], "Stock Index": ["S&P 500", "DAX"],
                        "Valuation (σ)": [1.85, -0.42], "Valuation (%)": [0.31, -0.06],
                        "1 Yr": [-0.041, 0.052], "5 Yr": [-0.012, 0.031]})
    return {
        "forecasts": [SheetContent("Stock Forecasts", tables=[
            Table("StockForecasts", fc, {"1 Mo Forecast": PCT, "Previous Forecast": PCT},
                  title="Table 2: Stock index forecasts")])],
        "valuation": [SheetContent("Stock Valuation", tables=[
            Table("StockValuation", val, {"Valuation (%)": PCT, "1 Yr": PCT, "5 Yr": PCT},
                  title="Table 3: Stock index valuation")])],
        "charts": [fake_charts([("SPX", "S&P 500", "Equity")])],
    }


def test_report_with_tables_and_missing_sections(tmp_path):
    d = make_data()
    d.instruments = {"SPX": Instrument("SPX", "S&P 500", "US", "Equity")}
    out = write_report(d, _fake_model_tables(d), tmp_path / "report.pdf")
    text = pdf_text(out)
    assert "Macro Intelligence Report" in text and "December 31, 1998" in text
    assert "Table 2: Stock index forecasts" in text and "0.73%" in text and "-1.21%" in text
    assert "Table 3: Stock index valuation" in text and "1.85" in text
    # the Charts sheet's panels: summary row, price and signals; valuation; the scatter
    assert "S&P 500 (SPX): composite forecast" in text and "Model Signals SPX" in text
    assert "SPX valuation (σ), bands at ±1.75σ" in text
    assert "Stock indices: valuation vs 1-year valuation-based forecast" in text
    # absent tables are named, not silently dropped
    assert "Bond Forecasts: not available" in text and "Track Record: not available" in text
    # the GDP gap is built from the input data when no builder output was passed
    assert "Foregone GDP Gap" in text and "108.7" in text
    n = pdf_pages(out)
    assert 5 <= n <= 12  # sections are packed: a short one starts below the previous one
    for i in range(1, n + 1):
        assert f"Page {i}" in text


def test_report_without_any_tables(tmp_path):
    d = make_data()
    out = write_report(d, None, tmp_path / "sub" / "r.pdf")
    text = pdf_text(out)
    assert out.exists() and "Not available in this report" in text
    assert "Stock Forecasts" in text and pdf_pages(out) >= 4


def test_long_table_paginates(tmp_path):
    d = make_data()
    big = pd.DataFrame({"Code": [f"C{i:03d}" for i in range(120)],
                        "Value": np.arange(120) / 1000})
    tables = {"track": [SheetContent("Track Record", tables=[
        Table("TrackRecord", big, {"Value": PCT}, title="Track record summary")])]}
    out = write_report(d, tables, tmp_path / "r.pdf")
    text = pdf_text(out)
    assert "C000" in text and "C119" in text and "(continued)" in text
    assert "11.90%" in text


def test_factsheet_keeps_non_latin_text(tmp_path):
    d = make_data()
    d.series.loc[1, "Description"] = "Model strategy: long when valuation σ < −1 (Ω)"
    [path, _] = write_factsheets(d, tmp_path)
    assert "valuation σ < −1" in pdf_text(path)  # embedded fonts, nothing lost


def test_report_draws_the_charts_sheet_by_section(tmp_path):
    """Each section shows, after its tables, the Charts sheet's panels of its instruments
    (drawn from their ChartSpecs): the S&P 500's on an Equity page, the Moody's Aaa's on a
    Fixed Income page; a class without instruments says so."""
    d = make_data()
    d.instruments = {"SPX": Instrument("SPX", "S&P 500", "US", "Equity"),
                     "AAA": Instrument("AAA", "Moody's Aaa", "US", "Bond", "Yield", 25.0)}
    charts = fake_charts([("SPX", "S&P 500", "Equity"), ("AAA", "Moody's Aaa", "Bond")])
    out = write_report(d, {"charts": [charts]}, tmp_path / "r.pdf")
    text = pdf_text(out)
    body = text.split("\f", 1)[1]  # not the cover
    where = {t: body.find(t) for t in (
        "Equity Markets", "Fixed Income", "Currencies", "Model Signals SPX",
        "SPX valuation (σ)", "Model Signals AAA", "AAA: price and walk-forward fair value",
        "Stock indices: valuation vs 1-year")}
    assert min(where.values()) >= 0, where
    eq, fi, fx = where["Equity Markets"], where["Fixed Income"], where["Currencies"]
    for t in ("Model Signals SPX", "SPX valuation (σ)", "Stock indices: valuation vs 1-year"):
        assert eq <= where[t] < fi, t
    for t in ("Model Signals AAA", "AAA: price and walk-forward fair value"):
        assert fi <= where[t] < fx, t
    assert "Model charts not available" not in text  # both classes had charts
    assert "No FX instruments in this workbook" in text
    assert "Synthetic chart data." in text            # the Charts sheet's intro, once


def test_long_texts_stay_on_one_page(tmp_path):
    legal = " ".join(f"Important legal text number {i}." for i in range(400))
    d = make_data(extra_settings={"Disclosure": legal})
    d.series.loc[1, "Description"] = "A very long strategy description. " * 30
    [path, _] = write_factsheets(d, tmp_path)
    text = pdf_text(path)
    assert pdf_pages(path) == 1
    assert "disclosure text continues" in text
    assert "Past performance is not indicative" in text  # standard lines come first
    assert "Page 1 of 1" in text


def test_bad_income_sheet_drops_only_the_panel(tmp_path):
    d = make_data()
    d.income = d.income.drop(columns="Loss")
    [_, path] = write_factsheets(d, tmp_path)
    text = pdf_text(path)
    assert "Income, cashflow and loss" not in text and "income panel: income: needs" in text


def test_report_contents_page_numbers_match_the_pages(tmp_path):
    import re

    d = make_data()
    d.instruments = {"SPX": Instrument("SPX", "S&P 500", "US", "Equity")}
    out = write_report(d, _fake_model_tables(d), tmp_path / "r.pdf")
    cover = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(out), "-"],
                           capture_output=True, text=True, check=True).stdout
    for section in ("Equity Markets", "Fixed Income", "Track Record",
                    "Real GDP gap (deferred demand)"):
        page = int(re.search(re.escape(section) + r"\s+(\d+)", cover).group(1))
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(out), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert section in text.split("as of December 31, 1998", 1)[1]


def test_mid_month_asof_factsheet_is_to_the_last_month_end(tmp_path):
    """As of 1998-12-15 the last known month-end is November: the figures are November's
    (recomputed here), labelled so, not blanks and not December's."""
    d = make_data(asof="1998-12-15")  # returns Dec 1988 … Nov 1998, month-end dated
    assert d.returns.index[-1] == pd.Timestamp("1998-11-30")
    [path, _] = write_factsheets(d, tmp_path)
    text = pdf_text(path)
    r = d.returns["MODEL"].to_numpy()
    assert "Performance (%) to November 1998" in text
    assert "1 Yr = the 12 months to November 1998" in text
    assert pct(r[-1]) in text
    assert pct(np.prod(1 + r[-11:]) - 1) in text  # YTD Jan … Nov
    assert pct(np.prod(1 + r[-12:]) - 1) in text  # 12 months Dec 1997 … Nov 1998
    assert pct(np.prod(1 + r[-23:-11]) - 1) in text  # calendar 1997


def test_printed_figures_round_like_the_excel_cell():
    """A 6.375 % December return (the demo's Small Cap Tilt) linked as prod(1 + r) - 1 is
    0.06374999999999997 in binary; Excel shows the input cell as 6.38 %, so must the PDF.
    Ties round half away from zero (Excel), not half to even."""
    from engine.reports.render import fmt_num, fmt_pct
    assert fmt_pct(np.prod(1 + np.array([0.06375])) - 1) == "+6.38%"
    assert fmt_pct(0.00125) == "+0.13%" and fmt_pct(-0.06375) == "-6.38%"
    assert fmt_pct(0.127, 1) == "+12.7%" and fmt_pct(1.0, sign=False) == "100.00%"
    assert fmt_num(1.125) == "1.13" and fmt_num(12345.678) == "12,345.68"
    assert fmt_num(float("nan")) == "\u2014"


def test_inception_label_says_when_the_returns_start(tmp_path):
    """Series Inception before the first return: the since-inception figures start with the
    returns, and the page must say so rather than print only the earlier date."""
    d = make_data()
    first = d.returns["INCOME"].first_valid_index()  # 30 months: 1996-07
    d.series.loc[2, "Inception"] = pd.Timestamp("1995-01-01")
    [_, path] = write_factsheets(d, tmp_path)
    text = pdf_text(path)
    assert f"returns from {first:%B %Y}" in text
    s = d.returns["INCOME"].dropna().to_numpy()
    assert pct(np.prod(1 + s) ** (12 / 30) - 1) in text


def test_benchmark_younger_than_strategy_has_no_since_inception_figure(tmp_path):
    """The page says benchmarks' since-inception figures cover the strategy's period; a
    benchmark that starts later cannot give one (it would be over a shorter period)."""
    from engine.reports.factsheets import factsheet_figures
    d = make_data()
    d.returns.loc[: d.returns.index[59], "MKT"] = np.nan  # MKT from month 61, MODEL all 120
    f = factsheet_figures(d, "MODEL")
    mkt = d.returns["MKT"].dropna().to_numpy()
    own = np.prod(1 + mkt) ** (12 / 60) - 1  # MKT over its own 60 months
    assert np.isnan(f["perf"].loc["MKT", "Since Inception"]), own
    assert np.isnan(f["perf"].loc["MKT", "Max Drawdown"])
    assert np.isnan(f["stats"].loc["Best Month", "MKT"])
    assert any("MKT Since Inception" in n and "after" in n for n in f["notes"])
    # the figures that do not depend on the start are still there
    assert f["perf"].loc["MKT", "5 Yr (ann.)"] == pytest.approx(own)


def test_bad_benchmark_column_does_not_sink_the_strategy(tmp_path):
    d = make_data()
    d.returns.loc[d.returns.index[5], "MKT"] = -1.8  # a percent typed into a decimal column
    problems = {}
    paths = write_factsheets(d, tmp_path, problems)
    assert len(paths) == 2 and problems == {}
    text = pdf_text(paths[0])
    r = d.returns["MODEL"].to_numpy()
    assert pct(np.prod(1 + r[-12:]) - 1) in text  # the strategy's own figures are there
    assert "MKT" in text and "below -1" in text  # the benchmark's problem is stated


def test_charts_of_other_sheets_are_drawn_in_block_order(tmp_path):
    """A ChartSpec on any sheet the report shows (here Track Record) is drawn where it stands
    among the tables, from that sheet's tables."""
    from engine.tables.charts import Axis, ChartSpec, Ref, Series
    d = make_data()
    feed = Table("TRFeed", pd.DataFrame({"Date": pd.date_range("1990-01-31", periods=24,
                                                               freq="ME"),
                                         "Hit": np.linspace(0.4, 0.6, 24)}))
    chart = ChartSpec("Hit rate over time (synthetic)",
                      (Series("Hit", Ref("TRFeed", "Date"), Ref("TRFeed", "Hit")),),
                      Axis("", "yyyy", dates=True), Axis("Hit rate", "0%"))
    sc = SheetContent("Track Record", data_tables=[feed]).add(
        Table("TR1", pd.DataFrame({"Code": ["A"], "V": [1.0]}), title="Before the chart"),
        chart,
        Table("TR2", pd.DataFrame({"Code": ["B"], "V": [2.0]}), title="After the chart"))
    text = pdf_text(write_report(d, {"track": [sc]}, tmp_path / "r.pdf"))
    i, j, k = (text.index(t) for t in ("Before the chart", "Hit rate over time (synthetic)",
                                       "After the chart"))
    assert i < j < k
