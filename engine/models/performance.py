"""Performance figures from monthly total returns (seed ``000_…``: the performance table).

Conventions (DESIGN.md, docs/performance.md):

* A return series is a :class:`pandas.Series` of **monthly total returns as decimals**
  (0.0173 = +1.73 %), indexed by month-end dates, one observation per calendar month.
  A month inside the record with no value (absent or NaN) is a *missing month*.
* Returns are linked **geometrically**: ``prod(1 + r) - 1``.
* A window of N months is **exactly N month-ends ending at the as-of month** (``Trailing 1 Yr``
  = the 12 months ``asof-11 … asof``). A window that starts before the series' first month, or
  contains a missing month, gives NaN with a note — never a silently shorter window.
  The as-of month is the as-of date's month once the date reaches that month's last business
  day, else the month before (:func:`asof_month`): a mid-month as-of never sees the return
  dated at the end of its month.
* Only periods of 12 months or more are annualized: ``(1 + R)^(12/n) - 1``.
* Volatility: sample standard deviation of the monthly returns (``ddof=1``) × √12.
* Sharpe: monthly excess returns ``e = r - rf`` over the same window (rf = the risk-free
  series' monthly return, decimal, same month), ``mean(e) / std(e, ddof=1) × √12``
  (annualized from monthly data; dimensionless).
* Max drawdown: ``min(W / cummax(W) - 1)`` of the wealth index ``W`` that starts at 1 the
  month before the first return; a **negative decimal** (-0.25 = a 25 % peak-to-trough loss),
  0 when the series never fell below a previous peak.

Every ``(value, note)`` pair below returns ``note == ""`` when the value is a number and a
short reason when it is NaN (or, for *Since Inception*, when it is not annualized).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from engine.domain import MAX_MONTHLY_RETURN

__all__ = [
    "PERF_COLUMNS",
    "annualize",
    "asof_month",
    "best_worst_month",
    "calendar_year_return",
    "drawdown_series",
    "link",
    "max_drawdown",
    "newsletter_table",
    "performance_row",
    "performance_table",
    "relative_stats",
    "setting",
    "sharpe",
    "since_inception",
    "to_monthly",
    "trailing_return",
    "valid_series_meta",
    "volatility",
    "wealth_index",
    "window_return",
    "ytd_return",
]

SQRT12 = math.sqrt(12.0)
MAX_DECIMAL_RETURN = 1e6  # a gain of a millionfold in one period: only a typing or unit error


def to_monthly(returns: pd.Series, arg: str = "returns", inception=None) -> pd.Series:
    """The series on a complete monthly :class:`pandas.PeriodIndex` (freq ``M``).

    Starts at the first month with a value (or at ``inception``'s month if later; earlier
    values are dropped) and ends at the last month with a value; months in between without a
    value are NaN (missing). Raises ValueError naming ``arg`` for a non-date index, two values
    in one month, a return below -100 % or one of +100 % or more
    (:data:`engine.domain.MAX_MONTHLY_RETURN`: a percent typed as a decimal)."""
    if not isinstance(returns, pd.Series):
        raise ValueError(f"{arg}: expected a pandas Series of monthly decimal returns, "
                         f"got {type(returns).__name__}")
    if inception is None and _is_monthly(returns):
        return returns  # already the output of this function
    idx = returns.index
    if not isinstance(idx, (pd.DatetimeIndex, pd.PeriodIndex)):
        try:
            idx = pd.DatetimeIndex(idx)
        except (TypeError, ValueError):
            raise ValueError(f"{arg}: index must be month-end dates, got "
                             f"{type(returns.index).__name__}") from None
    per = idx.to_period("M") if isinstance(idx, pd.DatetimeIndex) else idx.asfreq("M")
    vals = pd.to_numeric(pd.Series(returns.to_numpy(), index=per), errors="coerce")
    vals = vals.astype(float)
    if per.has_duplicates:
        dup = per[per.duplicated()][0]
        raise ValueError(f"{arg}: must have one return per month, got two in {dup}")
    vals = vals.sort_index()
    low = vals[vals < -1.0]
    if len(low):
        raise ValueError(f"{arg}: monthly returns are decimals and cannot be below -1 "
                         f"(-100 %), got {low.iloc[0]} in {low.index[0]}")
    high = vals[vals >= MAX_MONTHLY_RETURN]
    if len(high):
        raise ValueError(f"{arg}: {high.iloc[0]:g} in {high.index[0]} is not a monthly decimal "
                         "return (0.0073 = 0.73 %; a month's return must be below +100 %)")
    if inception is not None and not pd.isna(inception):
        vals = vals[vals.index >= pd.Period(pd.Timestamp(inception), "M")]
    valid = vals.dropna()
    if valid.empty:
        return pd.Series([], index=pd.PeriodIndex([], freq="M"), dtype=float, name=returns.name)
    full = pd.period_range(valid.index[0], valid.index[-1], freq="M")
    out = vals.reindex(full)
    out.name = returns.name
    return out


def _is_monthly(r: pd.Series) -> bool:
    """True for a float Series on a gap-free monthly PeriodIndex starting and ending with a
    value and every return in [-1, MAX_MONTHLY_RETURN) (what :func:`to_monthly` returns)."""
    idx = r.index
    if not (isinstance(idx, pd.PeriodIndex) and idx.freqstr == "M" and r.dtype == float):
        return False
    if len(r) == 0:
        return True
    v = r.to_numpy()
    return bool((idx[-1] - idx[0]).n == len(idx) - 1 and idx.is_monotonic_increasing
                and not np.isnan(v[0]) and not np.isnan(v[-1]) and not (v < -1).any()
                and not (v >= MAX_MONTHLY_RETURN).any())


def link(returns: Iterable[float]) -> float:
    """Geometrically linked return of decimal monthly returns: ``prod(1 + r) - 1`` (decimal).

    Raises ValueError if there are no returns, a missing value, a return below -1 or above
    :data:`MAX_DECIMAL_RETURN` (a typing or unit error), or when the product overflows."""
    r = np.asarray(list(returns) if not isinstance(returns, (pd.Series, np.ndarray)) else returns,
                   dtype=float)
    if r.size == 0:
        raise ValueError("returns: need at least one return to link, got none")
    if np.isnan(r).any():
        raise ValueError(f"returns: missing value at position {int(np.argmax(np.isnan(r)))}")
    if (r < -1).any():
        raise ValueError(f"returns: a decimal return cannot be below -1, got {r[r < -1][0]}")
    if (r > MAX_DECIMAL_RETURN).any():
        k = int(np.argmax(r > MAX_DECIMAL_RETURN))
        raise ValueError(f"returns: {r[k]:g} at position {k + 1} is not a decimal return (no "
                         f"asset has gained more than {MAX_DECIMAL_RETURN:g} times its value "
                         "in one period: a typing or unit error)")
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.prod(1.0 + r) - 1.0)
    if not math.isfinite(total):
        raise ValueError(f"returns: the linked return of {r.size} returns is beyond the "
                         "largest number Excel holds; are they decimals (0.0073 = 0.73 %)?")
    return total


def annualize(total_return: float, months: int) -> float:
    """Annualized rate ``(1 + R)^(12/months) - 1`` of a total (linked) decimal return R over
    ``months`` months. Periods under 12 months are never annualized: ValueError."""
    if isinstance(months, bool) or not float(months).is_integer():
        raise ValueError(f"months: must be a whole number of months, got {months!r}")
    months = int(months)
    if months < 12:
        raise ValueError(f"months: periods under 12 months are never annualized, got {months}")
    if not math.isfinite(total_return) or total_return < -1:
        raise ValueError(f"total_return: must be a decimal return >= -1, got {total_return}")
    return float((1.0 + total_return) ** (12.0 / months) - 1.0)


def _asof_period(asof) -> pd.Period:
    """The calendar month containing a date (a ``pd.Period`` or a ``"YYYY-MM"`` text is that
    month)."""
    if isinstance(asof, pd.Period):
        return asof.asfreq("M")
    try:
        return pd.Period(pd.Timestamp(asof), "M")
    except (TypeError, ValueError):
        raise ValueError(f"asof: expected a date, got {asof!r}") from None


_YEAR_MONTH = re.compile(r"^\s*\d{4}-\d{1,2}\s*$")


def asof_month(asof) -> pd.Period:
    """The last month whose month-end return is known at ``asof``: the as-of date's own month
    when the date is on or after that month's last business day (the ``MonthEnd`` update day
    of :func:`engine.models.signals.update_date` on the default calendar, ``XNYS``: returns
    carry no exchange of their own), else
    the month before (an as-of of 1998-12-15 cannot see the December return dated
    1998-12-31: no look-ahead). A ``pd.Period`` or a ``"YYYY-MM"`` text names the month
    itself."""
    from engine.models.signals import update_date

    per = _asof_period(asof)
    if isinstance(asof, pd.Period) or (isinstance(asof, str) and _YEAR_MONTH.match(asof)):
        return per
    day, end = pd.Timestamp(asof).normalize(), per.end_time.normalize()
    if day >= end:  # the update has passed: no need to build the calendar (~0.3 s)
        return per
    return per if day >= update_date(per, "MonthEnd") else per - 1


def _window(r: pd.Series, end: pd.Period, n: int) -> tuple[np.ndarray | None, str]:
    """Values of the n months ending at ``end`` of a :func:`to_monthly` series, or a reason."""
    if r.empty:
        return None, "no returns"
    first, last = r.index[0], r.index[-1]
    start = end - (n - 1)
    if end > last:
        return None, f"no return for {end} (last is {last})"
    if start < first:
        have = max((end - first).n + 1, 0)
        return None, f"needs {n} months, has {have} (from {first})"
    w = r.loc[start:end].to_numpy()
    if np.isnan(w).any():
        miss = [str(p) for p, v in zip(pd.period_range(start, end, freq="M"), w) if np.isnan(v)]
        return None, f"missing month {', '.join(miss[:3])}" + ("…" if len(miss) > 3 else "")
    return w, ""


def window_return(returns: pd.Series, start, end) -> tuple[float, str]:
    """Linked return (decimal) over the months ``start … end`` inclusive (dates or periods);
    NaN + reason if the series does not cover every one of those months."""
    r = to_monthly(returns)
    s, e = _asof_period(start), _asof_period(end)
    if e < s:
        raise ValueError(f"end: must not be before start, got {s} … {e}")
    w, note = _window(r, e, (e - s).n + 1)
    return (float(np.prod(1.0 + w) - 1.0), "") if w is not None else (math.nan, note)


def trailing_return(returns: pd.Series, asof, months: int, annualized: bool | None = None,
                    ) -> tuple[float, str]:
    """Return over exactly ``months`` month-ends ending at the as-of month (decimal);
    annualized when ``annualized`` (default: when months > 12; 12 months is the same either
    way). ``annualized=True`` with months < 12 is a ValueError."""
    if months < 1:
        raise ValueError(f"months: must be at least 1, got {months}")
    if annualized and months < 12:
        raise ValueError(f"months: periods under 12 months are never annualized, got {months}")
    w, note = _window(to_monthly(returns), asof_month(asof), months)
    if w is None:
        return math.nan, note
    total = float(np.prod(1.0 + w) - 1.0)
    if annualized is None:
        annualized = months > 12
    return (annualize(total, months) if annualized else total), ""


def ytd_return(returns: pd.Series, asof) -> tuple[float, str]:
    """Year-to-date return (decimal, not annualized): January … as-of month of the as-of year.
    A series that starts after January of that year gives NaN with a note."""
    end = asof_month(asof)
    w, note = _window(to_monthly(returns), end, end.month)
    return (float(np.prod(1.0 + w) - 1.0), "") if w is not None else (math.nan, note)


def calendar_year_return(returns: pd.Series, year: int, asof=None) -> tuple[float, str]:
    """Return of calendar year ``year`` (decimal, January … December linked). NaN + note if
    the year is not complete by ``asof`` or the series does not cover all 12 months."""
    end = pd.Period(f"{int(year)}-12", "M")
    if asof is not None and asof_month(asof) < end:
        return math.nan, f"{year} not complete at {asof_month(asof)}"
    w, note = _window(to_monthly(returns), end, 12)
    return (float(np.prod(1.0 + w) - 1.0), "") if w is not None else (math.nan, note)


def since_inception(returns: pd.Series, asof, inception=None) -> tuple[float, int, str]:
    """Return from the first month (or ``inception``) to the as-of month: annualized when the
    record has 12 months or more, else the cumulative return with a note saying so.
    Returns ``(value, months, note)``."""
    r = to_monthly(returns, inception=inception)
    end = asof_month(asof)
    if r.empty:
        return math.nan, 0, "no returns"
    n = (end - r.index[0]).n + 1
    if n < 1:
        return math.nan, 0, f"starts after {end}"
    w, note = _window(r, end, n)
    if w is None:
        return math.nan, n, note
    total = float(np.prod(1.0 + w) - 1.0)
    if n < 12:
        return total, n, f"{n} months: cumulative, not annualized"
    return annualize(total, n), n, ""


def volatility(returns: pd.Series, asof, months: int = 36) -> tuple[float, str]:
    """Annualized volatility (decimal) over exactly ``months`` months ending at as-of:
    sample std of monthly returns (``ddof=1``) × √12."""
    if months < 2:
        raise ValueError(f"months: volatility needs at least 2 months, got {months}")
    w, note = _window(to_monthly(returns), asof_month(asof), months)
    return (float(np.std(w, ddof=1) * SQRT12), "") if w is not None else (math.nan, note)


def sharpe(returns: pd.Series, risk_free: pd.Series | None, asof, months: int = 36,
           ) -> tuple[float, str]:
    """Annualized Sharpe ratio over exactly ``months`` months ending at as-of.

    ``e_t = r_t - rf_t`` (both monthly decimal returns of the same month);
    Sharpe = ``mean(e) / std(e, ddof=1) × √12``. NaN + note without a risk-free series, when a
    month of either is missing, or when the excess returns do not vary."""
    if risk_free is None:
        return math.nan, "no Risk Free series (Settings 'Risk Free')"
    end = asof_month(asof)
    w, note = _window(to_monthly(returns), end, months)
    if w is None:
        return math.nan, note
    f, fnote = _window(to_monthly(risk_free, arg="risk_free"), end, months)
    if f is None:
        return math.nan, f"risk free: {fnote}"
    e = w - f
    sd = float(np.std(e, ddof=1))
    if not sd > 0:
        return math.nan, "excess returns do not vary"
    return float(np.mean(e) / sd * SQRT12), ""


def wealth_index(returns: pd.Series, start_value: float = 10_000.0, inception=None,
                 ) -> pd.Series:
    """Growth of ``start_value`` (e.g. $10,000): value at each month-end (Timestamp index),
    starting with ``start_value`` at the month-end before the first return. A missing month
    raises ValueError (the path would be wrong from there on)."""
    r = to_monthly(returns, inception=inception)
    if r.empty:
        return pd.Series([], dtype=float)
    if r.isna().any():
        raise ValueError(f"returns: missing month {r.index[r.isna()][0]} inside the record")
    idx = pd.period_range(r.index[0] - 1, r.index[-1], freq="M").to_timestamp(how="end")
    idx = idx.normalize()
    vals = start_value * np.concatenate([[1.0], np.cumprod(1.0 + r.to_numpy())])
    return pd.Series(vals, index=idx, name=returns.name)


def drawdown_series(returns: pd.Series, inception=None) -> pd.Series:
    """Drawdown from the running peak at each month-end, ``W / cummax(W) - 1`` (negative
    decimal or 0), on the :func:`wealth_index` dates."""
    w = wealth_index(returns, 1.0, inception=inception)
    return w / w.cummax() - 1.0


def max_drawdown(returns: pd.Series, asof, inception=None) -> tuple[float, str]:
    """Maximum drawdown (negative decimal, 0 if none) from the first month to the as-of month
    (``inception`` limits the start). NaN + note if a month is missing."""
    r = to_monthly(returns, inception=inception)
    end = asof_month(asof)
    r = r[r.index <= end]
    if r.empty:
        return math.nan, "no returns"
    if r.isna().any():
        return math.nan, f"missing month {r.index[r.isna()][0]}"
    w = np.concatenate([[1.0], np.cumprod(1.0 + r.to_numpy())])
    return float(np.min(w / np.maximum.accumulate(w) - 1.0)), ""


def best_worst_month(returns: pd.Series, asof, inception=None) -> dict[str, object]:
    """Best and worst single month (decimal) up to the as-of month, with their months
    (``pd.Period``): keys ``best``, ``best_month``, ``worst``, ``worst_month``."""
    r = to_monthly(returns, inception=inception)
    r = r[r.index <= asof_month(asof)].dropna()
    if r.empty:
        return {"best": math.nan, "best_month": None, "worst": math.nan, "worst_month": None}
    return {"best": float(r.max()), "best_month": r.idxmax(),
            "worst": float(r.min()), "worst_month": r.idxmin()}


def relative_stats(returns: pd.Series, benchmark: pd.Series, asof, months: int | None = 36,
                   ) -> dict[str, object]:
    """Beta, correlation and up/down capture against a benchmark, over exactly ``months``
    months ending at as-of (``None``: every month both series have, from the later start;
    at least 12 needed).

    * ``beta``: OLS slope of ``r_t = a + beta * b_t + u_t`` (statsmodels), monthly returns.
    * ``correlation``: Pearson correlation of the monthly returns.
    * ``up_capture`` / ``down_capture``: Morningstar style, over months with benchmark > 0
      (< 0): ``(prod(1+r)^(1/n) - 1) / (prod(1+b)^(1/n) - 1)``, a ratio (1.0 = 100 %).
      Down capture below 1 means the strategy lost less than the benchmark.
    Keys: beta, correlation, up_capture, down_capture, months, period, note."""
    from statsmodels.regression.linear_model import OLS

    out: dict[str, object] = {"beta": math.nan, "correlation": math.nan,
                              "up_capture": math.nan, "down_capture": math.nan,
                              "months": 0, "period": "", "note": ""}
    end = asof_month(asof)
    r, b = to_monthly(returns), to_monthly(benchmark, arg="benchmark")
    if r.empty or b.empty:
        out["note"] = "no returns" if r.empty else "no benchmark returns"
        return out
    n = months if months is not None else (end - max(r.index[0], b.index[0])).n + 1
    if n < 12:
        out["note"] = f"needs 12 common months, has {max(n, 0)}"
        return out
    w, note = _window(r, end, n)
    bw, bnote = _window(b, end, n)
    if w is None or bw is None:
        out["note"] = note if w is None else f"benchmark: {bnote}"
        return out
    out["months"], out["period"] = n, f"{end - (n - 1)} – {end}"
    if np.std(bw) == 0:
        out["note"] = "benchmark returns do not vary"
        return out
    fit = OLS(w, np.column_stack([np.ones_like(bw), bw])).fit()
    out["beta"] = float(fit.params[1])
    out["correlation"] = float(np.corrcoef(w, bw)[0, 1]) if np.std(w) > 0 else math.nan
    for key, mask in (("up_capture", bw > 0), ("down_capture", bw < 0)):
        k = int(mask.sum())
        if k == 0:
            continue
        gs = np.prod(1.0 + w[mask]) ** (1.0 / k) - 1.0
        gb = np.prod(1.0 + bw[mask]) ** (1.0 / k) - 1.0
        out[key] = float(gs / gb)
    return out


# The table-level functions live in performance_tables (kept importable from here).
from engine.models.performance_tables import (  # noqa: E402
    PERF_COLUMNS,
    newsletter_table,
    performance_row,
    performance_table,
    setting,
    valid_series_meta,
)
