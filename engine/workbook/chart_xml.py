"""Native Excel charts from :class:`~engine.tables.charts.ChartSpec`: DrawingML chart parts
and the drawing anchors that place them on the sheet.

Every chart is a ``c:scatterChart`` (two value axes), the one chart type whose x values
may be dates at their true spacing: ``scatterStyle`` is ``lineMarker`` and each series
says itself whether it draws a line and markers. Series point at the engine sheet's cells
(``'Charts'!$C$5:$C$124``) and carry a cache of the values, so the chart shows before Excel
recalculates and in readers that never do. Bands are two-point series drawn from the
cells the layout adds for them (literal values in a series are not read by LibreOffice). Element order follows ECMA-376 Part 1, §21.2 (``CT_ChartSpace``,
``CT_ScatterSer``, ``CT_ValAx``…); the tests validate the parts against its schemas.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from xml.sax.saxutils import escape, quoteattr

from engine.tables.charts import Axis, ChartSpec, Ref, Series, axis_scale
from engine.workbook.layout import PlacedChart, SheetLayout, col_letter
from engine.xlsx.namespaces import Flavour
from engine.xlsx.numfmt import excel_serial

__all__ = ["chart_part", "chart_anchor", "sheet_ref", "sheet_ref_area", "x_bounds", "y_bounds", "chart_number", "PALETTE", "BAND_COLOR", "BAND_WIDTH", "BAND_DASH",
           "EMU_PER_CM", "GRID_COLOR", "AXIS_COLOR", "FRAME_COLOR", "BACKGROUND", "HAIRLINE",
           "LABEL_PT"]

PALETTE = ["1F3864", "C0504D", "9BBB59", "F79646", "4BACC6", "8064A2", "7F7F7F"]
BAND_COLOR = "808080"
BAND_WIDTH = 0.75          # points
BAND_DASH = "sysDash"
# the frame of every chart (the Excel button draws the same through COM, addin/xl_writer.py)
GRID_COLOR = "D9D9D9"      # major gridlines
AXIS_COLOR = "7F7F7F"      # axis lines
FRAME_COLOR = "D9D9D9"     # the chart area's border, on a white fill
BACKGROUND = "FFFFFF"
HAIRLINE = 0.5             # points: gridlines, axis lines, the border
LABEL_PT = 8.0             # axis, legend and data-label text
EMU_PER_CM = 360000
EMU_PER_PT = 12700
_DASH = {"solid": "solid", "dash": "dash", "sysDash": "sysDash"}
_X_AXIS, _Y_AXIS = 500000001, 500000002


def sheet_ref(sheet: str, col: int, r1: int, r2: int | None = None) -> str:
    """``'Sheet'!$C$5:$C$9`` (the name always quoted, quotes doubled)."""
    name = "'" + sheet.replace("'", "''") + "'"
    first = f"${col_letter(col)}${r1}"
    return f"{name}!{first}" if r2 is None or r2 == r1 else f"{name}!{first}:${col_letter(col)}${r2}"


def sheet_ref_area(sheet: str, area: str) -> str:
    """``'Sheet'!$A$1:$R$90`` for the range ``A1:R90`` of ``sheet``."""
    first, _, last = area.partition(":")
    cell = lambda a: re.sub(r"^([A-Z]+)(\d+)$", r"$\1$\2", a)  # noqa: E731
    name = "'" + sheet.replace("'", "''") + "'"
    return f"{name}!{cell(first)}:{cell(last or first)}"


def chart_number(v, date1904: bool) -> float | None:
    """A cell value as a chart number (dates as Excel serial days); ``None`` if not one."""
    t = type(v)
    if t is float:
        return v if math.isfinite(v) else None
    if t is int:
        return v
    if v is None or t is bool:
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        return excel_serial(v, date1904)
    if isinstance(v, (int, float)) and math.isfinite(v):
        return v
    return None


def x_bounds(spec: ChartSpec, lay: SheetLayout, date1904: bool) -> tuple[float, float] | None:
    """(first, last) x value of the chart's series as laid out on ``lay`` (dates as serial
    days), ``None`` when no series has a numeric x."""
    xs = [n for s in spec.series for v in lay.values_of(s.x)
          if (n := chart_number(v, date1904)) is not None]
    return (min(xs), max(xs)) if xs else None


def y_bounds(spec: ChartSpec, lay: SheetLayout, date1904: bool) -> tuple[float, float] | None:
    """(lowest, highest) y value of the chart's series and bands, ``None`` when none."""
    ys = [n for s in spec.series for v in lay.values_of(s.y)
          if (n := chart_number(v, date1904)) is not None] + list(spec.bands)
    return (min(ys), max(ys)) if ys else None


