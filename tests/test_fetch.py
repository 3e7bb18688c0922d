"""``gamma fetch``: FRED/ALFRED series with their vintages into the engine's ``Downloads``
sheet, read back by the reader — against recorded FRED answers served on 127.0.0.1
(``tests/fred_server.py``; the recordings are constructed from real published values, see
``tests/data/fred/make_recordings.py``). No network."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

import workbook_factory as wf
from fred_server import DATA, serve
from engine.cli import main
from engine.inputs.data import asof as known_on
from engine.inputs.problems import InputError
from engine.inputs.reader import read_workbook
from engine.inputs.sampling import monthly
from engine.sources.fred import Fred, FredError
from engine.sources.vintages import latest_known

KEY = "abcdefghijklmnopqrstuvwxyz012345"  # any 32 characters: the fake FRED checks presence
INPUT_SHEETS = ("Instruments", "Prices", "Fundamentals", "Returns", "Series", "Income",
                "Macro", "Settings")


def recorded(series: str) -> list[dict]:
    return json.loads((DATA / f"observations_{series}.json").read_text())["observations"]


def value_of(series: str, period: str, vintage: str) -> float:
    """The recorded value of ``period`` in force on the day ``vintage``."""
    for o in recorded(series):
        if o["date"] == period and o["realtime_start"] <= vintage <= o["realtime_end"]:
            return float(o["value"])
    raise KeyError((series, period, vintage))


def with_fetch_rows(*rows, bond=True):
    """A factory mutation: Settings rows ``KEY`` | ``VALUE``, and an instrument BD2
    (a bond quoted as a yield) with no Prices column — its yields come from Downloads."""
    def mutate(wb):
        for name, spec in rows:
            wb["Settings"].append([name, spec])
        if bond:
            wb["Instruments"].append(["BD2", "US Corporate Aaa", "US", "Bond", "Yield", 20,
                                      "MonthEnd", "", None])
    return mutate


@pytest.fixture
def fred(monkeypatch):
    with serve() as (root, log):
        monkeypatch.setenv("GAMMA_FRED_URL", root)
        monkeypatch.setenv("FRED_API_KEY", KEY)
        yield log


def book(tmp_path: Path, *rows, name="w.xlsx", **kw) -> Path:
    rows = rows or (("Fetch: GDP", "FRED:GDPC1"), ("Fetch: BD2", "FRED:AAA"))
    return wf.build(tmp_path / name, months=120, asof="2018-12-31",
                    mutate=with_fetch_rows(*rows, **kw))


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def sheet_parts(path: Path, names) -> dict[str, bytes]:
    """Worksheet part bytes of the sheets ``names`` (by the workbook's relationships)."""
    from engine.xlsx.cells import Workbook
    from engine.xlsx.package import Package
    with Package(path) as pkg:
        wb = Workbook(pkg)
        return {s.name: pkg.read(s.part) for s in wb.sheets if s.name in names}


# --- vintages --------------------------------------------------------------------------------

def test_a_revision_counts_only_from_its_own_vintage_date():
    """Synthetic rows shaped as ALFRED's: an advance estimate, its revision a month later,
    and a missing value ("." = NaN) that must not hide the last real one."""
    rows = [("2019-10-01", 99.0, "2020-01-30", "9999-12-31"),
            ("2020-01-01", 100.0, "2020-04-29", "2020-05-27"),
            ("2020-01-01", 101.0, "2020-05-28", "9999-12-31"),
            ("2020-04-01", float("nan"), "2020-07-30", "9999-12-31")]
    k = latest_known(rows)
    assert list(k.index.strftime("%Y-%m-%d")) == ["2020-01-30", "2020-04-29", "2020-05-28"]
    assert list(k["value"]) == [99.0, 100.0, 101.0]
    day = lambda d: known_on(k["value"], pd.DatetimeIndex([d])).iloc[0]  # noqa: E731
    assert day("2020-05-27") == 100.0   # the revision is not known the day before it
    assert day("2020-05-28") == 101.0
    assert pd.isna(day("2020-01-29"))   # nothing was published yet


def test_client_asks_for_every_vintage_and_pages(fred):
    """output_type=1 over FRED's whole real-time range, JSON, paged by offset."""
    client = Fred(KEY, page=10)
    rows = client.vintages("GDPC1")
    assert len(rows) == len(recorded("GDPC1"))
    obs = [q for q in fred if q["path"].endswith("/observations")]
    assert [int(q["offset"]) for q in obs] == list(range(0, len(rows), 10))
    assert {(q["realtime_start"], q["realtime_end"], q["output_type"], q["file_type"])
            for q in obs} == {("1776-07-04", "9999-12-31", "1", "json")}
    assert latest_known(rows).equals(Fred(KEY).known("GDPC1"))  # paging changes nothing


def test_no_answer_is_a_typed_error_without_the_key():
    import socket
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        root = f"http://127.0.0.1:{s.getsockname()[1]}/fred"
        with pytest.raises(FredError, match="no answer from http://127.0.0.1") as e:
            Fred(KEY, root=root, retries=0).known("GDPC1")
    assert KEY not in str(e.value)


# --- gamma fetch -------------------------------------------------------------------------------

def test_fetch_fills_downloads_with_what_was_known_on_each_date(tmp_path, fred, capsys):
    path = book(tmp_path)
    before = sheet_parts(path, INPUT_SHEETS)
    assert main(["fetch", str(path), "--quiet"]) == 0
    assert sheet_parts(path, INPUT_SHEETS) == before  # the user's sheets, byte for byte
    ws = load_workbook(path)["Downloads"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0][:5]) == ["Date", "GDP", "GDP Period", "BD2", "BD2 Period"]
    data = pd.DataFrame([r[:5] for r in rows[1:] if r[0] is not None], columns=rows[0][:5])
    gdp, aaa = (Fred(KEY).known(s) for s in ("GDPC1", "AAA"))
    # one row per day something became known, from either series
    assert list(data["Date"]) == sorted(set(gdp.index) | set(aaa.index))
    # GDP on the day before vintage B: vintage A's 2004Q4, not B's revision of it
    on = data.set_index("Date")
    eve = pd.DatetimeIndex(["2009-11-23"])
    gdp_col = on["GDP"].astype(float)
    assert on["GDP Period"].dropna().loc[:eve[0]].iloc[-1] == pd.Timestamp("2004-10-01")
    assert known_on(gdp_col, eve).iloc[0] == value_of("GDPC1", "2004-10-01", "2005-03-30")
    assert known_on(gdp_col, eve).iloc[0] != value_of("GDPC1", "2004-10-01", "2009-11-24")
    assert on.loc["2009-11-24", "GDP"] == value_of("GDPC1", "2009-07-01", "2009-11-24")
    assert on["BD2"].notna().sum() == len(aaa)  # blank where a series had nothing new
    # the Sources table beside it
    src = [r[6:] for r in rows if r[6] is not None]
    assert src[0][:2] == ("Column", "Source")
    assert [s[:2] for s in src[1:]] == [("GDP", "FRED:GDPC1"), ("BD2", "FRED:AAA")]
    assert src[1][2] == "Real Gross Domestic Product"
    out = capsys.readouterr()
    assert KEY not in out.out + out.err


