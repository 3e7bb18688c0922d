"""The worksheet part of an engine sheet: its layout's cells, merged with what the user put
on the sheet.

A new engine sheet is written whole. An existing one (from an earlier refresh, perhaps
edited and saved by Excel since) is merged cell by cell: every cell outside the engine's
zone — its areas of the last refresh and of this one — is kept as it is (value, formula,
format, dynamic-array flags), and so are the user's column widths, row heights, views,
conditional formats, validations, comments, print settings and extensions. Inside the zone
the engine's cells replace whatever was there, and merged cells and hyperlinks that reach
into it are dropped (they would split the engine's tables). Elements go out in the order
of ``CT_Worksheet`` (ECMA-376 Part 1, §18.3.1.99).
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

from engine.workbook.layout import Cell, SheetLayout, a1, col_letter, ranges_box
from engine.workbook.styles import StyleBook
from engine.xlsx.namespaces import Flavour, local
from engine.xlsx.numfmt import excel_serial
from engine.xlsx.xmltext import ParsedPart, excel_text, parse_part

__all__ = ["SheetParts", "Zone", "sheet_part"]

_ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
          "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
          "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
          "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
          "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
          "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
          "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
          "webPublishItems", "tableParts", "extLst"]
_RANK = {n: i for i, n in enumerate(_ORDER)}
MAX_TEXT = 32767  # Excel's limit on the characters of one cell


class Zone:
    """The cells the engine owns on a sheet: a union of A1 ranges. Membership is looked up
    by row (each row keeps the column spans covering it), as a merge asks it once per cell."""

    TALL = 100_000  # rows; a taller range (a whole column) is checked box by box

    @classmethod
    def of(cls, ranges) -> "Zone":
        """The zone of ``ranges``, built once per refresh for the same ranges."""
        return _zone(tuple(ranges))

    def __init__(self, ranges: list[str]):
        self.boxes: list[tuple[int, int, int, int]] = []
        self.by_row: dict[int, list[tuple[int, int]]] = {}
        self.tall: list[tuple[int, int, int, int]] = []
        for r in ranges:
            try:
                box = ranges_box(r)
            except ValueError:
                continue
            self.boxes.append(box)
            c1, r1, c2, r2 = box
            if r2 - r1 > self.TALL:
                self.tall.append(box)
                continue
            for row in range(r1, r2 + 1):
                self.by_row.setdefault(row, []).append((c1, c2))
        for row, spans in self.by_row.items():  # disjoint, sorted: (first cols, last cols)
            merged: list[list[int]] = []
            for c1, c2 in sorted(spans):
                if merged and c1 <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], c2)
                else:
                    merged.append([c1, c2])
            self.by_row[row] = ([m[0] for m in merged], [m[1] for m in merged])

    def row_has(self, spans, col: int) -> bool:
        """Is column ``col`` in one of a row's ``spans`` (``by_row[row]``)?"""
        k = bisect_right(spans[0], col) - 1
        return k >= 0 and col <= spans[1][k]

    def __contains__(self, rc: tuple[int, int]) -> bool:
        r, c = rc
        spans = self.by_row.get(r)
        if spans is not None and self.row_has(spans, c):
            return True
        return any(c1 <= c <= c2 and r1 <= r <= r2 for c1, r1, c2, r2 in self.tall)

    def meets(self, ref: str) -> bool:
        """Does the range (or space-separated ranges) ``ref`` overlap the zone?"""
        for part in ref.split():
            try:
                c1, r1, c2, r2 = ranges_box(part)
            except ValueError:
                continue
            if any(c1 <= bc2 and bc1 <= c2 and r1 <= br2 and br1 <= r2
                   for bc1, br1, bc2, br2 in self.boxes):
                return True
        return False


@lru_cache(maxsize=64)
def _zone(ranges: tuple[str, ...]) -> Zone:
    return Zone(list(ranges))


@dataclass
class SheetParts:
    """What the worksheet part must point at: the drawing's relationship id (``None``: no
    drawing) and the relationship ids of the sheet's tables (the engine's and the user's
    kept ones), in order; ``replaced`` collects messages for user cells the engine's new
    areas covered (the caller reports them)."""

    drawing_rid: str | None = None
    table_rids: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


