"""The no-data-loss guard (engine/workbook/guard.py).

Every fixture is built in tmp_path with openpyxl, plus raw zip editing for what openpyxl
cannot create (cached formula values, shared formulas, slicers, VBA, XML bombs). The
expected messages are written out by hand from the edit each test makes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.chart import LineChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import CellIsRule
from openpyxl.utils import get_column_letter
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from engine.workbook import guard_package
from engine.workbook.guard import (
    GuardError, compare, excel_lock_owner, snapshot, unsupported_parts)

AREAS = {"Data Status": ["A1:C6"]}  # where the fixture's engine table lives


# -- fixtures ------------------------------------------------------------------------
def build_user_workbook(path: Path) -> Path:
    """A workbook with user content on user sheets and a note next to an engine table."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws["A1"] = 3
    ws["B1"] = "=A1*2"
    ws["B4"] = "=A1*2"
    ws["A2"] = "text"
    ws["A3"] = True
    ws["C1"] = 0.0525
    ws["C1"].number_format = "0.00%"
    ws["C2"] = "bold"
    ws["C2"].font = Font(bold=True, color="FF0000")
    ws["C3"].fill = PatternFill("solid", fgColor="FFFF00")      # styled, empty
    ws["C4"].border = Border(left=Side(style="thin"))
    ws["C5"].alignment = Alignment(horizontal="center")
    ws["D1"].comment = Comment("check this", "ana")
    ws["D2"] = "link"
    ws["D2"].hyperlink = "https://example.com"
    ws.merge_cells("E1:F2")
    ws.column_dimensions["B"].width = 25
    ws.column_dimensions["G"].hidden = True
    ws.row_dimensions[7].height = 30
    ws.freeze_panes = "B2"
    ws.page_setup.orientation = "portrait"
    for i in range(10, 20):
        ws.cell(i, 1, i)
        ws.cell(i, 2, i * 1.5)
    chart = LineChart()
    chart.title = "My chart"
    chart.add_data(Reference(ws, min_col=2, min_row=10, max_row=19))
    ws.add_chart(chart, "H2")
    ins = wb.create_sheet("Instruments")
    ins.append(["Code", "Name", "Asset Class"])
    ins.append(["SPX", "S&P 500", "Equity"])
    dv = DataValidation(type="list", formula1='"Equity,Bond,FX,Commodity"')
    dv.add("C2:C40")
    ins.add_data_validation(dv)
    ins.conditional_formatting.add(
        "A2:A10", CellIsRule(operator="equal", formula=['"SPX"'],
                             fill=PatternFill("solid", fgColor="00FF00")))
    wb.defined_names["MyRange"] = DefinedName("MyRange", attr_text="Notes!$A$10:$A$19")
    eng = wb.create_sheet("Data Status")
    eng.append(["Code", "Name", "Last"])
    eng.append(["SPX", "S&P 500", 1200.5])
    eng["H2"] = "user note"          # outside the engine table: must survive
    wb.save(path)
    return path


def refresh_like(src: Path, dst: Path, edit=None, **load) -> Path:
    """What a refresh does: openpyxl load, rewrite the engine table, optional extra
    (deliberately lossy) edit, save elsewhere."""
    wb = openpyxl.load_workbook(src, **load)
    eng = wb["Data Status"]
    for row in eng["A1:C6"]:
        for cell in row:
            cell.value = None
    eng.append([])  # the engine rewrites its table, one more row than before
    for r, values in enumerate([["Code", "Name", "Last"], ["SPX", "S&P 500", 1250.0],
                                ["DJI", "Dow Jones", 9181.4]], start=1):
        for c, v in enumerate(values, start=1):
            eng.cell(r, c, v)
    if edit is not None:
        edit(wb)
    wb.save(dst)
    return dst


def rezip(src: Path, dst: Path, replace: dict | None = None, add: dict | None = None) -> Path:
    """Copy a zip, replacing parts (bytes, or a function bytes -> bytes) and adding parts."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in replace:
                r = replace[info.filename]
                data = r(data) if callable(r) else r
            zout.writestr(info.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def sheet_part(path: Path, name: str) -> str:
    """Part name of a sheet (openpyxl numbers them in workbook order)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    idx = wb.sheetnames.index(name) + 1
    wb.close()
    return f"xl/worksheets/sheet{idx}.xml"


@pytest.fixture
def user_wb(tmp_path: Path) -> Path:
    return build_user_workbook(tmp_path / "book.xlsx")


# -- nothing lost ----------------------------------------------------------------------
def test_refresh_round_trip_loses_nothing(user_wb: Path, tmp_path: Path) -> None:
    before = snapshot(user_wb)
    # the snapshot saw what the fixture put there (so [] below is not vacuous)
    notes = before.sheets["Notes"]
    assert notes.comments == {"D1": '"check this" by ana'}
    assert notes.hyperlinks == {"D2": "https://example.com"}
    assert notes.merged == {"E1:F2"}
    assert notes.settings["freeze panes"] == "B2"
    assert [(d.kind, d.anchor, d.title) for d in notes.drawing] == [("chart", "H2", "My chart")]
    assert "'Notes'!$B$10:$B$19" in notes.drawing[0].detail
    assert list(before.sheets["Instruments"].validations) == ["C2:C40"]
    assert list(before.sheets["Instruments"].cond_formats) == ["A2:A10"]
    assert before.names == {"MyRange": "Notes!$A$10:$A$19"}
    after = snapshot(refresh_like(user_wb, tmp_path / "out.xlsx"))
    assert after.sheets["Data Status"].rows != before.sheets["Data Status"].rows
    assert compare(before, after, engine_areas=AREAS) == []


