"""Fixture for the real-workbook corpus (``tests/corpus/``): add Gamma Desk's input sheets by
zip surgery, and say which corpus files are damaged.

:func:`add_inputs` writes a copy of a corpus workbook carrying the demo workbook's eight
input sheets (``Instruments`` … ``Settings``, cell values as in ``workbooks/demo.xlsx``). It
edits the package the way a careful tool would, and nothing else:

* eight new worksheet parts (``<workbook dir>/worksheets/gd_input_N.xml``, names not used
  yet, compared case-insensitively as OPC part names are);
* in the workbook part: one ``<sheet>`` per input sheet, appended after the existing sheets
  (fresh ``sheetId`` and relationship id), inserted just before the closing ``</sheets>``;
* in the workbook part's ``.rels``: one ``<Relationship>`` per new sheet, before
  ``</Relationships>``;
* in ``[Content_Types].xml``: one ``<Override>`` per new part, before ``</Types>``.

Every other part is copied with identical content, in the original order; the three edited
parts keep every original byte (the new entries are one inserted run of text each). Cell
text is written as inline strings, numbers as numbers and dates as ISO text, so the styles
and shared-strings parts stay untouched. Number cells use the default cell format, unless
the workbook's cellXfs[0] is a date format (it is in one corpus file: its Normal style is
``d-mmm-yy``); then they refer to an existing General cell format instead, so that they
still read as numbers. The new entries follow the file's own conventions:
its namespace prefixes (``<x:workbook>``, a relationships prefix other than ``r``, or a
local ``xmlns:r`` declaration where the workbook part has none in scope), its flavour
(transitional or Strict OOXML namespaces and relationship types), the location of its
workbook part (followed from ``_rels/.rels``) and the style of its relationship targets
(relative, or absolute ``/xl/...``).

:func:`classify` returns ``None`` for a readable workbook package, else why it is damaged.
Standard library only (zipfile, re, xml.etree for reading); openpyxl reads the demo once.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import posixpath
import re
import tempfile
import zipfile
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
DEMO = HERE.parent / "workbooks" / "demo.xlsx"
INPUT_SHEETS = ("Instruments", "Prices", "Fundamentals", "Returns", "Series", "Income",
                "Macro", "Settings")

# The two flavours of SpreadsheetML: main namespace, relationships namespace (r:id) and
# the base of the relationship type URIs.
TRANSITIONAL = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                "http://schemas.openxmlformats.org/officeDocument/2006/relationships/")
STRICT = ("http://purl.oclc.org/ooxml/spreadsheetml/main",
          "http://purl.oclc.org/ooxml/officeDocument/relationships",
          "http://purl.oclc.org/ooxml/officeDocument/relationships/")
PKG_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
# Strict OOXML keeps the transitional content types (ISO/IEC 29500-1, Annex A).
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class PackageError(ValueError):
    """The file is not a readable workbook package (``classify`` says why)."""


class SheetNameClash(ValueError):
    """The workbook already has a sheet named like one of the eight input sheets."""


# --------------------------------------------------------------------------- corpus files

def corpus_files() -> list[Path]:
    """Every ``.xlsx`` / ``.xlsm`` under ``tests/corpus/``, sorted."""
    return sorted(p for p in CORPUS.rglob("*")
                  if p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm"))


# --------------------------------------------------------------------------- package model

def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _rels_name(part: str) -> str:
    """The relationships part of ``part``: ``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``."""
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


def _resolve(source_part: str, target: str) -> str:
    """Part name (no leading slash) of a relationship ``target`` of ``source_part``."""
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


class _Package:
    """A zip opened as an OPC package: part lookup is case-insensitive, as OPC names are."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = zipfile.ZipFile(path)
        self.infos = self.zip.infolist()
        self.by_lower: dict[str, str] = {}   # lower-cased part name -> part name
        self.entry: dict[str, str] = {}      # part name -> zip entry name
        for i in self.infos:  # some Windows tools write "xl\\workbook.xml": read as "/"
            part = i.filename.replace("\\", "/")
            self.by_lower.setdefault(part.lower(), part)
            self.entry.setdefault(part, i.filename)

    def name(self, part: str) -> str | None:
        return self.by_lower.get(part.replace("\\", "/").lower())

    def read(self, part: str) -> bytes:
        name = self.name(part) or part
        return self.zip.read(self.entry.get(name, name))

    def close(self) -> None:
        self.zip.close()


