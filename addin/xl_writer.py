"""Write the engine's sheets into an *open* Excel workbook through xlwings (the Refresh button).

Nothing is laid out here. :func:`plan_from_copy` lays every engine sheet out with
:func:`engine.workbook.layout.lay_out` — the function whose result ``gamma refresh`` writes
into the package (:mod:`engine.workbook.splice`) — on what a saved copy of the open workbook
says: the engine's areas of the last refresh (hidden defined names, or a previous
version's custom document properties, read from the copy's package with
:func:`engine.workbook.areas.read_stored`) and the table and defined names
the user's content holds (the engine's tables get names that clash with none, chosen by
:func:`engine.workbook.splice.tables_in_use` and :func:`~engine.workbook.layout.name_tables`
exactly as the CLI chooses them). The result is a :class:`Plan`, plain data:

* per engine sheet (:class:`SheetPlan`) one :class:`Block` per engine area holding cells —
  values as Excel takes them (dates as datetimes), number formats, and each cell's style
  role, which :data:`LOOKS` turns into the look of :mod:`engine.workbook.styles` (headers
  bold white on navy, centred and wrapped; titles bold 12 pt navy; notes and intro lines
  italic grey);
* the Excel tables (:class:`TablePlan`: name, range, ``TableStyleMedium2`` with stripes and
  filter buttons, or ``TableStyleLight1`` without for the chart feeds);
* the charts (:class:`ChartPlan`, from each :class:`~engine.workbook.layout.PlacedChart` and
  its :class:`~engine.tables.charts.ChartSpec`): anchor cell, size, title, per series the
  cell formulas (``'Charts'!$C$5:$C$124``), colour, dash, width, marker and data label, the
  bands as dashed grey series from the cells the layout holds them in, both axes (titles,
  number formats, scales; a date axis bounded by the data as in
  :mod:`engine.workbook.chart_xml`) and the legend;
* column widths (for columns the user has not sized), header row heights, and for a new
  sheet the frozen header and the page setup; the print area; the new engine areas.

:func:`apply_plan` replays the plan through the xlwings object model, touching only engine
areas: on each engine sheet the zone the engine owns (its areas of the last refresh and of
this one, as the CLI's) is cleared first — tables meeting it unlisted, charts whose top-left
corner is in it deleted, its cells cleared — then cells, tables and charts are written. Every
other cell, sheet, name, chart and VBA module of the open workbook stays as it is. The areas
are stored where the CLI keeps them (workbook-level defined names ``gamma_desk_areas_NNN``,
:func:`engine.workbook.areas.area_names`, through xlwings' ``Book.names`` on Windows and
macOS alike), so the CLI and the button can take turns on either platform.

Only the xlwings ``Book``/``Sheet``/``Range``/``Table``/``Chart`` surface is used, plus, on
Windows, Excel's COM object model where xlwings has no call (chart series and their
formatting, axes, legends, alignment, frozen panes, page setup, unlisting a table, hiding
a name, dropping the previous version's document properties). Without COM (macOS) a chart
is drawn from its first series only, and what could not be applied is reported in the warnings :func:`apply_plan` returns; nothing fails the
refresh for it.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from engine.tables.charts import Axis, ChartSpec
from engine.workbook.areas import ENGINE_NAME
from engine.workbook.areas import PREFIX as AREA_PREFIX
from engine.workbook.areas import area_names, read_stored
from engine.tables.charts import axis_scale
from engine.workbook.chart_xml import (AXIS_COLOR, BACKGROUND, BAND_COLOR, BAND_DASH,
                                       BAND_WIDTH, FRAME_COLOR, GRID_COLOR, HAIRLINE,
                                       LABEL_PT, PALETTE, sheet_ref, sheet_ref_area,
                                       x_bounds, y_bounds)
from engine.workbook.layout import (PlacedChart, Role, SheetLayout, a1, col_letter, lay_out,
                                    merge_contents, name_tables, ranges_box)
from engine.workbook.sheet_xml import MAX_TEXT, Zone
from engine.workbook.splice import custom_part, tables_in_use
from engine.workbook.styles import GREY, NAVY, WHITE
from engine.xlsx.cells import Workbook
from engine.xlsx.namespaces import local
from engine.xlsx.package import Package

__all__ = ["Plan", "SheetPlan", "Block", "Look", "LOOKS", "TablePlan", "ChartPlan",
           "SeriesPlan", "AxisPlan", "plan_from_copy", "sheet_plan", "chart_plan",
           "apply_plan", "clear_areas", "write_blocks", "format_ranges",
           "sheet_formats", "text_entry", "add_chart", "store_areas",
           "excel_value", "AREA_PREFIX", "USE_COM", "CM_TO_PT"]

CM_TO_PT = 72 / 2.54
# Excel's COM object model is there (Windows): chart series, Unlist, hidden names
USE_COM = sys.platform.startswith("win")

# Excel object model constants (Microsoft's VBA reference; xlwings.constants has the xl… ones)
XL_CHART_TYPES = {"xy_scatter": -4169,                  # xlXYScatter
                  "xy_scatter_lines": 74,               # xlXYScatterLines
                  "xy_scatter_lines_no_markers": 75}    # xlXYScatterLinesNoMarkers
XL_CATEGORY, XL_VALUE = 1, 2                            # XlAxisType
XL_MARKER = {"none": -4142, "circle": 8}                # xlMarkerStyleNone, …Circle
MSO_DASH = {"solid": 1, "dash": 4, "sysDash": 10}       # msoLineSolid, msoLineDash, …SysDash
MSO_TRUE, MSO_FALSE = -1, 0                             # MsoTriState
XL_LABEL_POSITION = {"top": 0, "right": -4152}          # xlLabelPositionAbove, …Right
XL_LEGEND_POSITION = {"bottom": -4107, "right": -4152}  # xlLegendPositionBottom, …Right
XL_TICK_LABEL_LOW = -4134                               # xlTickLabelPositionLow
XL_AXIS_CROSSES_MINIMUM = 4                             # xlAxisCrossesMinimum
XL_MOVE = 2                 # XlPlacement xlMove: moves with its cell, keeps its size
XL_CENTER = -4108                                       # xlCenter
XL_LANDSCAPE = 2                                        # xlLandscape
XL_TICK_OUTSIDE, XL_TICK_NONE = 3, -4142                # XlTickMark
XL_UPWARD = -4171                                       # XlOrientation: the y title rotated
LABEL_FONT_PT = LABEL_PT    # axis, legend and data-label text, as chart_xml writes it


def _rgb(argb: str) -> tuple[int, int, int]:
    h = argb[-6:]
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


@dataclass(frozen=True)
class Look:
    """How the cells of one style role look (the engine's look, :mod:`engine.workbook.styles`):
    colours as (r, g, b); ``size`` ``None`` keeps the workbook's font size."""

    bold: bool = False
    italic: bool = False
    size: float | None = None
    color: tuple[int, int, int] | None = None
    fill: tuple[int, int, int] | None = None
    centred_wrapped: bool = False


LOOKS: dict[str, Look] = {
    "header": Look(bold=True, color=_rgb(WHITE), fill=_rgb(NAVY), centred_wrapped=True),
    "title": Look(bold=True, size=12.0, color=_rgb(NAVY)),
    "note": Look(italic=True, color=_rgb(GREY)),
    "intro": Look(italic=True, color=_rgb(GREY)),
}


# ----------------------------------------------------------------------------- the plan
@dataclass
class Block:
    """One engine area holding cells: its A1 range and, cell by cell, the value as Excel
    takes it (:func:`excel_value`; ``None`` blank), the number format (``None``: leave
    General) and the style role (``None``: a blank)."""

    ref: str
    values: list[list[Any]]
    formats: list[list[str | None]]
    roles: list[list[Role | None]]


@dataclass
class TablePlan:
    """An Excel table: ``ref`` includes the header row; ``styled`` tables have banded rows
    and filter buttons (``TableStyleMedium2``), chart feeds neither (``TableStyleLight1``)."""

    name: str
    ref: str
    style: str
    styled: bool


@dataclass
class SeriesPlan:
    """One chart series. ``name`` is the legend text, or — ``name_is_ref`` — the formula of
    the cell holding it; ``x``/``y`` are cell formulas (``'Charts'!$A$5:$A$124``).
    ``line``: drawn as a line (colour, ``dash``, ``width`` in points) or as points only;
    ``label``: the series name next to each point (``top``/``right``); ``band``: a
    reference line (kept out of the legend)."""

    name: str
    name_is_ref: bool
    x: str
    y: str
    color: str
    line: bool
    dash: str = "solid"
    width: float = 1.25
    marker: str = "none"
    marker_size: int = 7
    label: str | None = None
    band: bool = False

    @property
    def name_formula(self) -> str:
        """What ``Series.Name`` is set to: ``=`` and the cell, or the text itself."""
        return "=" + self.name if self.name_is_ref else self.name


@dataclass
class AxisPlan:
    """One axis: title (``""``: none), tick-label number format, scale (``None``:
    automatic; dates as Excel serial days), major gridlines."""

    title: str
    number_format: str
    minimum: float | None
    maximum: float | None
    major_unit: float | None
    gridlines: bool


@dataclass
class ChartPlan:
    """A native XY chart whose top-left corner is the cell ``anchor``, ``width_cm`` x
    ``height_cm`` (fixed, as the CLI's one-cell anchor)."""

    anchor: str
    width_cm: float
    height_cm: float
    title: str
    title_size: float
    kind: str                      # "line" or "scatter" (ChartSpec.kind)
    series: list[SeriesPlan]
    x_axis: AxisPlan
    y_axis: AxisPlan
    legend: str | None = None      # "bottom", "right" or None

    @property
    def chart_type(self) -> str:
        """The xlwings chart type: points only, lines with markers, or lines only."""
        if self.kind == "scatter":
            return "xy_scatter"
        if any(s.marker != "none" for s in self.series):
            return "xy_scatter_lines"
        return "xy_scatter_lines_no_markers"

    def formulas(self) -> list[tuple[str, str, str]]:
        """(name, x, y) of every series as ``Series.Name``/``XValues``/``Values`` take
        them (without the leading ``=`` of the ranges)."""
        return [(s.name_formula, s.x, s.y) for s in self.series]


@dataclass
class SheetPlan:
    """One engine sheet: ``areas`` the engine owns after this refresh; ``widths`` column
    -> characters (only columns the user has not sized); ``heights`` row -> points;
    ``freeze_row``/``landscape`` apply to a new sheet only (an existing sheet keeps the
    user's view and page setup); ``print_area`` (absolute, e.g. ``$A$1:$R$90``) leaves
    the chart feeds out."""

    name: str
    new: bool
    areas: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    tables: list[TablePlan] = field(default_factory=list)
    charts: list[ChartPlan] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    freeze_row: int | None = None
    print_area: str | None = None


@dataclass
class Plan:
    """Everything the button writes: the old areas to clear, the sheets to write, the areas
    to store (every engine sheet's, in the CLI's format) and what the user should know."""

    old_areas: dict[str, list[str]]
    new_areas: dict[str, list[str]]
    sheets: list[SheetPlan]
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- building it
# a text Excel would read as something else when it is entered: a formula (=, +, -, @), an
# error (#N/A), a number, date, time or percentage (they all hold a digit), a boolean, or
# a text already starting with the apostrophe that marks text
_COERCIBLE = re.compile(r"^[=+\-@#']|\d|^\s*(true|false)\s*$", re.IGNORECASE)


TEXT = "@"              # Excel's Text number format: what is entered is kept as typed
TEXT_FORMAT_MAX = 255   # longer texts in a Text-formatted cell show as ####


def text_entry(text: str) -> tuple[str, str | None]:
    """A layout text as the button enters it: (what to enter, number format to set first).

    Excel parses what it is given as if typed ("+0.59%" becomes a number, "15" and "2021"
    numbers, "1.5" a date in some locales), so a text Excel could read as something else
    (a formula or error sign first, a digit anywhere, TRUE/FALSE: :data:`_COERCIBLE`) gets
    the Text format ``@`` *before* its value is written and is then kept verbatim; other
    texts stay General. Texts over :data:`TEXT_FORMAT_MAX` characters (Excel shows a long
    text in a Text-formatted cell as ``####``), the empty text and a text that itself
    starts with an apostrophe get an apostrophe prefix instead (Excel's "this is text"
    mark, not part of the value; the apostrophe alone is an empty text, as the CLI writes
    it, not a blank). Texts are cut at Excel's 32,767 characters."""
    if text and not _COERCIBLE.search(text):
        return text[:MAX_TEXT], None       # nothing Excel could read as another type
    if text and len(text) <= TEXT_FORMAT_MAX and not text.startswith("'"):
        return text, TEXT
    return "'" + text[:MAX_TEXT - 1], None


def excel_value(v: Any) -> Any:
    """A layout cell value as Excel should receive it: dates as datetimes; texts as
    :func:`text_entry` enters them (the value part)."""
    if isinstance(v, str):
        return text_entry(v)[0]
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime(v.year, v.month, v.day)
    return v


def _blocks(lay: SheetLayout) -> list[Block]:
    out = []
    for area in dict.fromkeys(lay.areas):
        c1, r1, c2, r2 = ranges_box(area)
        if not any((r, c) in lay.cells for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)):
            continue  # a chart's box
        values, formats, roles = [], [], []
        for r in range(r1, r2 + 1):
            vr, fr, rr = [], [], []
            for c in range(c1, c2 + 1):
                cell = lay.cells.get((r, c))
                if cell is None:
                    vr.append(None), fr.append(None), rr.append(None)
                    continue
                v = excel_value(cell.value)
                fmt = text_entry(cell.value)[1] if isinstance(cell.value, str) \
                    else cell.number_format
                if fmt is None and isinstance(v, dt.datetime):
                    fmt = "General"  # as the CLI writes it (Excel would format a date)
                vr.append(v), fr.append(fmt), rr.append(cell.role)
            values.append(vr), formats.append(fr), roles.append(rr)
        out.append(Block(area, values, formats, roles))
        _text_runs(out[-1])
    return out


