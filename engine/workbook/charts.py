"""Native Excel chart pieces shared by the table builders (openpyxl.chart).

Builders describe a chart as a :class:`~engine.tables.base.ChartSpec` whose ``make(ref,
header)`` returns an openpyxl chart; these helpers give every chart the same look: date axes
along the bottom labelled by year, small tick labels, titles in a set size, thin lines without
markers.
"""

from __future__ import annotations

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.line import LineProperties
from openpyxl.drawing.text import (CharacterProperties, Paragraph, ParagraphProperties,
                                   RegularTextRun)


def title(text: str, size: int = 1000, bold: bool = True) -> Title:
    """A chart or axis title in a given font size (hundredths of a point)."""
    cp = CharacterProperties(sz=size, b=bold)
    para = Paragraph(pPr=ParagraphProperties(defRPr=cp), r=[RegularTextRun(rPr=cp, t=text)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def small_ticks(axis, size: int = 800) -> None:
    """Tick labels of ``axis`` in ``size`` hundredths of a point."""
    cp = CharacterProperties(sz=size)
    axis.txPr = RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=cp), endParaRPr=cp)])


def line(y: Reference, x: Reference, name: str, color: str | None = None,
         dash: str | None = None, width: int = 15875) -> Series:
    """A thin line series without markers (``width`` in EMU; 12700 = 1 pt)."""
    s = Series(y, x, title=name)
    s.marker.symbol = "none"
    s.smooth = False
    s.graphicalProperties = GraphicalProperties(ln=LineProperties(solidFill=color, w=width,
                                                                  prstDash=dash))
    return s


def style_axes(ch, x_title: str, y_title: str) -> None:
    """Visible axes with small titles and tick labels."""
    for axis, text in ((ch.x_axis, x_title), (ch.y_axis, y_title)):
        axis.delete = False
        axis.title = title(text, 800, bold=False)
        small_ticks(axis)


def date_chart(chart_title: str, y_title: str, title_size: int = 1000) -> ScatterChart:
    """An empty scatter-with-lines chart over dates: years along the bottom (also when the y
    range spans zero), ``y_title`` on the vertical axis."""
    ch = ScatterChart()
    ch.title = title(chart_title, title_size)
    ch.style = 2
    ch.x_axis.number_format = "yyyy"
    ch.x_axis.majorTimeUnit = "years"
    ch.x_axis.majorGridlines = None
    ch.x_axis.crosses = "min"
    style_axes(ch, "Date", y_title)
    return ch


def cell(r: Reference, i: int) -> Reference:
    """The ``i``-th cell (0-based) of a one-column reference."""
    return Reference(r.worksheet, min_col=r.min_col, max_col=r.min_col,
                     min_row=r.min_row + i, max_row=r.min_row + i)
