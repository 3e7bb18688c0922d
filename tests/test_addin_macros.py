"""The Refresh button's layout logic (addin/macros.py, addin/xl_writer.py), on Linux.

STAND-IN WARNING: Excel is not available here. ``StandInBook`` below is a small in-memory
imitation of the part of the xlwings object model the button uses (Book, Sheets, Sheet,
Range.value/clear/number_format/font/color/wrap_text/column_width/row_height/left/top,
Tables.add, Charts.add) and of the COM calls it makes on Windows (chart series, their
formatting, axes, legend and title; alignment, frozen panes, page setup, Unlist, document
properties). It behaves like Excel where that matters for the layout — a text entered as a
number, date, boolean or formula is read as one unless it starts with an apostrophe, a date
entered in a General cell gets a date format — and the COM stand-in accepts only the
object-model names listed in ``_COM_NAMES`` (taken from Microsoft's VBA reference), so a
misspelt call fails here. It tests *layout logic only*: which cells, formats, looks, tables,
charts and stored areas the button writes, compared with what ``gamma refresh`` writes
(read back with openpyxl). It does not prove that Excel accepts those calls; the button itself
is verified only on Windows/macOS (see README "Use it from Excel").
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import xlwings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

import workbook_factory as wf
from addin import macros, xl_writer
from addin.xl_writer import AREA_PREFIX, CM_TO_PT, ChartPlan, chart_plan, excel_value
from engine.refresh import refresh as cli_refresh
from engine.tables.base import ENGINE_SHEETS
from engine.tables.charts import Ref
from engine.workbook.areas import area_names, area_properties, areas_from_names
from engine.workbook.chart_xml import sheet_ref
from engine.workbook.layout import a1, lay_out, merge_contents, ranges_box
from engine.xlsx.numfmt import excel_serial

COL_PT, ROW_PT = 48.0, 15.0   # default column width and row height, points


# ----------------------------------------------------------------------------- stand-in
class Formula(str):
    """What Excel makes of a text entered with a leading ``=``: a formula, not a text."""


def _as_excel_reads(v):
    """A value entered into a cell as Excel stores it (a text is parsed as if typed)."""
    if not isinstance(v, str):
        return v
    if v.startswith("'"):
        return v[1:]
    if v.startswith(("=", "@")) or re.match(r"^[+\-]\s*[\d.(]", v):
        return Formula(v)
    s = v.strip()
    if s.upper() in ("TRUE", "FALSE"):
        return s.upper() == "TRUE"
    if s.startswith("#") and s.upper() in ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!"):
        return Formula(v)
    m = re.fullmatch(r"[-+]?[\d,]*\.?\d+(E[-+]?\d+)?%?", s, re.IGNORECASE)
    if m:
        x = float(s.rstrip("%").replace(",", ""))
        return x / 100 if s.endswith("%") else x
    if re.fullmatch(r"\d{1,4}[-/]\d{1,2}([-/]\d{1,4})?", s):
        return Formula(v)  # a date: not the text that was meant
    return v


class _Font:
    def __init__(self, rng):
        object.__setattr__(self, "_rng", rng)

    def __setattr__(self, k, v):
        assert k in ("bold", "italic", "size", "color"), k
        for cell in self._rng.cells():
            self._rng.sheet.fonts.setdefault(cell, {})[k] = v


_RANGE_COM = {"HorizontalAlignment", "VerticalAlignment"}


class StandInRange:
    def __init__(self, sheet, ref: str):
        self.sheet = sheet
        m = re.fullmatch(r"([A-Z]+):([A-Z]+)", ref)
        if m:                                                     # whole columns "B:B"
            ref = f"{m.group(1)}1:{m.group(2)}1"
        self.c1, self.r1, self.c2, self.r2 = ranges_box(ref)

    def cells(self):
        return [(r, c) for r in range(self.r1, self.r2 + 1) for c in range(self.c1, self.c2 + 1)]

    @property
    def address(self):
        return (f"${get_column_letter(self.c1)}${self.r1}:"
                f"${get_column_letter(self.c2)}${self.r2}")

    @property
    def value(self):
        return [[self.sheet.grid.get((r, c)) for c in range(self.c1, self.c2 + 1)]
                for r in range(self.r1, self.r2 + 1)]

    @value.setter
    def value(self, v):
        rows = v if isinstance(v, list) else [[v]]
        assert len(rows) == self.r2 - self.r1 + 1, "rows do not fit the range"
        for i, row in enumerate(rows):
            assert len(row) == self.c2 - self.c1 + 1, "columns do not fit the range"
            for j, x in enumerate(row):
                key = (self.r1 + i, self.c1 + j)
                if x is None or x == "":   # Excel stores an empty string as an empty cell
                    self.sheet.grid.pop(key, None)  # ("'" alone is an empty text)
                    continue
                if self.sheet.formats.get(key) == "@" and isinstance(x, str):
                    # a Text cell keeps what is entered; over 255 characters it shows ####
                    assert len(x) <= 255, f"{key}: a long text in a Text cell shows ####"
                    self.sheet.grid[key] = x
                    continue
                self.sheet.grid[key] = _as_excel_reads(x)
                if isinstance(x, dt.datetime) and self.sheet.formats.get(key, "General") \
                        == "General":
                    self.sheet.formats[key] = "m/d/yyyy"   # Excel formats an entered date

    def clear(self):
        for key in self.cells():
            for d in (self.sheet.grid, self.sheet.formats, self.sheet.fonts, self.sheet.fills,
                      self.sheet.wraps, self.sheet.aligns):
                d.pop(key, None)

    @property
    def number_format(self):
        return self.sheet.formats.get((self.r1, self.c1), "General")

    @number_format.setter
    def number_format(self, fmt):
        for key in self.cells():
            self.sheet.formats[key] = fmt

    @property
    def font(self):
        return _Font(self)

    @property
    def color(self):
        return self.sheet.fills.get((self.r1, self.c1))

    @color.setter
    def color(self, rgb):
        assert isinstance(rgb, tuple) and len(rgb) == 3
        for key in self.cells():
            self.sheet.fills[key] = rgb

    @property
    def wrap_text(self):
        return self.sheet.wraps.get((self.r1, self.c1), False)

    @wrap_text.setter
    def wrap_text(self, v):
        for key in self.cells():
            self.sheet.wraps[key] = v

    @property
    def api(self):
        rng = self

        class _Api:
            def __setattr__(self, k, v):
                assert k in _RANGE_COM, k
                for key in rng.cells():
                    rng.sheet.aligns.setdefault(key, {})[k] = v
        return _Api()

    left = property(lambda self: (self.c1 - 1) * COL_PT)
    top = property(lambda self: (self.r1 - 1) * ROW_PT)
    width = property(lambda self: (self.c2 - self.c1 + 1) * COL_PT)
    height = property(lambda self: (self.r2 - self.r1 + 1) * ROW_PT)

    @property
    def column_width(self):
        return self.sheet.widths.get(self.c1)

    @column_width.setter
    def column_width(self, w):
        for c in range(self.c1, self.c2 + 1):
            self.sheet.widths[c] = w

    @property
    def row_height(self):
        return self.sheet.heights.get(self.r1)

    @row_height.setter
    def row_height(self, h):
        for r in range(self.r1, self.r2 + 1):
            self.sheet.heights[r] = h


class _ListObjectApi:
    def __init__(self, table):
        self._t = table

    def Unlist(self):
        self._t.sheet.tables.remove(self._t)


class StandInTable:
    def __init__(self, sheet, rng, name, style):
        self.sheet, self.range, self.name, self.style = sheet, rng, name, style
        self.show_autofilter = self.show_table_style_row_stripes = True
        self.api = _ListObjectApi(self)


class StandInTables(list):
    def __init__(self, sheet):
        super().__init__()
        self.sheet = sheet

    def add(self, source=None, name=None, table_style_name="TableStyleMedium2", **_):
        used = {t.name.casefold() for s in self.sheet.book.sheets for t in s.tables}
        if name.casefold() in used:
            raise ValueError(f"table name {name} already used")
        for t in self:
            a, b = (t.range.c1, t.range.r1, t.range.c2, t.range.r2), \
                (source.c1, source.r1, source.c2, source.r2)
            if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                raise ValueError(f"table {name} would overlap table {t.name}")
        t = StandInTable(self.sheet, source, name, table_style_name)
        self.append(t)
        return t


# Excel's chart object model as far as the button uses it (Microsoft's VBA reference):
# child objects reached by property, methods returning objects, settable properties
_COM_CHILDREN = {"Format", "Line", "ForeColor", "Font", "TickLabels", "AxisTitle",
                 "MajorGridlines", "Legend", "ChartTitle", "ChartArea", "Fill"}
_COM_CALLS = {"DataLabels", "Axes", "LegendEntries"}
_COM_PROPS = {"Visible", "RGB", "DashStyle", "Weight", "MarkerStyle", "MarkerSize",
              "MarkerBackgroundColor", "MarkerForegroundColor", "HasDataLabels",
              "ShowSeriesName", "ShowValue", "ShowCategoryName", "Position", "Size", "Bold",
              "MinimumScale", "MaximumScale", "MajorUnit", "NumberFormat", "TickLabelPosition",
              "Crosses", "HasMajorGridlines", "HasTitle", "Text", "HasLegend", "ChartType",
              "XValues", "Values", "Name", "Placement", "MajorTickMark", "MinorTickMark",
              "Orientation"}
_COM_NAMES = _COM_CHILDREN | _COM_CALLS | _COM_PROPS | {"Delete", "SeriesCollection"}


class Com:
    """A COM object of the chart model: records what is set, hands out children."""

    def __init__(self, path: str = ""):
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "props", {})
        object.__setattr__(self, "kids", {})
        object.__setattr__(self, "deleted", False)

    def __getattr__(self, k):
        if k in self.props:
            return self.props[k]
        if k in _COM_CHILDREN:
            return self.kids.setdefault(k, Com(f"{self.path}.{k}"))
        if k in _COM_CALLS:
            return lambda *args: self.kids.setdefault((k, args), Com(f"{self.path}.{k}{args}"))
        if k == "Delete":
            return lambda: object.__setattr__(self, "deleted", True)
        raise AttributeError(f"{self.path}: Excel's object model has no {k} here")

    def __setattr__(self, k, v):
        if k not in _COM_PROPS:
            raise AttributeError(f"{self.path}: cannot set {k}")
        self.props[k] = v

    def get(self, *path):
        """The object at a path of children (``"Format", "Line"``, ``("Axes", (2,))``)."""
        o = self
        for p in path:
            o = o.kids[p]
        return o


class _SeriesCollection:
    def __init__(self, chart):
        self._chart = chart

    @property
    def Count(self):
        return len(self._chart.series)

    def NewSeries(self):
        s = Com("Series")
        self._chart.series.append(s)
        return s


class ChartCom(Com):
    def __init__(self):
        super().__init__("Chart")
        object.__setattr__(self, "series", [])

    def SeriesCollection(self, index=None):
        if index is None:
            return _SeriesCollection(self)
        s = self.series[index - 1]
        return _Deletable(self, s)


class _Deletable:
    """A series fetched by index: deleting removes it from the collection."""

    def __init__(self, chart, s):
        object.__setattr__(self, "_c", chart)
        object.__setattr__(self, "_s", s)

    def Delete(self):
        self._c.series.remove(self._s)

    def __getattr__(self, k):
        return getattr(self._s, k)

    def __setattr__(self, k, v):
        setattr(self._s, k, v)


class StandInChart:
    def __init__(self, charts, left, top, width, height):
        self._charts = charts
        self.left, self.top, self.width, self.height = left, top, width, height
        self._type = None
        self.source = self.x_values = None
        self._title = None
        self.api = (Com("ChartObject"), ChartCom())

    chart_type = property(lambda self: self._type)

    @chart_type.setter
    def chart_type(self, v):
        assert v in xl_writer.XL_CHART_TYPES, v
        self._type = v

    title = property(lambda self: self._title)

    @title.setter
    def title(self, v):
        self._title = v

    def delete(self):
        self._charts.remove(self)

    def set_source_data(self, rng):
        self.source = rng

    def set_x_axis_values(self, rng):
        self.x_values = rng

    @property
    def anchor(self) -> str:
        return a1(round(self.top / ROW_PT) + 1, round(self.left / COL_PT) + 1)


class StandInCharts(list):
    def add(self, left=0, top=0, width=355, height=211):
        ch = StandInChart(self, left, top, width, height)
        self.append(ch)
        return ch


class _PageSetupCom:
    def __init__(self):
        object.__setattr__(self, "props", {})

    def __setattr__(self, k, v):
        assert k in ("Orientation", "Zoom", "FitToPagesWide", "FitToPagesTall"), k
        self.props[k] = v


class StandInSheet:
    def __init__(self, book, name):
        self.book, self.name = book, name
        self.grid, self.formats, self.fonts, self.fills = {}, {}, {}, {}
        self.wraps, self.aligns, self.widths, self.heights = {}, {}, {}, {}
        self.tables = StandInTables(self)
        self.charts = StandInCharts()
        self.page_setup = type("PageSetup", (), {"print_area": None})()
        self.api = type("SheetApi", (), {})()
        self.api.PageSetup = _PageSetupCom()
        self.frozen = None

    def range(self, ref):
        return StandInRange(self, ref)

    def activate(self):
        self.book.sheets.active = self


class StandInSheets(list):
    def __init__(self, book):
        super().__init__()
        self.book = book
        self.active = None

    def __getitem__(self, key):
        if isinstance(key, str):
            for s in self:
                if s.name == key:
                    return s
            raise KeyError(key)
        return list.__getitem__(self, key)

    def add(self, name, after=None):
        s = StandInSheet(self.book, name)
        self.insert(self.index(after) + 1 if after is not None else 0, s)
        self.active = s     # Excel activates a sheet it adds
        return s


class _Prop:
    def __init__(self, props, name, value):
        self._props, self.Name, self.Value = props, name, value

    def Delete(self):
        self._props.items.remove(self)


class _Props:
    def __init__(self):
        self.items = []

    @property
    def Count(self):
        return len(self.items)

    def Item(self, i):  # 1-based, as in COM
        return self.items[i - 1]

    def Add(self, Name, LinkToContent, Type, Value):
        assert LinkToContent is False and Type == 4
        self.items.append(_Prop(self, Name, Value))


class StandInName:
    def __init__(self, names, name, refers_to):
        self._names, self.name, self.refers_to = names, name, refers_to
        self.api = type("NameApi", (), {"Visible": True})()

    def delete(self):
        self._names.remove(self)


class StandInNames(list):
    """Book.names: workbook-level names (Name.refers_to with its leading '=')."""

    def add(self, name, refers_to):
        assert refers_to.startswith("=") and all(n.name != name for n in self)
        n = StandInName(self, name, refers_to)
        self.append(n)
        return n


class _BookApi:
    def __init__(self, book):
        self._book = book
        self.CustomDocumentProperties = _Props()

    def SaveCopyAs(self, path):
        # Excel would save the open state; the stand-in's state came from this file
        shutil.copyfile(self._book.source, path)


class _Window:
    """Application.ActiveWindow: freezing panes acts on the active sheet."""

    def __init__(self, app):
        object.__setattr__(self, "_app", app)
        object.__setattr__(self, "SplitRow", 0)

    def __setattr__(self, k, v):
        assert k in ("FreezePanes", "SplitColumn", "SplitRow", "ScrollRow", "ScrollColumn"), k
        object.__setattr__(self, k, v)
        if k == "FreezePanes" and v:
            self._app.book.sheets.active.frozen = self.SplitRow + 1


class StandInApp:
    # xlwings' own context manager (it only reads and sets the App's properties)
    properties = xlwings.App.properties

    def __init__(self):
        self.status_bar, self.screen_updating, self.calculation = None, True, "automatic"
        self.enable_events = True
        self.settings_log = []
        self.status_log, self.alerts = [], []
        self.book = None
        self.api = type("AppApi", (), {})()
        self.api.ActiveWindow = _Window(self)

    def __setattr__(self, k, v):
        if k == "status_bar" and isinstance(getattr(self, "status_log", None), list):
            self.status_log.append(v)
        if k in ("screen_updating", "calculation", "enable_events") and \
                isinstance(getattr(self, "settings_log", None), list):
            self.settings_log.append((k, v))
        object.__setattr__(self, k, v)

    def alert(self, text, title=None):
        self.alerts.append((title, text))


class StandInBook:
    """An open workbook as xlwings shows it, loaded from an .xlsx (values only)."""

    def __init__(self, path: Path):
        self.source = Path(path)
        self.name = self.source.name
        self.fullname = str(self.source)
        self.app = StandInApp()
        self.app.book = self
        self.api = _BookApi(self)
        self.sheets = StandInSheets(self)
        wb = load_workbook(path)
        for ws in wb.worksheets:
            s = StandInSheet(self, ws.title)
            self.sheets.append(s)
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        s.grid[(c.row, c.column)] = c.value
            for t in ws.tables.values():
                s.tables.append(StandInTable(s, s.range(t.ref), t.displayName, "TableStyleMedium2"))
            for ch in ws._charts:
                a = ch.anchor._from
                s.charts.add(a.col * COL_PT, a.row * ROW_PT, 100, 100)
        self.sheets.active = self.sheets[0]
        for p in wb.custom_doc_props.props:
            self.api.CustomDocumentProperties.Add(Name=p.name, LinkToContent=False, Type=4,
                                                  Value=p.value)
        self.names = StandInNames()
        for name, dn in wb.defined_names.items():
            self.names.add(name, "=" + dn.attr_text)

    def stored_areas(self):
        return areas_from_names((n.name, n.refers_to) for n in self.names)

    def save(self):
        pass


def empty_book() -> StandInBook:
    book = StandInBook.__new__(StandInBook)
    book.app = StandInApp()
    book.app.book = book
    book.api = _BookApi(book)
    book.sheets = StandInSheets(book)
    book.names = StandInNames()
    return book


# ----------------------------------------------------------------------------- helpers
def _engine_grid(path: Path) -> dict[str, dict]:
    wb = load_workbook(path)
    return {ws.title: {(c.row, c.column): c.value for row in ws.iter_rows() for c in row
                       if c.value is not None}
            for ws in wb.worksheets if ws.title in ENGINE_SHEETS}


def _norm(grid: dict) -> dict:
    """Cells for comparison: floats to 11 significant digits (two refreshes may differ in the
    last bits of a long product), datetimes to the second (Excel keeps milliseconds)."""
    return {k: (float(f"{v:.11g}") if isinstance(v, float) else
                v.replace(microsecond=0) if isinstance(v, dt.datetime) else v)
            for k, v in grid.items()}


def _rgb(openpyxl_color) -> tuple | None:
    v = getattr(openpyxl_color, "rgb", None)
    if not isinstance(v, str) or getattr(openpyxl_color, "type", "rgb") != "rgb":
        return None
    return int(v[-6:-4], 16), int(v[-4:-2], 16), int(v[-2:], 16)


def _cli_look(cell) -> tuple:
    """(bold, italic, size if not the default, font colour, fill, centred+wrapped)."""
    f = cell.font
    fill = _rgb(cell.fill.fgColor) if cell.fill is not None and cell.fill.fill_type == "solid" \
        else None
    size = float(f.sz) if f.sz and float(f.sz) != 11 else None
    al = cell.alignment
    centred = al.horizontal == "center" and al.vertical == "center" and bool(al.wrap_text)
    return bool(f.b), bool(f.i), size, _rgb(f.color), fill, centred


def _button_look(sheet, key) -> tuple:
    f = sheet.fonts.get(key, {})
    al = sheet.aligns.get(key, {})
    centred = al.get("HorizontalAlignment") == -4108 and al.get("VerticalAlignment") == -4108 \
        and sheet.wraps.get(key, False)
    return (bool(f.get("bold")), bool(f.get("italic")), f.get("size"), f.get("color"),
            sheet.fills.get(key), centred)


def _same_formats_but_text(got: dict, cli: dict, cells: dict, name: str) -> None:
    """The button's number formats are the CLI's, except that a text may be held in the
    Text format ``@`` (the CLI's text cells are typed strings, Excel's entered ones are
    not), and must be when Excel would read it as something else on entry."""
    for k, v in cells.items():
        if isinstance(v, str) and got[k] == "@":
            assert cli[k] == "General" and 0 < len(v) <= 255, (name, k, v)
        else:
            assert got[k] == cli[k], (name, k, v, got[k], cli[k])
        if isinstance(v, str) and 0 < len(v) <= 255 and not v.startswith("'"):
            read = _as_excel_reads(v)
            if type(read) is not str or read != v:
                assert got[k] == "@", (name, k, v)


def _title_text(chart) -> str | None:
    t = chart.title
    if t is None or isinstance(t, str):
        return t
    return "".join(r.t for p in t.tx.rich.p for r in (p.r or []))


def _formula(data) -> str | None:
    for attr in ("numRef", "strRef"):
        r = getattr(data, attr, None)
        if r is not None and r.f:
            return r.f
    return None


def _cli_chart(ch) -> tuple:
    """(anchor, width cm, height cm, title, series (name, x, y)) of a chart openpyxl read."""
    a = ch.anchor
    anchor = a1(a._from.row + 1, a._from.col + 1)
    series = []
    for s in ch.series:
        name = s.tx.strRef.f if s.tx.strRef is not None else s.tx.v
        name = "=" + name if s.tx.strRef is not None else name
        series.append((name, _formula(s.xVal), _formula(s.yVal)))
    return (anchor, round(a.ext.width / 360000, 3), round(a.ext.height / 360000, 3),
            _title_text(ch), tuple(series))


def _button_chart(ch: StandInChart) -> tuple:
    com = ch.api[1]
    series = tuple((s.Name, s.XValues[1:], s.Values[1:]) for s in com.series)
    return (ch.anchor, round(ch.width / CM_TO_PT, 3), round(ch.height / CM_TO_PT, 3),
            com.ChartTitle.Text, series)


# ----------------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    xl_writer.USE_COM = True     # take the Windows paths (SaveCopyAs, COM chart series)
    d = tmp_path_factory.mktemp("button")
    src = wf.build(d / "monthly.xlsx")
    cli = d / "cli.xlsx"
    shutil.copy(src, cli)
    result = cli_refresh(cli)
    book = StandInBook(src)
    book.sheets["Settings"].grid[(1, 8)] = "my note, typed in Excel, unsaved"
    code = macros.refresh(book)
    yield src, cli, book, code, result
    xl_writer.USE_COM = xl_writer.sys.platform.startswith("win")


def test_button_writes_what_the_cli_writes(runs):
    """Every engine sheet: the same values, number formats and looks in the same cells, the
    same tables, charts, widths, heights, frozen panes, print areas and stored areas."""
    src, cli, book, code, _ = runs
    assert code == 0, book.app.alerts
    want = _engine_grid(cli)
    assert set(want) == {s.name for s in book.sheets if s.name in ENGINE_SHEETS}
    wb = load_workbook(cli)
    for name, cells in want.items():
        sheet = book.sheets[name]
        assert _norm(sheet.grid) == _norm(cells), name
        ws = wb[name]
        fmts = {k: ws.cell(*k).number_format for k in cells}
        got = {k: sheet.formats.get(k, "General") for k in cells}
        _same_formats_but_text(got, fmts, cells, name)
        # a blank cell carries a format only inside a run of it (a table column's format)
        for (r, c), f in sheet.formats.items():
            if (r, c) not in cells:
                above = max((k for k in cells if k[1] == c and k[0] < r), default=None)
                below = min((k for k in cells if k[1] == c and k[0] > r), default=None)
                assert above and below and got[above] == got[below] == f, (name, r, c, f)
        looks = {k: _cli_look(ws.cell(*k)) for k in cells}
        assert {k: _button_look(sheet, k) for k in cells} == looks, name
        # tables: same names, ranges and styles
        cli_tables = {t.displayName: (t.ref, t.tableStyleInfo.name) for t in ws.tables.values()}
        got = {t.name: (t.range.address.replace("$", ""), t.style) for t in sheet.tables}
        assert got == cli_tables, name
        for t in sheet.tables:
            plain = t.style == "TableStyleLight1"
            assert t.show_autofilter is not plain and t.show_table_style_row_stripes is not plain
        # charts: anchor, size, title and series formulas, chart by chart
        assert sorted(_button_chart(c) for c in sheet.charts) == \
            sorted(_cli_chart(c) for c in ws._charts), name
        # a new sheet: widths, frozen header, landscape; any sheet: header heights, print area
        widths = {j: d.width for k, d in ws.column_dimensions.items()
                  if d.customWidth for j in range(d.min, d.max + 1)}
        assert sheet.widths == widths, name
        heights = {r: d.height for r, d in ws.row_dimensions.items() if d.customHeight}
        assert sheet.heights == heights, name
        frozen = ws.freeze_panes
        assert sheet.frozen == (int(frozen[1:]) if frozen else None), name
        assert sheet.page_setup.print_area == \
            (ws.print_area.split("!")[-1] if ws.print_area else None), name
        assert sheet.api.PageSetup.props == {"Orientation": 2, "Zoom": False,
                                             "FitToPagesWide": 1, "FitToPagesTall": False}
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    charts = book.sheets["Charts"].charts
    assert len(charts) > 10 and all(c.api[0].Placement == 2 for c in charts)
    # engine areas stored where the CLI keeps them: hidden workbook-level names
    cli_names = [(n, d.attr_text) for n, d in wb.defined_names.items()]
    assert cli_names and all(d.hidden for d in wb.defined_names.values())
    assert book.stored_areas() == areas_from_names(cli_names) != {}
    assert [(n.name, n.refers_to[1:]) for n in book.names] == cli_names
    assert all(n.api.Visible is False for n in book.names)
    assert wb.custom_doc_props.props == [] and book.api.CustomDocumentProperties.items == []


def test_button_keeps_user_content_and_reports_progress(runs):
    src, cli, book, *_ = runs
    assert book.sheets["Settings"].grid[(1, 8)] == "my note, typed in Excel, unsaved"
    before = load_workbook(src)
    for ws in before.worksheets:  # every input cell as it was
        got = book.sheets[ws.title].grid
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    assert got[(c.row, c.column)] == c.value, (ws.title, c.coordinate)
    log = [m for m in book.app.status_log if m]
    assert any("building valuation" in m for m in log) and any("writing" in m for m in log)
    assert book.app.screen_updating is True and book.app.calculation == "automatic"
    assert book.sheets.active is book.sheets[0]   # the focus is back where it was


def _placed(lay, starts: str):
    return next(c for c in lay.charts if c.spec.title.startswith(starts) or starts in
                c.spec.title)


def test_sigma_chart_plan_follows_its_spec(runs):
    """The σ chart: the σ series from its feed's cells, red; the ±1.75σ bands as dashed grey
    series from the cells the layout holds them in; the fixed −3…+3 scale; the date axis
    bounded by the feed's first and last date; and the COM calls that draw it."""
    *_, book, _, result = runs
    lay = lay_out(merge_contents(result.contents)["Charts"])
    placed = _placed(lay, "valuation (σ")
    spec = placed.spec
    cp = chart_plan(placed, lay)
    s = spec.series[0]
    col, r1, r2 = lay.cells_of(s.y)
    assert cp.series[0].y == sheet_ref("Charts", col, r1, r2)
    assert cp.series[0].x == sheet_ref("Charts", *lay.cells_of(s.x))
    assert (cp.series[0].name, cp.series[0].name_is_ref) == ("Valuation (σ)", False)
    assert (cp.series[0].color, cp.series[0].dash, cp.series[0].line) == ("C00000", "solid", True)
    bands = cp.series[1:]
    assert [b.name for b in bands] == ["-1.75", "+1.75"] and all(b.band for b in bands)
    assert all((b.color, b.dash, b.width, b.marker) == ("808080", "sysDash", 0.75, "none")
               for b in bands)
    dates = [v for v in lay.values_of(s.x) if v is not None]
    for b, (xref, yref, level) in zip(bands, placed.bands):
        assert b.x == sheet_ref("Charts", *lay.cells_of(xref))
        assert b.y == sheet_ref("Charts", *lay.cells_of(yref))
        assert lay.values_of(yref) == [level, level]
        assert lay.values_of(xref) == [min(dates), max(dates)]
    assert (cp.y_axis.minimum, cp.y_axis.maximum, cp.y_axis.major_unit) == (-3, 3, 1)
    assert (cp.x_axis.minimum, cp.x_axis.maximum) == \
        (excel_serial(min(dates), False), excel_serial(max(dates), False))
    assert cp.x_axis.major_unit % 365.25 == 0 and cp.x_axis.number_format == "yyyy"
    assert not cp.x_axis.gridlines and cp.legend is None
    assert cp.chart_type == "xy_scatter_lines_no_markers"
    assert (cp.anchor, cp.width_cm, cp.height_cm, cp.title_size) == \
        (a1(placed.row, placed.col), 18.0, 5.5, 9.0)
    # drawn through COM: series, dashes, colours, the scale
    ch = next(c for c in book.sheets["Charts"].charts if c.anchor == cp.anchor)
    com = ch.api[1]
    assert com.ChartType == 75 and com.HasLegend is False
    assert [(x.Name, x.XValues, x.Values) for x in com.series] == \
        [(p.name, "=" + p.x, "=" + p.y) for p in cp.series]
    line = [{**x.get("Format", "Line").props, **x.get("Format", "Line", "ForeColor").props}
            for x in com.series]
    assert line[0] == {"Visible": -1, "RGB": 0x0000C0, "DashStyle": 1, "Weight": 1.25}
    assert line[1] == line[2] == {"Visible": -1, "RGB": 0x808080, "DashStyle": 10,
                                  "Weight": 0.75}
    y = com.get(("Axes", (2,))).props
    assert (y["MinimumScale"], y["MaximumScale"], y["MajorUnit"]) == (-3, 3, 1)
    assert y["Crosses"] == 4 and y["HasTitle"] is True
    x = com.get(("Axes", (1,)))
    assert x.props["MinimumScale"] == cp.x_axis.minimum and x.props["HasMajorGridlines"] is False
    assert x.get("TickLabels").props["NumberFormat"] == "yyyy"
    assert com.get("ChartTitle").props == {"Text": spec.title}
    assert com.get("ChartTitle", "Font").props == {"Size": 9.0, "Bold": True}
    # the frame as chart_xml draws it: hairline grey axes, ticks outside, the y title
    # upward, a white chart area with a light border
    for k in (1, 2):
        ax = com.get(("Axes", (k,)))
        assert {**ax.get("Format", "Line").props, **ax.get("Format", "Line", "ForeColor")
                .props} == {"Weight": 0.5, "RGB": 0x7F7F7F}
        assert (ax.props["MajorTickMark"], ax.props["MinorTickMark"]) == (3, -4142)
    assert com.get(("Axes", (2,)), "AxisTitle").props["Orientation"] == -4171
    area = com.get("ChartArea", "Format")
    assert area.get("Fill", "ForeColor").props == {"RGB": 0xFFFFFF}
    assert area.get("Line").props == {"Weight": 0.5}
    assert area.get("Line", "ForeColor").props == {"RGB": 0xD9D9D9}