def _axis(ax: Axis, bounds: tuple[float, float] | None, kind: str) -> AxisPlan:
    lo, hi, unit = axis_scale(ax, bounds, kind)
    return AxisPlan(ax.title, ax.number_format or "General", lo, hi, unit, ax.gridlines)


def chart_plan(chart: PlacedChart, lay: SheetLayout, date1904: bool = False) -> ChartPlan:
    """The chart ``chart`` of layout ``lay`` as the button draws it: what
    :func:`engine.workbook.chart_xml.chart_part` writes for the CLI (the same cells, colours,
    dashes, markers, labels, bands, axis scales and legend), as data."""
    spec: ChartSpec = chart.spec

    def ref(r) -> str:
        col, r1, r2 = lay.cells_of(r)
        return sheet_ref(lay.sheet, col, r1, r2)

    series = []
    for i, s in enumerate(spec.series):
        is_ref = not isinstance(s.name, str)
        series.append(SeriesPlan(
            name=ref(s.name) if is_ref else s.name, name_is_ref=is_ref, x=ref(s.x), y=ref(s.y),
            color=s.color or PALETTE[i % len(PALETTE)], line=spec.kind == "line",
            dash=s.dash, width=s.width, marker=s.marker, marker_size=s.marker_size,
            label=s.label))
    for x, y, level in chart.bands:
        series.append(SeriesPlan(f"{level:+g}", False, ref(x), ref(y), BAND_COLOR, True,
                                 BAND_DASH, BAND_WIDTH, band=True))
    bounds = x_bounds(spec, lay, date1904) if spec.x_axis.dates else None
    return ChartPlan(a1(chart.row, chart.col), spec.width, spec.height, spec.title,
                     spec.title_size, spec.kind, series, _axis(spec.x_axis, bounds, spec.kind),
                     _axis(spec.y_axis, y_bounds(spec, lay, date1904), spec.kind), spec.legend)


