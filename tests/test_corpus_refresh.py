"""Refreshing real workbooks: the corpus (tests/corpus, saved by Excel, LibreOffice and
others), each given the demo's input sheets by zip surgery (tests/corpus_inputs.py).

For every valid workbook: ``gamma refresh`` exits 0 or 1; every original part is
byte-identical afterwards, and the parts the engine shares with the user only grew — both
checked here with this file's own code, not the guard's; the refreshed file refreshes a
second time to the same bytes; LibreOffice opens a sample. All files carry the same inputs,
so the tables are built once and spliced into each file. The default run takes a spread
of the corpus; the whole corpus is marked ``slow`` (``make test-slow``, run by CI).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from functools import lru_cache
from pathlib import Path

import pytest

from corpus_inputs import CORPUS, SheetNameClash, add_inputs, classify, corpus_files
from engine.inputs.reader import read_workbook
from engine.refresh import Refused, build_contents, refresh
from engine.xlsx.cells import Workbook
from engine.xlsx.package import Package

FILES = [p for p in corpus_files() if classify(p) is None]
IDS = [p.relative_to(CORPUS).as_posix() for p in FILES]
DAMAGED = [p for p in corpus_files() if classify(p) is not None]
# a spread for the default run: every kind of producer, strict, xlsm, charts, pivots
QUICK = {
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__chart_scatter12.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__chartsheet01.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__comment12.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__embed_image02.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__header_image01.xlsx",
    "calamine/tests__strict_iso_paths.xlsx", "calamine/tests__date_1904.xlsx",
    "calamine/tests__issue_530.xlsx", "calamine/tests__nonstandard-xml-ns-prefix.xlsx",
    "calamine/tests__pivots.xlsx", "sheetjs/sheet_visibility_strict.xlsx",
    "sheetjs/pivot_table_test.xlsm", "sheetjs/threaded_comments_none.xlsx",
    "closedxml/ClosedXML.Tests__Resource__Other__Charts__PreserveCharts__outputfile.xlsx",
    "closedxml/ClosedXML.Tests__Resource__TryToLoad__EmptyStyles.xlsx",
}
assert QUICK <= set(IDS), sorted(QUICK - set(IDS))
SHARED = re.compile(r"(^|/)(workbook\d*\.xml|_rels/[^/]*\.rels|\[Content_Types\]\.xml|"
                    r"styles\.xml|custom\.xml|app\.xml|calcChain\.xml)$", re.I)


@lru_cache(maxsize=None)
def _built(asof: str):
    """The demo's tables, built once (every corpus file carries the demo's inputs)."""
    demo = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"
    contents, ctx = build_contents(read_workbook(demo, asof=asof))
    return contents, dict(ctx.failures)


def _build(data, store):
    contents, failures = _built(f"{data.asof:%Y-%m-%d}")
    return contents, dict(failures)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


_TOKEN = re.compile(rb"<[^>]*>|[^<]+")
_COUNT = re.compile(rb'\s(count|size)="\d+"')


def _tokens(xml: bytes) -> list[bytes]:
    out = []
    for t in _TOKEN.findall(xml):
        if t.startswith(b"<"):
            t = _COUNT.sub(b"", t)
            if t.endswith(b"/>") and not t.startswith(b"<?"):  # <a/> is <a></a>
                name = re.match(rb"<([^\s/>]+)", t).group(1)
                out += [t[:-2].rstrip() + b">", b"</" + name + b">"]
            else:
                out.append(t)
        elif t.strip():
            out.append(b"#" if t.strip().isdigit() else t)  # a count in app.xml grows
    return out


def _only_grew(before: bytes, after: bytes) -> bool:
    """Every tag and text of ``before`` is in ``after``, in order (counts may change)."""
    it = iter(_tokens(after))
    return all(any(t == u for u in it) for t in _tokens(before))


def _with_inputs(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    try:
        add_inputs(src, dst)
    except SheetNameClash:
        pytest.skip("the workbook already has a sheet named like an input sheet")
    return dst


def _structure_locked(path: Path) -> bool:
    with Package(path) as pkg:
        return Workbook(pkg).lock_structure


def _check_file(src: Path, tmp_path: Path) -> None:
    book = _with_inputs(src, tmp_path)
    before, original = _parts(book), book.read_bytes()
    if _structure_locked(book):  # Review > Protect Workbook: no sheet may be added
        with pytest.raises(Refused, match="protected workbook structure"):
            refresh(book, build=_build)
        assert book.read_bytes() == original
        return
    res = refresh(book, build=_build)
    assert res.exit_code in (0, 1)
    after = _parts(book)
    for name, data in before.items():
        assert name in after, f"{name} lost"
        if SHARED.search(name.replace("\\", "/")):
            assert _only_grew(data, after[name]), f"{name} changed beyond the engine's entries"
        else:
            assert after[name] == data, f"{name} changed"
    assert res.backup.read_bytes() == original
    data = read_workbook(book)  # the engine reads its own output back
    assert "Data Status" in [s for s in res.sheets]
    assert data.asof == res.asof
    first = book.read_bytes()
    refresh(book, build=_build)
    assert book.read_bytes() == first, "a second refresh wrote different bytes"


@pytest.mark.parametrize("src", [p for p, i in zip(FILES, IDS) if i in QUICK],
                         ids=[i for i in IDS if i in QUICK])
def test_corpus_spread(src, tmp_path):
    _check_file(src, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("src", FILES, ids=IDS)
def test_whole_corpus(src, tmp_path):
    _check_file(src, tmp_path)


@pytest.mark.parametrize("src", DAMAGED, ids=[p.name for p in DAMAGED])
def test_damaged_files_are_refused_byte_identical(src, tmp_path):
    book = tmp_path / src.name
    shutil.copyfile(src, book)
    with pytest.raises(Refused) as e:
        refresh(book, build=_build)
    assert "damaged" in str(e.value) and book.read_bytes() == src.read_bytes()


def _libreoffice_opens(book: Path, out: Path) -> bool:
    out.mkdir()
    r = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{out}/profile",
                        "--convert-to", "csv", "--outdir", str(out), str(book)],
                       capture_output=True, timeout=180)
    return r.returncode == 0 and any(out.glob("*.csv"))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
@pytest.mark.parametrize("src", FILES[::29], ids=IDS[::29])
def test_libreoffice_opens_refreshed_corpus_files(src, tmp_path):
    book = _with_inputs(src, tmp_path)
    refresh(book, build=_build)
    assert _libreoffice_opens(book, tmp_path / "lo")