def test_model_signals_plan_labels_the_last_trade(runs):
    """Model Signals: the steps in navy, no markers; the latest trade one red circle named by
    the cell that holds its label, the label shown above the point."""
    *_, book, _, result = runs
    lay = lay_out(merge_contents(result.contents)["Charts"])
    placed = _placed(lay, "Model Signals")
    cp = chart_plan(placed, lay)
    steps, last = cp.series
    assert (steps.name, steps.color, steps.marker, steps.label) == \
        ("Signal", "1F3864", "none", None)
    ref = placed.spec.series[1].name
    assert isinstance(ref, Ref)
    assert (last.name, last.name_is_ref) == (sheet_ref("Charts", *lay.cells_of(ref)), True)
    assert last.name_formula == "=" + last.name
    label = lay.values_of(ref)[0]
    assert isinstance(label, str) and label
    assert (last.color, last.marker, last.marker_size, last.label) == \
        ("C00000", "circle", 7, "top")
    assert last.x == sheet_ref("Charts", *lay.cells_of(placed.spec.series[1].x))
    assert cp.chart_type == "xy_scatter_lines"
    assert (cp.y_axis.minimum, cp.y_axis.maximum, cp.y_axis.major_unit) == (-2, 2, 1)
    assert cp.y_axis.title == "Position" and cp.x_axis.title == ""
    ch = next(c for c in book.sheets["Charts"].charts if c.anchor == cp.anchor)
    com = ch.api[1]
    assert com.series[1].Name == last.name_formula
    assert com.series[0].MarkerStyle == -4142 and com.series[1].MarkerStyle == 8
    assert com.series[1].MarkerBackgroundColor == 0x0000C0 and com.series[1].MarkerSize == 7
    labels = com.series[1].get(("DataLabels", ()))
    assert labels.props == {"ShowSeriesName": True, "ShowValue": False,
                            "ShowCategoryName": False, "Position": 0}
    assert com.series[1].HasDataLabels is True and "HasDataLabels" not in com.series[0].props
    # the label cell the name points at holds the trade, as the CLI writes it
    col, r, _ = lay.cells_of(ref)
    assert book.sheets["Charts"].grid[(r, col)] == label