def _parse(pkg: _Package, part: str, what: str) -> ET.Element:
    try:
        return ET.fromstring(pkg.read(part))
    except ET.ParseError as e:
        raise PackageError(f"{what} '{pkg.name(part)}' is not well-formed XML ({e})") from None


def _inspect(path: Path, styles_ok: bool = True) -> tuple[_Package, dict]:
    """Open ``path`` and check it is a readable workbook package; raise :class:`PackageError`
    naming the damage otherwise. Returns the package and what was learnt about it."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(8)
    if head == OLE_MAGIC:
        raise PackageError("an OLE compound file, not a zip package "
                           "(an encrypted workbook, or a legacy .xls)")
    if not zipfile.is_zipfile(path):
        raise PackageError("not a zip file")
    try:
        pkg = _Package(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise PackageError(f"unreadable zip ({e})") from None
    try:
        return pkg, _check(pkg, styles_ok)
    except BaseException:
        pkg.close()
        raise


def _check(pkg: _Package, styles_ok: bool = True) -> dict:
    seen: set[str] = set()
    for i in pkg.infos:
        low = i.filename.replace("\\", "/").lower()
        if low in seen:
            raise PackageError(f"two zip entries for part '{i.filename}'")
        seen.add(low)
        if i.flag_bits & 0x1:
            raise PackageError(f"encrypted zip entry '{i.filename}'")
        try:
            with pkg.zip.open(i) as f:
                while f.read(1 << 20):
                    pass
        except zipfile.BadZipFile as e:
            if "CRC" in str(e):
                raise PackageError(f"bad CRC-32 in part '{i.filename}'") from None
            raise PackageError(f"part '{i.filename}' cannot be read ({e})") from None
        except NotImplementedError as e:
            raise PackageError(f"part '{i.filename}': {e}") from None
        except (OSError, EOFError, ValueError) as e:  # truncated or corrupt deflate data
            raise PackageError(f"part '{i.filename}' cannot be read ({e})") from None

    if pkg.name("[Content_Types].xml") is None:
        raise PackageError("no [Content_Types].xml part")
    ct = _parse(pkg, "[Content_Types].xml", "content types part")
    if ct.tag != f"{{{CT_NS}}}Types":
        raise PackageError(f"[Content_Types].xml root is {ct.tag}, not Types")

    if pkg.name("_rels/.rels") is None:
        back = [i.filename for i in pkg.infos if "\\" in i.filename]
        if back:
            raise PackageError(f"zip entry names use backslashes (e.g. '{back[0]}'), "
                               "so there is no '_rels/.rels' part")
        raise PackageError("no package relationships part '_rels/.rels'")
    rels = _parse(pkg, "_rels/.rels", "package relationships part")
    office = [r for r in rels if _local(r.tag) == "Relationship"
              and r.get("Type") in (TRANSITIONAL[2] + "officeDocument",
                                    STRICT[2] + "officeDocument")]
    if not office:
        raise PackageError("no officeDocument relationship in _rels/.rels")
    if len(office) > 1:
        raise PackageError("more than one officeDocument relationship in _rels/.rels")
    if office[0].get("TargetMode") == "External":
        raise PackageError("the officeDocument relationship is external")
    wb_part = _resolve("", office[0].get("Target", ""))
    if pkg.name(wb_part) is None:
        raise PackageError(f"missing workbook part '{wb_part}' "
                           "(the target of the officeDocument relationship)")
    wb_part = pkg.name(wb_part)
    wb = _parse(pkg, wb_part, "workbook part")
    flavour = {TRANSITIONAL[0]: TRANSITIONAL, STRICT[0]: STRICT}.get(_ns(wb.tag))
    if flavour is None or _local(wb.tag) != "workbook":
        raise PackageError(f"workbook part '{wb_part}' root is {wb.tag}, "
                           "not a SpreadsheetML workbook")
    sheets_el = [e for e in wb if e.tag == f"{{{flavour[0]}}}sheets"]
    if len(sheets_el) != 1:
        raise PackageError(f"workbook part '{wb_part}' has {len(sheets_el)} <sheets> elements")
    wb_rels_part = _rels_name(wb_part)
    if pkg.name(wb_rels_part) is None:
        raise PackageError(f"no relationships part '{wb_rels_part}' for the workbook part")
    wb_rels_part = pkg.name(wb_rels_part)
    wb_rels = _parse(pkg, wb_rels_part, "workbook relationships part")
    by_id = {r.get("Id"): r for r in wb_rels if _local(r.tag) == "Relationship"}

    sheets = []
    for s in sheets_el[0]:
        if _local(s.tag) != "sheet":
            continue
        rid = next((v for k, v in s.attrib.items() if _local(k) == "id"
                    and _ns(k) in (TRANSITIONAL[1], STRICT[1])), None)
        if rid and rid not in by_id:
            raise PackageError(f"sheet '{s.get('name')}' refers to relationship '{rid}', "
                               f"which '{wb_rels_part}' does not have")
        sheets.append(s)

    styles_part = None
    for r in by_id.values():   # the core parts a refresh must read
        kind = (r.get("Type") or "").rsplit("/", 1)[-1]
        if kind not in ("styles", "sharedStrings") or r.get("TargetMode") == "External":
            continue
        part = _resolve(wb_part, r.get("Target", ""))
        if pkg.name(part) is None:
            raise PackageError(f"missing {kind} part '{part}' (target of {r.get('Id')})")
        root = _parse(pkg, part, f"{kind} part")
        if kind == "styles":
            styles_part = root
        if kind == "styles" and not styles_ok \
                and root.find(f"{{{flavour[0]}}}cellXfs") is None:
            raise PackageError(f"styles part '{pkg.name(part)}' has no cellXfs "
                               "(its list of cell formats)")
    return {"wb_part": wb_part, "wb_rels_part": wb_rels_part, "flavour": flavour,
            "sheets": sheets, "rels": by_id,
            "number_style": _number_style(styles_part, flavour[0])}


_DATE_BUILTIN = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_FMT_NOISE = re.compile(r'"[^"]*"|\\.|_.|\*.|\[(?![hms]+\])[^\]]*\]', re.I)


def _is_date_format(num_fmt_id: int, code: str | None) -> bool:
    if code is None:
        return num_fmt_id in _DATE_BUILTIN
    return bool(re.search(r"[dmyhs]", _FMT_NOISE.sub("", code), re.I))


def _number_style(styles: ET.Element | None, main_ns: str) -> int | None:
    """The ``s`` for number cells: ``None`` (the default, cellXfs[0]) unless cellXfs[0] has
    a date or time format -- some workbooks' Normal style does -- which would turn the demo's
    numbers into dates; then the first cell format with the General format (else any
    non-date format). Read-only: the styles part is never changed."""
    if styles is None:
        return None
    xfs = styles.find(f"{{{main_ns}}}cellXfs")
    if xfs is None:
        return None
    codes = {int(f.get("numFmtId", "-1")): f.get("formatCode")
             for f in styles.iter(f"{{{main_ns}}}numFmt") if f.get("numFmtId", "").isdigit()}
    ids = [int(x.get("numFmtId", "0")) if x.get("numFmtId", "0").isdigit() else 0
           for x in xfs.findall(f"{{{main_ns}}}xf")]
    date = [_is_date_format(i, codes.get(i)) for i in ids]
    if not ids or not date[0]:
        return None
    for k, i in enumerate(ids):
        if i == 0 and not date[k]:
            return k
    return next((k for k, d in enumerate(date) if not d), None)


def classify(path: str | Path) -> str | None:
    """``None`` if ``path`` is a readable workbook package, else the reason it is damaged
    (not a zip, an OLE/encrypted file, bad CRC, no workbook part, a broken core part such
    as a styles part without cellXfs, …)."""
    try:
        pkg, _ = _inspect(Path(path))
    except PackageError as e:
        return str(e)
    pkg.close()
    return None


def is_strict(path: str | Path) -> bool:
    """True for a Strict OOXML workbook (its workbook part is in the purl.oclc.org namespace)."""
    pkg, info = _inspect(Path(path))
    pkg.close()
    return info["flavour"] is STRICT


# --------------------------------------------------------------------------- demo values

@lru_cache(maxsize=1)
def demo_values() -> dict[str, tuple[tuple, ...]]:
    """The eight input sheets of ``workbooks/demo.xlsx`` as cached values (openpyxl,
    ``data_only=True``), row by row from A1, trailing empty rows and columns dropped."""
    import openpyxl

    wb = openpyxl.load_workbook(DEMO, read_only=True, data_only=True)
    try:
        out = {}
        for name in INPUT_SHEETS:
            rows = [tuple(r) for r in wb[name].iter_rows(values_only=True)]
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
            width = max((max((j + 1 for j, v in enumerate(r) if v is not None), default=0)
                         for r in rows), default=0)
            out[name] = tuple(tuple(r[:width]) + (None,) * (width - len(r[:width]))
                              for r in rows)
        return out
    finally:
        wb.close()


def as_written(v):
    """The value as :func:`add_inputs` writes it: dates and times become ISO text."""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) and v.tzinfo is None \
            else v.isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return v


def _col(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(s: str) -> str:
    if _BAD_XML_CHARS.search(s):
        raise ValueError(f"text {s[:40]!r} has a character XML 1.0 cannot carry")
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return s


def _cell(ref: str, v, ns: str) -> str:
    """One ``<c>``; ``ns`` is the style attribute for number cells (``' s="3"'`` or '')."""
    v = as_written(v)
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int):
        return f'<c r="{ref}"{ns}><v>{v}</v></c>'
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{ref}: {v} is not a number a worksheet can hold")
        return f'<c r="{ref}"{ns}><v>{v!r}</v></c>'
    if isinstance(v, str):
        sp = ' xml:space="preserve"' if (v != v.strip() or "  " in v or "\n" in v) else ""
        return f'<c r="{ref}" t="inlineStr"><is><t{sp}>{_text(v)}</t></is></c>'
    raise TypeError(f"{ref}: cannot write a {type(v).__name__}")


@lru_cache(maxsize=8)
def _worksheet_xml(main_ns: str, number_style: int | None = None) -> tuple[bytes, ...]:
    """The eight worksheet parts, in ``main_ns`` (transitional or strict); number cells
    carry ``s="number_style"`` when it is given."""
    ns = "" if number_style is None else f' s="{number_style}"'
    parts = []
    for name in INPUT_SHEETS:
        rows = demo_values()[name]
        width = max((len(r) for r in rows), default=0)
        out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
               f'<worksheet xmlns="{main_ns}">',
               f'<dimension ref="A1:{_col(max(width - 1, 0))}{max(len(rows), 1)}"/>'
               if rows else '<dimension ref="A1"/>', "<sheetData>"]
        for i, row in enumerate(rows, start=1):
            cells = "".join(_cell(f"{_col(j)}{i}", v, ns) for j, v in enumerate(row)
                            if v is not None)
            if cells:
                out.append(f'<row r="{i}">{cells}</row>')
        out.append("</sheetData></worksheet>")
        parts.append("".join(out).encode("utf-8"))
    return tuple(parts)


# --------------------------------------------------------------------------- zip surgery

_NAME = r"[A-Za-z_][\w.\-]*"
_XMLNS = re.compile(rb"\sxmlns(?::(" + _NAME.encode()
                    + rb"""))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _decls(start_tag: bytes) -> dict[str, str]:
    """Namespace declarations of one start tag: prefix ('' = default) -> URI."""
    return {(m.group(1) or b"").decode(): (m.group(2) if m.group(2) is not None
                                           else m.group(3)).decode()
            for m in _XMLNS.finditer(start_tag)}


