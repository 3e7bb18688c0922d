"""`gamma demo` end to end: the committed demo is copied and refreshed, every engine sheet is
written, LibreOffice opens the result and renders it without `###` cells, and nothing
in-house reaches the engine sheets or the client PDFs."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine.cli import demo_workbook, main
from engine.tables.base import ENGINE_SHEETS, FETCHED_SHEETS

ROOT = Path(__file__).resolve().parent.parent


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed: .ci/run installs it (scripts/install-sysdeps.sh)")
        pytest.skip(f"{tool} not installed (make sysdeps)")
    return path


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    committed = demo_workbook()
    before = hashlib.sha256(committed.read_bytes()).hexdigest()
    code = main(["demo", "--out", str(out), "--quiet"])  # with its PDFs, from the same refresh
    assert code in (0, 1)
    assert hashlib.sha256(committed.read_bytes()).hexdigest() == before  # never changed
    return out / "demo.xlsx"


def test_every_engine_sheet_is_written(refreshed):
    wb = load_workbook(refreshed)
    refreshed = [s for s in ENGINE_SHEETS if s not in FETCHED_SHEETS]  # gamma fetch's own
    missing = [s for s in refreshed if s not in wb.sheetnames]
    assert not missing, f"engine sheets not written: {missing}"
    for s in refreshed:
        if s != "Charts":
            assert wb[s].tables, f"{s} has no Excel table"
    assert wb["Charts"]._charts, "no charts on the Charts sheet"


def test_libreoffice_opens_and_renders_the_refreshed_demo(refreshed, tmp_path):
    soffice = need("soffice")
    pdftotext = need("pdftotext")
    view = tmp_path / "engine-sheets.xlsx"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "engine_view.py"), str(refreshed),
                    str(view)], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                   capture_output=True)
    for src in (refreshed, view):
        r = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir",
                            str(tmp_path), str(src)], capture_output=True, text=True,
                           timeout=300)
        pdf = tmp_path / (src.stem + ".pdf")
        assert r.returncode == 0 and pdf.exists() and pdf.stat().st_size > 10_000, r.stderr
    text = subprocess.run([pdftotext, "-layout", str(tmp_path / "engine-sheets.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Stock Index" in text and "Data status as of" in text
    assert "###" not in text, "a column too narrow for its numbers"


def test_excel_tables_are_valid_for_excel(refreshed):
    """What makes Excel 'repair' a file openpyxl wrote: table headers that are not unique
    non-empty text, table names that clash or are invalid, tables that overlap."""
    import re

    from openpyxl.utils import range_boundaries

    wb = load_workbook(refreshed)
    names: set[str] = set()
    for ws in wb.worksheets:
        boxes = []
        for table in ws.tables.values():
            name = table.name
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,254}", name), name
            assert name.casefold() not in names, f"table name {name} used twice"
            names.add(name.casefold())
            c1, r1, c2, r2 = range_boundaries(table.ref)
            assert r2 > r1, f"{ws.title}!{table.ref}: a table needs a data row"
            headers = [ws.cell(row=r1, column=c).value for c in range(c1, c2 + 1)]
            assert all(isinstance(h, str) and h.strip() for h in headers), (ws.title, headers)
            assert len({h.casefold() for h in headers}) == len(headers), (ws.title, headers)
            for b in boxes:
                assert c2 < b[0] or c1 > b[2] or r2 < b[1] or r1 > b[3], \
                    f"{ws.title}: table {name} overlaps another"
            boxes.append((c1, r1, c2, r2))
    assert names & {n.casefold() for n in wb.defined_names} == set()


def test_no_in_house_words_in_engine_sheets_or_client_pdfs(refreshed):
    """Nothing of the workshop reaches a client: no in-house word (seed, fixture, debug, not
    used, …) in any engine sheet cell or in any page of the demo's PDFs; every PDF font
    embedded; the report named for its As Of month."""
    from test_pdf_compliance import fonts, in_house

    wb = load_workbook(refreshed)
    for s in ENGINE_SHEETS:
        if s in FETCHED_SHEETS:  # written by gamma fetch, not by a refresh
            continue
        for row in wb[s].iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    assert in_house(v) == [], (s, v)
    pdftotext = need("pdftotext")
    out = refreshed.parent
    pdfs = sorted(out.glob("*.pdf")) + sorted(out.glob("factsheets/*.pdf"))
    assert [p.name for p in out.glob("*.pdf")] == [
        "Macro-Intelligence-Report-1998-12.pdf"]
    assert len(pdfs) >= 2
    for p in pdfs:
        text = subprocess.run([pdftotext, str(p), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert in_house(text) == [], p.name
        assert all(emb == "yes" for _, emb in fonts(p)), p.name