class _CellWriter:
    """Cell XML for the engine's cells, with the format index of each (role, number format)
    looked up once and dates converted once."""

    def __init__(self, styles: StyleBook, date1904: bool, p: str):
        self.styles, self.date1904, self.p = styles, date1904, p
        self.attr: dict[tuple, str] = {}
        self.serials: dict = {}

    def __call__(self, ref: str, cell: Cell) -> str:
        v, role, fmt = cell
        p = self.p
        t = type(v)
        key = (role, None if t is str else fmt)
        sa = self.attr.get(key)
        if sa is None:
            s = self.styles.xf(*key)
            sa = self.attr[key] = f' s="{s}"' if s else ""
        if t is float:
            return f'<{p}c r="{ref}"{sa}><{p}v>{v!r}</{p}v></{p}c>'
        if t is int:
            return f'<{p}c r="{ref}"{sa}><{p}v>{v}</{p}v></{p}c>'
        if t is bool:
            return f'<{p}c r="{ref}"{sa} t="b"><{p}v>{int(v)}</{p}v></{p}c>'
        if isinstance(v, (dt.datetime, dt.date)):
            serial = self.serials.get(v)
            if serial is None:
                serial = self.serials[v] = excel_serial(v, self.date1904)
            return f'<{p}c r="{ref}"{sa}><{p}v>{serial!r}</{p}v></{p}c>'
        if isinstance(v, (int, float)):
            return f'<{p}c r="{ref}"{sa}><{p}v>{v!r}</{p}v></{p}c>'
        text = str(v)[:MAX_TEXT]
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        return (f'<{p}c r="{ref}"{sa} t="inlineStr"><{p}is><{p}t{space}>{excel_text(text)}'
                f'</{p}t></{p}is></{p}c>')


def sheet_part(lay: SheetLayout, styles: StyleBook, parts: SheetParts, flavour: Flavour,
               date1904: bool, old: bytes | None = None, old_areas: list[str] = ()) -> bytes:
    """The worksheet XML for ``lay``: a new sheet (``old`` is None) or ``old`` merged with
    it (see the module docstring)."""
    kept_rows: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    zone = Zone.of(list(old_areas) + lay.areas)
    if old is None:
        doc = parse_part(f'<worksheet xmlns="{flavour.main}" xmlns:r="{flavour.r}"/>'.encode())
    else:
        rest, cells = _split_sheet_data(old)
        doc = parse_part(rest)
        _keep_cells(cells, zone, Zone.of(old_areas), lay, kept_rows, parts)
    root = doc.root
    p = doc.prefix_of(flavour.main)
    if p is None:
        p = doc.declare("x", flavour.main)
    pre = f"{p}:" if p else ""
    r = doc.declare("r", flavour.r)
    children: list[tuple[int, str]] = []  # (schema rank, xml)
    rank = -1
    for child in root:
        name = local(child.tag)
        rank = _RANK.get(name, rank)  # AlternateContent stays after its predecessor
        if name in ("sheetData", "dimension", "drawing", "tableParts"):
            continue  # rewritten below
        elif name == "mergeCells":
            keep = [m for m in child if not zone.meets(m.get("ref", ""))]
            if keep:
                children.append((rank, f"<{pre}mergeCells count=\"{len(keep)}\">"
                                 + "".join(doc.text(m) for m in keep) + f"</{pre}mergeCells>"))
        elif name == "hyperlinks":
            keep = [h for h in child if not zone.meets(h.get("ref", ""))]
            if keep:
                children.append((rank, f"<{pre}hyperlinks>" + "".join(doc.text(h) for h in keep)
                                 + f"</{pre}hyperlinks>"))
        elif name == "cols":
            children.append((rank, _cols(doc, child, lay, pre)))
        else:
            children.append((rank, doc.text(child)))
    names = {local(c.tag) for c in root}
    if "cols" not in names and lay.widths:
        children.append((_RANK["cols"], _cols(doc, None, lay, pre)))
    if "sheetViews" not in names:
        children.append((_RANK["sheetViews"], _views(lay, pre)))
    if "sheetFormatPr" not in names:
        children.append((_RANK["sheetFormatPr"], f'<{pre}sheetFormatPr defaultRowHeight="15"/>'))
    if old is None:  # a new sheet prints landscape, one page wide; the user's choice stays
        children.append((_RANK["sheetPr"], f'<{pre}sheetPr><{pre}pageSetUpPr fitToPage="1"/>'
                         f'</{pre}sheetPr>'))
        children.append((_RANK["pageMargins"], f'<{pre}pageMargins left="0.7" right="0.7" '
                         f'top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'))
        children.append((_RANK["pageSetup"], f'<{pre}pageSetup orientation="landscape" '
                         f'fitToWidth="1" fitToHeight="0"/>'))
    sheet_data, extent = _sheet_data(lay, kept_rows, styles, date1904, pre)
    children.append((_RANK["sheetData"], sheet_data))
    children.append((_RANK["dimension"], f'<{pre}dimension ref="{extent}"/>'))
    if parts.drawing_rid:
        children.append((_RANK["drawing"], f'<{pre}drawing {r}:id="{parts.drawing_rid}"/>'))
    rids = parts.table_rids
    if rids:
        children.append((_RANK["tableParts"], f'<{pre}tableParts count="{len(rids)}">' + "".join(
            f'<{pre}tablePart {r}:id="{rid}"/>' for rid in rids) + f"</{pre}tableParts>"))
    children.sort(key=lambda t: t[0])  # stable: kept elements keep their order
    body = "".join(x for _, x in children)
    return (doc.head + "\n" + doc.start_tag(root) + body + f"</{doc.name(root.tag)}>"
            ).encode("utf-8")


