"""The package layer (engine/xlsx): what a refresh refuses before it parses anything, and the
raw-copy zip writer that keeps the user's parts byte for byte."""

from __future__ import annotations

import io
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from engine.xlsx import package as package_mod
from engine.xlsx.package import Package, PackageError, safe_prolog
from engine.xlsx.zipwrite import ZipWriter

CORPUS = Path(__file__).parent / "corpus"
if not CORPUS.exists():  # until the corpus is copied into tests/
    CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEMO = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"
CT = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
      'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')


def _zip(path: Path, entries: list[tuple[str, bytes]], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return path


def _kind(path: Path) -> tuple[str, str]:
    with pytest.raises(PackageError) as e:
        with Package(path) as pkg:
            pkg.verify()
    return e.value.kind, str(e.value)


def test_not_a_zip_and_encrypted_are_told_apart(tmp_path):
    (tmp_path / "a.xlsx").write_text("just text")
    kind, msg = _kind(tmp_path / "a.xlsx")
    assert kind == "not-a-workbook" and "a.xlsx is not an .xlsx workbook" in msg
    # an encrypted OOXML file is an OLE compound file (same signature as a legacy .xls)
    (tmp_path / "b.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    kind, msg = _kind(tmp_path / "b.xlsx")
    assert kind == "encrypted" and "password-protected" in msg
    _zip(tmp_path / "c.xlsx", [("hello.txt", b"hi")])
    kind, msg = _kind(tmp_path / "c.xlsx")
    assert kind == "not-a-workbook" and "[Content_Types].xml" in msg


@pytest.mark.parametrize("name, why", [
    ("../evil.xml", "leaves the package"), ("xl/../../evil.xml", "leaves the package"),
    ("/etc/passwd", "absolute"), ("C:/x.xml", "drive letter"),
])
def test_path_traversal_is_refused(tmp_path, name, why):
    kind, msg = _kind(_zip(tmp_path / "t.xlsx", [("[Content_Types].xml", CT.encode()),
                                                 (name, b"<a/>")]))
    assert kind == "unsafe" and why in msg and repr(name) in msg


@pytest.mark.parametrize("second", ["xl/a.xml", "XL/A.xml"])  # OPC names ignore case
def test_duplicate_entries_are_refused(tmp_path, second):
    path = tmp_path / "d.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about an exact duplicate
        _zip(path, [("[Content_Types].xml", CT.encode()), ("xl/a.xml", b"<a/>"),
                    (second, b"<b/>")])
    kind, msg = _kind(path)
    assert kind == "unsafe" and "appears twice" in msg


def test_zip_bomb_is_refused_by_ratio_before_inflating(tmp_path):
    bomb = b"\0" * (4 * 1024 * 1024)  # deflates about 1000:1, far beyond any sheet's XML
    kind, msg = _kind(_zip(tmp_path / "z.xlsx", [("[Content_Types].xml", CT.encode()),
                                                 ("xl/bomb.xml", bomb)]))
    assert kind == "unsafe" and "zip bomb" in msg and "xl/bomb.xml" in msg


def test_oversize_package_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(package_mod, "MAX_UNCOMPRESSED_BYTES", 1000)
    kind, msg = _kind(_zip(tmp_path / "big.xlsx", [("[Content_Types].xml", CT.encode()),
                                                   ("xl/a.xml", b"<a>" + b"x" * 2000 + b"</a>")]))
    assert kind == "unsafe" and "limit" in msg


@pytest.mark.parametrize("xml", [
    b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    b'<?xml version="1.0"?>\n<!-- a comment --><!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>',
    # a root-looking tag inside a comment must not end the prolog early
    b'<?xml version="1.0"?><!-- <fake> --><!DOCTYPE a [<!ENTITY l "lol">]><a>&l;</a>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a []><a/>'.encode("utf-16"),
])
def test_any_document_type_declaration_is_refused(tmp_path, xml):
    assert safe_prolog(xml) is not None
    kind, msg = _kind(_zip(tmp_path / "x.xlsx", [("[Content_Types].xml", CT.encode()),
                                                 ("customXml/item1.xml", xml)]))
    assert kind == "unsafe" and "customXml/item1.xml" in msg and "DTD" in msg


@pytest.mark.parametrize("xml", [b'<?xml version="1.0"?>\n<!-- <!DOCTYPE --><a/>',
                                 b"\xef\xbb\xbf<a/>", b"<?pi x?><a/>", b"", b"not xml"])
def test_prologs_without_a_dtd_pass(xml):
    assert safe_prolog(xml) is None


def test_damaged_part_is_named(tmp_path):
    src = CORPUS / "calamine" / "tests__issue252.xlsx"  # a real file with a bad CRC
    kind, msg = _kind(src)
    assert kind == "damaged" and "xl/_rels/workbook.xml.rels" in msg


def test_lying_size_in_the_zip_header_cannot_inflate(tmp_path):
    """A central directory that declares a part smaller than it inflates to: reading stops
    at the declared size and the CRC check fails, so the part is reported, not inflated."""
    path = _zip(tmp_path / "l.xlsx", [("[Content_Types].xml", CT.encode()),
                                      ("xl/a.xml", b"<a>" + b"x" * 100_000 + b"</a>")])
    data = bytearray(path.read_bytes())
    i = data.find(b"PK\x01\x02")
    while data[i + 46:i + 54] != b"xl/a.xml":
        i = data.find(b"PK\x01\x02", i + 4)
    data[i + 24:i + 28] = (1000).to_bytes(4, "little")  # uncompressed size field
    path.write_bytes(bytes(data))
    kind, msg = _kind(path)
    assert kind == "damaged" and "xl/a.xml" in msg


def test_backslash_entry_names_are_read_as_part_names():
    with Package(CORPUS / "calamine" / "tests__issue_530.xlsx") as pkg:  # xl\workbook.xml
        pkg.verify()
        assert pkg.workbook_part == "xl/workbook.xml"
        assert b"<sheets>" in pkg.read("xl/workbook.xml")


def test_copied_entries_keep_their_compressed_bytes(tmp_path):
    out = io.BytesIO()
    with Package(DEMO) as pkg:
        w = ZipWriter(out)
        for name in pkg.names:
            w.copy(pkg, name)
        w.add("xl/new.xml", b"<new/>")
        w.close(pkg.zf.comment)
        out.seek(0)
        with zipfile.ZipFile(out) as z:
            assert z.testzip() is None
            assert z.read("xl/new.xml") == b"<new/>"
            for name in pkg.names:
                info, start = pkg.raw(name)
                pkg.zf.fp.seek(start)
                raw = pkg.zf.fp.read(info.compress_size)
                new = z.getinfo(name)
                assert (new.CRC, new.compress_size, new.file_size, new.date_time) == \
                    (info.CRC, info.compress_size, info.file_size, info.date_time)
                out.seek(new.header_offset + 26)
                n, m = int.from_bytes(out.read(2), "little"), int.from_bytes(out.read(2), "little")
                out.seek(new.header_offset + 30 + n + m)
                assert out.read(new.compress_size) == raw, name


def test_entries_with_data_descriptors_and_stored_entries_copy(tmp_path):
    src = io.BytesIO()
    with zipfile.ZipFile(src, "w") as z:  # writing to a stream sets the data-descriptor flag
        with z.open(zipfile.ZipInfo("[Content_Types].xml"), "w") as f:
            f.write(CT.encode())
        z.writestr(zipfile.ZipInfo("stored.bin"), b"\x01\x02" * 50, zipfile.ZIP_STORED)
        zi = zipfile.ZipInfo("xl/ünïcode.xml")
        z.writestr(zi, b"<u/>", zipfile.ZIP_DEFLATED)
    path = tmp_path / "s.xlsx"
    path.write_bytes(src.getvalue())
    out = tmp_path / "o.xlsx"
    with Package(path) as pkg, open(out, "wb") as f:
        w = ZipWriter(f)
        for name in pkg.names:
            w.copy(pkg, name)
        w.close()
    with zipfile.ZipFile(out) as z, zipfile.ZipFile(path) as orig:
        assert z.testzip() is None
        assert [i.filename for i in z.infolist()] == [i.filename for i in orig.infolist()]
        for i in orig.infolist():
            assert z.read(i.filename) == orig.read(i.filename)


def test_new_entries_are_deterministic(tmp_path):
    def build() -> bytes:
        b = io.BytesIO()
        w = ZipWriter(b)
        w.add("a.xml", b"<a/>" * 100)
        w.close()
        return b.getvalue()
    assert build() == build()
    with zipfile.ZipFile(io.BytesIO(build())) as z:
        assert z.getinfo("a.xml").date_time == (1980, 1, 1, 0, 0, 0)
        assert zlib.crc32(z.read("a.xml")) == z.getinfo("a.xml").CRC
