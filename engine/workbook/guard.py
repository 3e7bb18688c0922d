"""The no-data-loss guard: what a refresh must not drop, and the check before replacing.

A refresh loads the workbook with openpyxl, rewrites only the engine's own sheets
(:data:`~engine.tables.base.ENGINE_SHEETS`), saves to a temporary file and — before the
atomic replace — calls::

    problems = unsupported_parts(original)            # parts openpyxl would drop
    before = snapshot(original)
    ... write engine sheets, save to tmp ...
    problems += compare(before, snapshot(tmp), engine_areas=areas)
    if problems: raise GuardError(problems)            # exit 2, original untouched

:func:`snapshot` reads the package itself (not through openpyxl, whose losses it must see):
per sheet every cell's value, formula, cached value of the formula, resolved style
(number format, font, fill, border, alignment, protection) and rich-text runs; comments,
hyperlinks, merged cells, data validations, conditional formats, column widths and
hidden columns, row heights, freeze panes, print settings, protection, Excel tables,
sheet-level extensions (sparklines, x14 validations…), charts (types, title, series
references, anchor), images and shapes; at workbook level the sheet order and visibility,
defined names, the date system and calculation mode, and the inventory of OOXML parts
(pivot caches, slicers, VBA, external links, custom XML…) with the sheet that owns each.

Untrusted files: parts are parsed with defusedxml, and the zip directory is checked
against :data:`~engine.workbook.guard_package.MAX_UNCOMPRESSED_BYTES` and
:data:`~engine.workbook.guard_package.MAX_COMPRESSION_RATIO` first; a refusal raises
:class:`GuardError` with the reason.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl.xml
from openpyxl.utils.cell import get_column_letter, range_boundaries

from engine.tables.base import ENGINE_SHEETS
from engine.workbook.guard_package import (
    MAX_COMPRESSION_RATIO, MAX_UNCOMPRESSED_BYTES, NS_MAIN, R_ID, Package, PackageError, local)
from engine.workbook.guard_sheet import (
    STRIDE, STYLE_PARTS, SheetSnap, XlValue, canon, read_drawing, read_shared_strings,
    read_sheet, read_styles)

__all__ = [
    "GuardError", "WorkbookSnapshot", "snapshot", "compare", "unsupported_parts",
    "excel_lock_owner", "table_areas", "MAX_UNCOMPRESSED_BYTES", "MAX_COMPRESSION_RATIO", "MAX_MESSAGES",
]

MAX_MESSAGES = 20  # compare() lists this many problems, then "… and N more"
# Custom document properties the engine owns (engine/workbook/areas.py); others are the user's.
ENGINE_PROPERTY_PREFIX = "gamma_desk_"
_M = f"{{{NS_MAIN}}}"


class GuardError(Exception):
    """A refresh refused to replace the workbook. ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class WorkbookSnapshot:
    """Everything a user could lose in one workbook file (see the module docstring).

    ``sheets`` is in workbook order; ``names`` maps ``Name`` or ``Sheet!Name`` (sheet
    scope) to the name's formula; ``parts`` maps ``(owner, content type)`` to part names,
    owner being a sheet name or ``workbook``; ``seconds`` is the time the snapshot took.
    """

    path: Path
    sheets: dict[str, SheetSnap] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)
    other_elements: set[str] = field(default_factory=set)
    properties: set[str] = field(default_factory=set)  # custom document property names
    parts: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    seconds: float = 0.0


# Content types every writer regenerates (not user content: compared through the cells,
# or metadata). Chart style/colour parts only hold Excel's style-gallery choice; the
# chart itself is compared series by series. Printer settings are driver blobs.
_REGENERATED = (
    "spreadsheetml.calcChain", "spreadsheetml.sharedStrings", "spreadsheetml.styles",
    "package.core-properties", "officedocument.extended-properties",
    "spreadsheetml.worksheet", "spreadsheetml.chartsheet", "spreadsheetml.sheet.main",
    "spreadsheetml.sheet.macroEnabled.main", "spreadsheetml.template", "relationships",
    "chartstyle", "chartcolorstyle", "printerSettings", "ms-excel.sheet.macroEnabled",
    "custom-properties",  # compared by property name (an empty part may vanish)
    # compared semantically (comments by cell, drawings object by object, Excel tables by
    # name), so a lost part is reported there with its place:
    "spreadsheetml.comments", "officedocument.drawing+xml", "drawingml.chart+xml",
    "vmlDrawing", "spreadsheetml.table+xml",
)
_REGEN_KINDS = {"printerSettings", "thumbnail", "calcChain", "sharedStrings", "styles"}

