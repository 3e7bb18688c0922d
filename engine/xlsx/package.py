"""Safe, read-only access to a workbook's OOXML package (the .xlsx/.xlsm zip).

A workbook comes from anywhere, so nothing is decompressed or parsed before the zip directory
has been checked: the number of entries, every entry's name (no absolute paths, no ``..``, no
duplicates — each could make two readers see two different files), the total uncompressed
size and each entry's compression ratio (zip bombs). XML is parsed by the C parser only after
:func:`safe_prolog` has found no document type declaration before the root element: entity
declarations (billion laughs, external entities) can only live in one, so a part without it
cannot expand or fetch anything. Excel never writes one.

Every refusal raises :class:`PackageError`, whose ``kind`` says what the user is told:
``not-a-workbook``, ``encrypted``, ``damaged`` or ``unsafe``; the message names the file and
the part.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.etree.ElementTree import Element, ParseError, XMLParser, iterparse

from engine.xlsx.namespaces import Flavour, flavour_of, local

__all__ = ["Package", "PackageError", "Rel", "safe_prolog", "MAX_UNCOMPRESSED_BYTES",
           "MAX_COMPRESSION_RATIO", "MAX_PARTS"]

# A monthly research workbook is a few MB zipped and rarely 100 MB of XML; beyond this bound
# a file is hostile or far outside what the product serves.
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
# Deflate tops out near 1032:1; the XML of a sparse sheet reaches 100-200:1. A part larger
# than RATIO_MIN_BYTES beyond this ratio is treated as a zip bomb.
MAX_COMPRESSION_RATIO = 400
RATIO_MIN_BYTES = 1024 * 1024
MAX_PARTS = 20_000
PROLOG_LIMIT = 65536  # an XML declaration and a few comments; anything longer is suspect

Kind = Literal["not-a-workbook", "encrypted", "damaged", "unsafe"]
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: encrypted OOXML, or .xls


class PackageError(ValueError):
    """The file cannot be refreshed safely; ``kind`` classifies why (module docstring)."""

    def __init__(self, kind: Kind, message: str):
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True)
class Rel:
    """One relationship: ``kind`` is the last segment of its type URI (``worksheet``,
    ``drawing``…), ``type`` the whole URI; ``target`` a part name inside the zip (no leading
    slash) or, when ``external``, the target as written."""

    id: str
    kind: str
    type: str
    target: str
    external: bool


def _unsafe_name(name: str) -> str | None:
    if not name or name.startswith("/") or "\x00" in name:
        return "an absolute or malformed path"
    if re.match(r"^[A-Za-z]:", name):
        return "a drive letter"
    if any(seg == ".." for seg in name.split("/")):
        return "a path that leaves the package (..)"
    return None


class Package:
    """An opened, checked workbook zip (read-only). Use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.file = self.path.name
        with open(self.path, "rb") as f:
            head = f.read(8)
        if head.startswith(_CFB):
            raise PackageError("encrypted", f"{self.file} is password-protected (encrypted) or "
                               "an old-format .xls workbook: open it in Excel, remove the "
                               "password (File > Info > Protect Workbook) or save it as .xlsx, "
                               "then refresh")
        try:
            self.zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise PackageError("not-a-workbook", f"{self.file} is not an .xlsx workbook (not a "
                               f"zip package: {exc})") from None
        try:
            self._check_directory()
            self.types = self._content_types()
        except Exception:
            self.zf.close()
            raise
        self._rels: dict[str, list[Rel]] = {}
        self._workbook: str | None = None
        self._flavour: Flavour | None = None

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.zf.close()

    # -- the directory --------------------------------------------------------------
    def _check_directory(self) -> None:
        infos = [i for i in self.zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_PARTS:
            raise PackageError("unsafe", f"{self.file}: {len(infos)} zip entries, more than the "
                               f"{MAX_PARTS} allowed: refused as a hostile file")
        seen: set[str] = set()
        for i in infos:
            why = _unsafe_name(_part_name(i))
            if why:
                raise PackageError("unsafe", f"{self.file}: zip entry {i.filename!r} has {why}: "
                                   "refused as a hostile file")
            key = _part_name(i).casefold()  # OPC part names compare case-insensitively
            if key in seen:
                raise PackageError("unsafe", f"{self.file}: zip entry {i.filename} appears twice "
                                   "(readers would disagree on which one counts): refused")
            seen.add(key)
            if i.flag_bits & 0x1:
                raise PackageError("encrypted", f"{self.file}: part {i.filename} is encrypted "
                                   "(zip encryption), which no Office program writes")
            if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise PackageError("damaged", f"{self.file}: part {i.filename} uses zip "
                                   f"compression method {i.compress_type}, which Office cannot "
                                   "read")
            if i.file_size > RATIO_MIN_BYTES and \
                    i.file_size / max(i.compress_size, 1) > MAX_COMPRESSION_RATIO:
                raise PackageError("unsafe", f"{self.file}: part {i.filename} expands "
                                   f"{i.file_size / max(i.compress_size, 1):,.0f}:1, more than "
                                   f"the {MAX_COMPRESSION_RATIO}:1 allowed: refused as a zip bomb")
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise PackageError("unsafe", f"{self.file}: {total / 2**20:,.0f} MB uncompressed, "
                               f"over the {MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MB limit")
        self.infos = infos
        self.names = [_part_name(i) for i in infos]
        self._by_name = dict(zip(self.names, infos))

    def has(self, name: str) -> bool:
        return name in self._by_name

    def info(self, name: str) -> zipfile.ZipInfo:
        return self._by_name[name]

    # -- reading parts --------------------------------------------------------------
    def read(self, name: str) -> bytes:
        """The bytes of one part. zipfile stops at the declared size (checked above) and
        verifies the CRC, so a lying header or a damaged part fails here."""
        try:
            return self.zf.read(self._by_name[name])
        except KeyError:
            raise PackageError("damaged", f"{self.file}: part {name} is missing") from None
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise _damaged(self.file, name, exc) from None

    def verify(self) -> None:
        """Decompress every part (CRC check) and look at every XML part's prolog: raises
        :class:`PackageError` for the first damaged or unsafe part."""
        for i in self.infos:
            crc, head = 0, b""
            try:
                with self.zf.open(i) as f:
                    while chunk := f.read(1 << 20):
                        crc = zlib.crc32(chunk, crc)
                        if len(head) < PROLOG_LIMIT:
                            head += chunk[:PROLOG_LIMIT - len(head)]
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                raise _damaged(self.file, i.filename, exc) from None
            if self._is_xml(_part_name(i)):
                self._check_prolog(_part_name(i), head)

    def _is_xml(self, name: str) -> bool:
        low = name.lower()
        return low.endswith((".xml", ".rels", ".vml")) or "xml" in self.types.get(name, "")

    def _check_prolog(self, name: str, data: bytes) -> None:
        verdict = safe_prolog(data)
        if verdict is not None:
            raise PackageError("unsafe", f"{self.file}: part {name} {verdict}: refused as a "
                               "possible XML bomb (Excel never writes one)")

    def xml(self, name: str) -> Element:
        """One XML part parsed (after the prolog check) into an element tree."""
        data = self.read(name)
        self._check_prolog(name, data[:PROLOG_LIMIT])
        parser = XMLParser()
        try:
            parser.feed(data)
            return parser.close()
        except ParseError as exc:
            raise PackageError("damaged", f"{self.file}: part {name} is not well-formed XML "
                               f"({exc})") from None

    def iterparse(self, name: str, events: tuple[str, ...] = ("end",)
                  ) -> Iterator[tuple[str, Element]]:
        """Stream ``(event, element)`` pairs of one XML part (after the prolog check)."""
        data = self.read(name)
        self._check_prolog(name, data[:PROLOG_LIMIT])
        try:
            yield from iterparse(io.BytesIO(data), events=events)
        except ParseError as exc:
            raise PackageError("damaged", f"{self.file}: part {name} is not well-formed XML "
                               f"({exc})") from None

    # -- content types and relationships ------------------------------------------
    def _content_types(self) -> dict[str, str]:
        if not self.has("[Content_Types].xml"):
            raise PackageError("not-a-workbook", f"{self.file} is not an .xlsx workbook (no "
                               "[Content_Types].xml: a zip, but not an Office document)")
        defaults: dict[str, str] = {}
        overrides: dict[str, str] = {}
        for el in self.xml("[Content_Types].xml"):
            if local(el.tag) == "Default":
                defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
            elif local(el.tag) == "Override":
                overrides[el.get("PartName", "").lstrip("/").casefold()] = el.get("ContentType", "")
        types = {}
        for n in self.names:
            ext = n.rsplit(".", 1)[-1].lower() if "." in n.rsplit("/", 1)[-1] else ""
            types[n] = overrides.get(n.casefold(), defaults.get(ext, ""))
        return types

    def content_type(self, name: str) -> str:
        return self.types.get(name, "")

    @staticmethod
    def rels_name(source: str) -> str:
        """The relationships part of ``source`` (``""`` = the package root)."""
        folder, base = posixpath.split(source)
        return posixpath.join(folder, "_rels", base + ".rels")

    def rels(self, source: str) -> list[Rel]:
        """Relationships of part ``source`` (``""`` = the package root), targets resolved."""
        if source in self._rels:
            return self._rels[source]
        name = self.rels_name(source)
        out: list[Rel] = []
        if self.has(name):
            folder = posixpath.dirname(source)
            for el in self.xml(name):
                if local(el.tag) != "Relationship":
                    continue
                target = el.get("Target", "")
                external = el.get("TargetMode") == "External"
                if not external:
                    target = self.resolve(folder, target)
                rtype = el.get("Type", "")
                out.append(Rel(el.get("Id", ""), rtype.rsplit("/", 1)[-1], rtype, target,
                               external))
        self._rels[source] = out
        return out

    def resolve(self, folder: str, target: str) -> str:
        """A relative or absolute relationship target as a part name of this package (the
        stored spelling when only the case differs, as OPC part names are case-insensitive)."""
        target = target.split("#", 1)[0]
        name = target.lstrip("/") if target.startswith("/") else \
            posixpath.normpath(posixpath.join(folder, target))
        if name not in self._by_name:
            for n in self.names:
                if n.casefold() == name.casefold():
                    return n
        return name

    def rel(self, source: str, rid: str | None) -> Rel | None:
        return next((r for r in self.rels(source) if r.id == rid), None)

    @property
    def workbook_part(self) -> str:
        """The workbook part (the root's officeDocument relationship)."""
        if self._workbook is None:
            for r in self.rels(""):
                if r.kind == "officeDocument" and not r.external and self.has(r.target):
                    self._workbook = r.target
                    break
            else:
                raise PackageError("not-a-workbook", f"{self.file} is not an .xlsx workbook "
                                   "(no workbook part: the package's officeDocument "
                                   "relationship is missing or broken)")
        return self._workbook

    @property
    def flavour(self) -> Flavour:
        """Transitional or Strict, from the workbook part's namespace."""
        if self._flavour is None:
            for _, el in self.iterparse(self.workbook_part, events=("start",)):
                self._flavour = flavour_of(el.tag[1:].partition("}")[0])
                break
        return self._flavour

    @property
    def entries(self) -> list[zipfile.ZipInfo]:
        """Every zip entry in order, folder entries (``_rels/``) included: a copy keeps them."""
        return self.zf.infolist()

    def part_of(self, info: zipfile.ZipInfo) -> str | None:
        """The part name of an entry, or None for a folder entry."""
        return None if info.is_dir() else _part_name(info)

    def raw_chunks(self, name: str | zipfile.ZipInfo) -> Iterator[bytes]:
        """The compressed bytes of an entry as stored, in chunks of at most 1 MB."""
        info, start = self.raw(name)
        fp = self.zf.fp
        fp.seek(start)
        left = info.compress_size
        while left:
            chunk = fp.read(min(left, 1 << 20))
            if not chunk:
                raise PackageError("damaged", f"{self.file}: part {info.filename} is truncated")
            left -= len(chunk)
            yield chunk

    def raw(self, name: str | zipfile.ZipInfo) -> tuple[zipfile.ZipInfo, int]:
        """The entry of ``name`` and the offset of its compressed data in the file, for a
        byte-for-byte copy (:mod:`engine.xlsx.zipwrite`)."""
        info = name if isinstance(name, zipfile.ZipInfo) else self._by_name[name]
        fp = self.zf.fp
        fp.seek(info.header_offset)
        header = fp.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise PackageError("damaged", f"{self.file}: part {info.filename} has a broken zip "
                               "header")
        n = int.from_bytes(header[26:28], "little")
        m = int.from_bytes(header[28:30], "little")
        return info, info.header_offset + 30 + n + m


def _damaged(file: str, part: str, exc: BaseException) -> PackageError:
    """``book.xlsx: xl/worksheets/sheet2.xml is damaged (bad deflate data): …`` — the part
    named, the cause in words; the library's own message goes to the log."""
    text = str(exc)
    if isinstance(exc, zlib.error):
        why = "bad deflate data"
    elif "CRC" in text:
        why = "checksum mismatch"
    elif isinstance(exc, EOFError) or "truncated" in text.lower():
        why = "truncated"
    else:
        why = text
    logging.getLogger("gamma").debug("%s: part %s: %s: %s", file, part, type(exc).__name__,
                                     text)
    return PackageError("damaged", f"{file}: {part} is damaged ({why}): open the file in "
                        "Excel, let it repair and save it")


def _part_name(info: zipfile.ZipInfo) -> str:
    """The part name of a zip entry: some Windows tools write ``xl\\workbook.xml``."""
    return info.filename.replace("\\", "/")


_WS = b" \t\r\n"


def safe_prolog(data: bytes) -> str | None:
    """``None`` when the prolog of the XML document ``data`` (its first bytes) holds no
    document type declaration, else what was found. Comments and processing instructions
    are skipped exactly (a ``<!DOCTYPE`` behind a comment is found; a ``<root`` inside one is
    not taken for the root). UTF-16 documents are decoded first."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    elif data[:2] in (b"<\x00", b"\x00<"):
        data = data.decode("utf-16-le" if data[0] == 0x3C else "utf-16-be",
                           errors="replace").encode("utf-8", errors="replace")
    elif data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    i, n = 0, len(data)
    while True:
        while i < n and data[i] in _WS:
            i += 1
        if i >= n:  # short: not XML, which the parser reports; long: a padded prolog
            return None if n < PROLOG_LIMIT else "has no root element in its first 64 KB"
        if data.startswith(b"<?", i):
            j = data.find(b"?>", i + 2)
            if j < 0:
                return "has an unterminated processing instruction"
            i = j + 2
        elif data.startswith(b"<!--", i):
            j = data.find(b"-->", i + 4)
            if j < 0:
                return "has an unterminated comment in its prolog"
            i = j + 3
        elif data.startswith(b"<!", i):
            return "declares a document type (DTD), where XML entities can hide"
        elif data.startswith(b"<", i):
            return None
        else:
            return None  # not XML at all: the parser will say so