def test_scatter_chart_draws_points_only(runs):
    """A scatter ChartSpec (one labelled point per index): no line through COM, as the
    CLI's chart part has none; markers in the series' colours."""
    *_, book, _, result = runs
    lay = lay_out(merge_contents(result.contents)["Charts"])
    scatter = [c for c in lay.charts if c.spec.kind == "scatter"]
    assert scatter
    cp = chart_plan(scatter[0], lay)
    assert cp.chart_type == "xy_scatter"
    ch = next(c for c in book.sheets["Charts"].charts if c.anchor == cp.anchor)
    com = ch.api[1]
    assert com.ChartType == -4169 and len(com.series) == len(cp.series)
    for x, p in zip(com.series, cp.series):
        if p.band:
            continue
        assert x.get("Format", "Line").props == {"Visible": 0}
        assert x.MarkerStyle == xl_writer.XL_MARKER[p.marker]


def test_chart_with_legend_and_bands_hides_the_bands_from_the_legend():
    import pandas as pd
    from engine.tables.base import SheetContent, Table
    from engine.tables.charts import Axis, ChartSpec, Series
    df = pd.DataFrame({"Date": pd.date_range("2001-01-31", periods=30, freq="ME"),
                       "A": range(30), "B": range(30)})
    spec = ChartSpec("Two", (Series("A", Ref("F", "Date"), Ref("F", "A")),
                             Series("B", Ref("F", "Date"), Ref("F", "B"), dash="dash")),
                     Axis("", "yyyy", dates=True), Axis("Level"), bands=(5.0,), legend="right")
    lay = lay_out(SheetContent("Charts", intro=["t"], charts=[spec], data_tables=[Table("F", df)]))
    cp = chart_plan(lay.charts[0], lay)
    assert [s.color for s in cp.series] == ["1F3864", "C0504D", "808080"]   # the palette
    book = empty_book()
    sheet = book.sheets.add("Charts")
    assert xl_writer.add_chart(sheet, cp, com=True) == {}
    com = sheet.charts[0].api[1]
    assert com.Legend.props["Position"] == -4152
    assert com.get("Legend", ("LegendEntries", (3,))).deleted
    assert ("LegendEntries", (1,)) not in com.get("Legend").kids
    assert com.series[1].get("Format", "Line").props["DashStyle"] == 4
    assert com.get(("Axes", (2,)), "AxisTitle").props == {"Text": "Level", "Orientation": -4171}