_SHEET_DATA = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData\b[^>]*?(/?)>")
_ROW = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*?)(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?row\s*>)",
                  re.S)
_CELL = re.compile(r"<((?:[A-Za-z_][\w.-]*:)?)c\b([^>]*?)(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?c\s*>)",
                   re.S)
_R = re.compile(r'\sr\s*=\s*"\$?([A-Za-z]{1,3})\$?(\d+)"')
_ROW_R = re.compile(r'\sr\s*=\s*"(\d+)"')
_C_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_R_ALL = re.compile(r'<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*"\$?([A-Za-z]{1,3})\$?\d+"')
_DROP_ROW_ATTRS = re.compile(r'\s(?:r|spans)\s*=\s*"[^"]*"')
_HEIGHT_ATTRS = re.compile(r'\s(?:ht|customHeight)\s*=\s*"[^"]*"')


def _split_sheet_data(old: bytes) -> tuple[bytes, str]:
    """The sheet without the rows of its ``sheetData`` (for the tree of its other
    elements), and those rows as text: the user's cells are kept as the very bytes they were
    (cells never nest, and a ``<`` inside cell text is always escaped)."""
    m = _SHEET_DATA.search(old)
    if m is None or m.group(2) == b"/":
        return old, ""
    close = b"</" + m.group(1) + b"sheetData>"
    e = old.find(close, m.end())
    if e < 0:
        raise ValueError("the sheet's <sheetData> is not closed")
    return (old[:m.start()] + b"<" + m.group(1) + b"sheetData/>" + old[e + len(close):],
            old[m.end():e].decode("utf-8"))


@lru_cache(maxsize=4096)
def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _keep_cells(rows_text: str, zone: Zone, old_zone: Zone, lay: SheetLayout, kept: dict,
                parts: SheetParts) -> None:
    """The user's cells of an existing sheet, outside the zone, by row: (row attributes,
    [(column, cell xml)]); a user cell (outside the engine's old areas) that the new layout
    covers is reported in ``parts``."""
    row_no = 0
    none = ([], [])
    for m in _ROW.finditer(rows_text):
        attrs, body = m.group(1), m.group(2) or ""
        rr = _ROW_R.search(attrs)
        row_no = int(rr.group(1)) if rr else row_no + 1
        spans = zone.by_row.get(row_no, none)
        old_spans = old_zone.by_row.get(row_no, none)
        refs = _R_ALL.findall(body)
        if not old_zone.tall and len(refs) == len(_C_START.findall(body)) \
                and all(old_zone.row_has(old_spans, _col_number(c)) for c in refs):
            kept[row_no] = (_DROP_ROW_ATTRS.sub("", attrs).rstrip("/").rstrip(), [])
            continue  # a row of the engine's own old cells: nothing of it is kept
        cells: list[tuple[int, str]] = []
        col = 0
        for c in _CELL.finditer(body):
            ref = _R.search(c.group(2))
            col = _col_number(ref.group(1)) if ref else col + 1
            if zone.row_has(spans, col) or (zone.tall and (row_no, col) in zone):
                if not (old_zone.row_has(old_spans, col) or (old_zone.tall and (row_no, col)
                                                              in old_zone)) \
                        and (c.group(3) or "").strip():
                    parts.replaced.append(f"{lay.sheet}!{a1(row_no, col)}")
                continue
            xml = c.group(0)
            if ref is None:  # a cell without its reference: give it one
                tag = f"<{c.group(1)}c"
                xml = tag + f' r="{a1(row_no, col)}"' + xml[len(tag):]
            cells.append((col, xml))
        kept[row_no] = (_DROP_ROW_ATTRS.sub("", attrs).rstrip("/").rstrip(), cells)


