"""Raw access to the input sheets: cached cell values, with formulas that have none flagged.

Input cells may be formulas (e.g. Bloomberg ``=BDH()``). Excel stores the last computed
value next to the formula; we read that cached value. A formula *without* a cached value
(a file saved by a tool that does not compute) is reported as a problem, never read as 0
or as blank.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from openpyxl.styles.numbers import is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from engine.inputs.problems import Problems, cell_ref
from engine.workbook.guard_sheet import STRIDE, XlValue


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


def read_grids(path: Path, sheets: tuple[str, ...], snapshot=None
               ) -> tuple[dict[str, Grid], list[str]]:
    """Read ``sheets`` (those present) as :class:`Grid`; also return all sheet names.

    The cells come from the no-data-loss guard's snapshot of the file
    (:func:`engine.workbook.guard.snapshot`: one bounded, defusedxml parse of the package,
    which the refresh takes anyway), taken here when ``snapshot`` is not given. A formula
    cell reads as its cached value; one without a cached value is recorded in
    ``Grid.uncached``. Values are typed as openpyxl types them: numbers (``int`` when
    integral), text, ``bool``, error text (``"#N/A"``), and ``datetime`` for numbers in a
    date format (1900 or 1904 date system, as the workbook says)."""
    if snapshot is None:
        from engine.workbook.guard import snapshot as take_snapshot
        snapshot = take_snapshot(path)
    epoch = CALENDAR_MAC_1904 if snapshot.settings.get("date system") == "1904" \
        else CALENDAR_WINDOWS_1900
    grids: dict[str, Grid] = {}
    for name in sheets:
        snap = snapshot.sheets.get(name)
        if snap is not None and snap.kind == "worksheet":
            grids[name] = _grid(name, snap.rows, epoch)
    return grids, list(snapshot.sheets)


def _grid(name: str, rows: dict[int, tuple], epoch: dt.datetime) -> Grid:
    """A :class:`Grid` from a snapshot's flat row tuples (see ``guard_sheet.SheetSnap``)."""
    cells: dict[int, dict[int, Any]] = {}
    formulas_without_value: list[tuple[int, int]] = []
    for r, flat in rows.items():
        row: dict[int, Any] = {}
        for k in range(0, len(flat), STRIDE):
            col, value, formula, cached, style = flat[k:k + 5]
            if formula is not None:
                value = cached
                if cached is None:
                    formulas_without_value.append((r, col))
            if value is not None:
                row[col] = _typed(value, style[0] if style else "General", epoch)
        if row:
            cells[r] = row
    header_row = cells.get(1, {})
    header = [("" if header_row.get(c) is None else str(header_row[c]).strip())
              for c in range(1, max(header_row, default=0) + 1)]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    # a last row of formulas without values is still a row: reported, not silently cut
    last = max([*cells, *(r for r, c in formulas_without_value if c <= width)], default=0)
    body = [[cells.get(r, {}).get(c) for c in range(1, width + 1)] for r in range(2, last + 1)]
    uncached = {(r - 2, c - 1) for r, c in formulas_without_value
                if 2 <= r <= last and c <= width}
    return Grid(name, header, body, uncached)


@lru_cache(maxsize=512)
def _date_kind(number_format: str) -> tuple[bool, bool]:
    """(a date or time format, a duration format): a number so formatted is a date."""
    return is_date_format(number_format), is_timedelta_format(number_format)


def _typed(v: Any, number_format: str, epoch: dt.datetime) -> Any:
    if isinstance(v, float):
        is_date, is_duration = _date_kind(number_format)
        if is_date:
            return from_excel(v, epoch, timedelta=is_duration)
        return int(v) if v.is_integer() else v
    if isinstance(v, XlValue):
        return {"TRUE": True, "FALSE": False}.get(v.text, v.text)  # errors stay text: "#N/A"
    return v


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
