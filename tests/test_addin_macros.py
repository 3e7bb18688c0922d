"""The Refresh button's layout logic (addin/macros.py, addin/xl_writer.py), on Linux.

STAND-IN WARNING: Excel is not available here. ``StandInBook`` below is a small in-memory
imitation of the part of the xlwings object model the button uses (Book, Sheets, Sheet,
Range.value/clear/number_format/font/color/left/top, Tables.add, Charts.add, the COM calls
for chart series and document properties). It tests *layout logic only*: which cells, tables,
charts and stored areas the button writes, compared with what ``gamma refresh`` writes. It
does not prove that Excel accepts those calls; the button itself is verified only on
Windows/macOS (see README "Use it from Excel").
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

import workbook_factory as wf
from addin import macros, xl_writer
from addin.xl_writer import AREA_PREFIX, area_chunks, bounds
from engine.refresh import refresh as cli_refresh
from engine.tables.base import ENGINE_SHEETS
from engine.workbook.areas import read_areas

COL_PT, ROW_PT = 48.0, 15.0   # default column width and row height, points


# ----------------------------------------------------------------------------- stand-in
class _Font:
    def __init__(self, rng):
        self._rng = rng

    def __setattr__(self, k, v):
        if k.startswith("_"):
            return object.__setattr__(self, k, v)
        for cell in self._rng.cells():
            self._rng.sheet.fonts.setdefault(cell, {})[k] = v


class StandInRange:
    def __init__(self, sheet, ref: str):
        self.sheet = sheet
        if ":" in ref and ref.split(":")[0].isalpha():          # whole columns "B:B"
            ref = f"{ref.split(':')[0]}1:{ref.split(':')[1]}1"
        self.c1, self.r1, self.c2, self.r2 = bounds(ref)

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
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                key = (self.r1 + i, self.c1 + j)
                if x is None or x == "":   # Excel stores an empty string as an empty cell
                    self.sheet.grid.pop(key, None)
                else:
                    self.sheet.grid[key] = x

    def clear(self):
        for key in self.cells():
            self.sheet.grid.pop(key, None)
            self.sheet.formats.pop(key, None)
            self.sheet.fonts.pop(key, None)
            self.sheet.fills.pop(key, None)

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
        for key in self.cells():
            self.sheet.fills[key] = rgb

    left = property(lambda self: (self.c1 - 1) * COL_PT)
    top = property(lambda self: (self.r1 - 1) * ROW_PT)
    width = property(lambda self: (self.c2 - self.c1 + 1) * COL_PT)
    height = property(lambda self: (self.r2 - self.r1 + 1) * ROW_PT)

    @property
    def column_width(self):
        return self.sheet.widths.get(self.c1)

    @column_width.setter
    def column_width(self, w):
        self.sheet.widths[self.c1] = w


class _ListObjectApi:
    def __init__(self, table):
        self._t = table

    def Unlist(self):
        self._t.sheet.tables.remove(self._t)


class StandInTable:
    def __init__(self, sheet, rng, name, style):
        self.sheet, self.range, self.name, self.style = sheet, rng, name, style
        self.api = _ListObjectApi(self)


class StandInTables(list):
    def __init__(self, sheet):
        super().__init__()
        self.sheet = sheet

    def add(self, source=None, name=None, table_style_name="TableStyleMedium2", **_):
        used = {t.name.casefold() for s in self.sheet.book.sheets for t in s.tables}
        if name.casefold() in used:
            raise ValueError(f"table name {name} already used")
        t = StandInTable(self.sheet, source, name, table_style_name)
        self.append(t)
        return t


class _SeriesCom:
    def __init__(self):
        self.Values = self.XValues = self.Name = None
        self.HasDataLabels = False
        self._labels = type("L", (), {"ShowSeriesName": False, "ShowValue": True})()

    def DataLabels(self):
        return self._labels

    def Delete(self):
        pass


class _SeriesCollection(list):
    def NewSeries(self):
        s = _SeriesCom()
        self.append(s)
        return s


class _ChartCom:
    def __init__(self):
        self.series = _SeriesCollection()
        self.HasTitle = False
        self.ChartTitle = type("T", (), {"Text": None})()

    def SeriesCollection(self):
        return self.series


class StandInChart:
    def __init__(self, charts, left, top, width, height):
        self._charts = charts
        self.left, self.top, self.width, self.height = left, top, width, height
        self.chart_type = None
        self.api = (object(), _ChartCom())

    def delete(self):
        self._charts.remove(self)


    def set_source_data(self, rng):
        self.source = rng


class StandInCharts(list):
    def add(self, left=0, top=0, width=355, height=211):
        ch = StandInChart(self, left, top, width, height)
        self.append(ch)
        return ch


class StandInSheet:
    def __init__(self, book, name):
        self.book, self.name = book, name
        self.grid, self.formats, self.fonts, self.fills, self.widths = {}, {}, {}, {}, {}
        self.tables = StandInTables(self)
        self.charts = StandInCharts()

    def range(self, ref):
        return StandInRange(self, ref)


class StandInSheets(list):
    def __init__(self, book):
        super().__init__()
        self.book = book

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


class _BookApi:
    def __init__(self, book):
        self._book = book
        self.CustomDocumentProperties = _Props()

    def SaveCopyAs(self, path):
        # Excel would save the open state; the stand-in's state came from this file
        shutil.copyfile(self._book.source, path)


class StandInApp:
    def __init__(self):
        self.status_bar, self.screen_updating, self.calculation = None, True, "automatic"
        self.status_log, self.alerts = [], []

    def __setattr__(self, k, v):
        if k == "status_bar" and isinstance(getattr(self, "status_log", None), list):
            self.status_log.append(v)
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
        for p in wb.custom_doc_props.props:
            self.api.CustomDocumentProperties.Add(Name=p.name, LinkToContent=False, Type=4,
                                                  Value=p.value)

    def stored_areas(self):
        import json
        parts = sorted((p.Name, p.Value) for p in self.api.CustomDocumentProperties.items
                       if p.Name.startswith(AREA_PREFIX))
        return json.loads("".join(v for _, v in parts)) if parts else {}

    def save(self):
        pass


# ----------------------------------------------------------------------------- tests
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


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    xl_writer.USE_COM = True     # take the Windows paths (SaveCopyAs, COM chart series)
    d = tmp_path_factory.mktemp("button")
    src = wf.build(d / "monthly.xlsx")
    cli = d / "cli.xlsx"
    shutil.copy(src, cli)
    cli_refresh(cli)
    book = StandInBook(src)
    book.sheets["Settings"].grid[(1, 8)] = "my note, typed in Excel, unsaved"
    code = macros.refresh(book)
    yield src, cli, book, code
    xl_writer.USE_COM = xl_writer.sys.platform.startswith("win")


def test_button_writes_what_the_cli_writes(runs):
    src, cli, book, code = runs
    assert code == 0, book.app.alerts
    want = _engine_grid(cli)
    assert set(want) == {s.name for s in book.sheets if s.name in ENGINE_SHEETS}
    for name, cells in want.items():
        got = book.sheets[name].grid
        assert _norm(got) == _norm(cells), name
    # tables: same names and ranges as the openpyxl path
    wb = load_workbook(cli)
    for name in want:
        cli_tables = {t.displayName: t.ref for t in wb[name].tables.values()}
        got = {t.name: t.range.address.replace("$", "") for t in book.sheets[name].tables}
        assert got == cli_tables, name
    # charts: as many as the CLI wrote, each with its series set through the COM formulas
    assert len(book.sheets["Charts"].charts) == len(wb["Charts"]._charts) > 0
    for ch in book.sheets["Charts"].charts:
        com = ch.api[1]
        assert com.series and all(s.Values.startswith("=") for s in com.series)
    # same series formulas as the openpyxl charts, chart by chart
    from addin.xl_writer import chart_plan
    want_series = sorted(tuple(chart_plan(c).series) for c in wb["Charts"]._charts)
    got_series = sorted(tuple((s.Name and s.Name[1:], s.XValues and s.XValues[1:],
                               s.Values[1:]) for s in ch.api[1].series)
                        for ch in book.sheets["Charts"].charts)
    assert got_series == want_series
    # engine areas stored where the CLI keeps them
    assert book.stored_areas() == read_areas(wb)


def test_button_keeps_user_content_and_reports_progress(runs):
    src, cli, book, _ = runs
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


def test_second_press_replaces_engine_areas_only(runs, tmp_path):
    """Refreshing an already refreshed workbook: old tables and charts go, nothing doubles,
    a note beside an engine table survives."""
    _, cli, _, _ = runs
    assert xl_writer.USE_COM
    book = StandInBook(cli)
    sig = book.sheets["Signals"]
    far = (2, 60)
    sig.grid[far] = "user note beside the engine table"
    n_charts = len(book.sheets["Charts"].charts)
    assert macros.refresh(book) in (0, 1), book.app.alerts
    assert sig.grid[far] == "user note beside the engine table"
    assert len(book.sheets["Charts"].charts) == n_charts
    names = [t.name for s in book.sheets for t in s.tables]
    assert len(names) == len(set(names))
    assert _norm(book.sheets["Stock Forecasts"].grid) == \
        _norm(_engine_grid(cli)["Stock Forecasts"])


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


def test_area_chunks_match_the_cli_format():
    from openpyxl import Workbook
    from engine.workbook.areas import write_areas
    areas = {"Signals": ["A1:C9", "A1:C9", "E1"], "Charts": ["A" + str(i) for i in range(200)]}
    wb = Workbook()
    write_areas(wb, areas)
    assert [(p.name, p.value) for p in wb.custom_doc_props.props] == area_chunks(areas)


def test_chart_without_com_uses_the_first_series_range():
    from addin.xl_writer import ChartPlan, add_chart
    book = StandInBook.__new__(StandInBook)
    book.sheets = StandInSheets(book)
    sheet = book.sheets.add("Charts")
    cp = ChartPlan("C10", 16.0, 7.5, "line", "Gold", [("'Charts'!$B$1", "'Charts'!$A$2:$A$9",
                                                        "'Charts'!$B$2:$B$9")])
    add_chart(sheet, cp, com=False)
    ch = sheet.charts[0]
    assert (ch.left, ch.top) == (2 * COL_PT, 9 * ROW_PT)
    assert ch.width == pytest.approx(16.0 / 2.54 * 72) and ch.chart_type == "line"
    assert ch.source.address == "$B$2:$B$9"