# Workbook / sheet extension URIs that carry user content (others, such as x15
# workbookPr or calcFeatures, are bookkeeping every writer may drop).
_WB_EXT = {
    "{BBE1A952-AA13-448E-AADC-164F8A28A991}": "slicer caches",
    "{46BE6895-7355-4A93-B00E-2C351335B9C9}": "slicer caches (tables)",
    "{D0CA8CA8-9F24-4464-BF8E-62219DCF47F9}": "timeline caches",
    "{FCE2AD5D-F65C-4FA6-A056-5C36A1767C68}": "data model (Power Pivot)",
    "{876F7934-8845-4945-9796-88D515C7AA90}": "pivot caches (x14)",
    "{841E416B-1EF1-43B6-AB56-02D37102CBD5}": "pivot caches (x15)",
}
_SHEET_EXT_MINOR = {"{01252117-D84E-4E92-8308-4BE1C098FCBB}"}  # ignored-error flags


# ---------------------------------------------------------------------------------------
def _require_defusedxml() -> None:
    if not openpyxl.xml.DEFUSEDXML:
        raise GuardError("openpyxl is not using defusedxml (install the 'defusedxml' package "
                         "and do not set OPENPYXL_DEFUSEDXML=False): refusing to read "
                         "untrusted workbooks without XML-bomb protection")


def snapshot(path: str | Path) -> WorkbookSnapshot:
    """Read everything a user could lose from the workbook at ``path``.

    Raises :class:`GuardError` when the file is not a readable workbook, is larger than
    the uncompressed-size bound, looks like a zip bomb, or contains XML entity
    declarations (XML bomb).
    """
    t0 = time.perf_counter()
    _require_defusedxml()
    path = Path(path)
    snap = WorkbookSnapshot(path=path)
    try:
        with Package(path) as pkg:
            wb_part = pkg.workbook_part()
            root = pkg.xml(wb_part)
            rels = {r.id: r for r in pkg.rels(wb_part)}
            by_kind = {r.kind: r.target for r in rels.values() if not r.external}
            sst = read_shared_strings(pkg, by_kind.get("sharedStrings"))
            styles = read_styles(pkg, by_kind.get("styles"))
            order: list[str] = []
            sheet_parts: dict[str, str] = {}
            for el in root.iter(_M + "sheet"):
                name = el.get("name", "")
                order.append(name)
                rel = rels.get(el.get(R_ID))
                s = SheetSnap(name=name, state=el.get("state", "visible"))
                if rel is None or rel.external or not pkg.has(rel.target):
                    s.kind = "missing part"
                else:
                    sheet_parts[name] = rel.target
                    s.kind = rel.kind
                    if rel.kind == "worksheet":
                        read_sheet(pkg, rel.target, sst, styles, s)
                    else:  # chartsheet, dialogsheet, macrosheet: their drawing only
                        for r in pkg.rels(rel.target):
                            if r.kind == "drawing" and pkg.has(r.target):
                                s.drawing.extend(read_drawing(pkg, r.target))
                snap.sheets[name] = s
            _read_workbook(root, order, snap)
            for r in pkg.rels(""):
                if r.kind == "custom-properties" and pkg.has(r.target):
                    # the engine's own bookkeeping (engine.workbook.areas) may change freely
                    snap.properties = {p.get("name", "") for p in pkg.xml(r.target)
                                       if not p.get("name", "").startswith(ENGINE_PROPERTY_PREFIX)}
            snap.parts = _inventory(pkg, wb_part, sheet_parts)
    except PackageError as exc:
        raise GuardError([str(exc)]) from exc
    snap.seconds = time.perf_counter() - t0
    return snap