def test_engine_table_change_is_reported_without_its_areas(user_wb: Path, tmp_path: Path) -> None:
    """The same refresh, but the engine forgot to declare its area: its cells are user's."""
    before = snapshot(user_wb)
    after = snapshot(refresh_like(user_wb, tmp_path / "out.xlsx"))
    problems = compare(before, after, engine_areas={})
    assert "Data Status!C2: value 1200.5 became 1250" in problems
    assert 'Data Status!A3: value "DJI" written on a user sheet' not in problems  # engine sheet


def _del_comment(wb):
    wb["Notes"]["D1"].comment = None


def _del_name(wb):
    del wb.defined_names["MyRange"]


def _del_validation(wb):
    wb["Instruments"].data_validations.dataValidation = []


def _del_cf(wb):
    wb["Instruments"].conditional_formatting = ConditionalFormattingList()


def _del_chart(wb):
    wb["Notes"]._charts = []


def _set(sheet, ref, value):
    def edit(wb):
        wb[sheet][ref] = value
    return edit


def _number_format(wb):
    wb["Notes"]["C1"].number_format = "General"


def _font(wb):
    wb["Notes"]["C2"].font = Font(bold=False, color="FF0000")


def _unmerge(wb):
    wb["Notes"].unmerge_cells("E1:F2")


def _del_link(wb):
    wb["Notes"]["D2"].hyperlink = None


def _width(wb):
    wb["Notes"].column_dimensions["B"].width = 12


def _unhide(wb):
    wb["Notes"].column_dimensions["G"].hidden = False


def _unfreeze(wb):
    wb["Notes"].freeze_panes = None


def _landscape(wb):
    wb["Notes"].page_setup.orientation = "landscape"


def _del_sheet(wb):
    del wb["Instruments"]


def _hide_sheet(wb):
    wb["Instruments"].sheet_state = "hidden"


def _move_sheet(wb):
    wb.move_sheet("Instruments", offset=-1)


def _row_height(wb):
    wb["Notes"].row_dimensions[7].height = None


LOSSES = [
    ("cell changed", _set("Notes", "A1", 4), ["Notes!A1: value 3 became 4"]),
    ("text cell emptied", _set("Notes", "A2", None), ['Notes!A2: value "text" dropped']),
    ("bool became number", _set("Notes", "A3", 1), ["Notes!A3: value TRUE became 1"]),
    ("formula replaced by value", _set("Notes", "B4", 6), ['Notes!B4: formula "=A1*2" became value 6']),
    ("formula edited", _set("Notes", "B1", "=A1*3"), ['Notes!B1: formula "=A1*2" became "=A1*3"']),
    ("comment removed", _del_comment, ['Notes!D1: comment "check this" by ana dropped']),
    ("name removed", _del_name, ['workbook: defined name "MyRange" dropped (was Notes!$A$10:$A$19)']),
    ("validation removed", _del_validation, ["Instruments: data validation on C2:C40 dropped"]),
    ("conditional format removed", _del_cf, ["Instruments: conditional formatting on A2:A10 dropped"]),
    ("chart removed", _del_chart, ['Charts on sheet "Notes": 1 chart dropped (at H2 "My chart")']),
    ("number format changed", _number_format,
     ['Notes!C1: style changed (number format "0.00%" became "General")']),
    ("font changed", _font, ["Notes!C2: style changed (font changed)"]),
    ("merged cells split", _unmerge, ["Notes: merged cells E1:F2 dropped"]),
    ("hyperlink removed", _del_link, ["Notes!D2: hyperlink to https://example.com dropped"]),
    ("column width", _width, ["Notes: column B width 25.0 became 12.0"]),
    ("column unhidden", _unhide, ["Notes: column G unhidden"]),
    ("row height", _row_height, ["Notes: row 7 height 30.0 became default"]),
    ("freeze panes", _unfreeze, ["Notes: freeze panes B2 became none"]),
    ("print setup", _landscape,
     ['Notes: page setup changed (…orientation="portrait… became …orientation="landscape…)']),
    ("sheet removed", _del_sheet, ['workbook: sheet "Instruments" dropped']),
    ("sheet hidden", _hide_sheet, ['workbook: sheet "Instruments" was visible, became hidden']),
    ("sheet order", _move_sheet,
     ["workbook: sheet order changed (Notes, Instruments became Instruments, Notes)"]),
    ("user sheet written", _set("Instruments", "Z99", 1),
     ["Instruments!Z99: value 1 written on a user sheet"]),
    ("note next to engine table deleted", _set("Data Status", "H2", None),
     ['Data Status!H2: value "user note" dropped']),
    ("note next to engine table overwritten", _set("Data Status", "D2", "x"), []),  # new, not a loss
]


@pytest.mark.parametrize("label, edit, expected", LOSSES, ids=[x[0] for x in LOSSES])
def test_each_loss_is_reported_with_its_place(user_wb: Path, tmp_path: Path, label, edit, expected) -> None:
    before = snapshot(user_wb)
    after = snapshot(refresh_like(user_wb, tmp_path / "out.xlsx", edit=edit))
    assert compare(before, after, engine_areas=AREAS) == expected


def test_engine_sheet_dropped_entirely_reports_user_note(user_wb: Path, tmp_path: Path) -> None:
    def drop(wb):
        del wb["Data Status"]
    before = snapshot(user_wb)
    after = snapshot(refresh_like(user_wb, tmp_path / "out.xlsx", edit=drop))
    assert compare(before, after, engine_areas=AREAS) == ['Data Status!H2: value "user note" dropped']


