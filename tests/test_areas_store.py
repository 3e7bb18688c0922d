"""Where the engine remembers its areas: hidden workbook-level defined names, readable by
``gamma refresh`` and by the Excel button on Windows and macOS (engine/workbook/areas.py);
a workbook written by the previous version (custom document properties) still refreshes
cleanly and is moved to the names."""

from __future__ import annotations

import shutil
import zipfile

from openpyxl import load_workbook
from openpyxl.packaging.custom import CustomPropertyList, StringProperty
from openpyxl.workbook.defined_name import DefinedName

import workbook_factory as wf
from engine.refresh import refresh
from engine.workbook.areas import (ENGINE_NAME, area_names, area_properties, areas_from_names,
                                   read_stored)
from engine.workbook.shared_parts import set_engine_names
from engine.xlsx.package import Package
from engine.xlsx.cells import Workbook
from engine.workbook.splice import custom_part


def _props(pairs) -> CustomPropertyList:
    props = CustomPropertyList()
    for n, v in pairs:
        props.append(StringProperty(name=n, value=v))
    return props


def _stored(path):
    with Package(path) as pkg:
        book = Workbook(pkg)
        custom = custom_part(pkg)
        return read_stored(pkg.xml(book.part), pkg.xml(custom) if custom else None)


def _tables(path) -> dict[str, list[str]]:
    wb = load_workbook(path)
    return {ws.title: sorted(t.ref for t in ws.tables.values()) for ws in wb.worksheets}


def test_cli_keeps_the_areas_in_hidden_names(tmp_path):
    src = wf.build(tmp_path / "m.xlsx")
    wb = load_workbook(src)
    wb.defined_names["MyRange"] = DefinedName("MyRange", attr_text="Prices!$A$1:$A$5")
    wb.custom_doc_props = _props([("Client", "X")])
    wb.save(src)
    refresh(src)
    wb = load_workbook(src)
    engine = {n: d for n, d in wb.defined_names.items() if ENGINE_NAME.match(n)}
    assert engine and all(d.hidden for d in engine.values())
    assert wb.defined_names["MyRange"].attr_text == "Prices!$A$1:$A$5"   # the user's stay
    assert [(p.name, p.value) for p in wb.custom_doc_props.props] == [("Client", "X")]
    areas = areas_from_names((n, d.attr_text) for n, d in engine.items())
    assert "Signals" in areas and areas == _stored(src)
    # each name one text constant of at most 240 characters (Excel: 255 in a formula)
    assert all(len(d.attr_text[1:-1].replace('""', '"')) <= 240 for d in engine.values())


def test_names_round_trip_and_replace():
    areas = {"Charts": [f"A{i}:C{i + 3}" for i in range(1, 400, 5)], "Sig'nals": ["B2"]}
    names = area_names(areas)
    assert areas_from_names(names) == areas
    assert areas_from_names([(n, "=" + f) for n, f in names]) == areas   # Name.RefersTo
    xml = (b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<sheets><sheet name="A" sheetId="1"/></sheets><definedNames/></workbook>')
    once = set_engine_names(xml, names)
    assert set_engine_names(once, names) == once
    assert set_engine_names(once, []).count(b"gamma_desk_areas") == 0
    assert b"<definedNames/>" not in once and once.count(b"<definedNames>") == 1


def test_a_workbook_of_the_previous_version_refreshes_and_moves_to_names(tmp_path):
    """Areas in custom document properties (the previous store, Windows-only): read, the
    old tables replaced (not doubled), the areas moved to names, the properties dropped."""
    src = wf.build(tmp_path / "m.xlsx")
    refresh(src)
    first = _tables(src)
    old = tmp_path / "old.xlsx"
    shutil.copy(src, old)
    wb = load_workbook(old)
    areas = areas_from_names((n, d.attr_text) for n, d in wb.defined_names.items())
    for n in [n for n in wb.defined_names if ENGINE_NAME.match(n)]:
        del wb.defined_names[n]
    wb.custom_doc_props = _props(area_properties(areas))
    wb.save(old)
    assert _stored(old) == areas                     # read from the properties
    refresh(old)
    assert _tables(old) == first                     # nothing doubled
    wb = load_workbook(old)
    assert wb.custom_doc_props.props == []
    assert _stored(old) == areas_from_names(
        (n, d.attr_text) for n, d in wb.defined_names.items()) == _stored(src)
    with zipfile.ZipFile(old) as z:
        assert b"gamma_desk_areas_000" in z.read("xl/workbook.xml")