def test_second_press_replaces_engine_areas_only(runs, tmp_path):
    """Refreshing an already refreshed workbook: old tables and charts go, nothing doubles,
    a note beside an engine table survives, the widths the sheet has stay."""
    _, cli, *_ = runs
    assert xl_writer.USE_COM
    book = StandInBook(cli)
    sig = book.sheets["Signals"]
    far = (2, 60)
    sig.grid[far] = "user note beside the engine table"
    n_charts = len(book.sheets["Charts"].charts)
    assert macros.refresh(book) in (0, 1), book.app.alerts
    assert sig.grid[far] == "user note beside the engine table"
    assert len(book.sheets["Charts"].charts) == n_charts
    assert all(c.api[1].series for c in book.sheets["Charts"].charts)  # all redrawn
    names = [t.name for s in book.sheets for t in s.tables]
    assert len(names) == len(set(names))
    assert _norm(book.sheets["Stock Forecasts"].grid) == \
        _norm(_engine_grid(cli)["Stock Forecasts"])
    assert all(not s.widths for s in book.sheets)   # the CLI's widths are the sheets' now
    assert all(s.frozen is None for s in book.sheets)  # existing sheets keep their view


def test_button_reports_a_typed_cell_it_replaces(runs, tmp_path):
    """A user's cell where a new engine area now goes is replaced, and the button says so
    (the CLI warns alike)."""
    _, cli, _, _, result = runs
    from openpyxl.packaging.custom import CustomPropertyList, StringProperty
    path = tmp_path / "typed.xlsx"
    shutil.copy(cli, path)
    wb = load_workbook(path)
    old = areas_from_names((n, d.attr_text) for n, d in wb.defined_names.items())
    for n in list(wb.defined_names):  # the previous version's store: properties
        del wb.defined_names[n]
    # shrink the stored area of the Signals table so that its last column looks new
    k, table = max(enumerate(old["Signals"]), key=lambda t: (lambda b: (b[2] - b[0] + 1) *
                                                            (b[3] - b[1] + 1))(ranges_box(t[1])))
    c1, r1, c2, r2 = ranges_box(table)
    wb["Signals"].cell(r1 + 1, c2).value = "typed"
    old["Signals"][k] = a1(r1, c1, r2, c2 - 1)
    wb.custom_doc_props = CustomPropertyList()
    for n, v in area_properties(old):
        wb.custom_doc_props.append(StringProperty(name=n, value=v))
    wb.save(path)
    plan = xl_writer.plan_from_copy(path, result.contents)
    assert any(w.startswith(f"Signals!{a1(r1 + 1, c2)}: a cell you typed") for w in plan.warnings)