def sheet_plan(lay: SheetLayout, new: bool, covered: set[int] = frozenset(),
               date1904: bool = False) -> SheetPlan:
    """What the button writes for layout ``lay``; ``covered``: the columns whose width the
    sheet already sets (they keep it, as the CLI keeps them)."""
    return SheetPlan(
        name=lay.sheet, new=new, areas=list(lay.areas), blocks=_blocks(lay),
        tables=[TablePlan(t.name, t.ref, "TableStyleMedium2" if t.styled else
                          "TableStyleLight1", t.styled) for t in lay.tables],
        charts=[chart_plan(ch, lay, date1904) for ch in lay.charts],
        widths={j: w for j, w in sorted(lay.widths.items()) if j not in covered},
        heights=dict(lay.heights), freeze_row=lay.freeze_row if new else None,
        print_area=sheet_ref_area(lay.sheet, lay.print_area).split("!", 1)[1]
        if lay.print_area else None)


def _covered_columns(pkg: Package, part: str) -> set[int]:
    """Columns a worksheet part sizes or formats (its ``<cols>``): the CLI leaves them be."""
    covered: set[int] = set()
    for _, el in pkg.iterparse(part, events=("start",)):
        name = local(el.tag)
        if name == "col":
            try:
                lo, hi = int(el.get("min", "0")), int(el.get("max", "0"))
            except ValueError:
                continue
            if hi - lo < 20000:
                covered.update(range(lo, min(hi, 16384) + 1))
        elif name == "sheetData":
            break
    return covered


