"""Comparing two :class:`~engine.workbook.guard_snapshot.WorkbookSnapshot`: every
difference a user would call a loss, as a message naming sheet and cell or part."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries

from engine.tables.base import ENGINE_SHEETS
from engine.workbook.guard_package import UNSUPPORTED_PARTS
from engine.workbook.guard_sheet import STRIDE, STYLE_PARTS, SheetSnap, XlValue
from engine.workbook.guard_snapshot import WorkbookSnapshot

MAX_MESSAGES = 20  # compare() lists this many problems, then "… and N more"
_SHEET_EXT_MINOR = {"{01252117-D84E-4E92-8308-4BE1C098FCBB}"}  # ignored-error flags

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


def _hint(a: str, b: str, width: int = 40) -> str:
    """Where two canonical texts part: ``…type="list"><formula1>"A,B,C…" became …"A,B"…``."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[-1 - j] == b[-1 - j]:
        j += 1
    space, tag = a.rfind(" ", 0, i) + 1, a.rfind("<", 0, i)  # start at a word or a tag
    start = max(space, tag, i - 30, 0)

    def cut(s: str) -> str:
        mid = s[start:len(s) - j]
        mid = mid if len(mid) <= width else mid[:width] + "…"
        return ("…" if start else "") + mid + ("…" if j else "")
    return f"{cut(a)} became {cut(b)}"


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
            out.append(f"{name}: {label} on {sq} changed ({_hint(bd[sq], ad[sq])})")
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


_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]+)$")


def _anchored_in(areas: list[Area], anchor: str) -> bool:
    """True when a drawing anchored at cell ``anchor`` (e.g. ``H2``) lies in an engine area;
    absolute anchors (no cell) count as the engine's."""
    m = _CELL_REF.match(anchor)
    if m is None:
        return True
    return _inside(areas, column_index_from_string(m.group(1)), int(m.group(2)))


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
    if areas is not None:  # the engine owns layout, tables and the charts in its areas
        mine = [d for d in b.drawing if not _anchored_in(areas, d.anchor)]
        if mine:  # a user's chart or picture placed beside the engine's tables
            kept = [d for d in a.drawing if not _anchored_in(areas, d.anchor)]
            out += [m for m in _compare_drawings(name, SheetSnap(name, drawing=mine),
                                                 SheetSnap(name, drawing=kept))
                    if " dropped (" in m or " changed (" in m]
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
                                             else "dropped" if y is None
                                             else f"changed ({_hint(x or '', y)})"))
    for uri, feature in sorted(b.extensions.items()):
        if uri not in a.extensions and uri not in _SHEET_EXT_MINOR:
            out.append(f"{name}: {feature} (worksheet extension) dropped")
    for el in sorted(b.other_elements - a.other_elements):
        out.append(f"{name}: {el} dropped")
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
        out.append(f"workbook: {el} dropped")
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


_PART_LABELS = [("vbaproject", "VBA macros"), ("image/", "image"), ("pivotcachedefinition",
                 "pivot cache"), ("pivotcacherecords", "pivot cache records"), ("pivottable",
                 "pivot table"), ("externallink", "external link"), ("theme", "theme")]


def _describe(ctype: str, part: str) -> str:
    """What a part is, in words (``slicers``, ``VBA macros``, ``pivot table``…)."""
    low = ctype.lower()
    for key, label, _ in UNSUPPORTED_PARTS:
        if key in low or key in part.lower():
            return label
    for key, label in _PART_LABELS:
        if key in low:
            return label
    return ctype.rsplit("/", 1)[-1].replace("vnd.openxmlformats-officedocument.", "")
