"""Loading the workbook a refresh writes into, without the cells it is about to replace.

The writer deletes every cell inside the engine's areas of the last refresh before it writes
the new tables (:func:`engine.workbook.writer.write_contents`). Those cells — tables, chart
feeds, the signal history — are a large part of a refreshed workbook, so parsing them with
openpyxl only to delete them costs about a third of the load. :func:`load_for_writing` hands
openpyxl a copy of the package whose engine sheets lack exactly those cells; everything else
(the user's cells on engine sheets, tables, charts, styles, every other part) is as it was, and
the no-data-loss guard still compares the saved file with the original.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from defusedxml import ElementTree
from openpyxl import Workbook, load_workbook
from openpyxl.utils.cell import column_index_from_string, range_boundaries

from engine.workbook.areas import areas_from_properties
from engine.workbook.cached_values import sheet_parts
from engine.workbook.save import temp_path

# One cell element with its reference; a cell never contains another cell element, and text
# inside it cannot hold a literal "</c>" (it would be escaped).
_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"[^>]*?(?:/>|>.*?</c>)', re.S)
# What this filter does not handle, so such a sheet is loaded whole: a cell without a
# reference (its position follows from the cells before it), shared or array formulas.
_UNSAFE = re.compile(rb'<c(?=[\s>/])(?![^>]*\sr=")|t="(?:shared|array)"')


def load_for_writing(path: Path, keep_vba: bool = False) -> tuple[Workbook, Path | None]:
    """``load_workbook(path, keep_vba=keep_vba, rich_text=True)`` with the cells inside the
    engine areas of the last refresh left out (see the module doc).

    Returns the workbook and the temporary copy it was loaded from (remove it after the save:
    openpyxl reads an ``.xlsm``'s macros from it), or ``None`` with a whole load when there is
    nothing to leave out (never refreshed, or no engine sheet the filter handles)."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: (i, z.read(i.filename)) for i in z.infolist()}
    copy = _without_engine_cells(parts)
    if copy is None:
        return load_workbook(path, keep_vba=keep_vba, rich_text=True), None
    tmp = temp_path(path)
    try:
        # read once, so compressed fast (level 1) rather than small; not stored, which
        # would put the whole uncompressed XML on disk
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info, data in copy.values():
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, data, compresslevel=1)
        return load_workbook(tmp, keep_vba=keep_vba, rich_text=True), tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _without_engine_cells(parts: dict) -> dict | None:
    """The package's parts with the engine-area cells dropped from the engine sheets, or
    ``None`` when no sheet changed."""
    if "xl/workbook.xml" not in parts or "xl/_rels/workbook.xml.rels" not in parts:
        return None
    areas = _stored_areas(parts)
    if not areas:
        return None
    sheets = sheet_parts(parts)
    out, changed = dict(parts), False
    for sheet, ranges in areas.items():
        part = sheets.get(sheet)
        if part not in parts or not ranges:
            continue
        info, xml = parts[part]
        if _UNSAFE.search(xml):
            continue
        boxes = [range_boundaries(r) for r in ranges]
        columns: dict[bytes, int] = {}

        def keep(m: re.Match) -> bytes:
            col = columns.get(m[1]) or columns.setdefault(
                m[1], column_index_from_string(m[1].decode()))
            row = int(m[2])
            inside = any(c1 <= col <= c2 and r1 <= row <= r2 for c1, r1, c2, r2 in boxes)
            return b"" if inside else m[0]

        out[part] = (info, _CELL.sub(keep, xml))
        changed = True
    return out if changed else None


def _stored_areas(parts: dict) -> dict[str, list[str]]:
    """The engine areas kept in ``docProps/custom.xml`` (:mod:`engine.workbook.areas`)."""
    if "docProps/custom.xml" not in parts:
        return {}
    try:
        root = ElementTree.fromstring(parts["docProps/custom.xml"][1])
    except Exception:  # noqa: BLE001 - unreadable properties: load the whole workbook
        return {}
    props = [(p.get("name", ""), "".join(p.itertext())) for p in root]
    return areas_from_properties(props)
