"""Malformed inputs, table-driven: dates in every form Excel gives them, Settings, damaged
files, follow-on messages, text in numbers, merged cells, Excel tables, hidden rows, 1904
dates, unicode codes, 100,000 rows, protected structure, a value beyond the last header, an
empty Fair Value Input column (issue 14, items 1, 4 and 5).

Each case builds a workbook (``tests/workbook_factory.py``, then openpyxl edits or zip
surgery), runs ``gamma check`` and ``gamma refresh`` through the CLI and asserts the exit
code, the message with its cell (or argument), that no traceback reaches the user, and that
a refused refresh (exit 2) leaves the file byte-identical. Cases that refresh (exit 0) only
check that the refresh ran; what it computed is the other suites' business."""

from __future__ import annotations

import datetime as dt
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904, from_excel
from openpyxl.worksheet.table import Table

import workbook_factory as wf
from addin.convert import ExcelArgError, to_date
from engine.cli import main
from engine.inputs.dates import DateError, read_date
from engine.inputs.reader import read_workbook

Make = Callable[[Path], Path]


# --- how a case builds its workbook ----------------------------------------------------------

def edit(fn: Callable) -> Make:
    """The factory workbook after ``fn(wb)`` (an openpyxl edit)."""
    return lambda folder: wf.build(folder / "w.xlsx", mutate=fn)


def cells(**values) -> Make:
    """The factory workbook with cells set: ``cells(Prices_B5="n/a")``; a number goes into
    a General cell, as a pasted number arrives (in a date-formatted cell Excel itself would
    show it as a date)."""
    def fn(wb):
        for key, v in values.items():
            sheet, ref = key.rsplit("_", 1)
            cell = wb[sheet][ref]
            cell.value = v(cell.value) if callable(v) else v
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = "General"
    return edit(fn)


DEMO = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"


def from_demo(folder: Path) -> Path:
    path = folder / "w.xlsx"
    path.write_bytes(DEMO.read_bytes())
    return path


def surgery(fn: Callable[[dict[str, bytes]], None], source: Make | None = None) -> Make:
    """The factory workbook (or ``source``'s) re-zipped after ``fn(parts)`` edits its parts'
    bytes."""
    def make(folder):
        path = (source or (lambda f: wf.build(f / "w.xlsx")))(folder)
        with zipfile.ZipFile(path) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        fn(parts)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for n, b in parts.items():
                z.writestr(n, b)
        return path
    return make


def raw_bytes(fn: Callable[[bytearray, zipfile.ZipInfo, int], None],
              part: str = "xl/worksheets/sheet2.xml") -> Make:
    """The factory workbook with the stored bytes edited: ``fn(data, info, start)`` gets
    the file, the part's entry and the offset of its compressed data."""
    def make(folder):
        path = wf.build(folder / "w.xlsx")
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as z:
            info = z.getinfo(part)
        n, m = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
        fn(data, info, info.header_offset + 30 + n + m)
        path.write_bytes(bytes(data))
        return path
    return make


def reserved_block_type(data, info, start):
    # BTYPE 11 in the first deflate block header is reserved: every inflater rejects it
    data[start] |= 0b110


def wrong_crc(data, info, start):
    # the CRC off by one in the local header and in the central directory: the data inflate,
    # their checksum does not match
    bad = struct.pack("<I", (info.CRC + 1) & 0xFFFFFFFF)
    data[info.header_offset + 14:info.header_offset + 18] = bad
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        name_len = struct.unpack("<H", data[i + 28:i + 30])[0]
        if data[i + 46:i + 46 + name_len] == info.filename.encode():
            data[i + 16:i + 20] = bad
        i = data.find(b"PK\x01\x02", i + 4)


def truncate(folder):
    path = wf.build(folder / "w.xlsx")
    path.write_bytes(path.read_bytes()[:5000])
    return path


def encrypted(folder):
    path = folder / "w.xlsx"  # what Excel writes for a password: an OLE compound file
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    return path


def sheet_xml(sheet: str, old: str, new: str, part: str | None = None
              ) -> Callable[[dict[str, bytes]], None]:
    part = part or f"xl/worksheets/sheet{wf_sheet_number(sheet)}.xml"

    def fn(parts):
        xml = parts[part].decode()
        assert old in xml, f"{old!r} not in {part}"
        parts[part] = xml.replace(old, new, 1).encode()
    return fn