def _replaced_cells(book: Workbook, lay: SheetLayout, old: list[str]) -> list[str]:
    """User cells (outside the engine's old areas) that the new areas cover."""
    old_zone = Zone(old)
    fresh = [b for b in Zone(lay.areas).boxes if not any(
        o[0] <= b[0] and o[1] <= b[1] and b[2] <= o[2] and b[3] <= o[3] for o in old_zone.boxes)]
    if not fresh:
        return []
    cells = book.read(lay.sheet)
    if cells is None:
        return []
    filled = {(r, c) for r, row in cells.rows.items() for c in row} | cells.uncached
    out = []
    for r, c in sorted(filled):
        if any(c1 <= c <= c2 and r1 <= r <= r2 for c1, r1, c2, r2 in fresh) \
                and (r, c) not in old_zone:
            out.append(f"{lay.sheet}!{a1(r, c)}: a cell you typed was where the engine's table "
                       "now goes and was replaced (the file as last saved still has it)")
    return out


def plan_from_copy(copy: Path | str, contents: list) -> Plan:
    """The plan that puts ``contents`` (the builders' sheet contents) into the open workbook
    of which ``copy`` is a saved copy: laid out as ``gamma refresh`` lays it out (see the
    module docstring). The copy is only read."""
    with Package(copy) as pkg:
        book = Workbook(pkg)
        custom = custom_part(pkg)
        old = read_stored(pkg.xml(book.part), pkg.xml(custom) if custom else None)
        entries = {s.name: s for s in book.sheets}
        warnings: list[str] = []
        targets = []
        for name, content in merge_contents(contents).items():
            e = entries.get(name)
            if e is not None and e.kind != "worksheet":
                warnings.append(
                    f'sheet "{name}" is {"a " + e.kind if e.kind else "broken"}, not a '
                    "worksheet: the engine did not write it (rename that sheet and the next "
                    "refresh creates the engine's)")
                continue
            targets.append((lay_out(content), e))
        _, used, _ = tables_in_use(pkg, book, {
            e.part: Zone(old.get(lay.sheet, []) + lay.areas) for lay, e in targets if e})
        name_tables([lay for lay, _ in targets], used)
        sheets = []
        for lay, e in targets:
            covered = _covered_columns(pkg, e.part) if e is not None else set()
            sheets.append(sheet_plan(lay, e is None, covered, book.date1904))
            if e is not None:
                warnings += _replaced_cells(book, lay, old.get(lay.sheet, []))
    written = {sp.name for sp in sheets}
    new_areas = {s: a for s, a in old.items() if s not in written}
    new_areas.update({sp.name: sp.areas for sp in sheets})
    return Plan(old, new_areas, sheets, warnings)


