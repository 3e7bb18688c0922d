"""Loading the workbook to write into without the engine's last cells (engine/workbook/load.py):
exactly the cells inside the stored engine areas are left out, nothing else."""

import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

import workbook_factory as wf
from engine.cli import main
from engine.workbook.areas import read_areas
from engine.workbook.cached_values import sheet_parts
from engine.workbook.load import load_for_writing


def _inside(areas, row, col) -> bool:
    return any(c1 <= col <= c2 and r1 <= row <= r2
               for c1, r1, c2, r2 in map(range_boundaries, areas))


def _refreshed(tmp_path) -> Path:
    path = wf.build(tmp_path / "w.xlsx")
    assert main(["refresh", str(path), "--quiet"]) in (0, 1)
    wb = load_workbook(path)
    wb["Data Status"]["Z3"] = "my note beside the engine's table"
    wb.save(path)
    return path


def test_only_the_engine_area_cells_are_left_out(tmp_path):
    path = _refreshed(tmp_path)
    full = load_workbook(path, rich_text=True)
    areas = read_areas(full)
    assert areas["Data Status"] and areas["Signals"]
    wb, copy = load_for_writing(path)
    try:
        assert copy is not None and copy.exists() and copy.parent == path.parent
        for name in full.sheetnames:
            got = {k: c.value for k, c in wb[name]._cells.items()}
            want = {k: c.value for k, c in full[name]._cells.items()
                    if not _inside(areas.get(name, []), *k)}
            assert got == want, name
            assert set(wb[name].tables) == set(full[name].tables)
            assert len(wb[name]._charts) == len(full[name]._charts)
        assert wb["Data Status"]["Z3"].value == "my note beside the engine's table"
        assert read_areas(wb) == areas
    finally:
        copy.unlink()


def test_never_refreshed_or_unhandled_sheets_load_whole(tmp_path):
    fresh = wf.build(tmp_path / "fresh.xlsx")
    wb, copy = load_for_writing(fresh)
    assert copy is None and "Prices" in wb.sheetnames
    # a shared formula on an engine sheet: that sheet is read whole, cells and all
    path = _refreshed(tmp_path)
    edited = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(edited, "w") as out:
        parts = {i.filename: (i, z.read(i.filename)) for i in z.infolist()}
        status = sheet_parts(parts)["Data Status"]
        for name, (info, data) in parts.items():
            if name == status:
                data = data.replace(b"</sheetData>", b'</sheetData><!-- t="shared" -->', 1)
            out.writestr(info, data)
    full = load_workbook(edited)
    wb, copy = load_for_writing(edited)
    try:
        assert len(wb["Data Status"]._cells) == len(full["Data Status"]._cells)
        assert len(wb["Signals"]._cells) < len(full["Signals"]._cells)
    finally:
        if copy is not None:
            copy.unlink()
