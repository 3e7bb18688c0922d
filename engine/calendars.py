"""Exchange calendars: which days an instrument's market is open, for ``Updated``, the
monthly sampling and the as-of cut-off.

* A calendar is named by its ISO 10383 market identifier code (MIC) as the
  `exchange_calendars <https://github.com/gerrymanoim/exchange_calendars>`_ package names it:
  ``XNYS`` (New York Stock Exchange), ``XLON`` (London), ``XTKS`` (Tokyo), ``XETR`` (Xetra,
  Frankfurt), … Aliases the package knows (``NYSE``, ``LSE``) are accepted and resolved to
  the MIC.
* A *session* is a day the exchange trades: the calendar's weekdays (Mon–Fri for all but a few
  exchanges) minus its holidays, including one-off closures (1994-04-27 Nixon's funeral,
  2001-09-11…14, 2012-10-29/30 Hurricane Sandy on the NYSE). Early closes are sessions.
* Outside the calendar's range (:data:`RANGE`, 1900-01-01 … 2100-12-31, narrower where the
  package bounds it, e.g. ``XTKS`` from 1997, ``XHKG`` to 2049) a day is a session when it
  is one of the calendar's weekdays: a documented fallback (the weekday rule), never an
  error, because price histories start long before most calendars.
* A calendar the package cannot build here (a few fail under pandas 3.1: Athens, Bucharest,
  Belgrade, Cyprus, Tel Aviv) raises ValueError naming it; the reader reports it at the
  instrument's ``Calendar`` cell.
* :func:`default_calendar` gives the calendar of an instrument whose ``Calendar`` cell is
  blank, from its asset class and country (:data:`COUNTRY_CALENDARS`): equities and bonds
  trade on their country's main exchange; FX and commodities on ``XNYS`` (see the function).

Why ``exchange_calendars`` (not ``holidays``' financial calendars, nor
``pandas_market_calendars``): it covers ~50 exchanges with their historical holidays and
one-off closures since the 1990s and earlier, names them by MIC (what Bloomberg and the
exchanges print), and is the package ``pandas_market_calendars`` itself builds on; the
``holidays`` package has financial calendars for a handful of markets only (NYSE, ECB/TARGET,
ICE…).
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_CALENDAR", "COUNTRY_CALENDARS", "RANGE", "ROLL_MARGIN", "check_calendar",
           "default_calendar", "is_session", "last_session", "closed_days"]

DEFAULT_CALENDAR = "XNYS"
# Span the holidays are known for; days outside it follow the weekday rule (module docstring).
RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31"))
# No roll back to a session goes further than this: longer than any closure in the calendars
# (the longest of XNYS, XLON, XETR, XTKS since 1900: the NYSE's 1933 bank holiday, 7
# weekdays). Callers use it to ask the calendar only about days it can decide.
ROLL_MARGIN = pd.Timedelta(days=31)

# Country (as typed on the Instruments sheet: name, ISO 3166 alpha-2 or alpha-3 code, any case)
# -> the MIC of its main exchange. Euro-area instruments without a country of their own take
# Xetra (Frankfurt), whose closing days are the euro's TARGET2 ones plus 24 and 31 December.
_COUNTRIES: dict[str, tuple[str, ...]] = {
    "XNYS": ("United States", "US", "USA", "United States of America", "America"),
    "XLON": ("United Kingdom", "GB", "GBR", "UK", "Great Britain", "Britain", "England"),
    "XTKS": ("Japan", "JP", "JPN"),
    "XETR": ("Germany", "DE", "DEU", "Euro Area", "Eurozone", "Euro Zone", "EA", "EMU", "EU",
             "Europe"),
    "XPAR": ("France", "FR", "FRA"),
    "XMIL": ("Italy", "IT", "ITA"),
    "XMAD": ("Spain", "ES", "ESP"),
    "XAMS": ("Netherlands", "NL", "NLD"),
    "XSWX": ("Switzerland", "CH", "CHE"),
    "XSTO": ("Sweden", "SE", "SWE"),
    "XTSE": ("Canada", "CA", "CAN"),
    "XASX": ("Australia", "AU", "AUS"),
    "XHKG": ("Hong Kong", "HK", "HKG"),
    "XSHG": ("China", "CN", "CHN"),
    "XBOM": ("India", "IN", "IND"),
    "XKRX": ("South Korea", "Korea", "KR", "KOR"),
    "BVMF": ("Brazil", "BR", "BRA"),
}
COUNTRY_CALENDARS: dict[str, str] = {c.casefold(): mic for mic, names in _COUNTRIES.items()
                                     for c in names}


def _xc():
    # Imported on first use: the package costs ~0.6 s to import, which a UDF session that
    # never asks for a date should not pay.
    import exchange_calendars

    return exchange_calendars


def check_calendar(name: object, argument: str = "calendar") -> str:
    """The MIC of calendar ``name`` (``"XNYS"``, or an alias such as ``"NYSE"``; case and
    surrounding spaces ignored); ValueError naming ``argument`` when no such calendar exists."""
    text = "" if name is None else str(name).strip().upper()
    if not text:
        raise ValueError(f"{argument} must name an exchange calendar (e.g. XNYS), got {name!r}")
    mic = _resolve(text)
    if mic is None:
        raise ValueError(f"{argument} {name!r} is not an exchange calendar (e.g. XNYS, XLON, "
                         "XTKS, XETR; see exchange_calendars.get_calendar_names())")
    return mic


@lru_cache(maxsize=None)
def _resolve(text: str) -> str | None:
    return _names().get(text)


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every calendar name and alias the package knows -> its MIC (from the disk cache when
    this version of the package has been asked before: no import of the package then)."""
    def compute():
        xc = _xc()
        return {n: xc.resolve_alias(n) for n in xc.get_calendar_names()}
    return _disk_cache("names", compute, json_form=True)


