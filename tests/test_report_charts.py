"""ChartSpec as data: check_refs, and the matplotlib renderer of the PDFs (engine.reports.charts)
checked on its Axes: lines, markers, labels, bands, fixed scales, date bounds, tick formats.
All data synthetic (tests/chart_fixtures.py)."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from chart_fixtures import composite_panel, fake_charts, scatter_panel, valuation_panel
from matplotlib.figure import Figure

from engine.reports.charts import BAND_COLOR, draw_chart, plot_chart, tick_formatter
from engine.tables.base import SheetContent, Table, check_refs
from engine.tables.charts import Axis, ChartSpec, Ref, Series


def _content(blocks, feeds, latest=("SPX",)) -> SheetContent:
    c = SheetContent("Charts")
    c.add(*blocks)
    c.data_tables += feeds
    c.data_tables.append(Table("FcChartLatest", pd.DataFrame({
        "Code": list(latest), "Date": [pd.Timestamp("1998-12-31")] * len(latest),
        "Signal": [1] * len(latest), "Label": ["CL&S"] * len(latest)})))
    return c


def _draw(spec, content, size=(8, 3)):
    fig = Figure(figsize=size)
    return draw_chart(spec, content)(fig, [0, 0, 1, 1])


def _visible(axis, lo, hi):
    """(location, label) of the major ticks inside [lo, hi]."""
    locs = axis.get_majorticklocs()
    labels = [t.get_text() for t in axis.get_majorticklabels()]
    return [(loc, lab) for loc, lab in zip(locs, labels) if lo - 1e-9 <= loc <= hi + 1e-9]


def _bands(ax):
    return [ln for ln in ax.get_lines() if ln.get_label() == "_band"]


# --------------------------------------------------------------------------- check_refs

def test_check_refs_accepts_the_fixture_sheet():
    check_refs(fake_charts([("SPX", "S&P 500", "Equity"), ("AAA", "Aaa", "Bond")]))


@pytest.mark.parametrize("series, says", [
    (Series("x", Ref("FcPrices_SPX", "Date"), Ref("Nope", "Price")), "no table 'Nope'"),
    (Series("x", Ref("FcPrices_SPX", "Date"), Ref("FcPrices_SPX", "Prise")),
     "no column 'Prise'"),
    (Series(Ref("FcChartLatest", "Label", 3), Ref("FcChartLatest", "Date", 0),
            Ref("FcChartLatest", "Signal", 0)), "no row 3 (the table has 1 rows)"),
])
def test_check_refs_names_the_missing_cell(series, says):
    blocks, feeds = composite_panel("SPX", "S&P 500", 0)
    bad = ChartSpec("Broken", (series,), Axis("", "yyyy", dates=True), Axis("y"))
    with pytest.raises(ValueError, match="chart 'Broken'") as e:
        check_refs(_content([*blocks, bad], feeds))
    assert says in str(e.value) and e.value.args[0].startswith("Charts: ")


def test_check_refs_catches_duplicate_names_dates_and_lengths():
    blocks, feeds = composite_panel("SPX", "S&P 500", 0)
    with pytest.raises(ValueError, match="'FcPrices_SPX' is used 2 times"):
        check_refs(_content(blocks, feeds + [feeds[0]]))
    bad = ChartSpec("Dates", (Series("p", Ref("FcPrices_SPX", "Price"),
                                     Ref("FcPrices_SPX", "Price")),),
                    Axis("", "yyyy", dates=True), Axis("y"))
    with pytest.raises(ValueError, match="date axis, but FcPrices_SPX"):
        check_refs(_content([bad], feeds))
    mixed = ChartSpec("Lengths", (Series("p", Ref("FcSignals_SPX", "Date"),
                                         Ref("FcPrices_SPX", "Price")),),
                      Axis("", "yyyy", dates=True), Axis("y"))
    with pytest.raises(ValueError, match="x values .* but .* y values"):
        check_refs(_content([mixed], feeds))


# --------------------------------------------------------------------------- renderer

def test_line_chart_dates_bounded_by_the_data_and_labelled_by_year():
    start = pd.Timestamp("1996-03-31")
    blocks, feeds = composite_panel("SPX", "S&P 500", 0, start=start)
    content = _content(blocks, feeds)
    price, signals = blocks[1], blocks[2]
    ax = _draw(price, content)
    assert len(ax.get_lines()) == 1
    assert ax.get_xlim() == (mdates.date2num(start), mdates.date2num(pd.Timestamp("1998-12-31")))
    ax.figure.canvas.draw()
    assert [lab for _, lab in _visible(ax.xaxis, *ax.get_xlim())] == ["1997", "1998"]
    assert ax.get_title(loc="left") == "S&P 500 (SPX)"
    assert ax.get_legend() is None
    # Model Signals: the steps and the labelled latest trade, fixed −2…2, unit 1
    ax = _draw(signals, content)
    steps, point = ax.get_lines()
    assert steps.get_marker() in (None, "None", "") and point.get_marker() == "o"
    assert ax.get_ylim() == (-2, 2)
    assert [loc for loc, _ in _visible(ax.yaxis, -2, 2)] == [-2, -1, 0, 1, 2]
    assert ax.get_xlim()[0] == mdates.date2num(start)
    assert [t.get_text() for t in ax.texts] == ["CL&S"]    # the Label cell, not a number
    assert point.get_xydata().tolist() == [[mdates.date2num(pd.Timestamp("1998-12-31")), 1.0]]


def test_sigma_chart_fixed_scale_and_bands():
    blocks, feeds = valuation_panel("SPX", "S&P 500")
    content = _content(blocks, feeds)
    price, sigma = blocks[1], blocks[2]
    ax = _draw(sigma, content)
    assert ax.get_ylim() == (-3, 3)                        # although σ runs down to −3.6
    assert [loc for loc, _ in _visible(ax.yaxis, -3, 3)] == [-3, -2, -1, 0, 1, 2, 3]
    bands = _bands(ax)
    assert sorted(ln.get_ydata()[0] for ln in bands) == [-1.75, 1.75]
    for ln in bands:
        assert ln.get_color() == BAND_COLOR and ln.get_linestyle() == "--"
        assert ln.get_linewidth() < 1
    assert len(ax.get_lines()) == 1 + 2
    dates = content.table("ValChart_SPX").df["Date"]
    assert ax.get_xlim() == tuple(mdates.date2num(dates.iloc[[0, -1]]))
    # the price with its fair value: two lines, the second dashed grey, legend below
    ax = _draw(price, content)
    a, b = ax.get_lines()
    assert a.get_linestyle() == "-" and b.get_linestyle() == "--"
    assert b.get_color() == "#7F7F7F"
    leg = ax.get_legend()
    assert [t.get_text() for t in leg.get_texts()] == ["Price", "Fair Value"]
    assert leg.get_bbox_to_anchor().y0 < ax.get_window_extent().y0   # below the axes


def test_scatter_chart_one_labelled_marker_per_index():
    rows = [{"Code": "SPX", "Stock Index": "S&P 500", "Valuation (σ)": 0.52,
             "Valuation (%)": 0.11, "1 Yr": 0.087},
            {"Code": "BVSP", "Stock Index": "Brazil", "Valuation (σ)": -1.74,
             "Valuation (%)": -0.34, "1 Yr": 0.547}]
    table, chart = scatter_panel(rows)
    content = SheetContent("Charts").add(table, chart)
    ax = _draw(chart, content, size=(6, 4))
    lines = ax.get_lines()
    assert len(lines) == 2
    assert all(ln.get_linestyle() == "None" and ln.get_marker() == "o" for ln in lines)
    assert [ln.get_xydata().tolist() for ln in lines] == [[[0.11, 0.087]], [[-0.34, 0.547]]]
    assert [t.get_text() for t in ax.texts] == ["SPX", "BVSP"]
    lo, hi = ax.get_xlim()
    assert lo < -0.34 and hi > 0.11 and ax.get_ylim()[0] < 0   # 0 on both axes
    ax.figure.canvas.draw()
    xt = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert xt and all(t.endswith("%") and "." not in t for t in xt)   # format 0%


def test_unnamed_palette_and_dash_widths():
    df = pd.DataFrame({"Date": pd.date_range("2000-01-31", periods=30, freq="ME"),
                       "A": np.arange(30.0), "B": np.arange(30.0) * 2})
    content = SheetContent("S", data_tables=[Table("F", df)])
    spec = ChartSpec("Two", (Series("A", Ref("F", "Date"), Ref("F", "A"), width=2.5),
                             Series("B", Ref("F", "Date"), Ref("F", "B"), dash="sysDash")),
                     Axis("", "yyyy", dates=True), Axis("$", "$#,##0"), legend="right")
    fig = Figure(figsize=(6, 3))
    ax = fig.add_axes([0.1, 0.1, 0.6, 0.8])
    plot_chart(ax, spec, content)
    a, b = ax.get_lines()
    assert a.get_color() != b.get_color()
    assert a.get_linewidth() > b.get_linewidth()
    assert b.get_linestyle() != "-"                    # sysDash: short dashes
    assert b._unscaled_dash_pattern[1] == (2.5, 1.5)
    assert ax.get_legend() is not None


@pytest.mark.parametrize("fmt, value, text", [
    ("0%", 0.25, "25%"), ("0.00%", -0.0125, "\u22121.25%"), ("$#,##0", 12500, "$12,500"),
    ("#,##0", 1234567.8, "1,234,568"), ("0.00", 1.25, "1.25"), ("0", -2, "\u22122"),
    ("0.0000", 1.6, "1.6000"),
])
def test_tick_formats(fmt, value, text):
    assert tick_formatter(fmt)(value) == text


def test_year_tick_format_and_duplicate_safe_percent():
    f = tick_formatter("yyyy", dates=True)
    assert f(mdates.date2num(pd.Timestamp("1998-06-30"))) == "1998"
    assert tick_formatter("yyyy-mm-dd")(mdates.date2num(pd.Timestamp("1998-06-30"))) == \
        "1998-06-30"
    # 0% on a 1 % range would print 0%, 0%, 1%, 1%: the axis gets the decimals it needs
    assert tick_formatter("0%").format_ticks([0.0, 0.004, 0.008]) == ["0.0%", "0.4%", "0.8%"]


@pytest.mark.parametrize("lo, hi, expected", [
    (0.62, 0.91, (0.6, 0.95, 0.05)),       # a rate: no axis from zero
    (10_000.0, 31_250.0, (10_000.0, 35_000.0, 5_000.0)),
    (-2.7, 1.8, (-3.0, 2.0, 1.0)),
    (4.25, 4.25, (4.0, 4.5, 0.1)),          # one value: a little room either side
])
def test_nice_range_by_hand(lo, hi, expected):
    from engine.tables.charts import nice_range
    assert nice_range(lo, hi) == pytest.approx(expected)


def test_axis_scale_keeps_what_the_axis_fixes():
    from engine.tables.charts import Axis, axis_scale
    assert axis_scale(Axis("σ", minimum=-3, maximum=3, major_unit=1), (-5.0, 1.0)) == (-3, 3, 1)
    assert axis_scale(Axis(""), (0.62, 0.91), "scatter") == (None, None, None)
    lo, hi, unit = axis_scale(Axis("", dates=True), (32000.0, 36160.0))
    assert (lo, hi) == (32000.0, 36160.0) and unit == pytest.approx(2 * 365.25)
