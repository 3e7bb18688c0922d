"""Raw access to the input sheets: cached cell values, with formulas that have none flagged.

Input cells may be formulas (e.g. Bloomberg ``=BDH()``). Excel stores the last computed
value next to the formula; we read that cached value. A formula *without* a cached value
(a file saved by a tool that does not compute) is reported as a problem, never read as 0
or as blank.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from engine.inputs.problems import Problems, cell_ref


@dataclass
class Grid:
    """One sheet's used range as values: ``header`` is row 1, ``rows[i]`` is sheet row i+2.

    ``uncached`` holds (row, col) of formula cells that have no cached value."""

    sheet: str
    header: list[str]
    rows: list[list[Any]]
    uncached: set[tuple[int, int]] = field(default_factory=set)

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


def read_grids(path: Path, sheets: tuple[str, ...]) -> tuple[dict[str, Grid], list[str]]:
    """Read ``sheets`` (those present) as :class:`Grid`; also return all sheet names.

    Two streaming (read-only) passes: cached values, then formulas, so a formula with no
    cached value is known for what it is."""
    values_wb = load_workbook(path, read_only=True, data_only=True)
    try:
        names = list(values_wb.sheetnames)
        grids: dict[str, Grid] = {}
        for name in sheets:
            if name not in names:
                continue
            rows = [list(r) for r in values_wb[name].iter_rows(values_only=True)]
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
            header = [("" if v is None else str(v).strip()) for v in (rows[0] if rows else [])]
            while header and header[-1] == "":
                header.pop()
            width = len(header)
            body = [(r + [None] * width)[:width] for r in rows[1:]]
            grids[name] = Grid(name, header, body)
    finally:
        values_wb.close()
    suspects = {n: g for n, g in grids.items() if _has_blanks(g) and n in _with_formulas(path)}
    if suspects:
        _flag_uncached(path, suspects)
    return grids, names


def _has_blanks(g: Grid) -> bool:
    return any(v is None for r in g.rows for v in r)


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


def _with_formulas(path: Path) -> set[str]:
    """Names of the sheets whose XML holds any formula (``<f>``): only those need the
    second, formula-reading pass. A cheap scan of the zip, no XML parsing."""
    from engine.workbook.cached_values import _sheet_parts
    with zipfile.ZipFile(path) as z:
        parts = {n: (None, z.read(n)) for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")}
        return {name for name, part in _sheet_parts(parts).items()
                if part in z.namelist() and _FORMULA_TAG.search(z.read(part))}


def _flag_uncached(path: Path, grids: dict[str, Grid]) -> None:
    formulas_wb = load_workbook(path, read_only=True, data_only=False)
    try:
        for name, g in grids.items():
            width = len(g.header)
            for i, row in enumerate(formulas_wb[name].iter_rows(min_row=2, max_row=len(g.rows) + 1,
                                                               max_col=max(width, 1),
                                                               values_only=True)):
                for j, v in enumerate(row):
                    if isinstance(v, str) and v.startswith("=") and g.rows[i][j] is None:
                        g.uncached.add((i, j))
    finally:
        formulas_wb.close()


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
    """The date in data cell (i, j); records a problem for anything else (blank included)."""
    if (i, j) in g.uncached:
        problems.error(g.where(i, j), "formula has no cached value")
        return None
    v = g.rows[i][j]
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, str):
        try:
            return dt.datetime.fromisoformat(v.strip())
        except ValueError:
            problems.error(g.where(i, j), f'text "{v[:30]}" where a date is expected')
            return None
    if v is None:
        problems.error(g.where(i, j), "blank where a date is expected")
        return None
    problems.error(g.where(i, j), f"{v!r} where a date is expected (format the cell as a date)")
    return None
