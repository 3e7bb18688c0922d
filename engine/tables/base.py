"""What a table builder returns, and the registry the refresh pipeline runs.

A *builder* is a function ``build(ctx: RefreshContext) -> list[SheetContent]``: it reads the
validated :class:`~engine.inputs.data.WorkbookData` (and results other builders cached on the
context), calls the pure models and returns the tables (and charts) of one or more engine
sheets. It never touches openpyxl: :mod:`engine.workbook.writer` lays the content out.

Register a builder with :func:`register` (order = run order)::

    @register("valuation", order=20)
    def build(ctx): ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from engine.inputs.data import WorkbookData

# Excel number formats used across the engine tables (DESIGN.md conventions).
PCT = "0.00%"       # decimals shown as percent (returns, forecasts, valuation %)
PCT1 = "0.0%"
YIELD = "0.00"      # yields and yield changes, percentage points as quoted
NUM2 = "0.00"       # sigma, ratios
NUM = "#,##0.00"    # price levels
INT = "0"
DATE = "yyyy-mm-dd"


@dataclass
class Table:
    """One Excel table (a ListObject) on an engine sheet.

    ``name``: Excel table name, unique in the workbook, letters/digits/underscore only.
    ``df``: written with its columns as the header row; the index is ignored (put ``Code``
    in a column). ``formats`` maps column name -> Excel number format (default General;
    datetime columns default to ``DATE``). ``title`` is written in bold above the table,
    ``notes`` as plain lines below it (e.g. "Composite does not beat the historical mean").
    """

    name: str
    df: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    notes: list[str] = field(default_factory=list)


# A chart factory gets ``ref(table, column) -> openpyxl Reference`` (data cells, no header),
# ``header(table, column) -> Reference`` (the header cell) and returns an openpyxl chart.
ChartFactory = Callable[..., object]


@dataclass
class ChartSpec:
    """A native Excel chart on the sheet, fed by tables of the same :class:`SheetContent`.

    ``make(ref, header)`` builds the openpyxl chart; helpers in
    :mod:`engine.workbook.charts` cover line, step and scatter charts. ``make`` must pickle (a
    module-level function, or a ``functools.partial`` of one — not a closure): the builders
    may run in a second process (:mod:`engine.build_worker`). ``width``/``height`` are in
    cm. ``group`` puts charts with the same group side by side on one row band.
    """

    make: ChartFactory
    width: float = 16.0
    height: float = 7.5
    group: str | None = None


@dataclass
class SheetContent:
    """The engine's content for one sheet: tables stacked top-down, then charts.

    ``data_tables`` are tables that feed charts only; they are written to the right of the
    charts (on the same sheet) so the charts have real cells to point at.
    """

    sheet: str
    tables: list[Table] = field(default_factory=list)
    charts: list[ChartSpec] = field(default_factory=list)
    data_tables: list[Table] = field(default_factory=list)
    intro: list[str] = field(default_factory=list)  # lines written at the top of the sheet


@dataclass
class RefreshContext:
    """Shared state of one refresh: the validated data, the previous History rows, a cache
    builders use to pass results on (e.g. valuation sigma histories to the forecast builder),
    and the per-instrument failures that turn the exit code into 1."""

    data: WorkbookData
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    cache: dict[str, object] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # code -> reason
    progress: Callable[[str], None] = lambda msg: None

    def fail(self, code: str, reason: str) -> None:
        """Record that one instrument could not be computed (its rows get marked)."""
        self.failures.setdefault(code, reason)


Builder = Callable[[RefreshContext], list[SheetContent]]
_REGISTRY: list[tuple[int, str, Builder]] = []
_LIGHT: set[str] = set()


def register(name: str, order: int = 50, light: bool = False) -> Callable[[Builder], Builder]:
    """Decorator registering a table builder under ``name``; lower ``order`` runs first.

    ``light=True`` marks a builder that needs no other builder's results, no statsmodels and
    writes no sheet a model builder writes: the refresh runs it in the main process while the
    model builders run in the second one (:mod:`engine.build_worker`)."""

    def deco(fn: Builder) -> Builder:
        _REGISTRY[:] = [r for r in _REGISTRY if r[1] != name]
        _REGISTRY.append((order, name, fn))
        _REGISTRY.sort(key=lambda r: r[0])
        _LIGHT.discard(name)
        if light:
            _LIGHT.add(name)
        return fn

    return deco


def builders(light: bool | None = None) -> list[tuple[str, Builder]]:
    """Registered builders in run order (importing :mod:`engine.tables` registers them all):
    all of them, or only the light (``True``) or the model (``False``) ones."""
    return [(name, fn) for _, name, fn in _REGISTRY
            if light is None or (name in _LIGHT) == light]


# Every sheet the engine owns (DESIGN.md). Anything else in a workbook belongs to the user.
ENGINE_SHEETS = (
    "Data Status", "Stock Forecasts", "Stock Valuation", "Bond Forecasts", "Bond Valuation",
    "FX Forecasts", "FX Valuation", "Commodity Forecasts", "Commodity Valuation", "Signals",
    "Charts", "Track Record", "Performance", "GDP Gap", "History",
)
INPUT_SHEETS = ("Instruments", "Prices", "Fundamentals", "Returns", "Series", "Income",
                "Macro", "Settings")
