"""Exchange calendars (engine.calendars): Updated, the monthly sampling and the as-of cut-off
follow the instrument's exchange, not the US federal holidays (issue 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import workbook_factory as wf
from engine.calendars import check_calendar, default_calendar, is_session, last_session
from engine.inputs.problems import InputError
from engine.inputs.reader import read_workbook
from engine.inputs.sampling import monthly
from engine.models.signals import update_date, update_date_of

MONTHS = pd.period_range("1990-01", "2030-12", freq="M")


def _anchor(m: pd.Period, rule: str) -> pd.Timestamp:
    return m.end_time.normalize() if rule == "MonthEnd" else pd.Timestamp(m.year, m.month,
                                                                          int(rule))


def _exchange_schedule(mic: str, rule: str) -> list[pd.Timestamp]:
    """The update day of each month straight from the library's sessions (not through
    engine.calendars): the last session on or before the anchor."""
    import exchange_calendars as xc

    sessions = xc.get_calendar(mic, start="1989-12-01", end="2031-01-31").sessions
    pos = sessions.searchsorted([_anchor(m, rule) for m in MONTHS], side="right") - 1
    return [pd.Timestamp(sessions[k]).normalize().tz_localize(None) for k in pos]


def _federal_schedule(rule: str) -> list[pd.Timestamp]:
    """The old schedule: Mon–Fri minus pandas' US federal holidays (observed dates)."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    day = pd.offsets.CustomBusinessDay(calendar=USFederalHolidayCalendar())
    return [day.rollback(_anchor(m, rule)) for m in MONTHS]


@pytest.mark.parametrize("month,mic,expected", [
    ("1991-03", "XNYS", "1991-03-28"),   # Friday 29th: Good Friday, the NYSE closed
    ("2024-03", "XNYS", "2024-03-28"),   # Friday 29th: Good Friday
    ("2024-03", "XLON", "2024-03-28"),   # Good Friday in London too
    ("2021-12", "XNYS", "2021-12-31"),   # open: the NYSE does not observe Sat 1 Jan 2022
    ("2021-12", "XTKS", "2021-12-30"),   # Tokyo closes 31 Dec – 3 Jan
    ("2021-05", "XNYS", "2021-05-28"),   # Monday 31st: Memorial Day
    ("2021-05", "XLON", "2021-05-28"),   # Monday 31st: Spring Bank Holiday
    ("2020-08", "XLON", "2020-08-28"),   # Monday 31st: Summer Bank Holiday (NYSE open)
    ("2020-08", "XNYS", "2020-08-31"),
])
def test_month_end_update_on_the_exchange(month, mic, expected):
    assert update_date(month, "MonthEnd", mic) == pd.Timestamp(expected)