_TAG = re.compile(rb"""<[^\s>/]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")


def _start_tag(data: bytes, pos: int) -> bytes:
    """The start tag beginning at ``pos`` (attribute values may hold '>')."""
    m = _TAG.match(data, pos)
    if not m:
        raise PackageError(f"cannot read the start tag at byte {pos}")
    return m.group(0)


_PROLOG = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.S)


def _root_start(data: bytes) -> tuple[int, bytes]:
    """Position and text of the root element's start tag (after BOM, declaration, comments)."""
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while (m := _PROLOG.match(data, pos)) and m.end() > pos:
        pos = m.end()
    return pos, _start_tag(data, pos)


def _check_encoding(data: bytes, part: str) -> None:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] in (b"\x00<\x00?", b"<\x00?\x00"):
        raise PackageError(f"part '{part}' is UTF-16: inserting entries is not supported")


def _prefix_of(decls: dict[str, str], uri: str) -> str | None:
    """A prefix bound to ``uri`` ('' for the default namespace), else None."""
    for p, u in decls.items():
        if u == uri:
            return p
    return None


def _qname(prefix: str, local: str) -> str:
    return f"{prefix}:{local}" if prefix else local


def _insert_before_root_close(data: bytes, part: str, local: str, uri: str,
                              text: str) -> bytes:
    """Insert ``text`` just before the closing tag of the root element ``local`` in ``uri``."""
    _check_encoding(data, part)
    pos, tag = _root_start(data)
    decls = _decls(tag)
    m = re.match(rb"<(?:(" + _NAME.encode() + rb"):)?(" + _NAME.encode() + rb")", tag)
    prefix = (m.group(1) or b"").decode()
    if m.group(2).decode() != local or decls.get(prefix) != uri:
        raise PackageError(f"part '{part}' root is not {local} in {uri}")
    if tag.endswith(b"/>"):
        raise PackageError(f"part '{part}' has an empty <{_qname(prefix, local)}/> root")
    close = re.compile(rb"</" + re.escape(_qname(prefix, local).encode()) + rb"\s*>")
    hits = list(close.finditer(data, pos))
    if not hits:
        raise PackageError(f"part '{part}' has no closing </{_qname(prefix, local)}>")
    at = hits[-1].start()
    return data[:at] + text.replace("{p}", prefix + ":" if prefix else "").encode("utf-8") \
        + data[at:]


