"""The corpus fixture: every real workbook in ``tests/corpus/`` gets the eight input sheets by
zip surgery that keeps every original byte, or is named as damaged.

The checks here are independent of ``corpus_inputs``' own code: they compare the zips part by
part, find the edited parts from the package relationships themselves, and read the new
sheets both with openpyxl and with a small ElementTree reader.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
import re
import warnings
import zipfile
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import openpyxl
import pytest

from corpus_inputs import (CORPUS, DEMO, INPUT_SHEETS, PackageError, SheetNameClash,
                           add_inputs, classify, corpus_files)

FILES = corpus_files()
IDS = [p.relative_to(CORPUS).as_posix() for p in FILES]

# Damaged on purpose (see tests/corpus/README.md): file -> words the reason must contain.
# A styles part without cellXfs is allowed by the schema (no cell then has a format), and
# entry names written with backslashes by a Windows tool are read as part names: both are
# workbooks a refresh serves.
DAMAGED = {
    "calamine/tests__issue252.xlsx": "bad CRC-32 in part 'xl/_rels/workbook.xml.rels'",
}
# Already has a sheet named like an input sheet (Excel compares names case-insensitively).
CLASH = {"sheetjs/mixed_sheets.xlsx": "settings"}
STRICT_FILES = {"calamine/tests__strict_iso_paths.xlsx", "sheetjs/sheet_visibility_strict.xlsx"}
# openpyxl cannot read these even before the surgery: Strict OOXML (it lists no sheets), a
# relationship to "sharedStrings.xml" for the part "SharedStrings.xml" (OPC names are
# case-insensitive, openpyxl's lookup is not), and cell formats that refer to a missing
# cellStyleXfs list. The ElementTree reader checks their new sheets instead.
OPENPYXL_CANNOT_READ = STRICT_FILES | {"calamine/tests__issue_419.xlsx",
                                       "sheetjs/xlsx-stream-d-date-cell.xlsx",
                                       "calamine/tests__issue_530.xlsx"}

MAIN_NS = {"http://schemas.openxmlformats.org/spreadsheetml/2006/main": "transitional",
           "http://purl.oclc.org/ooxml/spreadsheetml/main": "strict"}
REL_NS = {"transitional": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "strict": "http://purl.oclc.org/ooxml/officeDocument/relationships"}
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


# --------------------------------------------------------------------------- expectations

def iso(v):
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def trim(rows) -> list[tuple]:
    """Rows with trailing empty cells and trailing empty rows dropped, dates as ISO text."""
    out = []
    for r in rows:
        r = [iso(v) for v in r]
        while r and r[-1] is None:
            r.pop()
        out.append(tuple(r))
    while out and not out[-1]:
        out.pop()
    return out


@lru_cache(maxsize=1)
def demo() -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(DEMO, read_only=True, data_only=True)
    try:
        return {n: trim(wb[n].iter_rows(values_only=True)) for n in INPUT_SHEETS}
    finally:
        wb.close()


# --------------------------------------------------------------------------- package reading

def tag(e) -> str:
    return e.tag.rsplit("}", 1)[-1]


def resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def rels_of(part: str) -> str:
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


def names_ci(z: zipfile.ZipFile) -> dict[str, str]:
    """Lower-cased part name (backslashes read as slashes) -> zip entry name."""
    return {n.replace("\\", "/").lower(): n for n in z.namelist()}


def workbook_parts(z: zipfile.ZipFile) -> tuple[str, str]:
    """(workbook part, its .rels part), real zip names, followed from _rels/.rels."""
    ci = names_ci(z)
    office = [r for r in ET.fromstring(z.read(ci["_rels/.rels"]))
              if (r.get("Type") or "").endswith("/officeDocument")]
    assert len(office) == 1
    wb = ci[resolve("", office[0].get("Target")).lower()]
    return wb, ci[rels_of(wb.replace("\\", "/")).lower()]


def same_tree(a: ET.Element, b: ET.Element, where: str = "") -> None:
    """Element for element: tag, attributes (names, values, order), text and tail."""
    here = f"{where}/{a.tag}"
    assert a.tag == b.tag, here
    assert list(a.attrib.items()) == list(b.attrib.items()), here
    assert a.text == b.text, f"{here} text"
    assert a.tail == b.tail, f"{here} tail"
    assert len(a) == len(b), f"{here}: {len(a)} != {len(b)} children"
    for x, y in zip(a, b):
        same_tree(x, y, here)


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix of ``a`` and ``b`` (binary search: slices compare in C)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def only_inserted(before: bytes, after: bytes) -> None:
    """``after`` is ``before`` with one run of bytes inserted: every original byte kept."""
    p = common_prefix(before, after)
    q = len(before) - p
    assert len(after) >= len(before)
    assert after[:p] == before[:p] and after[len(after) - q:] == before[p:], \
        "original bytes changed, not only added"


def cell_value(c: ET.Element, ns: str):
    t = c.get("t", "n")
    if t == "inlineStr":
        return "".join(x.text or "" for x in c.iter(f"{{{ns}}}t"))
    v = c.find(f"{{{ns}}}v")
    assert v is not None, c.get("r")
    if t == "b":
        return v.text == "1"
    assert t == "n", t
    return float(v.text) if re.search(r"[.eE]", v.text) else int(v.text)


def col_index(ref: str) -> int:
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):
        n = n * 26 + ord(ch) - 64
    return n - 1


def et_grid(xml: bytes, ns: str) -> list[tuple]:
    """A worksheet's values, by the cells' own references."""
    root = ET.fromstring(xml)
    assert root.tag == f"{{{ns}}}worksheet"
    grid: dict[int, dict[int, object]] = {}
    for c in root.iter(f"{{{ns}}}c"):
        ref = c.get("r")
        row = int(re.search(r"\d+", ref).group(0))
        grid.setdefault(row, {})[col_index(ref)] = cell_value(c, ns)
    rows = []
    for r in range(1, max(grid, default=0) + 1):
        cells = grid.get(r, {})
        rows.append(tuple(cells.get(j) for j in range(max(cells, default=-1) + 1)))
    return trim(rows)


_VERIFIED: set[str] = set()   # sha256 of new sheet parts whose values were checked in full


# --------------------------------------------------------------------------- the check

def check_surgery(src: Path, dst: Path) -> None:
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst) as b:
        assert b.testzip() is None
        old, new = a.namelist(), b.namelist()
        assert new[:len(old)] == old, "original parts kept, in their order"
        added = new[len(old):]
        assert len(added) == len(INPUT_SHEETS)
        old_ci = {n.lower() for n in old}
        assert not any(n.lower() in old_ci for n in added)
        assert len({n.lower() for n in new}) == len(new)

        wb, wb_rels = workbook_parts(a)
        assert workbook_parts(b) == (wb, wb_rels)
        ct = names_ci(a)["[content_types].xml"]
        edited = {wb, wb_rels, ct}
        for n in old:
            if n not in edited:
                assert a.read(n) == b.read(n), f"part {n} changed"
        for n in edited:
            only_inserted(a.read(n), b.read(n))

        # workbook part: the new <sheet> entries are the last children of <sheets>
        w0, w1 = ET.fromstring(a.read(wb)), ET.fromstring(b.read(wb))
        flavour = MAIN_NS[w0.tag[1:].split("}")[0]]
        main = w0.tag[1:].split("}")[0]
        s0, s1 = w0.find(f"{{{main}}}sheets"), w1.find(f"{{{main}}}sheets")
        extra = list(s1)[len(s0):]
        assert [e.tag for e in extra] == [f"{{{main}}}sheet"] * len(INPUT_SHEETS)
        assert [e.get("name") for e in extra] == list(INPUT_SHEETS)
        for e in extra:
            s1.remove(e)
        same_tree(w0, w1)
        old_ids = [int(s.get("sheetId")) for s in s0 if s.get("sheetId", "").isdigit()]
        new_ids = [int(e.get("sheetId")) for e in extra]
        assert len(set(new_ids)) == len(new_ids) and min(new_ids) > max(old_ids, default=0)
        rid_attr = f"{{{REL_NS[flavour]}}}id"
        new_rids = [e.get(rid_attr) for e in extra]
        assert all(new_rids)

        # workbook rels: one worksheet relationship per new sheet, to a new part
        r0, r1 = ET.fromstring(a.read(wb_rels)), ET.fromstring(b.read(wb_rels))
        extra_r = list(r1)[len(r0):]
        for e in extra_r:
            r1.remove(e)
        same_tree(r0, r1)
        assert not {e.get("Id") for e in extra_r} & {e.get("Id") for e in r0}
        by_id = {e.get("Id"): e for e in extra_r}
        assert sorted(by_id) == sorted(new_rids)
        ws_type = {"transitional": "http://schemas.openxmlformats.org/officeDocument/2006/"
                                   "relationships/worksheet",
                   "strict": "http://purl.oclc.org/ooxml/officeDocument/relationships/"
                             "worksheet"}[flavour]
        targets = []
        for rid in new_rids:
            rel = by_id[rid]
            assert rel.get("Type") == ws_type and rel.get("TargetMode") is None
            targets.append(resolve(wb.replace("\\", "/"), rel.get("Target")))
        assert sorted(targets) == sorted(added)

        # content types: one worksheet Override per new part
        c0, c1 = ET.fromstring(a.read(ct)), ET.fromstring(b.read(ct))
        extra_c = list(c1)[len(c0):]
        for e in extra_c:
            c1.remove(e)
        same_tree(c0, c1)
        assert all(tag(e) == "Override" and e.get("ContentType") == WORKSHEET_CT
                   for e in extra_c)
        assert sorted(e.get("PartName") for e in extra_c) == sorted("/" + n for n in added)

        # number cells may name a cell format: one the original styles part has
        n_xf = 0
        for rel in r0:
            if (rel.get("Type") or "").endswith("/styles"):
                st = ET.fromstring(a.read(names_ci(a)[resolve(wb.replace("\\", "/"), rel.get("Target")).lower()]))
                xfs = st.find(f"{{{main}}}cellXfs")
                n_xf = 0 if xfs is None else len(xfs)
        # the new sheets hold the demo's values (checked in full once per distinct part)
        for name, part in zip(INPUT_SHEETS, targets):
            xml = b.read(part)
            assert all(int(k) < n_xf for k in set(re.findall(rb' s="(\d+)"', xml)))
            digest = hashlib.sha256(name.encode() + b"\0" + xml).hexdigest()
            if digest not in _VERIFIED:
                assert et_grid(xml, main) == demo()[name], name
                _VERIFIED.add(digest)


def check_openpyxl(dst: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(dst, read_only=True, data_only=True)
    try:
        assert wb.sheetnames[-len(INPUT_SHEETS):] == list(INPUT_SHEETS)
        d = demo()
        for name in ("Instruments", "Settings"):
            assert trim(wb[name].iter_rows(values_only=True)) == d[name], name
        prices = wb["Prices"]
        assert (prices.max_row, prices.max_column) == (len(d["Prices"]),
                                                       max(map(len, d["Prices"])))
        assert trim(prices.iter_rows(max_row=3, values_only=True)) == d["Prices"][:3]
    finally:
        wb.close()


def openpyxl_fails(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            names = wb.sheetnames
            for ws in wb.worksheets:
                list(ws.iter_rows(max_row=1))
            wb.close()
    except Exception:
        return True
    return not names


# --------------------------------------------------------------------------- tests

def test_corpus_is_all_there():
    assert len(FILES) == 346
    assert FILES == sorted(FILES)
    assert {p.parent.name for p in FILES} == {"xlsxwriter", "calamine", "sheetjs", "closedxml"}
    assert set(DAMAGED) | set(CLASH) | OPENPYXL_CANNOT_READ <= set(IDS)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_corpus_file(path: Path, tmp_path: Path):
    rel = path.relative_to(CORPUS).as_posix()
    dst = tmp_path / path.name
    reason = classify(path)
    if rel in DAMAGED:
        assert reason is not None and DAMAGED[rel] in reason, reason
        with pytest.raises(PackageError, match="not a readable workbook package"):
            add_inputs(path, dst)
        assert not dst.exists()
        return
    assert reason is None
    if rel in CLASH:
        with pytest.raises(SheetNameClash, match=CLASH[rel]):
            add_inputs(path, dst)
        assert not dst.exists()
        return
    add_inputs(path, dst)
    check_surgery(path, dst)
    if rel in OPENPYXL_CANNOT_READ:
        assert openpyxl_fails(path), f"openpyxl reads {rel} now: check it"
    else:
        check_openpyxl(dst)


def test_input_names_clash_exactly(tmp_path):
    once = tmp_path / "once.xlsx"
    add_inputs(CORPUS / "calamine" / "tests__date.xlsx", once)
    with pytest.raises(SheetNameClash, match="'Instruments', 'Prices'"):
        add_inputs(once, tmp_path / "twice.xlsx")


def test_not_a_package(tmp_path):
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    assert classify(text) == "not a zip file"
    ole = tmp_path / "encrypted.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert "OLE compound file" in classify(ole)
    for p in (text, ole):
        with pytest.raises(PackageError, match="not a readable workbook package"):
            add_inputs(p, tmp_path / "out.xlsx")


def test_encrypted_zip_entry(tmp_path):
    src = CORPUS / "calamine" / "tests__date.xlsx"
    data = bytearray(src.read_bytes())
    # set the "encrypted" flag (bit 0) in every local and central directory header
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        for m in re.finditer(re.escape(sig), bytes(data)):
            data[m.start() + off] |= 1
    bad = tmp_path / "encrypted_entry.xlsx"
    bad.write_bytes(bytes(data))
    assert classify(bad).startswith("encrypted zip entry")


def test_missing_workbook_part(tmp_path):
    src = CORPUS / "calamine" / "tests__date.xlsx"
    bad = tmp_path / "no_workbook.xlsx"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(bad, "w") as b:
        for i in a.infolist():
            if i.filename != "xl/workbook.xml":
                b.writestr(i, a.read(i))
    assert classify(bad) == ("missing workbook part 'xl/workbook.xml' "
                             "(the target of the officeDocument relationship)")


def rewrite(src: Path, dst: Path, part: str, change) -> None:
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as b:
        for i in a.infolist():
            data = a.read(i)
            b.writestr(i.filename, change(data) if i.filename == part else data)


def test_the_checks_catch_changes(tmp_path):
    """check_surgery fails on a changed original part and on a changed edited part."""
    src = CORPUS / "calamine" / "tests__date.xlsx"
    good = tmp_path / "good.xlsx"
    add_inputs(src, good)
    check_surgery(src, good)
    cases = {
        "xl/styles.xml": lambda d: d.replace(b"<fonts", b"<fonts ", 1),
        "xl/workbook.xml": lambda d: d.replace(b'sheetId="1"', b'sheetId="9"', 1),
        "[Content_Types].xml": lambda d: d.replace(b"<Default", b"<Default ", 1),
    }
    for part, change in cases.items():
        bad = tmp_path / "bad.xlsx"
        rewrite(good, bad, part, change)
        with pytest.raises(AssertionError):
            check_surgery(src, bad)
