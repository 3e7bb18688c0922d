"""Which cells of each engine sheet the engine wrote, remembered inside the workbook.

Stored as JSON in custom document properties ``gamma_desk_areas_N`` (chunks of at most
240 characters, since Excel's property dialog handles up to 255). Invisible on the sheets,
kept by Excel and openpyxl, and read back by the next refresh so that only engine cells are
cleared and the guard compares every other cell.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from openpyxl.packaging.custom import StringProperty
from openpyxl.workbook.workbook import Workbook

PREFIX = "gamma_desk_areas_"
CHUNK = 240


def read_areas(wb: Workbook) -> dict[str, list[str]]:
    """Engine areas per sheet (A1 ranges) from the last refresh; ``{}`` if never refreshed."""
    return areas_from_properties((p.name, p.value) for p in wb.custom_doc_props.props)


def areas_from_properties(props: Iterable[tuple[str, object]]) -> dict[str, list[str]]:
    """Engine areas per sheet from custom document properties given as (name, value) pairs
    (the others are ignored); ``{}`` when there are none or they do not parse."""
    parts = sorted((int(name[len(PREFIX):]), value) for name, value in props
                   if name.startswith(PREFIX) and name[len(PREFIX):].isdigit())
    if not parts:
        return {}
    try:
        return {k: list(v) for k, v in json.loads("".join(str(v) for _, v in parts)).items()}
    except (ValueError, AttributeError):
        return {}


def write_areas(wb: Workbook, areas: dict[str, list[str]]) -> None:
    """Replace the stored engine areas."""
    props = wb.custom_doc_props
    for p in [p for p in props.props if p.name.startswith(PREFIX)]:
        props.props.remove(p)
    text = json.dumps({k: _compact(v) for k, v in sorted(areas.items())}, separators=(",", ":"))
    for i in range(0, len(text), CHUNK):
        props.append(StringProperty(name=f"{PREFIX}{i // CHUNK:03d}", value=text[i:i + CHUNK]))


def _compact(ranges: list[str]) -> list[str]:
    """Drop exact duplicates, keep order."""
    return list(dict.fromkeys(ranges))
