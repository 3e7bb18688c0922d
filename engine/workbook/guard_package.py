"""Safe, read-only access to the OOXML package of a workbook, for the no-data-loss guard.

The guard reads a workbook *independently of openpyxl* (openpyxl is what might lose
things), straight from the zip: content types, relationships, and XML parts parsed with
:mod:`defusedxml` (entity declarations — billion laughs, external entities — are refused).
Before anything is decompressed the zip directory is checked against
:data:`MAX_UNCOMPRESSED_BYTES` and :data:`MAX_COMPRESSION_RATIO`, so a zip bomb is refused
with a message instead of exhausting memory.

Every refusal raises :class:`PackageError` (a ``ValueError``) whose message names the file
or part and the rule broken.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
import openpyxl.xml
from defusedxml import DefusedXmlException

# Bounds for untrusted files. A monthly research workbook is a few MB zipped and rarely
# over 100 MB of XML; Excel's own worksheet limit makes anything beyond this a hostile file.
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
# Deflate cannot exceed ~1032:1; XML of a sparse sheet reaches 100-200:1 at most. A part
# larger than RATIO_MIN_BYTES whose ratio exceeds this is treated as a zip bomb.
MAX_COMPRESSION_RATIO = 400
RATIO_MIN_BYTES = 1024 * 1024
MAX_PARTS = 20_000

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
R_ID = f"{{{NS_REL}}}id"


class GuardError(Exception):
    """A refresh refused to replace the workbook. ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def require_defusedxml() -> None:
    if not openpyxl.xml.DEFUSEDXML:
        raise GuardError("openpyxl is not using defusedxml (install the 'defusedxml' package "
                         "and do not set OPENPYXL_DEFUSEDXML=False): refusing to read "
                         "untrusted workbooks without XML-bomb protection")


class PackageError(ValueError):
    """The file is not a workbook the guard can read safely (message says why)."""


@dataclass(frozen=True)
class Rel:
    """One relationship: ``kind`` is the last segment of its Type URI (``worksheet``,
    ``drawing``, ``chart``, ``hyperlink``…); ``target`` is a part name inside the zip
    (no leading slash) or, when ``external``, the target as written (a URL, a path)."""

    id: str
    kind: str
    target: str
    external: bool


