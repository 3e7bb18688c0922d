"""The ``Charts`` sheet as the builders lay it out (engine.tables.chart_sheet): block order,
table names, summary rows, every Ref resolving, the σ scale and bands, the labelled trade, no
look-ahead; and the same ChartSpecs drawn by the PDF renderer. Synthetic prices
(tests/test_forecast_tables.py's fixture: one instrument per asset class and a too-short one).
"""

from __future__ import annotations

import pickle
import re

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from test_forecast_tables import _data

from engine.inputs.sampling import month_end_index
from engine.reports.charts import draw_chart, resolve
from engine.tables import chart_sheet, forecasts, valuation
from engine.tables.base import RefreshContext, Table, check_refs
from engine.tables.charts import ChartSpec, Ref

CODES = ["EQ", "BD", "FX", "OIL"]   # NEW is too short for either model


def _build(data):
    ctx = RefreshContext(data=data)
    valuation.build(ctx)
    forecasts.build(ctx)
    [content] = chart_sheet.build(ctx)
    return ctx, content


@pytest.fixture(scope="module")
def built():
    return _build(_data())


def _kinds(content) -> list[str]:
    return ["T" if isinstance(b, Table) else "C" for b in content.blocks]


def test_every_ref_resolves(built):
    _, content = built
    check_refs(content)                         # raises a ValueError naming a missing cell
    for chart in content.charts:
        for ref in chart.refs:
            t = content.table(ref.table)
            assert ref.column in t.df.columns
            assert ref.row is None or 0 <= ref.row < len(t.df)
            resolve(content, ref)


def test_blocks_run_summary_price_chart_lower_chart_per_instrument(built):
    """Per asset class: the composite panels, then the valuation panels (Chart 3 after the
    stock indices); every panel is a one-row table, the price chart, the lower chart."""
    _, content = built
    panel = ["T", "C", "C"]
    assert _kinds(content) == panel * 2 + ["T", "C"] + panel * 2 * (len(CODES) - 1)
    tables = [b for b in content.blocks if isinstance(b, Table)]
    assert [t.name for t in tables] == [
        "ChartFc_EQ", "ChartVal_EQ", "ValScatter", "ChartFc_BD", "ChartVal_BD",
        "ChartFc_FX", "ChartVal_FX", "ChartFc_OIL", "ChartVal_OIL"]
    for k, b in enumerate(content.blocks):
        if isinstance(b, Table) and b.name != "ValScatter":
            code = b.df["Code"].iloc[0]
            assert len(b.df) == 1
            price, lower = content.blocks[k + 1], content.blocks[k + 2]
            assert code in price.title and code in lower.title
            if b.name.startswith("ChartFc_"):
                assert lower.title.startswith(f"Model Signals {code}")
                assert lower.y_axis.minimum == -2 and lower.y_axis.maximum == 2
            else:
                assert lower.title.startswith(f"{code} valuation (σ")
    scatter = content.blocks[content.blocks.index(tables[2]) + 1]
    assert scatter.kind == "scatter" and len(scatter.series) == 1     # one stock index
    names = [t.name for t in [*content.tables, *content.data_tables]]
    assert len(names) == len({n.lower() for n in names})
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names)


def test_composite_summary_is_the_forecast_tables_row(built):
    ctx, content = built
    cur = ctx.forecast_rows
    eq = content.table("ChartFc_EQ")
    assert list(eq.df.columns) == ["Code", "Name", "1 Mo Forecast", "Previous Forecast",
                                   "Position", "Trade", "Updated"]
    r = eq.df.iloc[0]
    assert r["1 Mo Forecast"] == cur["EQ"]["forecast"]                  # a number, not text
    assert r["Previous Forecast"] == cur["EQ"]["previous"]
    assert r["Position"] in ("Long", "Neutral", "Short") and r["Updated"] == cur["EQ"]["updated"]
    assert eq.formats == {"1 Mo Forecast": "0.00%", "Previous Forecast": "0.00%",
                          "Updated": "yyyy-mm-dd"}
    bd = content.table("ChartFc_BD")                 # the seed's header; percentage points
    assert "1 Mo Yield Forecast" in bd.df.columns and bd.formats["1 Mo Yield Forecast"] == "0.00"
    assert "1 Month Forecast" in content.table("ChartFc_OIL").df.columns


def test_signal_chart_labels_the_instruments_row_of_the_latest_trade(built):
    ctx, content = built
    latest = content.table(forecasts.LATEST).df
    assert list(latest["Code"]) == CODES
    for code in CODES:
        [sig] = [c for c in content.charts if c.title.startswith(f"Model Signals {code}")]
        steps, point = sig.series
        row = CODES.index(code)
        assert point.name == Ref(forecasts.LATEST, "Label", row)
        assert (point.x, point.y) == (Ref(forecasts.LATEST, "Date", row),
                                      Ref(forecasts.LATEST, "Signal", row))
        assert point.marker == "circle" and point.label == "top"
        assert latest["Code"].iloc[row] == code
        trade = ctx.forecast_rows[code]["trade"]
        if trade:     # this update traded: that trade, at the last month
            assert latest["Label"].iloc[row] == trade
            assert latest["Date"].iloc[row] == content.table(f"FcPrices_{code}").df["Date"].iloc[-1]
        # the labelled point sits on the step line
        feed = content.table(f"FcSignals_{code}").df
        at = feed[feed["Date"] == latest["Date"].iloc[row]]["Signal"]
        assert latest["Signal"].iloc[row] in set(at)