def _sheet_data(lay: SheetLayout, kept: dict, styles: StyleBook, date1904: bool, pre: str
                ) -> tuple[str, str]:
    engine_rows: dict[int, list[tuple[int, Cell]]] = {}
    for (r, c), cell in lay.cells.items():
        engine_rows.setdefault(r, []).append((c, cell))
    out = [f"<{pre}sheetData>"]
    max_r = max_c = 0
    min_r = min_c = None
    write = _CellWriter(styles, date1904, pre)
    letters: dict[int, str] = {}
    for r in sorted(set(engine_rows) | set(kept)):
        attrs, user = kept.get(r, ("", []))
        cells = list(user)
        for c, cell in engine_rows.get(r, []):
            col = letters.get(c) or letters.setdefault(c, col_letter(c))
            cells.append((c, write(f"{col}{r}", cell)))
        if not cells and not attrs:
            continue
        cells.sort()  # by column (columns are unique in a row)
        if r in lay.heights:
            attrs = _HEIGHT_ATTRS.sub("", attrs) + f' ht="{lay.heights[r]:g}" customHeight="1"'
        out.append(f'<{pre}row r="{r}"{attrs}>' + "".join(x for _, x in cells) + f"</{pre}row>")
        if cells:
            max_r = max(max_r, r)
            min_r = r if min_r is None else min(min_r, r)
            max_c = max(max_c, cells[-1][0])
            min_c = cells[0][0] if min_c is None else min(min_c, cells[0][0])
    out.append(f"</{pre}sheetData>")
    extent = "A1" if min_r is None else (
        a1(min_r, min_c) if (min_r, min_c) == (max_r, max_c) else a1(min_r, min_c, max_r, max_c))
    return "".join(out), extent


def _cols(doc: ParsedPart, old, lay: SheetLayout, pre: str) -> str:
    """The user's column settings kept; the engine's widths only for columns that have none."""
    items: list[tuple[int, str]] = []
    covered: set[int] = set()
    for col in (old if old is not None else []):
        if local(col.tag) != "col":
            continue
        try:
            lo, hi = int(col.get("min", "0")), int(col.get("max", "0"))
        except ValueError:
            continue
        covered.update(range(lo, min(hi, 16384) + 1) if hi - lo < 20000 else [])
        items.append((lo, doc.text(col)))
    for j, w in sorted(lay.widths.items()):
        if j not in covered:
            items.append((j, f'<{pre}col min="{j}" max="{j}" width="{w:g}" customWidth="1"/>'))
    items.sort(key=lambda t: t[0])
    return f"<{pre}cols>" + "".join(x for _, x in items) + f"</{pre}cols>"


def _views(lay: SheetLayout, pre: str) -> str:
    if lay.freeze_row and lay.freeze_row > 1:
        top = f"A{lay.freeze_row}"
        return (f'<{pre}sheetViews><{pre}sheetView workbookViewId="0"><{pre}pane '
                f'ySplit="{lay.freeze_row - 1}" topLeftCell="{top}" activePane="bottomLeft" '
                f'state="frozen"/><{pre}selection pane="bottomLeft" activeCell="{top}" '
                f'sqref="{top}"/></{pre}sheetView></{pre}sheetViews>')
    return f'<{pre}sheetViews><{pre}sheetView workbookViewId="0"/></{pre}sheetViews>'