def test_whole_column_engine_area(user_wb: Path, tmp_path: Path) -> None:
    before = snapshot(user_wb)
    after = snapshot(refresh_like(user_wb, tmp_path / "out.xlsx", edit=_set("Data Status", "H2", "x")))
    assert compare(before, after, engine_areas={"Data Status": ["A:C", "H:H"]}) == []
    assert compare(before, after, engine_areas={"Data Status": ["A:C"]}) == [
        'Data Status!H2: value "user note" became "x"']


def test_bad_engine_area_names_the_argument(user_wb: Path) -> None:
    snap = snapshot(user_wb)
    with pytest.raises(ValueError, match=r"engine_areas: expected A1 ranges.*'A1:'"):
        compare(snap, snap, engine_areas={"Data Status": ["A1:"]})


def test_messages_are_capped(user_wb: Path, tmp_path: Path) -> None:
    def wipe(wb):
        for i in range(10, 20):
            wb["Notes"].cell(i, 1).value = None
            wb["Notes"].cell(i, 2).value = None
        wb["Notes"]["A1"] = 4
    before = snapshot(user_wb)
    after = snapshot(refresh_like(user_wb, tmp_path / "out.xlsx", edit=wipe))
    problems = compare(before, after, engine_areas=AREAS)
    assert len(problems) == 21 and problems[-1] == "… and 1 more"  # 21 cells changed
    assert problems[0] == "Notes!A1: value 3 became 4"
    assert problems[19] == "Notes!A19: value 19 dropped"
    assert compare(before, after, engine_areas=AREAS, max_messages=100)[-1] == "Notes!B19: value 28.5 dropped"


# -- what openpyxl itself loses ----------------------------------------------------------
def _inject_cached(data: bytes) -> bytes:
    """Give B1 and B4 (``=A1*2``) the cached value Excel would have stored: 6."""
    out = re.sub(rb'(<c r="B([14])"[^>]*>)<f>A1\*2</f><v\s*/>', rb"\1<f>A1*2</f><v>6</v>", data)
    assert out.count(b"<v>6</v>") == 2
    return out


def test_cached_formula_values_dropped_by_openpyxl_are_reported(user_wb: Path, tmp_path: Path) -> None:
    cached = rezip(user_wb, tmp_path / "cached.xlsx",
                   replace={sheet_part(user_wb, "Notes"): _inject_cached})
    before = snapshot(cached)
    row1 = before.sheets["Notes"].rows[1]
    assert row1[6:10] == (2, None, "=A1*2", 6.0)  # column B: no value, formula, cached 6
    after = snapshot(refresh_like(cached, tmp_path / "out.xlsx"))
    problems = compare(before, after, engine_areas=AREAS)
    assert problems == [
        'Notes!B1: cached value 6 of formula "=A1*2" dropped (the next read would find no value)',
        'Notes!B4: cached value 6 of formula "=A1*2" dropped (the next read would find no value)']
    assert compare(before, after, engine_areas=AREAS, cached_values=False) == []


def test_shared_formulas_are_expanded_like_excel(user_wb: Path, tmp_path: Path) -> None:
    """Excel writes a column of similar formulas as one shared formula; openpyxl writes
    each cell's own formula. The guard must see the same formulas in both."""
    def share(data: bytes) -> bytes:
        data = data.replace(b'<c r="C10" t="n"><v>', b'<c r="C10"><v>')
        for r in range(10, 13):
            f = (b'<f t="shared" ref="C10:C12" si="0">A10*2</f>' if r == 10
                 else b'<f t="shared" si="0"/>')
            data = re.sub(rb'(<row r="%d"[^>]*>.*?)</row>' % r,
                          lambda m: m.group(1) + b'<c r="C%d">' % r + f + b"</c></row>", data,
                          count=1, flags=re.S)
        return data
    shared = rezip(user_wb, tmp_path / "shared.xlsx", replace={sheet_part(user_wb, "Notes"): share})
    before = snapshot(shared)
    formulas = {r: before.sheets["Notes"].rows[r][-4] for r in (10, 11, 12)}
    assert formulas == {10: "=A10*2", 11: "=A11*2", 12: "=A12*2"}  # translated by hand
    after = snapshot(refresh_like(shared, tmp_path / "out.xlsx"))
    assert compare(before, after, engine_areas=AREAS) == []


def test_rich_text_dropped_unless_loaded_with_rich_text(tmp_path: Path) -> None:
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
    wb.create_sheet("Data Status")
    src = tmp_path / "rich.xlsx"
    wb.save(src)
    before = snapshot(src)
    plain = snapshot(refresh_like(src, tmp_path / "plain.xlsx"))
    assert compare(before, plain) == ['Notes!A1: rich-text formatting of "plain bold" dropped']
    rich = snapshot(refresh_like(src, tmp_path / "rich2.xlsx", rich_text=True))
    assert compare(before, rich, engine_areas=AREAS) == []


# -- parts openpyxl cannot keep -------------------------------------------------------------
SLICER_CT = "application/vnd.ms-excel.slicer+xml"
SLICER_REL = "http://schemas.microsoft.com/office/2007/relationships/slicer"


