"""What a table builder returns, and the registry the refresh pipeline runs.

A *builder* is a function ``build(ctx: RefreshContext) -> list[SheetContent]``: it reads the
validated :class:`~engine.inputs.data.WorkbookData` (and results other builders cached on the
context), calls the pure models and returns the tables (and charts) of one or more engine
sheets. It never touches a file format: :mod:`engine.workbook` lays the content out in the
workbook, :mod:`engine.reports` in the PDFs.

Register a builder with :func:`register` (order = run order)::

    @register("valuation", order=20)
    def build(ctx): ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Callable, Union

import pandas as pd

from engine.inputs.data import WorkbookData
from engine.models.instrument import InstrumentInput, InstrumentResult, analyse
from engine.tables.charts import Axis, ChartSpec, Ref, Series

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


Block = Union[Table, ChartSpec]


class SheetContent:
    """The engine's content for one sheet: intro lines, then ``blocks`` top-down in order.

    A block is a :class:`Table` (title, table, notes) or a :class:`ChartSpec`; consecutive
    charts of the same ``group`` sit side by side. ``data_tables`` feed charts only and are
    written to the right of the blocks (on the same sheet) so the charts have real cells to
    point at. ``tables`` and ``charts`` are the blocks of each kind, in order; ``add``
    appends blocks. ``SheetContent(sheet, tables=[...], charts=[...])`` puts the tables
    first, then the charts.
    """

    def __init__(self, sheet: str, tables: Iterable[Table] = (),
                 charts: Iterable[ChartSpec] = (), data_tables: Iterable[Table] = (),
                 intro: Iterable[str] = (), blocks: Iterable[Block] = ()):
        self.sheet = sheet
        self.blocks: list[Block] = [*blocks, *tables, *charts]
        self.data_tables: list[Table] = list(data_tables)
        self.intro: list[str] = list(intro)

    def add(self, *blocks: Block) -> "SheetContent":
        """Append tables or charts (in order); returns self."""
        for b in blocks:
            if not isinstance(b, (Table, ChartSpec)):
                raise TypeError(f"{self.sheet}: a block is a Table or a ChartSpec, got "
                                f"{type(b).__name__}")
            self.blocks.append(b)
        return self

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def charts(self) -> list[ChartSpec]:
        return [b for b in self.blocks if isinstance(b, ChartSpec)]

    def table(self, name: str) -> Table:
        """The table (block or chart feed) called ``name``; ``KeyError`` if none."""
        for t in [*self.tables, *self.data_tables]:
            if t.name == name:
                return t
        raise KeyError(f"{self.sheet}: no table {name!r}")

    def __repr__(self) -> str:
        return (f"SheetContent({self.sheet!r}, {len(self.tables)} tables, "
                f"{len(self.charts)} charts, {len(self.data_tables)} data tables)")


def name_part(text: str) -> str:
    """``text`` as a piece of an Excel table name: letters, digits and underscores only (every
    other character becomes ``_``), e.g. ``"EUR/USD"`` -> ``"EUR_USD"``. Prefix it with a
    letter (``ChartFc_``) so the name never starts with a digit or looks like a cell."""
    return re.sub(r"[^0-9A-Za-z_]", "_", str(text)) or "_"


def _has_cell(df: pd.DataFrame, column: str, row: int | None) -> str | None:
    if column not in df.columns:
        return f"no column {column!r} (columns: {', '.join(map(str, df.columns))})"
    if row is not None and not 0 <= row < len(df):
        return f"no row {row} (the table has {len(df)} rows)"
    return None


def check_refs(content: SheetContent) -> None:
    """Check that every chart of ``content`` can be drawn from ``content`` alone.

    Every :class:`~engine.tables.charts.Ref` of every chart (x, y and a series name given as a
    ``Ref``) must name a table of the same sheet (a block or a chart feed in ``data_tables``),
    a column of that table and, when ``row`` is given, one of its rows; table names must be
    unique on the sheet (a ``Ref`` names its table); a series' x and y are both whole columns
    of as many rows, or both one cell; the x values of a chart whose x axis has ``dates``
    must be dates. Raises one ``ValueError`` listing every problem (sheet, chart
    title, the reference), so a builder's mistake is caught before a renderer meets it."""
    problems = []
    names = [t.name for t in [*content.tables, *content.data_tables]]
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"table name {n!r} is used {names.count(n)} times")
    tables = {t.name: t for t in [*content.tables, *content.data_tables]}
    for chart in content.charts:
        where = f"chart {chart.title!r}"
        for ref in chart.refs:
            t = tables.get(ref.table)
            why = (f"no table {ref.table!r}" if t is None else
                   _has_cell(t.df, ref.column, ref.row))
            if why:
                problems.append(f"{where}: {ref} -> {why}")
        for s in chart.series:
            tx, ty = tables.get(s.x.table), tables.get(s.y.table)
            if s.x.row is None and s.y.row is None and tx is not None and ty is not None \
                    and len(tx.df) != len(ty.df):
                problems.append(f"{where}: series {s.name!r}: {len(tx.df)} x values "
                                f"({s.x.table}) but {len(ty.df)} y values ({s.y.table})")
            if (s.x.row is None) != (s.y.row is None):
                problems.append(f"{where}: series {s.name!r}: x and y must both be a column "
                                "or both one cell")
        if chart.x_axis.dates:
            for s in chart.series:
                t = tables.get(s.x.table)
                if t is not None and s.x.column in t.df.columns and not \
                        pd.api.types.is_datetime64_any_dtype(t.df[s.x.column]):
                    problems.append(f"{where}: date axis, but {s.x.table}[{s.x.column!r}] "
                                    f"holds {t.df[s.x.column].dtype}, not dates")
    if problems:
        raise ValueError(f"{content.sheet}: charts refer to cells the sheet does not have: "
                         + "; ".join(problems))


