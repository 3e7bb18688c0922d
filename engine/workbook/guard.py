"""The no-data-loss guard: the refreshed package, checked against the original before it
replaces it.

It trusts nothing the writer says about what it did, only which parts it claims: every part
of the original that the refresh did not claim must be in the new package with the same
compressed bytes, CRC and size; a part it claims as the engine's (rewritten or removed) must
be one that only the engine's sheets reach in the original (no user sheet, no workbook-level
relationship leads to it); and a shared part it rewrote may differ only as its kind allows —
the workbook part gained sheet entries (the engine sheets' print areas and the names holding
the engine's areas may change), the relationships and content types gained entries
(or lost the Overrides of the engine's removed parts), the styles part gained formats at
the ends of its lists, the custom properties changed only the engine's, the titles of
``docProps/app.xml`` gained the new sheets, the calculation chain lost entries of engine
sheets only. :func:`check` returns the problems; an empty list means the new file may
replace the old one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from xml.etree.ElementTree import Element, XMLParser

from engine.workbook.shared_parts import ENGINE_NAME, ENGINE_PROPERTY, PRINT_AREA
from engine.workbook.splice import Splice
from engine.xlsx.namespaces import local
from engine.xlsx.package import Package, PackageError

__all__ = ["check", "excel_lock_owner"]

MAX_MESSAGES = 40


def excel_lock_owner(path: str | Path) -> Path | None:
    """The owner file of an office program holding the workbook open, or None.

    Excel keeps ``~$`` + the file name next to a workbook it has open; for long names some
    versions replace the first two characters instead (``~$nancial.xlsx`` for
    ``Financial.xlsx``). LibreOffice keeps ``.~lock.NAME#``."""
    path = Path(path)
    for cand in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:]),
                 path.with_name(f".~lock.{path.name}#")):
        if cand.exists():
            return cand
    return None


def _raw_digest(pkg: Package, name: str) -> tuple:
    """CRC, sizes, method and a hash of the compressed bytes: equal means byte-identical."""
    info, _ = pkg.raw(name)
    h = hashlib.sha256()
    for chunk in pkg.raw_chunks(info):
        h.update(chunk)
    return info.CRC, info.file_size, info.compress_size, info.compress_type, h.hexdigest()


def _user_reachable(pkg: Package, engine_parts: set[str]) -> set[str]:
    """Parts reachable from the package root without passing through an engine sheet."""
    seen: set[str] = set()
    todo = [""]
    while todo:
        part = todo.pop()
        for r in pkg.rels(part):
            if r.external or r.target in seen or r.target in engine_parts:
                continue
            seen.add(r.target)
            todo.append(r.target)
    return seen


def check(original: str | Path, new: str | Path, splice: Splice) -> list[str]:
    """Problems that forbid ``new`` from replacing ``original`` (see the module doc)."""
    problems: list[str] = []
    try:
        with Package(original) as old, Package(new) as cur:
            cur.verify()
            problems += _parts(old, cur, splice)
            for name, kind in splice.shared.items():
                if old.has(name) and cur.has(name):
                    problems += _shared(kind, name, old.read(name), cur.read(name), splice)
    except PackageError as exc:
        problems.append(f"the refreshed copy is not a valid package: {exc}")
    return problems[:MAX_MESSAGES]


def _parts(old: Package, cur: Package, splice: Splice) -> list[str]:
    out = []
    engine = set(splice.engine_sheets.values())
    user = _user_reachable(old, engine)
    claimed = set(splice.written) | splice.removed
    for name in old.names:
        if name in splice.removed:
            if cur.has(name) and name not in splice.written:
                out.append(f"part {name} was to be removed but is still there")
        if name in claimed and name not in splice.shared and name in user:
            out.append(f"part {name} belongs to the workbook, not to the engine's sheets, "
                       "yet the refresh rewrote or removed it")
        if name in claimed:
            continue
        if not cur.has(name):
            out.append(f"part {name} would be lost")
        elif _raw_digest(old, name) != _raw_digest(cur, name):
            out.append(f"part {name} would change")
    for name in cur.names:
        if not old.has(name) and name not in splice.written:
            out.append(f"part {name} appeared from nowhere")
    return out


