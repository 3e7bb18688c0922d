"""The ECMA-376 schema validator (tests/ooxml_schema.py) accepts what Excel saves and rejects
what Excel repairs.

Real workbooks come from the shared corpus (``$GAMMA_CORPUS``, default /work/shared/corpus); the
tests that need it skip when it is absent.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest

ooxml_schema = pytest.importorskip("ooxml_schema")  # skips the module when lxml is missing
from ooxml_schema import PARTS, preprocess, schema, validate  # noqa: E402

etree = pytest.importorskip("lxml.etree")

CORPUS = Path(os.environ.get("GAMMA_CORPUS", "/work/shared/corpus"))

PART_PATTERNS = [
    (re.compile(r"^xl/worksheets/sheet\d+\.xml$"), "worksheet"),
    (re.compile(r"^xl/tables/table\d+\.xml$"), "table"),
    (re.compile(r"^xl/drawings/drawing\d+\.xml$"), "drawing"),
    (re.compile(r"^xl/charts/chart\d+\.xml$"), "chart"),
    (re.compile(r"^xl/styles\.xml$"), "styles"),
]

# Saved by Excel (XlsxWriter's comparison files): charts, drawings, tables, styles.
XLSXWRITER = [
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__chart_scatter12.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__chart_bar18.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__chart_axis35.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__chart_data_labels44.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__table04.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__table17.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__table39.xlsx",
    "xlsxwriter/xlsxwriter__test__comparison__xlsx_files__embed_image02.xlsx",  # mc:Ignorable
]
# Saved by Excel 2016+ (Windows/Mac): mc:Ignorable x14ac/xr/xr2/xr3 attributes everywhere and
# mc:AlternateContent in a chart (c14:style) and in drawings (a14 shapes, form controls).
MODERN_EXCEL = [
    "calamine/tests__any_sheets.xlsx",
    "calamine/tests__temperature-table.xlsx",
    "closedxml/ClosedXML.Tests__Resource__TryToLoad__AllShapes.xlsx",
]


def corpus_parts(rel: str) -> list[tuple[str, str, bytes]]:
    path = CORPUS / rel
    if not path.is_file():
        pytest.skip(f"corpus file not available: {path}")
    out = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            for pattern, part in PART_PATTERNS:
                if pattern.match(name):
                    out.append((name, part, z.read(name)))
    return out


def _short(rel: str) -> str:
    return rel.rsplit("__", 1)[-1]


@pytest.mark.parametrize("rel", XLSXWRITER + MODERN_EXCEL, ids=_short)
def test_excel_saved_parts_are_valid(rel):
    parts = corpus_parts(rel)
    assert parts, f"{rel}: no worksheet/table/drawing/chart/styles part found"
    failures = {f"{name} ({part})": errs for name, part, data in parts if (errs := validate(data, part))}
    assert not failures, failures


def test_corpus_selection_covers_every_part_kind():
    kinds = set()
    for rel in XLSXWRITER + MODERN_EXCEL:
        kinds |= {part for _, part, _ in corpus_parts(rel)}
    assert kinds == set(PARTS)


def test_markup_compatibility_processing_is_what_makes_modern_excel_valid():
    """Without MC processing the 2016 schemas reject Excel's own x14ac:dyDescent etc."""
    raw_failures, processed_failures = [], []
    for rel in MODERN_EXCEL:
        for name, part, data in corpus_parts(rel):
            xsd = schema(PARTS[part][0])
            if not xsd.validate(etree.fromstring(data)):
                raw_failures.append((rel, name, xsd.error_log.last_error.message))
            if validate(data, part):
                processed_failures.append((rel, name))
    assert raw_failures, "expected Excel 2016+ files to carry ignorable/alternate content"
    assert not processed_failures
    messages = " ".join(m for _, _, m in raw_failures)
    assert "AlternateContent" in messages or "dyDescent" in messages or "uid" in messages


# --- the scatter chart bug (openpyxl writes <c:scatterChart> without <c:scatterStyle>) -------


def _excel_scatter_chart() -> bytes:
    [(_, _, data)] = [p for p in corpus_parts(XLSXWRITER[0]) if p[1] == "chart"]
    return data


def test_excel_scatter_chart_is_valid():
    assert validate(_excel_scatter_chart(), "chart") == []