def _with_slicer(src: Path, dst: Path) -> Path:
    part = sheet_part(src, "Instruments")
    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"

    def ct(data: bytes) -> bytes:
        return data.replace(b"</Types>", b'<Override PartName="/xl/slicers/slicer1.xml" '
                            b'ContentType="' + SLICER_CT.encode() + b'"/></Types>')
    rel = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
           b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="'
           + SLICER_REL.encode() + b'" Target="../slicers/slicer1.xml"/></Relationships>')
    slicer = (b'<?xml version="1.0" encoding="UTF-8"?><slicers xmlns="http://schemas.microsoft.com/'
              b'office/spreadsheetml/2009/9/main"><slicer name="Asset Class" cache="Slicer_AC" '
              b'caption="Asset Class" rowHeight="241300"/></slicers>')
    with zipfile.ZipFile(src) as z:
        assert rels not in z.namelist()
    return rezip(src, dst, replace={"[Content_Types].xml": ct},
                 add={rels: rel, "xl/slicers/slicer1.xml": slicer})


def test_slicer_is_refused_before_and_caught_after(user_wb: Path, tmp_path: Path) -> None:
    src = _with_slicer(user_wb, tmp_path / "slicer.xlsx")
    problems = unsupported_parts(src)
    assert problems == [
        "Workbook contains slicers (xl/slicers/slicer1.xml), which a refresh would drop: "
        "refresh refused. Remove them or refresh from Excel with the add-in's button."]
    assert unsupported_parts(user_wb) == []
    # and the generic safety net: openpyxl really drops it, compare() sees the part go
    before = snapshot(src)
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx"))
    assert compare(before, after, engine_areas=AREAS) == [
        'part xl/slicers/slicer1.xml dropped (slicers) (sheet "Instruments")']


def _with_vba(src: Path, dst: Path) -> Path:
    def ct(data: bytes) -> bytes:
        return data.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/'
                            b'vnd.ms-office.vbaProject"/></Types>')

    def wbrels(data: bytes) -> bytes:
        return data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.'
                            b'microsoft.com/office/2006/relationships/vbaProject" '
                            b'Target="vbaProject.bin"/></Relationships>')
    return rezip(src, dst, replace={"[Content_Types].xml": ct, "xl/_rels/workbook.xml.rels": wbrels},
                 add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0fake-ole-vba" * 50})


def test_vba_in_xlsx_is_refused_and_kept_in_xlsm(user_wb: Path, tmp_path: Path) -> None:
    xlsx = _with_vba(user_wb, tmp_path / "macro.xlsx")
    problems = unsupported_parts(xlsx, keep_vba=True)
    assert len(problems) == 1
    assert problems[0].startswith("Workbook contains VBA macros (xl/vbaProject.bin), which a "
                                  "refresh would drop (a .xlsx workbook cannot hold macros)")
    xlsm = _with_vba(user_wb, tmp_path / "macro.xlsm")
    assert unsupported_parts(xlsm, keep_vba=True) == []
    assert "keep_vba is off" in unsupported_parts(xlsm, keep_vba=False)[0]
    # openpyxl drops the VBA part unless keep_vba; the inventory comparison sees it
    before = snapshot(xlsm)
    lost = snapshot(refresh_like(xlsm, tmp_path / "lost.xlsm"))
    assert compare(before, lost, engine_areas=AREAS) == [
        "part xl/vbaProject.bin dropped (VBA macros)"]
    kept = snapshot(refresh_like(xlsm, tmp_path / "kept.xlsm", keep_vba=True))
    assert compare(before, kept, engine_areas=AREAS) == []


def test_shapes_on_a_drawing_are_refused(user_wb: Path, tmp_path: Path) -> None:
    # openpyxl writes the drawing with spreadsheetDrawing as the default namespace
    sp = (b'<twoCellAnchor><from><col>0</col><colOff>0</colOff><row>20</row><rowOff>0</rowOff>'
          b'</from><to><col>3</col><colOff>0</colOff><row>24</row><rowOff>0</rowOff></to>'
          b'<sp macro="" textlink=""><nvSpPr><cNvPr id="9" name="TextBox 1"/><cNvSpPr txBox="1"/>'
          b'</nvSpPr><spPr/><txBody><a:bodyPr/><a:p><a:r><a:t>Read me first</a:t></a:r></a:p>'
          b'</txBody></sp><clientData/></twoCellAnchor></wsDr>')

    def add_shape(data: bytes) -> bytes:
        assert data.endswith(b"</wsDr>")
        return data.replace(b"</wsDr>", sp)
    src = rezip(user_wb, tmp_path / "shape.xlsx", replace={"xl/drawings/drawing1.xml": add_shape})
    assert unsupported_parts(src) == [
        'Sheet "Notes" has 1 shape on its drawing, which a refresh would drop: refresh refused. '
        "Remove them or refresh from Excel with the add-in's button."]
    before = snapshot(src)
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx"))
    assert compare(before, after, engine_areas=AREAS) == [
        'Shapes on sheet "Notes": 1 shape dropped (at A21 "Read me first")']


# -- Excel's lock file ------------------------------------------------------------------------
def test_excel_lock_owner(user_wb: Path) -> None:
    assert excel_lock_owner(user_wb) is None
    lock = user_wb.with_name("~$" + user_wb.name)
    lock.write_bytes(b"\x05analyst")
    assert excel_lock_owner(user_wb) == lock
    lock.unlink()
    long_book = user_wb.with_name("Financials.xlsx")
    short_lock = user_wb.with_name("~$nancials.xlsx")  # Excel's form for long names
    short_lock.write_bytes(b"x")
    assert excel_lock_owner(long_book) == short_lock


# -- hostile files -----------------------------------------------------------------------------
LOL = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
       + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                  for i in range(1, 10))
       + b']>\n')