def _fresh_ids(existing: set[str], n: int) -> list[str]:
    nums = [int(m.group(1)) for i in existing if (m := re.fullmatch(r"rId(\d+)", i or ""))]
    k, out = max(nums, default=0) + 1, []
    while len(out) < n:
        if f"rId{k}" not in existing:
            out.append(f"rId{k}")
        k += 1
    return out


def _fresh_parts(pkg: _Package, wb_dir: str, n: int) -> list[str]:
    out, k = [], 1
    while len(out) < n:
        name = posixpath.join(wb_dir, "worksheets", f"gd_input_{k}.xml")
        if pkg.name(name) is None and pkg.name(_rels_name(name)) is None:
            out.append(name)
        k += 1
    return out


def _attr(v: str) -> str:
    return v.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _edit_workbook(data: bytes, part: str, flavour: tuple, new: list[tuple[str, int, str]],
                   rel_ns: str) -> bytes:
    """Append ``<sheet>`` entries (name, sheetId, r:id) just before ``</sheets>``."""
    _check_encoding(data, part)
    _, root_tag = _root_start(data)
    root_decls = _decls(root_tag)
    starts = [m for m in re.finditer(rb"<(?:(" + _NAME.encode() + rb"):)?sheets(?=[\s/>])",
                                     data)]
    # keep the one whose prefix is bound to the main namespace
    cands = []
    for m in starts:
        tag = _start_tag(data, m.start())
        scope = {**root_decls, **_decls(tag)}
        prefix = (m.group(1) or b"").decode()
        if scope.get(prefix) == flavour[0]:
            cands.append((m, tag, scope, prefix))
    if len(cands) != 1:
        raise PackageError(f"workbook part '{part}': found {len(cands)} <sheets> start tags")
    m, tag, scope, prefix = cands[0]
    if tag.endswith(b"/>"):
        raise PackageError(f"workbook part '{part}' has an empty <sheets/> element")
    close = re.compile(rb"</" + re.escape(_qname(prefix, "sheets").encode()) + rb"\s*>")
    c = close.search(data, m.end())
    if not c:
        raise PackageError(f"workbook part '{part}' has no closing </{_qname(prefix, 'sheets')}>")
    rp = _prefix_of({k: v for k, v in scope.items() if k}, rel_ns)  # attributes need a prefix
    decl = "" if rp else f' xmlns:r="{rel_ns}"'
    rp = rp or "r"
    text = "".join(f'<{_qname(prefix, "sheet")}{decl} name="{_attr(name)}" sheetId="{sid}" '
                   f'{rp}:id="{rid}"/>' for name, sid, rid in new)
    return data[:c.start()] + text.encode("utf-8") + data[c.start():]


