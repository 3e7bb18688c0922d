"""Where each part of a :class:`~engine.tables.base.SheetContent` goes on its engine sheet.

A pure function of the content: :func:`lay_out` returns a :class:`SheetLayout` — every cell
with its value and style role, the Excel tables with their ranges, the charts with their
boxes, column widths, row heights, the frozen header and the engine's areas — which the
package writer (:mod:`engine.workbook.sheet_xml`) and the Excel button
(:mod:`addin.xl_writer`) both render, so a refresh from the command line and from Excel lay
the sheet out identically.

Top-down: the intro lines (the first as a title), a blank row, then each block in order — a
table is its bold title, the header and data rows, its note lines and a blank row; a chart
takes a box of rows (two charts of the same ``group`` share a row band) — and the chart-feed
``data_tables`` to the right of everything.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from engine.tables.base import DATE, ENGINE_SHEETS, SheetContent, Table
from engine.tables.charts import ChartSpec, Ref
from engine.xlsx.cells import col_letter

__all__ = ["Role", "Cell", "PlacedTable", "PlacedChart", "SheetLayout", "lay_out",
           "name_tables", "merge_contents", "col_letter", "a1", "ranges_box", "cell_value",
           "unique_name"]

Role = Literal["body", "header", "title", "note", "intro"]
CM_PER_ROW = 0.53          # default row height 15 pt
CM_PER_COL = 1.9           # default column width 8.43 characters (64 px)
CHART_COLS = 9             # columns one chart spans; two charts side by side
MAX_WIDTH = 48.0
HEADER_HEIGHT = 30.0       # points: room for a header wrapped on two lines


class Cell(NamedTuple):
    """One engine cell: a value (number, text, bool or datetime) in a style ``role`` with
    an Excel number format (``None``: General; text cells never carry one)."""

    value: Any
    role: Role = "body"
    number_format: str | None = None


@dataclass
class PlacedTable:
    """An Excel table on the sheet: ``name`` unique in the workbook, header row ``row``,
    first column ``col`` (1-based), its column names and data rows (at least one row is
    reserved: Excel tables cannot be empty)."""

    name: str
    row: int
    col: int
    columns: list[str]
    nrows: int
    styled: bool
    source: Table

    @property
    def ref(self) -> str:
        return a1(self.row, self.col, self.row + max(self.nrows, 1),
                  self.col + max(len(self.columns), 1) - 1)


@dataclass
class PlacedChart:
    """A chart whose top-left corner is cell (``row``, ``col``), ``rows`` x ``cols`` cells.
    ``bands``: for each of the spec's bands, (x cells, y cells, level) in a two-row table
    the layout adds beside the chart feeds (first and last x; the level twice), so that
    every reader draws them from cells."""

    spec: ChartSpec
    row: int
    col: int
    rows: int
    cols: int
    bands: list[tuple[Ref, Ref, float]] = field(default_factory=list)


@dataclass
class SheetLayout:
    """Everything the engine puts on one sheet (see the module docstring)."""

    sheet: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    tables: list[PlacedTable] = field(default_factory=list)
    charts: list[PlacedChart] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)       # column -> characters
    heights: dict[int, float] = field(default_factory=dict)      # row -> points
    freeze_row: int | None = None                                # first row below the pane
    print_area: str | None = None   # what printing shows: the blocks, not the chart feeds
    areas: list[str] = field(default_factory=list)
    by_name: dict[str, PlacedTable] = field(default_factory=dict)  # content's table name

    def cells_of(self, ref: Ref) -> tuple[int, int, int]:
        """(column, first row, last row) of the data cells a chart :class:`Ref` means."""
        try:
            t = self.by_name[ref.table]
            j = t.col + t.columns.index(ref.column)
        except (KeyError, ValueError):
            raise ValueError(f"{self.sheet}: a chart refers to {ref.table}[{ref.column}], "
                             "which is not a table column of the sheet") from None
        if ref.row is not None:
            if not 0 <= ref.row < max(t.nrows, 1):
                raise ValueError(f"{self.sheet}: a chart refers to row {ref.row} of "
                                 f"{ref.table}, which has {t.nrows} rows")
            return j, t.row + 1 + ref.row, t.row + 1 + ref.row
        return j, t.row + 1, t.row + max(t.nrows, 1)

    def values_of(self, ref: Ref) -> list[Any]:
        """The values of those cells (``None`` for blanks), as written."""
        col, r1, r2 = self.cells_of(ref)
        cells = self.cells
        out = []
        for r in range(r1, r2 + 1):
            c = cells.get((r, col))
            out.append(None if c is None else c[0])
        return out

    @property
    def extent(self) -> tuple[int, int]:
        """(last row, last column) the layout uses (1, 1 when empty)."""
        rows = [r for r, _ in self.cells] + [t.row + max(t.nrows, 1) for t in self.tables] + \
            [c.row + c.rows - 1 for c in self.charts]
        cols = [c for _, c in self.cells] + [t.col + len(t.columns) - 1 for t in self.tables]
        return max(rows, default=1), max(cols, default=1)


def merge_contents(contents: list[SheetContent]) -> dict[str, SheetContent]:
    """Contents of the same sheet from several builders, concatenated in builder order,
    in :data:`~engine.tables.base.ENGINE_SHEETS` order."""
    out: dict[str, SheetContent] = {}
    for c in contents:
        if c.sheet not in ENGINE_SHEETS:
            raise ValueError(f'builder wrote sheet "{c.sheet}", which is not an engine sheet')
        m = out.setdefault(c.sheet, SheetContent(c.sheet))
        m.intro += c.intro
        m.blocks += c.blocks
        m.data_tables += c.data_tables
    return {s: out[s] for s in ENGINE_SHEETS if s in out}


def lay_out(content: SheetContent) -> SheetLayout:
    """The layout of ``content``. Its tables are named after the content's tables; make
    them unique in the workbook with :func:`name_tables` before writing."""
    lay = SheetLayout(content.sheet)
    row = 1
    for i, line in enumerate(content.intro):
        lay.cells[(row, 1)] = Cell(line, "title" if i == 0 else "intro")
        lay.areas.append(a1(row, 1))
        row += 1
    if content.intro:
        row += 1
    width = 1
    chart_cols = 0
    blocks = content.blocks
    k = 0
    while k < len(blocks):
        b = blocks[k]
        if isinstance(b, Table):
            placed, row = _place_table(lay, b, row, 1, styled=True)
            width = max(width, len(placed.columns))
            row += 1
            k += 1
            continue
        band = [b]  # charts of one group share a row band, two at most
        while (b.group is not None and len(band) < 2 and k + len(band) < len(blocks)
               and isinstance(blocks[k + len(band)], ChartSpec)
               and blocks[k + len(band)].group == b.group):
            band.append(blocks[k + len(band)])
        band_rows = 0
        col = 1
        for spec in band:
            rows = math.ceil(spec.height / CM_PER_ROW) + 1
            cols = max(CHART_COLS, math.ceil(spec.width / CM_PER_COL))
            lay.charts.append(PlacedChart(spec, row, col, rows, cols))
            lay.areas.append(a1(row, col, row + rows - 1, col + cols - 1))
            band_rows = max(band_rows, rows)
            col += cols
            chart_cols = max(chart_cols, col - 1)
        row += band_rows + 1
        k += len(band)
    dcol = max(width, chart_cols) + 2
    if content.data_tables:
        lay.print_area = a1(1, 1, max(row - 1, 1), dcol - 2)
    for t in content.data_tables:
        placed, _ = _place_table(lay, t, 1, dcol, styled=False)
        dcol += len(placed.columns) + 1
    for ch in lay.charts:
        for ref in ch.spec.refs:
            lay.cells_of(ref)  # every reference resolves, or the refresh stops here
    for k, ch in enumerate(c for c in lay.charts if c.spec.bands):
        t = _band_table(lay, ch, f"Bands{k + 1}")
        if t is not None:
            placed, _ = _place_table(lay, t, 1, dcol, styled=False)
            dcol += len(placed.columns) + 1
            ch.bands = [(Ref(t.name, "X"), Ref(t.name, c), b)
                        for c, b in zip(t.df.columns[1:], ch.spec.bands)]
    tables = content.tables
    if len(tables) == 1 and not content.charts:
        lay.freeze_row = lay.by_name[tables[0].name].row + 1
    _widths(lay)
    return lay


def _band_table(lay: SheetLayout, ch: PlacedChart, name: str) -> Table | None:
    """Two rows spanning the chart's x range (the axis bounds, else the data's first and
    last x) with each band's level: the cells the band lines are drawn from."""
    xs = [v for s in ch.spec.series for v in lay.values_of(s.x)
          if isinstance(v, (int, float, dt.datetime, dt.date)) and not isinstance(v, bool)]
    ax = ch.spec.x_axis
    if not xs and (ax.minimum is None or ax.maximum is None):
        return None
    lo = min(xs) if ax.minimum is None else ax.minimum
    hi = max(xs) if ax.maximum is None else ax.maximum
    levels = {f"Band {b:+g}": [b, b] for b in ch.spec.bands}
    df = pd.DataFrame({"X": [lo, hi], **levels})
    return Table(name, df, {"X": DATE} if isinstance(lo, (dt.datetime, dt.date)) else {})


