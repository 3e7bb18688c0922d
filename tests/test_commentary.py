"""Commentary: the parts of each forecast add up to it, every number of a sentence is a figure
of the tables, a phase change and a trade produce their sentences, and the same workbook gives
the same text (engine/models/commentary.py, engine/tables/commentary.py)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from engine.cli import demo_workbook
from engine.models.commentary import (DRIVERS, ROW_COLUMNS, class_summary, forecast_drivers,
                                      instrument_comments)
from engine.refresh import build_contents, check
from engine.reports.commentary_page import TITLE, write_commentary
from engine.reports.pages import PageWriter
from engine.tables.commentary import CLASSES

ONLY = ("data_status", "valuation", "forecasts", "commentary")
FORECAST_SHEETS = {"Equity": "Stock Forecasts", "Bond": "Bond Forecasts",
                   "FX": "FX Forecasts", "Commodity": "Commodity Forecasts"}
VALUATION_SHEETS = {"Equity": "Stock Valuation", "Bond": "Bond Valuation",
                    "FX": "FX Valuation", "Commodity": "Commodity Valuation"}
NUMBER = re.compile(r"[+-]?\d+\.\d+")


@pytest.fixture(scope="module")
def demo():
    data = check(demo_workbook())
    contents, ctx = build_contents(data, only=ONLY)
    return data, {c.sheet: c for c in contents}, ctx


def _row(**kw) -> dict:
    row = {c: math.nan for c in ROW_COLUMNS}
    row.update({"Code": "X", "Name": "Example", "Asset Class": "Equity", "Quote": "Price",
                "Phase": "rational", "Previous Phase": "rational", "Trade": "",
                "Position": "Long", "Previous Position": "Long"})
    row.update(kw)
    return row


def test_parts_add_up_to_every_forecast(demo):
    _, _, ctx = demo
    checked = 0
    for code, r in ctx.results.items():
        if r.composite is None:
            continue
        parts = forecast_drivers(r.composite)
        assert list(parts.columns) == list(DRIVERS)
        fc = r.history["forecast"]
        have = fc.notna()
        # a sum of seven float terms against a mean of ~8: rounding far below 1e-12
        assert np.allclose(parts[have].sum(axis=1), fc[have], rtol=0, atol=1e-12), code
        assert parts[~have].isna().all().all(), code
        checked += 1
    assert checked >= 10


def test_tables_hold_the_forecast_tables_figures(demo):
    _, sheets, _ = demo
    sc = sheets["Commentary"]
    for ac in CLASSES:
        fig = sc.table(f"Commentary{ac}").df.set_index("Code")
        fc = sheets[FORECAST_SHEETS[ac]].tables[0].df.set_index("Code")
        val = sheets[VALUATION_SHEETS[ac]].tables[0].df.set_index("Code")
        col = [c for c in fc.columns if "Forecast" in c and c != "Previous Forecast"][0]
        for code in fig.index:
            f = fig.loc[code]
            assert f["This Month"] == fc.loc[code, col]
            assert f["Previous Forecast"] == fc.loc[code, "Previous Forecast"]
            assert f["Trade"] == (fc.loc[code, "Trade"] or "")
            assert f["Position"] == fc.loc[code, "Position"]
            assert f["Phase"] == fc.loc[code, "Phase"]
            assert f["Valuation (σ)"] == val.loc[code, "Valuation (σ)"]
            deltas = sum(f[f"Δ {d}"] for d in DRIVERS)
            # the Δ columns add up to Change: same float sums as above, far below 1e-12
            assert deltas == pytest.approx(f["Change"], abs=1e-12)
            assert f["Change"] == pytest.approx(f["This Month"] - f["Last Month"], abs=1e-15)


def _printed(row: pd.Series, quote: str) -> set[float]:
    """Every figure of an instrument's row at each precision the sentences print it with."""
    out = set()
    for c, v in row.items():
        if isinstance(v, (float, int, np.floating)) and math.isfinite(v):
            scale = 1.0 if quote == "Yield" or c in ("Valuation (σ)", "Previous σ") else 100.0
            for dec in (1, 2, 3):
                out.add(round(v * scale, dec) + 0.0)
                out.add(round(v * 100.0, dec) + 0.0)  # probabilities as percent
    return out


def test_every_number_in_a_sentence_is_a_figure_of_its_row(demo):
    data, sheets, _ = demo
    sc = sheets["Commentary"]
    text = sc.table("Commentary").df
    assert list(text.columns) == ["Code", "Asset Class", "Topic", "Sentence"]
    rows = {}
    for ac in CLASSES:
        for code, r in sc.table(f"Commentary{ac}").df.set_index("Code").iterrows():
            rows[code] = r
    numbers = 0
    for rec in text.itertuples(index=False):
        if rec.Topic == "Summary":
            assert not NUMBER.findall(rec.Sentence.replace("1.75", "")), rec.Sentence
            continue
        quote = data.instruments[rec.Code].quote
        allowed = _printed(rows[rec.Code], quote) | {1.75}
        cleaned = rec.Sentence.replace("AR(1)", "").replace("1-month", "")
        for s in NUMBER.findall(cleaned):
            # a printed number equals a figure rounded as printed (exact decimal strings)
            assert float(s) + 0.0 in allowed, (rec.Sentence, s)
            numbers += 1
    assert numbers > 40


