"""The VBA project inside an add-in (``xl/vbaProject.bin``): read its modules' source, and
write a project whose modules' source is replaced — without Excel.

Two published formats, both small enough to write out here (no library on PyPI writes
them; olefile reads and patches streams of the same size only):

* the **Compound File** container ([MS-CFB], version 3, 512-byte sectors): :func:`read_cfb`
  returns every stream by path (``("VBA", "dir")``) with its directory entry's metadata,
  :func:`write_cfb` writes a new file from them — streams under 4,096 bytes in the mini
  stream, the directory as a balanced tree of each storage's children in the spec's order
  (name length, then upper case);
* the **VBA project** ([MS-OVBA]): module source is kept *compressed* (2.4.1, a
  run-length/LZ scheme on 4,096-byte chunks: :func:`decompress`, :func:`compress`) in the
  module's stream after its compiled p-code; the ``dir`` stream names each module, its
  stream and where its source starts (:func:`module_records`).

:func:`replace_sources` puts new source text into the modules named and, as MS-OVBA
prescribes for a writer (2.3.4.1: the version "MUST be 0xFFFF on write", the performance
cache "MUST NOT be present"), leaves the ``_VBA_PROJECT`` stream without a compiled cache
(xlwings' template ships so), so that Excel compiles every module from its source when it
opens the add-in instead of running p-code compiled from the old source. Verified on Linux by reading the
template back (the xlwings module decompresses to xlwings' own ``xlwings_custom_addin.bas``)
and by round trips; whether Excel opens the result is verified only in Excel.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

__all__ = ["Entry", "read_cfb", "write_cfb", "decompress", "compress", "module_records",
           "module_sources", "replace_sources", "VbaError"]

SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5
CHUNK = 4096


class VbaError(ValueError):
    """A ``vbaProject.bin`` this module cannot read or write: ``part`` (the stream or
    structure), ``rule`` broken and the ``value`` found."""

    def __init__(self, part: str, rule: str, value: object):
        self.part, self.rule, self.value = part, rule, value
        super().__init__(f"{part}: {rule} (found {value!r})")


@dataclass(frozen=True)
class Entry:
    """A directory entry: ``kind`` (1 storage, 2 stream, 5 root), and what a writer keeps
    of it (class id, state bits, creation and modification times as stored)."""

    kind: int
    clsid: bytes = bytes(16)
    state: int = 0
    times: bytes = bytes(16)


# ----------------------------------------------------------------------------- MS-CFB
def _chain(fat: list[int], start: int, what: str) -> list[int]:
    out, seen = [], set()
    s = start
    while s != END:
        if s >= len(fat) or s in seen:
            raise VbaError(what, "a sector chain must end inside the file without a loop", s)
        seen.add(s)
        out.append(s)
        s = fat[s]
    return out


def read_cfb(data: bytes) -> tuple[dict[tuple[str, ...], bytes], dict[tuple[str, ...], Entry]]:
    """Every stream of a compound file by path, and every entry (storages, the root ``()``
    included) with its metadata."""
    if data[:8] != SIGNATURE:
        raise VbaError("vbaProject.bin", "a compound file starts with D0CF11E0A1B11AE1",
                       data[:8].hex())
    (major, shift, mini_shift, n_fat, dir_start, cutoff, minifat_start, n_minifat,
     difat_start, n_difat) = struct.unpack_from("<26xH2xHH10xII4xIIIII", data, 0)
    if shift != 9 or mini_shift != 6 or cutoff != CUTOFF:
        raise VbaError("header", "version 3 sectors (512 and 64 bytes, cutoff 4096)",
                       (major, shift, mini_shift, cutoff))

    def sector(i: int) -> bytes:
        return data[SECTOR * (i + 1):SECTOR * (i + 2)]

    difat = list(struct.unpack_from("<109I", data, 76))
    s = difat_start
    for _ in range(n_difat):
        ids = struct.unpack("<128I", sector(s))
        difat += ids[:127]
        s = ids[127]
    fat: list[int] = []
    for f in difat[:n_fat]:
        fat += struct.unpack("<128I", sector(f))

    def stream(start: int) -> bytes:
        return b"".join(sector(i) for i in _chain(fat, start, "FAT"))

    raw_dir = stream(dir_start)
    dirs = [raw_dir[i:i + 128] for i in range(0, len(raw_dir), 128)]
    minifat: list[int] = []
    if n_minifat:
        minifat = list(struct.unpack(f"<{len(stream(minifat_start)) // 4}I",
                                     stream(minifat_start)))

    def entry(i: int):
        d = dirs[i]
        n = struct.unpack_from("<H", d, 64)[0]
        name = d[:max(n - 2, 0)].decode("utf-16-le")
        kind, _, left, right, child = struct.unpack_from("<BBIII", d, 66)
        clsid, state, times = d[80:96], struct.unpack_from("<I", d, 96)[0], d[100:116]
        start, size = struct.unpack_from("<IQ", d, 116)
        return name, kind, left, right, child, Entry(kind, clsid, state, times), start, \
            size & 0xFFFFFFFF

    root = entry(0)
    mini_stream = stream(root[6])[:root[7]] if root[6] != END else b""
    streams: dict[tuple[str, ...], bytes] = {}
    entries: dict[tuple[str, ...], Entry] = {(): root[5]}

    def walk(i: int, path: tuple[str, ...], depth: int = 0) -> None:
        if i == NOSTREAM:
            return
        if depth > len(dirs):
            raise VbaError("directory", "a tree without loops", i)
        name, kind, left, right, child, meta, start, size = entry(i)
        walk(left, path, depth + 1)
        walk(right, path, depth + 1)
        p = path + (name,)
        entries[p] = meta
        if kind == STORAGE:
            walk(child, p, depth + 1)
        elif kind == STREAM:
            if size < CUTOFF:
                secs = _chain(minifat, start, "mini FAT") if size else []
                body = b"".join(mini_stream[MINI * k:MINI * (k + 1)] for k in secs)
            else:
                body = stream(start)
            streams[p] = body[:size]

    walk(root[4], ())
    return streams, entries


def _order(name: str) -> tuple[int, str]:
    """MS-CFB 2.6.4: shorter names first, then by upper-case code points."""
    return len(name.encode("utf-16-le")), name.upper()


def write_cfb(streams: dict[tuple[str, ...], bytes],
              entries: dict[tuple[str, ...], Entry] | None = None) -> bytes:
    """A compound file holding ``streams`` (path -> bytes); storages are made for every
    path prefix, keeping the metadata ``entries`` gives (from :func:`read_cfb`)."""
    entries = entries or {}
    paths: list[tuple[str, ...]] = [()]
    for p in streams:
        for k in range(1, len(p)):
            if p[:k] not in paths:
                paths.append(p[:k])
    paths += [p for p in streams]
    for p in paths:
        if p and (len(p[-1]) > 31 or not p[-1]):
            raise VbaError("directory", "entry names have 1 to 31 characters", p[-1])
    ids = {p: i for i, p in enumerate(paths)}
    # the mini stream (small streams, 64-byte sectors) and the regular streams
    mini, minifat, starts = bytearray(), [], {}
    big = []
    for p, body in streams.items():
        if len(body) < CUTOFF:
            if body:
                first = len(mini) // MINI
                n = -(-len(body) // MINI)
                minifat += [first + k + 1 for k in range(n - 1)] + [END]
                mini += body + bytes(n * MINI - len(body))
                starts[p] = first
            else:
                starts[p] = END
        else:
            big.append(p)
    n_dir = -(-len(paths) // 4)
    n_minifat = -(-len(minifat) // 128) if minifat else 0
    sizes = [("dir", n_dir), ("minifat", n_minifat), ("mini", -(-len(mini) // SECTOR))] + \
        [(p, -(-len(streams[p]) // SECTOR)) for p in big]
    body_sectors = sum(n for _, n in sizes)
    n_fat = 1
    while n_fat * 128 < body_sectors + n_fat:
        n_fat += 1
    if n_fat > 109:
        raise VbaError("vbaProject.bin", "at most 109 FAT sectors (about 6.8 MB) here", n_fat)
    fat = [FATSECT] * n_fat
    first: dict[object, int] = {}
    for key, n in sizes:
        first[key] = len(fat) if n else END
        fat += [len(fat) + k + 1 for k in range(n - 1)] + ([END] if n else [])
    fat += [FREE] * (n_fat * 128 - len(fat))
    for p in big:
        starts[p] = first[p]
    # the directory: each storage's children as a balanced binary tree (all black)
    left = {p: NOSTREAM for p in paths}
    right = dict(left)
    child = dict(left)

    def tree(kids: list[tuple[str, ...]]) -> int:
        if not kids:
            return NOSTREAM
        mid = len(kids) // 2
        left[kids[mid]] = tree(kids[:mid])
        right[kids[mid]] = tree(kids[mid + 1:])
        return ids[kids[mid]]

    for p in paths:
        if p not in streams:
            kids = sorted((q for q in paths if len(q) == len(p) + 1 and q[:len(p)] == p),
                          key=lambda q: _order(q[-1]))
            child[p] = tree(kids)
    out_dir = bytearray()
    for p in paths:
        name = "Root Entry" if not p else p[-1]
        kind = ROOT if not p else (STREAM if p in streams else STORAGE)
        meta = entries.get(p, Entry(kind))
        enc = name.encode("utf-16-le") + b"\0\0"
        if not p:
            start, size = (first["mini"], len(mini)) if mini else (END, 0)
        elif p in streams:
            start, size = starts[p], len(streams[p])
        else:
            start, size = 0, 0
        out_dir += enc + bytes(64 - len(enc)) + struct.pack(
            "<HBBIII", len(enc), kind, 1, left[p], right[p], child[p]) + meta.clsid + \
            struct.pack("<I", meta.state) + meta.times + struct.pack("<IQ", start, size)
    while len(out_dir) < n_dir * SECTOR:
        out_dir += bytes(64) + struct.pack("<HBBIII", 0, 0, 0, NOSTREAM, NOSTREAM,
                                           NOSTREAM) + bytes(48)
    difat = list(range(n_fat)) + [FREE] * (109 - n_fat)
    header = SIGNATURE + bytes(16) + struct.pack(
        "<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, n_fat, first["dir"], 0, CUTOFF,
        first["minifat"] if n_minifat else END, n_minifat, END, 0) + \
        struct.pack("<109I", *difat)

    def padded(b: bytes | bytearray, n: int, fill: bytes = b"\0") -> bytes:
        return bytes(b) + fill * (n * SECTOR - len(b))

    parts = [header, struct.pack(f"<{len(fat)}I", *fat), padded(out_dir, n_dir)]
    if n_minifat:
        mf = minifat + [FREE] * (n_minifat * 128 - len(minifat))
        parts.append(struct.pack(f"<{len(mf)}I", *mf))
    parts.append(padded(mini, -(-len(mini) // SECTOR)))
    for p in big:
        parts.append(padded(streams[p], -(-len(streams[p]) // SECTOR)))
    return b"".join(parts)


# ----------------------------------------------------------------------------- MS-OVBA
def _bit_count(done: int) -> int:
    """Bits of a copy token's offset, from the bytes already decompressed in the chunk."""
    return max((done - 1).bit_length(), 4)


