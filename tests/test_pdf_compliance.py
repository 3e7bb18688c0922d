"""What a compliance officer checks before signing the client PDFs: fonts embedded and the same
in every file, no in-house text, a disclosure block that says each thing once and carries the
firm's Settings, the kind of performance beside every figure of a series, what a net series
really deducts, whole names, tables on one width, a dated report file name."""

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from test_performance_tables import make_data
from test_reports import _fake_model_tables, pdf_text

from engine.inputs.data import Instrument
from engine.inputs.firm import DEFAULT_FIRM_NAME, firm_settings
from engine.reports.disclosures import (
    disclosure_block,
    fee_statement,
    sentences,
    series_kind,
)
from engine.reports.factsheets import write_factsheets
from engine.reports.report import DISCLOSURES_TITLE, report_path, write_report
from engine.reports.track_summary import track_summary
from engine.tables.base import PCT, SheetContent, Table

pytestmark = pytest.mark.skipif(shutil.which("pdffonts") is None, reason="needs poppler")

# words that belong to the workshop, not to a client document
IN_HOUSE = ("seed", "fixture", "debug", "not used", "present.", "todo", "placeholder",
            "lorem", "dummy", "offline", "in-house")

FIRM = {"Firm Name": "Harbor Point Advisers LLC",
        "Firm Address": "1 Harbor Point, Stamford, CT 06902",
        "Firm Contact": "compliance@harborpoint.test, +1 203 555 0100",
        "Regulatory Status": "Harbor Point Advisers LLC is registered with the SEC as an "
                             "investment adviser.",
        "Disclosure": "Past performance does not guarantee future returns. Harbor Point "
                      "Advisers LLC does not claim compliance with GIPS. Fees are described "
                      "in Part 2A of Form ADV."}


def in_house(text: str) -> list[str]:
    low = text.casefold()
    return [w for w in IN_HOUSE if re.search(r"(?<![a-z])" + re.escape(w), low)]


def fonts(path) -> list[tuple[str, str]]:
    """(font name without its subset prefix, emb) for every font of a PDF (pdffonts)."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                         check=True).stdout.splitlines()[2:]
    rows = []
    for line in out:
        cols = line.split()
        # name type [type…] encoding emb sub uni object ID: emb is the 5th column from the end
        rows.append((cols[0].split("+")[-1], cols[-5]))
    return rows


def disclosure_text(page_text: str) -> str:
    block = re.split(r"^\s*Disclosures\s*$", page_text, flags=re.MULTILINE)[-1]
    return " ".join(block.rsplit("Page 1 of 1", 1)[0].split()[:-8])  # drop the footer line


def _write_all(tmp_path, settings=None):
    d = make_data(extra_settings=settings)
    d.instruments = {"SPX": Instrument("SPX", "S&P 500", "US", "Equity")}
    sheets = write_factsheets(d, tmp_path / "fs")
    report = write_report(d, _fake_model_tables(d), tmp_path)
    return d, sheets, report


def test_fonts_embedded_and_one_family_in_every_pdf(tmp_path):
    _, sheets, report = _write_all(tmp_path)
    families = set()
    for p in [*sheets, report]:
        fs = fonts(p)
        assert fs, p
        assert all(emb == "yes" for _, emb in fs), (p.name, fs)
        families |= {name.split("-")[0] for name, _ in fs}
    assert families == {"DejaVuSans"}  # fact sheets and report alike


def test_no_in_house_words_in_any_pdf(tmp_path):
    _, sheets, report = _write_all(tmp_path)
    for p in [*sheets, report]:
        assert in_house(pdf_text(p)) == [], p.name
    # the cover says nothing when nothing is missing (no "All … present." line)
    cover = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(report), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "present" not in cover


def test_factsheet_disclosures_say_each_thing_once_with_the_firm_settings(tmp_path):
    _, sheets, _ = _write_all(tmp_path, FIRM)
    for p in sheets:
        text = pdf_text(p)
        block = disclosure_text(text)
        said = [re.sub(r"\W+", " ", s).casefold().strip() for s in sentences(block)]
        assert len(said) == len(set(said)), [s for s in said if said.count(s) > 1]
        # one statement per topic: the firm's own sentence replaces the standard one
        assert block.count("Past performance") == 1
        assert block.count("GIPS") == 1 and "does not claim compliance with GIPS" in block
        assert block.lower().count("unmanaged") == 1
        for key in ("Firm Address", "Firm Contact", "Regulatory Status"):
            assert FIRM[key].rstrip(".") in block, key
        assert "Fees are described in Part 2A of Form ADV." in block
        assert text.lstrip().startswith("Harbor Point Advisers LLC")  # the header band


def test_defaults_when_the_firm_settings_are_absent(tmp_path):
    d = make_data()
    for k in ("Firm Name", "Disclosure"):
        d.settings.pop(k)
    firm = firm_settings(d.settings)
    assert firm.name == DEFAULT_FIRM_NAME and not firm.named and firm.disclosure == ""
    [p, _] = write_factsheets(d, tmp_path)
    block = disclosure_text(pdf_text(p))
    assert f"Published by {DEFAULT_FIRM_NAME}." in block
    assert "available on request" in block and "Past performance" in block
    assert "GIPS" in block and "unmanaged" in block


def test_kind_of_performance_beside_every_figure(tmp_path):
    """MODEL is hypothetical (its description says so): its table row, its statistics column
    and its chart legends carry the word; the benchmark's row says Index."""
    _, [model, _], _ = _write_all(tmp_path)
    text = pdf_text(model)
    rows = [ln for ln in text.splitlines() if ln.strip().startswith("MODEL ")
            and "%" in ln]
    assert rows and all("Hypothetical" in ln for ln in rows[:1]), rows
    assert any(ln.strip().startswith("MKT") and "Index" in ln for ln in text.splitlines())
    assert "MODEL (hyp.)" in text                  # the risk statistics' column header
    assert text.count("MODEL (hypothetical)") == 2  # both chart legends
    assert "HYPOTHETICAL PERFORMANCE" in text


