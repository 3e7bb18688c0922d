"""Saving with the user's sheets serialized ahead (engine/workbook/serialize.py) writes the
same package as openpyxl's own save, part for part."""

import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import Font

import workbook_factory as wf
from engine.workbook.serialize import SheetsAhead, save_workbook
from test_refresh import add_user_content


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        # docProps/core.xml holds the save time; everything else must be the same bytes
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def _engine_edit(wb) -> None:
    """What a refresh does after the user's sheets were serialized: new styled cells on an
    engine sheet (new styles join the workbook's style list) and a new engine sheet."""
    ws = wb.create_sheet("Data Status")
    for i in range(1, 30):
        c = ws.cell(row=i, column=1, value=f"row {i}")
        c.font = Font(bold=i % 2 == 0, italic=i % 3 == 0, color="1F3864")
        ws.cell(row=i, column=2, value=i * 1.5).number_format = "0.000%"


def test_sheets_serialized_ahead_save_the_same_package(tmp_path):
    src = wf.build(tmp_path / "user.xlsx", mutate=add_user_content)
    plain, ahead_path = tmp_path / "plain.xlsx", tmp_path / "ahead.xlsx"

    wb = load_workbook(src, rich_text=True)
    _engine_edit(wb)
    wb.save(plain)

    wb = load_workbook(src, rich_text=True)
    ahead = SheetsAhead()
    ahead.serialize(wb, list(wb.sheetnames))     # every user sheet, before the edit
    _engine_edit(wb)
    save_workbook(wb, ahead_path, ahead)

    a, b = _parts(plain), _parts(ahead_path)
    assert sorted(a) == sorted(b)
    different = [n for n in a if a[n] != b[n]]
    assert different == []
    assert "xl/comments/comment1.xml" in a and any(n.startswith("xl/charts/") for n in a)


def test_unsaved_sheets_leave_no_temporary_files(tmp_path):
    from openpyxl.worksheet._writer import ALL_TEMP_FILES
    src = wf.build(tmp_path / "user.xlsx", mutate=add_user_content)
    wb = load_workbook(src)
    before = set(ALL_TEMP_FILES)
    ahead = SheetsAhead()
    ahead.serialize(wb, wb.sheetnames)
    made = set(ALL_TEMP_FILES) - before
    assert made and all(Path(f).exists() for f in made)
    ahead.discard()                              # e.g. the refresh was refused meanwhile
    assert not any(Path(f).exists() for f in made)
    assert set(ALL_TEMP_FILES) == before
