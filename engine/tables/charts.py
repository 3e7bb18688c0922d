"""Charts as data: what a chart shows, not how a library draws it.

A :class:`ChartSpec` names its data by table and column (:class:`Ref`) of the
:class:`~engine.tables.base.SheetContent` it belongs to, so every renderer can resolve it on
its own terms: the workbook writer turns a ``Ref`` into a cell range of the engine sheet and
writes a native DrawingML chart (:mod:`engine.workbook.chart_xml`), the Excel button draws the
same chart through xlwings (:mod:`addin.xl_writer`), and the PDF renderer reads the table's
column and draws it with matplotlib (:mod:`engine.reports.charts`).

Every chart is an X-Y chart: ``x`` and ``y`` are both values. ``kind="line"`` joins each
series' points with lines and marks none (time series: ``x_axis.dates`` is then true); ``kind
="scatter"`` marks each point and draws no line (e.g. one labelled point per index). ``bands``
are horizontal reference lines across the whole chart (e.g. ±1.75σ), drawn dashed and grey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

ChartKind = Literal["line", "scatter"]
Dash = Literal["solid", "dash", "sysDash"]
Marker = Literal["none", "circle"]
LabelPosition = Literal["top", "right"]
LegendPosition = Literal["bottom", "right"]


@dataclass(frozen=True)
class Ref:
    """The data cells of ``column`` in table ``table`` (no header): all rows, or only the
    ``row``-th (0-based) when ``row`` is given."""

    table: str
    column: str
    row: int | None = None


@dataclass(frozen=True)
class Series:
    """One series: ``y`` against ``x``.

    ``name`` is the legend (and data-label) text, or a :class:`Ref` to the cell holding it
    (e.g. the latest trade, ``"CL&S"``). ``color`` is ``RRGGBB`` (``None``: the renderer's
    palette); ``width`` in points. ``label`` puts the series name next to each point."""

    name: str | Ref
    x: Ref
    y: Ref
    color: str | None = None
    dash: Dash = "solid"
    width: float = 1.25
    marker: Marker = "none"
    marker_size: int = 7
    label: LabelPosition | None = None


@dataclass(frozen=True)
class Axis:
    """One axis. ``title``: the axis title (``""``: none, e.g. under a date axis labelled by
    year). ``number_format`` is an Excel format code for the tick labels (``0%``,
    ``yyyy``); ``minimum``/``maximum``/``major_unit`` fix the scale (``None``: automatic).
    ``dates``: the values are dates (Excel serial days), labelled by year and bounded by the
    first and last date of the data (the series' x values) unless ``minimum``/``maximum``
    say otherwise."""

    title: str
    number_format: str = "General"
    minimum: float | None = None
    maximum: float | None = None
    major_unit: float | None = None
    dates: bool = False
    gridlines: bool = True


@dataclass(frozen=True)
class ChartSpec:
    """A native chart on an engine sheet (and the same chart in the PDFs).

    ``width``/``height`` in cm; ``title_size`` in points. ``group``: consecutive charts of
    the same group sit side by side on one row of the sheet (two per row)."""

    title: str
    series: tuple[Series, ...]
    x_axis: Axis
    y_axis: Axis
    kind: ChartKind = "line"
    bands: tuple[float, ...] = ()
    legend: LegendPosition | None = None
    width: float = 16.0
    height: float = 7.5
    title_size: float = 10.0
    group: str | None = None
    refs: tuple[Ref, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.series:
            raise ValueError(f"chart {self.title!r}: a chart needs at least one series")
        refs = []
        for s in self.series:
            refs += [s.x, s.y] + ([s.name] if isinstance(s.name, Ref) else [])
        object.__setattr__(self, "series", tuple(self.series))
        object.__setattr__(self, "bands", tuple(float(b) for b in self.bands))
        object.__setattr__(self, "refs", tuple(refs))

    def tables(self) -> set[str]:
        """Names of the tables this chart reads."""
        return {r.table for r in self.refs}


def nice_range(lo: float, hi: float, steps: int = 6) -> tuple[float, float, float]:
    """(minimum, maximum, step) of a value axis spanning ``lo``…``hi`` in about ``steps``
    steps of 1, 2, 2.5 or 5 × 10^k, the bounds on whole steps (0.62…0.91 -> 0.6, 0.95, 0.05)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"axis bounds must be finite, got {lo}, {hi}")
    if hi <= lo:
        pad = abs(lo) * 0.05 or 0.5
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / steps
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step


def axis_scale(axis: Axis, data: tuple[float, float] | None, kind: ChartKind = "line"
               ) -> tuple[float | None, float | None, float | None]:
    """(minimum, maximum, major unit) every renderer gives ``axis`` (``None``: the
    renderer's own automatic choice), ``data`` being the first and last value the chart's
    series put on it (dates in days). What the axis fixes stands. A date axis runs from the
    first to the last date with whole years between labels (about ten at most); the value
    axis of a line chart runs over the data on a :func:`nice_range` (a price chart of a rate
    between 0.6 and 0.9 does not start at 0)."""
    lo, hi, unit = axis.minimum, axis.maximum, axis.major_unit
    if data is None:
        return lo, hi, unit
    if axis.dates:
        lo = data[0] if lo is None else lo
        hi = data[1] if hi is None else hi
        if unit is None and hi > lo:
            years = (hi - lo) / 365.25
            step = next((k for k in (1, 2, 5, 10, 20, 25, 50, 100) if years / k <= 10), 200)
            unit = step * 365.25
    elif kind == "line" and lo is None and hi is None:
        lo, hi, step = nice_range(*data)
        unit = step if unit is None else unit
    return lo, hi, unit
