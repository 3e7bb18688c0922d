"""Refreshing in place: engine sheets rewritten, user content kept, refusals leave the file
byte-identical, and a refresh killed at any moment leaves a valid workbook."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

import workbook_factory as wf
from engine.cli import main
from engine.inputs.reader import read_workbook
from engine.refresh import refresh
from engine.tables.base import ENGINE_SHEETS

ROOT = Path(__file__).resolve().parent.parent


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def add_user_content(wb) -> None:
    """A user's own sheet with formulas, comments, names, validations, a chart, styles."""
    ws = wb.create_sheet("Notes", 0)
    ws["A1"] = "My working"
    ws["A1"].font = Font(bold=True, color="FF0000")
    ws["A1"].fill = PatternFill("solid", fgColor="FFFF00")
    for i in range(2, 8):
        ws.cell(row=i, column=1, value=i * 10)
        ws.cell(row=i, column=2, value=f"=A{i}*2")
    ws["C2"] = "=SUM(Prices!B2:B20)"
    ws["C2"].comment = Comment("check this against Bloomberg", "PM")
    ws["D2"] = 0.1234
    ws["D2"].number_format = "0.0%"
    ws.merge_cells("E2:F3")
    ws["E2"] = "merged"
    dv = DataValidation(type="list", formula1='"Long,Neutral,Short"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("G2:G10")
    ws.conditional_formatting.add("A2:A7", CellIsRule(operator="greaterThan", formula=["40"],
                                                      fill=PatternFill("solid", fgColor="FFC7CE")))
    wb.defined_names["MyRange"] = DefinedName("MyRange", attr_text="Notes!$A$2:$A$7")
    chart = BarChart()
    chart.title = "My chart"
    chart.add_data(Reference(ws, min_col=1, min_row=2, max_row=7))
    ws.add_chart(chart, "H2")
    ws.column_dimensions["A"].width = 31
    wb["Settings"]["D1"] = "my note on an input sheet"


@pytest.fixture
def workbook(tmp_path) -> Path:
    return wf.build(tmp_path / "monthly.xlsx", mutate=add_user_content)


def run(*args) -> int:
    return main([*map(str, args), "--quiet"])


def test_refresh_writes_engine_sheets_and_keeps_every_user_cell(workbook):
    assert run("refresh", workbook) in (0, 1)
    wb = load_workbook(workbook)
    assert "Data Status" in wb.sheetnames
    ds = wb["Data Status"]
    assert "DataStatus" in ds.tables
    header_row = next(r for r in ds.iter_rows(values_only=True) if r[0] == "Code")
    assert header_row[:3] == ("Code", "Name", "Asset Class")
    # a user's note beside the engine table survives the next refresh
    ds["P2"] = "user note"
    ds.column_dimensions["P"].width = 40
    wb.save(workbook)
    assert run("refresh", workbook) in (0, 1)

    wb = load_workbook(workbook)
    assert wb["Data Status"]["P2"].value == "user note"
    assert wb["Data Status"].column_dimensions["P"].width == 40
    n = wb["Notes"]
    assert n["B3"].value == "=A3*2" and n["C2"].value == "=SUM(Prices!B2:B20)"
    assert n["C2"].comment.text == "check this against Bloomberg"
    assert n["A1"].font.bold and n["A1"].font.color.rgb.endswith("FF0000")
    assert n["A1"].fill.fgColor.rgb.endswith("FFFF00")
    assert n["D2"].number_format == "0.0%"
    assert "E2:F3" in {str(r) for r in n.merged_cells.ranges}
    assert [str(dv.sqref) for dv in n.data_validations.dataValidation] == ["G2:G10"]
    assert len(n.conditional_formatting) == 1
    assert wb.defined_names["MyRange"].attr_text == "Notes!$A$2:$A$7"
    assert len(n._charts) == 1
    assert n.column_dimensions["A"].width == 31
    assert wb["Settings"]["D1"].value == "my note on an input sheet"
    assert wb.sheetnames[0] == "Notes"
    # a backup of the previous version is kept
    assert workbook.with_name("monthly.bak.xlsx").exists()


def test_second_refresh_gives_the_same_tables(workbook):
    assert run("refresh", workbook) in (0, 1)
    first = {s: list(load_workbook(workbook, data_only=True)[s].iter_rows(values_only=True))
             for s in ("Data Status",)}
    assert run("refresh", workbook) in (0, 1)
    second = {s: list(load_workbook(workbook, data_only=True)[s].iter_rows(values_only=True))
              for s in ("Data Status",)}
    assert first == second


def test_refused_when_open_in_excel(workbook, capsys):
    lock = workbook.with_name("~$" + workbook.name)
    lock.write_bytes(b"owner")
    before = digest(workbook)
    assert run("refresh", workbook) == 2
    assert digest(workbook) == before
    assert "open in Excel" in capsys.readouterr().err


def test_refused_on_invalid_inputs_byte_identical(tmp_path, capsys):
    path = wf.build(tmp_path / "bad.xlsx", mutate=lambda wb: wb["Prices"].__setitem__("B5", "n/a?"))
    before = digest(path)
    assert run("refresh", path) == 2
    assert digest(path) == before
    err = capsys.readouterr().err
    assert 'Prices!B5: text "n/a?" where a number is expected' in err
    assert run("check", path) == 2


def test_check_clean_workbook(workbook, capsys):
    assert run("check", workbook) == 0
    assert "inputs valid" in capsys.readouterr().out


def test_a_slicer_is_kept_byte_for_byte(workbook):
    """Parts the engine knows nothing about (here a slicer) are copied as they are."""
    z = zipfile.ZipFile(workbook)
    parts = {n: z.read(n) for n in z.namelist()}
    z.close()
    slicer = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<slicers xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"/>')
    parts["xl/slicers/slicer1.xml"] = slicer
    ct = parts["[Content_Types].xml"].decode().replace(
        "</Types>", '<Override PartName="/xl/slicers/slicer1.xml" ContentType="application/'
        'vnd.ms-excel.slicer+xml"/></Types>')
    parts["[Content_Types].xml"] = ct.encode()
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as out:
        for n, b in parts.items():
            out.writestr(n, b)
    assert run("refresh", workbook) in (0, 1)
    with zipfile.ZipFile(workbook) as z:
        assert z.read("xl/slicers/slicer1.xml") == slicer
        assert b"vnd.ms-excel.slicer+xml" in z.read("[Content_Types].xml")


# a refresh killed at each phase boundary (no clean-up runs: os._exit in a child process)
KILL_SCRIPT = """
import sys
from engine.refresh import build_contents, refresh
def status_only(data, store):  # the Data Status sheet alone: the kill points are I/O
    contents, ctx = build_contents(data, only=("data_status",))
    return contents, ctx.failures
refresh(sys.argv[1], build=status_only)
"""


@pytest.mark.parametrize("phase", ["read", "build", "written", "checked", "replaced"])
def test_refresh_killed_at_each_phase_leaves_a_valid_workbook(tmp_path, phase):
    path = wf.build(tmp_path / "crash.xlsx", mutate=add_user_content)
    original = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAMMA_DESK_FAULT_AT": phase}
    r = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(path)], env=env,
                       capture_output=True)
    assert r.returncode == 99, r.stderr.decode()[-2000:]  # it died where it was told to
    if phase == "replaced":  # killed after the replace: the new version, complete
        assert path.read_bytes() != original
    else:
        assert path.read_bytes() == original
    read_workbook(path)  # opens and validates either way
    assert load_workbook(path)["Notes"]["B3"].value == "=A3*2"
    # the next refresh takes over the dead run's lock and sweeps what it left
    assert run("refresh", path) in (0, 1)
    assert [f.name for f in path.parent.iterdir() if f.name.startswith(".~gamma-")] == []