def wf_sheet_number(sheet: str) -> int:
    """The worksheet part number of a sheet, in the factory's and the demo's order."""
    return ["Instruments", "Prices", "Fundamentals", "Returns", "Series", "Income", "Macro",
            "Settings", "Sources"].index(sheet) + 1


def _demo_as_of_cell() -> str:
    """Settings!B2 of the demo as written: a date cell (its style index is the builder's)."""
    import re
    from engine.cli import demo_workbook
    with zipfile.ZipFile(demo_workbook()) as z:
        xml = z.read(f"xl/worksheets/sheet{wf_sheet_number('Settings')}.xml").decode()
    return re.search(r'<c r="B2" s="\d+" t="n"><v>36160</v></c>', xml).group(0)


DEMO_AS_OF = _demo_as_of_cell()  # Settings!B2, a date cell


def general(wb, sheet: str, ref: str, value) -> None:
    wb[sheet][ref] = value
    wb[sheet][ref].number_format = "General"


def epoch1904(wb):
    wb.epoch = CALENDAR_MAC_1904  # openpyxl writes the date cells and the flag in 1904


def serial_of(d: dt.datetime, date1904: bool = False) -> int:
    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    return (d - base).days  # from 1900-03-01 on the 1900 count needs no phantom-day step


def iso(v):
    return v.strftime("%Y-%m-%d")


def drop_settings_row(key: str):
    def fn(wb):
        ws = wb["Settings"]
        for row in ws.iter_rows(min_row=2):
            if row[0].value == key:
                ws.delete_rows(row[0].row)
                return
    return fn


def clear_column(sheet: str, col: str):
    def fn(wb):
        ws = wb[sheet]
        for r in range(2, ws.max_row + 1):
            ws[f"{col}{r}"] = None
    return fn


def as_table(wb):
    ws = wb["Prices"]
    ws.add_table(Table(displayName="PricesTable", ref=f"A1:E{ws.max_row}"))


def hide_rows(wb):
    for r in (10, 11, 12):
        wb["Prices"].row_dimensions[r].hidden = True
    wb["Fundamentals"].sheet_state = "hidden"


def merge_header(wb):
    wb["Prices"].merge_cells("B1:C1")  # openpyxl, as Excel, keeps only B1's value


def unicode_code(code: str, in_prices: str | None = None):
    def fn(wb):
        wb["Instruments"]["A2"] = code
        wb["Prices"]["B1"] = in_prices if in_prices is not None else code
    return fn


def lock_structure(wb):
    wb.security.lockStructure = True


def rows_100k(folder):
    """Prices as 100,000 daily rows (1747 … 2020): one instrument, the others dropped."""
    def fn(wb):
        for name in ("Prices", "Fundamentals"):
            wb.remove(wb[name])
        ins = wb["Instruments"]
        ins.delete_rows(3, 3)
        ins["H2"] = None
        ps = wb.create_sheet("Prices")
        ps.append(["Date", "EQ1"])
        # business days ending at the as-of date; 100,000 of them start in the 17th century,
        # which Excel cannot store as a date: typed as ISO text, as a CSV paste gives them
        days = pd.bdate_range(end="2020-12-31", periods=100_000)
        level = 100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, len(days))))
        for d, x in zip(days.strftime("%Y-%m-%d"), np.round(level, 4)):
            ps.append([d, float(x)])
    return wf.build(folder / "w.xlsx", mutate=fn)


# --- the cases -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    id: str
    make: Make
    code: int                 # exit code of gamma check
    says: str                 # text the output holds (the message with its cell)
    absent: tuple[str, ...] = ()  # text it must not hold (follow-on messages)
    args: tuple[str, ...] = ()
    refresh: int | None = None  # exit code of gamma refresh (default: as check)
    run_refresh: bool = True    # False: check only (the refresh's speed is the bench's)


A10_SERIAL = lambda v: serial_of(v)  # noqa: E731 - a date cell retyped as its serial number

