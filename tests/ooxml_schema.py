"""Validate the OOXML parts a refresh writes against the ECMA-376 Transitional schemas.

    from ooxml_schema import validate
    errors = validate(xml_bytes, "chart")      # [] when the part is valid

``part`` is one of ``"worksheet"``, ``"table"``, ``"styles"`` (SpreadsheetML, ``sml.xsd``),
``"drawing"`` (``xl/drawings/drawingN.xml``, ``dml-spreadsheetDrawing.xsd``) or ``"chart"``
(``xl/charts/chartN.xml``, ``dml-chart.xsd``). The schemas are the ISO/IEC 29500-4:2016
(= ECMA-376 Part 4, 5th edition) Transitional XSDs in ``tests/schemas/ecma376-transitional/``
(see the README there for provenance and licence). They are loaded from disk only: every
``xsd:import`` names a sibling file, the parser has network access switched off, and a
``schemaLocation`` that is not a local sibling makes loading fail instead of fetching.
Each schema is compiled once per process.

Markup Compatibility (ECMA-376 Part 3). Excel writes newer-version content that the 2016
schemas do not describe, marked so that older consumers can skip it:

* ``mc:Ignorable="x14ac xr xr2 ..."`` on the root: elements and attributes in those
  namespaces may be ignored (``x14ac:dyDescent`` on ``<row>``, ``xr:uid`` on ``<worksheet>``,
  ``<table>``, ``<tableColumn>``, ``c16r2``/``c14`` in charts, ...);
* ``<mc:AlternateContent><mc:Choice Requires="c14">..</mc:Choice><mc:Fallback>..</mc:Fallback>``
  (e.g. ``c14:style`` in charts, ``a14`` shapes in drawings): a consumer that does not
  understand the Choice's namespaces takes the Fallback.

Before validating, :func:`preprocess` does what a consumer that understands only the 2016
Transitional namespaces does: it removes elements and attributes in ignorable namespaces
(unless the namespace is one of the schema namespaces), replaces each ``mc:AlternateContent``
by the children of the first ``mc:Choice`` whose ``Requires`` prefixes are all understood, else
by the children of ``mc:Fallback``, else by nothing, and drops the ``mc:*`` attributes.
``mc:ProcessContent`` and ``mc:MustUnderstand`` are not supported: a part that uses them gets
an error message (a refresh never writes them). Content in *non*-ignorable foreign namespaces
is left in place and therefore reported, except where the schemas allow it (``extLst/ext``
holds ``xsd:any processContents="lax"``, so Excel's ``x14``/``c16`` extensions pass).

``xml:space``. Excel writes ``xml:space="preserve"`` on text-only elements (``<t>`` in inline
strings, ``<v>``, ``<oddHeader>``/``<oddFooter>``) and reads it back as XML 1.0 section 2.10
intends, but the schemas never declare it (none of them imports ``xml.xsd``), so a schema
validator rejects every occurrence. By default :func:`preprocess` therefore drops ``xml:space``
attributes whose value is ``preserve`` or ``default`` (any other value is reported);
``validate(..., allow_xml_space=False)`` keeps them and lets the schema complain.

Strict OOXML (``http://purl.oclc.org/ooxml/...`` namespaces) is not covered: such a part is
reported as having the wrong root element.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

etree = pytest.importorskip("lxml.etree")

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas" / "ecma376-transitional"

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"

# part -> (schema file, expected root element in Clark notation)
PARTS: dict[str, tuple[str, str]] = {
    "worksheet": ("sml.xsd", f"{{{SML}}}worksheet"),
    "table": ("sml.xsd", f"{{{SML}}}table"),
    "styles": ("sml.xsd", f"{{{SML}}}styleSheet"),
    "drawing": ("dml-spreadsheetDrawing.xsd", f"{{{XDR}}}wsDr"),
    "chart": ("dml-chart.xsd", f"{{{CHART}}}chartSpace"),
}

_XSD = "{http://www.w3.org/2001/XMLSchema}"


def _safe_parser() -> "etree.XMLParser":
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True)


@functools.lru_cache(maxsize=None)
def understood_namespaces() -> frozenset[str]:
    """Target namespaces of all schema files shipped here (what this 'consumer' understands)."""
    out = {"http://www.w3.org/XML/1998/namespace"}
    for f in SCHEMA_DIR.glob("*.xsd"):
        tns = etree.parse(str(f), _safe_parser()).getroot().get("targetNamespace")
        if tns:
            out.add(tns)
    return frozenset(out)


@functools.lru_cache(maxsize=None)
def schema(filename: str) -> "etree.XMLSchema":
    """Compile ``filename`` (and what it imports) from SCHEMA_DIR, once."""
    path = SCHEMA_DIR / filename
    # Refuse anything but sibling files: no catalog, no network, no surprises.
    for f in SCHEMA_DIR.glob("*.xsd"):
        for imp in etree.parse(str(f), _safe_parser()).getroot().iter(f"{_XSD}import", f"{_XSD}include"):
            loc = imp.get("schemaLocation")
            if loc is not None and (("/" in loc) or ("\\" in loc) or not (SCHEMA_DIR / loc).is_file()):
                raise RuntimeError(f"{f.name}: schemaLocation {loc!r} is not a local sibling file")
    return etree.XMLSchema(etree.parse(str(path), _safe_parser()))


def _requires_understood(el, understood: frozenset[str]) -> bool:
    for prefix in (el.get("Requires") or "").split():
        uri = el.nsmap.get(prefix)
        if uri is None or uri not in understood:
            return False
    return True


def preprocess(root, understood: frozenset[str] | None = None, *, allow_xml_space: bool = True) -> list[str]:
    """Apply Markup Compatibility processing to ``root`` in place; return problems found.

    With ``allow_xml_space`` (the default) also drop ``xml:space="preserve"|"default"``.
    """
    understood = understood_namespaces() if understood is None else understood
    problems: list[str] = []

    # Ignorable namespaces are declared per element and inherited; collect them per element.
    def ignorable_here(el, inherited: frozenset[str]) -> frozenset[str]:
        decl = el.get(f"{{{MC}}}Ignorable")
        if not decl:
            return inherited
        uris = set(inherited)
        for prefix in decl.split():
            uri = el.nsmap.get(prefix)
            if uri is None:
                problems.append(f"line {el.sourceline}: mc:Ignorable prefix {prefix!r} is not declared")
            elif uri not in understood:
                uris.add(uri)
        return frozenset(uris)

    def ns_of(tag: str) -> str:
        return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""

    def walk(el, inherited: frozenset[str]) -> None:
        ign = ignorable_here(el, inherited)
        for attr in (f"{{{MC}}}ProcessContent", f"{{{MC}}}MustUnderstand", f"{{{MC}}}PreserveElements",
                     f"{{{MC}}}PreserveAttributes"):
            if el.get(attr) is not None:
                problems.append(f"line {el.sourceline}: {attr.split('}')[1]} is not supported by this validator")
        for name in list(el.attrib):
            if ns_of(name) == MC or ns_of(name) in ign:
                del el.attrib[name]
            elif name == XML_SPACE and allow_xml_space:
                if el.attrib[name] not in ("preserve", "default"):
                    problems.append(f"line {el.sourceline}: xml:space={el.attrib[name]!r} (only 'preserve' or 'default')")
                del el.attrib[name]
        i = 0
        while i < len(el):
            child = el[i]
            if not isinstance(child.tag, str):  # comment / processing instruction
                i += 1
                continue
            cns = ns_of(child.tag)
            if child.tag == f"{{{MC}}}AlternateContent":
                chosen = None
                for branch in child:
                    if not isinstance(branch.tag, str):
                        continue
                    if branch.tag == f"{{{MC}}}Choice" and _requires_understood(branch, understood):
                        chosen = branch
                        break
                    if branch.tag == f"{{{MC}}}Fallback":
                        chosen = branch
                        break
                replacement = list(chosen) if chosen is not None else []
                branch_ign = ignorable_here(child, ign)
                el.remove(child)
                for k, r in enumerate(replacement):
                    el.insert(i + k, r)
                # re-scan the spliced-in nodes (they may themselves hold mc: content)
                for r in replacement:
                    if isinstance(r.tag, str):
                        walk(r, branch_ign)
                i += len(replacement)
                continue
            if cns == MC:
                problems.append(f"line {child.sourceline}: unexpected mc:{child.tag.split('}')[1]} element")
                el.remove(child)
                continue
            if cns in ign:
                el.remove(child)
                continue
            walk(child, ign)
            i += 1

    walk(root, frozenset())
    return problems


def validate(xml: bytes, part: str, *, allow_xml_space: bool = True) -> list[str]:
    """Validate one OOXML part; return error messages (empty list = valid).

    ``part``: "worksheet", "table", "drawing", "chart" or "styles". Messages read
    ``"line L <xpath>: <libxml2 message>"``; the part is Markup-Compatibility processed first
    (see the module docstring).
    """
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; expected one of {sorted(PARTS)}")
    filename, root_tag = PARTS[part]
    try:
        root = etree.fromstring(xml, _safe_parser())
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if root.tag != root_tag:
        return [f"root element is {root.tag}, expected {root_tag} for a {part} part"]
    errors = preprocess(root, allow_xml_space=allow_xml_space)
    xsd = schema(filename)
    if not xsd.validate(root):
        errors += [f"line {e.line} {e.path}: {e.message}" for e in xsd.error_log]
    return errors
