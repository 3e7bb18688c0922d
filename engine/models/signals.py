"""Positions, trade codes and update dates (seed ``003_…`` Tables 2, 4, 6, 8: columns
``Position``, ``Trade``, ``Updated``; the ``Signals`` sheet; Charts 1, 4, 5).

Conventions (DESIGN.md):

* ``Position`` is ``1`` (Long), ``0`` (Neutral) or ``-1`` (Short). A forecast whose absolute
  value is at most the neutral band is Neutral. For prices (equities, FX base currency,
  commodities) a forecast rise is Long; for yields (``quote="Yield"``) a forecast *fall* is
  Long, because the bond's price rises.
* The neutral band is in the forecast's own unit: a decimal return for prices (0.001 = 0.1 %),
  percentage points for yields (0.005 = 0.5 bp). :data:`DEFAULT_BANDS` gives the defaults per
  asset class, used when the ``Instruments`` sheet leaves ``Neutral Band`` blank.
* ``Trade`` from the previous position to the new one: 0→1 ``B``, 0→−1 ``S``, 1→0 ``CL``,
  −1→0 ``CS``, 1→−1 ``CL&S``, −1→1 ``CS&B``; unchanged: ``""``.
* ``Updated``: ``MonthEnd`` = the last business day of the month; ``"15"`` / ``"20"`` = that
  day of the month, or the business day before it. Business days are the sessions of the
  instrument's exchange calendar (:mod:`engine.calendars`, default ``XNYS``): 2024-03-29,
  Good Friday, is not one on the NYSE; 2021-12-31 is (the NYSE does not observe a Saturday
  New Year's Day), although the US federal calendar observes it that Friday.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.calendars import DEFAULT_CALENDAR, is_session, last_session
from engine.domain import AssetClass, check_asset_class, check_quote

__all__ = ["DEFAULT_BANDS", "POSITION_WORDS", "default_band", "position", "positions",
           "trade", "trades", "to_position", "update_date", "update_date_of", "update_dates",
           "is_business_day"]

# Neutral band per asset class, in the forecast's unit (decimal return; pct points for yields).
# Chosen from the seed's printed examples: an equity forecast of "zero" is Neutral while
# 0.73 % is Long; a 0.01 pp bond-yield forecast already gives a position (so the bond band is
# below 1 bp); FX forecasts of 0.07 %–0.16 % give positions.
DEFAULT_BANDS: dict[AssetClass, float] = {
    "Equity": 0.001,      # 0.10 % one-month return
    "Bond": 0.005,        # 0.5 bp one-month yield change (percentage points)
    "FX": 0.0005,         # 0.05 % one-month change of the base currency
    "Commodity": 0.001,   # 0.10 % one-month price change
}

POSITION_WORDS = {1: "Long", 0: "Neutral", -1: "Short"}
_WORD_TO_POS = {"long": 1, "neutral": 0, "short": -1}
_TRADES = {(0, 1): "B", (0, -1): "S", (1, 0): "CL", (-1, 0): "CS", (1, -1): "CL&S",
           (-1, 1): "CS&B"}


def default_band(asset_class: str) -> float:
    """The default neutral band of an asset class (forecast units, see module docstring)."""
    return DEFAULT_BANDS[check_asset_class(asset_class)]


def _check_band(band: float) -> float:
    try:
        b = float(band)
    except (TypeError, ValueError):
        raise ValueError(f"band must be a number >= 0, got {band!r}") from None
    if not np.isfinite(b) or b < 0:
        raise ValueError(f"band must be a finite number >= 0, got {band!r}")
    return b


def position(forecast: float, band: float = 0.0, quote: str = "Price") -> int:
    """Recommended position (1 Long, 0 Neutral, −1 Short) from a one-month forecast.

    ``forecast``: decimal return for prices (0.0073 = +0.73 %), change in percentage points for
    yields (−0.09 = −9 bp). ``band`` (same unit, ≥ 0): ``|forecast| <= band`` is Neutral.
    For ``quote="Yield"`` the sign is inverted: a forecast fall in the yield is Long.
    Serves the ``Position`` column of Tables 2, 4, 6 and 8.
    """
    check_quote(quote)
    b = _check_band(band)
    try:
        f = float(forecast)
    except (TypeError, ValueError):
        raise ValueError(f"forecast must be a number, got {forecast!r}") from None
    if not np.isfinite(f):
        raise ValueError(f"forecast must be a finite number, got {forecast!r}")
    if abs(f) <= b:
        return 0
    up = 1 if f > 0 else -1
    return -up if quote == "Yield" else up


def positions(forecasts: pd.Series, band: float = 0.0, quote: str = "Price") -> pd.Series:
    """:func:`position` for a whole forecast history (vectorized).

    Returns a float Series of 1.0 / 0.0 / −1.0 on the same index; NaN where the forecast is
    NaN (no forecast yet). Serves the ``Signals`` sheet.
    """
    check_quote(quote)
    b = _check_band(band)
    f = pd.to_numeric(forecasts, errors="coerce").astype(float)
    v = f.to_numpy()
    out = np.where(np.abs(v) <= b, 0.0, np.sign(v))
    if quote == "Yield":
        out = -out + 0.0  # + 0.0 turns -0.0 into 0.0
    out[np.isnan(v)] = np.nan
    return pd.Series(out, index=f.index, name="position")


def to_position(value: object, arg: str = "position") -> int:
    """1 / 0 / −1 from a position given as a number or as ``Long`` / ``Neutral`` / ``Short``
    (case-insensitive). Raises ValueError naming ``arg`` otherwise."""
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _WORD_TO_POS:
            return _WORD_TO_POS[key]
        try:
            value = float(key)
        except ValueError:
            raise ValueError(f"{arg} must be 1, 0, -1, Long, Neutral or Short, "
                             f"got {value!r}") from None
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{arg} must be 1, 0, -1, Long, Neutral or Short, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (1, 0, -1):
        return int(value)
    raise ValueError(f"{arg} must be 1, 0, -1, Long, Neutral or Short, got {value!r}")


def trade(prev: object, new: object) -> str:
    """Trade code from the previous position to the new one (``Trade`` column).

    Positions may be 1/0/−1 or ``Long``/``Neutral``/``Short``. 0→1 ``B`` (buy), 0→−1 ``S``
    (sell short), 1→0 ``CL`` (cover long), −1→0 ``CS`` (cover short), 1→−1 ``CL&S``,
    −1→1 ``CS&B``; an unchanged position gives ``""``.
    """
    p, n = to_position(prev, "prev"), to_position(new, "new")
    return _TRADES.get((p, n), "")


def trades(pos: pd.Series, initial: float | None = 0.0) -> pd.Series:
    """Trade codes for a position history (vectorized :func:`trade`).

    The first non-missing position is compared with ``initial`` (0 = flat before the history
    starts; ``None`` = no trade shown for the first month). Months without a position give
    ``""``.
    """
    p = pd.to_numeric(pos, errors="coerce").astype(float)
    prev = p.shift(1)
    first = p.first_valid_index()
    if first is not None:
        prev.loc[first] = np.nan if initial is None else float(initial)
    out = [
        _TRADES.get((int(a), int(b)), "") if np.isfinite(a) and np.isfinite(b) else ""
        for a, b in zip(prev.to_numpy(), p.to_numpy())
    ]
    return pd.Series(out, index=p.index, name="trade", dtype=object)


# ---------------------------------------------------------------------------- update dates
_RULES = ("MonthEnd", "15", "20")


def is_business_day(day: object, calendar: str = DEFAULT_CALENDAR) -> bool:
    """True when ``day`` is a session of ``calendar`` (:func:`engine.calendars.is_session`)."""
    return is_session(day, calendar)


def _month(month: object) -> pd.Period:
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    try:
        return pd.Timestamp(month).to_period("M")
    except (TypeError, ValueError):
        raise ValueError(f"month must be a date or a 'YYYY-MM' text, got {month!r}") from None


def _rule(rule: object) -> str:
    r = str(rule).strip().removesuffix(".0")
    if r not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}, got {rule!r}")
    return r


def update_date(month: object, rule: str = "MonthEnd",
                calendar: str = DEFAULT_CALENDAR) -> pd.Timestamp:
    """The model's update date in ``month`` (``Updated`` column).

    ``month``: any date in the month (Timestamp, date, ``"1998-12"``, Period). ``rule``:
    ``"MonthEnd"`` = last business day of the month; ``"15"`` / ``"20"`` = that day, or the
    last business day before it. Business days: the sessions of ``calendar`` (a MIC such as
    ``"XNYS"``, ``"XLON"``; :mod:`engine.calendars`).
    """
    rule = _rule(rule)
    m = _month(month)
    if rule == "MonthEnd":
        day = m.end_time.normalize()
    else:
        day = pd.Timestamp(year=m.year, month=m.month, day=int(rule))
    return pd.Timestamp(last_session([day], calendar)[0].date())


def update_date_of(observation: object, rule: str = "MonthEnd",
                   calendar: str = DEFAULT_CALENDAR) -> pd.Timestamp:
    """The update date an observation feeds (``Updated`` of a forecast made from it), on
    ``calendar``.

    ``MonthEnd``: the update of the observation's month. ``"15"`` / ``"20"``: the update of its
    month when it is dated on or before that day, else of the next month — the monthly sampling
    (:func:`engine.inputs.sampling.monthly`) assigns an observation dated after the 15th (20th)
    to the next month's update, e.g. a month-end price of 30 Nov to the update of 15 Dec."""
    d = pd.Timestamp(observation)
    r = _rule(rule)
    m = d.to_period("M")
    if r in ("15", "20") and d.day > int(r):
        m = m + 1
    return update_date(m, r, calendar)


def update_dates(dates: pd.DatetimeIndex | pd.Series, rule: str = "MonthEnd",
                 calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """:func:`update_date` on ``calendar`` for the month of each date (vectorized)."""
    idx = pd.DatetimeIndex(dates)
    months = idx.to_period("M")
    cache = {m: update_date(m, rule, calendar) for m in months.unique()}
    return pd.DatetimeIndex([cache[m] for m in months])