def _num(v: float) -> str:
    return str(v) if type(v) is int else (repr(int(v)) if v.is_integer() and abs(v) < 1e15
                                          else repr(v))


def _text(size: float, bold: bool = False, rot: int | None = None) -> str:
    """A ``c:txPr`` giving text a size (points)."""
    body = f'<a:bodyPr rot="{rot}" vert="horz"/>' if rot is not None else "<a:bodyPr/>"
    return (f"<c:txPr>{body}<a:lstStyle/><a:p><a:pPr><a:defRPr sz=\"{round(size * 100)}\" "
            f"b=\"{int(bold)}\"/></a:pPr><a:endParaRPr lang=\"en-US\"/></a:p></c:txPr>")


def _title(text: str, size: float, bold: bool, rot: int | None = None) -> str:
    body = f'<a:bodyPr rot="{rot}" vert="horz"/>' if rot is not None else "<a:bodyPr/>"
    rpr = f'sz="{round(size * 100)}" b="{int(bold)}"'
    return (f"<c:title><c:tx><c:rich>{body}<a:lstStyle/><a:p><a:pPr><a:defRPr {rpr}/></a:pPr>"
            f"<a:r><a:rPr lang=\"en-US\" {rpr}/><a:t>{escape(text)}</a:t></a:r></a:p></c:rich>"
            f"</c:tx><c:overlay val=\"0\"/></c:title>")


def _emu(points: float) -> int:
    return round(points * EMU_PER_PT)


def _line(color: str, width_pt: float, dash: str) -> str:
    return (f'<a:ln w="{_emu(width_pt)}" cap="rnd"><a:solidFill><a:srgbClr '
            f'val="{color}"/></a:solidFill><a:prstDash val="{_DASH[dash]}"/><a:round/></a:ln>')


def _num_data(tag: str, formula: str | None, values: list[float | None], fmt: str) -> str:
    pts = "".join(f'<c:pt idx="{i}"><c:v>{_num(v)}</c:v></c:pt>'
                  for i, v in enumerate(values) if v is not None)
    cache = (f"<c:formatCode>{escape(fmt)}</c:formatCode><c:ptCount val=\"{len(values)}\"/>"
             f"{pts}")
    if formula is None:
        return f"<c:{tag}><c:numLit>{cache}</c:numLit></c:{tag}>"
    return f"<c:{tag}><c:numRef><c:f>{escape(formula)}</c:f><c:numCache>{cache}</c:numCache>" \
           f"</c:numRef></c:{tag}>"


