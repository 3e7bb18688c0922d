"""Write a zip package whose copied entries keep their compressed bytes exactly.

The standard library's :mod:`zipfile` can only write an entry by compressing it anew. A
refresh must keep every part it does not own byte for byte, and should not pay to inflate
and deflate a user's million-cell sheet it never reads, so :meth:`ZipWriter.copy` moves an
entry's compressed data from the source file as it is (same CRC, same sizes, same method,
same timestamp) and only rebuilds its headers; :meth:`ZipWriter.add` deflates a new part.

Headers are written with the sizes known up front (no data descriptors) and without zip64
fields: a package is bounded far below 4 GB and 65,535 entries (:mod:`engine.xlsx.package`).
New entries get a fixed timestamp (1980-01-01) so that refreshing the same data twice writes
the same bytes.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import BinaryIO

from engine.xlsx.package import Package

__all__ = ["ZipWriter"]

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_EPOCH = (0, (1 << 5) | 1)  # DOS time 00:00:00, date 1980-01-01


def _dos(date_time: tuple) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    if y < 1980:
        return _EPOCH
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def _strip_zip64(extra: bytes) -> bytes:
    """``extra`` without its zip64 record (header 0x0001): sizes and offsets are written in
    the fixed fields, so a copied zip64 record would contradict them."""
    out, i = b"", 0
    while i + 4 <= len(extra):
        hid, size = struct.unpack_from("<2H", extra, i)
        if hid != 0x0001:
            out += extra[i:i + 4 + size]
        i += 4 + size
    return out


class ZipWriter:
    """``w = ZipWriter(f)``; ``w.copy(pkg, name)`` / ``w.add(name, data)`` in the order the
    entries should appear; ``w.close()`` writes the central directory (``f`` stays open)."""

    def __init__(self, out: BinaryIO, level: int = 6):
        self.out = out
        self.level = level
        self.central: list[bytes] = []
        self.names: set[str] = set()
        self.offset = out.tell()

    def _entry(self, name_bytes: bytes, flags: int, method: int, dos: tuple[int, int],
               crc: int, csize: int, usize: int, extra: bytes, *, version: int = 20,
               created: int = 20, external: int = 0, internal: int = 0,
               comment: bytes = b"") -> None:
        if self.offset > 0xFFFFFFFF or csize > 0xFFFFFFFF or len(self.central) >= 0xFFFF:
            raise ValueError("package too large for a zip without zip64")
        header_offset = self.offset
        local = _LOCAL.pack(b"PK\x03\x04", version, flags, method, dos[0], dos[1], crc, csize,
                            usize, len(name_bytes), len(extra))
        self.out.write(local + name_bytes + extra)
        self.offset += len(local) + len(name_bytes) + len(extra) + csize
        self.central.append(_CENTRAL.pack(
            b"PK\x01\x02", created, version, flags, method, dos[0], dos[1], crc, csize, usize,
            len(name_bytes), len(extra), len(comment), 0, internal, external, header_offset)
            + name_bytes + extra + comment)

    def copy(self, pkg: Package, name: str | zipfile.ZipInfo) -> None:
        """Copy entry ``name`` (a part name, or any entry of ``pkg.entries``) of ``pkg`` with
        its compressed bytes unchanged."""
        info, _ = pkg.raw(name)
        self._claim(info.filename)
        flags = info.flag_bits & ~0x8  # sizes are in the header now: no data descriptor
        extra = _strip_zip64(info.extra)
        name_bytes = info.filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        self._entry(name_bytes, flags, info.compress_type, _dos(info.date_time), info.CRC,
                    info.compress_size, info.file_size, extra,
                    version=max(info.extract_version, 20), created=info.create_version
                    | (info.create_system << 8), external=info.external_attr,
                    internal=info.internal_attr, comment=info.comment)
        for chunk in pkg.raw_chunks(info):
            self.out.write(chunk)

    def add(self, name: str, data: bytes) -> None:
        """Add a new entry ``name`` holding ``data``, deflated."""
        self._claim(name)
        comp = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        packed = comp.compress(data) + comp.flush()
        name_bytes = name.encode("utf-8")
        flags = 0 if name.isascii() else 0x800
        self._entry(name_bytes, flags, 8, _EPOCH, zlib.crc32(data), len(packed), len(data),
                    b"")
        self.out.write(packed)

    def _claim(self, name: str) -> None:
        key = name.casefold()
        if key in self.names:
            raise ValueError(f"zip entry {name} written twice")
        self.names.add(key)

    def close(self, comment: bytes = b"") -> None:
        start = self.offset
        size = 0
        for rec in self.central:
            self.out.write(rec)
            size += len(rec)
        n = len(self.central)
        self.out.write(_END.pack(b"PK\x05\x06", 0, 0, n, n, size, start, len(comment))
                       + comment)