def _read_workbook(root, order: list[str], snap: WorkbookSnapshot) -> None:
    for el in root:
        name = local(el.tag)
        if name == "definedNames":
            for dn in el:
                scope = dn.get("localSheetId")
                key = dn.get("name", "")
                if scope is not None and scope.isdigit() and int(scope) < len(order):
                    key = f"{order[int(scope)]}!{key}"
                if dn.get("name", "") == "_xlnm._FilterDatabase":
                    continue  # bookkeeping of the auto filter, compared with the sheet
                value = _norm_ref(dn.text or "")
                if dn.get("name", "").startswith("_xlnm."):
                    value = value.replace("$", "")  # writers differ; print areas are absolute
                if dn.get("hidden") in ("1", "true"):
                    value += " (hidden)"
                snap.names[key] = value
        elif name == "workbookPr":
            snap.settings["date system"] = "1904" if el.get("date1904") in ("1", "true") else "1900"
        elif name == "calcPr":
            snap.settings["calculation mode"] = el.get("calcMode", "auto")
        elif name == "workbookProtection":
            snap.settings["workbook protection"] = canon(el)
        elif name == "extLst":
            for ext in el:
                uri = (ext.get("uri") or "").upper()
                if uri in _WB_EXT:
                    snap.extensions[uri] = _WB_EXT[uri]
        elif name not in ("fileVersion", "bookViews", "sheets", "calcPr", "definedNames",
                          "externalReferences", "pivotCaches", "workbookPr", "fileSharing",
                          "AlternateContent", "revisionPtr", "absPath"):
            snap.other_elements.add(name)
    snap.settings.setdefault("date system", "1900")
    snap.settings.setdefault("calculation mode", "auto")


_QUOTED_SIMPLE = re.compile(r"'([A-Za-z_][A-Za-z0-9_.]*)'!")


def _norm_ref(text: str) -> str:
    """``'Sheet1'!$A$1`` and ``Sheet1!$A$1`` are the same reference."""
    return _QUOTED_SIMPLE.sub(r"\1!", text.strip())


def _inventory(pkg: Package, wb_part: str, sheet_parts: dict[str, str]) -> dict:
    """``(owner, content type) -> [part names]`` for every part reachable from the root
    relationships; owner is the sheet whose relationships lead to it, else ``workbook``."""
    owner_of_sheet = {p: n for n, p in sheet_parts.items()}
    owner: dict[str, str] = {}
    queue: list[tuple[str, str]] = [("", "workbook")]
    while queue:
        part, who = queue.pop(0)
        for rel in pkg.rels(part):
            if rel.external or rel.target in owner or not pkg.has(rel.target):
                continue
            if rel.kind in _REGEN_KINDS:
                continue
            w = owner_of_sheet.get(rel.target, who)
            owner[rel.target] = w
            queue.append((rel.target, w))
    parts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, who in owner.items():
        ctype = pkg.content_type(name)
        if any(k.lower() in ctype.lower() for k in _REGENERATED):
            continue
        parts[(who, ctype)].append(name)
    return dict(parts)


# ---------------------------------------------------------------------------------------
Area = tuple[int, int, int, int]  # min_col, min_row, max_col, max_row (inclusive)


def _areas(refs: Iterable[str] | None) -> list[Area]:
    out = []
    for ref in refs or ():
        ref = ref.split("!")[-1].replace("$", "")
        try:
            c1, r1, c2, r2 = range_boundaries(ref)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"engine_areas: expected A1 ranges like 'A1:J20', got {ref!r}") from exc
        out.append((c1 or 1, r1 or 1, c2 or 16384, r2 or 1048576))
    return out


def _inside(areas: list[Area], col: int, row: int) -> bool:
    return any(a[0] <= col <= a[2] and a[1] <= row <= a[3] for a in areas)


def _touches(areas: list[Area], sqref: str) -> bool:
    """True when any range of the space-separated ``sqref`` intersects an engine area."""
    for ref in sqref.split():
        try:
            c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
        except (ValueError, TypeError):
            return True
        c1, r1, c2, r2 = c1 or 1, r1 or 1, c2 or 16384, r2 or 1048576
        if any(c1 <= a[2] and a[0] <= c2 and r1 <= a[3] and a[1] <= r2 for a in areas):
            return True
    return False


def _show(v: object) -> str:
    if isinstance(v, XlValue):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.12g}"
    if isinstance(v, str):
        return '"' + (v if len(v) <= 40 else v[:39] + "…") + '"'
    return "empty"


def _same(a: object, b: object) -> bool:
    return a == b and type(a) is type(b)


def _style_diff(a: tuple, b: tuple) -> str:
    parts = []
    for label, x, y in zip(STYLE_PARTS, a, b):
        if x != y:
            parts.append(f'number format "{x}" became "{y}"' if label == "number format"
                         else f"{label} changed")
    return "; ".join(parts)


