"""The facts every layer shares, in one place: what an instrument can be and how much history
each model needs. Inputs, models, tables, the add-in and the reports import them from here.

* :data:`Quote` — how an instrument is quoted: ``"Price"`` (a level > 0: equities, FX pairs
  ``BASE/QUOTE``, commodities) or ``"Yield"`` (percent per year, 4.25 = 4.25 %: bonds).
* :data:`AssetClass` — ``"Equity"``, ``"Bond"``, ``"FX"`` or ``"Commodity"`` (DESIGN.md,
  ``Instruments`` sheet).
* Minimum histories, in months of observations: :data:`MIN_HISTORY` before a valuation σ,
  :data:`MIN_TRAIN` training pairs before a one-month predictor regression forecasts,
  :data:`MIN_MEAN` changes before a prevailing mean (and a change's standard deviation).
* Months are calendar months; business days are the sessions of an instrument's exchange
  calendar (:mod:`engine.calendars`, default ``XNYS``).
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["Quote", "AssetClass", "QUOTES", "ASSET_CLASSES", "MIN_HISTORY", "MIN_TRAIN",
           "MIN_MEAN", "check_quote", "check_asset_class"]

Quote = Literal["Price", "Yield"]
AssetClass = Literal["Equity", "Bond", "FX", "Commodity"]
QUOTES: tuple[Quote, ...] = get_args(Quote)
ASSET_CLASSES: tuple[AssetClass, ...] = get_args(AssetClass)

MIN_HISTORY = 60  # months of prices before a fair value and σ
MIN_TRAIN = 36    # (predictor, next change) pairs before a one-month regression forecasts
MIN_MEAN = 12     # realised changes before the prevailing mean and standard deviation


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
