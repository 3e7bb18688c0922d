"""A paginating PDF writer for the report: headings, text, tables split across pages (rows and
columns), and chart blocks, on landscape Letter pages with a running header and page numbers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import matplotlib
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from engine.reports.render import (
    FONT_RC,
    GREY,
    LANDSCAPE,
    NAVY,
    draw_table,
    fmt_cell,
    new_page,
    wrap,
)
from engine.tables.base import DATE, Table

__all__ = ["PageWriter", "table_cells"]

TOP, BOTTOM, LEFT, WIDTH = 0.90, 0.06, 0.05, 0.90
PAGE_PTS = LANDSCAPE[0] * 72 * WIDTH  # usable width in points
MIN_FONT = 5.5


def table_cells(table: Table) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of a :class:`Table`, numbers formatted by ``Table.formats``
    (datetime columns as dates), text whole (a name is never cut: the font shrinks, or the
    header wraps, to fit it)."""
    df = table.df
    header = [str(c) for c in df.columns]
    fmts = [table.formats.get(c) or (DATE if pd.api.types.is_datetime64_any_dtype(df[c])
                                     else None) for c in df.columns]
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for v, f in zip(rec, fmts):
            cells.append(fmt_cell(v, f).replace("\n", " "))
        rows.append(cells)
    return header, rows


