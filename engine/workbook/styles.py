"""The engine's cell formats, added to the workbook's styles part without moving the user's.

Cells point at formats by index (``s="7"``), so the user's number formats, fonts, fills,
borders, cell formats and differential formats must keep their indices and their bytes.
:class:`StyleBook` only ever *appends*: a format the engine needs that the styles part
already holds (from an earlier refresh, or the user's own, identical) is reused; a missing
one is inserted just before its collection's closing tag, and the ``count`` attributes are
updated. A refresh whose formats are all there leaves the part byte-identical.

The engine's look, by cell role (:data:`~engine.workbook.layout.Role`): body cells in the
workbook's default font with the table's number format; headers bold white on navy, centred
and wrapped; titles bold 12 pt navy; notes and intro lines italic grey. Fonts derive from the
workbook's default font (font 0), so the engine's sheets read in the user's typeface.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError, XMLParser
from xml.sax.saxutils import quoteattr

from engine.workbook.layout import Role
from engine.xlsx.namespaces import Flavour, local
from engine.xlsx.numfmt import BUILTIN_IDS

__all__ = ["StyleBook", "minimal_styles"]

NAVY, WHITE, GREY = "FF1F3864", "FFFFFFFF", "FF595959"
# collections of CT_Stylesheet in schema order, with their item element
_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
          "dxfs", "tableStyles", "colors", "extLst"]
_ITEM = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border",
         "cellXfs": "xf"}
_DEFAULTS = {  # what a collection must start with when a styles part lacks it
    "fonts": ['<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'],
    "fills": ['<fill><patternFill patternType="none"/></fill>',
              '<fill><patternFill patternType="gray125"/></fill>'],
    "borders": ["<border><left/><right/><top/><bottom/><diagonal/></border>"],
    "cellXfs": ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'],
}


def minimal_styles(flavour: Flavour) -> bytes:
    """A styles part for a package that has none (the engine's formats are added to it)."""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{flavour.main}"></styleSheet>').encode()


def _canon(el: Element) -> str:
    """Namespace-free, attribute-sorted text of an element (``true``/``false`` as 1/0)."""
    attrs = "".join(f' {k}="{v}"' for k, v in sorted(
        (local(k), {"true": "1", "false": "0"}.get(v, v)) for k, v in el.attrib.items()))
    inner = "".join(_canon(c) for c in el)
    return f"<{local(el.tag)}{attrs}>{(el.text or '').strip()}{inner}</{local(el.tag)}>"