def _cell_problems(where: str, b: tuple | None, a: tuple | None, user_sheet: bool,
                   cached_values: bool = True) -> list[str]:
    """Messages for one cell; ``b``/``a`` are (col, value, formula, cached, style, rich)."""
    if b is None:
        if a is None or not user_sheet:
            return []
        if a[2] is not None:
            return [f'{where}: formula "{a[2]}" written on a user sheet']
        if a[1] is not None:
            return [f"{where}: value {_show(a[1])} written on a user sheet"]
        return [f"{where}: formatting added on a user sheet"]
    _, bv, bf, bc, bs, br = b
    if a is None:
        if bf is not None:
            return [f'{where}: formula "{bf}" dropped']
        if bv is not None:
            return [f"{where}: value {_show(bv)} dropped"]
        return [f"{where}: formatting dropped ({_style_diff(bs, ('General',) + ('',) * 5) or 'style'})"]
    _, av, af, ac, as_, ar = a
    out = []
    if bf is not None and af is None:
        out.append(f'{where}: formula "{bf}" became '
                   + (f"value {_show(av)}" if av is not None else "empty"))
    elif bf is None and af is not None:
        out.append(f'{where}: value {_show(bv)} became formula "{af}"')
    elif bf is not None:
        if bf != af and bf.endswith(" dynamic") and af == bf[: -len(" dynamic")]:
            out.append(f'{where}: dynamic-array formula "{bf[:-8]}" became a legacy '
                       "(Ctrl+Shift+Enter) array formula")
        elif bf != af:
            out.append(f'{where}: formula "{bf}" became "{af}"')
        elif not cached_values:
            pass
        elif bc is not None and ac is None:
            out.append(f'{where}: cached value {_show(bc)} of formula "{bf}" dropped '
                       "(the next read would find no value)")
        elif not _same(bc, ac) and bc is not None:
            out.append(f'{where}: cached value of formula "{bf}" {_show(bc)} became {_show(ac)}')
    elif not _same(bv, av):
        out.append(f"{where}: value {_show(bv)} became {_show(av)}")
    if br != ar and br is not None:
        out.append(f"{where}: rich-text formatting of {_show(bv)} "
                   + ("dropped" if ar is None else "changed"))
    if bs != as_:
        out.append(f"{where}: style changed ({_style_diff(bs, as_)})")
    return out


def _compare_cells(name: str, b: SheetSnap, a: SheetSnap, areas: list[Area] | None,
                   cached_values: bool = True) -> list[str]:
    out: list[str] = []
    user = areas is None
    for r in sorted(set(b.rows) | set(a.rows)):
        br, ar = b.rows.get(r, ()), a.rows.get(r, ())
        if user and br == ar:
            continue
        bc = {br[i]: br[i:i + STRIDE] for i in range(0, len(br), STRIDE)}
        ac = {ar[i]: ar[i:i + STRIDE] for i in range(0, len(ar), STRIDE)}
        for c in sorted(set(bc) | set(ac)):
            if not user and _inside(areas, c, r):
                continue
            x, y = bc.get(c), ac.get(c)
            if x == y:
                continue
            out += _cell_problems(f"{name}!{get_column_letter(c)}{r}", x, y, user, cached_values)
    for label, bd, ad in (("comment", b.comments, a.comments),
                          ("hyperlink to", b.hyperlinks, a.hyperlinks)):
        for ref in sorted(set(bd) | set(ad), key=_ref_key):
            if bd.get(ref) == ad.get(ref) or (not user and _touches(areas, ref)):
                continue
            if ref not in ad:
                out.append(f"{name}!{ref}: {label} {bd[ref]} dropped")
            elif ref not in bd:
                if user:
                    out.append(f"{name}!{ref}: {label} {ad[ref]} added on a user sheet")
            else:
                out.append(f"{name}!{ref}: {label} {bd[ref]} became {ad[ref]}")
    return out


def _ref_key(ref: str) -> tuple:
    m = re.match(r"([A-Z]+)(\d+)", ref)
    return (int(m.group(2)), len(m.group(1)), m.group(1)) if m else (0, 0, ref)


def _compare_ranges(name: str, label: str, bd: Mapping[str, str], ad: Mapping[str, str],
                    areas: list[Area] | None) -> list[str]:
    out = []
    for sq in sorted(set(bd) | set(ad)):
        if areas is not None and _touches(areas, sq):
            continue
        if sq not in ad:
            out.append(f"{name}: {label} on {sq} dropped")
        elif sq not in bd:
            if areas is None:
                out.append(f"{name}: {label} on {sq} added")
        elif bd[sq] != ad[sq]:
            out.append(f"{name}: {label} on {sq} changed")
    return out


