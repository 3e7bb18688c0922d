"""Edits to the parts the engine shares with the user: only the engine's own entries change.

Each function takes a part's bytes and returns new bytes in which every byte of the
original is still there, in order, except where the function's docstring says otherwise
(the engine's own entries replaced or removed): new entries are inserted just before the
closing tag of their list, in the prefix the part already uses. ``None`` in, for a part the
package lacks, means "create it".
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import XMLParser

from typing import Callable

from engine.workbook.areas import ENGINE_NAME
from engine.xlsx.namespaces import CT_NS, PKG_REL, Flavour, local
from engine.xlsx.xmltext import escape_attr, escape_text

__all__ = ["insert_before_close", "add_sheets", "set_print_areas", "set_engine_names",
           "PRINT_AREA", "recalc_on_open", "edit_rels", "new_rels", "edit_content_types",
           "custom_properties", "app_titles", "calc_chain_without", "ENGINE_PROPERTY",
           "ENGINE_NAME"]

# the engine's defined names, and the custom properties of the previous version's store
ENGINE_PROPERTY = ENGINE_NAME
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _parse(data: bytes):
    parser = XMLParser()
    parser.feed(data)
    return parser.close()


def insert_before_close(data: bytes, element: str, items: str) -> tuple[bytes, str]:
    """``items`` inserted before ``</element>`` (any prefix), or into an empty
    ``<element …/>``; returns the new bytes and the prefix the element uses (``"x:"``)."""
    text = data.decode("utf-8")
    m = None
    for m in re.finditer(rf"</([A-Za-z_][\w.-]*:)?{element}\s*>", text):
        pass
    if m is not None:
        prefix = m.group(1) or ""
        return (text[:m.start()] + _prefixed(items, prefix) + text[m.start():]).encode(), prefix
    e = re.search(rf"<([A-Za-z_][\w.-]*:)?{element}\b[^>]*/>", text)
    if e is None:
        raise ValueError(f"no <{element}> element to add to")
    prefix = e.group(1) or ""
    tag = e.group(0)
    opened = tag[:-2].rstrip() + ">" + _prefixed(items, prefix) + f"</{prefix}{element}>"
    return (text[:e.start()] + opened + text[e.end():]).encode(), prefix


_OPEN = re.compile(r"<(/?)([A-Za-z_][\w.-]*)(?=[\s/>])")


def _prefixed(items: str, prefix: str) -> str:
    if not prefix:
        return items
    return _OPEN.sub(lambda m: f"<{m.group(1)}{prefix}{m.group(2)}", items)


def _root_prefix(text: str, root: str, uri: str) -> str | None:
    """The prefix the root element ``root`` declares for ``uri`` (a declaration deeper in
    the part is not in scope for new entries), or None."""
    tag = re.search(rf"<([A-Za-z_][\w.-]*:)?{root}\b[^>]*>", text)
    if tag is None:
        return None
    m = re.search(r'xmlns:([A-Za-z_][\w.-]*)\s*=\s*["\']' + re.escape(uri) + '["\']',
                  tag.group(0))
    return m.group(1) if m else None


def add_sheets(workbook_xml: bytes, sheets: list[tuple[str, int, str]], flavour: Flavour
               ) -> bytes:
    """``<sheet name sheetId r:id>`` entries appended to ``<sheets>`` (name, sheetId, rid);
    the relationships namespace is declared on each entry when the part has no prefix
    for it."""
    if not sheets:
        return workbook_xml
    text = workbook_xml.decode("utf-8")
    m = _root_prefix(text, "workbook", flavour.r)
    r = m or "r"
    decl = "" if m else f' xmlns:r="{flavour.r}"'
    items = "".join(f'<sheet name="{escape_attr(n)}" sheetId="{i}"{decl} {r}:id="{rid}"/>'
                    for n, i, rid in sheets)
    return insert_before_close(workbook_xml, "sheets", items)[0]


PRINT_AREA = "_xlnm.Print_Area"


def recalc_on_open(workbook_xml: bytes) -> bytes:
    """The workbook part with ``fullCalcOnLoad="1"`` on its ``<calcPr>`` (created after
    ``<definedNames>``/``<sheets>`` when missing): Excel then recalculates every formula when
    it opens the file — the user's formulas that read the engine's new figures included."""
    text = workbook_xml.decode("utf-8")
    root = re.search(r"<([A-Za-z_][\w.-]*:)?workbook\b", text)
    p = (root.group(1) or "") if root else ""
    m = re.search(rf"<{re.escape(p)}calcPr\b[^>]*?(/?)>", text)
    if m is not None:
        tag = m.group(0)
        if re.search(r'\sfullCalcOnLoad\s*=\s*"(1|true)"', tag):
            return workbook_xml
        tag = re.sub(r'\sfullCalcOnLoad\s*=\s*"[^"]*"', "", tag)
        end = -2 if tag.endswith("/>") else -1
        tag = tag[:end].rstrip() + ' fullCalcOnLoad="1"' + tag[end:]
        return (text[:m.start()] + tag + text[m.end():]).encode("utf-8")
    after = None
    for t in ("sheets", "functionGroups", "externalReferences", "definedNames"):
        for mm in re.finditer(rf"</{re.escape(p)}{t}\s*>|<{re.escape(p)}{t}\b[^>]*/>", text):
            after = mm.end() if after is None or mm.end() > after else after
    if after is None:
        raise ValueError("the workbook part has no <sheets>")
    return (text[:after] + f'<{p}calcPr fullCalcOnLoad="1"/>' + text[after:]).encode("utf-8")


def _set_defined_names(workbook_xml: bytes, drop: Callable[[str], bool], items: str) -> bytes:
    """The workbook part without the ``<definedName>`` elements whose start tag ``drop``
    takes, and with ``items`` (``<definedName>`` elements) at the end of
    ``<definedNames>`` — created after ``<sheets>`` (and ``<functionGroups>``,
    ``<externalReferences>``) when the part has none."""
    text = workbook_xml.decode("utf-8")
    root = re.search(r"<([A-Za-z_][\w.-]*:)?workbook\b", text)
    p = (root.group(1) or "") if root else ""
    text = re.sub(rf'<{re.escape(p)}definedName\b[^>]*?(?<!/)>.*?</{re.escape(p)}definedName\s*>',
                  lambda m: "" if drop(m.group(0)[:m.group(0).index(">") + 1]) else m.group(0),
                  text, flags=re.S)
    if not items:
        return text.encode("utf-8")
    if re.search(rf"<{re.escape(p)}definedNames\b[^>]*(?<!/)>", text):
        return insert_before_close(text.encode("utf-8"), "definedNames", items)[0]
    text = re.sub(rf"<{re.escape(p)}definedNames\b[^>]*/>", "", text)  # an empty one
    after = None
    for tag in ("sheets", "functionGroups", "externalReferences"):
        for m in re.finditer(rf"</{re.escape(p)}{tag}\s*>|<{re.escape(p)}{tag}\b[^>]*/>", text):
            after = m.end() if after is None or m.end() > after else after
    if after is None:
        raise ValueError("the workbook part has no <sheets>")
    return (text[:after] + _prefixed(f"<definedNames>{items}</definedNames>", p)
            + text[after:]).encode("utf-8")


def set_print_areas(workbook_xml: bytes, areas: dict[int, str]) -> bytes:
    """The workbook part with the print areas of the sheets in ``areas`` (position in
    ``<sheets>``, 0-based -> a reference such as ``'Charts'!$A$1:$R$90``) set: an existing
    print area of those sheets is replaced, others are left as they are."""
    if not areas:
        return workbook_xml

    def drop(tag: str) -> bool:
        sid = re.search(r'\slocalSheetId\s*=\s*"(\d+)"', tag)
        return bool(re.search(rf'\bname\s*=\s*"{re.escape(PRINT_AREA)}"', tag)) and \
            bool(sid) and int(sid.group(1)) in areas
    items = "".join(f'<definedName name="{PRINT_AREA}" localSheetId="{i}">'
                    f'{escape_text(ref)}</definedName>' for i, ref in sorted(areas.items()))
    return _set_defined_names(workbook_xml, drop, items)


def set_engine_names(workbook_xml: bytes, names: list[tuple[str, str]]) -> bytes:
    """The workbook part with the engine's workbook-level defined names (``ENGINE_NAME``:
    where the areas are kept, :mod:`engine.workbook.areas`) replaced by ``names`` (name,
    formula), written hidden; the user's names are left as they are."""
    def drop(tag: str) -> bool:
        name = re.search(r'\sname\s*=\s*"([^"]*)"', tag)
        return bool(name) and bool(ENGINE_NAME.match(name.group(1))) and \
            "localSheetId" not in tag
    items = "".join(f'<definedName name="{escape_attr(n)}" hidden="1">{escape_text(f)}'
                    "</definedName>" for n, f in names)
    return _set_defined_names(workbook_xml, drop, items)