def test_parts_the_fetch_writes_are_schema_valid(tmp_path, fred):
    import shutil

    from ooxml_schema import validate  # skips without lxml
    from test_written_parts_valid import _written_parts
    path = book(tmp_path)
    shutil.copyfile(path, tmp_path / "before.xlsx")
    assert main(["fetch", str(path), "--quiet"]) == 0
    written = _written_parts(tmp_path / "before.xlsx", path)
    assert {k for k, _ in written.values()} == {"worksheet", "table", "styles"}
    assert {n: validate(d, k)[:3] for n, (k, d) in written.items() if validate(d, k)} == {}


def test_reader_takes_the_mapped_downloads_columns_without_look_ahead(tmp_path, fred):
    path = book(tmp_path)
    assert main(["fetch", str(path), "--quiet"]) == 0
    aaa = Fred(KEY).known("AAA")["value"]
    for when in ("2018-12-31", "2009-11-30"):
        d = read_workbook(path, asof=when)
        cut = aaa.loc[aaa.index <= when]
        # BD2's yields: Downloads' AAA as known on each day, sampled like any price column
        pd.testing.assert_series_equal(d.prices["BD2"], monthly(cut, "MonthEnd",
                                                                asof=pd.Timestamp(when)),
                                       check_names=False, check_freq=False)
        assert d.fundamentals["GDP"].dropna().index.max() <= pd.Timestamp(when)
    # on 2009-11-30 November's average is not published yet: October's is the last known
    assert d.prices["BD2"].iloc[-1] == value_of("AAA", "2009-10-01", "2009-11-02")
    eve = read_workbook(path, asof="2009-11-23").fundamentals["GDP"].dropna()
    assert eve.iloc[-1] == value_of("GDPC1", "2004-10-01", "2005-03-30")


def test_refresh_keeps_downloads_and_models_the_downloaded_instrument(tmp_path, fred):
    path = book(tmp_path)
    assert main(["fetch", str(path), "--quiet"]) == 0
    kept = sheet_parts(path, ("Downloads",))
    assert main(["refresh", str(path), "--quiet"]) in (0, 1)
    assert sheet_parts(path, ("Downloads",)) == kept
    rows = list(load_workbook(path, data_only=True)["Bond Forecasts"].iter_rows(
        values_only=True))
    assert any(r[0] == "BD2" for r in rows)


def test_a_second_fetch_replaces_the_engine_area_and_keeps_a_users_note(tmp_path, fred):
    """Downloads is the engine's: a note typed beside its tables survives the next fetch;
    a cell typed inside its area is the engine's and is written again."""
    path = book(tmp_path)
    assert main(["fetch", str(path), "--quiet"]) == 0
    wb = load_workbook(path)
    ws = wb["Downloads"]
    ws["Z5"] = "my note"
    ws["B5"] = "typed over"
    wb.save(path)
    assert main(["fetch", str(path), "--quiet"]) == 0
    ws = load_workbook(path)["Downloads"]
    assert ws["Z5"].value == "my note" and ws["B5"].value != "typed over"
    assert len(ws.tables) == 2