CASES = [
    # dates in all forms
    Case("date cells", edit(lambda wb: None), 0,
         "inputs valid — 4 instruments, as of 2020-12-31"),
    Case("As Of serial in a General cell", cells(Settings_B2=44196), 0, "as of 2020-12-31"),
    Case("As Of serial in a 1904 workbook", edit(lambda wb: (epoch1904(wb), general(
         wb, "Settings", "B2", 42734))), 0, "as of 2020-12-31"),
    Case("As Of ISO text", cells(Settings_B2="2020-12-31"), 0, "as of 2020-12-31"),
    Case("As Of ISO text with a time", cells(Settings_B2="2020-12-31T00:00:00"), 0,
         "as of 2020-12-31"),
    Case("As Of a month as text", cells(Settings_B2="2020-06"), 0,
         "Settings!B2: warning: As Of month 2020-06 taken as 2020-06-30, its last day"),
    Case("--asof a month", edit(lambda wb: None), 0,
         "--asof: warning: As Of month 2020-06 taken as 2020-06-30", args=("--asof", "2020-06")),
    Case("--asof today", edit(lambda wb: None), 2,
         '--asof: As Of: text "today" where a date is expected', ("Settings!B2",),
         args=("--asof", "today")),
    Case("--asof beyond the data", edit(lambda wb: None), 2,
         "--asof: As Of 2030-01-31 is beyond the data", ("Settings!B2",),
         args=("--asof", "2030-01-31")),
    Case("As Of a year number", cells(Settings_B2=2020), 2,
         "Settings!B2: As Of: 2020 looks like a year, not a date"),
    Case("As Of yyyymmdd", cells(Settings_B2=20201231), 2,
         "Settings!B2: As Of: 20201231 looks like yyyymmdd, not an Excel date"),
    Case("As Of negative serial", cells(Settings_B2=-5), 2,
         "Settings!B2: As Of: -5 is not an Excel date serial"),
    Case("As Of Excel error", cells(Settings_B2="#N/A"), 2,
         "Settings!B2: As Of: Excel error #N/A where a date is expected"),
    Case("As Of TRUE", cells(Settings_B2=True), 2,
         "Settings!B2: As Of: TRUE/FALSE where a date is expected"),
    Case("As Of day-first text", cells(Settings_B2="31/12/2020"), 2,
         'Settings!B2: As Of: text "31/12/2020" where a date is expected'),
    Case("As Of missing: no follow-on", cells(Settings_A2="Comment"), 2, 'no "As Of" date',
         ("is not in Instruments",)),
    Case("Prices date as a serial", cells(Prices_A10=A10_SERIAL), 0, "inputs valid"),
    Case("Prices date as ISO text", cells(Prices_A10=iso), 0, "inputs valid"),
    Case("Prices date as 1904 serial", edit(lambda wb: (epoch1904(wb), general(
         wb, "Prices", "A10", serial_of(wb["Prices"]["A10"].value, True)))), 0, "inputs valid"),
    Case("Prices 1900 serial read in a 1904 workbook", edit(lambda wb: (epoch1904(
         wb), general(wb, "Prices", "A10", serial_of(wb["Prices"]["A10"].value)))), 2,
         "Prices!A11: dates not in ascending order"),
    Case("Prices date serial 60", cells(Prices_A10=60), 2,
         "Prices!A10: 60 is Excel's 1900-02-29, a day that never was"),
    Case("Prices date a year number", cells(Prices_A10=2011), 2,
         "Prices!A10: 2011 looks like a year, not a date"),
    Case("Prices date a time of day", cells(Prices_A10=dt.time(13, 30)), 2,
         "Prices!A10: a time of day (13:30) where a date is expected"),
    Case("Prices date blank beside a value", cells(Prices_A11=None), 2,
         "Prices!A11: blank where a date is expected"),
    Case("Prices date text", cells(Prices_A10="yesterday"), 2,
         'Prices!A10: text "yesterday" where a date is expected'),
    Case("Series Inception text", cells(Series_D2="soon"), 2,
         'Series!D2: Inception: text "soon" where a date is expected'),
    Case("Series Inception serial", cells(Series_D2=40209), 0, "inputs valid"),
    # the demo, as a user would break it
    Case("demo: As Of pasted as a number", surgery(sheet_xml(
         "Settings", DEMO_AS_OF, '<c r="B2" t="n"><v>36160</v></c>'), from_demo), 0,
         "inputs valid — 13 instruments, as of 1998-12-31", run_refresh=False),
    Case("demo: As Of deleted, no follow-on", surgery(sheet_xml("Settings", DEMO_AS_OF, ""),
         from_demo), 2, 'Settings!B2: no "As Of" date', ("is not in Instruments",)),
    Case("demo: protected structure", surgery(sheet_xml(
         "", "<workbookProtection/>", '<workbookProtection lockStructure="1"/>',
         "xl/workbook.xml"), from_demo), 0,
         "workbook: warning: the workbook's structure is protected (Review > Protect Workbook)"
         ", so the 16 engine sheet(s) it lacks", refresh=2),
    Case("demo: value at XFD1048576", surgery(sheet_xml(
         "Prices", "</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>5</v></c></row>'
         "</sheetData>"), from_demo), 2,
         "Prices!XFD1048576: value right of the last header (column N) is not read"),
    # settings
    Case("Trend Growth text", cells(Settings_B3="fast"), 2,
         'Settings!B3: Trend Growth "fast" is not a number (percent per year, e.g. 2.24)'),
    Case("Trend Growth in basis points", cells(Settings_B3=224), 2,
         "Settings!B3: Trend Growth 224 is outside -10 … 20 (percent per year"),
    Case("Trend Growth missing", edit(drop_settings_row("Trend Growth")), 0,
         'Settings: warning: no "Trend Growth"', refresh=1),  # the GDP gap alone fails
    Case("Base Period not a period", cells(Settings_B4="19"), 2,
         'Settings!B4: Base Period "19" is not a year (2019) or quarter (2023Q1)'),
    Case("Base Period not in Macro", cells(Settings_B4=2031), 2,
         "Settings!B4: Base Period 2031 is not a Macro period (2019 … 2023Q3)"),
    Case("Base Period typed as a number", cells(Settings_B4=2019), 0, "inputs valid"),
    Case("Risk Free not a Returns column", cells(Settings_B5="T-Bill"), 2,
         'Settings!B5: Risk Free "T-Bill" is not a Returns column (Strategy A, Bench B)'),
    Case("Firm Name an Excel error", cells(Settings_B6="#REF!"), 2,
         "Settings!B6: Firm Name is the Excel error #REF!"),
    Case("GDP Deannualize unknown", edit(lambda wb: wb["Settings"].append(
         ["GDP Deannualize", "log"])), 2,
         'Settings!B8: GDP Deannualize "log" must be compound or simple'),
    Case("Income Strategy unknown", edit(lambda wb: wb["Settings"].append(
         ["Income Strategy", "MBS"])), 2, 'Settings!B8: Income Strategy "MBS" is not a Returns'),
    # damaged files
    Case("bad deflate data", raw_bytes(reserved_block_type), 2,
         "w.xlsx: xl/worksheets/sheet2.xml is damaged (bad deflate data)"),
    Case("checksum mismatch", raw_bytes(wrong_crc), 2,
         "w.xlsx: xl/worksheets/sheet2.xml is damaged (checksum mismatch)"),
    Case("truncated file", truncate, 2, "w.xlsx is not an .xlsx workbook"),
    Case("password-protected file", encrypted, 2, "w.xlsx is password-protected"),
    Case("sheet XML not well-formed", surgery(sheet_xml("Prices", "</sheetData>", "")), 2,
         "part xl/worksheets/sheet2.xml is not well-formed XML"),
    Case("shared string that does not exist", surgery(sheet_xml(
         "Instruments", '<c r="A2" t="inlineStr"><is><t>EQ1</t></is></c>',
         '<c r="A2" t="s"><v>9999</v></c>')), 2,
         "sheet Instruments, cell A2: shared string 9999"),
    # follow-on messages
    Case("bad asset class: no unknown-code follow-on", cells(Instruments_D2="Equities"), 2,
         'Instruments!D2: asset class "Equities"', ('code "EQ1" is not in Instruments',)),
    Case("Instruments without Code: no follow-on", cells(Instruments_A1="Ticker"), 2,
         'Instruments!1:1: required column "Code" is missing', ("is not in Instruments",)),
    Case("Prices without Date header: no follow-on", cells(Prices_A1="Day"), 2,
         'Prices!A1: column A must be headed "Date"', ("has no column in Prices",)),
    Case("Returns without Date header: no follow-on", cells(Returns_A1="Month"), 2,
         'Returns!A1: column A must be headed "Date"', ("has no column in Returns",)),
    # text in numbers
    Case("a column of text: no has-no-prices follow-on", edit(lambda wb: [wb["Prices"].cell(
         r, 3, "n/a") for r in range(2, wb["Prices"].max_row + 1)]), 2,
         'Prices!C3: text "n/a" where a number is expected', ('"BD1" has no prices',)),
    Case("number stored as text", cells(Prices_B5="1,234.5"), 2,
         'Prices!B5: text "1,234.5" where a number is expected'),
    Case("spaces in a price cell", cells(Prices_B5="   "), 0, "inputs valid"),
    Case("Excel error in a price", cells(Prices_C7="#DIV/0!"), 2,
         "Prices!C7: Excel error #DIV/0! where a number is expected"),
    # merged cells, Excel tables, hidden rows
    Case("merged header cells", edit(merge_header), 2,
         "Prices!C1: column has data but no header"),
    Case("Prices as an Excel table", edit(as_table), 0, "inputs valid — 4 instruments"),
    Case("hidden rows and a hidden sheet are read", edit(hide_rows), 0, "inputs valid"),
    # unicode codes
    Case("unicode code", edit(unicode_code("DAX®")), 0, "inputs valid — 4 instruments"),
    Case("unicode code composed and decomposed", edit(unicode_code(
         unicodedata.normalize("NFC", "IBEX·Ñ"), unicodedata.normalize("NFD", "IBEX·Ñ"))), 0,
         "inputs valid — 4 instruments"),
    Case("code with a non-breaking space", edit(unicode_code("EQ1", "EQ1\u00a0")), 0,
         "inputs valid"),
    Case("full-width digit is another code", edit(unicode_code("EQ1", "EQ１")), 2,
         'Prices!B1: code "EQ１" is not in Instruments'),
    # size, structure, beyond the header, empty fair value input
    Case("100,000 rows", rows_100k, 0, "inputs valid — 1 instruments", run_refresh=False),
    Case("protected structure", edit(lock_structure), 0,
         "workbook: warning: the workbook's structure is protected", refresh=2),
    Case("value beyond the last header", cells(Prices_XFD1048576=5), 2,
         "Prices!XFD1048576: value right of the last header (column E) is not read"),
    Case("note right of Fundamentals", cells(Fundamentals_F3="see memo"), 2,
         "Fundamentals!F3: value right of the last header (column B) is not read"),
    Case("empty Fair Value Input column", edit(clear_column("Fundamentals", "B")), 0,
         'Fundamentals!B: warning: fair value input "CPI" of EQ1 has no values on or before '
         "As Of: EQ1 is valued without it"),
]