def test_xml_bomb_in_a_sheet_is_refused(user_wb: Path, tmp_path: Path) -> None:
    part = sheet_part(user_wb, "Instruments")

    def bomb(data: bytes) -> bytes:
        body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
        return LOL + body.replace(b"<v>", b"<v>&lol9;", 1)
    src = rezip(user_wb, tmp_path / "bomb.xlsx", replace={part: bomb})
    t0 = time.perf_counter()
    with pytest.raises(GuardError, match=rf"part {part} declares XML entities or a DTD.*XML bomb"):
        snapshot(src)
    assert time.perf_counter() - t0 < 5
    # openpyxl itself (the refresh's own load) refuses it too: defusedxml is in use
    assert openpyxl.xml.DEFUSEDXML
    with pytest.raises(ValueError) as err:
        openpyxl.load_workbook(src)
    assert "EntitiesForbidden" in repr(err.value.__context__)


def test_xml_bomb_in_small_parts_is_refused(user_wb: Path, tmp_path: Path) -> None:
    for part in ("xl/styles.xml", "[Content_Types].xml", "xl/workbook.xml"):
        src = rezip(user_wb, tmp_path / "bomb.xlsx",
                    replace={part: lambda d: LOL + d.split(b"?>", 1)[-1]})
        with pytest.raises(GuardError, match=f"part {re.escape(part)} declares XML entities"):
            snapshot(src)
    with pytest.raises(GuardError, match="declares XML entities"):
        unsupported_parts(src)


def test_zip_bomb_is_refused_by_ratio(user_wb: Path, tmp_path: Path) -> None:
    src = rezip(user_wb, tmp_path / "zipbomb.xlsx", add={"xl/media/padding.bin": b"\0" * (20 << 20)})
    assert src.stat().st_size < 200_000
    with pytest.raises(GuardError, match=r"part xl/media/padding.bin expands [\d,]+:1 .*zip bomb"):
        snapshot(src)
    with pytest.raises(GuardError, match="zip bomb"):
        unsupported_parts(src)


def test_oversize_workbook_is_refused(user_wb: Path, monkeypatch) -> None:
    monkeypatch.setattr(guard_package, "MAX_UNCOMPRESSED_BYTES", 20_000)
    with pytest.raises(GuardError, match=r"uncompressed size .* exceeds the .* limit: refused"):
        snapshot(user_wb)


def test_not_a_workbook(tmp_path: Path) -> None:
    bad = tmp_path / "notes.xlsx"
    bad.write_text("just text")
    with pytest.raises(GuardError, match="notes.xlsx: not a readable .xlsx/.xlsm zip file"):
        snapshot(bad)