def _cache_dir() -> Path | None:
    """Where computed calendars are kept between processes (speed only): ``$GAMMA_CACHE_DIR``,
    else the user's cache folder; None (no cache) when it cannot be made."""
    base = os.environ.get("GAMMA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gamma-desk")
    try:
        d = Path(base) / f"calendars-{_package_version()}"
        d.mkdir(parents=True, exist_ok=True)
        return d
    except OSError:
        return None


@lru_cache(maxsize=1)
def _package_version() -> str:
    from importlib.metadata import version

    return version("exchange_calendars")


def _disk_cache(key: str, compute, json_form: bool = False):
    """``compute()``'s result, kept in :func:`_cache_dir` under ``key``: building a calendar
    costs ~0.3 s and importing the package ~0.2 s, a large part of a monthly refresh, for a
    result that depends only on the package's version (part of the folder's name). A file
    that cannot be read or written is recomputed, never an error; files are written to a
    temporary name and renamed, so a reader never sees half a file."""
    d = _cache_dir()
    path = d / (key + (".json" if json_form else ".npz")) if d is not None else None
    if path is not None and path.exists():
        try:
            if json_form:
                return json.loads(path.read_text(encoding="utf-8"))
            with np.load(path, allow_pickle=False) as z:
                days = z["holidays"].astype("datetime64[D]")
                days.setflags(write=False)
                return str(z["weekmask"]), days
        except (OSError, ValueError, KeyError):
            pass
    value = compute()
    if path is not None:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            if json_form:
                tmp.write_text(json.dumps(value), encoding="utf-8")
            else:
                with open(tmp, "wb") as f:
                    np.savez(f, weekmask=np.array(value[0]), holidays=value[1])
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
    return value


def default_calendar(country: object = "", asset_class: object = "Equity") -> str:
    """The calendar of an instrument whose ``Calendar`` is blank.

    ``Equity`` and ``Bond``: the main exchange of ``country`` (:data:`COUNTRY_CALENDARS`,
    e.g. United States/US → ``XNYS``, United Kingdom/GB → ``XLON``, Japan → ``XTKS``,
    Germany or Euro Area → ``XETR``); an unknown or blank country → ``XNYS``. ``FX``:
    ``XNYS`` whatever the country — the engine's FX series are New York rates and a currency
    pair has no exchange; New York holidays are when the dollar side does not settle.
    ``Commodity``: ``XNYS`` — the benchmark futures (NYMEX, COMEX) settle on New York trading
    days (CME shares the NYSE's holidays, Good Friday included). A London-fixed series (Brent
    on ICE Europe, LBMA gold) can say ``XLON`` in its ``Calendar`` cell."""
    if asset_class in ("FX", "Commodity"):
        return DEFAULT_CALENDAR
    return COUNTRY_CALENDARS.get(str(country or "").strip().casefold(), DEFAULT_CALENDAR)


