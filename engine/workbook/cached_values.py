"""Keep the cached values of formula cells through an openpyxl save.

openpyxl writes a formula cell as ``<f>…</f><v/>``: the value Excel last computed is lost.
For input cells fed by Bloomberg ``=BDH()`` that value *is* the data, and the next refresh
reads it. So after saving we put every user formula's cached value back, taken from the
original file, into the saved sheet XML (``<v>`` with the right cell type). Excel still
recalculates on open; LibreOffice and the next refresh read the kept values.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.utils.datetime import to_excel

_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f([^>]*)>(.*?)</f><v ?/></c>', re.S)
_CELL_EMPTY_F = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f([^>]*)/><v ?/></c>')


def formula_cells(wb, skip: set[str]) -> dict[str, set[str]]:
    """Coordinates of formula cells per sheet (sheets in ``skip`` left out)."""
    out: dict[str, set[str]] = {}
    for ws in wb.worksheets:
        if ws.title in skip:
            continue
        refs = {c.coordinate for c in ws._cells.values() if c.data_type == "f"}
        if refs:
            out[ws.title] = refs
    return out


def cached_values(snapshot, cells: dict[str, set[str]]) -> dict[str, dict[str, object]]:
    """The cached values of ``cells`` as the guard's snapshot of the original file read them
    (no second parse of the workbook): numbers (dates as serials), text, TRUE/FALSE, errors."""
    from openpyxl.utils import get_column_letter

    from engine.workbook.guard_sheet import XL_FALSE, XL_TRUE, XlValue, cell_items

    out: dict[str, dict[str, object]] = {}
    for sheet, refs in cells.items():
        snap = snapshot.sheets.get(sheet)
        if snap is None:
            continue
        vals: dict[str, object] = {}
        for r, flat in snap.rows.items():
            for col, _value, formula, cached, _style, _rich in cell_items(flat):
                coord = f"{get_column_letter(col)}{r}"
                if formula is None or cached is None or coord not in refs:
                    continue
                if isinstance(cached, XlValue):
                    cached = True if cached == XL_TRUE else False if cached == XL_FALSE \
                        else str(cached)
                vals[coord] = cached
        out[sheet] = vals
    return out


def _v(value: object) -> tuple[str, str] | None:
    """(type attribute, <v> text) for a cached value."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, (int, float)):
        return "n", repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return "n", repr(float(to_excel(value)))
    if isinstance(value, str):
        if value.startswith("#") and value.upper() in {
                "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                "#GETTING_DATA"}:
            return "e", escape(value)
        return "str", escape(value)
    return None


def restore(saved: Path, values: dict[str, dict[str, object]]) -> int:
    """Write ``values`` back into the formula cells of ``saved`` (in place); returns how many
    cells got their cached value back."""
    if not any(values.values()):
        return 0
    with zipfile.ZipFile(saved) as z:
        parts = {i.filename: (i, z.read(i.filename)) for i in z.infolist()}
    targets = sheet_parts(parts)
    done = 0
    for sheet, vals in values.items():
        part = targets.get(sheet)
        if not part or not vals:
            continue
        xml = parts[part][1].decode("utf-8")

        def put(m: re.Match, empty: bool = False) -> str:
            nonlocal done
            ref, attrs, fattrs = m.group(1), m.group(2), m.group(3)
            body = "" if empty else m.group(4)
            tv = _v(vals.get(ref))
            if tv is None:
                return m.group(0)
            attrs = re.sub(r'\st="[^"]*"', "", attrs)
            done += 1
            f = f"<f{fattrs}/>" if empty else f"<f{fattrs}>{body}</f>"
            return f'<c r="{ref}"{attrs} t="{tv[0]}">{f}<v>{tv[1]}</v></c>'

        xml = _CELL.sub(put, xml)
        xml = _CELL_EMPTY_F.sub(lambda m: put(m, True), xml)
        parts[part] = (parts[part][0], xml.encode("utf-8"))
    tmp = saved.with_name(saved.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts.values():
            out.writestr(info, data)
    tmp.replace(saved)
    return done


def sheet_parts(parts: dict) -> dict[str, str]:
    """Sheet name -> worksheet part name, from workbook.xml and its relationships.
    ``parts`` maps part names to ``(ZipInfo, bytes)`` of a package read whole."""
    wbx = parts["xl/workbook.xml"][1].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"][1].decode("utf-8")
    rid_target = {}
    for m in re.finditer(r"<Relationship\b([^>]*)/?>", rels):
        a = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if "Id" in a and "Target" in a:
            t = a["Target"].lstrip("/")
            rid_target[a["Id"]] = t if t.startswith("xl/") else f"xl/{t}"
    out = {}
    for m in re.finditer(r"<sheet\b([^>]*)/>", wbx):
        attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', m.group(1)))
        name = _unescape(attrs.get("name", ""))
        rid = attrs.get("r:id")
        if rid in rid_target:
            out[name] = rid_target[rid]
    return out


def _unescape(s: str) -> str:
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))