def _place_table(lay: SheetLayout, t: Table, row: int, col: int, styled: bool
                 ) -> tuple[PlacedTable, int]:
    df = t.df
    columns = _column_names(df)
    if t.title:
        lay.cells[(row, col)] = Cell(t.title, "title")
        lay.areas.append(a1(row, col))
        row += 1
    for j, name in enumerate(columns):
        lay.cells[(row, col + j)] = Cell(name, "header")
    if any(len(name) > 12 for name in columns):
        lay.heights[row] = HEADER_HEIGHT
    cells = lay.cells
    for j, c in enumerate(df.columns):
        fmt = t.formats.get(str(c)) or _default_format(df[c])
        for i, v in enumerate(column_values(df[c])):
            if v is None:  # a blank stays a blank: no empty cell written
                continue
            cells[(row + 1 + i, col + j)] = Cell(v, "body", None if type(v) is str else fmt)
    if t.name in lay.by_name:
        raise ValueError(f"{lay.sheet}: two tables are called {t.name!r}")
    placed = PlacedTable(t.name, row, col, columns, len(df), styled, t)
    lay.tables.append(placed)
    lay.by_name[t.name] = placed
    lay.areas.append(placed.ref)
    row = row + max(len(df), 1) + 1
    for note in t.notes:
        lay.cells[(row, col)] = Cell(note, "note")
        lay.areas.append(a1(row, col))
        row += 1
    return placed, row


