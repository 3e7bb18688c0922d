"""Which cells of each engine sheet the engine wrote, remembered inside the workbook.

Stored as JSON in custom document properties ``gamma_desk_areas_NNN`` (chunks of at most
240 characters, since Excel's property dialog handles up to 255). Invisible on the sheets,
kept by Excel, and read back by the next refresh so that only the engine's own cells are
replaced (the Excel button keeps them in the same properties, :mod:`addin.xl_writer`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from engine.xlsx.namespaces import local

__all__ = ["PREFIX", "CHUNK", "areas_from_properties", "area_properties", "read_areas"]

PREFIX = "gamma_desk_areas_"
CHUNK = 240


def areas_from_properties(props: Iterable[tuple[str, object]]) -> dict[str, list[str]]:
    """Engine areas per sheet from custom document properties given as (name, value)
    pairs (the others are ignored); ``{}`` when there are none or they do not parse."""
    parts = sorted((int(name[len(PREFIX):]), value) for name, value in props
                   if name.startswith(PREFIX) and name[len(PREFIX):].isdigit())
    if not parts:
        return {}
    try:
        loaded = json.loads("".join(str(v) for _, v in parts))
        return {str(k): [str(a) for a in v] for k, v in loaded.items()}
    except (ValueError, AttributeError, TypeError):
        return {}


def read_areas(custom_xml) -> dict[str, list[str]]:
    """Engine areas from a parsed custom properties part (its root element, or ``None``)."""
    if custom_xml is None:
        return {}
    props = []
    for p in custom_xml:
        if local(p.tag) == "property":
            value = next((c.text or "" for c in p), "")
            props.append((p.get("name", ""), value))
    return areas_from_properties(props)


def area_properties(areas: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The (name, text) properties that store ``areas``."""
    text = json.dumps({k: list(dict.fromkeys(v)) for k, v in sorted(areas.items())},
                      separators=(",", ":"))
    return [(f"{PREFIX}{i // CHUNK:03d}", text[i:i + CHUNK]) for i in range(0, len(text), CHUNK)]