def test_invalid_inputs_write_nothing_and_alert(tmp_path):
    src = wf.build(tmp_path / "bad.xlsx")
    wb = load_workbook(src)
    wb["Prices"]["A1"] = "When"          # column A must be headed "Date"
    wb.save(src)
    book = StandInBook(src)
    before = {s.name: dict(s.grid) for s in book.sheets}
    assert macros.refresh(book) == 2
    assert {s.name: s.grid for s in book.sheets} == before
    assert book.app.alerts and "Date" in book.app.alerts[0][1]


def test_stored_areas_are_the_cli_names():
    """Stored as the CLI stores them; a stale engine name and the previous version's
    property go, the user's name and property stay."""
    areas = {"Signals": ["A1:C9", "A1:C9", "E1"], "Charts": ["A" + str(i) for i in range(200)]}
    book = empty_book()
    book.names.add(AREA_PREFIX + "007", '="stale"')
    book.names.add("MyRange", "=Prices!$A$1:$A$9")
    book.api.CustomDocumentProperties.Add(Name=AREA_PREFIX + "000", LinkToContent=False,
                                          Type=4, Value="old")
    book.api.CustomDocumentProperties.Add(Name="Client", LinkToContent=False, Type=4, Value="X")
    xl_writer.store_areas(book, areas, com=True)
    assert [(n.name, n.refers_to) for n in book.names] == \
        [("MyRange", "=Prices!$A$1:$A$9")] + [(n, "=" + f) for n, f in area_names(areas)]
    assert len(book.names) > 3           # 200 areas do not fit one 240-character text
    assert [n.api.Visible for n in book.names] == [True] + [False] * (len(book.names) - 1)
    assert [(p.Name, p.Value) for p in book.api.CustomDocumentProperties.items] == \
        [("Client", "X")]
    assert book.stored_areas() == {"Signals": ["A1:C9", "E1"], "Charts": areas["Charts"]}
    # without COM (macOS): the names alone, visible
    mac = empty_book()
    xl_writer.store_areas(mac, areas, com=False)
    assert mac.stored_areas() == book.stored_areas()


