"""Excel functions for performance figures and the GDP gap (thin adapters over
:mod:`engine.models.performance` and :mod:`engine.models.gdp_gap`).

Returns are monthly total returns as decimals (0.0173 = 1.73 %); results are decimals (format
the cells as %). Every function returns a value or a 2-D list that spills, and never raises:
a problem comes back as one ``#…`` string naming the argument.
"""

from __future__ import annotations

import math
from typing import Any

from addin.convert import (ExcelArgError, excel_value, flatten, is_blank, to_date, to_flag,
                           to_number, to_series, udf)
from engine.models import performance as perf
from engine.models.gdp_gap import GDP_GAP_COLUMNS, gdp_gap

__all__ = ["gamma_annualize", "gamma_gdp_gap", "gamma_link", "gamma_perf"]


def _model(fn, *args, **kwargs):
    """Call a model; its ValueError (which names the argument) becomes an Excel error."""
    try:
        return fn(*args, **kwargs)
    except ExcelArgError:
        raise
    except ValueError as e:
        raise ExcelArgError(str(e)) from None


@udf
def gamma_perf(dates: Any, returns: Any, asof: Any = None, years: Any = 2,
               header: Any = False) -> Any:
    """The newsletter performance row from monthly returns.

    dates: month-end dates (one column); returns: monthly total returns as decimals (same
    length; blank cells are skipped, so a blank inside the record is a missing month);
    asof: the as-of date (default: the month of the last return; a date before its month's
    last business day means the month before, whose return is known); years: how many prior
    calendar years (0–10, default 2); header: TRUE adds a header row.
    Result (decimals): Month, YTD, Trailing 1 Yr (exactly 12 months), then the full-year
    return of each prior calendar year (headed by the year). A figure the data cannot give
    (too short, a missing month) is blank."""
    s = to_series(dates, returns, dates_arg="dates", values_arg="returns")
    if s.empty:
        raise ExcelArgError("returns: no returns given", code="#N/A")
    # default: the month of the last return (known by definition, whatever day it is dated)
    end = to_date("asof", asof) if not is_blank(asof) else s.index[-1].to_period("M")
    n_years = 2 if is_blank(years) else to_number("years", years)
    if not float(n_years).is_integer() or not 0 <= n_years <= 10:
        raise ExcelArgError(f"years: expected a whole number from 0 to 10, got {years!r}")
    y0 = _model(perf.asof_month, end).year  # a mid-month asof: figures to the month before
    month, note = _model(perf.trailing_return, s, end, 1)
    if math.isnan(month):
        raise ExcelArgError(f"returns: {note}", code="#N/A")
    row = [month, _model(perf.ytd_return, s, end)[0], _model(perf.trailing_return, s, end, 12)[0]]
    row += [_model(perf.calendar_year_return, s, y0 - k, end)[0]
            for k in range(1, int(n_years) + 1)]
    out = [[excel_value(v) for v in row]]
    if to_flag("header", header):
        out.insert(0, ["Month", "YTD", "Trailing 1 Yr",
                       *[y0 - k for k in range(1, int(n_years) + 1)]])
    return out


@udf
def gamma_link(returns: Any) -> Any:
    """Geometrically linked return of decimal returns: PRODUCT(1 + r) − 1, blanks skipped.
    returns: a column or row of decimal returns. Result: a decimal (format as %)."""
    vals = [to_number(f"returns (cell {i})", v, allow_blank=True)
            for i, v in enumerate(flatten("returns", returns), start=1)]
    vals = [v for v in vals if v is not None]
    if not vals:
        raise ExcelArgError("returns: no returns given (all cells blank)", code="#N/A")
    return _model(perf.link, vals)


@udf
def gamma_annualize(total_return: Any, months: Any) -> Any:
    """Annualized rate (1 + R)^(12/months) − 1 of a total decimal return R over `months`
    months. Periods under 12 months are never annualized: the result is then a #N/A text."""
    r = to_number("total_return", total_return)
    m = to_number("months", months)
    if not float(m).is_integer():
        raise ExcelArgError(f"months: expected a whole number of months, got {months!r}")
    if m < 12:
        raise ExcelArgError(f"months: periods under 12 months are never annualized, got "
                            f"{int(m)}", code="#N/A")
    return _model(perf.annualize, r, int(m))


@udf
def gamma_gdp_gap(periods: Any, growth: Any, trend_growth: Any, base_period: Any,
                  deannualize: Any = "compound", header: Any = False) -> Any:
    """The real-GDP gap table. periods: years and quarters in order (2019, "2023Q1"…);
    growth: real GDP growth in percent as published (quarterly annualized; the base period
    may be blank); trend_growth: trend growth in percent per year (e.g. 2.24); base_period:
    the period indexed to 100; deannualize: "compound" ((1+g)^(1/4)−1, default) or "simple"
    (g/4); header: TRUE adds the header row.
    Result columns: Period, Growth, Non Annualized (%), GDP Index, Trend Growth (%),
    Target Index, Gap (index points, actual − target)."""
    ps, gs = flatten("periods", periods), flatten("growth", growth)
    if len(ps) != len(gs):
        raise ExcelArgError(f"periods has {len(ps)} cells but growth has {len(gs)}")
    rows = [(p, g) for p, g in zip(ps, gs) if not (is_blank(p) and is_blank(g))]
    if not rows:
        raise ExcelArgError("periods: no periods given", code="#N/A")
    for i, (p, _) in enumerate(rows, start=1):
        if is_blank(p):
            raise ExcelArgError(f"periods (row {i}): blank period next to a growth value")
    growth_vals = [to_number(f"growth (row {i})", g, allow_blank=True)
                   for i, (_, g) in enumerate(rows, start=1)]
    trend = to_number("trend_growth", trend_growth)
    if is_blank(base_period):
        raise ExcelArgError("base_period: blank; give the period indexed to 100, e.g. 2019")
    method = "compound" if is_blank(deannualize) else str(deannualize).strip().lower()
    t = _model(gdp_gap, [p for p, _ in rows], growth_vals, trend, base_period, method)
    out = [[excel_value(v) for v in rec] for rec in t.itertuples(index=False)]
    if to_flag("header", header):
        out.insert(0, list(GDP_GAP_COLUMNS))
    return out
