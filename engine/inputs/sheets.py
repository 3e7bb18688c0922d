"""Raw access to the input sheets: cached cell values, with formulas that have none flagged.

Input cells may be formulas (e.g. Bloomberg ``=BDH()``). Excel stores the last computed
value next to the formula; we read that cached value. A formula *without* a cached value
(a file saved by a tool that does not compute) is reported as a problem, never read as 0
or as blank.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.inputs.dates import DateError, read_date
from engine.inputs.problems import Problems, cell_ref
from engine.xlsx.cells import SheetCells, Workbook
from engine.xlsx.package import Package


@dataclass
class Grid:
    """One sheet's used range as values: ``header`` is row 1, ``rows[i]`` is sheet row i+2.

    ``uncached`` holds (row, col) of formula cells that have no cached value; ``beyond`` the
    1-based (row, col) of values right of the last header (not data: reported); ``date1904``:
    the workbook's date system, for dates typed as serial numbers."""

    sheet: str
    header: list[str]
    rows: list[list[Any]]
    uncached: set[tuple[int, int]] = field(default_factory=set)
    beyond: list[tuple[int, int]] = field(default_factory=list)
    date1904: bool = False

    def col(self, name: str) -> int | None:
        """0-based index of the header ``name`` (case- and space-insensitive), else None."""
        key = _norm(name)
        for i, h in enumerate(self.header):
            if _norm(h) == key:
                return i
        return None

    def where(self, i: int, j: int) -> str:
        """``Sheet!B30`` for data row index ``i`` and column index ``j`` (0-based)."""
        return f"{self.sheet}!{cell_ref(i + 2, j + 1)}"


def _norm(s: Any) -> str:
    return " ".join(str(s or "").split()).casefold()


def read_grids(source: Path | Workbook, sheets: tuple[str, ...]
               ) -> tuple[dict[str, Grid], list[str]]:
    """Read ``sheets`` (those present as worksheets) as :class:`Grid`; also return all sheet
    names. ``source`` is the workbook file or an open :class:`~engine.xlsx.cells.Workbook`
    (the refresh opens the package once). Values as :mod:`engine.xlsx.cells` types them;
    raises :class:`~engine.xlsx.package.PackageError` for a file that cannot be read."""
    if isinstance(source, Workbook):
        return _grids(source, sheets)
    with Package(source) as pkg:
        return _grids(Workbook(pkg), sheets)


def _grids(wb: Workbook, sheets: tuple[str, ...]) -> tuple[dict[str, Grid], list[str]]:
    grids: dict[str, Grid] = {}
    for name in sheets:
        cells = wb.read(name)
        if cells is not None:
            grids[name] = _grid(cells, wb.date1904)
    return grids, [s.name for s in wb.sheets]


def _grid(sheet: SheetCells, date1904: bool = False) -> Grid:
    """A :class:`Grid` from a sheet's cells: row 1 is the header, the used width is the
    header's, the used height the last row with a value in it (or a formula without one);
    values right of the header are listed in ``beyond``, not read."""
    cells = sheet.rows
    header_row = cells.get(1, {})
    header = [("" if header_row.get(c) is None else str(header_row[c]).strip())
              for c in range(1, max(header_row, default=0) + 1)]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    beyond = sorted((r, c) for r, row in cells.items() if max(row) > width
                    for c in row if c > width)
    # a last row of formulas without values is still a row: reported, not silently cut; a
    # stray value far right (XFD1048576) is no row of data
    last = max([*(r for r, row in cells.items() if min(row) <= width),
                *(r for r, c in sheet.uncached if c <= width)], default=0)
    body = [[cells.get(r, {}).get(c) for c in range(1, width + 1)] for r in range(2, last + 1)]
    uncached = {(r - 2, c - 1) for r, c in sheet.uncached if 2 <= r <= last and c <= width}
    return Grid(sheet.name, header, body, uncached, beyond, date1904)


def cell_number(g: Grid, i: int, j: int, problems: Problems, *, what: str = "a number",
                code: str | None = None) -> float | None:
    """The number in data cell (i, j), ``None`` for a blank; records a problem otherwise."""
    if (i, j) in g.uncached:
        problems.error(g.where(i, j), "formula has no cached value (open and save the file in "
                       "Excel so it computes, or paste values)", code)
        return None
    v = g.rows[i][j]
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        problems.error(g.where(i, j), f"TRUE/FALSE where {what} is expected", code)
        return None
    if isinstance(v, (int, float)):
        if v != v or v in (float("inf"), float("-inf")):
            problems.error(g.where(i, j), f"{v} where {what} is expected", code)
            return None
        return float(v)
    if isinstance(v, str) and v.strip().startswith("#"):
        problems.error(g.where(i, j), f"Excel error {v.strip()} where {what} is expected", code)
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        problems.error(g.where(i, j), f"a date where {what} is expected", code)
        return None
    problems.error(g.where(i, j), f'text "{str(v)[:30]}" where {what} is expected', code)
    return None


def cell_date(g: Grid, i: int, j: int, problems: Problems) -> dt.datetime | None:
    """The date in data cell (i, j), in any form Excel gives one
    (:func:`engine.inputs.dates.read_date`: a date cell, a serial number in the workbook's
    date system, ISO text); records a problem for anything else (blank included)."""
    if (i, j) in g.uncached:
        problems.error(g.where(i, j), "formula has no cached value")
        return None
    try:
        return read_date(g.rows[i][j], date1904=g.date1904)[0]
    except DateError as e:
        problems.error(g.where(i, j), str(e))
        return None
