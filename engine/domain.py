"""The facts every layer shares, in one place: what an instrument can be and how much history
each model needs. Inputs, models, tables, the add-in and the reports import them from here.

* :data:`Quote` — how an instrument is quoted: ``"Price"`` (a level > 0: equities, FX pairs
  ``BASE/QUOTE``, commodities) or ``"Yield"`` (percent per year, 4.25 = 4.25 %: bonds).
* :data:`AssetClass` — ``"Equity"``, ``"Bond"``, ``"FX"`` or ``"Commodity"`` (DESIGN.md,
  ``Instruments`` sheet).
* Minimum histories, in months of observations: :data:`MIN_HISTORY` before a valuation σ,
  :data:`MIN_TRAIN` training pairs before a one-month predictor regression forecasts,
  :data:`MIN_MEAN` changes before a prevailing mean (and a change's standard deviation).
* :data:`Role` — what a ``Fundamentals`` column is: ``"level"`` (an amount such as earnings or
  dividends, used in logs), ``"rate"`` (percentage points: a short rate, a bond's inflation
  rate), ``"yield"`` (an equity's valuation yield in percent: dividend or earnings yield) or
  ``"price_level"`` (an index level such as the CPI: deflator, PPP, inflation).
* :data:`YIELD_RANGE` — the yields (percent) an input or a forecast may reach;
  :data:`MAX_MONTHLY_RETURN` — the bound of a monthly decimal return.
* Macro periods (``"1998"``, ``"1998Q4"``, :func:`parse_period`): :func:`period_end` is the
  last day of the year or quarter; a period is usable at an as-of date only once it has ended
  (:func:`macro_usable`).
* Months are calendar months; business days are the sessions of an instrument's exchange
  calendar (:mod:`engine.calendars`, default ``XNYS``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, get_args

import pandas as pd

__all__ = ["Quote", "AssetClass", "Role", "QUOTES", "ASSET_CLASSES", "ROLES", "MIN_HISTORY",
           "MIN_TRAIN", "MIN_MEAN", "YIELD_RANGE", "MAX_MONTHLY_RETURN", "check_quote",
           "check_asset_class", "check_role", "parse_period", "period_end", "macro_usable"]

Quote = Literal["Price", "Yield"]
AssetClass = Literal["Equity", "Bond", "FX", "Commodity"]
QUOTES: tuple[Quote, ...] = get_args(Quote)
ASSET_CLASSES: tuple[AssetClass, ...] = get_args(AssetClass)
Role = Literal["level", "rate", "yield", "price_level"]
ROLES: tuple[Role, ...] = get_args(Role)

MIN_HISTORY = 60  # months of prices before a fair value and σ
MIN_TRAIN = 36    # (predictor, next change) pairs before a one-month regression forecasts
MIN_MEAN = 12     # realised changes before the prevailing mean and standard deviation
# Yields the engine accepts, in percent: an input outside is refused (almost surely a unit
# error) and a yield forecast that would take the yield outside is impossible.
YIELD_RANGE = (-5.0, 40.0)
# A monthly decimal return must be below +100 % (and at least -100 %): 1.5 is a percent typed
# as a number, not a month's return. The Returns sheet and gamma_perf apply it alike.
MAX_MONTHLY_RETURN = 1.0


def check_quote(quote: object, argument: str = "quote") -> Quote:
    """``quote`` if it is a :data:`Quote`, else ValueError naming ``argument``."""
    if quote not in QUOTES:
        raise ValueError(f"{argument} must be 'Price' or 'Yield', got {quote!r}")
    return quote  # type: ignore[return-value]


def check_asset_class(asset_class: object, argument: str = "asset_class") -> AssetClass:
    """``asset_class`` if it is an :data:`AssetClass`, else ValueError naming ``argument``."""
    if asset_class not in ASSET_CLASSES:
        raise ValueError(f"{argument} must be one of {', '.join(ASSET_CLASSES)}, got "
                         f"{asset_class!r}")
    return asset_class  # type: ignore[return-value]


def check_role(role: object, argument: str = "role") -> Role:
    """``role`` if it is a :data:`Role` (``"price level"`` with a space is accepted, any
    case), else ValueError naming ``argument``."""
    r = str(role).strip().lower().replace(" ", "_") if isinstance(role, str) else role
    if r not in ROLES:
        raise ValueError(f"{argument} must be one of level, rate, yield, price level, got "
                         f"{role!r}")
    return r  # type: ignore[return-value]
_RX = [re.compile(r"^(\d{4})$"),
       re.compile(r"^(\d{4})\s*[-/ ]?\s*Q([1-4])$", re.IGNORECASE),
       re.compile(r"^Q([1-4])\s*[-/ ]?\s*(\d{4})$", re.IGNORECASE)]


def parse_period(value: Any, arg: str = "periods") -> tuple[int, int]:
    """``(year, quarter)`` from ``2019`` / ``"2019"`` (quarter 0 = a whole year) or
    ``"2023Q1"`` / ``"2023 Q1"`` / ``"Q1 2023"``; ValueError naming ``arg`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{arg}: expected a year or a quarter like 2023Q1, got {value!r}")
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        if float(value).is_integer() and 1000 <= value <= 9999:
            return int(value), 0
        raise ValueError(f"{arg}: expected a year or a quarter like 2023Q1, got {value!r}")
    s = str(value).strip()
    if m := _RX[0].match(s):
        return int(m.group(1)), 0
    if m := _RX[1].match(s):
        return int(m.group(1)), int(m.group(2))
    if m := _RX[2].match(s):
        return int(m.group(2)), int(m.group(1))
    raise ValueError(f"{arg}: expected a year or a quarter like 2023Q1, got {value!r}")


def period_end(period: object) -> pd.Timestamp:
    """Last day (midnight) of a Macro period: ``"1998"`` → 1998-12-31, ``"1998Q1"`` →
    1998-03-31 (any form :func:`parse_period` reads). ValueError naming ``period`` otherwise."""
    year, q = parse_period(period, "period")
    q = q or 4
    return pd.Period(year=year, month=3 * q, freq="M").to_timestamp(how="end").normalize()


def macro_usable(period: object, asof: object, lag_months: int = 0) -> bool:
    """Whether a Macro period may be used in a refresh as of ``asof``: it has ended, plus
    ``lag_months`` whole months for publication, on or before ``asof`` (so a quarter is
    never used while it is still running; with the default lag 0 the 1998Q4 figure is usable
    from 1998-12-31)."""
    end = period_end(period)
    if lag_months:
        end = (end.to_period("M") + int(lag_months)).to_timestamp(how="end").normalize()
    return end <= pd.Timestamp(asof).normalize()