# -- other writers' representations ------------------------------------------------------
def _shared_strings(src: Path, dst: Path) -> Path:
    """Rewrite every inline string of every sheet as a shared string, as Excel does."""
    table: list[bytes] = []
    pattern = re.compile(rb'<c r="([A-Z]+\d+)"([^>]*?) t="inlineStr"><is><t>([^<]*)</t></is></c>')

    def to_sst(data: bytes) -> bytes:
        def repl(m: re.Match) -> bytes:
            table.append(m.group(3))
            return b'<c r="%s"%s t="s"><v>%d</v></c>' % (m.group(1), m.group(2), len(table) - 1)
        return pattern.sub(repl, data)
    with zipfile.ZipFile(src) as z:
        sheets = [n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
    tmp = rezip(src, dst.with_suffix(".tmp.xlsx"), replace={n: to_sst for n in sheets})
    assert table, "the fixture has inline strings to convert"
    sst = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
           b'openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
           % (len(table), len(table))
           + b"".join(b"<si><t>%s</t></si>" % t for t in table) + b"</sst>")
    return rezip(tmp, dst, add={"xl/sharedStrings.xml": sst}, replace={
        "[Content_Types].xml": lambda d: d.replace(
            b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
        "xl/_rels/workbook.xml.rels": lambda d: d.replace(
            b"</Relationships>", b'<Relationship Id="rId98" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            b"</Relationships>")})


def test_shared_strings_equal_the_inline_strings_openpyxl_writes(user_wb: Path, tmp_path: Path) -> None:
    src = _shared_strings(user_wb, tmp_path / "sst.xlsx")
    before = snapshot(src)
    assert before.sheets["Instruments"].rows[2][1::6] == ("SPX", "S&P 500", "Equity")
    assert compare(snapshot(user_wb), before) == []  # same content, other representation
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx", edit=_set("Instruments", "B2", "S&P")))
    assert compare(before, after, engine_areas=AREAS) == ['Instruments!B2: value "S&P 500" became "S&P"']


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_written_workbook_round_trips_clean(user_wb: Path, tmp_path: Path) -> None:
    """A second writer (LibreOffice: shared strings, explicit default attributes, its own
    style tables, cached formula values): after an openpyxl refresh the only loss found
    is the one openpyxl really causes — formulas saved without their cached values."""
    out = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo_profile", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(user_wb)],
                   check=True, capture_output=True, timeout=120)
    src = out / user_wb.name
    before = snapshot(src)
    assert before.sheets["Notes"].rows[1][6:10] == (2, None, "=A1*2", 6.0)  # B1: formula, cached 6
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx"))
    problems = compare(before, after, engine_areas=AREAS)
    assert problems == [
        'Notes!B1: cached value 6 of formula "=A1*2" dropped (the next read would find no value)',
        'Notes!A3: cached value TRUE of formula "=TRUE()" dropped (the next read would find no value)',
        'Notes!B4: cached value 6 of formula "=A1*2" dropped (the next read would find no value)']
    assert compare(before, after, engine_areas=AREAS, cached_values=False) == []


def test_images_are_compared(tmp_path: Path) -> None:
    PIL = pytest.importorskip("PIL.Image")
    import io

    from openpyxl.drawing.image import Image
    buf = io.BytesIO()
    PIL.new("RGB", (20, 10), (255, 0, 0)).save(buf, "PNG")
    buf.seek(0)
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.add_image(Image(buf), "C3")
    wb.create_sheet("Data Status")
    src = tmp_path / "img.xlsx"
    wb.save(src)
    before = snapshot(src)
    assert compare(before, snapshot(refresh_like(src, tmp_path / "kept.xlsx")), engine_areas=AREAS) == []

    def drop(wb):
        wb["Notes"]._images = []
    after = snapshot(refresh_like(src, tmp_path / "lost.xlsx", edit=drop))
    assert compare(before, after, engine_areas=AREAS) == [
        'Images on sheet "Notes": 1 image dropped (at C3 "Picture")',
        'part xl/media/image1.png dropped (image) (sheet "Notes")']


def test_dynamic_array_formula_and_its_metadata(user_wb: Path, tmp_path: Path) -> None:
    """Excel 365 marks a spilled formula with cm="1" and keeps xl/metadata.xml; openpyxl
    keeps neither, so the formula would come back as a legacy array formula."""
    def spill(data: bytes) -> bytes:
        return data.replace(b'<row r="7"', b'<row r="6"><c r="H6" cm="1"><f t="array" ref="H6:H8">'
                            b"SEQUENCE(3)</f><v>1</v></c></row><row r=\"7\"", 1)
    meta_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"
    src = rezip(user_wb, tmp_path / "spill.xlsx", add={"xl/metadata.xml": b"<metadata/>"}, replace={
        sheet_part(user_wb, "Notes"): spill,
        "[Content_Types].xml": lambda d: d.replace(
            b"</Types>", b'<Override PartName="/xl/metadata.xml" ContentType="%s"/></Types>'
            % meta_ct.encode()),
        "xl/_rels/workbook.xml.rels": lambda d: d.replace(
            b"</Relationships>", b'<Relationship Id="rId97" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/sheetMetadata" Target="metadata.xml"/></Relationships>')})
    assert unsupported_parts(src) == [
        "Workbook contains dynamic-array metadata (spilled formulas would turn into legacy array "
        "formulas) (xl/metadata.xml), which a refresh would drop: refresh refused. Remove them "
        "or refresh from Excel with the add-in's button."]
    before = snapshot(src)
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx"))
    assert compare(before, after, engine_areas=AREAS, cached_values=False) == [
        'Notes!H6: dynamic-array formula "{=SEQUENCE(3)} array H6:H8" became a legacy '
        "(Ctrl+Shift+Enter) array formula",
        "part xl/metadata.xml dropped (dynamic-array metadata (spilled formulas would turn into "
        "legacy array formulas))"]


# Parts the guard refuses up front. The experiment behind the list: wire each part into a
# workbook, load and save it with openpyxl, and check that the part is gone.
KNOWN = [
    ("xl/slicerCaches/slicerCache1.xml", "application/vnd.ms-excel.slicerCache+xml",
     "http://schemas.microsoft.com/office/2007/relationships/slicerCache", "slicer caches"),
    ("xl/timelineCaches/timelineCache1.xml", "application/vnd.ms-excel.timelineCache+xml",
     "http://schemas.microsoft.com/office/2011/relationships/timelineCache", "timeline caches"),
    ("xl/ctrlProps/ctrlProp1.xml", "application/vnd.ms-excel.controlproperties+xml",
     "http://schemas.openxmlformats.org/officeDocument/2006/relationships/ctrlProp", "form controls"),
    ("xl/activeX/activeX1.xml", "application/vnd.ms-office.activeX+xml",
     "http://schemas.openxmlformats.org/officeDocument/2006/relationships/control", "ActiveX controls"),
    ("xl/threadedComments/threadedComment1.xml", "application/vnd.ms-excel.threadedcomments+xml",
     "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment", "threaded comments"),
    ("customXml/item1.xml", "application/xml",
     "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml", "custom XML"),
    ("xl/queryTables/queryTable1.xml",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.queryTable+xml",
     "http://schemas.openxmlformats.org/officeDocument/2006/relationships/queryTable", "query tables"),
    ("xl/connections.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml",
     "http://schemas.openxmlformats.org/officeDocument/2006/relationships/connections", "data connections"),
    ("xl/embeddings/oleObject1.bin", "application/vnd.openxmlformats-officedocument.oleObject",
     "http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject", "embedded OLE"),
]


@pytest.mark.parametrize("part, ctype, reltype, label", KNOWN, ids=[k[3] for k in KNOWN])
def test_known_unsupported_parts(user_wb: Path, tmp_path: Path, part, ctype, reltype, label) -> None:
    notes = sheet_part(user_wb, "Notes")
    rels = notes.replace("worksheets/", "worksheets/_rels/") + ".rels"
    target = "../../" + part if part.startswith("customXml") else "../" + part[3:]
    src = rezip(user_wb, tmp_path / "part.xlsx", add={part: b"<x/>"}, replace={
        "[Content_Types].xml": lambda d: d.replace(
            b"</Types>", b'<Override PartName="/%s" ContentType="%s"/></Types>'
            % (part.encode(), ctype.encode())),
        rels: lambda d: d.replace(b"</Relationships>", b'<Relationship Id="rId77" Type="%s" '
                                  b'Target="%s"/></Relationships>' % (reltype.encode(), target.encode()))})
    problems = unsupported_parts(src)
    assert len(problems) == 1 and label in problems[0] and part in problems[0]
    before = snapshot(src)
    assert any(part in names for names in before.parts.values())
    for keep_vba in (False, True):  # keep_vba copies some of these files but not their links
        after = snapshot(refresh_like(src, tmp_path / "out.xlsx", keep_vba=keep_vba))
        lost = compare(before, after, engine_areas=AREAS)
        assert len(lost) == 1, lost
        assert lost[0].startswith(f"part {part} dropped (") and label in lost[0]
        assert lost[0].endswith('(sheet "Notes")')


# -- any edit on a user sheet is found, at its cell -------------------------------------------

CELL_VALUES = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from(["a", "b", "=A1+1", "=1/0"]),
                        st.booleans(), st.floats(-2, 2, allow_nan=False).map(lambda x: round(x, 3)))


@settings(max_examples=25, deadline=None, database=None,  # no .hypothesis/ outside tmp_path
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(st.tuples(st.integers(1, 4), st.integers(1, 4)), CELL_VALUES, max_size=5))
def test_random_edits_are_reported_exactly_at_their_cells(tmp_path: Path, edits: dict) -> None:
    src = tmp_path / "grid.xlsx"
    if not src.exists():
        wb = openpyxl.Workbook()
        wb.active.title = "Inputs"
        for r in range(1, 5):
            for c in range(1, 5):
                wb.active.cell(r, c, r * 10 + c)
        wb.create_sheet("Data Status")
        wb.save(src)
    before = snapshot(src)

    def edit(wb):
        for (r, c), v in edits.items():
            wb["Inputs"].cell(r, c).value = v
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx", edit=edit))
    problems = compare(before, after, engine_areas=AREAS, max_messages=100)
    changed = {f"Inputs!{get_column_letter(c)}{r}" for (r, c), v in edits.items()
               if not (isinstance(v, int) and not isinstance(v, bool) and v == r * 10 + c)}
    assert {p.split(":")[0] for p in problems} == changed
    assert len(problems) == len(changed)  # one message per edited cell


def test_table_areas_and_command_line(user_wb: Path, tmp_path: Path, capsys) -> None:
    from openpyxl.worksheet.table import Table
    from engine.workbook.guard import main, table_areas
    wb = openpyxl.load_workbook(user_wb)
    wb["Data Status"].add_table(Table(displayName="DataStatus", ref="A1:C2"))
    src = tmp_path / "tables.xlsx"
    wb.save(src)
    assert table_areas(snapshot(src)) == {"Data Status": ["A1:C2"]}
    assert main([str(src)]) == 0
    lost = refresh_like(src, tmp_path / "lost.xlsx", edit=_set("Notes", "A1", None))
    assert main([str(src), str(lost)]) == 2
    assert capsys.readouterr().out.splitlines()[-1] == "Notes!A1: value 3 dropped"


def test_libreoffice_lock_file(user_wb: Path) -> None:
    lock = user_wb.with_name(f".~lock.{user_wb.name}#")
    lock.write_text("analyst,host,2026")
    assert excel_lock_owner(user_wb) == lock


def test_custom_document_properties(user_wb: Path, tmp_path: Path) -> None:
    """The user's properties must survive; the engine's own (gamma_desk_*) may change."""
    from openpyxl.packaging.custom import StringProperty
    wb = openpyxl.load_workbook(user_wb)
    wb.custom_doc_props.append(StringProperty(name="Classification", value="Internal"))
    src = tmp_path / "props.xlsx"
    wb.save(src)
    before = snapshot(src)
    assert before.properties == {"Classification"}

    def engine_prop(wb):
        wb.custom_doc_props.append(StringProperty(name="gamma_desk_areas_0", value="{}"))
    assert compare(before, snapshot(refresh_like(src, tmp_path / "ok.xlsx", edit=engine_prop)),
                   engine_areas=AREAS) == []

    def drop(wb):
        wb.custom_doc_props.props = []
    assert compare(before, snapshot(refresh_like(src, tmp_path / "lost.xlsx", edit=drop)),
                   engine_areas=AREAS) == ['workbook: custom document property "Classification" dropped']


def test_workbook_settings(user_wb: Path, tmp_path: Path) -> None:
    """Workbook-level settings: openpyxl keeps structure protection and manual calculation,
    drops 'password to modify' (fileSharing); file-recovery bookkeeping is not content."""
    def settings(data: bytes) -> bytes:
        data = re.sub(rb"<workbookProtection\s*/>", b'<fileSharing readOnlyRecommended="1" '
                      b'userName="ana" reservationPassword="CC4B"/><workbookProtection '
                      b'lockStructure="1"/><fileRecoveryPr repairLoad="1"/>', data)
        return re.sub(rb"<calcPr [^>]*/>", b'<calcPr calcId="191029" calcMode="manual"/>', data)
    src = rezip(user_wb, tmp_path / "settings.xlsx", replace={"xl/workbook.xml": settings})
    before = snapshot(src)
    assert before.settings["calculation mode"] == "manual"
    assert before.settings["workbook protection"] == (
        '<workbookProtection lockStructure="1"></workbookProtection>')
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx"))
    assert compare(before, after, engine_areas=AREAS) == [
        "workbook: password to modify / read-only recommended "
        '<fileSharing readOnlyRecommended="1" reservationPassword="CC4B"></fileSharing> became none']


@pytest.mark.filterwarnings("ignore:Sparkline Group extension is not supported")
def test_sheet_extensions_and_elements(user_wb: Path, tmp_path: Path) -> None:
    """Sparklines live in a worksheet extension, embedded objects in <oleObjects>: openpyxl
    drops both; the guard names them (and refuses sparklines before loading)."""
    ext = (b'<extLst><ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}" xmlns:x14="http://schemas.'
           b'microsoft.com/office/spreadsheetml/2009/9/main"><x14:sparklineGroups/></ext></extLst>'
           b"</worksheet>")

    def add(data: bytes) -> bytes:
        data = data.replace(b"</worksheet>", ext)
        return data.replace(b"<pageMargins", b'<oleObjects><oleObject progId="Word.Document.12" '
                            b'shapeId="1025"/></oleObjects><pageMargins', 1)
    part = sheet_part(user_wb, "Instruments")
    src = rezip(user_wb, tmp_path / "ext.xlsx", replace={part: add})
    assert unsupported_parts(src) == [
        'Sheet "Instruments" uses Sparkline Group (a worksheet extension), which a refresh would '
        "drop: refresh refused. Remove them or refresh from Excel with the add-in's button."]
    before = snapshot(src)
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx"))
    assert compare(before, after, engine_areas=AREAS) == [
        "Instruments: Sparkline Group (worksheet extension) dropped",
        "Instruments: embedded OLE objects dropped"]


def test_user_excel_table_and_protection(user_wb: Path, tmp_path: Path) -> None:
    from openpyxl.worksheet.table import Table
    wb = openpyxl.load_workbook(user_wb)
    wb["Instruments"].add_table(Table(displayName="Universe", ref="A1:C2"))
    wb["Instruments"].protection.sheet = True
    src = tmp_path / "table.xlsx"
    wb.save(src)
    before = snapshot(src)
    assert compare(before, snapshot(refresh_like(src, tmp_path / "same.xlsx")), engine_areas=AREAS) == []

    def drop(wb):
        del wb["Instruments"].tables["Universe"]
        wb["Instruments"].protection.sheet = False
    after = snapshot(refresh_like(src, tmp_path / "out.xlsx", edit=drop))
    assert compare(before, after, engine_areas=AREAS) == [
        "Instruments: sheet protection dropped", 'Instruments: Excel table "Universe" dropped']


def test_lying_zip_header_cannot_inflate_a_part(user_wb: Path, tmp_path: Path) -> None:
    """A zip entry that declares 2 kB but inflates to 8 MB passes the size bounds; reading
    it must stop at the declared size (and fail its CRC) instead of inflating further."""
    import struct
    part = sheet_part(user_wb, "Instruments")
    src = rezip(user_wb, tmp_path / "pad.xlsx",
                replace={part: lambda d: d.replace(b"</worksheet>", b" " * (8 << 20) + b"</worksheet>")})
    raw = bytearray(src.read_bytes())
    name = part.encode()
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        pos = raw.find(sig)
        while pos >= 0:
            (nlen,) = struct.unpack_from("<H", raw, pos + name_at - (4 if sig == b"PK\x03\x04" else 18))
            if raw[pos + name_at: pos + name_at + nlen] == name:
                struct.pack_into("<I", raw, pos + size_at, 2000)
            pos = raw.find(sig, pos + 4)
    liar = tmp_path / "liar.xlsx"
    liar.write_bytes(bytes(raw))
    with zipfile.ZipFile(liar) as z:
        assert z.getinfo(part).file_size == 2000  # the lie is in place
    with pytest.raises(GuardError, match=rf"part {part} unreadable \(Bad CRC-32"):
        snapshot(liar)


def test_malformed_sheet_xml_is_refused(user_wb: Path, tmp_path: Path) -> None:
    part = sheet_part(user_wb, "Notes")
    src = rezip(user_wb, tmp_path / "broken.xlsx",
                replace={part: lambda d: d.replace(b"</sheetData>", b"</sheetDat>")})
    with pytest.raises(GuardError, match=rf"part {part} is not well-formed XML \(mismatched tag"):
        snapshot(src)


def test_changed_validation_shows_where_it_changed(user_wb: Path, tmp_path: Path) -> None:
    def narrow(wb):
        wb["Instruments"].data_validations.dataValidation[0].formula1 = '"Equity,Bond"'
    before = snapshot(user_wb)
    after = snapshot(refresh_like(user_wb, tmp_path / "out.xlsx", edit=narrow))
    assert compare(before, after, engine_areas=AREAS) == [
        'Instruments: data validation on C2:C40 changed (…<formula1>"Equity,Bond,FX,Commodity… '
        'became …<formula1>"Equity,Bond…)']


def test_user_chart_beside_engine_tables_is_protected(user_wb: Path, tmp_path: Path) -> None:
    """On an engine sheet the engine's charts (anchored in its areas) may change; a chart
    the user placed outside those areas must survive."""
    wb = openpyxl.load_workbook(user_wb)
    eng = wb["Data Status"]
    for anchor, title in (("B4", "engine chart"), ("M2", "my chart")):
        ch = LineChart()
        ch.title = title
        ch.add_data(Reference(eng, min_col=3, min_row=1, max_row=2))
        eng.add_chart(ch, anchor)
    src = tmp_path / "charts.xlsx"
    wb.save(src)
    before = snapshot(src)

    def drop_engine_chart(wb):
        wb["Data Status"]._charts = [c for c in wb["Data Status"]._charts if c.anchor._from.col != 1]
    after = snapshot(refresh_like(src, tmp_path / "ok.xlsx", edit=drop_engine_chart))
    assert [d.title for d in after.sheets["Data Status"].drawing] == ["my chart"]
    assert compare(before, after, engine_areas=AREAS) == []

    def drop_all(wb):
        wb["Data Status"]._charts = []
    after = snapshot(refresh_like(src, tmp_path / "lost.xlsx", edit=drop_all))
    assert compare(before, after, engine_areas=AREAS) == [
        'Charts on sheet "Data Status": 1 chart dropped (at M2 "my chart")']