def name_tables(layouts: list[SheetLayout], used: set[str]) -> None:
    """Give every table of ``layouts`` a valid Excel name unique in the workbook (against
    ``used``: the user's table names and defined names; case-insensitive), in order."""
    for lay in layouts:
        for t in lay.tables:
            t.name = unique_name(t.source.name, used)


def _column_names(df: pd.DataFrame) -> list[str]:
    """Header texts: an Excel table needs each non-empty and unique (case-insensitive)."""
    out: list[str] = []
    seen: set[str] = set()
    for j, c in enumerate(df.columns, start=1):
        name = str(c).strip() or f"Column{j}"
        base, k = name, 2
        while name.casefold() in seen:
            name, k = f"{base}{k}", k + 1
        seen.add(name.casefold())
        out.append(name)
    return out


def _widths(lay: SheetLayout) -> None:
    """Column widths from header and content lengths (first 50 rows), capped at 48."""
    for t in lay.tables:
        df = t.source.df
        for j, c in enumerate(df.columns, start=t.col):
            sample = df[c].head(50)
            longest = max([len(_shown(v)) for v in sample] + [0])
            want = min(max(len(str(c)) * 0.9, longest) + 2, MAX_WIDTH)
            lay.widths[j] = round(max(lay.widths.get(j, 8.0), want), 1)


def _shown(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return "yyyy-mm-dd"
    return str(v)


def _default_format(s: pd.Series) -> str | None:
    if pd.api.types.is_datetime64_any_dtype(s):
        return DATE
    if s.dtype == object and s.notna().any() and all(
            isinstance(v, (dt.date, pd.Timestamp)) for v in s.dropna().head(5)):
        return DATE
    return None


def column_values(s: pd.Series) -> list[Any]:
    """A column as cell values (see :func:`cell_value`), converted column-wise."""
    kind = s.dtype.kind
    if kind == "f":
        arr = s.to_numpy(dtype=float)
        out = arr.tolist()
        for i in np.flatnonzero(~np.isfinite(arr)).tolist():
            out[i] = None
        return out
    if kind in "iub":
        return s.to_numpy().tolist()
    if kind == "M":
        arr = s.to_numpy(dtype="datetime64[us]")
        out = arr.astype(object).tolist()
        for i in np.flatnonzero(np.isnat(arr)).tolist():
            out[i] = None
        return out
    return [cell_value(v) for v in s.to_numpy(dtype=object)]


def cell_value(v: Any) -> Any:
    """A DataFrame value as a cell value: numbers, text, bools, datetimes; ``None`` for
    anything blank (NaN, NaT, NA, infinities)."""
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dt.timedelta):
        return v.total_seconds() / 86400
    return v


def unique_name(name: str, used: set[str]) -> str:
    """``name`` as a valid Excel table name (letters, digits, underscore; not a cell
    reference), made unique against ``used`` (case-insensitive), which gains it."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "Table"
    if not re.match(r"[A-Za-z_]", base) or re.fullmatch(r"[A-Za-z]{1,3}\d+|[RrCc]\d*", base):
        base = "T_" + base
    folded = {u.casefold() for u in used}
    cand, k = base, 2
    while cand.casefold() in folded:
        cand, k = f"{base}_{k}", k + 1
    used.add(cand)
    return cand


def a1(row: int, col: int, row2: int | None = None, col2: int | None = None) -> str:
    """``A1`` or ``A1:C9``."""
    first = f"{col_letter(col)}{row}"
    if row2 is None:
        return first
    return f"{first}:{col_letter(col2)}{row2}"


_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$")


def ranges_box(ref: str) -> tuple[int, int, int, int]:
    """(first col, first row, last col, last row) of ``A1`` or ``A1:C9``."""
    m = _A1.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell range: {ref!r}")
    c1, r1 = _col_number(m.group(1)), int(m.group(2))
    if m.group(3):
        c2, r2 = _col_number(m.group(3)), int(m.group(4))
    else:
        c2, r2 = c1, r1
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n
