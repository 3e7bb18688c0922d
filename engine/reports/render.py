"""Drawing helpers shared by the fact sheets and the report (matplotlib, no pyplot state).

Figures are :class:`matplotlib.figure.Figure` objects created directly (no global pyplot
state, no GUI backend); pages are saved through matplotlib's PDF backend.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import textwrap
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "FONT_RC",
    "GREY",
    "LETTER",
    "NAVY",
    "PALETTE",
    "RED",
    "draw_table",
    "fmt_cell",
    "fmt_num",
    "fmt_pct",
    "new_page",
    "slug",
    "wrap",
]

LETTER = (8.5, 11.0)          # inches, portrait
LANDSCAPE = (11.0, 8.5)
NAVY = "#1f3864"
GREY = "#666666"
RED = "#c0504d"  # what a reader must not miss: hypothetical, missing
LIGHT = "#e9edf4"
PALETTE = ["#1f3864", "#c0504d", "#9bbb59", "#f79646", "#4bacc6", "#8064a2", "#7f7f7f"]
DASH = "\u2014"  # em dash shown for a figure that cannot be computed
_NUMERIC = re.compile(r"^([+\-]?[$]?[\d,]*\.?\d+%?|\u2014|\d{4}-\d{2}-\d{2})$")


# Every PDF (fact sheets and report) in one family, embedded as TrueType (Type 42) subsets:
# DejaVu Sans ships with matplotlib, so the file shows the same glyphs on any reader and
# printer, and a compliance archive holds exactly what was sent.
FONT_RC = {"pdf.fonttype": 42, "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"],
           "pdf.compression": 1, "axes.unicode_minus": True}


class _QuietWeights(logging.Filter):
    """Drop font_manager's 'Failed to find font weight …' notices: table text asks for
    'medium', which DejaVu maps to its regular face."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Failed to find font weight" not in record.getMessage()


logging.getLogger("matplotlib.font_manager").addFilter(_QuietWeights())


def new_page(size: tuple[float, float] = LETTER) -> Figure:
    """A blank page (inches)."""
    return Figure(figsize=size)


def _bad(x: Any) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x)) or x is pd.NaT or (
        isinstance(x, (np.floating,)) and not np.isfinite(x))


def _excel_round(v: float, digits: int) -> Decimal:
    """``v`` rounded to ``digits`` decimals as Excel displays it: half away from zero on the
    value's decimal form (to 10 decimals, which drops binary noise such as
    1.06375 - 1 = 0.06374999999999997), so 0.06375 shows as 6.38 %, like the input cell."""
    if abs(v) >= 1e15:  # beyond Excel's 15 digits: nothing to round
        return Decimal(repr(float(v)))
    d = Decimal(repr(round(float(v), 10)))
    return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def fmt_pct(x: Any, digits: int = 2, sign: bool = True) -> str:
    """A decimal as a percent string: 0.0173 -> '+1.73%'; NaN/None -> an em dash. Rounded
    half away from zero, as Excel shows the same cell."""
    if _bad(x):
        return DASH
    v = _excel_round(float(x) * 100, digits)
    return f"{v:{'+' if sign else ''}.{digits}f}%"


