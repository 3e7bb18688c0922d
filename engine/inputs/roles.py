"""What each ``Fundamentals`` column is (:data:`engine.domain.Role`): the workbook's ``Role``
row when it says, else a guess from the column's name — the guess ``gamma check`` lists, so
that a user sees how each input was read and can state it instead.

The words are those a user or a data vendor puts in a header: ``CPI_USA`` is a price level,
``T-Bill Rate`` a rate, ``Dividend Yield`` an equity's valuation yield, ``EARN_SPX`` a level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from engine.domain import Role, check_role

__all__ = ["fundamental_role", "column_roles"]

_PRICE_LEVEL_WORDS = ("CPI", "PPI", "HICP", "RPI", "DEFLATOR", "PRICELEVEL", "PRICE_LEVEL",
                      "PRICE LEVEL", "PRICEINDEX", "PRICE INDEX")
_RATE_WORDS = ("RATE", "BILL", "YIELD", "YLD", "SHORT", "FUNDS", "LIBOR", "SOFR", "INFL",
               "EURIBOR", "DEPO", "REPO")
_RATE_TOKENS = {"RF", "TB", "TB3M", "TB3MS", "FF", "DGS3MO"}
# a rate of change of a price level ("CPI YOY Index", "CPI Inflation"): a rate, not a level
_CHANGE_WORDS = ("YOY", "Y/Y", "INFL", "PCT", "%")


def fundamental_role(name: str, asset_class: str = "Equity") -> Role:
    """Role of a ``Fundamentals`` column (:data:`engine.domain.Role`) guessed from its name —
    the default when the workbook does not say (a ``Role`` row under the ``Fundamentals``
    header does; ``gamma check`` lists every column whose role was guessed).

    Returns ``"price_level"`` (CPI, PPI, HICP, RPI, deflator, price level: an index level, used
    to deflate prices, for PPP and, for yields, turned into 12-month inflation in %),
    ``"rate"`` (rate, bill, yield, short, funds, libor, infl…, or the tokens RF, TB, FF: in
    percentage points; also a price index's rate of change — YoY, y/y, infl, pct, % win over
    the price-level words, so ``"CPI YOY Index"`` is a rate), for an equity ``"yield"`` (a
    rate named like a valuation yield: ``Dividend Yield``, ``D/P``, ``E/P``, ``Earnings
    Yield``, in percent) or ``"level"`` (anything else: earnings, dividends, … used in logs).
    A name matching nothing (e.g. ``F1`` for a headerless Excel range) takes the asset class's
    default: Equity → level, Bond → rate, FX and Commodity → price_level.
    """
    u = str(name).upper()
    tokens = set(re.split(r"[^A-Z0-9]+", u))
    if any(w in u for w in _CHANGE_WORDS):
        return "rate"
    if any(w in u for w in _PRICE_LEVEL_WORDS):
        return "price_level"
    if asset_class == "Equity" and (any(w in u for w in ("D/P", "E/P")) or (
            any(w in u for w in ("DIV", "EARN")) and any(w in u for w in ("YIELD", "YLD")))):
        return "yield"
    if any(w in u for w in _RATE_WORDS) or tokens & _RATE_TOKENS:
        return "rate"
    if re.fullmatch(r"F\d+", u.strip()):
        return {"Equity": "level", "Bond": "rate"}.get(asset_class, "price_level")
    return "level"


def column_roles(columns: Iterable, asset_class: str = "Equity",
                 roles: Mapping[str, str] | None = None) -> dict[str, Role]:
    """Every column's :data:`engine.domain.Role`: the one ``roles`` gives (the workbook's
    ``Role`` row), else :func:`fundamental_role`'s guess from the name. ``asset_class`` is
    the model's (``"Bond"`` for any yield-quoted instrument). ValueError naming the column for
    a role that is not one of level, rate, yield, price level. A valuation yield is an
    equity's idea: for any other class a column given as ``yield`` is a rate."""
    given = dict(roles or {})
    out: dict[str, Role] = {}
    for c in columns:
        r = (check_role(given[str(c)], f"role of {c!r}") if given.get(str(c))
             else fundamental_role(str(c), asset_class))
        out[str(c)] = "rate" if r == "yield" and asset_class != "Equity" else r
    return out
