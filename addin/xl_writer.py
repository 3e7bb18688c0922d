"""Write the engine's sheets into an *open* Excel workbook through xlwings (the Refresh button).

The layout is not re-implemented here: :func:`plan_from_copy` runs the same writer as
``gamma refresh`` (:func:`engine.workbook.writer.write_contents`) on a saved copy of the open
workbook, then records, per engine sheet, what it wrote — the cells of each engine area
(values, number formats, fonts and fills), the Excel tables, the charts (type, title, series
formulas, anchor and size) and the new engine areas. :func:`apply_plan` replays that record
through the xlwings object model, touching only engine areas: the previous engine areas are
cleared (their tables unlisted, their charts deleted), every other cell, sheet, name, chart and
VBA module of the open workbook stays as it is. The engine areas are stored where the CLI
keeps them (custom document properties ``gamma_desk_areas_NNN``, see
:mod:`engine.workbook.areas`) so the CLI and the button can take turns.

Only the xlwings ``Book``/``Sheet``/``Range`` surface is used, plus the COM ``api`` where
xlwings has no call (chart series, unlisting a table, document properties); those calls are
guarded so a missing feature on macOS degrades (reported) instead of failing the refresh.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

CM_TO_PT = 72 / 2.54
# openpyxl chart class -> xlwings chart_type name
CHART_TYPES = {"ScatterChart": "xy_scatter_lines_no_markers", "LineChart": "line",
               "BarChart": "column_clustered", "AreaChart": "area"}
AREA_PREFIX = "gamma_desk_areas_"   # same as engine.workbook.areas.PREFIX
AREA_CHUNK = 240
# Excel's COM object model is there (Windows): chart series, Unlist, document properties
USE_COM = sys.platform.startswith("win")


@dataclass
class Block:
    """One engine area: its A1 range and, cell by cell, values and formats."""

    ref: str
    values: list[list[Any]]
    formats: list[list[str | None]]
    styles: list[list[tuple | None]]   # (bold, italic, size, font rgb, fill rgb) or None


@dataclass
class ChartPlan:
    anchor: str                 # top-left cell, e.g. "A30"
    width_cm: float
    height_cm: float
    chart_type: str             # xlwings chart_type name
    title: str | None
    series: list[tuple[str | None, str | None, str]]  # (name formula, x formula, y formula)
    labelled: list[bool] = field(default_factory=list)  # per series: data label = its name


@dataclass
class SheetPlan:
    name: str
    blocks: list[Block] = field(default_factory=list)
    tables: list[tuple[str, str, str]] = field(default_factory=list)  # (name, ref, style)
    charts: list[ChartPlan] = field(default_factory=list)
    widths: dict[str, float] = field(default_factory=dict)           # column letter -> width


@dataclass
class Plan:
    """Everything the button writes: old areas to clear, sheets to write, new areas."""

    old_areas: dict[str, list[str]]
    new_areas: dict[str, list[str]]
    sheets: list[SheetPlan]


def bounds(ref: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of an A1 cell or range."""
    from openpyxl.utils import range_boundaries
    return range_boundaries(ref if ":" in ref else f"{ref}:{ref}")


def _rgb(color) -> tuple[int, int, int] | None:
    v = getattr(color, "rgb", None)
    if not isinstance(v, str) or len(v) < 6 or getattr(color, "type", "rgb") != "rgb":
        return None
    v = v[-6:]
    return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)


def _style(cell) -> tuple | None:
    f = cell.font
    fill = _rgb(cell.fill.fgColor) if cell.fill is not None and cell.fill.fill_type == "solid" \
        else None
    st = (bool(f.b), bool(f.i), float(f.sz) if f.sz else None, _rgb(f.color), fill)
    return None if st[:2] == (False, False) and st[3] is None and fill is None else st


def _title_text(chart) -> str | None:
    t = chart.title
    if t is None:
        return None
    if isinstance(t, str):
        return t
    try:
        return "".join(r.t for p in t.tx.rich.p for r in (p.r or []))
    except AttributeError:
        return None


def _formula(ref_obj) -> str | None:
    if ref_obj is None:
        return None
    for attr in ("numRef", "strRef"):
        r = getattr(ref_obj, attr, None)
        if r is not None and r.f:
            return r.f
    return None


def chart_plan(chart) -> ChartPlan:
    """A platform-neutral record of an openpyxl chart written by the engine writer."""
    a = chart.anchor
    if isinstance(a, str):
        anchor = a
    else:
        from openpyxl.utils import get_column_letter
        anchor = f"{get_column_letter(a._from.col + 1)}{a._from.row + 1}"
    series, labelled = [], []
    for s in chart.series:
        labelled.append(bool(s.dLbls is not None and s.dLbls.showSerName))
        name = None
        if s.tx is not None:
            name = s.tx.strRef.f if s.tx.strRef is not None else None
            if name is None and getattr(s.tx, "v", None):
                name = f'"{s.tx.v}"'
        x = _formula(getattr(s, "xVal", None)) or _formula(getattr(s, "cat", None))
        series.append((name, x, _formula(s.val) or _formula(getattr(s, "yVal", None)) or ""))
    return ChartPlan(anchor, float(chart.width), float(chart.height), _chart_type(chart),
                     _title_text(chart), series, labelled)