class StyleBook:
    """The styles part of one workbook, with the engine's formats looked up or appended.

    ``StyleBook(xml, flavour)``; ``xf(role, number_format)`` -> the cell format index to
    write in ``s``; ``xml_bytes()`` -> the new part, or ``None`` when nothing was added."""

    def __init__(self, xml: bytes, flavour: Flavour):
        try:
            self.text = xml.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the styles part is not UTF-8 (Excel writes UTF-8)") from None
        self.ns = "{" + flavour.main + "}"
        parser = XMLParser()
        try:
            parser.feed(xml)
            root = parser.close()
        except ParseError as exc:
            raise ValueError(f"the styles part is not well-formed XML ({exc})") from None
        m = re.search(r"<([A-Za-z_][\w.-]*:)?styleSheet[\s>/]", self.text)
        self.prefix = (m.group(1) or "") if m else ""
        self.items: dict[str, list[str]] = {}      # collection -> canonical items
        self.present: set[str] = set()
        for child in root:
            name = local(child.tag)
            self.present.add(name)
            if name in _ITEM:
                self.items[name] = [_canon(c) for c in child if local(c.tag) == _ITEM[name]]
        self.custom_codes: dict[str, int] = {}
        for el in root.iter(self.ns + "numFmt"):
            try:
                self.custom_codes.setdefault(el.get("formatCode", ""), int(el.get("numFmtId", "")))
            except ValueError:
                continue
        self.added: dict[str, list[str]] = {}      # collection -> new item XML (unprefixed)
        for name, defaults in _DEFAULTS.items():
            if name not in self.present:
                for item in defaults:
                    self._append(name, item)
        fonts = next((c for c in root if local(c.tag) == "fonts"), None)
        font0 = next((f for f in (fonts if fonts is not None else []) if local(f.tag) == "font"),
                     None)
        self._font0 = self._first_font(font0 if font0 is not None
                                       else _parse_fragment(_DEFAULTS["fonts"][0]))
        self._cache: dict[tuple[str, str | None], int] = {}
        self.has_cell_style_xfs = "cellStyleXfs" in self.present

    # -- lookup or append -----------------------------------------------------------
    def _append(self, collection: str, item_xml: str) -> int:
        canon = _canon(_parse_fragment(item_xml))
        existing = self.items.setdefault(collection, [])
        if canon in existing:
            return existing.index(canon)
        existing.append(canon)
        self.added.setdefault(collection, []).append(item_xml)
        return len(existing) - 1

    def _num_fmt(self, code: str | None) -> int:
        if not code or code == "General":
            return 0
        if code in BUILTIN_IDS:
            return BUILTIN_IDS[code]
        if code in self.custom_codes:
            return self.custom_codes[code]
        fid = max([163, *self.custom_codes.values()]) + 1
        self.custom_codes[code] = fid
        self._append("numFmts", f"<numFmt numFmtId=\"{fid}\" formatCode={quoteattr(code)}/>")
        return fid

    @staticmethod
    def _first_font(font: Element) -> list[str]:
        """Size, name, family, charset and scheme of font 0, as XML text."""
        keep = ["sz", "name", "family", "charset", "scheme"]
        out: dict[str, str] = {}
        for c in font:
            if local(c.tag) in keep:
                out[local(c.tag)] = "".join(f' {local(k)}={quoteattr(v)}' for k, v in
                                            c.attrib.items() if "}" not in k)
        if "sz" not in out:
            out["sz"] = ' val="11"'
        if "name" not in out:
            out["name"] = ' val="Calibri"'
        return [f"<{k}{out[k]}/>" for k in keep if k in out]

    def _font(self, bold: bool = False, italic: bool = False, size: float | None = None,
              color: str | None = None) -> int:
        parts = (["<b/>"] if bold else []) + (["<i/>"] if italic else [])
        for p in self._font0:
            if p.startswith("<sz") and size is not None:
                p = f'<sz val="{size:g}"/>'
            parts.append(p)
            if p.startswith("<sz") and color:
                parts.append(f'<color rgb="{color}"/>')
        return self._append("fonts", "<font>" + "".join(parts) + "</font>")

    def xf(self, role: Role, number_format: str | None = None) -> int:
        """The cell format index for a cell of ``role`` shown in ``number_format``."""
        key = (role, number_format)
        if key in self._cache:
            return self._cache[key]
        fmt = self._num_fmt(number_format)
        fill, align = 0, ""
        if role == "header":
            font = self._font(bold=True, color=WHITE)
            fill = self._append("fills", f'<fill><patternFill patternType="solid"><fgColor '
                                f'rgb="{NAVY}"/><bgColor indexed="64"/></patternFill></fill>')
            align = '<alignment horizontal="center" vertical="center" wrapText="1"/>'
        elif role == "title":
            font = self._font(bold=True, size=12, color=NAVY)
        elif role in ("note", "intro"):
            font = self._font(italic=True, color=GREY)
        else:
            font = 0
        attrs = f'numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="0"'
        if self.has_cell_style_xfs:
            attrs += ' xfId="0"'
        attrs += (' applyNumberFormat="1"' if fmt else "") + (' applyFont="1"' if font else "") \
            + (' applyFill="1"' if fill else "") + (' applyAlignment="1"' if align else "")
        idx = self._append("cellXfs", f"<xf {attrs}>{align}</xf>" if align else f"<xf {attrs}/>")
        self._cache[key] = idx
        return idx

    # -- the new part ---------------------------------------------------------------
    def xml_bytes(self) -> bytes | None:
        """The styles part with the appended formats, or ``None`` if nothing was added."""
        if not self.added:
            return None
        text = self.text
        p = self.prefix
        empty = re.search(rf"<{re.escape(p)}styleSheet\b[^>]*/>", text)
        if empty:  # <styleSheet .../>: reopen it so collections can go inside
            tag = empty.group(0)
            text = text[:empty.start()] + tag[:-2].rstrip() + f"></{p}styleSheet>" + \
                text[empty.end():]
        for name in sorted(self.added, key=_ORDER.index):
            items = "".join(_prefixed(x, p) for x in self.added[name])
            count = len(self.items[name])
            span = _element_span(text, p, name)
            if span is None:  # no such collection yet: insert it where the schema puts it
                at = _insert_point(text, p, name)
                text = text[:at] + f'<{p}{name} count="{count}">{items}</{p}{name}>' + text[at:]
                continue
            start, start_end, close = span
            tag = text[start:start_end]
            if close is None:  # <fonts count="0"/>
                new_tag = _with_count(tag[:-2].rstrip() + ">", count)
                text = text[:start] + new_tag + items + f"</{p}{name}>" + text[start_end:]
            else:
                text = text[:close] + items + text[close:]
                text = text[:start] + _with_count(tag, count) + text[start_end:]
        return text.encode("utf-8")


def _parse_fragment(xml: str) -> Element:
    parser = XMLParser()
    parser.feed(xml)
    return parser.close()


_TAG = re.compile(r"<(/?)([A-Za-z_][\w.-]*)")


def _prefixed(xml: str, prefix: str) -> str:
    """Put the styles part's namespace prefix on every element of an item."""
    if not prefix:
        return xml
    return _TAG.sub(lambda m: f"<{m.group(1)}{prefix}{m.group(2)}", xml)


def _element_span(text: str, p: str, name: str) -> tuple[int, int, int | None] | None:
    """(start of the start tag, end of the start tag, start of the end tag or None when the
    element is empty ``<x/>``) of the top-level collection ``name``."""
    m = re.search(rf"<{re.escape(p)}{name}(\s[^>]*)?>", text)
    if m is None:
        return None
    if m.group(0).endswith("/>"):
        return m.start(), m.end(), None
    close = text.find(f"</{p}{name}>", m.end())
    if close < 0:
        raise ValueError(f"the styles part's <{name}> is not closed")
    return m.start(), m.end(), close


def _insert_point(text: str, p: str, name: str) -> int:
    """Where a missing collection goes: before the first later collection, else before
    ``</styleSheet>`` (or, for an empty ``<styleSheet/>``, the part is reopened first)."""
    for later in _ORDER[_ORDER.index(name) + 1:]:
        span = _element_span(text, p, later)
        if span is not None:
            return span[0]
    end = text.rfind(f"</{p}styleSheet>")
    if end < 0:
        raise ValueError("the styles part has no </styleSheet>")
    return end


def _with_count(tag: str, count: int) -> str:
    if re.search(r'\scount="[^"]*"', tag):
        return re.sub(r'(\s)count="[^"]*"', rf'\g<1>count="{count}"', tag, count=1)
    return tag[:-1] + f' count="{count}">'