def _span(idx: list[int], letters: bool) -> str:
    """``[3,4,5,9]`` -> ``C:E, I`` (or ``3:5, 9`` for rows)."""
    fmt = get_column_letter if letters else str
    out, start = [], None
    for i, v in enumerate(idx):
        if start is None:
            start = v
        if i + 1 == len(idx) or idx[i + 1] != v + 1:
            out.append(fmt(start) if start == v else f"{fmt(start)}:{fmt(v)}")
            start = None
    return ", ".join(out)


def _compare_dims(name: str, label: str, bd: dict, ad: dict) -> list[str]:
    changes: dict[tuple, list[int]] = defaultdict(list)
    for k in sorted(set(bd) | set(ad)):
        x, y = bd.get(k), ad.get(k)
        if x == y:
            continue
        x = x or (None, False, None, "0")
        y = y or (None, False, None, "0")
        what = []
        size = "width" if label == "column" else "height"
        if x[0] != y[0]:
            what.append(f"{size} {x[0] if x[0] is not None else 'default'} became "
                        f"{y[0] if y[0] is not None else 'default'}")
        if x[1] != y[1]:
            what.append("hidden" if y[1] else "unhidden")
        if x[2] != y[2]:
            what.append("style changed")
        if x[3] != y[3]:
            what.append(f"outline level {x[3]} became {y[3]}")
        changes[tuple(what)].append(k)
    return [f"{name}: {label}{'s' if len(ks) > 1 else ''} {_span(ks, label == 'column')} "
            + ", ".join(w) for w, ks in changes.items() if w]


def _compare_drawings(name: str, b: SheetSnap, a: SheetSnap) -> list[str]:
    out = []
    plural = {"chart": "Charts", "image": "Images", "shape": "Shapes", "group": "Shape groups",
              "connector": "Connectors", "smartart": "SmartArt graphics",
              "chartex": "Charts (Excel 2016 types)", "other graphic": "Graphics", "ink": "Ink"}
    for kind in sorted({d.kind for d in b.drawing} | {d.kind for d in a.drawing}):
        bi = sorted((d for d in b.drawing if d.kind == kind), key=lambda d: (d.anchor, d.title))
        ai = sorted((d for d in a.drawing if d.kind == kind), key=lambda d: (d.anchor, d.title))
        label = f'{plural.get(kind, kind)} on sheet "{name}"'
        akeys = Counter((d.anchor, d.title, d.detail) for d in ai)
        lost = []
        for d in bi:
            k = (d.anchor, d.title, d.detail)
            if akeys[k]:
                akeys[k] -= 1
            else:
                lost.append(d)
        if len(ai) < len(bi):
            n = len(bi) - len(ai)
            what = ", ".join(f"at {d.anchor}" + (f' "{d.title}"' if d.title else "") for d in lost)
            out.append(f"{label}: {n} {kind}{'s' if n > 1 else ''} dropped ({what})")
        elif lost:
            for d in lost:
                out.append(f"{label}: {kind} at {d.anchor}" + (f' "{d.title}"' if d.title else "")
                           + f" changed (was {d.detail or 'as before'})")
    return out


def _compare_sheet(name: str, b: SheetSnap, a: SheetSnap, areas: list[Area] | None,
                   cached_values: bool = True) -> list[str]:
    """All differences on one sheet; ``areas`` is None for a user sheet, else the engine
    sheet's own ranges (everything inside them may change)."""
    out = _compare_cells(name, b, a, areas, cached_values)
    out += [f"{name}: merged cells {m} dropped" for m in sorted(b.merged - a.merged)
            if areas is None or not _touches(areas, m)]
    if areas is None:
        out += [f"{name}: merged cells {m} added" for m in sorted(a.merged - b.merged)]
    out += _compare_ranges(name, "data validation", b.validations, a.validations, areas)
    out += _compare_ranges(name, "conditional formatting", b.cond_formats, a.cond_formats, areas)
    if areas is not None:  # the engine owns layout, tables and charts of its sheets
        return out
    if b.kind != a.kind:
        out.append(f"{name}: sheet type {b.kind} became {a.kind}")
    out += _compare_dims(name, "column", b.columns, a.columns)
    out += _compare_dims(name, "row", b.row_formats, a.row_formats)
    for key in sorted(set(b.settings) | set(a.settings)):
        x, y = b.settings.get(key), a.settings.get(key)
        if x != y:
            short = len(x or "") < 30 and len(y or "") < 30
            out.append(f"{name}: {key} " + (f"{x or 'none'} became {y or 'none'}" if short
                                             else "dropped" if y is None else "changed"))
    for uri, feature in sorted(b.extensions.items()):
        if uri not in a.extensions and uri not in _SHEET_EXT_MINOR:
            out.append(f"{name}: {feature} (worksheet extension) dropped")
    for el in sorted(b.other_elements - a.other_elements):
        out.append(f"{name}: <{el}> element dropped")
    for t in sorted(set(b.tables) | set(a.tables)):
        if t not in a.tables:
            out.append(f'{name}: Excel table "{t}" dropped')
        elif t in b.tables and b.tables[t] != a.tables[t]:
            out.append(f'{name}: Excel table "{t}" changed ({b.tables[t]} became {a.tables[t]})')
    out += _compare_drawings(name, b, a)
    return out