def _chart_type(chart) -> str:
    """xlwings chart type: scatter charts by their series' lines and markers."""
    kind = CHART_TYPES.get(type(chart).__name__, "line")
    if type(chart).__name__ != "ScatterChart" or not chart.series:
        return kind
    def no_line(s):
        gp = s.graphicalProperties
        return gp is not None and gp.ln is not None and bool(gp.ln.noFill)

    def no_marker(s):
        return s.marker is not None and s.marker.symbol == "none"

    if all(no_line(s) for s in chart.series):
        return "xy_scatter"
    if all(no_marker(s) for s in chart.series):
        return "xy_scatter_lines_no_markers"
    return "xy_scatter_lines"


def plan_from_copy(copy: Path | str, contents: list) -> Plan:
    """Lay ``contents`` out exactly as ``gamma refresh`` would, on the saved ``copy`` of the
    open workbook (the copy is changed in memory only), and record the result."""
    from openpyxl import load_workbook
    from engine.workbook.areas import read_areas
    from engine.workbook.writer import merge_contents, write_contents

    wb = load_workbook(copy, rich_text=False)
    old = read_areas(wb)
    existed = set(wb.sheetnames)
    new = write_contents(wb, contents)
    sheets = []
    for name in merge_contents(contents):
        ws = wb[name]
        sp = SheetPlan(name)
        for ref in new.get(name, []):
            c1, r1, c2, r2 = bounds(ref)
            cells = [[ws.cell(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
            sp.blocks.append(Block(
                ref, [[c.value for c in row] for row in cells],
                [[None if c.number_format == "General" else c.number_format for c in row]
                 for row in cells],
                [[_style(c) for c in row] for row in cells]))
        for t in ws.tables.values():
            style = t.tableStyleInfo.name if t.tableStyleInfo is not None else "TableStyleMedium2"
            sp.tables.append((t.displayName, t.ref, style))
        sp.charts = [chart_plan(ch) for ch in ws._charts]
        if name not in existed:
            sp.widths = {k: float(d.width) for k, d in ws.column_dimensions.items()
                         if d.width and d.customWidth}
        sheets.append(sp)
    wb.close()
    return Plan(old, new, sheets)


def _inside(col: int, row: int, areas: list[str]) -> bool:
    return any(c1 <= col <= c2 and r1 <= row <= r2
               for c1, r1, c2, r2 in (bounds(a) for a in areas))


def _point_inside(sheet, left: float, top: float, areas: list[str]) -> bool:
    """Whether a chart's top-left corner (points) lies in one of the areas."""
    for a in areas:
        r = sheet.range(a)
        if r.left - 0.5 <= left < r.left + r.width and r.top - 0.5 <= top < r.top + r.height:
            return True
    return False


def _unlist(table) -> None:
    """Turn an Excel table back into plain cells (the cells are cleared afterwards)."""
    api = table.api
    for call in ("Unlist", "unlist"):
        fn = getattr(api, call, None)
        if callable(fn):
            fn()
            return
    raise RuntimeError("cannot remove an Excel table on this platform")


def clear_areas(sheet, areas: list[str]) -> None:
    """Remove what the engine wrote last time on ``sheet``: tables and charts whose top-left
    corner is in ``areas``, then the cells (values and formats) of ``areas``."""
    if not areas:
        return
    for t in list(sheet.tables):
        c1, r1, _, _ = bounds(t.range.address.replace("$", ""))
        if _inside(c1, r1, areas):
            _unlist(t)
    for ch in list(sheet.charts):
        if _point_inside(sheet, ch.left, ch.top, areas):
            ch.delete()
    for a in areas:
        sheet.range(a).clear()


def _runs(row: list) -> list[tuple[int, int, Any]]:
    """Maximal runs (start, end, value) of equal, non-None values in a row."""
    out, j = [], 0
    while j < len(row):
        k = j
        while k + 1 < len(row) and row[k + 1] == row[j]:
            k += 1
        if row[j] is not None:
            out.append((j, k, row[j]))
        j = k + 1
    return out


def write_block(sheet, b: Block) -> None:
    """Values in one call, then number formats and styles by runs of equal cells."""
    from openpyxl.utils import get_column_letter
    c1, r1, c2, r2 = bounds(b.ref)
    values = [[_value(v) for v in row] for row in b.values]
    rng = sheet.range(b.ref)
    rng.value = values[0][0] if (c1, r1) == (c2, r2) else values
    for i, row in enumerate(b.formats):
        for j, k, fmt in _runs(row):
            sheet.range(f"{get_column_letter(c1 + j)}{r1 + i}:"
                        f"{get_column_letter(c1 + k)}{r1 + i}").number_format = fmt
    for i, row in enumerate(b.styles):
        for j, k, st in _runs(row):
            r = sheet.range(f"{get_column_letter(c1 + j)}{r1 + i}:"
                            f"{get_column_letter(c1 + k)}{r1 + i}")
            bold, italic, size, font_rgb, fill_rgb = st
            if bold:
                r.font.bold = True
            if italic:
                r.font.italic = True
            if size:
                r.font.size = size
            if font_rgb:
                r.font.color = font_rgb
            if fill_rgb:
                r.color = fill_rgb


def _value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def add_chart(sheet, cp: ChartPlan, com: bool) -> None:
    """A native chart at the planned cell; series by COM formulas on Windows, else the first
    series' data range (xlwings' portable ``set_source_data``)."""
    anchor = sheet.range(cp.anchor)
    ch = sheet.charts.add(anchor.left, anchor.top, cp.width_cm * CM_TO_PT,
                          cp.height_cm * CM_TO_PT)
    ch.chart_type = cp.chart_type
    if com:
        chart = ch.api[1]
        for s in list(chart.SeriesCollection()):
            s.Delete()
        for k, (name, x, y) in enumerate(cp.series):
            s = chart.SeriesCollection().NewSeries()
            s.Values = "=" + y
            if x:
                s.XValues = "=" + x
            if name:
                s.Name = "=" + name
            if k < len(cp.labelled) and cp.labelled[k]:
                s.HasDataLabels = True
                s.DataLabels().ShowSeriesName = True
                s.DataLabels().ShowValue = False
        if cp.title:
            chart.HasTitle = True
            chart.ChartTitle.Text = cp.title
    elif cp.series and cp.series[0][2]:
        sheet_name, addr = cp.series[0][2].rsplit("!", 1)
        ch.set_source_data(sheet.book.sheets[sheet_name.strip("'")].range(addr.replace("$", "")))


def apply_plan(book, plan: Plan, progress: Callable[[str], None] = lambda m: None,
               com: bool | None = None) -> list[str]:
    """Write ``plan`` into the open ``book`` (an xlwings Book). Returns warnings (features
    this platform could not write); raises only if a sheet cannot be written at all."""
    com = USE_COM if com is None else com
    warnings: list[str] = []
    names = [s.name for s in book.sheets]
    for sp in plan.sheets:
        progress(f"writing {sp.name}")
        if sp.name in names:
            sheet = book.sheets[sp.name]
        else:
            sheet = book.sheets.add(sp.name, after=book.sheets[len(names) - 1])
            names.append(sp.name)
        clear_areas(sheet, plan.old_areas.get(sp.name, []))
        for b in sp.blocks:
            write_block(sheet, b)
        for tname, ref, style in sp.tables:
            try:
                sheet.tables.add(source=sheet.range(ref), name=tname, table_style_name=style)
            except Exception as e:  # e.g. a name clash with a user's table
                warnings.append(f"{sp.name}: table {tname} at {ref} not created ({e})")
        for cp in sp.charts:
            try:
                add_chart(sheet, cp, com)
            except Exception as e:
                warnings.append(f"{sp.name}: chart at {cp.anchor} not created ({e})")
        for col, w in sp.widths.items():
            sheet.range(f"{col}:{col}").column_width = w
    try:
        store_areas(book, plan.new_areas)
    except Exception as e:
        warnings.append(f"engine areas not stored in the workbook ({e}); the next refresh "
                        "will not clear cells the engine no longer uses")
    return warnings


def area_chunks(areas: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(property name, value) pairs, the format of :mod:`engine.workbook.areas`."""
    text = json.dumps({k: list(dict.fromkeys(v)) for k, v in sorted(areas.items())},
                      separators=(",", ":"))
    return [(f"{AREA_PREFIX}{i // AREA_CHUNK:03d}", text[i:i + AREA_CHUNK])
            for i in range(0, len(text), AREA_CHUNK)]


def store_areas(book, areas: dict[str, list[str]]) -> None:
    """Replace the custom document properties holding the engine areas (COM API)."""
    props = book.api.CustomDocumentProperties
    for i in range(props.Count, 0, -1):
        p = props.Item(i)
        if str(p.Name).startswith(AREA_PREFIX):
            p.Delete()
    for name, value in area_chunks(areas):
        props.Add(Name=name, LinkToContent=False, Type=4, Value=value)  # 4 = string


__all__ = ["Plan", "SheetPlan", "Block", "ChartPlan", "plan_from_copy", "apply_plan",
           "clear_areas", "write_block", "add_chart", "chart_plan", "store_areas",
           "area_chunks", "bounds"]
