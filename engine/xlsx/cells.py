"""Read the cells of worksheets straight from the package: values as Excel last showed them.

A formula cell reads as its cached value (what Excel computed when it last saved, e.g. a
Bloomberg ``=BDH()`` result); one without a cached value is listed in
:attr:`SheetCells.uncached`, never read as 0 or blank. Values are typed: ``float`` (``int``
when integral), ``str``, ``bool``, an Excel error as its text (``"#N/A"``), and
``datetime`` for a number shown in a date format (in the workbook's 1900 or 1904 system) or
an ISO date cell (``t="d"``, Strict files), ``time`` for a number below 1 in such a format.

Only the sheets asked for are parsed (one streaming pass each, the C parser after the
package's prolog check); shared strings and the cell formats are read once per workbook.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.xlsx.namespaces import local
from engine.xlsx.numfmt import excel_date, format_code, is_date_format, is_duration_format
from engine.xlsx.package import Package, PackageError

__all__ = ["Workbook", "SheetCells", "SheetEntry", "col_index", "col_letter", "open_workbook"]


@dataclass(frozen=True)
class SheetEntry:
    """One ``<sheet>`` of the workbook part: its name, ``sheetId``, relationship id, state
    (``visible``/``hidden``/``veryHidden``), the part it points to and that part's kind
    (``worksheet``, ``chartsheet``…; ``""`` when the relationship is broken)."""

    name: str
    sheet_id: int
    rid: str
    state: str
    part: str
    kind: str


@dataclass
class SheetCells:
    """The cells of one worksheet: ``rows[r][c]`` (1-based) holds each value that is not
    blank; ``uncached`` the (row, col) of formulas without a cached value."""

    name: str
    rows: dict[int, dict[int, Any]] = field(default_factory=dict)
    uncached: set[tuple[int, int]] = field(default_factory=set)


def col_letter(col: int) -> str:
    """Column number -> letters: 1 -> ``A``, 28 -> ``AB``."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(ref: str) -> tuple[int, int]:
    """``"AB12"`` -> (row 12, column 28)."""
    col = 0
    i = 0
    for i, ch in enumerate(ref):
        o = ord(ch)
        if 65 <= o <= 90:
            col = col * 26 + o - 64
        elif 97 <= o <= 122:
            col = col * 26 + o - 96
        else:
            break
    else:
        raise ValueError(f"cell reference {ref!r} has no row")
    return int(ref[i:]), col


