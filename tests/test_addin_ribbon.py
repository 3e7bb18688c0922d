"""The ribbon add-in addin/gamma_desk.xlam (addin/ribbon.py, addin/vba_project.py).

Excel is not available here: what is checked is the package (a valid OOXML add-in whose
parts are xlwings' template but for the ribbon, the ribbon module and xlwings' settings
name), that every button's callback exists in the VBA source and runs a Python function
that exists, and that those functions run on the demo workbook through the xlwings
stand-in of tests/test_addin_macros.py. The VBA project's container and compression are
checked against independent evidence: xlwings' own shipped .bas text, and round trips.
Whether Excel loads the add-in is verified only in Excel (README, "Use it from Excel").
"""

from __future__ import annotations

import importlib
import random
import re
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
import xlwings
from lxml import etree

from addin import macros, ribbon, vba_project
from test_addin_macros import StandInBook

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "workbooks" / "demo.xlsx"
XLWINGS_DIR = Path(xlwings.__file__).parent
CUI = "{http://schemas.microsoft.com/office/2006/01/customui}"
ADDIN_MAIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        return {i.filename: z.read(i) for i in z.infolist()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return ribbon.build(tmp_path_factory.mktemp("xlam") / "gamma_desk.xlam")


def test_addin_is_a_valid_ooxml_addin_package(built):
    for path in (ribbon.ADDIN, built):
        parts = _parts(path)
        types = etree.fromstring(parts["[Content_Types].xml"])
        overrides = {o.get("PartName"): o.get("ContentType") for o in types}
        assert overrides["/xl/workbook.xml"] == ADDIN_MAIN
        assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
        for name, data in parts.items():     # every XML part parses
            if name.endswith((".xml", ".rels")):
                etree.fromstring(data)
        # every relationship points at a part of the package
        for rels in [n for n in parts if n.endswith(".rels")]:
            base = rels.replace("_rels/", "").removesuffix(".rels")
            folder = base.rsplit("/", 1)[0] + "/" if "/" in base else ""
            for r in etree.fromstring(parts[rels]):
                target = r.get("Target").lstrip("/")
                full = target if r.get("Target").startswith("/") else \
                    str(Path(folder + target)).replace("\\", "/")
                assert full in parts, (rels, target)
        root_rels = {r.get("Type").rsplit("/", 1)[-1]: r.get("Target")
                     for r in etree.fromstring(parts["_rels/.rels"])}
        assert root_rels["extensibility"] == ribbon.CUSTOM_UI


def _buttons(path: Path) -> list[dict]:
    ui = etree.fromstring(_parts(path)[ribbon.CUSTOM_UI])
    assert ui.tag == f"{CUI}customUI"
    return [dict(b.attrib) for b in ui.iter(f"{CUI}button")]


def test_three_buttons_whose_callbacks_exist_in_the_vba_and_in_python():
    buttons = _buttons(ribbon.ADDIN)
    assert [b["label"] for b in buttons] == ["Refresh", "Check", "Report"]
    sources = vba_project.module_sources(_parts(ribbon.ADDIN)[ribbon.VBA_PART])
    for b in buttons:
        module, sub = b["onAction"].split(".")
        text = sources[module]
        # a ribbon callback takes the control; its body is one RunPython call
        body = re.search(rf"^Sub {sub}\(control As IRibbonControl\)\r\n(.*?)\r\nEnd Sub",
                         text, flags=re.M | re.S)
        assert body, (sub, text)
        cmd = re.fullmatch(r'\s*RunPython "import ([\w.]+); ([\w.]+)\.(\w+)\(\)"',
                           body.group(1))
        assert cmd and cmd.group(1) == cmd.group(2), body.group(1)
        fn = getattr(importlib.import_module(cmd.group(1)), cmd.group(3))
        assert callable(fn) and fn.__module__ == "addin.macros"
    # RunPython itself is the template's xlwings module, whose settings are xlwings' own
    xl = sources["xlwings"]
    assert re.search(r"^Public Function RunPython\(PythonCommand As String\)", xl, re.M)
    assert 'PROJECT_NAME As String = "xlwings"' in xl


def test_everything_else_is_xlwings_template(built):
    """Parts, modules and streams: the template's, but for the ribbon, the ribbon module,
    the settings name in the xlwings module, the disabled settings sheet's name and the
    ``dir`` stream's offsets of the two modules replaced."""
    tpl = _parts(ribbon.template_path())
    ours = _parts(built)
    assert list(tpl) == list(ours)
    changed = {n for n in tpl if tpl[n] != ours[n]}
    assert changed == {ribbon.CUSTOM_UI, ribbon.VBA_PART, "xl/workbook.xml"}
    assert ours["xl/workbook.xml"] == tpl["xl/workbook.xml"].replace(
        b'name="_myaddin.conf"', b'name="_xlwings.conf"')
    before = vba_project.module_sources(tpl[ribbon.VBA_PART])
    after = vba_project.module_sources(ours[ribbon.VBA_PART])
    assert set(before) == set(after)
    for name in before:
        if name == ribbon.MODULE:
            assert after[name] == ribbon.ribbon_module()
        elif name == "xlwings":
            assert after[name] == before[name].replace('"myaddin"', '"xlwings"', 1)
        else:
            assert after[name] == before[name], name
    s0, _ = vba_project.read_cfb(tpl[ribbon.VBA_PART])
    s1, _ = vba_project.read_cfb(ours[ribbon.VBA_PART])
    assert set(s0) == set(s1)
    assert {p for p in s0 if s0[p] != s1[p]} == {("VBA", ribbon.MODULE), ("VBA", "xlwings"),
                                                 ("VBA", "dir")}
    # no compiled code to go stale: version 0xFFFF, the replaced modules source-only
    assert s1[("VBA", "_VBA_PROJECT")][:4] == b"\xcc\x61\xff\xff"
    _, mods = vba_project.module_records(vba_project.decompress(s1[("VBA", "dir")]))
    offsets = {m.name: m.offset for m in mods}
    assert offsets[ribbon.MODULE] == offsets["xlwings"] == 0
    _, old = vba_project.module_records(vba_project.decompress(s0[("VBA", "dir")]))
    assert {m.name: m.offset for m in old if m.name not in (ribbon.MODULE, "xlwings")} == \
        {k: v for k, v in offsets.items() if k not in (ribbon.MODULE, "xlwings")}


def test_decompression_reads_xlwings_own_vba_text():
    """The template's xlwings module, decompressed, is xlwings' shipped source file."""
    shipped = (XLWINGS_DIR / "xlwings_custom_addin.bas").read_bytes().decode("cp1252")
    got = vba_project.module_sources(_parts(ribbon.template_path())[ribbon.VBA_PART])
    norm = [t.replace("\r\n", "\n").strip() for t in (shipped, got["xlwings"])]
    assert norm[0] == norm[1] and len(norm[0]) > 40000


def test_committed_addin_is_what_the_builder_makes(built):
    made_for = ribbon.built_for(ribbon.ADDIN)
    if made_for != xlwings.__version__:
        pytest.skip(f"addin/gamma_desk.xlam was built from xlwings {made_for}'s template, "
                    f"{xlwings.__version__} is installed: rebuild with python -m addin.ribbon")
    # part by part (the zip's deflated bytes depend on the zlib at hand, the parts do not)
    assert list(_parts(built).items()) == list(_parts(ribbon.ADDIN).items())


@pytest.mark.parametrize("data", [
    b"", b"a", b"abcabcabcabc" * 500, bytes(range(256)) * 40,
    random.Random(7).randbytes(9000),   # incompressible: raw chunks
    b"Sub X()\r\n    RunPython \"import a; a.b()\"\r\nEnd Sub\r\n" * 300])
def test_compression_round_trip(data):
    c = vba_project.compress(data)
    assert c[0] == 1 and vba_project.decompress(c) == data
    if len(set(data)) < 40 and len(data) > 1000:
        assert len(c) < len(data) / 3


def test_compound_file_round_trip():
    """Streams under and over the 4,096-byte cutoff, nested storages, empty streams."""
    rng = random.Random(3)
    streams = {("PROJECT",): b"ID=1\r\n", ("VBA", "dir"): rng.randbytes(5000),
               ("VBA", "empty"): b"", ("VBA", "Sub", "deep"): rng.randbytes(70)}
    streams.update({("VBA", f"m{k}"): rng.randbytes(rng.randint(1, 9000)) for k in range(12)})
    data = vba_project.write_cfb(streams)
    assert data[:8] == vba_project.SIGNATURE and len(data) % 512 == 0
    got, entries = vba_project.read_cfb(data)
    assert got == streams
    assert entries[("VBA",)].kind == vba_project.STORAGE
    assert entries[()].kind == vba_project.ROOT
    # each storage's children form a binary search tree in MS-CFB order (name length,
    # then upper case): read the directory (contiguous here) and walk it in order
    first_dir = struct.unpack_from("<I", data, 48)[0]
    raw = data[512 * (first_dir + 1):]

    def entry(i):
        d = raw[128 * i:128 * (i + 1)]
        n = struct.unpack_from("<H", d, 64)[0]
        return (d[:n - 2].decode("utf-16-le"),) + struct.unpack_from("<III", d, 68)

    def in_order(i):
        if i == vba_project.NOSTREAM:
            return []
        name, left, right, _ = entry(i)
        return in_order(left) + [name] + in_order(right)

    root_kids = in_order(entry(0)[3])
    vba = next(i for i in range(40) if entry(i)[0] == "VBA")
    vba_kids = in_order(entry(vba)[3])
    for kids in (root_kids, vba_kids):
        assert kids == sorted(kids, key=lambda k: (len(k), k.upper()))
    assert set(vba_kids) == {p[1] for p in streams if p[0] == "VBA"}


def test_a_damaged_vba_project_is_named():
    with pytest.raises(vba_project.VbaError, match="compound file"):
        vba_project.read_cfb(b"not a compound file" * 30)
    with pytest.raises(vba_project.VbaError, match="signature byte"):
        vba_project.decompress(b"\x02abc")
    tpl = _parts(ribbon.template_path())[ribbon.VBA_PART]
    with pytest.raises(vba_project.VbaError, match="exists in the template"):
        vba_project.replace_sources(tpl, {"NoSuchModule": 'Attribute VB_Name = "x"'})


# ----------------------------------------------------------------------------- Python side
@pytest.fixture(scope="module")
def demo_book(tmp_path_factory):
    from addin import xl_writer
    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    shutil.copy(DEMO, path)
    saved = xl_writer.USE_COM
    xl_writer.USE_COM = True      # the Windows paths (SaveCopyAs) of the stand-in
    yield StandInBook(path)
    xl_writer.USE_COM = saved


def test_check_button_on_the_demo(demo_book):
    assert macros.check(demo_book) == 0
    title, text = demo_book.app.alerts[-1]
    assert title == macros.TITLE
    m = re.match(r"Inputs valid: (\d+) instruments, as of (\d{4}-\d{2}-\d{2})\.", text)
    wb = macros.run_check(demo_book)
    assert m and int(m.group(1)) == len(wb.instruments) > 0
    assert m.group(2) == f"{wb.asof:%Y-%m-%d}"


def _report(book, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(macros, "report_path", lambda b: tmp_path / "report.pdf")
    code = macros.report(book)
    assert code == 0, book.app.alerts[-1]
    pdf = tmp_path / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20000
    assert str(pdf) in book.app.alerts[-1][1]


@pytest.mark.slow
def test_report_button_on_the_demo(demo_book, tmp_path, monkeypatch):
    _report(demo_book, tmp_path, monkeypatch)   # about a minute on a loaded machine


def test_report_button(tmp_path, monkeypatch):
    import workbook_factory as wf
    from addin import xl_writer
    book = StandInBook(wf.build(tmp_path / "monthly.xlsx"))
    monkeypatch.setattr(xl_writer, "USE_COM", True)
    _report(book, tmp_path, monkeypatch)


@pytest.mark.slow
def test_refresh_button_on_the_demo(demo_book):
    """The Refresh button's entry point on the demo: every engine sheet written through
    the stand-in, the text cells Excel would parse held as text."""
    from engine.tables.base import ENGINE_SHEETS
    code = macros.refresh(demo_book)
    assert code == 0, demo_book.app.alerts
    written = {s.name for s in demo_book.sheets if s.name in ENGINE_SHEETS}
    assert {"Data Status", "Stock Forecasts", "Charts", "History"} <= written
    texts = [v for s in demo_book.sheets if s.name in written for v in s.grid.values()
             if isinstance(v, str)]
    assert any(re.fullmatch(r"\d{4}", t) for t in texts)   # year headers stay texts


def test_report_path_is_beside_the_workbook(demo_book):
    p = macros.report_path(demo_book)
    assert p.parent == Path(demo_book.fullname).parent
    assert p.name == "demo Macro Intelligence Report.pdf"


def test_check_button_lists_the_problems_and_writes_nothing(tmp_path):
    import workbook_factory as wf
    from openpyxl import load_workbook
    from addin import xl_writer
    src = wf.build(tmp_path / "bad.xlsx")
    wb = load_workbook(src)
    wb["Prices"]["A1"] = "When"
    wb.save(src)
    before = src.read_bytes()
    book = StandInBook(src)
    saved, xl_writer.USE_COM = xl_writer.USE_COM, True
    try:
        assert macros.check(book) == 2
    finally:
        xl_writer.USE_COM = saved
    assert "Date" in book.app.alerts[-1][1]
    assert src.read_bytes() == before
