"""Reading a workbook's :class:`WorkbookSnapshot` for the no-data-loss guard.

See :mod:`engine.workbook.guard` for what is read and why; this module walks the package:
workbook part (sheet order and visibility, defined names, date system, calculation mode,
extensions), each sheet through :mod:`engine.workbook.guard_sheet`, custom document
properties and the inventory of parts with the sheet that owns each.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from engine.workbook.guard_package import (
    NS_MAIN, R_ID, GuardError, Package, PackageError, local, require_defusedxml)
from engine.workbook.guard_sheet import (
    SheetSnap, canon, read_drawing, read_shared_strings, read_sheet, read_styles)

_M = f"{{{NS_MAIN}}}"
# Custom document properties the engine owns (engine/workbook/areas.py); others are the user's.
ENGINE_PROPERTY_PREFIX = "gamma_desk_"


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
    "ms-excel.person+",   # authors of threaded comments (Excel keeps it after they are gone)
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


def snapshot(path: str | Path) -> WorkbookSnapshot:
    """Read everything a user could lose from the workbook at ``path``.

    Raises :class:`GuardError` when the file is not a readable workbook, is larger than
    the uncompressed-size bound, looks like a zip bomb, or contains XML entity
    declarations (XML bomb).
    """
    t0 = time.perf_counter()
    require_defusedxml()
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


# workbook.xml children every writer rewrites or Excel recreates (not user content)
_WB_BOOKKEEPING = {"fileVersion", "bookViews", "sheets", "calcPr", "definedNames",
                   "externalReferences", "pivotCaches", "workbookPr", "AlternateContent",
                   "revisionPtr", "absPath", "fileRecoveryPr"}
_WB_ELEMENTS = {"customWorkbookViews": "custom views", "smartTagPr": "smart tag settings",
                "smartTagTypes": "smart tag types", "webPublishing": "web publishing settings",
                "webPublishObjects": "web publish items", "oleSize": "OLE embedding size",
                "functionGroups": "XLM function groups"}


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
        elif name == "fileSharing":
            snap.settings["password to modify / read-only recommended"] = canon(
                el, frozenset({"userName"}))
        elif name not in _WB_BOOKKEEPING:
            snap.other_elements.add(_WB_ELEMENTS.get(name, f"<{name}> element"))
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