def _relationships(rels) -> str:
    """``<Relationship>`` elements of (id, type URI, target[, external]) entries."""
    return "".join(f'<Relationship Id="{escape_attr(r[0])}" Type="{escape_attr(r[1])}" '
                   f'Target="{escape_attr(r[2])}"'
                   + (' TargetMode="External"' if len(r) > 3 and r[3] else "") + "/>"
                   for r in rels)


def new_rels(rels: list[tuple]) -> bytes:
    """A relationships part holding (id, type URI, target[, external]) entries; an
    internal target is written relative to the source part's folder."""
    return (f'{_HEAD}<Relationships xmlns="{PKG_REL}">{_relationships(rels)}'
            f'</Relationships>').encode()


def edit_rels(data: bytes | None, add: list[tuple[str, str, str]]) -> bytes:
    """``add`` (id, type URI, relative target) appended to a relationships part."""
    if data is None:
        return new_rels(add)
    if not add:
        return data
    return insert_before_close(data, "Relationships", _relationships(add))[0]


def edit_content_types(data: bytes, add: dict[str, str], remove: set[str]) -> bytes:
    """Override entries added for the parts in ``add`` (part name -> content type) and
    removed for the engine's parts in ``remove`` (part names, no leading slash); a part a
    Default by extension already covers with the same type gets no Override."""
    root = _parse(data)
    defaults = {el.get("Extension", "").lower(): el.get("ContentType")
                for el in root if local(el.tag) == "Default"}
    have = {el.get("PartName", "").lstrip("/").casefold(): el.get("ContentType")
            for el in root if local(el.tag) == "Override"}
    text = data.decode("utf-8")
    gone = {n.casefold() for n in remove} - {n.casefold() for n in add}
    if gone:
        def drop(m: re.Match) -> str:
            name = re.search(r'PartName\s*=\s*"([^"]*)"', m.group(0))
            return "" if name and name.group(1).lstrip("/").casefold() in gone else m.group(0)
        text = re.sub(r"<([A-Za-z_][\w.-]*:)?Override\b[^>]*/>", drop, text)
    items = ""
    for name, ctype in add.items():
        key = name.casefold()
        if have.get(key) == ctype:
            continue
        if key in have:
            raise ValueError(f"[Content_Types].xml gives part {name} another type "
                             f"({have[key]})")
        ext = name.rsplit(".", 1)[-1].lower()
        if defaults.get(ext) == ctype:
            continue
        items += f'<Override PartName="/{escape_attr(name)}" ContentType="{escape_attr(ctype)}"/>'
    out = text.encode("utf-8")
    return insert_before_close(out, "Types", items)[0] if items else out


