"""One reading of a date, in whatever form Excel gives it, for the workbook reader and the UDFs.

Excel hands a date over as one of:

* a date cell: :mod:`engine.xlsx.cells` (or xlwings) already made it a ``datetime``;
* a serial number in a General or number-formatted cell (a pasted date often arrives so):
  days since the workbook's epoch, read in its date system (the ``date1904`` flag of
  ``xl/workbook.xml``; :func:`engine.xlsx.numfmt.excel_date` counts Excel's phantom
  1900-02-29, so serials 1-59 are the days of 1900 they show in Excel);
* ISO text: ``1998-12-31``, ``1998-12-31T00:00:00`` or ``1998-12-31 00:00``; with
  ``month_end=True`` also a month, ``1998-12``, which means that month's last day.

Anything else raises :class:`DateError` saying what was found and what is expected; the
caller adds the cell or argument. A number that looks like a year (``1998``) or like
``yyyymmdd`` (``19981231``) is refused rather than read as a serial of 1905 or as nothing:
nobody who typed it meant that day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from typing import Any

from engine.xlsx.numfmt import excel_date

__all__ = ["DateError", "read_date", "MAX_SERIAL_1900", "MAX_SERIAL_1904"]

MAX_SERIAL_1900 = 2958465  # 9999-12-31, the last day Excel can show
MAX_SERIAL_1904 = MAX_SERIAL_1900 - 1462  # the 1904 system starts 1,462 days later
_PHANTOM = 60  # 1900-02-29 in the 1900 system: a day that never was
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


class DateError(ValueError):
    """Not a date. ``str(err)`` says what was found and what a date looks like; ``value`` is
    the value as given."""

    def __init__(self, message: str, value: Any):
        super().__init__(message)
        self.value = value


def read_date(value: Any, *, date1904: bool = False, month_end: bool = False
              ) -> tuple[dt.datetime, str | None]:
    """``(date, note)`` for ``value`` as Excel gave it (module docstring); raises
    :class:`DateError` otherwise.

    ``date1904``: the workbook's date system, for serial numbers. ``note`` is ``None``
    unless the reading needs saying (``month 1998-12 taken as 1998-12-31, its last day``).
    Times of day are kept (a serial's fraction, an ISO time); time zones are dropped."""
    if isinstance(value, dt.datetime):
        if value != value:  # pandas.NaT is a datetime subclass
            raise DateError("blank where a date is expected", value)
        return value.replace(tzinfo=None), None
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day), None
    if isinstance(value, dt.time):
        raise DateError(f"a time of day ({value:%H:%M}) where a date is expected", value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DateError("blank where a date is expected", value)
    if isinstance(value, bool):
        raise DateError("TRUE/FALSE where a date is expected", value)
    if isinstance(value, (int, float)):
        return _serial(float(value), date1904), None
    if isinstance(value, str):
        return _text(value.strip(), month_end)
    raise DateError(f"{type(value).__name__} where a date is expected", value)


def _serial(x: float, date1904: bool) -> dt.datetime:
    if not math.isfinite(x):
        raise DateError(f"{x} where a date is expected", x)
    if x.is_integer() and 1800 <= x <= 2200:
        raise DateError(f"{_num(x)} looks like a year, not a date: type the date (e.g. "
                        f"{int(x)}-12-31)", x)
    if x.is_integer() and 18000101 <= x <= 22001231:
        raise DateError(f"{_num(x)} looks like yyyymmdd, not an Excel date: type it as a date "
                        f"({int(x) // 10000}-{int(x) // 100 % 100:02d}-{int(x) % 100:02d})", x)
    top = MAX_SERIAL_1904 if date1904 else MAX_SERIAL_1900
    low = 0 if date1904 else 1
    if not low <= x < top + 1:
        raise DateError(f"{_num(x)} is not an Excel date serial (days since "
                        f"{'1904-01-01' if date1904 else '1900-01-01'}: {low} … {top})", x)
    if not date1904 and int(x) == _PHANTOM:
        raise DateError("60 is Excel's 1900-02-29, a day that never was", x)
    return excel_date(x, date1904)


def _num(x: float) -> str:
    return str(int(x)) if x.is_integer() else repr(x)


def _text(s: str, month_end: bool) -> tuple[dt.datetime, str | None]:
    if s.startswith("#"):
        raise DateError(f"Excel error {s[:12]} where a date is expected", s)
    if month_end and (m := _MONTH.fullmatch(s)):
        y, mo = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12:
            d = dt.datetime(y, mo, calendar.monthrange(y, mo)[1])
            return d, f"month {s} taken as {d:%Y-%m-%d}, its last day"
    try:
        d = dt.datetime.fromisoformat(s.rstrip("Z"))
    except ValueError:
        want = "YYYY-MM-DD or YYYY-MM" if month_end else "YYYY-MM-DD"
        raise DateError(f'text "{s[:30]}" where a date is expected (a date cell, or {want})',
                        s) from None
    if len(s) < 10:  # fromisoformat reads "19981231" too: only the dashed form is unambiguous
        raise DateError(f'text "{s[:30]}" where a date is expected (YYYY-MM-DD)', s)
    return d.replace(tzinfo=None), None
