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
* Outside the calendar's range (``exchange_calendars`` builds each calendar for 1900-01-01 …
  2100-12-31 here, narrower where the package bounds it, e.g. ``XTKS`` from 1997, ``XHKG`` to
  2049) a day is a session when it is one of the calendar's weekdays: a documented fallback
  (the weekday rule), never an error, because price histories start long before most
  calendars.
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

import warnings
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_CALENDAR", "COUNTRY_CALENDARS", "RANGE", "check_calendar",
           "default_calendar", "is_session", "last_session", "closed_days"]

DEFAULT_CALENDAR = "XNYS"
# Span the holidays are known for; days outside it follow the weekday rule (module docstring).
RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31"))

# Country (as typed on the Instruments sheet: name, ISO 3166 alpha-2 or alpha-3 code, any case)
# -> the MIC of its main exchange. Euro-area instruments without a country of their own trade
# on Xetra, whose holidays are the TARGET2 settlement days plus German ones.
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
    xc = _xc()
    return xc.resolve_alias(text) if text in xc.get_calendar_names() else None


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


def closed_days(calendar: str = DEFAULT_CALENDAR) -> tuple[str, np.ndarray]:
    """``(weekmask, holidays)`` of a calendar (a MIC or alias, :func:`check_calendar`): the
    numpy weekmask of its trading weekdays (``"1111100"`` = Mon–Fri) and its weekday
    non-sessions inside :data:`RANGE` and the package's bounds (outside, none: the weekday
    rule), sorted ``datetime64[D]``. Built once per process and calendar: 0.3 s for XNYS
    (over a second on a loaded machine), most of it a fixed cost of the package's holiday
    rules, whatever the span — so the whole span at once."""
    return _closed_days(check_calendar(calendar))


@lru_cache(maxsize=None)
def _closed_days(mic: str) -> tuple[str, np.ndarray]:
    xc = _xc()
    lo, hi = RANGE
    with _quiet():
        try:
            cal = xc.get_calendar(mic, start=lo, end=hi)
        except ValueError:  # the package bounds this calendar's span: build what it allows
            probe = xc.get_calendar(mic)
            if probe.bound_min() is not None:
                lo = max(lo, pd.Timestamp(probe.bound_min()))
            if probe.bound_max() is not None:
                hi = min(hi, pd.Timestamp(probe.bound_max()))
            cal = xc.get_calendar(mic, start=lo, end=hi)
    sessions = np.asarray(cal.sessions.values, dtype="datetime64[D]")
    days = np.arange(np.datetime64(lo.date(), "D"), np.datetime64(hi.date(), "D")
                     + np.timedelta64(1, "D"))
    weekmask = str(cal.weekmask)
    holidays = days[np.is_busday(days, weekmask=weekmask) & ~np.isin(days, sessions)]
    holidays.setflags(write=False)  # shared by every caller of the cache
    return weekmask, holidays


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
    weekmask, holidays = closed_days(calendar)
    return pd.DatetimeIndex(np.busday_offset(d, 0, roll="backward", weekmask=weekmask,
                                             holidays=holidays))


def is_session(day: object, calendar: str = DEFAULT_CALENDAR) -> bool:
    """True when the exchange of ``calendar`` trades on ``day`` (module docstring)."""
    d = np.datetime64(pd.Timestamp(day).date(), "D")
    weekmask, holidays = closed_days(calendar)
    return bool(np.is_busday(d, weekmask=weekmask, holidays=holidays))
