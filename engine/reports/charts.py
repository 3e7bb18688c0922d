"""Any :class:`~engine.tables.charts.ChartSpec` drawn with matplotlib, for the PDFs.

The data come from the :class:`~engine.tables.base.SheetContent` the chart belongs to: each
:class:`~engine.tables.charts.Ref` is resolved to its table's DataFrame column (or one cell of
it), so the PDF shows exactly the numbers the workbook's native chart points at.

What is honoured, as the workbook's chart shows it:

- ``kind="line"``: each series' points joined (gaps at blanks), no markers unless the series
  asks for ``marker="circle"``; ``kind="scatter"``: markers only, no lines;
- per series: colour (``None``: the report palette, in order), dash (``solid``, ``dash``,
  ``sysDash``), width (points), marker and marker size, a data label with the series name
  next to each point (``top`` or ``right``); a series name given as a ``Ref`` is the cell's text;
- ``bands``: thin dashed grey horizontal lines across the chart;
- per axis: title (empty: none), the Excel number format of the tick labels (``0%``,
  ``0.00%``, ``$#,##0``, ``#,##0``, ``0.00``, ``0``, ``General``; date codes such as ``yyyy``),
  a fixed ``minimum``/``maximum`` and ``major_unit``, gridlines; a ``dates`` axis is labelled by
  year and, unless fixed, runs from the first to the last date of the series' x values (a
  price chart and the signal chart under it, fed by the same months, line up);
- the legend (``bottom`` or ``right``; ``None``: none) and the title.

:func:`draw_chart` returns the ``draw(fig, rect)`` function :meth:`PageWriter.chart
<engine.reports.pages.PageWriter.chart>` calls; :func:`plot_chart` draws into a given Axes.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import replace

import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from engine.reports.render import NAVY, PALETTE
from engine.tables.base import SheetContent
from engine.tables.charts import Axis, ChartSpec, Ref, Series, axis_scale

__all__ = ["draw_chart", "plot_chart", "resolve", "tick_formatter", "BAND_COLOR"]

EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel serial day 0 (1900 date system)
BAND_COLOR = "#808080"
DASHES = {"solid": "-", "dash": (0, (5, 2.5)), "sysDash": (0, (2.5, 1.5))}
TICK_PT = 6.5
LABEL_PT = 6.5


def resolve(content: SheetContent, ref: Ref):
    """The values ``ref`` points at in ``content``: the column as a numpy array (dates as
    ``datetime64``), or the one cell of row ``ref.row``. ``KeyError`` for a table or column
    the sheet does not have (:func:`engine.tables.base.check_refs` says so up front)."""
    df = content.table(ref.table).df
    if ref.column not in df.columns:
        raise KeyError(f"{content.sheet}: table {ref.table!r} has no column {ref.column!r}")
    col = df[ref.column]
    if ref.row is not None:
        return col.iloc[ref.row]
    return col.to_numpy()


def _text(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def series_name(content: SheetContent, s: Series) -> str:
    """The legend and data-label text of ``s``."""
    return _text(resolve(content, s.name)) if isinstance(s.name, Ref) else str(s.name)


def _values(content: SheetContent, ref: Ref, dates: bool) -> np.ndarray:
    v = resolve(content, ref)
    v = pd.Series(v if ref.row is None else [v])
    if dates:
        t = pd.to_datetime(v, errors="coerce")
        num = mdates.date2num(t.fillna(pd.Timestamp(0)).to_numpy())
        return np.where(t.isna().to_numpy(), np.nan, num)
    return pd.to_numeric(v, errors="coerce").to_numpy(dtype=float)


def _serial_to_num(v: float) -> float:
    """An Excel serial day (fixed bound of a date axis) as a matplotlib date number."""
    return float(mdates.date2num(EXCEL_EPOCH + pd.Timedelta(days=float(v))))


_DATE_CODE = re.compile(r"(yyyy|yy|mmmm|mmm|mm|m|dd|d)", re.IGNORECASE)


def _is_date_format(fmt: str) -> bool:
    f = re.sub(r'"[^"]*"', "", fmt)
    return bool(re.search(r"[yd]", f, re.IGNORECASE)) and not re.search(r"[0#]", f)


def _strftime(fmt: str) -> str:
    table = {"yyyy": "%Y", "yy": "%y", "mmmm": "%B", "mmm": "%b", "mm": "%m", "m": "%m",
             "dd": "%d", "d": "%d"}
    return _DATE_CODE.sub(lambda m: table[m.group(0).lower()], fmt.replace('"', ""))


def tick_formatter(number_format: str, dates: bool = False) -> mticker.Formatter:
    """A matplotlib formatter showing tick values as the Excel ``number_format`` does: ``0%``
    -> ``25%``, ``0.00%`` -> ``25.00%``, ``$#,##0`` -> ``$12,500``, ``0.00`` -> ``1.25``,
    ``yyyy`` (on a dates axis) -> ``1998``; ``General``: matplotlib's own. Only the first
    section of a format (before ``;``) is used."""
    f = (number_format or "General").split(";")[0].strip()
    if dates or _is_date_format(f):
        if f.lower() in ("", "general"):
            f = "yyyy"
        return mdates.DateFormatter(_strftime(f))
    if f.lower() in ("", "general"):
        return mticker.ScalarFormatter(useOffset=False)
    core = re.search(r"[#0][#0,]*(\.[0#]+)?|\.[0#]+", f)
    if core is None:
        return mticker.ScalarFormatter(useOffset=False)
    num = core.group(0)
    prefix = f[:core.start()].replace('"', "").replace("\\", "")
    suffix = f[core.end():].replace('"', "").replace("\\", "")
    pct = "%" in suffix
    decimals = len(num.split(".")[1]) if "." in num else 0
    comma = "," in num.split(".")[0]
    return ExcelFormatter(prefix, suffix, decimals, comma, pct)


class ExcelFormatter(mticker.Formatter):
    """Tick labels in an Excel number format (:func:`tick_formatter`). When the format's
    decimals would print two different ticks alike (``0%`` on a 1 % range), the whole axis
    gets as many more decimals as it takes."""

    def __init__(self, prefix: str, suffix: str, decimals: int, comma: bool, pct: bool):
        self.prefix, self.suffix, self.decimals = prefix, suffix, decimals
        self.comma, self.pct = comma, pct

    def text(self, v: float, decimals: int) -> str:
        x = v * 100 if self.pct else v
        s = f"{abs(x):{',' if self.comma else ''}.{decimals}f}"
        neg = x < 0 and float(s.replace(",", "")) != 0
        return ("\u2212" if neg else "") + self.prefix + s + self.suffix

    def __call__(self, v, pos=None) -> str:
        return self.text(v, self.decimals)

    def format_ticks(self, values) -> list[str]:
        values = list(values)
        for d in range(self.decimals, self.decimals + 5):
            out = [self.text(v, d) for v in values]
            if len(set(out)) == len(out):
                return out
        return [self.text(v, self.decimals) for v in values]


def _year_locator(lo: float, hi: float, max_ticks: int):
    years = (hi - lo) / 365.25
    for base in (1, 2, 5, 10, 20, 25, 50, 100):
        if years / base <= max_ticks:
            return mdates.YearLocator(base)
    return mdates.YearLocator(100)


def _axes_inches(ax: Axes) -> tuple[float, float]:
    w, h = ax.figure.get_size_inches()
    pos = ax.get_position()
    return pos.width * w, pos.height * h


def _setup_axis(ax: Axes, which: str, axis: Axis, lo_hi: tuple[float, float] | None) -> None:
    a = ax.xaxis if which == "x" else ax.yaxis
    setlim = ax.set_xlim if which == "x" else ax.set_ylim
    lo = axis.minimum
    hi = axis.maximum
    if axis.dates:
        lo = _serial_to_num(lo) if lo is not None else None
        hi = _serial_to_num(hi) if hi is not None else None
        if lo_hi is not None:  # bounded by the data unless fixed
            lo = lo_hi[0] if lo is None else lo
            hi = lo_hi[1] if hi is None else hi
            if lo == hi:
                lo, hi = lo - 15, hi + 15
        if lo is not None or hi is not None:
            setlim(lo, hi)
        span = ax.get_xlim() if which == "x" else ax.get_ylim()
        width_in = _axes_inches(ax)[0 if which == "x" else 1]
        max_ticks = max(3, int(width_in / 0.45))
        if axis.major_unit:
            a.set_major_locator(mticker.MultipleLocator(axis.major_unit))
        else:
            loc = _year_locator(span[0], span[1], max_ticks)
            ticks = [t for t in loc.tick_values(mdates.num2date(span[0]),
                                                mdates.num2date(span[1]))
                     if span[0] <= t <= span[1]]
            if len(ticks) >= 2:
                a.set_major_locator(loc)
            else:  # under two years: months, as matplotlib chooses them
                loc = mdates.AutoDateLocator(minticks=3, maxticks=max_ticks)
                a.set_major_locator(loc)
                a.set_major_formatter(mdates.ConciseDateFormatter(loc))
                return _axis_title(ax, which, axis)
        a.set_major_formatter(tick_formatter(axis.number_format, dates=True))
    else:
        if lo is not None or hi is not None:
            setlim(lo, hi)
        if axis.major_unit:
            a.set_major_locator(mticker.MultipleLocator(axis.major_unit))
        a.set_major_formatter(tick_formatter(axis.number_format))
    _axis_title(ax, which, axis)


def _axis_title(ax: Axes, which: str, axis: Axis) -> None:
    if axis.title:
        (ax.set_xlabel if which == "x" else ax.set_ylabel)(axis.title, fontsize=LABEL_PT,
                                                           labelpad=2)
    a = ax.xaxis if which == "x" else ax.yaxis
    if axis.gridlines:
        a.grid(True, alpha=0.35, lw=0.5)
    else:
        a.grid(False)


def _color(s: Series, i: int) -> str:
    return f"#{s.color}" if s.color else PALETTE[i % len(PALETTE)]


def _wrapped_title(ax: Axes, title: str, size: float) -> str:
    width_pt = _axes_inches(ax)[0] * 72
    per_line = max(20, int(width_pt / (size * 0.56)))
    return "\n".join(textwrap.wrap(title, per_line)) or title


def title_size(spec: ChartSpec) -> float:
    """The title's font size in the PDF (points): 80 % of the chart's (a PDF chart is
    smaller than the workbook's), at most 8.5."""
    return min(0.8 * float(spec.title_size), 8.5)


def plot_chart(ax: Axes, spec: ChartSpec, content: SheetContent) -> Axes:
    """Draw ``spec`` into ``ax`` with the data of ``content`` (module doc); returns ``ax``."""
    xs_all, ys_all, lines, labels = [], [], [], []
    for i, s in enumerate(spec.series):
        x = _values(content, s.x, spec.x_axis.dates)
        y = _values(content, s.y, spec.y_axis.dates)
        n = min(len(x), len(y))
        x, y = x[:n], y[:n]
        name = series_name(content, s)
        color = _color(s, i)
        marker = "o" if (s.marker == "circle" or spec.kind == "scatter") else None
        ms = s.marker_size * 0.6
        ls = "none" if spec.kind == "scatter" else DASHES.get(s.dash, "-")
        (line,) = ax.plot(x, y, color=color, lw=s.width * 0.8, ls=ls, marker=marker,
                          ms=ms, label=name or "_nolegend_", zorder=3,
                          markeredgewidth=0 if marker else None)
        lines.append(line)
        ok = np.isfinite(x) & np.isfinite(y)
        xs_all.append(x[np.isfinite(x)])  # the x range: every date, also one without a y
        ys_all.append(y[ok])
        if s.label and name:
            labels.append((name, s.label, ms, x[ok], y[ok]))
    for b in spec.bands:
        ax.axhline(b, color=BAND_COLOR, lw=0.6, ls=(0, (4, 3)), zorder=2, label="_band")
    data_x = np.concatenate(xs_all) if xs_all else np.array([])
    lo_hi = (float(data_x.min()), float(data_x.max())) if data_x.size else None
    if spec.kind == "scatter":  # automatic scales take in 0: the quadrants read at a glance
        data_y = np.concatenate(ys_all) if ys_all else np.array([])
        for vals, axis, setlim in ((data_x, spec.x_axis, ax.set_xlim),
                                   (data_y, spec.y_axis, ax.set_ylim)):
            if vals.size and not axis.dates:
                lo, hi = min(0.0, float(vals.min())), max(0.0, float(vals.max()))
                pad = 0.15 * (hi - lo or 1.0)
                setlim(lo - pad, hi + pad)
    y_axis = spec.y_axis
    if spec.kind == "line" and not y_axis.dates:  # the workbook's value scale (axis_scale)
        data_y = np.concatenate(ys_all + [np.asarray(spec.bands, dtype=float)]) \
            if ys_all else np.array([])
        if data_y.size:
            lo, hi, unit = axis_scale(y_axis, (float(data_y.min()), float(data_y.max())),
                                      spec.kind)
            y_axis = replace(y_axis, minimum=lo, maximum=hi, major_unit=unit)
    _setup_axis(ax, "x", spec.x_axis, lo_hi if spec.x_axis.dates else None)
    _setup_axis(ax, "y", y_axis, None)
    _labels(ax, labels)
    ax.tick_params(labelsize=TICK_PT, length=2.5, pad=1.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    size = title_size(spec)
    ax.set_title(_wrapped_title(ax, spec.title, size), fontsize=size, color=NAVY, loc="left",
                 weight="bold", pad=3)
    named = [ln for ln in lines if not ln.get_label().startswith("_")]
    if spec.legend and named:
        if spec.legend == "bottom":
            h_in = _axes_inches(ax)[1]
            below = (0.17 + (0.13 if spec.x_axis.title else 0)) / max(h_in, 0.1)
            ax.legend(handles=named, loc="upper center", bbox_to_anchor=(0.5, -below),
                      ncol=min(len(named), 4), fontsize=LABEL_PT, frameon=False,
                      handlelength=2.2, borderaxespad=0)
        else:
            ax.legend(handles=named, loc="center left", bbox_to_anchor=(1.01, 0.5),
                      fontsize=LABEL_PT, frameon=False, handlelength=2.2)
    return ax


def _labels(ax: Axes, labels) -> None:
    """Data labels with the series name: above (``top``, starting just right of the point)
    or right of each point; a label that would run past the right end of the x axis is put
    to the point's left."""
    lo, hi = ax.get_xlim()
    for name, where, ms, xs, ys in labels:
        for xv, yv in zip(xs, ys):
            near_end = (xv - lo) > 0.93 * (hi - lo)
            if where == "top":  # just right of the point: clear of a step's vertical line
                off, ha, va = ((-2 if near_end else 2), 2 + ms / 2), \
                    ("right" if near_end else "left"), "bottom"
            else:
                off, ha, va = (((-3 - ms / 2) if near_end else (3 + ms / 2)), 0), \
                    ("right" if near_end else "left"), "center"
            ax.annotate(name, (xv, yv), xytext=off, textcoords="offset points",
                        fontsize=LABEL_PT, ha=ha, va=va, color="#222222", zorder=4)


def axes_rect(fig: Figure, rect: Sequence[float], spec: ChartSpec) -> list[float]:
    """The axes inside ``rect`` (figure fraction ``[left, bottom, width, height]``), leaving
    room for the title, tick labels, axis titles and the legend."""
    W, H = fig.get_size_inches()
    l, b, w, h = rect
    size = title_size(spec)
    per_line = max(20, int((w * W - 0.6) * 72 / (size * 0.56)))
    n_title = len(textwrap.wrap(spec.title, per_line)) or 1
    left = 0.42 + (0.14 if spec.y_axis.title else 0)
    right = 0.12 + (1.3 if spec.legend == "right" else 0)
    top = n_title * size * 1.25 / 72 + 0.06
    bottom = 0.2 + (0.13 if spec.x_axis.title else 0) + (0.17 if spec.legend == "bottom"
                                                           else 0)
    ww = max(w - (left + right) / W, 0.05 * w)
    hh = max(h - (top + bottom) / H, 0.05 * h)
    return [l + left / W, b + bottom / H, ww, hh]


def draw_chart(spec: ChartSpec, content: SheetContent
               ) -> Callable[[Figure, Sequence[float]], Axes]:
    """``draw(fig, rect)``: ``spec`` drawn with the data of ``content`` in the figure area
    ``rect = [left, bottom, width, height]`` (figure fraction, title and legend included);
    returns the Axes."""

    def draw(fig: Figure, rect: Sequence[float]) -> Axes:
        ax = fig.add_axes(axes_rect(fig, rect, spec))
        return plot_chart(ax, spec, content)

    return draw
