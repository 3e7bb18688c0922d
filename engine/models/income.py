"""Income-strategy figures from the ``Income`` sheet (seed ``000_…``: "MBS Income … annualized",
"Cashflow", "Loss rate").

Input: a DataFrame indexed by month-end dates with columns ``Income``, ``Cashflow``, ``Loss``:
monthly rates as decimals of the portfolio (0.01 = 1 % of the portfolio in the month). A
negative ``Loss`` is a gain from recoveries on earlier losses (the newsletter: "a negative loss
rate is a gain from subsequent recoveries") and is kept negative.

Conventions (docs/performance.md):

* Month (ann.) = month rate × 12 — simple, as the newsletter does (+1.00 % → +12.0 %).
* YTD = the **sum** of the monthly rates January … as-of month (income and cashflow are flows
  paid out of the portfolio, not reinvested returns, so they add up; loss rates likewise).
* YTD (ann.) = YTD × 12 / (number of months in the YTD), again simple: the standard
  annualization of a year-to-date rate.
* Full Year (run rate) = YTD + (12 − months) × the as-of month's rate: the year-to-date
  income plus the rest of the year at the current monthly run rate (a run-rate projection of
  the calendar year, not an annualization of the YTD). This is the convention behind the
  newsletter's "YTD 2023 MBS Income: +13.6 %, 14.6 % annualized": 13.6 % + 1 × 1.00 % = 14.6 %,
  where YTD × 12 / 11 gives 14.84 %. In December it equals YTD.
* The as-of month is :func:`engine.models.performance.asof_month` (the month before when the
  as-of date is before its month's last business day), as for the performance figures.
* A missing month inside the YTD window blanks the YTD figures with a note (never a silently
  shorter YTD); a record that starts after January of the as-of year likewise gives a blank
  YTD with a note, like the performance YTD.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.models.performance import asof_month

__all__ = ["INCOME_FIGURES", "income_figures"]

INCOME_FIGURES = ("Income", "Cashflow", "Loss")
COLUMNS = ("Month", "Month (ann.)", "YTD", "YTD (ann.)", "Full Year (run rate)", "YTD Months",
           "Note")


def _monthly_column(income: pd.DataFrame, col: str) -> pd.Series:
    s = pd.to_numeric(income[col], errors="coerce").astype(float)
    per = pd.DatetimeIndex(income.index).to_period("M")
    if per.has_duplicates:
        raise ValueError(f"income: must have one row per month, got two in "
                         f"{per[per.duplicated()][0]}")
    return pd.Series(s.to_numpy(), index=per).sort_index()


def income_figures(income: pd.DataFrame, asof) -> pd.DataFrame:
    """Month and year-to-date income, cashflow and loss rates (decimals) at the as-of month.

    Returns a DataFrame indexed by ``Income``, ``Cashflow``, ``Loss`` with columns ``Month``
    (the as-of month's rate), ``Month (ann.)`` (× 12), ``YTD`` (sum of the monthly rates
    January … as-of month), ``YTD (ann.)`` (YTD × 12 / months), ``Full Year (run rate)``
    (YTD + (12 − months) × Month), ``YTD Months`` and ``Note``.
    Loss: positive = loss, negative = net recovery. Raises ValueError naming the argument
    when a column is absent or the index is not dates."""
    if not isinstance(income, pd.DataFrame):
        raise ValueError(f"income: expected a DataFrame, got {type(income).__name__}")
    lower = {str(c).strip().lower(): c for c in income.columns}
    missing = [c for c in INCOME_FIGURES if c.lower() not in lower]
    if missing:
        raise ValueError(f"income: needs columns {', '.join(INCOME_FIGURES)}; missing "
                         f"{', '.join(missing)} (got {list(income.columns)})")
    if not isinstance(income.index, pd.DatetimeIndex):
        try:
            income = income.set_axis(pd.DatetimeIndex(income.index))
        except (TypeError, ValueError):
            raise ValueError("income: index must be month-end dates") from None
    end = asof_month(asof)  # a mid-month as-of: the month before (no look-ahead)
    months = pd.period_range(pd.Period(f"{end.year}-01", "M"), end, freq="M")
    out = []
    for name in INCOME_FIGURES:
        s = _monthly_column(income, lower[name.lower()])
        notes = []
        m = float(s.get(end, math.nan))
        if math.isnan(m):
            notes.append(f"no {name} for {end}")
        w = s.reindex(months).to_numpy()
        valid = s.dropna()
        if valid.empty or valid.index[0] > months[0]:
            ytd = math.nan
            first = "no data" if valid.empty else f"starts {valid.index[0]}"
            notes.append(f"YTD: {first}, after {months[0]}")
        elif np.isnan(w).any():
            miss = [str(p) for p, v in zip(months, w) if np.isnan(v)]
            ytd = math.nan
            notes.append(f"YTD: missing month {', '.join(miss[:3])}")
        else:
            ytd = float(w.sum())
        n = len(months)
        out.append({"Month": m, "Month (ann.)": m * 12.0, "YTD": ytd,
                    "YTD (ann.)": ytd * 12.0 / n, "Full Year (run rate)": ytd + (12 - n) * m,
                    "YTD Months": n, "Note": "; ".join(notes)})
    return pd.DataFrame(out, index=list(INCOME_FIGURES), columns=list(COLUMNS))