# ----------------------------------------------------------------------------- applying it
def _unlist(table, zone: Zone) -> None:
    """Turn an Excel table back into plain cells (they are cleared afterwards)."""
    api = getattr(table, "api", None)
    for call in ("Unlist", "unlist"):
        fn = getattr(api, call, None)
        if callable(fn):
            fn()
            return
    c1, r1, c2, r2 = ranges_box(table.range.address)
    if all((r, c) in zone for r, c in ((r1, c1), (r1, c2), (r2, c1), (r2, c2))) and \
            hasattr(table, "delete"):
        table.delete()  # wholly inside the cleared zone: deleting it loses nothing else
        return
    raise RuntimeError(f"cannot remove the Excel table {table.name} on this platform")


class _Grid:
    """Edges of the columns and rows of a sheet in points, read once each."""

    def __init__(self, sheet):
        self.sheet, self.cols, self.rows = sheet, {}, {}

    def col(self, c: int) -> tuple[float, float]:
        if c not in self.cols:
            r = self.sheet.range(a1(1, c))
            self.cols[c] = (r.left, r.left + r.width)
        return self.cols[c]

    def row(self, r: int) -> tuple[float, float]:
        if r not in self.rows:
            g = self.sheet.range(a1(r, 1))
            self.rows[r] = (g.top, g.top + g.height)
        return self.rows[r]

    def inside(self, left: float, top: float, boxes) -> bool:
        """Is the point (a chart's top-left corner) in one of the cell boxes?"""
        for c1, r1, c2, r2 in boxes:
            if self.col(c1)[0] - 0.5 <= left < self.col(c2)[1] - 0.5 and \
                    self.row(r1)[0] - 0.5 <= top < self.row(r2)[1] - 0.5:
                return True
        return False


def clear_areas(sheet, areas: list[str]) -> None:
    """Remove what the engine owns on ``sheet`` — the zone ``areas`` (its areas of the last
    refresh and of this one): Excel tables meeting it, charts whose top-left corner lies in
    it, then the cells (values and formats) of every area; as the CLI drops them."""
    if not areas:
        return
    zone = Zone(areas)
    for t in list(sheet.tables):
        if zone.meets(t.range.address.replace("$", "")):
            _unlist(t, zone)
    charts = list(sheet.charts)
    if charts:
        grid = _Grid(sheet)
        for ch in charts:
            if grid.inside(ch.left, ch.top, zone.boxes):
                ch.delete()
    for a in dict.fromkeys(areas):
        sheet.range(a).clear()


def _runs(cells: list) -> list[tuple[int, int, Any]]:
    """Maximal runs (start, end, value) of equal, non-None values."""
    out, j = [], 0
    while j < len(cells):
        k = j
        while k + 1 < len(cells) and cells[k + 1] == cells[j]:
            k += 1
        if cells[j] is not None:
            out.append((j, k, cells[j]))
        j = k + 1
    return out


def _look(rng, look: Look, com: bool) -> bool:
    """Give ``rng`` the look; ``False`` when its alignment could not be set."""
    if look.bold:
        rng.font.bold = True
    if look.italic:
        rng.font.italic = True
    if look.size:
        rng.font.size = look.size
    if look.color:
        rng.font.color = look.color
    if look.fill:
        rng.color = look.fill
    if look.centred_wrapped:
        rng.wrap_text = True
        if com:
            rng.api.HorizontalAlignment = XL_CENTER
            rng.api.VerticalAlignment = XL_CENTER
        elif isinstance(getattr(type(rng), "horizontal_alignment", None), property):
            rng.horizontal_alignment = "center"  # xlwings >= 0.37.3 has it without COM
            rng.vertical_alignment = "center"
        else:
            return False
    return True


ANY = ""   # a blank engine cell: it may take the format of the cells above and below it