def test_net_of_fees_says_what_was_deducted():
    """A description that deducts only an assumed fee says so; an illustrative series says
    nothing is deducted; neither claims advisory fees and trading costs."""
    value = {"Name": "Value Tilt", "Basis": "Net",
             "Description": "Hypothetical model portfolio, rebalanced monthly, net of an "
                            "assumed 0.75% p.a. fee. Model performance."}
    illus = {"Name": "MBS High Income", "Basis": "Net",
             "Description": "ILLUSTRATIVE figures, not the returns of any account."}
    actual = {"Name": "Core", "Basis": "Net", "Description": "Composite of client accounts."}
    gross = {"Name": "Small Cap", "Basis": "Gross", "Description": "Model portfolio."}
    kinds = [series_kind(m) for m in (value, illus, actual, gross)]
    assert kinds == ["Hypothetical", "Illustrative", "Actual", "Hypothetical"]
    v = fee_statement(value, kinds[0])
    assert "0.75% a year fee only" in v and "no trading costs" in v
    i = fee_statement(illus, kinds[1])
    assert "no advisory fees, trading costs or other expenses are deducted" in i
    assert "advisory fees and trading costs charged" in fee_statement(actual, kinds[2])
    assert "gross of fees" in fee_statement(gross, kinds[3])
    # the Series sheet's own column wins
    given = {**actual, "Fees Deducted": "a 1% management fee and custody costs"}
    assert "deducted: a 1% management fee and custody costs." in fee_statement(given, "Actual")


def test_block_drops_repeated_sentences_and_covered_topics():
    firm = firm_settings({"Firm Name": "X LLC", "Disclosure":
                          "Benchmarks are unmanaged. Benchmarks are unmanaged. Own text."})
    block = " ".join(disclosure_block(firm, extra=["Own text.", "A forecast note."]))
    assert block.count("Own text.") == 1 and block.count("unmanaged") == 1
    assert "Benchmark indices are unmanaged" not in block  # the firm's sentence covers it
    assert "A forecast note." in block and "Published by X LLC." in block