def fmt_num(x: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals (rounded half away from zero, as Excel shows it);
    NaN/None -> an em dash."""
    if _bad(x):
        return DASH
    return f"{_excel_round(float(x), digits):,.{digits}f}"


def fmt_cell(x: Any, number_format: str | None = None) -> str:
    """A table cell as text, following an Excel number format when given ('0.00%' -> percent,
    '0.00' -> two decimals, rounded half away from zero as Excel shows them; dates as
    yyyy-mm-dd)."""
    if _bad(x) or (isinstance(x, str) and x == ""):
        return "" if not isinstance(x, float) else DASH
    if isinstance(x, (pd.Timestamp, dt.datetime, dt.date)):
        return f"{pd.Timestamp(x):%Y-%m-%d}"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, float, np.integer, np.floating)):
        f = (number_format or "").strip()
        if f.endswith("%"):
            digits = len(f.split(".")[1]) - 1 if "." in f else 0
            return f"{_excel_round(float(x) * 100, digits):.{digits}f}%"
        if f:
            digits = len(f.split(".")[1]) if "." in f else 0
            return f"{_excel_round(float(x), digits):,.{digits}f}"
        if isinstance(x, (int, np.integer)):
            return str(int(x))
        return f"{float(x):,.4g}" if abs(float(x)) < 1e5 else f"{float(x):,.0f}"
    return str(x)


def wrap(text: str, width: int) -> str:
    """Text wrapped to ``width`` characters per line, paragraphs kept."""
    return "\n".join(textwrap.fill(p, width) if p.strip() else "" for p in str(text).split("\n"))


def slug(name: str) -> str:
    """A safe file-name stem."""
    s = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name).strip())
    return s.strip("_") or "series"


def draw_table(fig: Figure, rect: Sequence[float], header: Sequence[str],
               rows: Sequence[Sequence[str]], col_widths: Sequence[float] | None = None,
               fontsize: float = 7.5, first_col_left: bool = True,
               title: str | None = None, bold_rows: Sequence[int] = ()) -> float:
    """Draw a text table in figure coordinates ``rect = (left, top, width, height_per_row)``.

    Header shaded, rows banded, numbers right-aligned. Returns the y (figure fraction) just
    below the table."""
    left, top, width, rh = rect
    n = len(header)
    w = np.asarray(col_widths if col_widths is not None else [1.0] * n, dtype=float)
    w = w / w.sum() * width
    xs = left + np.concatenate([[0.0], np.cumsum(w)])
    y = top
    if title:
        fig.text(left, y, title, fontsize=fontsize + 1.5, weight="bold", color=NAVY, va="top")
        y -= rh * 1.25
    # a header may hold two lines (engine.reports.pages.header_lines): its row grows
    hh = rh * (1 + 0.7 * (max(str(h).count("\n") for h in header) if n else 0))
    fig.patches.append(_rect(fig, left, y - hh, width, hh, NAVY))
    # text columns are left-aligned, numbers right-aligned (decided by the column's cells)
    texty = [(j == 0 and first_col_left) or any(
        str(r[j]).strip() and not _NUMERIC.match(str(r[j]).strip()) for r in rows)
        for j in range(n)]
    for j, h in enumerate(header):
        _cell(fig, xs[j], xs[j + 1], y - hh / 2, str(h), fontsize, "white", "bold", texty[j])
    y -= hh
    for i, row in enumerate(rows):
        if i % 2 == 1:
            fig.patches.append(_rect(fig, left, y - rh, width, rh, LIGHT))
        for j, v in enumerate(row):
            _cell(fig, xs[j], xs[j + 1], y - rh / 2, str(v), fontsize, "black",
                  "bold" if i in bold_rows else "medium", texty[j])
        y -= rh
    fig.lines.append(_hline(fig, left, left + width, y))
    return y


def _cell(fig, x0, x1, yc, text, fontsize, color, weight, left):
    pad = 0.004
    if left:
        fig.text(x0 + pad, yc, text, fontsize=fontsize, color=color, weight=weight,
                 ha="left", va="center")
    else:
        fig.text(x1 - pad, yc, text, fontsize=fontsize, color=color, weight=weight,
                 ha="right", va="center")


def _rect(fig, x, y, w, h, color):
    from matplotlib.patches import Rectangle
    return Rectangle((x, y), w, h, transform=fig.transFigure, facecolor=color,
                     edgecolor="none", zorder=-1, figure=fig)


def _hline(fig, x0, x1, y):
    from matplotlib.lines import Line2D
    return Line2D([x0, x1], [y, y], transform=fig.transFigure, color=NAVY, lw=0.8, figure=fig)