def _run(capfd, *argv: str) -> tuple[int, str]:
    code = main([*argv, "-q"])
    out = capfd.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input(case: Case, tmp_path, capfd):
    path = case.make(tmp_path)
    code, out = _run(capfd, "check", str(path), *case.args)
    assert "Traceback" not in out
    assert code == case.code, out
    assert case.says in out, out
    for text in case.absent:
        assert text not in out, out
    if not case.run_refresh:
        return
    before = path.read_bytes()
    want = case.code if case.refresh is None else case.refresh
    code, out = _run(capfd, "refresh", str(path), *case.args)
    assert "Traceback" not in out
    assert code == want, out
    if want == 2:
        assert path.read_bytes() == before
        assert not list(tmp_path.glob("*.bak.xlsx"))
    if case.code == 2:  # the refusal names the same cell on refresh as on check
        assert case.says in out, out


def test_the_suite_covers_its_categories():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


# --- the one date parser ---------------------------------------------------------------------

@pytest.mark.parametrize("date1904", [False, True])
def test_serials_read_as_openpyxl_reads_them(date1904):
    """Every serial of the first years (1900's phantom leap day included) and a sample up to
    9999 read as openpyxl's independent conversion reads them."""
    epoch = CALENDAR_MAC_1904 if date1904 else None
    serials = [*range(1, 800), *range(800, 2_957_000, 997)]  # openpyxl reads 0 as a time
    for x in serials:
        if not date1904 and x == 60 or 1800 <= x <= 2200:
            continue  # refused on purpose (below)
        want = from_excel(x, epoch) if epoch else from_excel(x)
        assert read_date(x, date1904=date1904)[0] == want, x