def test_report_has_a_full_disclosure_page_from_settings(tmp_path):
    _, _, report = _write_all(tmp_path, FIRM)
    pages = pdf_text(report).split("\f")
    [page] = [p for p in pages[1:] if DISCLOSURES_TITLE in p]
    body = " ".join(page.split())
    assert "HYPOTHETICAL PERFORMANCE" in body and "Sharpe ratios" in body
    for key in ("Firm Address", "Firm Contact", "Regulatory Status"):
        assert FIRM[key].rstrip(".") in body, key
    said = [re.sub(r"\W+", " ", s).casefold().strip()
            for s in sentences(body.split(DISCLOSURES_TITLE, 1)[1].rsplit("Page", 1)[0])]
    assert len(said) == len(set(said))
    assert re.search(DISCLOSURES_TITLE + r"\s+" + str(len(pages) - 1),
                     pages[0].replace("\n", " "))  # listed on the cover with its page


def test_report_file_name_carries_the_as_of_month(tmp_path):
    d = make_data()
    assert report_path(d, tmp_path) == tmp_path / "Macro-Intelligence-Report-1998-12.pdf"
    assert report_path(d, tmp_path / "mine.pdf") == tmp_path / "mine.pdf"
    d2 = make_data(asof="1999-01-31")
    assert report_path(d2, tmp_path).name == "Macro-Intelligence-Report-1999-01.pdf"
    out = write_report(d, None, tmp_path)
    assert out.name == "Macro-Intelligence-Report-1998-12.pdf" and out.exists()


def test_cli_report_default_and_folder_out(tmp_path):
    """``gamma report`` without --out writes the dated file beside the workbook; --out DIR
    into DIR; --out FILE.pdf keeps working (tested in test_refresh's CLI tests too)."""
    from engine.cli import _report
    d = make_data()
    assert _report(d, [], tmp_path) == 0
    assert (tmp_path / "Macro-Intelligence-Report-1998-12.pdf").exists()
    assert _report(d, [], tmp_path / "x.pdf") == 0 and (tmp_path / "x.pdf").exists()


def test_long_names_are_whole_and_a_wide_table_is_one_table(tmp_path):
    """No '…' cut in a name (Stock Valuation printed 'Dow Jones Industrial A…'); a table as
    wide as Bond Valuation (16 columns, long headers) is one table, not '(1/2)', '(2/2)'."""
    d = make_data()
    name = "United States: Dow Jones Industrial Average"  # cut at 38 characters before
    cols = ["Current Yield", "Valuation (σ)", "Price Valuation (%)", "1 Mo", "3 Mo", "6 Mo",
            "1 Yr", "2 Yr", "3 Yr", "5 Yr", "To Fair Value (%)", "Frequency (%)",
            "Fair Yield"]
    df = pd.DataFrame({"Code": ["AAA", "BAA"], "Country": ["United States"] * 2,
                       "Debt Instrument": [name, "Moody's Baa Corporate"],
                       **{c: [0.0123, -0.0456] for c in cols}})
    tables = {"valuation": [SheetContent("Bond Valuation", tables=[
        Table("BondValuation", df, {c: PCT for c in cols}, title="Bond Valuation")])]}
    text = pdf_text(write_report(d, tables, tmp_path / "r.pdf"))
    assert name in " ".join(text.split()) or name in text
    assert "\u2026" not in text.split("Bond Valuation", 2)[-1].split("Currencies")[0]
    assert "(1/2)" not in text and "(2/2)" not in text