class _Writer:
    def __init__(self, chart: PlacedChart, lay: SheetLayout, date1904: bool):
        self.spec, self.lay, self.date1904 = chart.spec, lay, date1904
        self.bands = chart.bands

    def ref(self, r: Ref) -> tuple[str, list]:
        col, r1, r2 = self.lay.cells_of(r)
        return sheet_ref(self.lay.sheet, col, r1, r2), self.lay.values_of(r)

    def numbers(self, r: Ref) -> tuple[str, list[float | None]]:
        formula, values = self.ref(r)
        return formula, [chart_number(v, self.date1904) for v in values]

    def x_range(self) -> tuple[float, float] | None:
        return x_bounds(self.spec, self.lay, self.date1904)

    def series(self, i: int, s: Series) -> str:
        color = s.color or PALETTE[i % len(PALETTE)]
        if isinstance(s.name, Ref):
            f, vals = self.ref(s.name)
            text = "" if vals[0] is None else str(vals[0])
            tx = (f"<c:tx><c:strRef><c:f>{escape(f)}</c:f><c:strCache><c:ptCount val=\"1\"/>"
                  f"<c:pt idx=\"0\"><c:v>{escape(text)}</c:v></c:pt></c:strCache></c:strRef>"
                  f"</c:tx>")
        else:
            tx = f"<c:tx><c:v>{escape(s.name)}</c:v></c:tx>"
        if self.spec.kind == "line":
            sppr = f"<c:spPr>{_line(color, s.width, s.dash)}</c:spPr>"
        else:  # points only
            sppr = "<c:spPr><a:ln><a:noFill/></a:ln></c:spPr>"
        if s.marker == "none":
            marker = '<c:marker><c:symbol val="none"/></c:marker>'
        else:
            marker = (f'<c:marker><c:symbol val="{s.marker}"/><c:size val="{s.marker_size}"/>'
                      f'<c:spPr><a:solidFill><a:srgbClr val="{color}"/></a:solidFill><a:ln>'
                      f'<a:solidFill><a:srgbClr val="{color}"/></a:solidFill></a:ln></c:spPr>'
                      f'</c:marker>')
        labels = ""
        if s.label:
            pos = {"top": "t", "right": "r"}[s.label]
            labels = (f"<c:dLbls><c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
                      f"{_text(LABEL_PT)}<c:dLblPos val=\"{pos}\"/><c:showLegendKey val=\"0\"/>"
                      f"<c:showVal val=\"0\"/><c:showCatName val=\"0\"/><c:showSerName val=\"1\"/>"
                      f"<c:showPercent val=\"0\"/><c:showBubbleSize val=\"0\"/></c:dLbls>")
        fx, xs = self.numbers(s.x)
        fy, ys = self.numbers(s.y)
        xfmt = self.spec.x_axis.number_format if self.spec.x_axis.dates else "General"
        return (f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>{tx}{sppr}{marker}{labels}'
                f'{_num_data("xVal", fx, xs, xfmt)}{_num_data("yVal", fy, ys, "General")}'
                f'<c:smooth val="0"/></c:ser>')

    def band(self, i: int, x: Ref, y: Ref, level: float) -> str:
        fx, xs = self.numbers(x)
        fy, ys = self.numbers(y)
        return (f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/><c:tx><c:v>{level:+g}</c:v>'
                f'</c:tx><c:spPr>{_line(BAND_COLOR, BAND_WIDTH, BAND_DASH)}</c:spPr>'
                f'<c:marker><c:symbol val="none"/></c:marker>'
                f'{_num_data("xVal", fx, xs, "General")}{_num_data("yVal", fy, ys, "General")}'
                f'<c:smooth val="0"/></c:ser>')

    def axis(self, ax: Axis, axis_id: int, cross: int, pos: str,
             bounds: tuple[float, float] | None) -> str:
        lo, hi, unit = axis_scale(ax, bounds, self.spec.kind)
        scaling = '<c:orientation val="minMax"/>' + \
            (f'<c:max val="{_num(hi)}"/>' if hi is not None else "") + \
            (f'<c:min val="{_num(lo)}"/>' if lo is not None else "")
        grid = f'<c:majorGridlines><c:spPr><a:ln w="{_emu(HAIRLINE)}"><a:solidFill><a:srgbClr ' \
               f'val="{GRID_COLOR}"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>' \
            if ax.gridlines else ""
        title = _title(ax.title, LABEL_PT, False, -5400000 if pos == "l" else None) if ax.title else ""
        fmt = ax.number_format or "General"
        return (f'<c:valAx><c:axId val="{axis_id}"/><c:scaling>{scaling}</c:scaling>'
                f'<c:delete val="0"/><c:axPos val="{pos}"/>{grid}{title}'
                f'<c:numFmt formatCode={quoteattr(fmt)} sourceLinked="0"/>'
                f'<c:majorTickMark val="out"/><c:minorTickMark val="none"/>'
                f'<c:tickLblPos val="low"/><c:spPr><a:ln w="{_emu(HAIRLINE)}"><a:solidFill>'
                f'<a:srgbClr val="{AXIS_COLOR}"/></a:solidFill></a:ln></c:spPr>{_text(LABEL_PT)}'
                f'<c:crossAx val="{cross}"/><c:crosses val="min"/><c:crossBetween val="midCat"/>'
                + (f'<c:majorUnit val="{_num(unit)}"/>' if unit else "") + "</c:valAx>")

    def xml(self, flavour: Flavour) -> bytes:
        spec = self.spec
        xr = self.x_range()
        series = [self.series(i, s) for i, s in enumerate(spec.series)]
        n = len(series)
        series += [self.band(n + k, x, y, level)
                   for k, (x, y, level) in enumerate(self.bands)]
        legend = ""
        if spec.legend:
            hidden = "".join(f'<c:legendEntry><c:idx val="{k}"/><c:delete val="1"/>'
                             f'</c:legendEntry>' for k in range(n, len(series)))
            pos = {"bottom": "b", "right": "r"}[spec.legend]
            legend = (f'<c:legend><c:legendPos val="{pos}"/>{hidden}<c:overlay val="0"/>'
                      f'{_text(LABEL_PT)}</c:legend>')
        plot = (f'<c:plotArea><c:layout/><c:scatterChart><c:scatterStyle val="lineMarker"/>'
                f'<c:varyColors val="0"/>{"".join(series)}<c:axId val="{_X_AXIS}"/>'
                f'<c:axId val="{_Y_AXIS}"/></c:scatterChart>'
                f'{self.axis(spec.x_axis, _X_AXIS, _Y_AXIS, "b", xr if spec.x_axis.dates else None)}'
                f'{self.axis(spec.y_axis, _Y_AXIS, _X_AXIS, "l", y_bounds(spec, self.lay, self.date1904))}'
                f'</c:plotArea>')
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<c:chartSpace xmlns:c="{flavour.c}" xmlns:a="{flavour.a}" '
                f'xmlns:r="{flavour.r}"><c:date1904 val="{int(self.date1904)}"/>'
                f'<c:roundedCorners val="0"/><c:chart>'
                f'{_title(spec.title, spec.title_size, True)}<c:autoTitleDeleted val="0"/>'
                f'{plot}{legend}<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
                f'<c:spPr><a:solidFill><a:srgbClr val="{BACKGROUND}"/></a:solidFill>'
                f'<a:ln w="{_emu(HAIRLINE)}"><a:solidFill><a:srgbClr val="{FRAME_COLOR}"/>'
                f'</a:solidFill></a:ln></c:spPr>'
                f'</c:chartSpace>').encode("utf-8")