def compare(before: WorkbookSnapshot, after: WorkbookSnapshot,
            engine_sheets: Iterable[str] = ENGINE_SHEETS,
            engine_areas: Mapping[str, Iterable[str]] | None = None,
            max_messages: int = MAX_MESSAGES, cached_values: bool = True) -> list[str]:
    """Every difference between two snapshots that a user would call a loss.

    User sheets (not in ``engine_sheets``) are compared completely. On engine sheets only
    cells, comments, hyperlinks, merged cells, validations and conditional formats lying
    entirely OUTSIDE ``engine_areas[sheet]`` (A1 ranges the engine wrote before or now,
    e.g. ``["A1:J20"]``) are compared; the engine's tables, charts and layout there may
    change. A missing user sheet is a problem; a missing engine sheet only if it held
    user content outside the areas. Returns messages naming sheet and cell or part
    (empty list = nothing lost), at most ``max_messages`` plus an "… and N more" line.

    ``cached_values``: also report a formula whose cached value (what Excel computed, and
    what the engine reads for e.g. ``=BDH()`` inputs) vanished — openpyxl saves formulas
    without their cached values, so a plain openpyxl save of an Excel-calculated workbook
    fails this check.
    """
    engine = set(engine_sheets)
    areas_by_sheet = {k: _areas(v) for k, v in (engine_areas or {}).items()}
    out: list[str] = []
    for name, b in before.sheets.items():
        a = after.sheets.get(name)
        if name in engine:
            out += _compare_sheet(name, b, a or SheetSnap(name), areas_by_sheet.get(name, []),
                                  cached_values)
            continue
        if a is None:
            out.append(f'workbook: sheet "{name}" dropped')
            continue
        if b.state != a.state:
            out.append(f'workbook: sheet "{name}" was {b.state}, became {a.state}')
        out += _compare_sheet(name, b, a, None, cached_values)
    user_b = [n for n in before.sheets if n not in engine and n in after.sheets]
    user_a = [n for n in after.sheets if n in user_b]
    if user_b != user_a:
        out.append(f"workbook: sheet order changed ({', '.join(user_b)} became {', '.join(user_a)})")
    for key in sorted(before.names):
        scope = key.split("!")[0] if "!" in key else None
        if scope in engine and "_xlnm." in key:
            continue
        if key not in after.names:
            out.append(f'workbook: defined name "{key}" dropped (was {before.names[key]})')
        elif after.names[key] != before.names[key]:
            out.append(f'workbook: defined name "{key}" {before.names[key]} became {after.names[key]}')
    for key in sorted(set(before.settings) | set(after.settings)):
        if before.settings.get(key) != after.settings.get(key):
            out.append(f"workbook: {key} {before.settings.get(key, 'none')} became "
                       f"{after.settings.get(key, 'none')}"[:200])
    for uri, feature in sorted(before.extensions.items()):
        if uri not in after.extensions:
            out.append(f"workbook: {feature} dropped")
    for el in sorted(before.other_elements - after.other_elements):
        out.append(f"workbook: <{el}> element dropped")
    for prop in sorted(before.properties - after.properties):
        out.append(f'workbook: custom document property "{prop}" dropped')
    out += _compare_parts(before, after, engine)
    if len(out) > max_messages:
        out = out[:max_messages] + [f"… and {len(out) - max_messages} more"]
    return out