def decompress(data: bytes) -> bytes:
    """A CompressedContainer (MS-OVBA 2.4.1) decompressed."""
    if not data or data[0] != 1:
        raise VbaError("compressed container", "starts with the signature byte 0x01",
                       data[:1].hex())
    out = bytearray()
    pos = 1
    while pos < len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:            # a raw chunk: 4,096 bytes as they are
            out += data[pos:pos + CHUNK]
            pos += CHUNK
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bits = _bit_count(len(out) - start)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                if offset > len(out) - start:
                    raise VbaError("compressed container", "a copy token points inside "
                                   "its chunk", offset)
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    """One chunk's tokens: greedy longest matches found through a table of the positions
    of each 3-byte prefix (any valid token sequence decompresses to the same bytes)."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos = 0
    while pos < len(chunk):
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= len(chunk):
                break
            best_len = best_off = 0
            if pos:
                bits = _bit_count(pos)
                max_len = (0xFFFF >> bits) + 3
                for cand in reversed(heads.get(chunk[pos:pos + 3], [])[-64:]):
                    n = 0
                    while n < max_len and pos + n < len(chunk) and \
                            chunk[cand + n] == chunk[pos + n]:
                        n += 1
                    if n > best_len:
                        best_len, best_off = n, pos - cand
                        if n == max_len:
                            break
            step = best_len if best_len >= 3 else 1
            if best_len >= 3:
                flags |= 1 << bit
                out += struct.pack("<H", ((best_off - 1) << (16 - _bit_count(pos)))
                                   | (best_len - 3))
            else:
                out.append(chunk[pos])
            for k in range(pos, pos + step):
                heads.setdefault(chunk[k:k + 3], []).append(k)
            pos += step
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """``data`` as a CompressedContainer (MS-OVBA 2.4.1.3.1): chunks of 4,096 bytes,
    each compressed, or raw when compressing would not make it smaller."""
    out = bytearray(b"\x01")
    for i in range(0, len(data), CHUNK):
        chunk = data[i:i + CHUNK]
        body = _compress_chunk(chunk)
        if len(body) <= CHUNK:             # header: size - 3, signature 0b011, flag
            out += struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
        elif len(chunk) == CHUNK:
            out += struct.pack("<H", 0x3000 | (CHUNK + 2 - 3)) + chunk
        else:                              # a raw chunk holds exactly 4,096 bytes
            raise VbaError("compressed container", "a short last chunk compresses into "
                           "4,096 bytes or fewer", len(body))
    return bytes(out)


@dataclass(frozen=True)
class Module:
    """A module record of the ``dir`` stream: its name, stream name and the offset of its
    compressed source in that stream."""

    name: str
    stream: str
    offset: int


def _records(dir_stream: bytes):
    """(record id, value start, value) of every record of a decompressed ``dir`` stream."""
    pos = 0
    while pos + 6 <= len(dir_stream):
        rid, size = struct.unpack_from("<HI", dir_stream, pos)
        pos += 6
        if rid == 0x0009:      # PROJECTVERSION: its size field says 4, six bytes follow
            size = 6
        yield rid, pos, dir_stream[pos:pos + size]
        pos += size


def module_records(dir_stream: bytes) -> tuple[int, list[Module]]:
    """(code page, modules) from a decompressed ``dir`` stream (MS-OVBA 2.3.4.2)."""
    codepage, mods = 1252, []
    cur: dict[str, object] = {}
    for rid, _, value in _records(dir_stream):
        if rid == 0x0003:
            codepage = struct.unpack("<H", value)[0]
        elif rid == 0x0019:
            cur = {"name": value.decode(f"cp{codepage}")}
        elif rid == 0x001A:
            cur["stream"] = value.decode(f"cp{codepage}")
        elif rid == 0x0031:
            cur["offset"] = struct.unpack("<I", value)[0]
        elif rid == 0x002B:    # the module's terminator
            mods.append(Module(str(cur["name"]), str(cur["stream"]), int(cur["offset"])))
    return codepage, mods


def _project(streams: dict[tuple[str, ...], bytes]) -> tuple[str, int, list[Module]]:
    root = next((p[0] for p in streams if len(p) == 2 and p[1] == "dir"), None)
    if root is None:
        raise VbaError("vbaProject.bin", "a VBA project has a VBA/dir stream",
                       sorted(streams)[:5])
    codepage, mods = module_records(decompress(streams[(root, "dir")]))
    return root, codepage, mods


def module_sources(bin_data: bytes) -> dict[str, str]:
    """Module name -> VBA source text of a ``vbaProject.bin``."""
    streams, _ = read_cfb(bin_data)
    root, codepage, mods = _project(streams)
    return {m.name: decompress(streams[(root, m.stream)][m.offset:]).decode(f"cp{codepage}")
            for m in mods}


def replace_sources(bin_data: bytes, sources: dict[str, str]) -> bytes:
    """A ``vbaProject.bin`` with the source of the modules named in ``sources`` replaced
    (the text as given: VBA writes CRLF line ends; the module's ``Attribute VB_Name`` line
    must be kept in the text) and
    no compiled cache, so that Excel compiles the project from its source."""
    streams, entries = read_cfb(bin_data)
    root, codepage, mods = _project(streams)
    by_name = {m.name: m for m in mods}
    for name, text in sources.items():
        m = by_name.get(name)
        if m is None:
            raise VbaError("VBA/dir", "the module exists in the template", name)
        if f'Attribute VB_Name = "{name}"' not in text:
            raise VbaError(name, "the source keeps its Attribute VB_Name line", text[:60])
        src = text.encode(f"cp{codepage}")
        streams[(root, m.stream)] = compress(src)   # the source alone: no stale p-code
    # MODULEOFFSET of each replaced module: its source now starts the stream
    dir_stream = bytearray(decompress(streams[(root, "dir")]))
    name = None
    for rid, at, value in _records(bytes(dir_stream)):
        if rid == 0x0019:
            name = value.decode(f"cp{codepage}")
        elif rid == 0x0031 and name in sources:
            dir_stream[at:at + 4] = struct.pack("<I", 0)
    streams[(root, "dir")] = compress(bytes(dir_stream))
    key = (root, "_VBA_PROJECT")
    if key not in streams or streams[key][:2] != b"\xcc\x61":
        raise VbaError("_VBA_PROJECT", "starts with 0x61CC", streams.get(key, b"")[:2].hex())
    if streams[key][2:4] != b"\xff\xff":   # xlwings' template is written so already
        streams[key] = b"\xcc\x61\xff\xff\x00\x00\x00"
    return write_cfb(streams, {p: replace(e) for p, e in entries.items()})