def add_inputs(src: str | Path, dst: str | Path) -> None:
    """Write to ``dst`` a copy of workbook ``src`` with the demo's eight input sheets added.

    Raises :class:`PackageError` if ``src`` is not a readable workbook package (what
    :func:`classify` reports), and
    :class:`SheetNameClash` if it already has a sheet with one of the eight names (compared
    case-insensitively, as Excel compares sheet names)."""
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise ValueError("add_inputs writes a copy: dst must differ from src")
    try:
        pkg, info = _inspect(src)
    except PackageError as e:
        raise PackageError(f"{src.name}: not a readable workbook package: {e}") from None
    try:
        _surgery(pkg, info, src, dst)
    finally:
        pkg.close()


def _surgery(pkg: _Package, info: dict, src: Path, dst: Path) -> None:
    flavour, wb_part, wb_rels_part = info["flavour"], info["wb_part"], info["wb_rels_part"]
    taken = {(s.get("name") or "").casefold(): s.get("name") for s in info["sheets"]}
    clash = [taken[n.casefold()] for n in INPUT_SHEETS if n.casefold() in taken]
    if clash:
        raise SheetNameClash(f"{src.name}: already has sheet(s) named "
                             f"{', '.join(repr(c) for c in clash)}; the input sheets "
                             f"{', '.join(INPUT_SHEETS)} cannot be added")

    # the namespace the existing r:id attributes use (normally the flavour's own)
    rel_ns = next((_ns(k) for s in info["sheets"] for k in s.attrib
                   if _local(k) == "id" and _ns(k) in (TRANSITIONAL[1], STRICT[1])),
                  flavour[1])
    wb_dir = posixpath.dirname(wb_part)
    parts = _fresh_parts(pkg, wb_dir, len(INPUT_SHEETS))
    rids = _fresh_ids(set(info["rels"]), len(INPUT_SHEETS))
    sheet_ids = [int(s.get("sheetId")) for s in info["sheets"]
                 if (s.get("sheetId") or "").isdigit()]
    first_id = max(sheet_ids, default=0) + 1
    new = [(name, first_id + k, rids[k]) for k, name in enumerate(INPUT_SHEETS)]

    ws_type = flavour[2] + "worksheet"
    sheet_rels = [r for r in info["rels"].values()
                  if (r.get("Type") or "").rsplit("/", 1)[-1] == "worksheet"
                  and r.get("TargetMode") != "External"]
    absolute = bool(sheet_rels) and (sheet_rels[0].get("Target") or "").startswith("/")
    targets = ["/" + p if absolute else p[len(wb_dir) + 1:] if wb_dir else p for p in parts]

    edited = {
        wb_part: _edit_workbook(pkg.read(wb_part), wb_part, flavour, new, rel_ns),
        wb_rels_part: _insert_before_root_close(
            pkg.read(wb_rels_part), wb_rels_part, "Relationships", PKG_RELS_NS,
            "".join(f'<{{p}}Relationship Id="{rid}" Type="{ws_type}" Target="{t}"/>'
                    for (_, _, rid), t in zip(new, targets))),
        pkg.name("[Content_Types].xml"): _insert_before_root_close(
            pkg.read("[Content_Types].xml"), "[Content_Types].xml", "Types", CT_NS,
            "".join(f'<{{p}}Override PartName="/{p}" ContentType="{WORKSHEET_CT}"/>'
                    for p in parts)),
    }
    _self_check(edited[wb_part], flavour, rel_ns, new)
    sheets_xml = _worksheet_xml(flavour[0], info["number_style"])

    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".gd_", suffix=dst.suffix, dir=dst.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as out:
            for i in pkg.infos:
                zi = zipfile.ZipInfo(i.filename, i.date_time)
                zi.compress_type = i.compress_type
                zi.external_attr = i.external_attr
                zi.create_system = i.create_system
                zi.comment = i.comment
                data = edited.get(i.filename.replace("\\", "/"))
                out.writestr(zi, data if data is not None else pkg.zip.read(i), compresslevel=1)
            stamp = max((i.date_time for i in pkg.infos), default=(1980, 1, 1, 0, 0, 0))
            for name, xml in zip(parts, sheets_xml):
                zi = zipfile.ZipInfo(name, stamp)
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o644 << 16
                out.writestr(zi, xml, compresslevel=1)
            out.comment = pkg.zip.comment
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _self_check(wb_xml: bytes, flavour: tuple, rel_ns: str, new: list) -> None:
    """The edited workbook part parses and lists the new sheets, namespaced right."""
    wb = ET.fromstring(wb_xml)
    got = [(s.get("name"), int(s.get("sheetId")), s.get(f"{{{rel_ns}}}id"))
           for s in wb.find(f"{{{flavour[0]}}}sheets")
           if s.tag == f"{{{flavour[0]}}}sheet"][-len(new):]
    if got != new:
        raise AssertionError(f"workbook edit went wrong: {got} != {new}")