def test_every_trade_phase_change_and_extreme_has_its_sentence(demo):
    _, sheets, _ = demo
    sc = sheets["Commentary"]
    text = sc.table("Commentary").df
    topics = {(r.Code, r.Topic) for r in text.itertuples(index=False)}
    seen = {"Trade": 0, "Phase": 0, "Valuation": 0}
    for ac in CLASSES:
        for code, f in sc.table(f"Commentary{ac}").df.set_index("Code").iterrows():
            assert ((code, "Trade") in topics) == bool(f["Trade"])
            assert ((code, "Phase") in topics) == (f["Phase"] != f["Previous Phase"])
            extreme = abs(f["Valuation (σ)"]) >= 1.75 or abs(f["Previous σ"]) >= 1.75
            assert ((code, "Valuation") in topics) == extreme
            for t in seen:
                seen[t] += (code, t) in topics
            assert (code, "Forecast") in topics
        assert (ac, "Summary") in topics
    # the 1998 demo has trades (AAA B, TBILL CL, ...), a phase change (USMKT) and extremes
    assert all(seen.values()), seen


def test_phase_change_and_trade_rows_give_their_sentences():
    row = _row(**{"Last Month": 0.004, "This Month": 0.0072, "Change": 0.0032,
                  "Δ Anchor": 0.0, "Δ Valuation": 0.0025, "Δ Momentum": 0.0007,
                  "Δ AR(1)": 0.0, "Δ Phase": 0.0, "Δ Fundamentals": 0.0, "Δ Floor": 0.0,
                  "Previous Forecast": 0.004, "Valuation (σ)": -1.9, "Previous σ": -1.5,
                  "Phase": "irrational", "Previous Phase": "rational",
                  "High-Vol Prob.": 0.7, "Previous High-Vol Prob.": 0.2,
                  "Position": "Long", "Previous Position": "Neutral", "Trade": "B"})
    got = {c.topic: c.sentence for c in instrument_comments(row)}
    assert got["Forecast"] == ("Example (X): the 1-month forecast rose from +0.40% to +0.72% "
                               "(+0.320 pp); moved most by valuation +0.250 pp (σ from -1.50 "
                               "to -1.90) and momentum +0.070 pp.")  # no momentum figures
    assert "reached an extreme valuation: σ -1.90, was -1.50" in got["Valuation"]
    assert "below fair value: cheap" in got["Valuation"]
    assert got["Phase"] == ("X: the market phase changed from rational to irrational "
                            "(high-volatility probability 70.0%, was 20.0%; σ -1.90, "
                            "was -1.50).")
    assert got["Trade"].startswith("X: trade B, buy (Neutral to Long)")
    quiet = _row(**{"Last Month": 0.004, "This Month": 0.004, "Change": 0.0,
                    **{f"Δ {d}": 0.0 for d in DRIVERS}, "Valuation (σ)": 0.3,
                    "Previous σ": 0.2})
    assert [c.topic for c in instrument_comments(quiet)] == ["Forecast"]
    assert "unchanged at +0.40%" in instrument_comments(quiet)[0].sentence
    failed = _row(Code="Y", Name="Failed")  # no figures: the forecast builder marked it
    assert [c.sentence for c in instrument_comments(failed)] == [
        "Failed (Y): no forecast this month."]
    s = class_summary("Equity", [row, quiet, failed]).sentence
    assert s == ("Equity: of 3 instruments, forecasts rose for 1 (X); held for 1 (X); no "
                 "comparison for 1 (Y). Trades: X B. Extreme valuations (|σ| ≥ 1.75): X. "
                 "Phase changes: X.")


def test_yield_sentences_in_percentage_points_and_bond_words():
    row = _row(**{"Quote": "Yield", "Asset Class": "Bond", "Last Month": -0.02,
                  "This Month": -0.092, "Change": -0.072, "Δ AR(1)": -0.072,
                  "Last Change": -0.19, "Previous Last Change": 0.04,
                  **{f"Δ {d}": 0.0 for d in DRIVERS if d != "AR(1)"},
                  "Valuation (σ)": 2.0, "Previous σ": 2.1})
    got = {c.topic: c.sentence for c in instrument_comments(row)}
    assert ("the 1-month yield forecast fell from -0.020 pp to -0.092 pp (-0.072 pp); moved "
            "by the last change (AR(1)) -0.072 pp (monthly change -0.190 pp, was +0.040 pp).") \
        in got["Forecast"]
    assert "yield above fair yield: the bond cheap" in got["Valuation"]


def test_same_workbook_same_text(demo, tmp_path):
    _, sheets, _ = demo
    copy = tmp_path / "again.xlsx"
    shutil.copy(demo_workbook(), copy)
    again, _ = build_contents(check(copy), only=ONLY)
    sc = next(c for c in again if c.sheet == "Commentary")
    for t in sc.tables:
        pd.testing.assert_frame_equal(t.df, sheets["Commentary"].table(t.name).df)


def test_report_commentary_pages_print_the_sentences(demo, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (make sysdeps)")
    _, sheets, _ = demo
    out = tmp_path / "c.pdf"
    pw = PageWriter(out, "Report", "as of")
    write_commentary(pw, sheets["Commentary"])
    assert pw.close() >= 1
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    def flat(t: str) -> str:  # a line broken at "sum-|of-parts" comes back as "sumof-parts"
        return re.sub(r"-\s*", "", " ".join(t.split()))

    assert TITLE in flat(text)
    for s in sheets["Commentary"].table("Commentary").df["Sentence"]:
        assert flat(s) in flat(text), s