def custom_properties(data: bytes | None, props: list[tuple[str, str]], flavour: Flavour
                      ) -> bytes:
    """The custom document properties with the engine's (``gamma_desk_areas_NNN``)
    replaced by ``props`` (name, text); the user's properties are left as they are."""
    if data is None:
        data = (f'{_HEAD}<Properties xmlns="{flavour.custom}" xmlns:vt="{flavour.vt}">'
                f'</Properties>').encode()
    root = _parse(data)
    pids = [int(p.get("pid")) for p in root if (p.get("pid") or "").isdigit()
            and not ENGINE_PROPERTY.match(p.get("name", ""))]
    text = data.decode("utf-8")

    def drop(m: re.Match) -> str:
        name = re.search(r'\sname\s*=\s*"([^"]*)"', m.group(0))
        return "" if name and ENGINE_PROPERTY.match(name.group(1)) else m.group(0)
    text = re.sub(r"<([A-Za-z_][\w.-]*:)?property\b[^>]*?(/>|>.*?</\1?property\s*>)", drop,
                  text, flags=re.S)
    m = _root_prefix(text, "Properties", flavour.vt)
    vt = m or "vt"
    decl = "" if m else f' xmlns:vt="{flavour.vt}"'
    pid = max([1, *pids]) + 1
    items = ""
    for name, value in props:
        items += (f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" '
                  f'name="{escape_attr(name)}"{decl}><{vt}:lpwstr>{escape_text(value)}'
                  f'</{vt}:lpwstr></property>')
        pid += 1
    return insert_before_close(text.encode(), "Properties", items)[0] if items else text.encode()


