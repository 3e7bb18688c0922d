"""Splice the engine's sheets into a workbook package; every other part is copied as it is.

The refresh never loads the user's workbook into a spreadsheet library. :func:`plan` reads
only what it must — the workbook part, the styles, the engine sheets already there and
their tables and drawings — and returns a :class:`Splice`: the parts the engine writes, the
engine's old parts it drops, and the areas it now owns. :func:`write` then streams the new
package: each part not written is copied with its compressed bytes untouched
(:mod:`engine.xlsx.zipwrite`), in the original order; new parts follow.

What the engine owns: its sheets (by name, :data:`~engine.tables.base.ENGINE_SHEETS`) with
their relationships, the Excel tables and charts inside its areas on them, and the drawing
that holds those charts (merged with any picture or shape the user put there). What it
shares, changing only its own entries (:mod:`engine.workbook.shared_parts`): the workbook
part (new sheets appended; existing entries keep position, ``sheetId`` and ``r:id``; the
print areas of engine sheets and the hidden defined names that hold the engine's areas,
:mod:`engine.workbook.areas`), its relationships, ``[Content_Types].xml``, the styles part
(append-only, :mod:`engine.workbook.styles`), the custom properties (the previous
version's area properties dropped), the titles in
``docProps/app.xml`` and the calculation chain (entries of replaced engine cells dropped).
Shared strings are never touched: engine cells hold inline strings.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import BinaryIO
from xml.etree.ElementTree import Element

from engine.tables.base import SheetContent
from engine.workbook.areas import area_names, read_stored
from engine.workbook.chart_xml import chart_anchor, chart_part
from engine.workbook.layout import SheetLayout, lay_out, merge_contents, name_tables
from engine.workbook.chart_xml import sheet_ref_area
from engine.workbook.shared_parts import (add_sheets, app_titles, calc_chain_without,
                                          ENGINE_PROPERTY, custom_properties,
                                          edit_content_types, edit_rels, new_rels,
                                          recalc_on_open, set_engine_names, set_print_areas)
from engine.workbook.sheet_xml import SheetParts, Zone, sheet_part
from engine.workbook.styles import StyleBook, minimal_styles
from engine.workbook.table_xml import table_part
from engine.xlsx.cells import Workbook, col_index
from engine.xlsx.namespaces import CONTENT_TYPES, Flavour, local
from engine.xlsx.package import Package, Rel
from engine.xlsx.xmltext import parse_part
from engine.xlsx.zipwrite import ZipWriter

__all__ = ["Splice", "plan", "write", "custom_part", "tables_in_use", "SHARED_KINDS"]

# what each shared part is, for the guard (engine.workbook.guard)
SHARED_KINDS = ("workbook", "workbook-rels", "content-types", "styles", "custom", "root-rels",
                "app", "calc-chain")


@dataclass
class Splice:
    """The changes one refresh makes to a package.

    ``written``: part name -> new bytes (engine parts and changed shared parts);
    ``removed``: the engine's old parts not carried over; ``shared``: part name -> kind
    (:data:`SHARED_KINDS`) of the shared parts in ``written``; ``engine_sheets``: sheet
    name -> worksheet part of every engine sheet written; ``areas``: the areas stored;
    ``warnings``: what the user should know (a note the engine's table now covers…)."""

    written: dict[str, bytes] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    shared: dict[str, str] = field(default_factory=dict)
    engine_sheets: dict[str, str] = field(default_factory=dict)
    areas: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class _Names:
    """Free part names (case-insensitive), lowest number first."""

    def __init__(self, taken):
        self.taken = {n.casefold() for n in taken}

    def new(self, stem: str, ext: str = ".xml") -> str:
        n = 1
        while f"{stem}{n}{ext}".casefold() in self.taken:
            n += 1
        name = f"{stem}{n}{ext}"
        self.taken.add(name.casefold())
        return name

    def free(self, name: str) -> None:
        self.taken.discard(name.casefold())


def _rel_target(source: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(source) or ".")


def _free_rid(used: set[str]) -> str:
    n = 1
    while f"rId{n}" in used:
        n += 1
    used.add(f"rId{n}")
    return f"rId{n}"


def _rels_xml(source: str, rels: list[Rel]) -> bytes:
    """A relationships part for ``source`` holding ``rels`` (targets written relative)."""
    return new_rels([(r.id, r.type, r.target if r.external else _rel_target(source, r.target),
                      r.external) for r in rels])


def _anchor_cell(anchor: Element) -> tuple[int, int] | None:
    """(row, col), 1-based, of a drawing anchor's top-left cell."""
    frm = next((c for c in anchor.iter() if local(c.tag) == "from"), None)
    if frm is None:
        return None
    vals = {local(c.tag): (c.text or "").strip() for c in frm}
    try:
        return int(vals["row"]) + 1, int(vals["col"]) + 1
    except (KeyError, ValueError):
        return None


def _is_chart(anchor: Element) -> bool:
    return any(local(e.tag) == "graphicData" and (e.get("uri") or "").endswith("/chart")
               for e in anchor.iter())


def _ids_in(el: Element) -> set[str]:
    """Relationship ids an element refers to (``r:id``, ``r:embed``, ``r:link``…)."""
    return {v for e in el.iter() for k, v in e.attrib.items()
            if k.startswith("{") and k[1:].partition("}")[0].endswith("relationships")}


class _Planner:
    def __init__(self, pkg: Package, book: Workbook):
        self.pkg = pkg
        self.book = book
        self.fl: Flavour = pkg.flavour
        self.out = Splice()
        self.names = _Names(pkg.names)
        self.new_types: dict[str, str] = {}
        self._refs: dict[str, int] | None = None

    # -- reference counts over the whole package (to drop only what nothing else uses) --
    def refs(self) -> dict[str, int]:
        if self._refs is None:
            counts: dict[str, int] = {}
            for name in self.pkg.names:
                if name.endswith(".rels") and posixpath.basename(posixpath.dirname(name)) \
                        == "_rels":
                    folder = posixpath.dirname(posixpath.dirname(name))
                    source = posixpath.join(folder, posixpath.basename(name)[:-5])
                    for r in self.pkg.rels(source):
                        if not r.external:
                            counts[r.target] = counts.get(r.target, 0) + 1
            self._refs = counts
        return self._refs

    def drop(self, part: str) -> None:
        """Drop an engine part and, recursively, the parts only it referred to."""
        if part in self.out.removed or not self.pkg.has(part):
            return
        self.out.removed.add(part)
        self.names.free(part)
        rels_name = self.pkg.rels_name(part)
        for r in self.pkg.rels(part):
            if not r.external and self.refs().get(r.target, 0) <= 1:
                self.drop(r.target)
        if self.pkg.has(rels_name):
            self.out.removed.add(rels_name)
            self.names.free(rels_name)

    def _formulas_read_engine_sheets(self) -> bool:
        """Does a formula of the user's (a sheet's cell, a defined name) refer to an engine
        sheet the refresh writes? Then Excel must recalculate on open: the cached values of
        those formulas are last month's."""
        engine = set(self.out.engine_sheets)
        if not engine:
            return False
        parts = [s.part for s in self.book.sheets if s.part and s.name not in engine
                 and s.kind == "worksheet"]
        if any(_refers_to(self.pkg.read(p), engine) for p in parts):
            return True
        names = re.sub(rb"<(?:[A-Za-z_][\w.-]*:)?definedName\b[^>]*\bname=\"_xlnm\.Print_Area\""
                       rb"[^>]*>.*?</(?:[A-Za-z_][\w.-]*:)?definedName>", b"",
                       self.pkg.read(self.book.part), flags=re.S)  # print areas: no formulas
        return _refers_to(names, engine)

    def add(self, name: str, data: bytes, kind: str | None = None) -> None:
        self.out.written[name] = data
        self.names.taken.add(name.casefold())
        if kind is not None:
            self.new_types[name] = CONTENT_TYPES[kind]

    # -- the plan ---------------------------------------------------------------------
    def run(self, contents: list[SheetContent]) -> Splice:
        pkg, book, fl = self.pkg, self.book, self.fl
        custom = custom_part(pkg)
        old_areas = read_stored(pkg.xml(book.part), pkg.xml(custom) if custom else None)
        merged = merge_contents(contents)
        entries = {s.name: s for s in book.sheets}
        targets: list[tuple[SheetContent, object]] = []
        for name, content in merged.items():
            e = entries.get(name)
            if e is not None and e.kind != "worksheet":
                self.out.warnings.append(
                    f'sheet "{name}" is {"a " + e.kind if e.kind else "broken"}, not a '
                    "worksheet: the engine did not write it (rename that sheet and the next "
                    "refresh creates the engine's)")
                continue
            targets.append((content, e))
        layouts = [lay_out(c) for c, _ in targets]

        # the tables already in the package: the engine's (inside its zone on a sheet it
        # rewrites) go, the user's stay and keep their names and ids
        engine_tables, used_names, used_ids = tables_in_use(pkg, book, {
            e.part: Zone.of(old_areas.get(content.sheet, []) + lay.areas)
            for (content, e), lay in zip(targets, layouts) if e is not None})
        name_tables(layouts, used_names)
        for t in engine_tables:
            self.drop(t)

        styles_part = book.by_kind.get("styles")
        styles = StyleBook(pkg.read(styles_part) if styles_part else minimal_styles(fl), fl)
        next_id = _Counter(used_ids)
        new_sheets: list[tuple[str, str]] = []  # (name, part)
        self.print_areas: dict[str, str] = {}
        for (content, e), lay in zip(targets, layouts):
            part = e.part if e is not None else self.names.new("xl/worksheets/sheet")
            self._sheet(lay, e, part, styles, old_areas.get(content.sheet, []), next_id)
            if lay.print_area:
                self.print_areas[content.sheet] = sheet_ref_area(content.sheet, lay.print_area)
            self.out.engine_sheets[content.sheet] = part
            if e is None:
                new_sheets.append((content.sheet, part))
        self.out.areas = {s: a for s, a in old_areas.items()
                          if s not in self.out.engine_sheets}
        for lay in layouts:
            if lay.sheet in self.out.engine_sheets:
                self.out.areas[lay.sheet] = lay.areas
        self._shared(styles, styles_part, custom, new_sheets, old_areas)
        return self.out

    def _sheet(self, lay: SheetLayout, entry, part: str, styles: StyleBook,
               old_areas: list[str], next_id: "_Counter") -> None:
        pkg, fl = self.pkg, self.fl
        old_rels = pkg.rels(part) if entry is not None else []
        zone = Zone.of(old_areas + lay.areas)
        kept = [r for r in old_rels if r.external or r.target not in self.out.removed]
        drawing_rel = next((r for r in kept if r.kind == "drawing" and not r.external), None)
        kept = [r for r in kept if r is not drawing_rel]
        # ids of the dropped tables are free again: a second refresh writes the same rels
        rids = {r.id for r in kept} | ({drawing_rel.id} if drawing_rel is not None else set())
        parts = SheetParts(table_rids=[r.id for r in kept if r.kind == "table"])
        new_rels_: list[Rel] = []
        for t in lay.tables:
            name = self.names.new("xl/tables/table")
            self.add(name, table_part(t, next_id(), fl), "table")
            rid = _free_rid(rids)
            parts.table_rids.append(rid)
            new_rels_.append(Rel(rid, "table", fl.rel("table"), name, False))
        drawing = self._drawing(lay, drawing_rel, zone)
        if drawing is not None:
            rid = drawing_rel.id if drawing_rel is not None else _free_rid(rids)
            parts.drawing_rid = rid
            new_rels_.append(Rel(rid, "drawing", drawing_rel.type if drawing_rel else
                                 fl.rel("drawing"), drawing, False))
        old = pkg.read(part) if entry is not None else None
        xml = sheet_part(lay, styles, parts, fl, self.book.date1904, old, old_areas)
        self.add(part, xml, "worksheet" if entry is None else None)
        for ref in parts.replaced:
            self.out.warnings.append(f"{ref}: a cell you typed was where the engine's table "
                                     "now goes and was replaced (it is in the backup)")
        all_rels = kept + new_rels_
        rels_name = pkg.rels_name(part)
        if all_rels:
            self.add(rels_name, _rels_xml(part, all_rels), "rels")
        elif pkg.has(rels_name):
            self.out.removed.add(rels_name)

    def _drawing(self, lay: SheetLayout, rel: Rel | None, zone: Zone) -> str | None:
        """The drawing part of the sheet (name), with the user's anchors kept and the
        engine's charts placed; ``None`` when the sheet needs no drawing."""
        pkg, fl = self.pkg, self.fl
        if rel is not None and pkg.has(rel.target):
            doc = parse_part(pkg.read(rel.target))
            part = rel.target
            old_rels = pkg.rels(part)
        else:
            doc = parse_part(f'<xdr:wsDr xmlns:xdr="{fl.xdr}" xmlns:a="{fl.a}" '
                             f'xmlns:r="{fl.r}" xmlns:c="{fl.c}"/>'.encode())
            part, old_rels = None, []
        kept, gone_ids = [], set()
        for anchor in doc.root:
            cell = _anchor_cell(anchor)
            if _is_chart(anchor) and cell is not None and cell in zone:
                gone_ids |= _ids_in(anchor)
            else:
                kept.append(anchor)
        kept_ids = set().union(*(_ids_in(a) for a in kept)) if kept else set()
        for r in old_rels:
            if r.id in gone_ids and r.id not in kept_ids and not r.external:
                self.drop(r.target)
        if not kept and not lay.charts:
            if part is not None:
                self.drop(part)
            return None
        if part is None:
            part = self.names.new("xl/drawings/drawing")
            self.new_types[part] = CONTENT_TYPES["drawing"]
        rels = [r for r in old_rels if r.id in kept_ids]
        rids = {r.id for r in rels}
        x = doc.declare("xdr", fl.xdr)
        a = doc.declare("a", fl.a)
        rp = doc.declare("r", fl.r)
        cp = doc.declare("c", fl.c)
        shape = max([0, *(int(e.get("id")) for k in kept for e in k.iter()
                          if local(e.tag) == "cNvPr" and (e.get("id") or "").isdigit())])
        anchors = [doc.text(k) for k in kept]
        for ch in lay.charts:
            name = self.names.new("xl/charts/chart")
            self.add(name, chart_part(ch, lay, fl, self.book.date1904), "chart")
            rid = _free_rid(rids)
            rels.append(Rel(rid, "chart", fl.rel("chart"), name, False))
            shape += 1
            anchors.append(chart_anchor(ch, rid, shape, fl, (x, a, rp, cp)))
        self.add(part, (doc.head + "\n" + doc.start_tag(doc.root) + "".join(anchors)
                        + f"</{doc.name(doc.root.tag)}>").encode("utf-8"))
        self.add(pkg.rels_name(part), _rels_xml(part, rels), "rels")
        return part

    def _shared(self, styles: StyleBook, styles_part: str | None, custom: str | None,
                new_sheets: list[tuple[str, str]], old_areas: dict) -> None:
        pkg, fl, out = self.pkg, self.fl, self.out
        wb_part = self.book.part
        wb_rels_name = pkg.rels_name(wb_part)
        wb_rids = {r.id for r in pkg.rels(wb_part)}
        add_rels: list[tuple[str, str, str]] = []
        sheet_entries = []
        next_sheet_id = max([0, *(s.sheet_id for s in self.book.sheets)]) + 1
        for name, part in new_sheets:
            rid = _free_rid(wb_rids)
            add_rels.append((rid, fl.rel("worksheet"), _rel_target(wb_part, part)))
            sheet_entries.append((name, next_sheet_id, rid))
            next_sheet_id += 1
        styles_xml = styles.xml_bytes()
        if styles_part is None:
            styles_part = "xl/styles.xml" if "xl/styles.xml" not in self.names.taken \
                else self.names.new("xl/styles")
            add_rels.append((_free_rid(wb_rids), fl.rel("styles"),
                             _rel_target(wb_part, styles_part)))
            self.add(styles_part, styles_xml or minimal_styles(fl), "styles")
        elif styles_xml is not None:
            self.add(styles_part, styles_xml)
            out.shared[styles_part] = "styles"
        order = [s.name for s in self.book.sheets] + [n for n, _ in new_sheets]
        wb_xml = set_print_areas(add_sheets(pkg.read(wb_part), sheet_entries, fl),
                                 {order.index(n): ref for n, ref in self.print_areas.items()})
        wb_xml = set_engine_names(wb_xml, area_names(out.areas))  # the areas (areas.py)
        if self._formulas_read_engine_sheets():
            wb_xml = recalc_on_open(wb_xml)
        if wb_xml != pkg.read(wb_part):
            self.add(wb_part, wb_xml)
            out.shared[wb_part] = "workbook"
        if add_rels:
            self.add(wb_rels_name, edit_rels(pkg.read(wb_rels_name) if pkg.has(wb_rels_name)
                                             else None, add_rels))
            out.shared[wb_rels_name] = "workbook-rels"
        # the previous version kept the areas in custom document properties: drop them
        if custom is not None and _engine_props(pkg, custom):
            self.add(custom, custom_properties(pkg.read(custom), [], fl))
            out.shared[custom] = "custom"
        # titles of parts
        app = next((r.target for r in pkg.rels("") if r.kind in ("extended-properties",
                    "extendedProperties") and pkg.has(r.target)), None)
        if app and new_sheets:
            new_app = app_titles(pkg.read(app), [n for n, _ in new_sheets], fl)
            if new_app is not None:
                self.add(app, new_app)
                out.shared[app] = "app"
        # the calculation chain: no entries for cells the engine replaced
        chain = self.book.by_kind.get("calcChain")
        if chain:
            drop: dict[int, set[str]] = {}
            ids = {s.name: s.sheet_id for s in self.book.sheets}
            for sheet in out.engine_sheets:
                if sheet in ids:
                    zone = Zone.of(old_areas.get(sheet, []) + out.areas.get(sheet, []))
                    drop[ids[sheet]] = zone
            new_chain = _chain(pkg.read(chain), drop)
            if new_chain is not None:
                self.add(chain, new_chain)
                out.shared[chain] = "calc-chain"
        # content types
        ct = edit_content_types(pkg.read("[Content_Types].xml"), self.new_types,
                                out.removed - set(out.written))
        if ct != pkg.read("[Content_Types].xml"):
            self.add("[Content_Types].xml", ct)
            out.shared["[Content_Types].xml"] = "content-types"


def _refers_to(data: bytes, names) -> bool:
    """Does the XML ``data`` hold a reference to one of the sheets ``names`` (``Signals!A1``,
    ``'Stock Forecasts'!B2``, any case, as Excel reads sheet names)? Every such reference
    ends in ``!``: only the few bytes before each ``!`` are looked at, so a large sheet of
    numbers costs one scan for ``!``."""
    quoted, plain = set(), set()
    for n in names:
        q = ("'" + n.replace("'", "''") + "'").lower()
        quoted |= {q.encode(), q.replace("'", "&apos;").encode()}
        if re.fullmatch(r"[A-Za-z_][\w.]*", n):
            plain.add(n.lower().encode())
    width = max(len(f) for f in quoted | plain) + 1
    i = data.find(b"!")
    while i >= 0:
        seg = data[max(0, i - width):i].lower()
        if any(seg.endswith(f) for f in quoted):
            return True
        for f in plain:
            if seg.endswith(f) and (len(seg) == len(f) or not (
                    chr(seg[-len(f) - 1]).isalnum() or seg[-len(f) - 1] in b"_.'")):
                return True
        i = data.find(b"!", i + 1)
    return False


def _engine_props(pkg: Package, custom: str) -> bool:
    """Does the custom properties part hold the previous version's area properties?"""
    return any(local(p.tag) == "property" and ENGINE_PROPERTY.match(p.get("name") or "")
               for p in pkg.xml(custom))


def _chain(data: bytes, zones: dict[int, Zone]) -> bytes | None:
    """The calculation chain without entries inside the engine zones (by sheetId)."""
    cells: dict[int, set[str]] = {}
    sheet = 0
    for m in re.finditer(rb"<(?:[A-Za-z_][\w.-]*:)?c\b([^>]*)/>", data):
        attrs = m.group(1).decode()
        i = re.search(r'\si="(\d+)"', " " + attrs)
        if i:
            sheet = int(i.group(1))
        r = re.search(r'\sr="\$?([A-Za-z]+)\$?(\d+)"', " " + attrs)
        if r and sheet in zones:
            row, col = col_index(r.group(1) + r.group(2))
            if (row, col) in zones[sheet]:
                cells.setdefault(sheet, set()).add(f"{r.group(1).upper()}{r.group(2)}")
    return calc_chain_without(data, cells) if cells else None


def custom_part(pkg: Package) -> str | None:
    """The custom document properties part (where the engine's areas are kept), if any."""
    return next((r.target for r in pkg.rels("") if r.kind in
                 ("custom-properties", "customProperties") and not r.external
                 and pkg.has(r.target)), None)


def tables_in_use(pkg: Package, book: Workbook, zones: dict[str, Zone]
                  ) -> tuple[set[str], set[str], set[int]]:
    """(the engine's table parts, the names and the ids the engine's new tables must not
    take). ``zones``: worksheet part -> the engine's zone on that sheet (its areas of the
    last refresh and of this one); a table meeting it is the engine's and goes. Every other
    table keeps its name and id, and the workbook's defined names are taken too."""
    engine_tables: set[str] = set()
    for part, zone in zones.items():
        for r in pkg.rels(part):
            if r.kind == "table" and not r.external and pkg.has(r.target):
                if zone.meets(pkg.xml(r.target).get("ref", "")):
                    engine_tables.add(r.target)
    used_names: set[str] = set()
    used_ids: set[int] = set()
    for n in pkg.names:
        if n in engine_tables or pkg.content_type(n) != CONTENT_TYPES["table"]:
            continue
        root = pkg.xml(n)
        used_names |= {root.get("name", ""), root.get("displayName", "")}
        if (root.get("id") or "").isdigit():
            used_ids.add(int(root.get("id")))
    for dn in book.root.iter():
        if local(dn.tag) == "definedName" and dn.get("name"):
            used_names.add(dn.get("name"))
    used_names.discard("")
    return engine_tables, used_names, used_ids


class _Counter:
    """Table ids: the lowest not used by the user's tables, in order."""

    def __init__(self, used: set[int]):
        self.used = set(used)

    def __call__(self) -> int:
        n = 1
        while n in self.used:
            n += 1
        self.used.add(n)
        return n


def plan(pkg: Package, book: Workbook, contents: list[SheetContent]) -> Splice:
    """The changes that put ``contents`` into the package (see the module docstring)."""
    return _Planner(pkg, book).run(contents)


def write(pkg: Package, splice: Splice, out: BinaryIO) -> None:
    """Write the new package to ``out``: the original parts in their order (written ones
    replaced, removed ones left out, the rest copied byte for byte), then the new parts."""
    w = ZipWriter(out)
    done = set()
    for info in pkg.entries:
        name = pkg.part_of(info)
        if name in splice.written:  # under its own entry name, however the producer spelt it
            w.add(info.filename, splice.written[name])
            done.add(name)
        elif name not in splice.removed:
            w.copy(pkg, info)
    for name, data in splice.written.items():
        if name not in done:
            w.add(name, data)
    w.close(pkg.zf.comment)