def test_failed_fetch_writes_nothing(tmp_path, fred, monkeypatch, capsys):
    path = book(tmp_path)
    assert main(["fetch", str(path), "--quiet"]) == 0
    good = parts(path)
    bad = book(tmp_path, ("Fetch: GDP", "FRED:GDPC1"), ("Fetch: X", "FRED:NOSUCHSERIES"),
               name="bad.xlsx")
    before = parts(bad)
    assert main(["fetch", str(bad), "--quiet"]) == 2
    assert parts(bad) == before and not (tmp_path / "bad.bak.xlsx").exists()
    assert "The series does not exist" in capsys.readouterr().err
    monkeypatch.delenv("FRED_API_KEY")
    assert main(["fetch", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "FRED_API_KEY" in err and '"FRED API Key"' in err
    assert parts(path) == good
    none = wf.build(tmp_path / "none.xlsx", months=24)
    before = parts(none)
    assert main(["fetch", str(none), "--quiet"]) == 2
    assert "nothing to fetch" in capsys.readouterr().err and parts(none) == before


def test_key_from_settings_and_bad_fetch_rows(tmp_path, fred, monkeypatch, capsys):
    monkeypatch.delenv("FRED_API_KEY")
    path = book(tmp_path, ("Fetch: GDP", "FRED:GDPC1"), ("FRED API Key", KEY), bond=False)
    # "FRED API Key" is a plain Settings row, not a Fetch row
    assert main(["fetch", str(path), "--quiet"]) == 0
    assert all(q["api_key"] == KEY for q in fred)
    odd = book(tmp_path, ("Fetch: A", "GDPC1"), ("Fetch: B", "BBG:SPX Index"),
               ("Fetch: C", "FRED:AAA"), ("Fetch: c", "FRED:GDPC1"), name="odd.xlsx",
               bond=False)
    assert main(["fetch", str(odd), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "needs a value SOURCE:SERIES" in err and 'source "BBG"' in err
    assert "mapped twice" in err and "Settings!A" in err


def test_reader_refuses_a_mapping_it_cannot_honour(tmp_path, fred):
    with pytest.raises(InputError, match='run "gamma fetch WORKBOOK" first') as e:
        read_workbook(book(tmp_path))  # BD2's yields and GDP mapped, nothing fetched yet
    assert [p.where for p in e.value.problems] == ["Settings!A8", "Settings!A9"]
    with pytest.raises(InputError, match="CPI.*is a column of Fundamentals"):
        read_workbook(book(tmp_path, ("Fetch: CPI", "FRED:GDPC1"), name="cpi.xlsx", bond=False))
    path = book(tmp_path, ("Fetch: GDP", "FRED:GDPC1"), name="re.xlsx", bond=False)
    assert main(["fetch", str(path), "--quiet"]) == 0
    read_workbook(path)  # as fetched: fine

    def remap(wb):
        for row in wb["Settings"].iter_rows():
            if row[0].value == "Fetch: GDP":
                row[1].value = "FRED:GDP"
    from openpyxl import load_workbook as lw
    wb = lw(path)
    remap(wb)
    wb.save(path)
    with pytest.raises(InputError, match="maps FRED:GDP, but Downloads holds FRED:GDPC1"):
        read_workbook(path)


def test_refresh_asof_ignores_downloads_known_later(tmp_path, fred):
    """Two workbooks whose Downloads differ only in rows that became known after T refresh
    --asof T to the same engine sheets (the Downloads sheets themselves aside)."""
    from test_no_lookahead import engine_cells
    T = pd.Timestamp("2015-06-30")
    a = book(tmp_path, name="a.xlsx")
    assert main(["fetch", str(a), "--quiet"]) == 0
    wb = load_workbook(a)
    wb.save(tmp_path / "b.xlsx")  # the same bytes' content, saved alike
    wb.save(a)
    b = tmp_path / "b.xlsx"
    wb = load_workbook(b)
    changed = 0
    for row in wb["Downloads"].iter_rows(min_row=2, max_col=5):
        if row[0].value is not None and row[0].value > T:
            for c in (row[1], row[3]):  # GDP, BD2 values
                if isinstance(c.value, (int, float)):
                    c.value *= 3
                    changed += 1
    assert changed > 0
    wb.save(b)
    for p in (a, b):
        assert main(["refresh", str(p), "--asof", f"{T:%Y-%m-%d}", "--quiet"]) in (0, 1)
    ca, cb = engine_cells(a), engine_cells(b)
    ca.pop("Downloads"), cb.pop("Downloads")
    assert ca == cb
    assert any(r[0] == "BD2" for r in ca["Bond Forecasts"])