def _track_tables() -> SheetContent:
    fc = pd.DataFrame({
        "Code": ["A"] * 4 + ["B"] * 4,
        "Model": ["Composite", "Historical mean", "AR(1)", "Buy & hold"] * 2,
        "Months": [100, 100, 100, 100, 80, 80, 80, 80],
        "OOS R²": [0.02, 0.0, 0.01, np.nan, -0.01, 0.0, 0.03, np.nan],
        "Clark-West": [1.5, np.nan, 0.9, np.nan, -0.2, np.nan, 1.9, np.nan],
        "Hit Rate": [0.55, 0.5, 0.52, 0.6, 0.48, 0.5, 0.51, 0.6],
        "Annual Return": [0.08, 0.07, 0.06, 0.09, -0.01, 0.0, 0.02, 0.05],
        "Volatility": [0.1] * 8,
        "Sharpe": [0.8, 0.7, 0.6, 0.9, -0.1, 0.0, 0.2, 0.5],
        "Max Drawdown": [-0.2, -0.3, -0.25, -0.5, -0.4, -0.3, -0.2, -0.6]})
    val = pd.DataFrame({"Code": ["A", "A", "B", "B"], "Asset Class": ["Equity"] * 2 + ["FX"] * 2,
                        "Horizon": ["1 Mo", "1 Yr"] * 2, "Forecasts": [50, 40, 30, 0],
                        "OOS R²": [0.01, -0.02, 0.05, np.nan]})
    return SheetContent("Track Record", tables=[
        Table("ValuationTrackRecord", val, title="Valuation forecasts by horizon"),
        Table("ForecastTrackRecord", fc, title="Composite forecast vs rivals")])


def test_track_summary_is_one_row_per_instrument_copied_from_the_tables():
    t = track_summary(_track_tables())
    df = t.df.set_index("Code")
    assert list(df.index) == ["A", "B"]
    assert df.loc["A", "OOS R²"] == 0.02 and df.loc["B", "Clark-West"] == -0.2
    # the best rival among the simple models (not the mean the R² is measured against)
    assert df.loc["A", "Best Rival"] == "AR(1)" and df.loc["B", "Rival OOS R²"] == 0.03
    assert df.loc["A", "Sharpe (hyp.)"] == 0.8 and df.loc["B", "Max Drawdown (hyp.)"] == -0.4
    assert df.loc["A", "Valuation Horizons Beating Mean"] == "1 of 2"
    assert df.loc["B", "Valuation Horizons Beating Mean"] == "1 of 1"  # 1 Yr not scored
    assert np.isnan(df.loc["B", "Valuation 1 Yr OOS R²"])
    assert df.loc["A", "Asset Class"] == "Equity"


def test_report_track_record_page_is_compact_with_detail_in_the_appendix(tmp_path):
    d = make_data()
    text = pdf_text(write_report(d, {"track": [_track_tables()]}, tmp_path / "r.pdf"))
    pages = text.split("\f")
    [summary] = [i for i, p in enumerate(pages) if "Track record summary" in p]
    assert "Sharpe" in pages[summary] and "(hyp.)" in pages[summary]
    appendix = [i for i, p in enumerate(pages) if "Composite forecast vs rivals" in p]
    assert appendix and min(appendix) > summary
    assert "Annual Return (hyp.)" in " ".join(pages[appendix[0]].split()) or \
        "(hyp.)" in pages[appendix[0]]


def test_a_commentary_sheet_is_the_first_section(tmp_path):
    """The report's assembly takes a section more without other changes: a ``Commentary``
    sheet of the refresh comes first, on its own page after the cover."""
    d = make_data()
    sc = SheetContent("Commentary", tables=[Table("Commentary", pd.DataFrame(
        {"Code": ["SPX"], "Asset Class": ["Equity"], "Topic": ["Forecast"],
         "Sentence": ["The forecast rose by 0.2 points."]}), title="Commentary")])
    pages = pdf_text(write_report(d, {"commentary": [sc]}, tmp_path / "r.pdf")).split("\f")
    body = " ".join(pages[0].split())
    assert "The forecast rose" not in body  # the cover only lists it
    assert "what moved the forecasts" in pages[1]
    # the Equity section's own heading (a line of its own) comes after the commentary
    after = "".join(pages[1:])
    heading = re.search(r"^\s*Equity Markets\s*$", after, re.M)
    assert "The forecast rose" in pages[1]
    assert heading is None or heading.start() > after.find("The forecast rose")