class Workbook:
    """The workbook part of an open :class:`Package`: sheets, date system, shared strings
    and cell formats, read when first needed. ``lock_structure``: Review > Protect Workbook
    is on (``workbookProtection lockStructure``): no sheet may be added, removed or renamed."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.part = pkg.workbook_part
        self.ns = "{" + pkg.flavour.main + "}"
        self.sheets: list[SheetEntry] = []
        self.date1904 = False
        self.lock_structure = False
        root = pkg.xml(self.part)
        rels = {r.id: r for r in pkg.rels(self.part)}
        for el in root.iter():
            name = local(el.tag)
            if name == "workbookPr":
                self.date1904 = el.get("date1904", "0").lower() in ("1", "true")
            elif name == "workbookProtection":
                self.lock_structure = el.get("lockStructure", "0").lower() in ("1", "true")
            elif name == "sheet":
                rid = next((v for k, v in el.attrib.items() if local(k) == "id"), "")
                rel = rels.get(rid)
                ok = rel is not None and not rel.external and pkg.has(rel.target)
                try:
                    sheet_id = int(el.get("sheetId", "0"))
                except ValueError:
                    sheet_id = 0
                self.sheets.append(SheetEntry(
                    el.get("name", ""), sheet_id, rid, el.get("state", "visible"),
                    rel.target if ok else "", rel.kind if ok else ""))
        self.root = root
        self._sst: list[str] | None = None
        self._date_styles: list[tuple[bool, bool]] | None = None
        self.by_kind = {r.kind: r.target for r in rels.values()
                        if not r.external and pkg.has(r.target)}

    def sheet(self, name: str) -> SheetEntry | None:
        return next((s for s in self.sheets if s.name == name), None)

    @property
    def shared_strings(self) -> list[str]:
        if self._sst is None:
            self._sst = []
            part = self.by_kind.get("sharedStrings")
            if part:
                si, t, r, rph = (self.ns + x for x in ("si", "t", "r", "rPh"))
                for _, el in self.pkg.iterparse(part):
                    if el.tag == si:
                        self._sst.append(_string_item(el, t, r, rph))
                        el.clear()
        return self._sst

    @property
    def date_styles(self) -> list[tuple[bool, bool]]:
        """Per cell format index (``s``): (shows a date, shows a duration)."""
        if self._date_styles is None:
            self._date_styles = []
            part = self.by_kind.get("styles")
            if part:
                root = self.pkg.xml(part)
                custom = {}
                for el in root.iter(self.ns + "numFmt"):
                    try:
                        custom[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
                    except ValueError:
                        continue
                xfs = root.find(self.ns + "cellXfs")
                for xf in (xfs if xfs is not None else []):
                    try:
                        code = format_code(int(xf.get("numFmtId", "0")), custom)
                    except ValueError:
                        code = "General"
                    self._date_styles.append((is_date_format(code), is_duration_format(code)))
        return self._date_styles

    def read(self, name: str) -> SheetCells | None:
        """The cells of worksheet ``name``, or None when there is no such worksheet."""
        entry = self.sheet(name)
        if entry is None or entry.kind != "worksheet":
            return None
        return _read_cells(self, entry)


def _string_item(el, t: str, r: str, rph: str) -> str:
    """The text of a shared string item: plain, or its rich-text runs joined (phonetic
    guides left out)."""
    direct = el.find(t)
    if direct is not None:
        return direct.text or ""
    return "".join((run.findtext(t) or "") for run in el.iter(r))


def _read_cells(wb: Workbook, entry: SheetEntry) -> SheetCells:
    ns = wb.ns
    c_tag, row_tag, v_tag, f_tag, is_tag = (ns + x for x in ("c", "row", "v", "f", "is"))
    t_tag, r_tag, rph_tag = ns + "t", ns + "r", ns + "rPh"
    out = SheetCells(entry.name)
    rows = out.rows
    pending: list = []
    last_row = 0
    sst: list[str] | None = None
    styles = wb.date_styles
    nstyles = len(styles)
    date1904 = wb.date1904
    for _, el in wb.pkg.iterparse(entry.part):
        tag = el.tag
        if tag == c_tag:
            pending.append(el)
            continue
        if tag != row_tag:
            continue
        r_attr = el.get("r")
        row = int(r_attr) if r_attr else last_row + 1
        last_row = row
        col = 0
        cells: dict[int, Any] = {}
        for c in pending:
            ref = c.get("r")
            col = col_index(ref)[1] if ref else col + 1
            t = c.get("t")
            f = v = item = None
            for ch in c:  # one pass over the cell's children: <f>, <v>, <is>
                tag = ch.tag
                if tag == v_tag:
                    v = ch.text or ""
                elif tag == f_tag:
                    f = ch
                elif tag == is_tag:
                    item = ch
            if v == "" and t != "str":  # <v/>: no value (a formula some tools never computed)
                v = None
            if t == "inlineStr":
                value: Any = _string_item(item, t_tag, r_tag, rph_tag) if item is not None \
                    else None
            elif v is None:
                if f is not None:
                    out.uncached.add((row, col))
                continue
            elif t == "s":
                if sst is None:
                    sst = wb.shared_strings
                try:
                    value = sst[int(v)]
                except (ValueError, IndexError):
                    raise PackageError("damaged", f"{wb.pkg.file}: sheet {entry.name}, cell "
                                       f"{ref}: shared string {v} does not exist") from None
            elif t == "str":
                value = v
            elif t == "b":
                value = v.strip() in ("1", "true")
            elif t == "e":
                value = v.strip()
            elif t == "d":
                try:
                    value = dt.datetime.fromisoformat(v.strip().rstrip("Z"))
                except ValueError:
                    value = v
            else:
                try:
                    num = float(v)
                except ValueError:
                    raise PackageError("damaged", f"{wb.pkg.file}: sheet {entry.name}, cell "
                                       f"{ref}: {v[:20]!r} is not a number") from None
                s = c.get("s")
                kind = styles[int(s)] if s and s.isdigit() and int(s) < nstyles else None
                if kind is not None and kind[0] and not kind[1]:
                    try:
                        value = excel_date(num, date1904)
                    except OverflowError:
                        value = num
                    else:
                        if 0 <= num < 1:  # a time of day without a date: 13:30
                            value = value.time()
                else:
                    value = int(num) if num.is_integer() and abs(num) < 2**53 else num
            if value is None or value == "":
                continue
            cells[col] = value
        pending.clear()
        el.clear()
        if cells:
            rows.setdefault(row, {}).update(cells)
    return out


def open_workbook(pkg: Package) -> Workbook:
    """The workbook of ``pkg`` (see :class:`Workbook`)."""
    return Workbook(pkg)