def closed_days(calendar: str = DEFAULT_CALENDAR, first_year: int | None = None,
                last_year: int | None = None) -> tuple[str, np.ndarray]:
    """``(weekmask, holidays)`` of a calendar (a MIC or alias, :func:`check_calendar`): the
    numpy weekmask of its trading weekdays (``"1111100"`` = Mon–Fri) and its weekday
    non-sessions, sorted ``datetime64[D]``, known at least for ``first_year`` …
    ``last_year`` (default: all of :data:`RANGE`) within :data:`RANGE` and the package's
    bounds; outside those, none (the weekday rule).

    The package's calendar is built once per process for the decades asked so far, and again
    (wider) only when a later call reaches outside them: a build costs ~0.1 s plus ~1 ms a
    year (several times that on a loaded machine), so a refresh of recent months or a UDF
    does not pay for two centuries."""
    mic = check_calendar(calendar)
    lo_year, hi_year = RANGE[0].year, RANGE[1].year
    lo = lo_year if first_year is None else min(max(first_year, lo_year), hi_year)
    hi = hi_year if last_year is None else max(min(last_year, hi_year), lo)
    lo, hi = lo // 10 * 10, min(hi // 10 * 10 + 9, hi_year)
    with _LOCK:
        built = _BUILT.get(mic)
        if built is None or lo < built[0] or hi > built[1]:
            if built is not None:
                lo, hi = min(lo, built[0]), max(hi, built[1])
            _BUILT[mic] = (lo, hi, *_disk_cache(f"{mic}-{lo}-{hi}",
                                                lambda: _build(mic, lo, hi)))
        return _BUILT[mic][2], _BUILT[mic][3]


_BUILT: dict[str, tuple[int, int, str, np.ndarray]] = {}  # MIC -> years built, weekmask, days
_LOCK = threading.Lock()


def _build(mic: str, first_year: int, last_year: int) -> tuple[str, np.ndarray]:
    lo, hi = pd.Timestamp(first_year, 1, 1), pd.Timestamp(last_year, 12, 31)
    try:
        cal = _get(mic, start=lo, end=hi)
    except ValueError as error:  # the package may bound this calendar's span: build that
        try:
            probe = _get(mic)
        except ValueError:
            raise error from None
        if probe.bound_min() is not None:
            lo = max(lo, pd.Timestamp(probe.bound_min()))
        if probe.bound_max() is not None:
            hi = min(hi, pd.Timestamp(probe.bound_max()))
        if lo > hi:
            return str(probe.weekmask), np.array([], dtype="datetime64[D]")
        cal = _get(mic, start=lo, end=hi)
    sessions = np.asarray(cal.sessions.values, dtype="datetime64[D]")
    days = np.arange(np.datetime64(lo.date(), "D"), np.datetime64(hi.date(), "D")
                     + np.timedelta64(1, "D"))
    weekmask = str(cal.weekmask)
    holidays = days[np.is_busday(days, weekmask=weekmask) & ~np.isin(days, sessions)]
    holidays.setflags(write=False)  # shared by every caller
    return weekmask, holidays


def _get(mic: str, **span):
    """The package's calendar, or ValueError naming it: a few of its calendars do not build
    under every pandas (Athens, Bucharest, Belgrade, Cyprus: Orthodox Easter under pandas 3.1;
    Tel Aviv's special closes), and the package's own error would be a traceback."""
    try:
        with _quiet():
            return _xc().get_calendar(mic, **span)
    except Exception as e:  # noqa: BLE001 - any failure of the package is this one error
        raise ValueError(f"calendar {mic!r}: the exchange_calendars package cannot build it "
                         f"here ({type(e).__name__}: {str(e)[:80]}); use another calendar "
                         "(blank = the default of the country and asset class)") from None


def _years(days: np.ndarray) -> tuple[int | None, int | None]:
    """The years a roll back over ``days`` can reach (:data:`ROLL_MARGIN`)."""
    if not len(days):
        return None, None
    lo = (days.min() - ROLL_MARGIN.to_timedelta64()).astype("datetime64[D]")
    lo = lo.astype("datetime64[Y]").astype(int) + 1970
    return int(lo), int(days.max().astype("datetime64[Y]").astype(int) + 1970)


@contextmanager
def _quiet():
    """The package's own use of a pandas API deprecated in pandas 3.1 warns: not the user's
    affair."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def last_session(days, calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """Each of ``days`` moved back to the last session on or before it (a session stays).

    ``days``: anything :class:`pandas.DatetimeIndex` takes; times of day are dropped.
    ``calendar``: a MIC (:func:`check_calendar`). Returns midnight timestamps."""
    d = np.asarray(pd.DatetimeIndex(days).normalize().values, dtype="datetime64[D]")
    weekmask, holidays = closed_days(calendar, *_years(d))
    return pd.DatetimeIndex(np.busday_offset(d, 0, roll="backward", weekmask=weekmask,
                                             holidays=holidays))


def is_session(day: object, calendar: str = DEFAULT_CALENDAR) -> bool:
    """True when the exchange of ``calendar`` trades on ``day`` (module docstring)."""
    d = np.datetime64(pd.Timestamp(day).date(), "D")
    weekmask, holidays = closed_days(calendar, *_years(np.array([d])))
    return bool(np.is_busday(d, weekmask=weekmask, holidays=holidays))