@pytest.mark.slow
def test_refresh_killed_at_random_moments_leaves_a_valid_workbook(tmp_path):
    """Kill ``gamma refresh`` 20 times at random moments: the workbook always opens with its
    inputs intact (either the old or the new version), and no temporary file is taken for it."""
    path = wf.build(tmp_path / "crash.xlsx", mutate=add_user_content)
    original = read_workbook(path)
    cmd = [sys.executable, "-m", "engine.cli", "refresh", str(path), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=False, capture_output=True)
        runs.append(time.perf_counter() - t0)
    full = min(runs)
    rng = random.Random(20261122)
    killed = attempts = 0
    while killed < 20 and attempts < 40:
        attempts += 1
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1 * full, 0.98 * full))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        p.wait()
        d = read_workbook(path)  # opens, validates
        for code in original.prices:
            assert d.prices[code].equals(original.prices[code])
        wb = load_workbook(path)
        assert wb["Notes"]["B3"].value == "=A3*2"
    assert killed == 20, f"only {killed} of {attempts} runs were killed mid-way ({full:.1f}s)"
    # the next refresh takes over the dead runs' lock and sweeps their temporary files
    assert main(["refresh", str(path), "--quiet"]) in (0, 1)
    assert [f.name for f in path.parent.iterdir() if f.name.startswith(".~gamma-")] == []


