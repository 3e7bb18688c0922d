"""The splice writer: engine sheets written into a package whose other parts stay byte for
byte; user content on engine sheets kept; shared parts only grow; a second refresh writes
the same bytes. Contents here are built by hand (tables and charts as data), so these tests
run without the models."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl import load_workbook

from engine.tables.base import SheetContent, Table
from engine.tables.charts import Axis, ChartSpec, Ref, Series
from engine.workbook import guard
from engine.workbook.splice import plan, write
from engine.workbook.styles import StyleBook
from engine.xlsx.cells import Workbook
from engine.xlsx.namespaces import TRANSITIONAL
from engine.xlsx.package import Package

DEMO = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"


def contents(rows: int = 5, title: str = "Forecasts") -> list[SheetContent]:
    dates = pd.date_range("1998-01-31", periods=rows, freq="ME")
    df = pd.DataFrame({"Code": [f"C{i}" for i in range(rows)], "Value": [0.01 * i for i in range(rows)],
                       "Updated": dates})
    feed = pd.DataFrame({"Date": dates, "SPX": [100.0 + i for i in range(rows)]})
    chart = ChartSpec(title="SPX", series=(Series("SPX", Ref("Feed", "Date"), Ref("Feed", "SPX")),),
                      x_axis=Axis("Date", "yyyy", dates=True), y_axis=Axis("Price"), bands=(101.0,))
    stock = SheetContent("Stock Forecasts", intro=[title, "a note line"],
                         tables=[Table("StockForecasts", df, {"Value": "0.00%"}, title="Table 2",
                                       notes=["Forecasts are decimals."])],
                         charts=[chart], data_tables=[Table("Feed", feed)])
    status = SheetContent("Data Status", tables=[Table("DataStatus", df.head(2))])
    return [status, stock]


def splice(src: Path, dst: Path, cs: list[SheetContent]):
    with Package(src) as pkg:
        sp = plan(pkg, Workbook(pkg), cs)
        with open(dst, "wb") as f:
            write(pkg, sp, f)
    problems = guard.check(src, dst, sp)
    assert problems == []
    return sp


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_user_parts_byte_identical_and_second_splice_identical(tmp_path):
    a, b, c = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.xlsx"
    sp = splice(DEMO, a, contents())
    before, after = parts(DEMO), parts(a)
    for name, data in before.items():
        if name not in sp.written:
            assert after[name] == data, name
    assert set(sp.shared) <= {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
                              "[Content_Types].xml", "docProps/custom.xml", "_rels/.rels",
                              "docProps/app.xml"}
    splice(a, b, contents())
    splice(b, c, contents())
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()


def test_the_sheet_reads_back_as_laid_out(tmp_path):
    out = tmp_path / "o.xlsx"
    splice(DEMO, out, contents())
    wb = load_workbook(out)
    ws = wb["Stock Forecasts"]
    assert ws["A1"].value == "Forecasts" and ws["A1"].font.b
    assert ws["A4"].value == "Table 2"
    assert [c.value for c in ws[5]][:3] == ["Code", "Value", "Updated"]
    assert ws["B6"].value == 0 and ws["B7"].value == pytest.approx(0.01)
    assert ws["B7"].number_format == "0.00%"
    assert ws["C6"].value == dt.datetime(1998, 1, 31) and ws["C6"].number_format == "yyyy-mm-dd"
    assert ws["A5"].font.b and ws["A5"].fill.fgColor.rgb == "FF1F3864"
    t = ws.tables["StockForecasts"]
    assert t.ref == "A5:C10" and [c.name for c in t.tableColumns] == ["Code", "Value", "Updated"]
    assert len(ws._charts) == 1
    # the sheets were appended after the user's, in ENGINE_SHEETS order
    assert wb.sheetnames[-2:] == ["Data Status", "Stock Forecasts"]


def test_user_content_on_an_engine_sheet_survives(tmp_path):
    first = tmp_path / "first.xlsx"
    splice(DEMO, first, contents())
    # the user edits the refreshed workbook (openpyxl stands in for Excel here)
    wb = load_workbook(first)
    ws = wb["Stock Forecasts"]
    ws["H2"] = "my note beside the table"
    ws.column_dimensions["B"].width = 33
    wb.save(first)
    with zipfile.ZipFile(first) as z:
        sheet = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet")
                     and b"my note" in z.read(n))
    second = tmp_path / "second.xlsx"
    splice(first, second, contents(rows=7, title="Forecasts, next month"))
    ws = load_workbook(second)["Stock Forecasts"]
    assert ws["H2"].value == "my note beside the table"
    assert ws.column_dimensions["B"].width == 33
    assert ws["A1"].value == "Forecasts, next month"
    assert ws.tables["StockForecasts"].ref == "A5:C12"
    assert len(ws._charts) == 1  # the old chart replaced, not doubled
    assert sheet  # the note lived on the engine sheet's own part


def test_a_user_cell_in_the_way_is_replaced_and_reported(tmp_path):
    first = tmp_path / "first.xlsx"
    splice(DEMO, first, contents())
    wb = load_workbook(first)
    wb["Stock Forecasts"]["B12"] = "typed below the table"
    wb.save(first)
    with Package(first) as pkg:
        sp = plan(pkg, Workbook(pkg), contents(rows=8))
    assert any("Stock Forecasts!B12" in w for w in sp.warnings)


def test_styles_only_grow_and_user_formats_keep_their_indices():
    with zipfile.ZipFile(DEMO) as z:
        xml = z.read("xl/styles.xml")
    book = StyleBook(xml, TRANSITIONAL)
    ids = [book.xf("header"), book.xf("body", "0.00%"), book.xf("title"), book.xf("note")]
    new = book.xml_bytes()
    from xml.etree.ElementTree import fromstring
    old_root, new_root = fromstring(xml), fromstring(new)
    for coll in ("numFmts", "fonts", "fills", "borders", "cellXfs", "dxfs", "cellStyleXfs"):
        o = old_root.find(f"{{{TRANSITIONAL.main}}}{coll}")
        n = new_root.find(f"{{{TRANSITIONAL.main}}}{coll}")
        if o is None:
            continue
        assert [c.attrib for c in n][:len(o)] == [c.attrib for c in o], coll
    again = StyleBook(new, TRANSITIONAL)
    assert [again.xf("header"), again.xf("body", "0.00%"), again.xf("title"),
            again.xf("note")] == ids
    assert again.xml_bytes() is None  # nothing to add the second time


def test_guard_catches_a_changed_user_part(tmp_path):
    out = tmp_path / "o.xlsx"
    with Package(DEMO) as pkg:
        sp = plan(pkg, Workbook(pkg), contents())
        with open(out, "wb") as f:
            write(pkg, sp, f)
    tampered = tmp_path / "t.xlsx"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as zo:
        for i in zin.infolist():
            data = zin.read(i.filename)
            if i.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v>", b"<v>1", 1)
            zo.writestr(i, data)
    assert any("xl/worksheets/sheet1.xml would change" in p
               for p in guard.check(DEMO, tampered, sp))
    # claiming a user part as the engine's is refused, whatever the bytes
    sp.written["xl/worksheets/sheet1.xml"] = b"<x/>"
    assert any("belongs to the workbook" in p for p in guard.check(DEMO, out, sp))


def test_guard_catches_a_reordered_style_list(tmp_path):
    out = tmp_path / "o.xlsx"
    with Package(DEMO) as pkg:
        sp = plan(pkg, Workbook(pkg), contents())
    with zipfile.ZipFile(DEMO) as z:
        xml = z.read("xl/styles.xml").decode()
    # swap the first two fonts: every user cell in font 1 would change its look
    import re
    fonts = re.search(r"<fonts[^>]*>(.*?)</fonts>", xml, re.S)
    items = re.findall(r"<font>.*?</font>|<font/>", fonts.group(1), re.S)
    assert len(items) >= 2
    swapped = xml.replace(items[0] + items[1], items[1] + items[0], 1)
    from engine.workbook.guard import _shared
    problems = _shared("styles", "xl/styles.xml", xml.encode(), swapped.encode(), sp)
    assert problems


def test_prefixed_and_strict_workbooks(tmp_path):
    corpus = Path(__file__).parent / "corpus"
    if not corpus.exists():
        corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    for name in ["closedxml/ClosedXML.Tests__Resource__Other__InlineStrings__outputfile.xlsx",
                 "calamine/tests__nonstandard-xml-ns-prefix.xlsx",
                 "closedxml/ClosedXML.Tests__Resource__TryToLoad__EmptyStyles.xlsx"]:
        src = corpus / name
        out = tmp_path / src.name
        splice(src, out, contents())
        wb = load_workbook(out)
        assert wb["Stock Forecasts"]["A1"].value == "Forecasts", name


def test_a_user_formula_on_an_engine_sheet_makes_excel_recalculate_on_open(tmp_path):
    """A formula of the user's that reads an engine sheet holds last month's cached value:
    the workbook is marked to recalculate on open. Without such a formula, calcPr stays."""
    wb = OpenpyxlWorkbook()
    wb.active.title = "Mine"
    wb["Mine"]["A1"] = "='Stock Forecasts'!B6*2"
    src = tmp_path / "src.xlsx"
    wb.save(src)
    with zipfile.ZipFile(src) as z:  # openpyxl writes <calcPr calcId=… fullCalcOnLoad="1"/>
        parts_ = {n: z.read(n) for n in z.namelist()}
    wbx = parts_["xl/workbook.xml"].decode()
    parts_["xl/workbook.xml"] = wbx.replace(' fullCalcOnLoad="1"', "").encode()
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts_.items():
            z.writestr(n, d)
    out = tmp_path / "out.xlsx"
    splice(src, out, contents())
    with zipfile.ZipFile(out) as z:
        assert b'fullCalcOnLoad="1"' in z.read("xl/workbook.xml")
    plain = tmp_path / "plain.xlsx"
    splice(DEMO, plain, contents())  # the demo's own formulas read only input sheets
    with zipfile.ZipFile(DEMO) as a, zipfile.ZipFile(plain) as b:
        import re
        calc = lambda z: re.findall(rb"<calcPr[^>]*>", z.read("xl/workbook.xml"))  # noqa: E731
        assert calc(a) == calc(b)
