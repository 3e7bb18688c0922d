"""Parse an XML part keeping its namespace prefixes, and write elements back with them.

ElementTree forgets prefixes (``{uri}name``) and would invent ``ns0:`` on output; Office
files rely on their prefixes (``mc:Ignorable="x14ac"`` names prefixes, not URIs). A part
re-written here declares every prefix the original declared, on its root element, and each
element keeps its prefix; text and attribute values are escaped as XML requires.
"""

from __future__ import annotations

import io
import re
from xml.etree.ElementTree import Element, iterparse

from engine.xlsx.namespaces import XML_NS

__all__ = ["ParsedPart", "parse_part", "escape_text", "escape_attr", "excel_text"]

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def escape_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(s: str) -> str:
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
            .replace("\t", "&#9;"))


def excel_text(s: str) -> str:
    """Cell or table text with the characters XML cannot carry written Excel's way
    (``_x0007_`` for U+0007), escaped for an element's content."""
    if _ILLEGAL.search(s):
        s = _ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", s)
    return escape_text(s)


class ParsedPart:
    """An XML part as a tree plus its namespace declarations.

    ``decls`` lists (prefix, uri) in the order they were declared anywhere in the part
    (``""`` = default namespace); ``prefix_of(uri)`` is the prefix used for ``uri``."""

    def __init__(self, root: Element, decls: list[tuple[str, str]], head: str):
        self.root = root
        self.decls = decls
        self.head = head  # the XML declaration, as written
        self._prefix: dict[str, str] = {}
        for p, uri in decls:
            self._prefix.setdefault(uri, p)

    def prefix_of(self, uri: str) -> str | None:
        return self._prefix.get(uri)

    def declare(self, prefix: str, uri: str) -> str:
        """Make sure ``uri`` has a prefix (``prefix`` if free); returns the one in use."""
        have = self._prefix.get(uri)
        if have is not None:
            return have
        taken = {p for p, _ in self.decls}
        cand, k = prefix, 2
        while cand in taken:
            cand, k = f"{prefix}{k}", k + 1
        self.decls.append((cand, uri))
        self._prefix[uri] = cand
        return cand

    def name(self, tag: str) -> str:
        """``{uri}local`` -> ``prefix:local`` (or ``local`` in the default namespace)."""
        if tag[0] != "{":
            return tag
        uri, _, loc = tag[1:].partition("}")
        if uri == XML_NS:
            return f"xml:{loc}"
        p = self._prefix.get(uri)
        if p is None:
            p = self.declare("ns", uri)
        return f"{p}:{loc}" if p else loc

    def start_tag(self, el: Element, close: bool = False) -> str:
        """The root's start tag with every namespace declaration of the part."""
        decl = "".join(f' xmlns:{p}="{escape_attr(u)}"' if p else f' xmlns="{escape_attr(u)}"'
                       for p, u in _unique(self.decls))
        return f"<{self.name(el.tag)}{decl}{self.attrs(el)}{'/' if close else ''}>"

    def attrs(self, el: Element) -> str:
        return "".join(f' {self._attr_name(k)}="{escape_attr(v)}"' for k, v in el.attrib.items())

    def _attr_name(self, key: str) -> str:
        """Like :meth:`name`, but an attribute cannot use the default namespace."""
        if key[0] != "{":
            return key
        uri, _, loc = key[1:].partition("}")
        if uri != XML_NS and not self._prefix.get(uri):
            self._prefix.pop(uri, None)
            return f"{self.declare('ns', uri)}:{loc}"
        return self.name(key)

    def text(self, el: Element) -> str:
        """An element (not the root) written back with the part's prefixes."""
        out: list[str] = []
        self._write(el, out)
        return "".join(out)

    def _write(self, el: Element, out: list[str]) -> None:
        tag = self.name(el.tag)
        out.append(f"<{tag}{self.attrs(el)}")
        if len(el) == 0 and not el.text:
            out.append("/>")
        else:
            out.append(">")
            if el.text:
                out.append(escape_text(el.text))
            for child in el:
                self._write(child, out)
            out.append(f"</{tag}>")
        if el.tail:
            out.append(escape_text(el.tail))


def _unique(decls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One declaration per prefix (the first one seen)."""
    seen: set[str] = set()
    out = []
    for p, u in decls:
        if p not in seen:
            seen.add(p)
            out.append((p, u))
    return out


_DECL = re.compile(rb"^\s*(<\?xml[^>]*\?>)")


def parse_part(data: bytes) -> ParsedPart:
    """Parse ``data`` (already checked by :func:`engine.xlsx.package.safe_prolog`)."""
    decls: list[tuple[str, str]] = []
    root = None
    for event, item in iterparse(io.BytesIO(data), events=("start-ns", "start")):
        if event == "start-ns":
            decls.append(item)
        elif root is None:
            root = item
    # iterparse has built the whole tree by now; the root holds it
    m = _DECL.match(data.lstrip(b"\xef\xbb\xbf"))
    head = m.group(1).decode("utf-8", "replace") if m else \
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    return ParsedPart(root, decls, head)