def test_serials_1_to_59_are_the_days_excel_shows():
    assert read_date(1)[0] == dt.datetime(1900, 1, 1)
    assert read_date(59)[0] == dt.datetime(1900, 2, 28)
    assert read_date(61)[0] == dt.datetime(1900, 3, 1)
    with pytest.raises(DateError, match="1900-02-29, a day that never was"):
        read_date(60)
    assert read_date(0, date1904=True)[0] == dt.datetime(1904, 1, 1)


def test_udfs_read_dates_with_the_reader_parser():
    """The add-in's dates are the reader's: serial 1 is 1900-01-01 (the add-in used to read
    1899-12-31), and what either refuses the other refuses, naming the argument."""
    for v in (1, 59, 61, 36160, 36160.5, "1998-12-31", dt.date(1998, 12, 31)):
        assert to_date("dates", v) == read_date(v)[0]
    assert to_date("dates", 34698, date1904=True) == dt.datetime(1998, 12, 31)
    for v in (60, 1998, "yesterday", "#N/A", True, None, -1):
        with pytest.raises(ExcelArgError, match=r"^dates: "):
            to_date("dates", v)


def test_prices_dates_typed_as_serials_read_as_the_date_cells(tmp_path):
    plain = read_workbook(wf.build(tmp_path / "a.xlsx")).raw_prices

    def as_serials(wb):
        ws = wb["Prices"]
        for r in range(2, ws.max_row + 1):
            general(wb, "Prices", f"A{r}", serial_of(ws[f"A{r}"].value))
    typed = read_workbook(wf.build(tmp_path / "b.xlsx", mutate=as_serials)).raw_prices
    pd.testing.assert_frame_equal(plain, typed)