def test_texts_excel_would_parse_are_held_as_text():
    """A text Excel would read as another type gets the Text format and is entered as it
    is; long, empty and apostrophe texts get the apostrophe prefix; plain texts neither."""
    for text in ["=1+1", "+5", "-0.5", "1/2", "5%", "2021", "TRUE", "#N/A", "1 Mo",
                 "+0.59%", "15", "2023Q1"]:
        assert xl_writer.text_entry(text) == (text, "@")
    for text in ["'quoted", "", "1" + "x" * 300]:
        v, fmt = xl_writer.text_entry(text)
        assert v == "'" + text and fmt is None and _as_excel_reads(v) == text
    for text in ["Long", "Code", "CL&S", "EUR/USD", "Price (σ)", "x" * 300]:
        assert xl_writer.text_entry(text) == (text, None) and excel_value(text) == text
    assert excel_value(dt.date(2020, 1, 31)) == dt.datetime(2020, 1, 31)
    assert len(excel_value("x" * 40000)) == 32767


def _content_with_parsable_texts():
    import pandas as pd
    from engine.tables.base import SheetContent, Table
    df = pd.DataFrame({"Code": ["SPX", "TY"], "Label": ["+0.59%", "-0.09"],
                       "Update": ["15", "20"], "Period": ["2021", "2023Q1"],
                       "Value": [0.0059, 1.5], "Note": ["n/a", None]})
    return SheetContent("Data Status", intro=["Data status as of 2021-12-31"],
                        blocks=[Table("Status", df, formats={"Value": "0.00%"})])


