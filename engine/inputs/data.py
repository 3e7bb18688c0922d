"""Validated workbook data: the one object every model and table builder reads.

Conventions (see ``shared/DESIGN.md``):

* ``prices[code]`` is a monthly :class:`pandas.Series` with **one observation per calendar
  month**, indexed by the actual observation date (a :class:`pandas.Timestamp`): the last
  available value on or before the month-end for ``Update == "MonthEnd"`` instruments, on or
  before the 15th / 20th for instruments that update on those days. Prices are levels; yields
  are in percentage points as quoted (4.25 = 4.25 %).
* ``fundamentals`` keeps its own (any) frequency; use :func:`asof` to align a column on the
  price dates (last value known on each date, never a later one).
* ``returns`` holds monthly total returns as decimals (0.0073 = 0.73 %), indexed by month-end.
* ``settings`` maps the ``Settings`` keys (as typed, stripped) to their values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from engine.domain import ASSET_CLASSES, AssetClass, Quote  # noqa: F401 - re-exported


@dataclass
class Instrument:
    """One row of the ``Instruments`` sheet.

    ``maturity`` is in years (bonds only, else ``None``); ``neutral_band`` is in the forecast's
    own unit (decimal return for prices, percentage points for yields), ``None`` = the asset
    class default; ``update`` is one of ``"MonthEnd"``, ``"15"``, ``"20"``; ``calendar`` is
    the exchange calendar of its update days (a MIC such as ``"XNYS"``, :mod:`engine.calendars`;
    the reader fills a blank cell with :func:`engine.calendars.default_calendar`).
    """

    code: str
    name: str
    country: str
    asset_class: AssetClass
    quote: Quote = "Price"
    maturity: float | None = None
    update: str = "MonthEnd"
    fair_value_inputs: list[str] = field(default_factory=list)
    neutral_band: float | None = None
    calendar: str = "XNYS"
    row: int = 0  # row on the Instruments sheet, for messages

    @property
    def is_yield(self) -> bool:
        return self.quote == "Yield"


@dataclass
class WorkbookData:
    """Everything the engine reads from the input sheets, validated.

    ``asof`` is the as-of date of the refresh (``Settings!As Of`` or ``--asof``); the reader
    has already dropped every observation dated after it, so no model can see the future.
    """

    asof: pd.Timestamp
    instruments: dict[str, Instrument]
    prices: dict[str, pd.Series]
    fundamentals: pd.DataFrame
    returns: pd.DataFrame
    series: pd.DataFrame
    income: pd.DataFrame
    macro: pd.DataFrame
    settings: dict[str, object]
    raw_prices: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: list = field(default_factory=list)  # non-fatal Problems (stale series, …)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows of the History sheet

    def by_class(self, asset_class: str) -> list[Instrument]:
        """Instruments of one asset class, in sheet order."""
        return [i for i in self.instruments.values() if i.asset_class == asset_class]

    def fundamentals_for(self, code: str) -> pd.DataFrame:
        """The instrument's ``Fair Value Inputs`` aligned as of its price dates (monthly)."""
        inst = self.instruments[code]
        px = self.prices[code]
        cols = {c: asof(self.fundamentals[c], px.index) for c in inst.fair_value_inputs
                if c in self.fundamentals}
        return pd.DataFrame(cols, index=px.index)


def asof(series: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """Value of ``series`` known on each of ``dates``: the last non-missing observation dated
    on or before that date (NaN before the first one). Never uses a later observation."""
    s = series.dropna().sort_index()
    if s.empty:
        return pd.Series(float("nan"), index=dates, name=series.name)
    pos = s.index.searchsorted(dates, side="right") - 1
    vals = s.to_numpy()[pos.clip(min=0)].astype(float)
    vals[pos < 0] = float("nan")
    return pd.Series(vals, index=dates, name=series.name)


def setting(settings: dict, key: str, default: object = None) -> object:
    """A ``Settings`` value by key, matched case- and space-insensitively; ``default`` when
    absent or blank."""
    want = " ".join(key.split()).casefold()
    for k, v in (settings or {}).items():
        if " ".join(str(k).split()).casefold() == want:
            if v is None or (isinstance(v, str) and not v.strip()):
                return default
            if isinstance(v, float) and math.isnan(v):
                return default
            return v
    return default
