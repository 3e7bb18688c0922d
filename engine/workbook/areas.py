"""Which cells of each engine sheet the engine wrote, remembered inside the workbook.

Stored as JSON in hidden workbook-level defined names ``gamma_desk_areas_NNN``, each a
text constant of at most 240 characters (Excel's limit on a text in a formula is 255).
Why defined names: they are part of the workbook on every platform — Excel for Windows
and macOS, Excel for the web, LibreOffice keep them — and xlwings reads and writes them
on Windows and macOS alike (``Book.names``), so the Excel button (:mod:`addin.xl_writer`)
and ``gamma refresh`` can take turns anywhere; invisible on the sheets and, hidden, in
the Name Manager. A hidden engine sheet would do too, but it adds a sheet to the user's
workbook (which sheet loops in VBA, the sheet tabs' *Unhide* list and formulas would see)
and can be edited by hand; custom document properties, the previous store, exist only in
Excel's Windows object model, so the button on a Mac could neither read nor write them.

A workbook written by the previous version keeps its areas in custom document properties
of the same names: :func:`read_stored` still reads them when no defined name holds areas,
and the next refresh moves them to defined names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from engine.xlsx.namespaces import local

__all__ = ["PREFIX", "CHUNK", "ENGINE_NAME", "area_names", "areas_from_names",
           "areas_from_properties", "area_properties", "read_areas", "read_names",
           "read_stored"]

PREFIX = "gamma_desk_areas_"
CHUNK = 240
ENGINE_NAME = re.compile(rf"^{PREFIX}\d+$")


def _text(areas: dict[str, list[str]]) -> str:
    return json.dumps({k: list(dict.fromkeys(v)) for k, v in sorted(areas.items())},
                      separators=(",", ":"))


def _chunks(areas: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(name, text) pieces of the areas' JSON, in order."""
    text = _text(areas)
    return [(f"{PREFIX}{i // CHUNK:03d}", text[i:i + CHUNK]) for i in range(0, len(text), CHUNK)]


def _joined(pieces: Iterable[tuple[str, object]]) -> dict[str, list[str]]:
    """The areas from (name, text) pieces (others ignored); ``{}`` when none parse."""
    parts = sorted((int(name[len(PREFIX):]), value) for name, value in pieces
                   if ENGINE_NAME.match(name))
    if not parts:
        return {}
    try:
        loaded = json.loads("".join(str(v) for _, v in parts))
        return {str(k): [str(a) for a in v] for k, v in loaded.items()}
    except (ValueError, AttributeError, TypeError):
        return {}


def area_names(areas: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The (name, formula) defined names that store ``areas``: each formula a text
    constant, ``"…"`` with its quotes doubled, as the workbook part holds it (Excel's
    ``Name.RefersTo`` adds a leading ``=``)."""
    return [(name, '"' + text.replace('"', '""') + '"') for name, text in _chunks(areas)]


def areas_from_names(names: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Engine areas from defined names given as (name, formula) pairs — the formula as
    the workbook part or ``Name.RefersTo`` has it, with or without its ``=``."""
    pieces = []
    for name, formula in names:
        f = str(formula or "").strip()
        f = f[1:] if f.startswith("=") else f
        if len(f) >= 2 and f[0] == f[-1] == '"':
            pieces.append((name, f[1:-1].replace('""', '"')))
    return _joined(pieces)


def read_names(workbook_xml) -> dict[str, list[str]]:
    """Engine areas from a parsed workbook part's workbook-level defined names."""
    if workbook_xml is None:
        return {}
    return areas_from_names(
        (d.get("name", ""), d.text or "") for d in workbook_xml.iter()
        if local(d.tag) == "definedName" and d.get("localSheetId") is None)


def areas_from_properties(props: Iterable[tuple[str, object]]) -> dict[str, list[str]]:
    """Engine areas from the previous version's custom document properties given as
    (name, value) pairs (the others are ignored); ``{}`` when there are none."""
    return _joined(props)


def read_areas(custom_xml) -> dict[str, list[str]]:
    """Engine areas from a parsed custom properties part (the previous store), or ``{}``."""
    if custom_xml is None:
        return {}
    props = []
    for p in custom_xml:
        if local(p.tag) == "property":
            value = next((c.text or "" for c in p), "")
            props.append((p.get("name", ""), value))
    return areas_from_properties(props)


def read_stored(workbook_xml, custom_xml) -> dict[str, list[str]]:
    """The areas a workbook holds: its defined names, else (a workbook written by the
    previous version) its custom document properties."""
    return read_names(workbook_xml) or read_areas(custom_xml)


def area_properties(areas: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The (name, text) custom properties the previous version stored ``areas`` in (to
    make such a workbook in the tests, and to recognise them)."""
    return _chunks(areas)