@dataclass
class RefreshContext:
    """Shared state of one refresh: the validated data, the previous History rows, the
    models' results per instrument (:attr:`results`, computed once, on first use), the rows
    builders pass on to others, and the per-instrument failures that turn the exit code
    into 1.

    ``fit_store``: a content-keyed store of Markov estimations kept across refreshes (see
    :mod:`engine.models.regimes`); ``workers``: processes for the models
    (:func:`engine.models.instrument.analyse`). Rows passed on: ``valuation_rows`` (code → its
    valuation table row, for the charts and the report), ``forecast_rows`` (code → this
    refresh's forecast, position and trade, for History and the charts) and ``data_status``
    (the Data Status table, which the pipeline completes with the failures)."""

    data: WorkbookData
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    failures: dict[str, str] = field(default_factory=dict)  # code -> reason
    progress: Callable[[str], None] = lambda msg: None
    fit_store: MutableMapping | None = None
    workers: int = 1
    valuation_rows: dict[str, dict] = field(default_factory=dict)
    forecast_rows: dict[str, dict] = field(default_factory=dict)
    data_status: Table | None = None
    _results: dict[str, InstrumentResult] | None = field(default=None, repr=False)

    def fail(self, code: str, reason: str) -> None:
        """Record that one instrument could not be computed (its rows get marked)."""
        self.failures.setdefault(code, reason)

    @property
    def results(self) -> dict[str, InstrumentResult]:
        """Every model's result per instrument code (:func:`engine.models.instrument.analyse`
        on the workbook's instruments: their prices, ``Fair Value Inputs``, quote, asset
        class, neutral band and maturity)."""
        if self._results is None:
            d = self.data
            inputs = []
            for code, inst in d.instruments.items():
                fund = d.fundamentals_for(code)
                inputs.append(InstrumentInput(
                    code, d.prices[code], inst.quote, inst.asset_class,
                    fund if len(fund.columns) else None, band=inst.neutral_band,
                    maturity=inst.maturity, roles=d.roles_for(code)))
            self.progress("estimating the models")
            self._results = analyse(inputs, store=self.fit_store, workers=self.workers)
        return self._results


Builder = Callable[[RefreshContext], list[SheetContent]]
_REGISTRY: list[tuple[int, str, Builder]] = []


def register(name: str, order: int = 50) -> Callable[[Builder], Builder]:
    """Decorator registering a table builder under ``name``; lower ``order`` runs first."""

    def deco(fn: Builder) -> Builder:
        _REGISTRY[:] = [r for r in _REGISTRY if r[1] != name]
        _REGISTRY.append((order, name, fn))
        _REGISTRY.sort(key=lambda r: r[0])
        return fn

    return deco


def builders() -> list[tuple[str, Builder]]:
    """Registered builders in run order (importing :mod:`engine.tables` registers them all)."""
    return [(name, fn) for _, name, fn in _REGISTRY]


# Every sheet the engine owns (DESIGN.md). Anything else in a workbook belongs to the user.
ENGINE_SHEETS = (
    "Data Status", "Stock Forecasts", "Stock Valuation", "Bond Forecasts", "Bond Valuation",
    "FX Forecasts", "FX Valuation", "Commodity Forecasts", "Commodity Valuation", "Signals",
    "Charts", "Track Record", "Performance", "GDP Gap", "Commentary", "Downloads", "History",
)
# Engine sheets ``gamma fetch`` writes and a refresh leaves as they are (it reads them back).
FETCHED_SHEETS = ("Downloads",)
INPUT_SHEETS = ("Instruments", "Prices", "Fundamentals", "Returns", "Series", "Income",
                "Macro", "Settings")