def _compare_parts(before: WorkbookSnapshot, after: WorkbookSnapshot, engine: set[str]) -> list[str]:
    out = []
    for (owner, ctype), names in sorted(before.parts.items()):
        if owner in engine:
            continue
        kept = after.parts.get((owner, ctype), [])
        if len(kept) >= len(names):
            continue
        gone = [n for n in names if n not in kept] or names[len(kept):]
        where = "" if owner == "workbook" else f' (sheet "{owner}")'
        for n in gone[: len(names) - len(kept)]:
            out.append(f"part {n} dropped ({_describe(ctype, n)}){where}")
    return out


def _describe(ctype: str, part: str) -> str:
    for key, label, _ in _UNSUPPORTED:
        if key in ctype.lower() or key in part.lower():
            return label
    return ctype.rsplit("/", 1)[-1].replace("vnd.openxmlformats-officedocument.", "")


# ---------------------------------------------------------------------------------------
# Parts openpyxl 3.1 does not keep when it loads and saves a workbook (checked on this
# machine; tests/test_guard.py re-checks the slicer and VBA cases). Matched against the
# lower-cased content type or part name: (key, what it is, what the user can do).
_ADVICE = "Remove them or refresh from Excel with the add-in's button."
_UNSUPPORTED: list[tuple[str, str, str]] = [
    ("ms-excel.slicer+", "slicers", _ADVICE),
    ("slicercache", "slicer caches", _ADVICE),
    ("ms-excel.timeline+", "timelines", _ADVICE),
    ("timelinecache", "timeline caches", _ADVICE),
    ("controlproperties", "form controls", _ADVICE),
    ("activex", "ActiveX controls", _ADVICE),
    ("threadedcomments", "threaded comments", "Convert them to notes, remove them or refresh from Excel with the add-in's button."),
    ("ms-excel.person+", "threaded-comment authors", _ADVICE),
    ("customxml", "custom XML data (document properties, labels)", _ADVICE),
    ("xl/richdata/", "rich values (pictures in cells, linked data types)", _ADVICE),
    ("sheetmetadata", "dynamic-array metadata (spilled formulas would turn into legacy array formulas)", _ADVICE),
    ("querytable", "query tables", _ADVICE),
    ("spreadsheetml.connections", "data connections", _ADVICE),
    ("xl/model/", "a data model (Power Pivot)", _ADVICE),
    ("webextension", "Office add-in (web extension) data", _ADVICE),
    ("xl/embeddings/", "embedded OLE objects", _ADVICE),
    ("drawingml.diagram", "SmartArt graphics", _ADVICE),
    ("chartex", "Excel 2016 charts (waterfall, histogram…)", _ADVICE),
    ("macrosheet", "Excel 4.0 macro sheets", _ADVICE),
    ("dialogsheet", "Excel 5 dialog sheets", _ADVICE),
    ("customui", "a custom ribbon", _ADVICE),
]
_SHAPES = {"shape", "group", "connector", "smartart", "chartex", "ink", "other graphic"}


def unsupported_parts(path: str | Path, keep_vba: bool = False) -> list[str]:
    """Messages for content in the file that a load+save through openpyxl would drop.

    Checks the package parts against the known list above (slicers, timelines, form and
    ActiveX controls, threaded comments, custom XML, dynamic-array metadata, query tables,
    embedded objects…), VBA (``xl/vbaProject.bin``) unless ``keep_vba`` and the file is an
    ``.xlsm``, shapes and text boxes on drawings, and sheet extensions (sparklines, x14
    validations and formats). Empty list = nothing known to be lost. The generic safety
    net is :func:`compare`, which reports any part that vanished after the save.
    """
    _require_defusedxml()
    path = Path(path)
    out: list[str] = []
    found: dict[str, list[str]] = defaultdict(list)
    try:
        with Package(path) as pkg:
            for name in pkg.names:
                ct = pkg.content_type(name).lower()
                low = name.lower()
                if low.endswith("vbaproject.bin") or "vbaproject" in ct:
                    if not keep_vba or path.suffix.lower() not in (".xlsm", ".xltm"):
                        if path.suffix.lower() in (".xlsm", ".xltm"):
                            why, fix = "macros are not being kept (keep_vba is off)", \
                                "Refresh it with macros kept"
                        else:
                            why, fix = f"a {path.suffix or 'file'} workbook cannot hold macros", \
                                "Save it as .xlsm"
                        out.append(f"Workbook contains VBA macros ({name}), which a refresh "
                                   f"would drop ({why}): refresh refused. {fix} or refresh "
                                   "from Excel with the add-in's button.")
                    continue
                for key, label, advice in _UNSUPPORTED:
                    if key in ct or key in low:
                        found[f"{label}\x00{advice}"].append(name)
                        break
            wb_part = pkg.workbook_part()
            sheets = _sheet_names(pkg, wb_part)
            for sheet, part in sheets.items():
                for rel in pkg.rels(part):
                    if rel.kind == "drawing" and pkg.has(rel.target):
                        kinds = Counter(d.kind for d in read_drawing(pkg, rel.target)
                                        if d.kind in _SHAPES)
                        if kinds:
                            what = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in kinds.items())
                            out.append(f'Sheet "{sheet}" has {what} on its drawing, which a '
                                       f"refresh would drop: refresh refused. {_ADVICE}")
                if pkg.content_type(part).endswith("worksheet+xml"):
                    out += _sheet_extensions(pkg, sheet, part)
    except PackageError as exc:
        raise GuardError([str(exc)]) from exc
    for key, names in found.items():
        label, advice = key.split("\x00")
        shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        out.append(f"Workbook contains {label} ({shown}), which a refresh would drop: "
                   f"refresh refused. {advice}")
    return out