def app_titles(data: bytes, new_sheets: list[str], flavour: Flavour) -> bytes | None:
    """``docProps/app.xml`` with ``new_sheets`` added to the titles of parts and the
    worksheet count; ``None`` (leave the part alone) unless the part has the layout Excel
    writes (a "Worksheets" heading whose counts add up to the titles)."""
    if not new_sheets:
        return None
    try:
        root = _parse(data)
    except Exception:
        return None
    heading = next((e for e in root if local(e.tag) == "HeadingPairs"), None)
    titles = next((e for e in root if local(e.tag) == "TitlesOfParts"), None)
    if heading is None or titles is None or len(heading) != 1 or len(titles) != 1:
        return None
    pairs = list(heading[0])
    names = [local(v[0].tag) if len(v) else "" for v in pairs]
    counts, offset, target = [], 0, None
    for k in range(0, len(pairs) - 1, 2):
        label = pairs[k][0].text if len(pairs[k]) else ""
        try:
            n = int(pairs[k + 1][0].text)
        except (ValueError, TypeError, IndexError):
            return None
        if label == "Worksheets":
            target = offset + n
        counts.append(n)
        offset += n
    if target is None or offset != len(titles[0]) or "i4" not in names:
        return None
    text = data.decode("utf-8")
    vec = list(re.finditer(r"<([A-Za-z_][\w.-]*:)?vector\b([^>]*)>(.*?)</\1?vector>", text,
                           flags=re.S))
    if len(vec) != 2:
        return None
    hv, tv = vec
    p = tv.group(1) or ""
    entries = list(re.finditer(rf"<{re.escape(p)}lpstr>.*?</{re.escape(p)}lpstr>|"
                               rf"<{re.escape(p)}lpstr/>", tv.group(3), flags=re.S))
    if len(entries) != offset:
        return None
    at = entries[target - 1].end() if target else 0
    inner = tv.group(3)
    new_inner = inner[:at] + "".join(f"<{p}lpstr>{escape_text(n)}</{p}lpstr>"
                                     for n in new_sheets) + inner[at:]
    tattrs = re.sub(r'size="\d+"', f'size="{offset + len(new_sheets)}"', tv.group(2))
    new_titles = f"<{p}vector{tattrs}>{new_inner}</{p}vector>"
    # the Worksheets count is the i4 right after the "Worksheets" label
    hinner = hv.group(3)
    hm = re.search(rf"(Worksheets</{re.escape(p)}lpstr>\s*</{re.escape(p)}variant>\s*"
                   rf"<{re.escape(p)}variant>\s*<{re.escape(p)}i4>)(\d+)(</)", hinner)
    if hm is None:
        return None
    hinner = hinner[:hm.start(2)] + str(int(hm.group(2)) + len(new_sheets)) + hinner[hm.end(2):]
    new_heading = f"<{hv.group(1) or ''}vector{hv.group(2)}>{hinner}</{hv.group(1) or ''}vector>"
    return (text[:hv.start()] + new_heading + text[hv.end():tv.start()] + new_titles
            + text[tv.end():]).encode("utf-8")


def calc_chain_without(data: bytes, drop: dict[int, set[str]]) -> bytes | None:
    """The calculation chain without entries for the cells in ``drop`` (sheetId -> cell
    references); ``None`` when it has none of them (the part stays as it is). An entry that
    omits ``i`` is on the sheet of the entry before (the first defaults to 0), so a kept
    entry that followed a removed one gets its ``i`` written out."""
    if not drop:
        return None
    text = data.decode("utf-8")
    out: list[str] = []
    last = 0
    sheet = emitted = 0
    removed = False
    for m in re.finditer(r"<([A-Za-z_][\w.-]*:)?c\b[^>]*/>", text):
        tag = m.group(0)
        i = re.search(r'\si="(\d+)"', tag)
        if i:
            sheet = int(i.group(1))
        r = re.search(r'\sr="\$?([A-Za-z]+)\$?(\d+)"', tag)
        out.append(text[last:m.start()])
        last = m.end()
        if r and f"{r.group(1).upper()}{r.group(2)}" in drop.get(sheet, ()):
            removed = True
            continue
        if not i and sheet != emitted:
            tag = tag[:-2].rstrip() + f' i="{sheet}"/>'
        emitted = sheet
        out.append(tag)
    out.append(text[last:])
    return "".join(out).encode("utf-8") if removed else None
