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
* Months are calendar months; business days are those of :mod:`engine.models.signals`
  (Monday–Friday minus the US federal holidays).
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["Quote", "AssetClass", "Role", "QUOTES", "ASSET_CLASSES", "ROLES", "MIN_HISTORY",
           "MIN_TRAIN", "MIN_MEAN", "YIELD_RANGE", "MAX_MONTHLY_RETURN", "check_quote",
           "check_asset_class", "check_role"]

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