def chart_part(chart: PlacedChart, lay: SheetLayout, flavour: Flavour, date1904: bool
               ) -> bytes:
    """The chart part of ``chart`` laid out on ``lay`` (its references resolve there)."""
    return _Writer(chart, lay, date1904).xml(flavour)


def chart_anchor(chart: PlacedChart, rid: str, shape_id: int, flavour: Flavour,
                 prefixes: tuple[str, str, str, str] = ("xdr", "a", "r", "c")) -> str:
    """An ``xdr:oneCellAnchor`` placing the chart with relationship ``rid`` at its cell, at
    its size in cm (a one-cell anchor keeps the size whatever the column widths).
    ``prefixes``: the drawing part's prefixes for the spreadsheetDrawing, DrawingML,
    relationships and chart namespaces (declared on its root)."""
    x, a, r, c = (f"{p}:" if p else "" for p in prefixes)
    cx = round(chart.spec.width * EMU_PER_CM)
    cy = round(chart.spec.height * EMU_PER_CM)
    name = quoteattr(f"Gamma Desk chart {shape_id}")
    return (f"<{x}oneCellAnchor><{x}from><{x}col>{chart.col - 1}</{x}col><{x}colOff>0"
            f"</{x}colOff><{x}row>{chart.row - 1}</{x}row><{x}rowOff>0</{x}rowOff>"
            f"</{x}from><{x}ext cx=\"{cx}\" cy=\"{cy}\"/><{x}graphicFrame macro=\"\">"
            f"<{x}nvGraphicFramePr><{x}cNvPr id=\"{shape_id}\" name={name}/>"
            f"<{x}cNvGraphicFramePr/></{x}nvGraphicFramePr><{x}xfrm><{a}off x=\"0\" "
            f"y=\"0\"/><{a}ext cx=\"0\" cy=\"0\"/></{x}xfrm><{a}graphic><{a}graphicData "
            f"uri=\"{flavour.c}\"><{c}chart {r}id=\"{rid}\"/>"
            f"</{a}graphicData></{a}graphic></{x}graphicFrame><{x}clientData/>"
            f"</{x}oneCellAnchor>")