def test_bloomberg_formula_inputs_keep_their_cached_values_across_refreshes(tmp_path):
    path = wf.build(tmp_path / "bbg.xlsx")
    wf.inject_formula(path, "xl/worksheets/sheet2.xml", "B11", 'BDH("SPX Index","PX_LAST")')
    before = read_workbook(path).raw_prices["EQ1"]
    for _ in range(2):  # the second refresh reads what the first one saved
        assert run("refresh", path) in (0, 1)
    assert load_workbook(path)["Prices"]["B11"].value == '=BDH("SPX Index","PX_LAST")'
    after = read_workbook(path).raw_prices["EQ1"]
    assert after.equals(before)


def test_refused_while_another_refresh_runs(workbook, capsys):
    lock = workbook.with_name(f".~gamma-{workbook.name}.lock")
    lock.write_text(str(os.getppid()))  # a live process holds it
    before = digest(workbook)
    assert run("refresh", workbook) == 2
    assert digest(workbook) == before
    assert "another refresh" in capsys.readouterr().err
    lock.write_text("999999999")  # a dead owner: taken over
    assert run("refresh", workbook) in (0, 1)
    assert not lock.exists()


def test_refresh_keeps_file_permissions_and_reuses_stored_fits(workbook):
    os.chmod(workbook, 0o664)
    assert run("refresh", workbook) in (0, 1)
    assert (workbook.stat().st_mode & 0o777) == 0o664
    store = workbook.with_name(f".{workbook.stem}.gamma-fits.json")
    assert store.exists() and store.stat().st_size > 2


def test_unreadable_and_hostile_files_are_refused_cleanly(tmp_path, capsys):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("Date,Price\n2020-01-31,100\n")  # a CSV renamed .xlsx
    assert run("refresh", fake) == 2 and run("check", fake) == 2
    assert "fake.xlsx is not an .xlsx workbook (not a zip package" in capsys.readouterr().err
    # billion laughs in a sheet: refused before any XML parser expands it
    path = wf.build(tmp_path / "bomb.xlsx")
    z = zipfile.ZipFile(path)
    parts = {n: z.read(n) for n in z.namelist()}
    z.close()
    ents = "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l0 "lol">{ents}]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c></row>'
            '</sheetData></worksheet>')
    parts["xl/worksheets/sheet1.xml"] = bomb.encode()  # the Instruments sheet
    with zipfile.ZipFile(path, "w") as out:
        for n, b in parts.items():
            out.writestr(n, b)
    before = digest(path)
    capsys.readouterr()
    assert run("refresh", path) == 2
    assert digest(path) == before
    assert "possible XML bomb" in capsys.readouterr().err