def _parse(data: bytes) -> Element:
    p = XMLParser()
    p.feed(data)
    return p.close()


def _attrs(el: Element, ignore: frozenset[str] = frozenset()) -> dict[str, str]:
    return {k: v for k, v in el.attrib.items() if local(k) not in ignore}


def _grew(before: Element, after: Element, where: str, may_add, may_drop=lambda e: False,
          ignore: frozenset[str] = frozenset({"count"}), free=lambda e: False) -> list[str]:
    """``after`` holds everything ``before`` held, in order, the same; children it adds
    must satisfy ``may_add(parent, child)``, children it lacks ``may_drop(child)``; an
    element for which ``free(element)`` holds may differ inside."""
    out = []
    if free(before):
        return out
    if local(before.tag) != local(after.tag) or \
            _attrs(before, ignore) != _attrs(after, ignore) or \
            (before.text or "").strip() != (after.text or "").strip():
        return [f"{where}: <{local(before.tag)}> changed"]
    b = list(before)
    k = 0
    for child in after:
        while k < len(b) and local(b[k].tag) != local(child.tag) and may_drop(b[k]):
            k += 1
        if k < len(b) and _same(b[k], child):
            out += _grew(b[k], child, f"{where}/{local(child.tag)}", may_add, may_drop, ignore,
                         free)
            k += 1
        elif may_add(after, child):
            continue
        elif k < len(b) and may_drop(b[k]):
            k += 1
            if k < len(b) and _same(b[k], child):
                out += _grew(b[k], child, f"{where}/{local(child.tag)}", may_add, may_drop,
                             ignore, free)
                k += 1
        else:
            out.append(f"{where}: <{local(child.tag)}> added or changed")
    for rest in b[k:]:
        if not may_drop(rest):
            out.append(f"{where}: <{local(rest.tag)}> lost")
    return out


def _same(a: Element, b: Element) -> bool:
    """Same element kind and identity (the attributes that name it)."""
    if local(a.tag) != local(b.tag):
        return False
    keys = ("Id", "PartName", "Extension", "name", "localSheetId", "r", "numFmtId")
    if any(a.get(k) is not None or b.get(k) is not None for k in keys):
        return all(a.get(k) == b.get(k) for k in keys)
    if len(a) == 0 and len(b) == 0:  # a leaf is what it says (a sheet title, a count)
        return (a.text or "").strip() == (b.text or "").strip()
    return True


