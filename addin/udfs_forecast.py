"""Excel functions for the composite forecast and its signals (thin adapters over
:mod:`engine.models.composite` and :mod:`engine.models.signals`).

Inputs as Excel passes them (scalars, one column as a list of one-element lists, blanks
``None``). Forecasts are decimals for prices (0.0073 = +0.73 %, format as %), percentage points
for yields (−0.09 = −9 bp). Positions are 1 (Long), 0 (Neutral), −1 (Short); for yields a forecast
fall is Long. Never raises: a problem comes back as one ``#…`` string naming the argument.
"""

from __future__ import annotations

import math
from typing import Any

from addin.convert import (ExcelArgError, asset_class_of, excel_value, is_blank, quote_class,
                           quote_kind, to_number, to_table, udf)
from engine.domain import MIN_TRAIN
from engine.models.signals import default_band, position, to_position, trade

# gamma_forecast imports the models (and addin.udfs_valuation) on its first call: a sheet of
# gamma_position / gamma_trade cells does not pay for them.

__all__ = ["gamma_forecast", "gamma_position", "gamma_trade", "MIN_FORECAST_MONTHS"]

# the first month's change, MIN_TRAIN (predictor, next change) pairs, then the forecast month
MIN_FORECAST_MONTHS = MIN_TRAIN + 2


def _cells(arg: str, value: Any) -> tuple[list[list[Any]], bool]:
    """A 2-D list of cells and whether the input was a single cell."""
    if not isinstance(value, (list, tuple)):
        return [[value]], True
    rows = to_table(arg, value)
    return rows, len(rows) == 1 and len(rows[0]) == 1


@udf
def gamma_forecast(dates: Any, prices: Any, factors: Any = None, quote: Any = "Price") -> Any:
    """The composite one-month-ahead forecast on the last date.

    dates: observation dates (one column; daily data are sampled to the last observation of
    each month); prices: levels in the same rows (> 0), or yields in % with quote "Yield";
    at least 38 months (the first change, 36 months to train the model, 1 to forecast;
    the valuation term joins once 60 months give a σ).
    factors (optional): fundamental series in the same rows (CPI, earnings, short rate, …),
    optionally under one header row of names; they feed the fair value and the factor terms.
    quote: "Price" (default), "Yield", or the asset class "Equity", "Commodity", "FX", "Bond".
    Result: the expected change over the next month — a decimal return for prices (FX: the
    first currency of the pair), the yield change in percentage points for yields."""
    from addin.udfs_valuation import fundamentals_frame, monthly_input
    from engine.models.instrument import InstrumentInput, analyse

    kind, asset_class = quote_kind(quote)
    what = "months of yields" if kind == "Yield" else "months of prices"
    m = monthly_input(dates, prices, kind, MIN_FORECAST_MONTHS, what)
    f = fundamentals_frame(factors, dates)
    try:  # the same result the refresh's tables read, without the valuation horizons
        r = analyse([InstrumentInput("prices", m, kind, asset_class, f)], horizons=(),
                    track=False)["prices"]
    except ValueError as e:
        raise ExcelArgError(str(e)) from None
    if r.forecast_error is not None:
        raise ExcelArgError(str(r.forecast_error))
    fc = float(r.history["forecast"].iloc[-1])
    if not math.isfinite(fc):
        raise ExcelArgError(f"no forecast on the last date {m.index[-1]:%Y-%m-%d}: the "
                            "valuation or the model needs more history", "#N/A")
    return excel_value(fc)


@udf
def gamma_position(forecast: Any, band: Any = None, quote: Any = None,
                   asset_class: Any = None) -> Any:
    """Position from a one-month forecast: 1 Long, 0 Neutral, -1 Short.

    forecast: the forecast (decimal return, e.g. 0.0073; for yields the change in % points,
    e.g. -0.09), one cell or a range (the result then has the same shape).
    band (optional): neutral band in the forecast's unit; |forecast| <= band is 0. Blank: the
    refresh's default band of the asset class (Equity 0.001, Bond 0.005 % points, FX 0.0005,
    Commodity 0.001), so the cell agrees with the refreshed table; 0 when no class is given.
    quote: "Price" (default; "Yield" for a bond) or "Yield" (a forecast fall in the yield is
    Long the bond); an asset class name here also sets asset_class.
    asset_class (optional): Equity, Bond, FX or Commodity, as on the Instruments sheet."""
    kind, named = quote_class(quote)
    cls = asset_class_of(asset_class)
    if cls is not None and named is not None and cls != named:
        raise ExcelArgError(f"asset_class: {cls} but quote says {quote!r}")
    cls = cls or named
    if cls == "Bond" and is_blank(quote):
        kind = "Yield"  # as the Instruments sheet: a bond is quoted as a yield by default
    if is_blank(band):
        b = default_band(cls) if cls is not None else 0.0
    else:
        b = to_number("band", band)
    if b < 0:
        raise ExcelArgError(f"band: must be >= 0, got {b:g}")
    rows, single = _cells("forecast", forecast)
    out = []
    for i, r in enumerate(rows, start=1):
        line = []
        for j, v in enumerate(r, start=1):
            arg = "forecast" if single else f"forecast (row {i}, column {j})"
            x = to_number(arg, v, allow_blank=True)
            line.append("" if x is None else position(x, b, kind))
        out.append(line)
    return out[0][0] if single else out


@udf
def gamma_trade(previous_position: Any, position: Any) -> Any:
    """Trade code from the previous position to the new one.

    previous_position, position: 1 / 0 / -1 or Long / Neutral / Short (one cell each, or two
    ranges of the same shape). Result: B (0→1), S (0→-1), CL (1→0), CS (-1→0), CL&S (1→-1),
    CS&B (-1→1), or an empty string when the position is unchanged."""
    prev_rows, single_p = _cells("previous_position", previous_position)
    new_rows, single_n = _cells("position", position)
    shape_p = (len(prev_rows), len(prev_rows[0]) if prev_rows else 0)
    shape_n = (len(new_rows), len(new_rows[0]) if new_rows else 0)
    if shape_p != shape_n:
        raise ExcelArgError(f"previous_position is {shape_p[0]}x{shape_p[1]} but position is "
                            f"{shape_n[0]}x{shape_n[1]}: give ranges of the same shape")
    out = []
    for i, (rp, rn) in enumerate(zip(prev_rows, new_rows), start=1):
        line = []
        for j, (a, b) in enumerate(zip(rp, rn), start=1):
            where = "" if single_p and single_n else f" (row {i}, column {j})"
            try:
                pa = to_position(a, f"previous_position{where}")
                pb = to_position(b, f"position{where}")
            except ValueError as e:
                raise ExcelArgError(str(e)) from None
            line.append(trade(pa, pb))
        out.append(line)
    return out[0][0] if single_p and single_n else out