def local(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


class Package:
    """An opened, size-checked workbook zip. Use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError(f"{self.path.name}: not a readable .xlsx/.xlsm zip file ({exc})")
        try:
            self._check_sizes()
            self.names = [i.filename for i in self.zf.infolist() if not i.is_dir()]
            self._nameset = set(self.names)
            self._types = self._content_types()
        except Exception:
            self.zf.close()
            raise
        self._rels_cache: dict[str, list[Rel]] = {}

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.zf.close()

    # -- limits ---------------------------------------------------------------------
    def _check_sizes(self) -> None:
        infos = self.zf.infolist()
        if len(infos) > MAX_PARTS:
            raise PackageError(f"{self.path.name}: {len(infos)} zip entries, more than the "
                               f"{MAX_PARTS} allowed: refused as a hostile file")
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise PackageError(
                f"{self.path.name}: uncompressed size {total / 2**20:,.0f} MB exceeds the "
                f"{MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MB limit: refused (zip bomb or far "
                "larger than a research workbook)")
        for i in infos:
            if i.file_size > RATIO_MIN_BYTES:
                ratio = i.file_size / max(i.compress_size, 1)
                if ratio > MAX_COMPRESSION_RATIO:
                    raise PackageError(
                        f"{self.path.name}: part {i.filename} expands {ratio:,.0f}:1 "
                        f"({i.compress_size:,} -> {i.file_size:,} bytes), more than the "
                        f"{MAX_COMPRESSION_RATIO}:1 allowed: refused as a zip bomb")

    # -- parts ----------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self._nameset

    def read(self, name: str) -> bytes:
        """Bytes of one part; the zip module stops at the declared (checked) size and
        verifies the CRC, so a lying header fails instead of inflating further."""
        try:
            return self.zf.read(name)
        except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
            raise PackageError(f"{self.path.name}: part {name} unreadable ({exc})")

    def xml(self, name: str) -> Element:
        """Parse one XML part with defusedxml (no entities, no external references)."""
        data = self.read(name)
        try:
            return DET.fromstring(data)
        except DefusedXmlException as exc:
            raise _xml_refusal(self.path, name, exc)
        except ParseError as exc:
            raise PackageError(f"{self.path.name}: part {name} is not well-formed XML ({exc})")

    def iterxml(self, name: str) -> Iterator[tuple[str, Element]]:
        """Stream ``(event, element)`` pairs (``end`` events) of one XML part, defused.

        Big parts (sheets, shared strings) take a fast path: a UTF-8/ASCII part whose
        prolog holds no ``<!DOCTYPE`` cannot declare an entity, so the C parser reads it
        (3-4x faster than defusedxml's pure-Python parser); anything else — a DTD, a
        UTF-16 or other encoding — goes through defusedxml, which refuses entities.
        """
        data = self.read(name)
        if _plain_prolog(data):
            try:
                yield from ET.iterparse(io.BytesIO(data), events=("end",))
            except ParseError as exc:
                raise PackageError(f"{self.path.name}: part {name} is not well-formed XML ({exc})")
            return
        try:
            yield from DET.iterparse(io.BytesIO(data), events=("end",))
        except DefusedXmlException as exc:
            raise _xml_refusal(self.path, name, exc)
        except ParseError as exc:
            raise PackageError(f"{self.path.name}: part {name} is not well-formed XML ({exc})")

    def iter_rows(self, name: str, holder: dict) -> Iterator[Element]:
        """The ``<row>`` elements of a worksheet part, in order; afterwards
        ``holder["root"]`` is the worksheet element without its rows.

        (A batched variant — cutting ``sheetData`` at row ends and parsing ~1 MB batches
        whole — was measured at the same CPU time, so the plain stream is kept.)
        """
        row_tag = f"{{{NS_MAIN}}}row"
        root = None
        for _, el in self.iterxml(name):
            if el.tag == row_tag:
                yield el
                el.clear()
            else:
                root = el
        holder["root"] = root

    # -- content types and relationships ------------------------------------------
    def _content_types(self) -> dict[str, str]:
        if not self.has("[Content_Types].xml"):
            raise PackageError(f"{self.path.name}: no [Content_Types].xml, not an OOXML workbook")
        root = self.xml("[Content_Types].xml")
        defaults, overrides = {}, {}
        for el in root:
            if local(el.tag) == "Default":
                defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
            elif local(el.tag) == "Override":
                overrides[el.get("PartName", "").lstrip("/")] = el.get("ContentType", "")
        types = {}
        for n in self.names:
            if n in overrides:
                types[n] = overrides[n]
            else:
                ext = n.rsplit(".", 1)[-1].lower() if "." in n else ""
                types[n] = defaults.get(ext, f"(no content type, .{ext})")
        return types

    def content_type(self, name: str) -> str:
        return self._types.get(name, "")

    def rels(self, source: str) -> list[Rel]:
        """Relationships of part ``source`` ("" = the package root)."""
        if source in self._rels_cache:
            return self._rels_cache[source]
        folder, base = posixpath.split(source)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        out: list[Rel] = []
        if self.has(rels_name):
            for el in self.xml(rels_name):
                if local(el.tag) != "Relationship":
                    continue
                target = el.get("Target", "")
                external = el.get("TargetMode") == "External"
                if not external:
                    target = (target.lstrip("/") if target.startswith("/")
                              else posixpath.normpath(posixpath.join(folder, target)))
                out.append(Rel(el.get("Id", ""), el.get("Type", "").rsplit("/", 1)[-1],
                               target, external))
        self._rels_cache[source] = out
        return out

    def rel_target(self, source: str, rid: str | None) -> Rel | None:
        for r in self.rels(source):
            if r.id == rid:
                return r
        return None

    def workbook_part(self) -> str:
        for r in self.rels(""):
            if r.kind == "officeDocument" and not r.external:
                return r.target
        raise PackageError(f"{self.path.name}: no workbook part (officeDocument relationship)")


_PROLOG_END = re.compile(rb"<[A-Za-z_]")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _plain_prolog(data: bytes) -> bool:
    """True when ``data`` is ASCII-compatible XML (no BOM other than UTF-8's, encoding
    UTF-8/ASCII or undeclared) whose prolog, up to the root element, has no DTD."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.startswith(b"<"):
        return False
    m = _PROLOG_END.search(data, 0, 65536)
    if m is None:
        return False
    prolog = data[: m.start()]
    if b"<!" in prolog.replace(b"<!--", b""):  # <!DOCTYPE (any case), <!ENTITY …
        return False
    enc = _ENCODING.search(prolog)
    return enc is None or enc.group(1).lower() in (b"utf-8", b"utf8", b"us-ascii", b"ascii")


def _xml_refusal(path: Path, part: str, exc: Exception) -> PackageError:
    return PackageError(
        f"{path.name}: part {part} declares XML entities or a DTD ({type(exc).__name__}), "
        "which Excel never writes — refused as a possible XML bomb")


# Parts openpyxl 3.1 does not keep when it loads and saves a workbook (checked on this
# machine; tests/test_guard.py re-checks the slicer and VBA cases). Matched against the
# lower-cased content type or part name: (key, what it is, what the user can do).
ADVICE = "Remove them or refresh from Excel with the add-in's button."
UNSUPPORTED_PARTS: list[tuple[str, str, str]] = [
    ("ms-excel.slicer+", "slicers", ADVICE),
    ("slicercache", "slicer caches", ADVICE),
    ("ms-excel.timeline+", "timelines", ADVICE),
    ("timelinecache", "timeline caches", ADVICE),
    ("controlproperties", "form controls", ADVICE),
    ("activex", "ActiveX controls", ADVICE),
    ("threadedcomments", "threaded comments",
     "Convert them to notes, remove them or refresh from Excel with the add-in's button."),
    ("customxml", "custom XML data (document properties, labels)", ADVICE),
    ("xl/richdata/", "rich values (pictures in cells, linked data types)", ADVICE),
    ("sheetmetadata",
     "dynamic-array metadata (spilled formulas would turn into legacy array formulas)", ADVICE),
    ("querytable", "query tables", ADVICE),
    ("spreadsheetml.connections", "data connections", ADVICE),
    ("xl/model/", "a data model (Power Pivot)", ADVICE),
    ("webextension", "Office add-in (web extension) data", ADVICE),
    ("xl/embeddings/", "embedded OLE objects", ADVICE),
    ("drawingml.diagram", "SmartArt graphics", ADVICE),
    ("chartex", "Excel 2016 charts (waterfall, histogram…)", ADVICE),
    ("macrosheet", "Excel 4.0 macro sheets", ADVICE),
    ("dialogsheet", "Excel 5 dialog sheets", ADVICE),
    ("customui", "a custom ribbon", ADVICE),
]
