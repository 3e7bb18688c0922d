"""The one-month forecasting problem's variables, each known at month t: the realised change,
12-1 momentum, a fundamental series turned into the predictor the literature uses, and the
parts of the equity sum-of-parts forecast. Shared by the composite and the skill harness.

Units: a change is the simple return ``P[t]/P[t−1] − 1`` (decimal) for prices and the yield
change ``Y[t] − Y[t−1]`` in percentage points for yields. Months are calendar months: a row
whose previous calendar month has no observation has no one-month change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from engine.domain import Quote, check_quote
from engine.inputs.data import asof
from engine.inputs.sampling import after_previous_month, month_ids
from engine.inputs.roles import column_roles, fundamental_role

__all__ = ["realized_changes", "momentum_12_1", "predictor", "CashFlow", "cash_flow",
           "sum_of_parts", "SOP_WINDOW", "SOP_MIN_MONTHS"]

SOP_WINDOW = 240      # months of cash-flow growth averaged (Ferreira & Santa-Clara: 20 years)
SOP_MIN_MONTHS = 120  # ... of which at least this many before the sum of parts is used


def realized_changes(prices: pd.Series, quote: str = "Price") -> pd.Series:
    """Change from the previous month to t, per row t: decimal simple return for prices,
    percentage-point change for yields. NaN in the first row and after a missing month (the
    previous observation is not from the previous calendar month): a change over two months
    or more is neither trained on nor scored as a one-month change."""
    check_quote(quote)
    ch = prices / prices.shift(1) - 1.0 if quote == "Price" else prices.diff()
    return ch.where(after_previous_month(prices.index))


def _months_back(level: np.ndarray, index: pd.DatetimeIndex, k: int) -> np.ndarray:
    """``level`` of the calendar month k months before each row's month (NaN if absent)."""
    ids = month_ids(index)
    by_month = pd.Series(level, index=ids)
    by_month = by_month[~by_month.index.duplicated(keep="last")]
    return by_month.reindex(ids - k).to_numpy()


def momentum_12_1(prices: pd.Series, quote: str = "Price") -> pd.Series:
    """12-1 momentum known at t: log(P[m−1]/P[m−12]) for prices, Y[m−1] − Y[m−12] (pp) for
    yields, with m the calendar month of row t (the most recent month is skipped, as usual);
    NaN when either month has no observation."""
    check_quote(quote)
    level = (np.log(prices) if quote == "Price" else prices).to_numpy(dtype=float)
    mom = _months_back(level, prices.index, 1) - _months_back(level, prices.index, 12)
    return pd.Series(mom, index=prices.index)


def predictor(values: pd.Series, name: str, prices: pd.Series, quote: str,
              asset_class: str, role: str | None = None) -> pd.Series:
    """The fundamental ``name`` as a one-month predictor, known at each price date.

    By ``role`` (:data:`engine.domain.Role`; ``None``: guessed from the name by
    :func:`engine.inputs.roles.fundamental_role`): a level (earnings, dividends) is used as
    the log valuation ratio log(F/P); an equity's valuation yield (``Dividend Yield``, in
    percent) in logs; a rate (percentage points) as it is — for a yield-quoted instrument, as
    the spread of the yield over it (the term spread); a price level (CPI) as 12-month
    inflation in percent. NaN where a log is undefined."""
    if role is None:
        role = fundamental_role(name, "Bond" if quote == "Yield" else asset_class)
    f = asof(pd.to_numeric(values, errors="coerce"), prices.index).to_numpy(dtype=float)
    p = prices.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if role == "level":
            x = np.log(np.where(f > 0, f, np.nan)) - np.log(np.where(p > 0, p, np.nan))
        elif role == "price_level":
            lf = np.log(np.where(f > 0, f, np.nan))
            x = 100.0 * (lf - pd.Series(lf).shift(12).to_numpy())
        elif role == "yield":
            x = np.log(np.where(f > 0, f, np.nan))
        elif quote == "Yield":
            x = p - f
        else:
            x = f
    return pd.Series(x, index=prices.index, name=name)


class CashFlow(NamedTuple):
    """An equity's cash flow as known at each price date: ``yield_`` the annual cash-flow
    yield (decimal, 0.04 = 4 %) and ``level`` the cash flow itself (its unit cancels in
    growth rates); ``source`` the fundamentals column used."""

    yield_: np.ndarray
    level: np.ndarray
    source: str


def cash_flow(prices: pd.Series, fundamentals: pd.DataFrame | None,
              roles: Mapping[str, str] | None = None) -> CashFlow | None:
    """The cash flow behind an equity's sum of parts, or ``None`` without one: dividends
    before earnings; a column whose role (``roles``, else guessed from the name) is a
    valuation yield (``Dividend Yield``, in percent) or a level (``Dividends``, ``EARN_SPX``:
    the yield is then F/P)."""
    if fundamentals is None or len(fundamentals.columns) == 0:
        return None
    cands = []
    known = column_roles(fundamentals.columns, "Equity", roles)
    for col in fundamentals.columns:
        role = known[str(col)]
        u = str(col).upper()
        if role == "yield":
            cands.append((0 if "DIV" in u or "D/P" in u else 1, col, "rate"))
        elif role == "level":
            cands.append((0 if "DIV" in u else 1, col, "level"))
    if not cands:
        return None
    _, col, role = min(cands, key=lambda c: c[0])
    f = asof(pd.to_numeric(fundamentals[col], errors="coerce"), prices.index).to_numpy(float)
    p = prices.to_numpy(dtype=float)
    f = np.where(f > 0, f, np.nan)
    if role == "rate":
        y = f / 100.0
        return CashFlow(y, y * p, str(col))
    return CashFlow(f / p, f, str(col))


def sum_of_parts(prices: pd.Series, fundamentals: pd.DataFrame | None,
                 roles: Mapping[str, str] | None = None) -> pd.Series:
    """Ferreira & Santa-Clara (2011) sum-of-parts forecast of the next month's return of an
    equity index (decimal simple return), known at t:

        exp((log(1 + D/P_t) + ḡ_t) / 12) − 1,

    with D/P the cash-flow yield of :func:`cash_flow` and ḡ the mean 12-month log growth of the
    cash flow over the last :data:`SOP_WINDOW` months (at least :data:`SOP_MIN_MONTHS`) — the
    multiple's growth taken as zero. NaN where no cash flow is given or the growth history is
    too short. (For an index quoted without dividends the yield part overstates the price
    return's level; it is kept because the walk-forward record is better with it — see
    docs/methodology.md.)"""
    cf = cash_flow(prices, fundamentals, roles)
    if cf is None:
        return pd.Series(np.nan, index=prices.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        lv = np.log(cf.level)
    g = lv - _months_back(lv, prices.index, 12)
    gbar = pd.Series(g).rolling(SOP_WINDOW, min_periods=SOP_MIN_MONTHS).mean().to_numpy()
    return pd.Series(np.expm1((np.log1p(cf.yield_) + gbar) / 12.0), index=prices.index)