def test_scatter_chart_without_scatter_style_is_invalid():
    data = _excel_scatter_chart()
    broken, n = re.subn(rb"<c:scatterStyle [^>]*/>", b"", data)
    assert n == 1
    errors = validate(broken, "chart")
    assert errors, "a scatterChart without scatterStyle must be reported"
    assert any("scatterStyle" in e for e in errors), errors


def test_openpyxl_scatter_chart_is_reported():
    """Pins the bug the refresh has today: openpyxl omits the required <c:scatterStyle>."""
    openpyxl = pytest.importorskip("openpyxl")
    from openpyxl.chart import Reference, ScatterChart, Series

    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(1, 6):
        ws.append([i, i * i])
    chart = ScatterChart()
    chart.series.append(Series(Reference(ws, min_col=2, min_row=1, max_row=5),
                               Reference(ws, min_col=1, min_row=1, max_row=5)))
    ws.add_chart(chart, "D2")
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        xml = z.read("xl/charts/chart1.xml")
        assert validate(z.read("xl/worksheets/sheet1.xml"), "worksheet") == []
        assert validate(z.read("xl/drawings/drawing1.xml"), "drawing") == []
    if b"scatterStyle" in xml:
        pytest.skip("this openpyxl writes scatterStyle: bug fixed upstream")
    errors = validate(xml, "chart")
    assert any("scatterStyle" in e for e in errors), errors


# --- helper behaviour ---------------------------------------------------------------------

SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _sheet(body: str, root_attrs: str = "") -> bytes:
    return (f'<worksheet xmlns="{SML}" {root_attrs}><sheetData>{body}</sheetData></worksheet>').encode()


def test_minimal_worksheet_is_valid():
    assert validate(_sheet('<row r="1"><c r="A1"><v>1</v></c></row>'), "worksheet") == []


def test_structural_errors_are_reported():
    errors = validate(_sheet('<row r="1"><c r="A1" t="bogus"><v>1</v></c></row>'), "worksheet")
    assert len(errors) == 1 and "bogus" in errors[0] and errors[0].startswith("line 1 ")


def test_ignorable_namespace_content_is_dropped_but_unknown_namespaces_are_not():
    ns = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" ' \
         'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    row = '<row r="1" x14ac:dyDescent="0.25"><c r="A1"><v>1</v></c></row>'
    assert validate(_sheet(row, ns + ' mc:Ignorable="x14ac"'), "worksheet") == []
    errors = validate(_sheet(row, ns), "worksheet")  # same content, not declared ignorable
    assert errors and "dyDescent" in errors[0]


def test_alternate_content_takes_fallback_when_choice_is_not_understood():
    c14 = "http://schemas.microsoft.com/office/drawing/2007/8/2/chart"
    chart = _excel_scatter_chart().replace(
        b"<c:chart>",
        b'<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        b'<mc:Choice Requires="c14" xmlns:c14="' + c14.encode() + b'"><c14:style val="102"/></mc:Choice>'
        b'<mc:Fallback><c:style val="2"/></mc:Fallback></mc:AlternateContent><c:chart>',
        1,
    )
    root = etree.fromstring(chart)
    assert preprocess(root) == []
    style = root.find("{http://schemas.openxmlformats.org/drawingml/2006/chart}style")
    assert style is not None and style.get("val") == "2"
    assert validate(chart, "chart") == []
    # Left unprocessed, the schema rejects the mc: wrapper.
    assert not schema("dml-chart.xsd").validate(etree.fromstring(chart))


def test_xml_space_is_tolerated_by_default_and_reported_on_request():
    row = '<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c></row>'
    assert validate(_sheet(row), "worksheet") == []
    errors = validate(_sheet(row), "worksheet", allow_xml_space=False)
    assert errors and "space" in errors[0]


def test_wrong_root_and_bad_xml_and_unknown_part():
    assert "expected" in validate(_sheet(""), "chart")[0]
    assert validate(b"<worksheet", "worksheet")[0].startswith("not well-formed")
    with pytest.raises(ValueError):
        validate(_sheet(""), "sharedStrings")


def test_schemas_compile_offline_from_local_files():
    for filename, _ in PARTS.values():
        assert schema(filename) is schema(filename)  # compiled once, cached