def _sheet_names(pkg: Package, wb_part: str) -> dict[str, str]:
    root = pkg.xml(wb_part)
    out = {}
    for el in root.iter(_M + "sheet"):
        rel = pkg.rel_target(wb_part, el.get(R_ID))
        if rel and not rel.external and pkg.has(rel.target):
            out[el.get("name", "")] = rel.target
    return out


_EXT_URI = re.compile(rb'<(?:\w+:)?ext\b[^>]*\buri="(\{[0-9A-Fa-f-]+\})"')


def _sheet_extensions(pkg: Package, sheet: str, part: str) -> list[str]:
    from openpyxl.xml.constants import EXT_TYPES
    data = pkg.read(part)
    cut = data.rfind(b"</sheetData>")
    tail = data[cut:] if cut >= 0 else data
    names = {k.upper(): v for k, v in EXT_TYPES.items()}
    out = []
    for uri in sorted({u.decode().upper() for u in _EXT_URI.findall(tail)}):
        if uri in _SHEET_EXT_MINOR:
            continue
        feature = names.get(uri, f"extension {uri}")
        out.append(f'Sheet "{sheet}" uses {feature} (a worksheet extension), which a refresh '
                   f"would drop: refresh refused. {_ADVICE}")
    return out


def excel_lock_owner(path: str | Path) -> Path | None:
    """The owner file of an office program holding the workbook open, or None.

    Excel keeps ``~$`` + the file name next to a workbook it has open; for long names
    some versions replace the first two characters instead (``~$nancial.xlsx`` for
    ``Financial.xlsx``). LibreOffice keeps ``.~lock.NAME#``. All three are checked; a
    refresh must refuse while one exists.
    """
    path = Path(path)
    for cand in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:]),
                 path.with_name(f".~lock.{path.name}#")):
        if cand.exists():
            return cand
    return None


def table_areas(snap: WorkbookSnapshot, engine_sheets: Iterable[str] = ENGINE_SHEETS
                ) -> dict[str, list[str]]:
    """The A1 ranges of the Excel tables on each engine sheet of ``snap`` — where the
    engine wrote before — to pass (with what it writes now) as ``engine_areas``."""
    return {name: sorted(s.table_refs.values()) for name, s in snap.sheets.items()
            if name in set(engine_sheets) and s.table_refs}


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.workbook.guard BOOK [AFTER]``: print what a refresh of BOOK would
    refuse (unsupported parts) and the snapshot time; with AFTER, the differences."""
    import sys
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print(main.__doc__)
        return 2
    try:
        problems = unsupported_parts(args[0], keep_vba=args[0].lower().endswith(".xlsm"))
        before = snapshot(args[0])
        print(f"snapshot of {args[0]}: {before.seconds:.2f} s, {len(before.sheets)} sheets")
        if len(args) == 2:
            after = snapshot(args[1])
            print(f"snapshot of {args[1]}: {after.seconds:.2f} s")
            problems += compare(before, after, engine_areas=table_areas(before))
    except GuardError as exc:
        problems = exc.problems
    for p in problems:
        print(p)
    return 2 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
