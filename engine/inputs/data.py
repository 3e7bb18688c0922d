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
* ``macro`` holds only the periods that had ended by the as-of date (plus the Settings
  ``Macro Publication Lag`` in months, default 0): :func:`macro_asof`.
* ``settings`` maps the ``Settings`` keys (as typed, stripped) to their values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from engine.domain import ASSET_CLASSES, AssetClass, Quote, Role  # noqa: F401 - re-exported
from engine.domain import macro_usable

_PAIR = re.compile(r"\b([A-Z]{3})\s*/?\s*([A-Z]{3})\b")


@dataclass
class Instrument:
    """One row of the ``Instruments`` sheet.

    ``maturity`` is in years (bonds only, else ``None``); ``neutral_band`` is in the forecast's
    own unit (decimal return for prices, percentage points for yields), ``None`` = the asset
    class default; ``update`` is one of ``"MonthEnd"``, ``"15"``, ``"20"``; ``unit`` is the
    optional ``Unit`` column (what a price level is: ``USD/bbl``, ``index, 1977-12-30 = 100``),
    blank = :attr:`unit_label`'s default; ``calendar`` is the exchange calendar of its update
    days (a MIC such as ``"XNYS"``, :mod:`engine.calendars`; the reader fills a blank cell
    with :func:`engine.calendars.default_calendar`).
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
    unit: str = ""

    @property
    def is_yield(self) -> bool:
        return self.quote == "Yield"

    @property
    def currencies(self) -> tuple[str, str] | None:
        """``(base, quote)`` of an FX pair from its name (``GBP/USD``) or a six-letter code
        (``GBPUSD``); ``None`` for other instruments or when neither says."""
        if self.asset_class != "FX":
            return None
        for text in (self.name, self.code):
            m = _PAIR.search(str(text).upper())
            if m:
                return m.group(1), m.group(2)
        return None

    @property
    def unit_label(self) -> str:
        """What the instrument's level is measured in: the ``Unit`` column when given, else
        ``% yield`` (yields), ``QUOTE per BASE`` (FX pairs), ``index points`` (equities),
        ``USD`` (commodities: the seed's "Cash/Futures Price ($)" convention; state the Unit
        of an index or a non-USD price)."""
        if self.unit.strip():
            return self.unit.strip()
        if self.is_yield:
            return "% yield"
        if self.asset_class == "FX":
            pair = self.currencies
            return f"{pair[1]} per {pair[0]}" if pair else "exchange rate"
        return "index points" if self.asset_class == "Equity" else "USD"

    @property
    def level_title(self) -> str:
        """Axis title of the instrument's level with its unit: ``Yield (%)``, ``Rate (USD per
        GBP)``, ``Price (USD/bbl)``, ``Level (index, 1977-12-30 = 100)``."""
        if self.is_yield:
            return "Yield (%)"
        unit = self.unit_label
        word = ("Rate" if self.asset_class == "FX" else
                "Level" if "index" in unit.lower() else "Price")
        return f"{word} ({unit})"

    @property
    def label(self) -> str:
        """Name and code for titles: ``S&P 500 (SPX)``; a name that already ends in a
        parenthesis is not given a second one (``Gold (index) · GOLD``)."""
        name = str(self.name).strip()
        if not name or name == self.code:
            return self.code
        return f"{name} · {self.code}" if name.endswith(")") else f"{name} ({self.code})"


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
    # the Fundamentals sheet's Role row: column -> Role, only the columns it names
    fundamental_roles: dict[str, Role] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # how inputs were read (roles guessed, …)
    # code -> the suspect-value warnings of its prices and its Fair Value Inputs
    suspects: dict[str, list] = field(default_factory=dict)

    @property
    def config(self):
        """The ``Settings`` sheet typed (:class:`engine.inputs.settings.Settings`): what every
        builder and PDF reads instead of looking keys up itself. Read from ``settings`` on
        each access (a few lookups), so it never lags an edit of ``settings``."""
        from engine.inputs.settings import read_settings  # it imports this module

        return read_settings(self.settings)

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

    def roles_for(self, code: str) -> dict[str, Role]:
        """The roles the Fundamentals sheet's ``Role`` row gives the instrument's ``Fair Value
        Inputs`` (columns it leaves blank are absent: the models guess them from the name)."""
        return {c: self.fundamental_roles[c] for c in self.instruments[code].fair_value_inputs
                if c in self.fundamental_roles}


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


MACRO_LAG_KEY = "Macro Publication Lag"


def macro_lag(settings: dict) -> int:
    """Settings ``Macro Publication Lag``: whole months after a period's end before its
    figure is used (default 0); ValueError naming the key for anything but 0 … 12."""
    v = setting(settings, MACRO_LAG_KEY, 0)
    try:
        n = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"Settings '{MACRO_LAG_KEY}': expected whole months 0 … 12, "
                         f"got {v!r}") from None
    if not n.is_integer() or not 0 <= n <= 12:
        raise ValueError(f"Settings '{MACRO_LAG_KEY}': expected whole months 0 … 12, got {v!r}")
    return int(n)


def macro_asof(macro: pd.DataFrame, asof: pd.Timestamp, lag_months: int = 0) -> pd.DataFrame:
    """The rows of a Macro frame (column ``Period``: ``"1998"``, ``"1998Q4"``) usable as of
    ``asof``: periods that ended, plus ``lag_months``, on or before it
    (:func:`engine.domain.macro_usable`). No look-ahead: a report as of 1998-12-31 never
    sees 1999 or later, whatever the Base Period."""
    if macro is None or len(macro) == 0 or "Period" not in macro:
        return macro
    keep = [macro_usable(p, asof, lag_months) for p in macro["Period"]]
    return macro.loc[keep].reset_index(drop=True)
