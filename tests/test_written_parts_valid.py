"""Every part the refresh writes is valid against the ECMA-376 Transitional schemas: the
demo's engine sheets (tables, drawings, native charts), the styles part after the engine
appended its formats, and the same in real workbooks saved by Excel with their own content
on the engine's drawing (tests/corpus)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from ooxml_schema import validate  # skips without lxml

from engine.refresh import refresh

ROOT = Path(__file__).resolve().parent.parent
KIND = {"worksheet+xml": "worksheet", "table+xml": "table", "drawing+xml": "drawing",
        "drawingml.chart+xml": "chart", "styles+xml": "styles"}


def _types(z: zipfile.ZipFile) -> dict[str, str]:
    import xml.etree.ElementTree as ET
    root = ET.fromstring(z.read("[Content_Types].xml"))
    out = {}
    for el in root:
        if el.get("PartName"):
            out[el.get("PartName").lstrip("/")] = el.get("ContentType", "")
    return out


def _written_parts(before: Path, after: Path) -> dict[str, tuple[str, bytes]]:
    """The parts ``after`` holds that are new or changed, with their schema kind."""
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        old = {i.filename: a.read(i) for i in a.infolist()}
        types = _types(b)
        out = {}
        for name in b.namelist():
            data = b.read(name)
            if old.get(name) == data:
                continue
            kind = next((k for suffix, k in KIND.items() if types.get(name, "").endswith(suffix)),
                        None)
            if kind:
                out[name] = (kind, data)
        return out


@pytest.fixture(scope="module")
def refreshed_demo(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("demo")
    book = d / "demo.xlsx"
    shutil.copyfile(ROOT / "workbooks" / "demo.xlsx", book)
    refresh(book)
    return ROOT / "workbooks" / "demo.xlsx", book


def test_every_part_written_into_the_demo_is_schema_valid(refreshed_demo):
    parts = _written_parts(*refreshed_demo)
    kinds = {k for k, _ in parts.values()}
    assert kinds == {"worksheet", "table", "drawing", "chart", "styles"}
    assert sum(k == "chart" for k, _ in parts.values()) >= 20
    bad = {name: validate(data, kind)[:3] for name, (kind, data) in parts.items()
           if validate(data, kind)}
    assert bad == {}


def test_charts_are_scatter_charts_bounded_by_their_dates(refreshed_demo):
    """Today's defects stay fixed: every chart has its scatterStyle, and a date axis runs
    from the first to the last date of the data, not to 2004 on a 1998 workbook."""
    import xml.etree.ElementTree as ET
    c = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
    _, book = refreshed_demo
    with zipfile.ZipFile(book) as z:
        charts = [ET.fromstring(z.read(n)) for n in z.namelist()
                  if n.startswith("xl/charts/chart")]
    assert charts
    last_1998 = 36160  # 1998-12-31 as an Excel serial (1900 system)
    for ch in charts:
        assert ch.find(f".//{c}scatterChart/{c}scatterStyle") is not None
        x_axis = ch.findall(f".//{c}valAx")[0]
        fmt = x_axis.find(f"{c}numFmt").get("formatCode")
        if fmt == "yyyy":
            hi = float(x_axis.find(f"{c}scaling/{c}max").get("val"))
            assert hi <= last_1998, "a date axis runs beyond the data"


CORPUS = ROOT / "tests" / "corpus"


@pytest.mark.parametrize("name", [
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__chart_scatter12.xlsx",
    "closedxml/ClosedXML.Tests__Resource__Other__Charts__PreserveCharts__outputfile.xlsx",
    "calamine/tests__nonstandard-xml-ns-prefix.xlsx",
])
def test_parts_written_into_real_workbooks_are_schema_valid(name, tmp_path):
    from corpus_inputs import add_inputs
    from test_corpus_refresh import _build
    src = CORPUS / name
    book = tmp_path / src.name
    add_inputs(src, book)
    before = tmp_path / "before.xlsx"
    shutil.copyfile(book, before)
    refresh(book, build=_build)
    parts = _written_parts(before, book)
    assert {k for k, _ in parts.values()} >= {"worksheet", "table", "chart"}
    bad = {n: validate(d, k)[:3] for n, (k, d) in parts.items() if validate(d, k)}
    assert bad == {}