def test_parsable_texts_stay_texts_through_excel():
    """'+0.59%', '15', '20', year and period headers: the Text format is set before the
    value is entered (the stand-in parses an entry as Excel does unless its cell is Text),
    so the button's cells are the CLI's texts."""
    lay = lay_out(_content_with_parsable_texts())
    plan = xl_writer.Plan({}, {}, [xl_writer.sheet_plan(lay, True)])
    book = empty_book()
    book.sheets.add("Notes")
    xl_writer.apply_plan(book, plan, com=True)
    sheet = book.sheets["Data Status"]
    for (r, c), cell in lay.cells.items():
        got = sheet.grid.get((r, c))
        if isinstance(cell.value, str) and cell.value:
            assert type(got) is str and got == cell.value, (r, c, got)
    texts = {v: k for k, v in sheet.grid.items() if isinstance(v, str)}
    for t in ("+0.59%", "-0.09", "15", "20", "2021", "2023Q1"):
        assert sheet.formats[texts[t]] == "@"
    assert sheet.formats.get(texts["SPX"], "General") == "General"   # nothing to protect


class _Recorder:
    """Wraps the stand-in's Range setters to log (property, address) in call order."""

    def __init__(self, monkeypatch):
        self.log = []
        for prop in ("value", "number_format"):
            p = getattr(StandInRange, prop)

            def setter(rng, v, p=p, prop=prop):
                self.log.append((prop, rng.address, v))
                p.fset(rng, v)
            monkeypatch.setattr(StandInRange, prop, property(p.fget, setter))