def test_exchange_closures_beyond_holidays():
    # 11 Sep 2001: the NYSE shut for four sessions; the 15th (a Saturday) rolls to the 10th
    assert update_date("2001-09", "15", "XNYS") == pd.Timestamp("2001-09-10")
    assert not any(is_session(d, "XNYS") for d in pd.date_range("2001-09-11", "2001-09-14"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the package's pandas 3.1 use
@pytest.mark.parametrize("mic,rule,differ", [
    # the counts over 1990–2030, which the test derives itself from both calendars
    ("XNYS", "MonthEnd", 12), ("XNYS", "15", 10), ("XNYS", "20", 8), ("XLON", "MonthEnd", 19),
])
def test_schedule_is_the_exchanges_and_differs_from_the_federal_one(mic, rule, differ):
    exchange = _exchange_schedule(mic, rule)
    federal = _federal_schedule(rule)
    ours = [update_date(m, rule, mic) for m in MONTHS]
    assert ours == exchange  # every month of 1990–2030
    assert sum(a != b for a, b in zip(exchange, federal)) == differ


def test_vectorized_roll_equals_stepping_back_session_by_session():
    days = pd.date_range("1995-01-01", "2005-12-31", freq="D")
    for mic in ("XNYS", "XLON"):
        expected = []
        for d in days:
            while not is_session(d, mic):
                d -= pd.Timedelta(days=1)
            expected.append(d)
        assert list(last_session(days, mic)) == expected


def test_outside_the_calendars_range_the_weekday_rule_applies():
    # before 1900 (the span built) and before XTKS's first year in the library (1997):
    # Mon–Fri, no holidays
    assert update_date("1850-03", "MonthEnd", "XNYS") == pd.Timestamp("1850-03-29")  # Sun 31
    assert update_date("1990-12", "MonthEnd", "XTKS") == pd.Timestamp("1990-12-31")  # Monday
    assert update_date("2150-12", "MonthEnd", "XLON") == pd.Timestamp("2150-12-31")  # Thursday


def test_names_and_defaults():
    assert check_calendar(" nyse ") == "XNYS"
    assert check_calendar("xlon") == "XLON"
    with pytest.raises(ValueError, match="calendar 'XXXX' is not an exchange calendar"):
        check_calendar("XXXX")
    assert default_calendar("United States", "Equity") == "XNYS"
    assert default_calendar("GB", "Bond") == "XLON"
    assert default_calendar("Japan", "Equity") == "XTKS"
    assert default_calendar("DE", "Bond") == "XETR"
    assert default_calendar("Euro Area", "Equity") == "XETR"
    assert default_calendar("United Kingdom", "FX") == "XNYS"
    assert default_calendar("United Kingdom", "Commodity") == "XNYS"
    assert default_calendar("Testland", "Equity") == "XNYS"


def test_asof_cut_off_follows_the_instruments_calendar():
    """An as-of of Thursday 2021-12-30: Tokyo's December update day has passed (31 Dec is
    closed there), New York's (31 Dec, open) has not — December is in progress."""
    days = pd.bdate_range("2021-10-01", "2021-12-30")
    s = pd.Series(np.arange(len(days), dtype=float), index=days)
    asof = pd.Timestamp("2021-12-30")
    assert monthly(s, "MonthEnd", asof=asof, calendar="XTKS").index[-1] == asof
    assert monthly(s, "MonthEnd", asof=asof, calendar="XNYS").index[-1] == \
        pd.Timestamp("2021-11-30")
    # a row dated after the as-of date (New York traded on the 31st) is never used: no
    # look-ahead, whichever calendar decides that December's update has passed
    ny = pd.Series(np.arange(len(days) + 1, dtype=float), index=days.append(
        pd.DatetimeIndex(["2021-12-31"])))
    got = monthly(ny, "MonthEnd", asof=asof, calendar="XTKS")
    assert got.index[-1] == asof and got.iloc[-1] == ny.loc[asof]
    # Good Friday 2024: the NYSE's March update is Thursday the 28th
    days = pd.bdate_range("2024-01-01", "2024-03-28")
    s = pd.Series(np.arange(len(days), dtype=float), index=days)
    got = monthly(s, "MonthEnd", asof=pd.Timestamp("2024-03-28"), calendar="XNYS")
    assert got.index[-1] == pd.Timestamp("2024-03-28")
    assert update_date_of(got.index[-1], "MonthEnd", "XNYS") == pd.Timestamp("2024-03-28")


def _calendar_column(values):
    def m(wb):
        ws = wb["Instruments"]
        ws.cell(row=1, column=10, value="Calendar")
        for r, v in enumerate(values, start=2):
            ws.cell(row=r, column=10, value=v)
    return m


def test_reader_takes_the_calendar_column_or_the_default(tmp_path):
    d = read_workbook(wf.build(tmp_path / "a.xlsx"))  # no Calendar column: the defaults
    assert {c: i.calendar for c, i in d.instruments.items()} == {
        "EQ1": "XNYS", "BD1": "XNYS", "FX1": "XNYS", "CM1": "XNYS"}
    d = read_workbook(wf.build(tmp_path / "b.xlsx", mutate=_calendar_column(
        ["XLON", "", "jpx", None])))
    assert {c: i.calendar for c, i in d.instruments.items()} == {
        "EQ1": "XLON", "BD1": "XNYS", "FX1": "XTKS", "CM1": "XNYS"}


def test_reader_reports_an_unknown_calendar_with_its_cell(tmp_path):
    path = wf.build(tmp_path / "c.xlsx", mutate=_calendar_column(["NYC"]))
    with pytest.raises(InputError) as e:
        read_workbook(path)
    msgs = [str(p) for p in e.value.problems if p.severity == "error"]
    assert any(m.startswith("Instruments!J2: calendar 'NYC' is not an exchange calendar")
               for m in msgs), msgs


def test_data_status_names_each_instruments_calendar(tmp_path):
    from engine.tables import data_status
    from engine.tables.base import RefreshContext

    d = read_workbook(wf.build(tmp_path / "d.xlsx", mutate=_calendar_column(["XLON"])))
    df = data_status.build(RefreshContext(data=d))[0].tables[0].df.set_index("Code")
    assert list(df.columns[:5]) == ["Name", "Asset Class", "Quote", "Update", "Calendar"]
    assert df["Calendar"].to_dict() == {"EQ1": "XLON", "BD1": "XNYS", "FX1": "XNYS",
                                        "CM1": "XNYS"}


def test_a_calendar_the_package_cannot_build_is_an_input_error_at_its_cell(tmp_path):
    """Some of the package's calendars fail to build under some pandas versions (Athens'
    Orthodox Easter under pandas 3.1): whether ASEX builds here or not, the reader either
    reads it or reports it at its cell — never a traceback."""
    from engine.calendars import closed_days

    try:
        closed_days("ASEX", 2020, 2020)
        builds = True
    except ValueError as e:
        builds = False
        assert "calendar 'ASEX': the exchange_calendars package cannot build it" in str(e)
    path = wf.build(tmp_path / "e.xlsx", mutate=_calendar_column(["ASEX"]))
    if builds:
        assert read_workbook(path).instruments["EQ1"].calendar == "ASEX"
    else:
        with pytest.raises(InputError) as e:
            read_workbook(path)
        assert any(str(p).startswith("Instruments!J2: calendar 'ASEX'")
                   for p in e.value.problems)


def test_calendars_kept_on_disk_are_the_same_and_a_damaged_file_is_rebuilt(tmp_path, monkeypatch):
    """A calendar built once is read back from the cache folder (speed only): the same
    weekmask and holidays; a damaged cache file is rebuilt, never an error."""
    from engine import calendars as c

    monkeypatch.setenv("GAMMA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(c, "_BUILT", {})
    mask, days = c.closed_days("XNYS", 1990, 1995)
    files = sorted(tmp_path.rglob("XNYS-*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(c, "_BUILT", {})
    again = c.closed_days("XNYS", 1990, 1995)
    assert again[0] == mask and (again[1] == days).all()
    assert np.datetime64("1991-03-29") in days  # Good Friday, read back from the file
    files[0].write_bytes(b"not a numpy file")
    monkeypatch.setattr(c, "_BUILT", {})
    rebuilt = c.closed_days("XNYS", 1990, 1995)
    assert rebuilt[0] == mask and (rebuilt[1] == days).all()
