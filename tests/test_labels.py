"""Data truth and labels in the workbook and the PDFs (issue #12): no Macro period after As Of
in any engine table, chart feed or PDF page; units said per instrument; stale quotes shown
with their true date; the synthetic euro said where its pre-1999 history is shown; titles
without double parentheses; the valuation scatter's axes in full.

The end-to-end checks run the refresh builders on the committed demo (real public data) read
as of two dates, and read the PDFs back with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from engine.cli import demo_workbook
from engine.domain import period_end
from engine.inputs.data import Instrument, WorkbookData
from engine.inputs.reader import read_workbook
from engine.refresh import build_contents
from engine.reports.render import fmt_cell
from engine.tables import data_status
from engine.tables.base import RefreshContext, Table
from engine.tables.labels import quote_age, stale_quote_note, synthetic_euro_note

PERIOD = re.compile(r"^\d{4}(Q[1-4])?$")
QUARTER = re.compile(r"\b(\d{4})Q([1-4])\b")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


# ----------------------------------------------------------------------------- unit level

def test_unit_label_defaults_and_the_unit_column():
    assert Instrument("GBPUSD", "GBP/USD", "UK", "FX").unit_label == "USD per GBP"
    assert Instrument("X", "Euro", "EA", "FX").unit_label == "exchange rate"  # not a pair
    assert Instrument("AAA", "Aaa", "US", "Bond", "Yield").unit_label == "% yield"
    assert Instrument("SPX", "S&P 500", "US", "Equity").unit_label == "index points"
    assert Instrument("WTI", "WTI", "US", "Commodity").unit_label == "USD"
    gold = Instrument("GOLD", "Gold", "Global", "Commodity", unit="index, 1977-12-30 = 100")
    assert gold.unit_label == "index, 1977-12-30 = 100"
    assert gold.level_title == "Level (index, 1977-12-30 = 100)"
    assert Instrument("WTI", "WTI", "US", "Commodity", unit="USD/bbl").level_title == \
        "Price (USD/bbl)"


def test_titles_never_carry_two_parentheses():
    assert Instrument("SPX", "S&P 500", "US", "Equity").label == "S&P 500 (SPX)"
    label = Instrument("GOLD", "Gold (index)", "Global", "Commodity").label
    assert label.count("(") == 1 and "GOLD" in label          # not "Gold (index) (GOLD)"
    assert Instrument("X", "X", "", "Equity").label == "X"


def _fx(start="1979-01-01", end="1998-12-01") -> pd.Series:
    idx = pd.date_range(start, end, freq="MS")                 # start-of-month quotes
    return pd.Series(np.linspace(1.5, 1.6, len(idx)), index=idx)


def test_start_of_month_quote_is_stale_under_a_month_end_update():
    inst = Instrument("GBPUSD", "GBP/USD", "UK", "FX")
    upd, age = quote_age(inst, pd.Timestamp("1998-12-01"))
    assert upd == pd.Timestamp("1998-12-31") and age == 30
    assert quote_age(inst, pd.Timestamp("1998-12-31"))[1] == 0
    note = stale_quote_note([inst], {"GBPUSD": _fx()})
    assert "GBPUSD 1998-12-01" in note and "30 days" in note
    fresh = pd.Series([1.0], index=[pd.Timestamp("1998-12-30")])
    assert stale_quote_note([inst], {"GBPUSD": fresh}) is None


def test_data_status_shows_true_date_age_staleness_and_four_decimals():
    insts = {"GBPUSD": Instrument("GBPUSD", "GBP/USD", "UK", "FX"),
             "SPX": Instrument("SPX", "S&P 500", "US", "Equity")}
    spx = pd.Series([1229.23], index=[pd.Timestamp("1998-12-31")])
    d = WorkbookData(asof=pd.Timestamp("1998-12-31"), instruments=insts,
                     prices={"GBPUSD": _fx().iloc[-60:] * 1.1 + 0.000021, "SPX": spx},
                     fundamentals=pd.DataFrame(), returns=pd.DataFrame(),
                     series=pd.DataFrame(), income=pd.DataFrame(), macro=pd.DataFrame(),
                     settings={})
    [sc] = data_status.build(RefreshContext(d))
    t = sc.tables[0]
    row = t.df.set_index("Code").loc["GBPUSD"]
    assert row["Last Observation"] == pd.Timestamp("1998-12-01")     # the true date
    assert row["Updated"] == pd.Timestamp("1998-12-31") and row["Quote Age (days)"] == 30
    assert row["Stale"] == "Yes" and "30 days before" in row["Problems"]
    assert row["Unit"] == "USD per GBP"
    assert fmt_cell(row["Last Value"], t.formats["Last Value"]) == f"{row['Last Value']:,.4f}"
    assert len(fmt_cell(row["Last Value"], t.formats["Last Value"]).split(".")[1]) == 4
    assert t.df.set_index("Code").loc["SPX", "Stale"] == "No"


def test_synthetic_euro_note_only_for_euro_pairs_shown_before_1999():
    eur = Instrument("EURUSD", "EUR/USD", "EA", "FX")
    gbp = Instrument("GBPUSD", "GBP/USD", "UK", "FX")
    note = synthetic_euro_note([eur, gbp], {"EURUSD": _fx(), "GBPUSD": _fx()})
    assert note.startswith("EURUSD:") and "synthetic euro" in note and "GBPUSD" not in note
    assert "1979-01" in note
    assert synthetic_euro_note([eur], {"EURUSD": _fx("1999-01-01", "2001-12-01")}) is None


# ----------------------------------------------------------------------------- end to end

def _cells(t: Table) -> list:
    return [*t.df.columns, *t.df.to_numpy().ravel().tolist()]


def _future_periods(tables: list[Table], asof: pd.Timestamp) -> list[str]:
    bad = []
    for t in tables:
        for v in _cells(t):
            if isinstance(v, str) and PERIOD.match(v.strip()) and period_end(v) > asof:
                bad.append(f"{t.name}: {v}")
    return bad


def _future_quarters(text: str, asof: pd.Timestamp) -> list[str]:
    return sorted({m.group(0) for m in QUARTER.finditer(text)
                   if period_end(m.group(0)) > asof})


@pytest.fixture(scope="module")
def demo_1998(tmp_path_factory):
    """The committed demo read as of 1998-12-31 with Base Period 1995Q4 (its Macro sheet
    holds 1959Q2 … 2009Q3 and the newsletter's 2019 … 2023Q3): every builder, the report."""
    from engine.reports.report import write_report

    data = read_workbook(demo_workbook(), asof="1998-12-31")
    data.settings["Base Period"] = "1995Q4"
    contents, ctx = build_contents(data)
    tables: dict[str, list] = {}
    for c in contents:
        tables.setdefault(c.sheet, []).append(c)
    out = tmp_path_factory.mktemp("labels")
    pdf = write_report(data, tables, out / "report.pdf") \
        if shutil.which("pdftotext") else None
    return data, contents, ctx, pdf


def test_no_future_macro_period_in_any_table_or_chart_feed(demo_1998):
    data, contents, ctx, _ = demo_1998
    assert (data.macro["Period"].map(period_end) <= data.asof).all()  # the reader filtered
    every = [t for c in contents for t in (*c.tables, *c.data_tables)]
    assert not _future_periods(every, data.asof)
    gdp = next(c for c in contents if c.sheet == "GDP Gap")
    assert gdp.tables and gdp.tables[0].df["Period"].iloc[-1] == "1998Q4"
    assert gdp.tables[0].df["Period"].iloc[0] == "1995Q4"     # from the base period on
    assert "GDP" not in ctx.failures


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler")
def test_no_future_macro_period_on_any_report_page(demo_1998):
    data, _, _, pdf = demo_1998
    text = pdf_text(pdf)
    assert "1998Q4" in text                                       # the gap is there …
    assert not _future_quarters(text, data.asof)                  # … and ends at As Of
    start = text.rindex("Real GDP gap")
    gdp = text[start:text.find("\f", start)]  # the GDP section's page (the appendix follows)
    years = {int(y) for y in re.findall(r"(?<![\d.])(19[5-9]\d|20[0-2]\d)(?![\d.]\d)", gdp)}
    assert max(years) <= 1998, sorted(years)[-5:]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler")
@pytest.mark.parametrize("asof, base, last", [("1996-06-30", "1993Q1", "1996Q2"),
                                              ("1997-02-14", "1995Q4", "1996Q4")])
def test_no_future_macro_period_for_other_as_of_dates(tmp_path, asof, base, last):
    from engine.reports.factsheets import write_factsheets
    from engine.reports.report import write_report

    data = read_workbook(demo_workbook(), asof=asof)
    data.settings["Base Period"] = base
    contents, ctx = build_contents(data, only=("gdp_gap",))
    assert contents[0].tables[0].df["Period"].iloc[-1] == last
    assert not _future_periods([t for c in contents for t in c.tables], data.asof)
    text = pdf_text(write_report(data, {"GDP Gap": contents}, tmp_path / "r.pdf"))
    assert last in text and not _future_quarters(text, data.asof)
    for p in write_factsheets(data, tmp_path / "fs"):
        assert not _future_quarters(pdf_text(p), data.asof)


def test_demo_tables_say_units_stale_quotes_and_the_synthetic_euro(demo_1998):
    data, contents, _, _ = demo_1998
    by = {t.name: t for c in contents for t in c.tables}
    com = by["CommodityForecasts"].df.set_index("Code")
    assert "Cash/Futures Price ($)" not in com.columns
    for code in ("GOLD", "SILVER"):  # index levels, not dollars (Instruments Unit)
        assert "index" in com.loc[code, "Unit"], com.loc[code, "Unit"]
    ds = by["DataStatus"].df.set_index("Code")
    for code in ("GBPUSD", "EURUSD", "EURGBP"):  # start-of-month quotes
        assert ds.loc[code, "Last Observation"] == pd.Timestamp("1998-12-01")
        assert ds.loc[code, "Stale"] == "Yes" and ds.loc[code, "Quote Age (days)"] == 30
    fx_notes = " ".join(by["FXForecasts"].notes + by["FXValuation"].notes)
    assert "synthetic euro" in fx_notes and "GBPUSD 1998-12-01" in fx_notes
    titles = [t.title or "" for t in by.values()]
    titles += [ch.title for c in contents for ch in c.charts]
    assert not [x for x in titles if re.search(r"\([^()]*\) \([^()]*\)", x)], titles
    scatter = next(ch for c in contents for ch in c.charts if ch.kind == "scatter")
    assert "annualized" in scatter.y_axis.title and "%" in scatter.y_axis.title
    assert scatter.y_axis.title != "1 Yr"