def header_lines(header: str, body_chars: int) -> str:
    """``header`` wrapped onto two lines, or three when that makes its column at least three
    characters narrower, when it is wider than the column's widest cell (``body_chars``; bold
    header text is ~20 % wider): a long header ("Max Drawdown (hyp.)") does not widen a
    column of short figures."""
    h = str(header)
    if len(h) * 1.2 <= body_chars or " " not in h:
        return h
    longest = max(len(w) for w in h.split())

    def cols(lines: list[str]) -> float:  # the column's width with these header lines
        return max(body_chars, 1.2 * max(len(x) for x in lines))

    two, three = (textwrap.wrap(h, max(longest, -(-len(h) // n))) for n in (2, 3))
    best = three if len(three) <= 3 and cols(three) <= cols(two) - 3 else two
    return "\n".join(best)


def column_chars(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[int]]:
    """Headers (wrapped by :func:`header_lines`) and each column's width in characters: its
    widest cell or header line (bold header text is ~20 % wider than body text), plus 2."""
    body = [max([len(r[j]) for r in rows] or [0]) for j in range(len(header))]
    hdr = [header_lines(h, b) for h, b in zip(header, body)]
    widths = [max([int(len(line) * 1.2 + 0.99) for line in h.split("\n")] + [b]) + 2
              for h, b in zip(hdr, body)]
    return hdr, widths


class PageWriter:
    """Writes pages into one PDF; ``y`` is the cursor (figure fraction) on the current page."""

    def __init__(self, path, title: str, subtitle: str, dry: bool = False):
        """``dry``: lay the pages out without drawing charts or writing a file (to learn on
        which page each section starts, for the contents)."""
        self.dry = dry
        self.pdf = None if dry else PdfPages(path, metadata={"Title": title})
        self.title, self.subtitle = title, subtitle
        self.fig = None
        self.y = TOP
        self.pages = 0
        self.marks: dict[str, int] = {}  # section heading -> page number
        self._rc = matplotlib.rc_context(FONT_RC)
        self._rc.__enter__()

    # ------------------------------------------------------------------ pages
    def new_page(self) -> None:
        self.flush()
        self.fig = new_page(LANDSCAPE)
        self.pages += 1
        self.fig.text(LEFT, 0.955, self.title, fontsize=9, weight="bold", color=NAVY)
        self.fig.text(LEFT + WIDTH, 0.955, self.subtitle, fontsize=8, color=GREY, ha="right")
        self.fig.lines.append(matplotlib.lines.Line2D([LEFT, LEFT + WIDTH], [0.945, 0.945],
                                                      transform=self.fig.transFigure,
                                                      color=NAVY, lw=0.8, figure=self.fig))
        self.fig.text(LEFT + WIDTH, 0.025, f"Page {self.pages}", fontsize=7, color=GREY,
                      ha="right")
        self.y = TOP

    def flush(self) -> None:
        if self.fig is not None and self.pdf is not None:
            self.pdf.savefig(self.fig)
        self.fig = None

    def close(self) -> int:
        """Finish the file; returns the number of pages."""
        self.flush()
        if self.pdf is not None:
            self.pdf.close()
        self._rc.__exit__(None, None, None)
        return self.pages

    def room(self, need: float) -> None:
        """Start a new page unless ``need`` (figure fraction) fits below the cursor."""
        if self.fig is None or self.y - need < BOTTOM - 1e-9:
            self.new_page()

    # ------------------------------------------------------------------ content
    def heading(self, text: str, size: float = 14, page_break: bool = False) -> None:
        if page_break or self.fig is None:
            self.new_page()
        self.room(0.08)
        self.marks.setdefault(text, self.pages)
        self.fig.text(LEFT, self.y, text, fontsize=size, weight="bold", color=NAVY, va="top")
        self.y -= size / 72 / LANDSCAPE[1] * 1.7

    def text(self, text: str, size: float = 8, color: str = "#333333", width: int = 190,
             ) -> None:
        body = wrap(text, width)
        n = body.count("\n") + 1
        h = n * size * 1.45 / 72 / LANDSCAPE[1]
        self.room(h + 0.01)
        self.fig.text(LEFT, self.y, body, fontsize=size, color=color, va="top", linespacing=1.3)
        self.y -= h + 0.012

    def table(self, table: Table, fallback_title: str | None = None) -> None:
        """Draw a table, splitting rows over pages and very wide tables into column groups
        (each group repeats the first column)."""
        header, rows = table_cells(table)
        if not header:
            return
        header, widths = column_chars(header, rows)
        head_rows = max(h.count("\n") + 1 for h in header)
        groups, cur, total = [], [], 0
        max_chars = PAGE_PTS / (MIN_FONT * 0.62)  # what fits at the smallest font
        for j in range(1, len(header)):
            if cur and total + widths[j] > max_chars - widths[0]:
                groups.append(cur)
                cur, total = [], 0
            cur.append(j)
            total += widths[j]
        if cur or not groups:
            groups.append(cur)
        title = table.title or fallback_title or table.name
        for gi, g in enumerate(groups):
            cols = [0, *g]
            chars = sum(widths[j] for j in cols)
            fs = max(MIN_FONT, min(8.0, PAGE_PTS / (chars * 0.62)))
            rh = fs * 1.75 / 72 / LANDSCAPE[1]
            width = min(WIDTH, chars * fs * 0.62 / 72 / LANDSCAPE[0])
            hdr = [header[j] for j in cols]
            body = [[r[j] for j in cols] for r in rows]
            part = f"{title} ({gi + 1}/{len(groups)})" if len(groups) > 1 else title
            start = 0
            while True:
                self.room(rh * 4)
                fit = max(1, int((self.y - BOTTOM) / rh) - 1 - head_rows)
                chunk = body[start:start + fit]
                cont = " (continued)" if start else ""
                self.y = draw_table(self.fig, (LEFT, self.y, width, rh), hdr, chunk,
                                    [widths[j] for j in cols], fontsize=fs,
                                    title=part + cont) - 0.012
                start += len(chunk)
                if start >= len(body):
                    break
                self.new_page()
        for note in table.notes:
            self.text(note, size=6.5, color=GREY)
        self.y -= 0.01

    def chart(self, draw: Callable, height: float = 0.40, min_height: float | None = None,
              ) -> None:
        """Reserve ``height`` (figure fraction; down to ``min_height`` when that fits on the
        current page) and call ``draw(fig, rect)`` with ``rect = [left, bottom, width,
        height]`` for the axes."""
        if self.fig is not None and min_height is not None:
            avail = self.y - BOTTOM - 0.02
            if min_height <= avail < height:
                height = avail
        self.room(height + 0.02)
        rect = [LEFT + 0.04, self.y - height + 0.03, WIDTH - 0.06, height - 0.05]
        if not self.dry:
            draw(self.fig, rect)
        self.y -= height + 0.02
