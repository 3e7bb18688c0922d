"""Daily or monthly levels -> one observation per month, on the instrument's update day.

An instrument that updates at ``MonthEnd`` is sampled at the last observation of each
calendar month; one that updates on the 15th (or 20th) at the last observation dated on or
before the 15th (20th) of the month, after the previous month's 15th (20th). The result is
indexed by the actual observation date. Months with no observation are absent (a gap), never
filled. With ``asof`` given, a month whose update day (the last session on or before its
anchor on the instrument's exchange calendar, :mod:`engine.calendars`, as the ``Updated``
column) lies after ``asof`` is still in progress and is dropped: the as-of cut-off; and no
observation dated after ``asof`` is used (Tokyo's December 2021 update is the 30th: an as-of
of 2021-12-30 samples December on the 30th even when the series has a New York row dated 31).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.calendars import DEFAULT_CALENDAR, ROLL_MARGIN, last_session


def anchor_day(rule: str) -> int | None:
    """Day of month of the update rule (``None`` = month end); ValueError for unknown rules."""
    r = str(rule).strip()
    if r.casefold() in ("monthend", "month end", "eom", ""):
        return None
    try:
        d = int(float(r))
    except ValueError:
        raise ValueError(f"update rule must be MonthEnd, 15 or 20, got {rule!r}") from None
    if d not in (15, 20) or float(r) != d:
        # the update schedule (Updated, Trade) knows these three rules only (DESIGN.md)
        raise ValueError(f"update rule must be MonthEnd, 15 or 20, got {rule!r}")
    return d


def monthly(series: pd.Series, rule: str = "MonthEnd",
            asof: pd.Timestamp | None = None, calendar: str = DEFAULT_CALENDAR) -> pd.Series:
    """Sample a level series to one observation per month (see module docstring).

    ``series``: levels indexed by date (any frequency, NaN = no observation). ``calendar``:
    the exchange calendar (a MIC, e.g. ``"XNYS"``) of the update days the ``asof`` cut-off
    compares with.
    Returns the sampled levels indexed by their actual observation dates."""
    s = series.dropna()
    if asof is not None:  # no look-ahead: an update day can have passed on one exchange
        s = s[s.index <= pd.Timestamp(asof)]  # while rows dated later (another's) exist
    if s.empty:
        return s.astype(float)
    s = s.sort_index()
    day = anchor_day(rule)
    idx = pd.DatetimeIndex(s.index)
    bucket = idx.to_period("M")
    if day is not None:
        bucket = bucket + (idx.day > day).astype(int)
    last = ~pd.Index(bucket).duplicated(keep="last")
    out = s[last]
    if asof is not None:
        periods = pd.PeriodIndex(bucket[last])
        if day is None:
            anchors = periods.to_timestamp(how="end").normalize()
        else:
            anchors = periods.to_timestamp() + pd.Timedelta(days=day - 1)
        anchors = pd.DatetimeIndex(anchors)
        cut = pd.Timestamp(asof)
        keep = np.asarray(anchors <= cut)
        # rolling back to a session only moves a day earlier, by less than ROLL_MARGIN: only
        # anchors just after the as-of date can change side, and only they need the calendar
        late = ~keep & np.asarray(anchors <= cut + ROLL_MARGIN)
        if late.any():
            keep[late] = np.asarray(last_session(anchors[late], calendar) <= cut)
        out = out[keep]
    return out.astype(float)


def month_ids(index) -> np.ndarray:
    """Calendar month number of each date (year·12 + month − 1), for month arithmetic."""
    idx = pd.DatetimeIndex(index)
    return np.asarray(idx.year, dtype=np.int64) * 12 + np.asarray(idx.month, dtype=np.int64) - 1


def after_previous_month(index) -> np.ndarray:
    """True where the previous observation lies in the previous calendar month, i.e. where
    the change from it is a one-month change; False in the first row and after a missing
    month (a gap: the change would span two months or more)."""
    ids = month_ids(index)
    return np.concatenate([[False], np.diff(ids) == 1]) if len(ids) else np.zeros(0, bool)


def month_end_index(idx) -> pd.DatetimeIndex:
    """Each date moved to its calendar month-end (midnight): the label a monthly observation
    carries in month-by-month tables and chart feeds, whatever day it was sampled on."""
    return pd.DatetimeIndex(idx).to_period("M").to_timestamp(how="end").normalize()
