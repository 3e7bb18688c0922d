"""Excel-shaped values <-> engine values, and the one error channel of the UDFs.

Excel (through xlwings) passes a range as a list of rows (``[[v], [v], …]`` for a column),
a single cell as a scalar, blanks as ``None``, dates as :class:`datetime.datetime` (or as
serial numbers when the cell is not date-formatted), errors as strings like ``"#N/A"``.

Inside the engine invalid input raises :class:`ExcelArgError` naming the argument; the
:func:`udf` decorator alone turns it (or any other exception) into one ``#…`` string, so no
UDF ever raises into Excel. :func:`udf` also caches results keyed on the (hashable) inputs,
so a recalculating sheet is served from memory.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from collections import OrderedDict
from typing import Any, Callable, Sequence

from engine.inputs.dates import DateError, read_date



class ExcelArgError(ValueError):
    """Invalid UDF input. ``str(err)`` is the user message; :func:`udf` prefixes ``#VALUE!``
    (or ``#N/A`` for too little data, via ``code``)."""

    def __init__(self, message: str, code: str = "#VALUE!"):
        super().__init__(message)
        self.code = code


def flatten(arg: str, value: Any) -> list[Any]:
    """A 1-D list from a scalar, a column/row, or a 2-D range with one column or one row."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [value]
    rows = list(value)
    if rows and all(isinstance(r, (list, tuple)) for r in rows):
        widths = {len(r) for r in rows}
        if len(rows) == 1:
            return list(rows[0])
        if widths == {1}:
            return [r[0] for r in rows]
        if widths == {0}:
            return []
        raise ExcelArgError(f"{arg}: expected one column or one row, got a "
                            f"{len(rows)}x{max(widths)} range")
    if any(isinstance(r, (list, tuple)) for r in rows):
        raise ExcelArgError(f"{arg}: ragged range (mixed cells and rows)")
    return rows


def is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def to_number(arg: str, v: Any, *, allow_blank: bool = False) -> float | None:
    """A finite float from a cell; ``None`` for a blank when ``allow_blank``.

    Booleans are rejected (Excel's TRUE is not a price); text and ``#…`` error values are
    rejected with the argument named."""
    if is_blank(v):
        if allow_blank:
            return None
        raise ExcelArgError(f"{arg}: blank cell where a number is expected")
    if isinstance(v, bool):
        raise ExcelArgError(f"{arg}: TRUE/FALSE where a number is expected")
    if isinstance(v, (int, float)):
        x = float(v)
    elif isinstance(v, str):
        s = v.strip()
        if s.startswith("#"):
            raise ExcelArgError(f"{arg}: contains the Excel error {s}")
        try:
            x = float(s.replace(",", ""))
        except ValueError:
            raise ExcelArgError(f'{arg}: text "{s[:30]}" where a number is expected') from None
    else:
        raise ExcelArgError(f"{arg}: {type(v).__name__} where a number is expected")
    if not math.isfinite(x):
        if allow_blank and math.isnan(x):
            return None
        raise ExcelArgError(f"{arg}: {x} is not a finite number")
    return x


def to_flag(arg: str, v: Any, default: bool = False) -> bool:
    """TRUE/FALSE from a cell: booleans, 1/0, or the text TRUE/FALSE; blank -> ``default``."""
    if is_blank(v):
        return default
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().upper() in ("TRUE", "FALSE"):
        return v.strip().upper() == "TRUE"
    raise ExcelArgError(f"{arg}: expected TRUE or FALSE, got {v!r}")


def to_date(arg: str, v: Any, *, date1904: bool = False) -> _dt.datetime:
    """A datetime from an Excel date cell: a datetime, an Excel serial number (a date in a
    General cell; ``date1904``: the workbook's 1904 date system) or ISO text, read by the
    engine's one date parser (:func:`engine.inputs.dates.read_date`, which the workbook
    reader uses too)."""
    try:
        return read_date(v, date1904=date1904)[0]
    except DateError as e:
        raise ExcelArgError(f"{arg}: {e}") from None


def to_series(dates: Any, values: Any, *, dates_arg: str = "dates",
              values_arg: str = "values"):
    """A date-sorted :class:`pandas.Series` from two Excel columns of equal length.

    Rows where the value is blank (or the date and value are both blank) are skipped, as
    Excel users leave trailing blank rows in a range; a blank date with a value is an error.
    Duplicate dates are an error naming the date."""
    import pandas as pd

    ds, vs = flatten(dates_arg, dates), flatten(values_arg, values)
    if len(ds) != len(vs):
        raise ExcelArgError(f"{dates_arg} has {len(ds)} cells but {values_arg} has {len(vs)}")
    idx, out = [], []
    for i, (d, v) in enumerate(zip(ds, vs), start=1):
        if is_blank(v) or (isinstance(v, float) and math.isnan(v)):
            continue
        idx.append(to_date(f"{dates_arg} (row {i})", d))
        out.append(to_number(f"{values_arg} (row {i})", v))
    s = pd.Series(out, index=pd.DatetimeIndex(idx), dtype=float)
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()][0]
        raise ExcelArgError(f"{dates_arg}: date {dup:%Y-%m-%d} appears twice")
    return s.sort_index()


def to_table(arg: str, value: Any) -> list[list[Any]]:
    """A rectangular 2-D list (rows) from a range; a scalar is a 1x1 range."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [[value]]
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
    if len({len(r) for r in rows}) > 1:
        raise ExcelArgError(f"{arg}: ragged range (rows of different lengths)")
    return rows


def _freeze(v: Any) -> Any:
    """A hashable key for an Excel-shaped argument (lists become tuples).

    Ranges arrive as lists of rows; the common 2-D case is converted with one C-level
    ``tuple`` per row (a key for 600 cells costs microseconds). A NaN inside a key only
    costs a cache miss (NaN != NaN), never a wrong hit. TRUE/FALSE are tagged: in Python
    ``True == 1`` and ``hash(True) == hash(1)``, so an untagged TRUE would share a key with 1."""
    if isinstance(v, list):
        if all(type(r) is list for r in v):
            try:
                rows = tuple(map(tuple, v))
                hash(rows)
                if not any(type(x) is bool for r in v for x in r):
                    return rows
            except TypeError:
                pass
        return tuple(_freeze(x) for x in v)
    if isinstance(v, tuple):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if type(v) is bool:
        return (_BOOL, v)
    return v


class _BoolTag:
    """Marks a TRUE/FALSE argument inside a cache key (see :func:`_freeze`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<bool>"


_BOOL = _BoolTag()


def excel_value(x: Any) -> Any:
    """One result cell as Excel wants it: NaN/inf -> empty string, numpy scalars -> float."""
    if x is None:
        return ""
    try:
        import numpy as np
        if isinstance(x, np.generic):
            x = x.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, float) and not math.isfinite(x):
        return ""
    return x


def excel_result(result: Any) -> Any:
    """An adapter's result as Excel values: every cell of a 2-D list through
    :func:`excel_value` (a figure that cannot be computed is blank); a scalar that is not a
    finite number (inf, NaN: an input beyond what the model can compute) becomes a ``#NUM!``
    string, since a blank cell would hide it. Never a non-finite number."""
    if isinstance(result, list):
        return [[excel_value(v) for v in r] if isinstance(r, list) else excel_value(r)
                for r in result]
    x = excel_value(result)
    if isinstance(result, float) or isinstance(x, float):
        if isinstance(x, str) or not math.isfinite(x):
            return ("#NUM!: the result is not a finite number (an input too large or too "
                    "small to compute with?)")
    return x
def _copied(result: Any) -> Any:
    """A result as handed out: 2-D lists copied row by row (their cells are immutable
    scalars), so a caller that edits what it got cannot change what the cache serves next."""
    if isinstance(result, list):
        return [r.copy() if isinstance(r, list) else r for r in result]
    return result


def udf(fn: Callable[..., Any] | None = None, *, cache_size: int = 256) -> Callable[..., Any]:
    """Make an engine adapter safe for Excel: never raise, errors become one ``#…`` string,
    results are Excel values (:func:`excel_result`: never inf or NaN as a number), cached on
    the inputs (an LRU of ``cache_size`` entries), and every call gets its own copy of a cached
    result."""

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        cache: OrderedDict = OrderedDict()
        hits = [0]

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                key = (_freeze(args), _freeze(kwargs) if kwargs else None)
                hash(key)
            except TypeError:
                key = None
            if key is not None and key in cache:
                cache.move_to_end(key)
                hits[0] += 1
                return _copied(cache[key])
            try:
                result = excel_result(f(*args, **kwargs))
            except ExcelArgError as e:
                result = f"{e.code}: {e}"
            except Exception as e:  # never raise into Excel
                result = f"#VALUE!: {type(e).__name__}: {e}"
            if key is not None:
                cache[key] = result
                if len(cache) > cache_size:
                    cache.popitem(last=False)
            return _copied(result)

        wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
        wrapper.cache_hits = lambda: hits[0]  # type: ignore[attr-defined]  # calls served
        return wrapper

    return deco(fn) if fn is not None else deco


_KINDS = {"PRICE": ("Price", None), "EQUITY": ("Price", "Equity"),
          "COMMODITY": ("Price", "Commodity"), "FX": ("Price", "FX"),
          "YIELD": ("Yield", None), "BOND": ("Yield", "Bond")}
_CLASSES = {"EQUITY": "Equity", "BOND": "Bond", "FX": "FX", "COMMODITY": "Commodity"}


def quote_kind(quote: Any, default_class: str = "Equity") -> tuple[str, str]:
    """``(quote, asset class)`` from a ``quote`` cell: ``"Price"`` (blank) or ``"Yield"``, or
    an asset class (Equity, Commodity, FX: prices; Bond: yields). ``"Price"`` and ``"Yield"``
    name no class: ``default_class`` then (``"Bond"`` for a yield whatever it is)."""
    kind, named = quote_class(quote)
    return kind, named or ("Bond" if kind == "Yield" else default_class)


def quote_class(quote: Any) -> tuple[str, str | None]:
    """``(quote, asset class or None)`` from a ``quote`` cell (see :func:`quote_kind`); the
    class is ``None`` unless the cell names one."""
    if is_blank(quote):
        return _KINDS["PRICE"]
    if isinstance(quote, str) and quote.strip().upper() in _KINDS:
        return _KINDS[quote.strip().upper()]
    raise ExcelArgError(f'quote: expected "Price" or "Yield" (or Equity, Commodity, FX, Bond), '
                        f"got {quote!r}")


def asset_class_of(value: Any) -> str | None:
    """An ``asset_class`` cell: Equity, Bond, FX or Commodity (any case), ``None`` if blank."""
    if is_blank(value):
        return None
    if isinstance(value, str) and value.strip().upper() in _CLASSES:
        return _CLASSES[value.strip().upper()]
    raise ExcelArgError(f"asset_class: expected Equity, Bond, FX or Commodity, got {value!r}")


def check_len(arg: str, n: int, need: int, what: str = "months of prices") -> None:
    """``#N/A`` when fewer than ``need`` observations are given."""
    if n < need:
        raise ExcelArgError(f"need {need} {what}, got {n}", code="#N/A")


__all__: Sequence[str] = ["ExcelArgError", "flatten", "is_blank", "to_number", "to_flag", "to_date",
                          "to_series", "to_table", "excel_value", "excel_result", "udf",
                          "check_len", "quote_kind", "quote_class", "asset_class_of"]
