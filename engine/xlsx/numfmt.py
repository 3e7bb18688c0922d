"""Excel number formats: the built-in codes, which codes show dates, and Excel dates.

A cell stores a date as a number (days since the workbook's epoch); only its number format
says it is a date. ECMA-376 Part 1, 18.8.30 lists the built-in formats (ids below 164 that a
styles part need not spell out); the East Asian built-ins 27–36 and 50–58 are dates in the
locales that use them.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

__all__ = ["BUILTIN_FORMATS", "BUILTIN_IDS", "is_date_format", "is_duration_format",
           "format_code", "excel_date", "excel_serial"]

BUILTIN_FORMATS: dict[int, str] = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0",
    48: "##0.0E+0", 49: "@",
}
BUILTIN_IDS = {code: i for i, code in BUILTIN_FORMATS.items()}
_EAST_ASIAN_DATES = set(range(27, 37)) | set(range(50, 59))

_STRIP = re.compile(r'"[^"]*"|\\.|_.|\*.')           # literals, escapes, padding
_BRACKET = re.compile(r"\[[^\]]*\]")
_ELAPSED = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)


def format_code(num_fmt_id: int, custom: dict[int, str]) -> str:
    """The code of format ``num_fmt_id``: the styles part's own, else the built-in one."""
    if num_fmt_id in custom:
        return custom[num_fmt_id]
    if num_fmt_id in _EAST_ASIAN_DATES:
        return "yyyy-mm-dd"
    return BUILTIN_FORMATS.get(num_fmt_id, "General")


@lru_cache(maxsize=1024)
def is_date_format(code: str) -> bool:
    """Does a number in this format show as a date or time (``yyyy-mm-dd``, ``h:mm``,
    ``[h]:mm``)? Quoted text, escapes, colours and conditions do not count."""
    if not code or code.strip().lower() in ("general", "@"):
        return False
    section = code.split(";", 1)[0]
    elapsed = bool(_ELAPSED.search(section))
    section = _BRACKET.sub("", _STRIP.sub("", section))
    return elapsed or bool(re.search(r"[dmyhs]", section, re.IGNORECASE))


@lru_cache(maxsize=1024)
def is_duration_format(code: str) -> bool:
    """An elapsed-time format (``[h]:mm:ss``): the number is a duration, not a date."""
    return bool(_ELAPSED.search(code.split(";", 1)[0] if code else ""))


_E1900 = dt.datetime(1899, 12, 30)
_E1904 = dt.datetime(1904, 1, 1)


def excel_date(serial: float, date1904: bool = False) -> dt.datetime:
    """The date of Excel serial number ``serial`` (days; the fraction is the time of day).

    1900 system: day 1 is 1900-01-01; Excel counts a 1900-02-29 that never was, so serials
    below 60 are one day later than the plain count from 1899-12-30 (60 itself reads as
    1900-02-28). 1904 system: day 0 is 1904-01-01."""
    if date1904:
        return _E1904 + dt.timedelta(days=serial)
    if 0 < serial < 60:
        serial += 1
    return _E1900 + dt.timedelta(days=serial)


@lru_cache(maxsize=1 << 16)  # the same month-ends recur across every table and chart
def excel_serial(when: dt.datetime | dt.date, date1904: bool = False) -> float:
    """The Excel serial number of ``when`` (inverse of :func:`excel_date` from 1900-03-01 on,
    and everywhere in the 1904 system)."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day)
    if when.tzinfo is not None:
        when = when.replace(tzinfo=None)
    delta = when - (_E1904 if date1904 else _E1900)
    serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    if not date1904 and serial < 61:
        serial -= 1
    return int(serial) if serial == int(serial) else serial