def format_ranges(formats: dict[tuple[int, int], str], pick: Callable[[str], bool]
                  ) -> list[tuple[str, str]]:
    """(A1 range, number format) rectangles giving each cell (row, column) -> format that
    ``pick`` takes its format: each column cut into runs of equal formats on consecutive
    rows (a blank engine cell, :data:`ANY`, between two cells of one format joins their
    run, as a table column has one format), and a run carried across the next columns
    while they have the same run. A table's columns of one format, or a stack of note
    lines, go in one call whatever their number (cell runs block by block made hundreds
    more). Blank cells at the ends of a run are left as they are."""
    by_col: dict[int, list[tuple[int, str]]] = {}
    for (r, c), f in sorted(formats.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if f == ANY or pick(f):
            by_col.setdefault(c, []).append((r, f))
    runs: dict[int, dict[tuple[int, int], str]] = {}
    for c, cells in by_col.items():
        col = runs[c] = {}
        start = last = fmt = prev = None
        for r, f in cells + [(-2, None)]:
            if prev is None or r != prev + 1 or (f != ANY and f != fmt):
                if fmt is not None:                  # the run ends: a gap or another format
                    col[(start, last)] = fmt
                start = last = fmt = None
            prev = r
            if f is None or f == ANY:
                continue
            if fmt is None:
                start, fmt = r, f
            last = r
    out = []
    for c in sorted(runs):
        for (r1, r2), f in sorted(runs[c].items()):
            c2 = c
            while runs.get(c2 + 1, {}).get((r1, r2)) == f:
                c2 += 1
                del runs[c2][(r1, r2)]
            out.append((a1(r1, c, r2, c2), f))
    return out


def _text_runs(b: Block) -> None:
    """Give the Text format to a whole column run of short texts of which one needs it:
    harmless for the others (they are texts), and one rectangle instead of several."""
    for j in range(len(b.values[0]) if b.values else 0):
        i = 0
        while i < len(b.values):
            k = i
            while k < len(b.values) and _plain_text(b.values[k][j], b.formats[k][j]):
                k += 1
            if any(b.formats[x][j] == TEXT for x in range(i, k)):
                for x in range(i, k):
                    b.formats[x][j] = TEXT
            i = max(k, i + 1)


def _plain_text(v: Any, fmt: str | None) -> bool:
    return isinstance(v, str) and fmt in (None, TEXT) and 0 < len(v) <= TEXT_FORMAT_MAX \
        and not v.startswith("'")


def sheet_formats(blocks: list[Block]) -> dict[tuple[int, int], str]:
    """(row, column) -> number format of every cell of ``blocks`` that has one, and
    :data:`ANY` for their blank cells."""
    out = {}
    for b in blocks:
        c1, r1, _, _ = ranges_box(b.ref)
        for i, row in enumerate(b.formats):
            for j, f in enumerate(row):
                if f is not None:
                    out[(r1 + i, c1 + j)] = f
                elif b.values[i][j] is None:
                    out[(r1 + i, c1 + j)] = ANY
    return out


def write_blocks(sheet, blocks: list[Block], com: bool = False) -> bool:
    """The Text format of the text cells first (so that Excel keeps them as written), the
    values block by block in one call each, then the other number formats — both by
    rectangles over the whole sheet (:func:`format_ranges`) — and the look of each style
    role by row runs. ``False`` when headers could not be centred."""
    formats = sheet_formats(blocks)
    for ref, fmt in format_ranges(formats, lambda f: f == TEXT):
        sheet.range(ref).number_format = fmt
    for b in blocks:
        c1, r1, c2, r2 = ranges_box(b.ref)
        sheet.range(b.ref).value = b.values[0][0] if (c1, r1) == (c2, r2) else b.values
    for ref, fmt in format_ranges(formats, lambda f: f != TEXT):  # after the values: a
        sheet.range(ref).number_format = fmt                      # date entered is formatted
    done = True
    for b in blocks:
        c1, r1, _, _ = ranges_box(b.ref)
        for i, row in enumerate(b.roles):
            for j, k, role in _runs(row):
                look = LOOKS.get(role)
                if look is not None:
                    done &= _look(sheet.range(a1(r1 + i, c1 + j, r1 + i, c1 + k)), look, com)
    return done


def _bgr(rrggbb: str) -> int:
    """An ``RRGGBB`` colour as the COM ``RGB`` long (red in the low byte)."""
    r, g, b = _rgb(rrggbb)
    return r + (g << 8) + (b << 16)


def _book_range(book, formula: str):
    """The xlwings range of ``'Sheet'!$C$5:$C$9``."""
    name, _, addr = formula.rpartition("!")
    if name.startswith("'") and name.endswith("'"):
        name = name[1:-1].replace("''", "'")
    return book.sheets[name].range(addr.replace("$", ""))


def _draw_com(ch, cp: ChartPlan) -> None:
    """Every series, its formatting, the axes, legend and title through Excel's COM API."""
    obj, chart = ch.api[0], ch.api[1]
    obj.Placement = XL_MOVE
    while chart.SeriesCollection().Count:
        chart.SeriesCollection(1).Delete()
    for s in cp.series:  # the data first: an XY chart type needs series to exist
        ser = chart.SeriesCollection().NewSeries()
        ser.XValues = "=" + s.x
        ser.Values = "=" + s.y
        ser.Name = s.name_formula
    chart.ChartType = XL_CHART_TYPES[cp.chart_type]
    for k, s in enumerate(cp.series, start=1):
        ser = chart.SeriesCollection(k)
        line = ser.Format.Line
        if s.line:
            line.Visible = MSO_TRUE
            line.ForeColor.RGB = _bgr(s.color)
            line.DashStyle = MSO_DASH[s.dash]
            line.Weight = s.width
        else:                               # points only, as chart_xml's <a:noFill/> line
            line.Visible = MSO_FALSE
        ser.MarkerStyle = XL_MARKER[s.marker]
        if s.marker != "none":
            ser.MarkerSize = s.marker_size
            ser.MarkerBackgroundColor = _bgr(s.color)
            ser.MarkerForegroundColor = _bgr(s.color)
        if s.label:
            ser.HasDataLabels = True
            labels = ser.DataLabels()
            labels.ShowSeriesName = True
            labels.ShowValue = False
            labels.ShowCategoryName = False
            labels.Position = XL_LABEL_POSITION[s.label]
            labels.Font.Size = LABEL_FONT_PT
    for which, ax in ((XL_CATEGORY, cp.x_axis), (XL_VALUE, cp.y_axis)):
        axis = chart.Axes(which)
        if ax.maximum is not None:
            axis.MaximumScale = ax.maximum
        if ax.minimum is not None:
            axis.MinimumScale = ax.minimum
        if ax.major_unit:
            axis.MajorUnit = ax.major_unit
        axis.TickLabels.NumberFormat = ax.number_format
        axis.TickLabels.Font.Size = LABEL_FONT_PT
        axis.TickLabelPosition = XL_TICK_LABEL_LOW
        axis.MajorTickMark = XL_TICK_OUTSIDE
        axis.MinorTickMark = XL_TICK_NONE
        axis.Crosses = XL_AXIS_CROSSES_MINIMUM
        axis.Format.Line.ForeColor.RGB = _bgr(AXIS_COLOR)
        axis.Format.Line.Weight = HAIRLINE
        axis.HasMajorGridlines = ax.gridlines
        if ax.gridlines:
            axis.MajorGridlines.Format.Line.ForeColor.RGB = _bgr(GRID_COLOR)
            axis.MajorGridlines.Format.Line.Weight = HAIRLINE
        axis.HasTitle = bool(ax.title)
        if ax.title:
            axis.AxisTitle.Text = ax.title
            axis.AxisTitle.Font.Size = LABEL_FONT_PT
            axis.AxisTitle.Font.Bold = False
            if which == XL_VALUE:
                axis.AxisTitle.Orientation = XL_UPWARD
    chart.HasLegend = cp.legend is not None
    if cp.legend is not None:
        chart.Legend.Position = XL_LEGEND_POSITION[cp.legend]
        chart.Legend.Font.Size = LABEL_FONT_PT
        for k in range(len(cp.series), 0, -1):  # bands stay out of the legend
            if cp.series[k - 1].band:
                chart.Legend.LegendEntries(k).Delete()
    chart.HasTitle = True
    chart.ChartTitle.Text = cp.title
    chart.ChartTitle.Font.Size = cp.title_size
    chart.ChartTitle.Font.Bold = True
    chart.ChartArea.Format.Fill.ForeColor.RGB = _bgr(BACKGROUND)
    chart.ChartArea.Format.Line.ForeColor.RGB = _bgr(FRAME_COLOR)
    chart.ChartArea.Format.Line.Weight = HAIRLINE


STYLING = ("series names, colours, dashes, widths, markers and labels, axis titles, "
           "scales and formats, legends")


def _draw_portable(sheet, ch, cp: ChartPlan) -> dict[str, int]:
    """Without COM: the first series (its y range by ``set_source_data``, its x range by
    ``set_x_axis_values`` where xlwings has it) and the title. Returns what was left out:
    ``more series``, ``band lines`` (counts), ``x values``, ``title`` and ``styling``
    (charts)."""
    book = sheet.book
    data = [s for s in cp.series if not s.band]
    first = data[0]
    ch.set_source_data(_book_range(book, first.y))
    ch.chart_type = cp.chart_type
    missing = {"more series": len(data) - 1, "band lines": len(cp.series) - len(data),
               "x values": 0, "title": 0, "styling": 1}
    try:
        ch.set_x_axis_values(_book_range(book, first.x))
    except Exception:  # xlwings < 0.37: the points are numbered 1, 2, …
        missing["x values"] = 1
    try:
        if not isinstance(getattr(type(ch), "title", None), property):
            raise AttributeError("title")  # xlwings < 0.37.3
        ch.title = cp.title
    except Exception:
        missing["title"] = 1
    return missing


def add_chart(sheet, cp: ChartPlan, com: bool) -> dict[str, int]:
    """A native chart at its anchor cell, its size in points; drawn whole through COM, else
    from its first series (:func:`_draw_portable`). Returns what could not be drawn."""
    anchor = sheet.range(cp.anchor)
    ch = sheet.charts.add(anchor.left, anchor.top, cp.width_cm * CM_TO_PT,
                          cp.height_cm * CM_TO_PT)
    if com:
        _draw_com(ch, cp)
        return {}
    return _draw_portable(sheet, ch, cp)


def _left_out(sheet: str, n: int, missing: dict[str, int]) -> str:
    parts = [f"{missing[k]} {k}" for k in ("more series", "band lines") if missing.get(k)]
    if missing.get("x values"):
        parts.append(f"the x values of {missing['x values']} (their points are numbered)")
    if missing.get("title"):
        parts.append(f"the titles of {missing['title']}")
    parts.append(STYLING)
    return (f"{sheet}: {n} chart(s) drawn from their first series only (Excel's COM "
            "interface, which the rest needs, is Windows-only); not drawn: "
            + "; ".join(parts) + ". `gamma refresh` on the closed workbook draws them whole")


def _freeze(sheet, row: int) -> None:
    """Freeze the rows above ``row`` on ``sheet`` (COM: the window, on the sheet made
    active; :func:`apply_plan` gives the focus back at the end)."""
    sheet.activate()
    win = sheet.book.app.api.ActiveWindow
    win.FreezePanes = False
    win.ScrollRow = 1
    win.ScrollColumn = 1
    win.SplitColumn = 0
    win.SplitRow = row - 1
    win.FreezePanes = True


def _landscape(sheet) -> None:
    """A new engine sheet prints landscape, one page wide (COM ``PageSetup``)."""
    ps = sheet.api.PageSetup
    ps.Orientation = XL_LANDSCAPE
    ps.Zoom = False
    ps.FitToPagesWide = 1
    ps.FitToPagesTall = False


def apply_plan(book, plan: Plan, progress: Callable[[str], None] = lambda m: None,
               com: bool | None = None) -> list[str]:
    """Write ``plan`` into the open ``book`` (an xlwings Book). Returns warnings (the plan's,
    and what this platform could not write); raises only if a sheet cannot be written at
    all."""
    com = USE_COM if com is None else com
    warnings: list[str] = list(plan.warnings)
    names = [s.name for s in book.sheets]
    try:
        active = book.sheets.active  # adding sheets and freezing panes move the focus
    except Exception:
        active = None
    uncentred: list[str] = []
    unset: list[str] = []
    for sp in plan.sheets:
        progress(f"writing {sp.name}")
        new = sp.name not in names
        if new:
            sheet = book.sheets.add(sp.name, after=book.sheets[len(names) - 1])
            names.append(sp.name)
        else:
            sheet = book.sheets[sp.name]
            clear_areas(sheet, plan.old_areas.get(sp.name, []) + sp.areas)
        if not write_blocks(sheet, sp.blocks, com):
            uncentred.append(sp.name)
        for t in sp.tables:
            try:
                table = sheet.tables.add(source=sheet.range(t.ref), name=t.name,
                                         table_style_name=t.style)
                if not t.styled:
                    table.show_autofilter = False
                    table.show_table_style_row_stripes = False
            except Exception as e:  # e.g. a name clash with a table made since the copy
                warnings.append(f"{sp.name}: table {t.name} at {t.ref} not created ({e})")
        # widths and heights before the charts, which keep their size whatever the cells'
        for col, w in sp.widths.items():
            sheet.range(f"{col_letter(col)}:{col_letter(col)}").column_width = w
        for row, h in sp.heights.items():
            sheet.range(a1(row, 1)).row_height = h
        left_out: dict[str, int] = {}
        for cp in sp.charts:
            try:
                for k, n in add_chart(sheet, cp, com).items():
                    left_out[k] = left_out.get(k, 0) + n
            except Exception as e:
                warnings.append(f"{sp.name}: chart at {cp.anchor} not created ({e})")
        if left_out:
            warnings.append(_left_out(sp.name, left_out["styling"], left_out))
        if sp.print_area:
            try:
                sheet.page_setup.print_area = sp.print_area
            except Exception as e:
                warnings.append(f"{sp.name}: print area not set ({e})")
        if new:
            try:
                if not com:
                    raise RuntimeError("Windows only")
                if sp.freeze_row and sp.freeze_row > 1:
                    _freeze(sheet, sp.freeze_row)
                _landscape(sheet)
            except Exception:
                unset.append(sp.name)
    if uncentred:
        warnings.append("headers not centred (this xlwings cannot align cells without COM; "
                        "xlwings 0.37.3 or later can) on: " + ", ".join(uncentred))
    if unset:
        warnings.append("new sheets without a frozen header row and landscape page setup "
                        "(they need Excel's COM interface): " + ", ".join(unset))
    if active is not None:
        try:
            active.activate()
        except Exception:
            pass
    try:
        store_areas(book, plan.new_areas, com)
    except Exception as e:
        warnings.append(f"engine areas not stored in the workbook ({e}); the next refresh "
                        "will not clear cells the engine no longer uses")
    return warnings


def store_areas(book, areas: dict[str, list[str]], com: bool | None = None) -> None:
    """Replace the workbook-level defined names holding the engine areas with those
    :func:`engine.workbook.areas.area_names` gives the CLI (xlwings ``Book.names``, on
    Windows and macOS; hidden where COM can hide them), and drop the previous version's
    custom document properties (Windows: the only platform that has them)."""
    com = USE_COM if com is None else com
    for n in list(book.names):
        if ENGINE_NAME.match(str(n.name).split("!")[-1]):
            n.delete()
    for name, formula in area_names(areas):
        added = book.names.add(name, "=" + formula)
        if com:
            added.api.Visible = False
    if com:
        props = book.api.CustomDocumentProperties
        for i in range(props.Count, 0, -1):
            p = props.Item(i)
            if ENGINE_NAME.match(str(p.Name)):
                p.Delete()