def test_a_1904_workbook_reads_the_same_dates(tmp_path):
    plain = read_workbook(wf.build(tmp_path / "a.xlsx"))
    mac = read_workbook(wf.build(tmp_path / "b.xlsx", mutate=epoch1904))
    assert mac.asof == plain.asof
    pd.testing.assert_frame_equal(plain.raw_prices, mac.raw_prices)


def test_refresh_output_says_what_it_took_and_what_it_left_out(tmp_path, capfd):
    path = wf.build(tmp_path / "w.xlsx", mutate=clear_column("Fundamentals", "B"))
    code, out = _run(capfd, "refresh", str(path), "--asof", "2020-06")
    assert code in (0, 1), out
    assert "as of 2020-06-30" in out
    assert "--asof: warning: As Of month 2020-06 taken as 2020-06-30, its last day" in out
    assert 'Fundamentals!B: warning: fair value input "CPI" of EQ1 has no values' in out


def test_an_unexpected_error_is_one_line_and_exit_2(tmp_path, capfd, monkeypatch, caplog):
    """A bug anywhere (here: the reader raising something nobody foresaw) gives one line,
    exit 2 and the workbook untouched; the traceback goes to the ``gamma`` logger."""
    import engine.refresh
    path = wf.build(tmp_path / "w.xlsx")
    before = path.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("unforeseen")
    monkeypatch.setattr(engine.refresh, "read_workbook", boom)
    with caplog.at_level("DEBUG", logger="gamma"):
        for cmd in (["check"], ["refresh"], ["report", "--out", str(tmp_path / "r.pdf")],
                    ["factsheet", "--out", str(tmp_path / "fs")]):
            code, out = _run(capfd, cmd[0], str(path), *cmd[1:])
            assert code == 2, out
            assert "Traceback" not in out
            assert f"gamma {cmd[0]}: failed (RuntimeError: unforeseen)" in out
    assert path.read_bytes() == before
    assert any(r.exc_info for r in caplog.records if r.name == "gamma")