def test_a_workbook_refreshed_by_the_previous_version_is_taken_over(tmp_path):
    """The demo as 0.1.0 left it after refreshing November 1998 (openpyxl wrote it): its
    engine sheets and the areas stored in it are taken over, nothing doubled, History kept."""
    src = ROOT / "tests" / "data" / "demo_1998-11_refreshed_by_0.1.0.xlsx"
    path = tmp_path / "demo.xlsx"
    shutil.copyfile(src, path)
    with zipfile.ZipFile(src) as z:
        before = {n: z.read(n) for n in z.namelist()}
    res = refresh(path, asof="1998-12-31")
    assert res.exit_code in (0, 1)
    wb = load_workbook(path)
    was = [s for s in load_workbook(src).sheetnames if s in ENGINE_SHEETS]
    now = [s for s in wb.sheetnames if s in ENGINE_SHEETS]
    assert [s for s in now if s in was] == was  # each taken over in place ...
    assert len(now) == len(set(now))  # ... none added twice
    assert "Commentary" in set(now) - set(was)  # a sheet 0.1.0 did not have is added
    names = [t for ws in wb.worksheets for t in ws.tables]
    assert len(names) == len({n.casefold() for n in names})
    charts = wb["Charts"]
    assert len({(c.anchor._from.row, c.anchor._from.col) for c in charts._charts}) == \
        len(charts._charts)  # the old charts replaced, not stacked under the new ones
    hist = read_workbook(path).history
    assert {str(d)[:7] for d in hist["As Of"].unique()} == {"1998-11", "1998-12"}
    with zipfile.ZipFile(path) as z:
        for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/theme/theme1.xml"):
            assert z.read(name) == before[name]  # the user's input sheets, untouched


def test_a_refresh_leaves_nothing_in_tmpdir_and_nothing_beside_the_workbook(tmp_path):
    (tmp_path / "book").mkdir()
    path = wf.build(tmp_path / "book" / "monthly.xlsx")
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmpdir), "TEMP": str(tmpdir),
           "TMP": str(tmpdir), "MPLCONFIGDIR": str(tmp_path / "mpl")}
    r = subprocess.run([sys.executable, "-m", "engine.cli", "refresh", str(path), "-q"],
                       env=env, capture_output=True)
    assert r.returncode in (0, 1), r.stderr.decode()[-2000:]
    assert list(tmpdir.iterdir()) == []
    assert sorted(f.name for f in path.parent.iterdir()) == \
        [".monthly.gamma-fits.json", "monthly.bak.xlsx", "monthly.xlsx"]


def test_ctrl_c_ends_with_one_line_and_the_workbook_untouched(tmp_path):
    path = wf.build(tmp_path / "monthly.xlsx")
    before = digest(path)
    p = subprocess.Popen([sys.executable, "-m", "engine.cli", "refresh", str(path)],
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    # wait for the refresh to be under way (its first progress line), then press Ctrl-C
    first = p.stderr.readline()
    assert "checking the workbook" in first or first.startswith("[")
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "gamma refresh: interrupted; nothing written"
    assert digest(path) == before


def test_a_read_only_workbook_is_refused_by_name(tmp_path, capsys):
    path = wf.build(tmp_path / "monthly.xlsx")
    os.chmod(path, 0o444)
    before = digest(path)
    assert run("refresh", path) == 2
    assert "monthly.xlsx is read-only: nothing written" in capsys.readouterr().err
    assert digest(path) == before


def test_a_symlinked_workbook_is_refreshed_through_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = wf.build(tmp_path / "real" / "monthly.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(target)
    assert run("refresh", link) in (0, 1)
    assert link.is_symlink() and Path(os.readlink(link)) == target
    assert (tmp_path / "real" / "monthly.bak.xlsx").exists()
    assert "Data Status" in load_workbook(link).sheetnames
