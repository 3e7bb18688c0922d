"""The two flavours of SpreadsheetML: namespaces and relationship types.

ECMA-376 has a Transitional and a Strict vocabulary. They share every element name and every
content type, and differ only in the namespace URIs and relationship type URIs. A workbook
is one or the other throughout (its workbook part says which), so the engine writes its own
parts in the workbook's flavour: :data:`TRANSITIONAL` or :data:`STRICT`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Flavour", "TRANSITIONAL", "STRICT", "flavour_of", "CONTENT_TYPES", "local",
           "PKG_REL", "CT_NS", "XML_NS", "MC_NS"]

PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


@dataclass(frozen=True)
class Flavour:
    """Namespace URIs (``main`` = SpreadsheetML, ``r`` = relationships in markup, ``a`` =
    DrawingML, ``c`` = charts, ``xdr`` = spreadsheet drawing, ``custom``/``vt`` = custom
    document properties) and the relationship type prefix of one flavour."""

    name: str
    main: str
    r: str
    a: str
    c: str
    xdr: str
    custom: str
    vt: str
    extended: str
    rel_prefix: str

    def rel(self, kind: str) -> str:
        """Relationship type URI of ``kind`` (``worksheet``, ``table``, ``drawing``, ``chart``,
        ``styles``, ``custom-properties``…)."""
        if self.name == "strict" and kind == "custom-properties":
            kind = "customProperties"
        return f"{self.rel_prefix}/{kind}"


TRANSITIONAL = Flavour(
    name="transitional",
    main="http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    r="http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    a="http://schemas.openxmlformats.org/drawingml/2006/main",
    c="http://schemas.openxmlformats.org/drawingml/2006/chart",
    xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    custom="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    extended="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
    rel_prefix="http://schemas.openxmlformats.org/officeDocument/2006/relationships",
)

STRICT = Flavour(
    name="strict",
    main="http://purl.oclc.org/ooxml/spreadsheetml/main",
    r="http://purl.oclc.org/ooxml/officeDocument/relationships",
    a="http://purl.oclc.org/ooxml/drawingml/main",
    c="http://purl.oclc.org/ooxml/drawingml/chart",
    xdr="http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing",
    custom="http://purl.oclc.org/ooxml/officeDocument/customProperties",
    vt="http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
    extended="http://purl.oclc.org/ooxml/officeDocument/extendedProperties",
    rel_prefix="http://purl.oclc.org/ooxml/officeDocument/relationships",
)


def flavour_of(namespace: str) -> Flavour:
    """The flavour whose SpreadsheetML namespace is ``namespace`` (the workbook root's)."""
    return STRICT if namespace == STRICT.main else TRANSITIONAL


# Content types of the parts the engine writes (the same in both flavours).
CONTENT_TYPES = {
    "worksheet": "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
    "table": "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml",
    "drawing": "application/vnd.openxmlformats-officedocument.drawing+xml",
    "chart": "application/vnd.openxmlformats-officedocument.drawingml.chart+xml",
    "styles": "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
    "custom-properties":
        "application/vnd.openxmlformats-officedocument.custom-properties+xml",
    "rels": "application/vnd.openxmlformats-package.relationships+xml",
}


def local(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rpartition("}")[2]