def test_signal_steps_and_feeds_span_their_own_months(built):
    ctx, content = built
    for code in CODES:
        px = content.table(f"FcPrices_{code}").df
        st = content.table(f"FcSignals_{code}").df
        h = ctx.results[code].history
        assert len(px) <= forecasts.CHART_MONTHS and len(st) == 2 * len(px) - 1
        assert st["Date"].iloc[0] == px["Date"].iloc[0] and st["Date"].iloc[-1] == \
            px["Date"].iloc[-1] == month_end_index([h.index[-1]])[0]
        assert st["Signal"].iloc[-1] == h["position"].iloc[-1]
        assert (st["Date"].value_counts().drop(st["Date"].iloc[0]) == 2).all()
        v = content.table(f"ValChart_{code}").df
        assert v["Date"].iloc[0] == month_end_index(
            [ctx.results[code].valuation["sigma"].first_valid_index()])[0]


def test_sigma_charts_fixed_scale_with_bands_and_date_axes_bounded_by_data(built):
    _, content = built
    sigma = [c for c in content.charts if " valuation (σ" in c.title]
    assert len(sigma) == len(CODES)
    for c in sigma:
        assert (c.y_axis.minimum, c.y_axis.maximum, c.y_axis.major_unit) == (-3, 3, 1)
        assert c.bands == (-1.75, 1.75) and len(c.series) == 1
    for t in content.data_tables:                       # bands are not feed columns
        assert not any("1.75" in str(col) for col in t.df.columns)
    for c in content.charts:
        if c.kind == "line":
            assert c.x_axis.dates and c.x_axis.minimum is None and c.x_axis.maximum is None


def test_intro_names_what_has_no_chart(built):
    _, content = built
    assert content.intro[0].startswith("Charts")
    assert content.intro[-1].startswith("No chart for: NEW (forecast and valuation")


def test_table_keys_are_sanitised_and_unique():
    assert chart_sheet.table_keys(["EUR/USD", "EUR_USD", "eur-usd", "S&P 500"]) == {
        "EUR/USD": "EUR_USD", "EUR_USD": "EUR_USD_2", "eur-usd": "eur_usd_3",
        "S&P 500": "S_P_500"}


def test_no_look_ahead_in_the_charts_sheet():
    """As of t, a future tripled changes nothing on the Charts sheet: every table and feed."""
    t = pd.Timestamp("2014-06-30")
    _, a = _build(_data(asof=t))
    _, b = _build(_data(asof=t, after=t, factor=3.0))
    assert [x.name for x in [*a.tables, *a.data_tables]] == \
        [x.name for x in [*b.tables, *b.data_tables]]
    for x, y in zip([*a.tables, *a.data_tables], [*b.tables, *b.data_tables]):
        pd.testing.assert_frame_equal(x.df, y.df)
    assert a.charts == b.charts and a.intro == b.intro


def test_pdf_renderer_draws_the_builders_charts(built):
    """Every chart of the sheet draws; the σ chart on −3…+3 with its bands, the date axes
    from the feed's first to its last month, the latest trade's label as its text."""
    ctx, content = built
    fig = Figure(figsize=(8, 3))
    for spec in content.charts:
        ax = draw_chart(spec, content)(fig, [0, 0, 1, 1])
        assert len([ln for ln in ax.get_lines() if ln.get_label() != "_band"]) == \
            len(spec.series)
        if spec.x_axis.dates:
            x = resolve(content, spec.series[0].x)
            assert ax.get_xlim() == (mdates.date2num(x[0]), mdates.date2num(x[-1]))
        if " valuation (σ" in spec.title:
            assert ax.get_ylim() == (-3, 3)
            assert sorted(ln.get_ydata()[0] for ln in ax.get_lines()
                          if ln.get_label() == "_band") == [-1.75, 1.75]
        if spec.title.startswith("Model Signals"):
            label = resolve(content, spec.series[1].name)
            assert [t.get_text() for t in ax.texts] == [label]
        if spec.kind == "scatter":
            assert [t.get_text() for t in ax.texts] == ["EQ"]
        fig.clear()


def test_all_builders_contents_have_resolving_refs():
    """The whole pipeline's contents (no workbook): every sheet's charts resolve, and the
    chart builder ran without failing."""
    from engine.refresh import build_contents
    contents, ctx = build_contents(_data())
    assert "[charts]" not in ctx.failures
    sheets = {c.sheet for c in contents}
    assert "Charts" in sheets
    for c in contents:
        check_refs(c)
        assert all(isinstance(ch, ChartSpec) for ch in c.charts)
    assert not np.any([c.sheet == "Charts" and not c.charts for c in contents])
    # charts are plain data: they pickle and compare (the Excel button and the PDFs get them)
    back = pickle.loads(pickle.dumps(contents))
    assert [c.charts for c in back] == [c.charts for c in contents]