def _shared(kind: str, name: str, before: bytes, after: bytes, splice: Splice) -> list[str]:
    try:
        b, a = _parse(before), _parse(after)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a refusal
        return [f"{name}: not well-formed after the refresh ({exc})"]
    new_parts = {n.casefold() for n in splice.written}
    gone = {n.casefold() for n in splice.removed}
    if kind == "workbook":  # new engine sheets; print areas of engine sheets; area names
        order = [s.get("name") for s in a.iter() if local(s.tag) == "sheet"]
        engine_ids = {str(i) for i, n in enumerate(order) if n in splice.engine_sheets}

        def engine_name(c):
            if local(c.tag) != "definedName":
                return False
            if c.get("localSheetId") is None:       # where the areas are kept (areas.py)
                return bool(ENGINE_NAME.match(c.get("name") or ""))
            return c.get("name") == PRINT_AREA and c.get("localSheetId") in engine_ids

        def added(p, c):
            return (local(p.tag) == "sheets" and local(c.tag) == "sheet" and
                    c.get("name") in splice.engine_sheets) or engine_name(c) or (
                local(c.tag) == "definedNames" and all(engine_name(d) for d in c))
        return _grew(b, a, name, lambda p, c: added(p, c) or (
            local(c.tag) == "calcPr" and dict(c.attrib) == {"fullCalcOnLoad": "1"}),
                     engine_name, free=lambda e: engine_name(e) or _recalc_only(e, a))
    if kind in ("workbook-rels", "root-rels"):
        return _grew(b, a, name, lambda p, c: local(c.tag) == "Relationship")
    if kind == "content-types":
        def added(p, c):
            return local(c.tag) == "Override" and \
                c.get("PartName", "").lstrip("/").casefold() in new_parts
        return _grew(b, a, name, added, lambda c: local(c.tag) == "Override" and
                     c.get("PartName", "").lstrip("/").casefold() in gone)
    if kind == "styles":
        lists = {"numFmts", "fonts", "fills", "borders", "cellXfs"}

        def tail(p, c):
            return local(p.tag) in lists or (local(p.tag) == "styleSheet" and
                                            local(c.tag) in lists)
        problems = _grew(b, a, name, tail)
        for coll in lists:  # additions only at the end: indices of the user's formats hold
            bc = next((e for e in b if local(e.tag) == coll), None)
            ac = next((e for e in a if local(e.tag) == coll), None)
            if bc is not None and ac is not None and \
                    [_text(e) for e in ac][:len(bc)] != [_text(e) for e in bc]:
                problems.append(f"{name}: <{coll}> entries moved")
        return problems
    if kind == "custom":
        def engine_prop(c):
            return local(c.tag) == "property" and bool(ENGINE_PROPERTY.match(c.get("name", "")))
        return _grew(b, a, name, lambda p, c: engine_prop(c), engine_prop, free=engine_prop)
    if kind == "app":  # the sheet count may grow; the titles gain the new sheets' names
        if not _app_ok(b, a):
            return [f"{name}: changed beyond the titles of the new sheets"]
        return _grew(b, a, name, lambda p, c: local(p.tag) == "vector" and local(c.tag) ==
                     "lpstr" and c.text in splice.engine_sheets, ignore=frozenset({"size"}),
                     free=lambda e: local(e.tag) == "HeadingPairs")
    if kind == "calc-chain":
        return _calc_chain(b, a, name)
    return [f"{name}: no rule for shared part kind {kind!r}"]


def _recalc_only(before: Element, after_root: Element) -> bool:
    """``<calcPr>`` may gain ``fullCalcOnLoad="1"`` and nothing else."""
    if local(before.tag) != "calcPr":
        return False
    after = next((e for e in after_root if local(e.tag) == "calcPr"), None)
    if after is None:
        return False
    rest = {k: v for k, v in after.attrib.items() if k != "fullCalcOnLoad"}
    return rest == {k: v for k, v in before.attrib.items() if k != "fullCalcOnLoad"} and \
        after.get("fullCalcOnLoad") in ("1", "true")


def _text(el: Element) -> str:
    attrs = "".join(f" {local(k)}={v!r}" for k, v in sorted(el.attrib.items()))
    return f"<{local(el.tag)}{attrs}>{(el.text or '').strip()}" + \
        "".join(_text(c) for c in el) + f"</{local(el.tag)}>"


def _app_ok(b: Element, a: Element) -> bool:
    """Only the two vectors of the titles differ."""
    def strip(el):
        return [_text(e) for e in el if local(e.tag) not in ("HeadingPairs", "TitlesOfParts")]
    return strip(b) == strip(a)


def _calc_chain(b: Element, a: Element, name: str) -> list[str]:
    def cells(root):
        out, sheet = [], 0
        for c in root:
            if c.get("i"):
                sheet = int(c.get("i"))
            out.append((sheet, c.get("r")))
        return out
    before, after = cells(b), cells(a)
    rest = iter(before)
    for cell in after:  # an ordered subsequence
        for x in rest:
            if x == cell:
                break
        else:
            return [f"{name}: gained or reordered entries"]
    return []