def test_number_formats_go_by_rectangles(runs, monkeypatch):
    """One Range.number_format call per rectangle of one format (a table column, several
    columns of one format, a stack of notes): counted on the whole refresh with a
    recording stand-in, against the cell runs per block column of the previous writer."""
    src, _, _, _, result = runs
    plan = xl_writer.plan_from_copy(src, result.contents)
    book = StandInBook(src)
    rec = _Recorder(monkeypatch)
    xl_writer.apply_plan(book, plan, com=True)
    calls = [e for e in rec.log if e[0] == "number_format"]
    by_block_column = sum(len(xl_writer._runs([row[j] for row in b.formats]))
                          for sp in plan.sheets for b in sp.blocks
                          for j in range(len(b.formats[0])))
    rects = sum(len(xl_writer.format_ranges(xl_writer.sheet_formats(sp.blocks),
                                            lambda f: True)) for sp in plan.sheets)
    assert len(calls) == rects
    assert len(calls) < by_block_column * 0.6, (len(calls), by_block_column)
    assert any(ranges_box(a.replace("$", ""))[2] > ranges_box(a.replace("$", ""))[0]
               for _, a, _ in calls)                       # several columns in one call
    # every Text format is set before the first value of its sheet is written
    first_value = next(i for i, e in enumerate(rec.log) if e[0] == "value")
    assert rec.log[0][0] == "number_format" and rec.log[0][2] == "@" and first_value > 0


def test_format_ranges_cover_exactly():
    f = {(1, 1): "@", (2, 1): "0.0%", (3, 1): "", (4, 1): "0.0%", (5, 1): "",
         (1, 2): "@", (2, 2): "0.0%", (3, 2): "", (4, 2): "0.0%", (5, 2): "",
         (2, 3): "0.0%", (3, 3): "0.00", (4, 3): "0.0%", (9, 3): "0.0%"}
    got = xl_writer.format_ranges(f, lambda x: x != "@")
    assert got == [("A2:B4", "0.0%"), ("C2:C2", "0.0%"),
                   ("C3:C3", "0.00"), ("C4:C4", "0.0%"), ("C9:C9", "0.0%")]
    assert xl_writer.format_ranges(f, lambda x: x == "@") == [("A1:B1", "@")]


def test_button_turns_events_off_and_restores_the_settings(runs, monkeypatch):
    """xlwings' App.properties: screen updating, manual calculation and events off while
    writing, each put back afterwards, also when the write fails."""
    src, *_ = runs
    book = StandInBook(src)
    seen = []
    real = xl_writer.apply_plan

    def spy(b, plan, progress):
        app = b.app
        seen.append((app.screen_updating, app.calculation, app.enable_events))
        return real(b, plan, progress)
    monkeypatch.setattr(xl_writer, "apply_plan", spy)
    assert macros.refresh(book) in (0, 1)
    assert seen == [(False, "manual", False)]
    app = book.app
    assert (app.screen_updating, app.calculation, app.enable_events) == (True, "automatic", True)

    def broken(b, plan, progress):
        raise RuntimeError("Excel went away")
    monkeypatch.setattr(xl_writer, "apply_plan", broken)
    book = StandInBook(src)
    assert macros.refresh(book) == 2 and "Excel went away" in book.app.alerts[0][1]
    app = book.app
    assert (app.screen_updating, app.calculation, app.enable_events) == (True, "automatic", True)
    assert ("enable_events", False) in app.settings_log


def test_chart_without_com_draws_the_first_series_and_says_what_it_left_out(runs):
    """macOS: no COM. Each chart from its first series (y by set_source_data, x by
    set_x_axis_values) with its title; one warning per sheet lists what was not drawn."""
    src, cli, _, _, result = runs
    book = StandInBook(src)
    plan = xl_writer.plan_from_copy(src, result.contents)
    warnings = xl_writer.apply_plan(book, plan, com=False)
    charts = book.sheets["Charts"].charts
    cp = {c.anchor: c for sp in plan.sheets if sp.name == "Charts" for c in sp.charts}
    assert len(charts) == len(cp)
    for ch in charts:
        first = cp[ch.anchor].series[0]
        assert ranges_box(ch.source.address) == ranges_box(first.y.split("!")[1])
        assert ranges_box(ch.x_values.address) == ranges_box(first.x.split("!")[1])
        assert ch.title == cp[ch.anchor].title and ch.chart_type == cp[ch.anchor].chart_type
        assert ch.api[1].series == []          # nothing through COM
    msg = next(w for w in warnings if w.startswith("Charts: "))
    assert "first series only" in msg and "band lines" in msg and "more series" in msg
    assert any(w.startswith("new sheets without a frozen header row") for w in warnings)
    # the cells are the same as through COM
    assert _norm(book.sheets["Signals"].grid) == _norm(_engine_grid(cli)["Signals"])


def test_chart_without_com_single_series():
    book = empty_book()
    sheet = book.sheets.add("Charts")
    axis = xl_writer.AxisPlan("", "General", None, None, None, True)
    cp = ChartPlan("C10", 16.0, 7.5, "Gold", 10.0, "line",
                   [xl_writer.SeriesPlan("Gold", False, "'Charts'!$A$2:$A$9",
                                         "'Charts'!$B$2:$B$9", "1F3864", True)], axis, axis)
    missing = xl_writer.add_chart(sheet, cp, com=False)
    ch = sheet.charts[0]
    assert (ch.left, ch.top) == (2 * COL_PT, 9 * ROW_PT)
    assert ch.width == pytest.approx(16.0 / 2.54 * 72)
    assert ch.chart_type == "xy_scatter_lines_no_markers"
    assert ch.source.address == "$B$2:$B$9" and ch.x_values.address == "$A$2:$A$9"
    assert missing == {"more series": 0, "band lines": 0, "x values": 0, "title": 0,
                       "styling": 1}
