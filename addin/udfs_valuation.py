"""Excel functions for sigma valuation (thin adapters over :mod:`engine.models.valuation`,
:mod:`engine.models.horizons` and :mod:`engine.models.bonds`).

Inputs as Excel passes them: ``dates`` and ``prices`` one column each (lists of one-element
lists, blanks ``None``; a blank price skips the row); daily data are sampled to the last
observation of each month first. ``fundamentals`` is an optional 2-D range whose rows line up
with ``dates`` (same number of rows, or one more when its first row is a header of text). The
header names give each column its role (``CPI`` → price level, ``T-Bill`` / ``Rate`` → short
rate, ``Earnings`` → fundamental level; see ``docs/methodology.md``); without a header the
columns are used as the model's default inputs. Results: decimals for % figures (format the
cells as %), yields and yield changes in percentage points. Never raises: a problem comes back
as one ``#…`` string naming the argument. Results are cached on the inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from addin.convert import (ExcelArgError, check_len, excel_value, flatten, is_blank, quote_kind,
                           to_date, to_flag, to_number, to_series, to_table, udf)
from engine.models.bonds import price_valuation
from engine.models.forecast_bounds import check_forecasts
from engine.models.horizons import HORIZON_LABELS, HORIZONS, latest_forecasts
from engine.models.valuation import month_end, valuation_history

__all__ = ["gamma_valuation", "gamma_bond_valuation", "gamma_sigma", "VALUATION_HEADER",
           "BOND_VALUATION_HEADER"]

MIN_MONTHS = 60
HORIZON_HEADER = [HORIZON_LABELS[h] for h in HORIZONS]
VALUATION_HEADER = ["Valuation (σ)", "Valuation (%)", "To Fair Value (%)", "Frequency (%)",
                    "Fair Value", *HORIZON_HEADER]
BOND_VALUATION_HEADER = ["Valuation (σ)", "Price Valuation (%)", "Fair Yield", "Frequency (%)",
                         *HORIZON_HEADER]


def _is_header_cell(v: Any) -> bool:
    if not isinstance(v, str) or is_blank(v) or v.strip().startswith("#"):
        return False
    try:
        float(v.strip().replace(",", ""))
        return False
    except ValueError:
        return True


def fundamentals_frame(value: Any, dates: Any) -> pd.DataFrame | None:
    """The fundamentals range as a DataFrame indexed by date (any frequency), or None."""
    rows = to_table("fundamentals", value)
    if not rows or all(is_blank(v) for r in rows for v in r):
        return None
    ds = flatten("dates", dates)
    names = [f"F{j + 1}" for j in range(len(rows[0]))]
    if len(rows) == len(ds) + 1 and all(_is_header_cell(v) for v in rows[0]):
        names = [str(v).strip() for v in rows[0]]
        rows = rows[1:]
        if len(set(n.upper() for n in names)) != len(names):
            raise ExcelArgError(f"fundamentals: header names repeat: {names}")
    if len(rows) != len(ds):
        raise ExcelArgError(f"fundamentals has {len(rows)} rows but dates has {len(ds)} "
                            "(give the same rows, optionally with one header row of names)")
    idx, vals = [], []
    for i, (d, r) in enumerate(zip(ds, rows), start=1):
        nums = [to_number(f"fundamentals (row {i}, column {j + 1})", v, allow_blank=True)
                for j, v in enumerate(r)]
        if all(x is None for x in nums):
            continue
        if is_blank(d):
            raise ExcelArgError(f"dates (row {i}): blank date next to fundamentals values")
        idx.append(to_date(f"dates (row {i})", d))
        vals.append([np.nan if x is None else x for x in nums])
    if not idx:
        return None
    f = pd.DataFrame(vals, index=pd.DatetimeIndex(idx), columns=names).sort_index()
    return f[~f.index.duplicated(keep="last")]


def monthly_input(dates: Any, prices: Any, quote: str, need: int, what: str) -> pd.Series:
    """Month-end levels from Excel ``dates``/``prices`` columns (prices > 0 unless ``quote``
    is "Yield"); ``#N/A`` when fewer than ``need`` months ("need 60 months of prices")."""
    values_arg = "yields" if quote == "Yield" else "prices"
    s = to_series(dates, prices, dates_arg="dates", values_arg=values_arg)
    if quote == "Price" and (s <= 0).any():
        bad = s[s <= 0].index[0]
        raise ExcelArgError(f"prices: must be > 0, got {s[bad]:g} on {bad:%Y-%m-%d}")
    m = month_end(s)
    check_len(values_arg, len(m), need, what)
    return m


def _history(dates: Any, prices: Any, fundamentals: Any, quote: str, asset_class: str,
             what: str, forecasts: bool = True
             ) -> tuple[pd.Series, pd.DataFrame, dict[str, float] | None]:
    """Monthly prices, their valuation history and the latest horizon forecasts."""
    m = monthly_input(dates, prices, quote, MIN_MONTHS, what)
    f = fundamentals_frame(fundamentals, dates)
    try:
        h = valuation_history(m, f, quote=quote, asset_class=asset_class,
                              min_history=MIN_MONTHS)
    except ValueError as e:
        raise ExcelArgError(str(e)) from None
    if not math.isfinite(h["sigma"].iloc[-1]):
        raise ExcelArgError(f"no valuation on the last date {m.index[-1]:%Y-%m-%d}", "#N/A")
    # one instrument: its own reversion shrunk toward the asset class's literature prior
    fc = latest_forecasts(m, h, quote=quote, asset_class=asset_class) if forecasts else None
    for months, label in (zip(HORIZONS, HORIZON_HEADER) if fc is not None else ()):
        try:  # an impossible forecast is never returned (engine.models.forecast_bounds)
            check_forecasts(pd.Series([fc[label]], index=m.index[-1:]), m.iloc[-1:], quote,
                            months=months, annualized=quote == "Price",
                            argument=f"{label} valuation forecast")
        except ValueError as e:
            raise ExcelArgError(str(e), "#NUM!") from None
    return m, h, fc


@udf
def gamma_valuation(dates: Any, prices: Any, fundamentals: Any = None, quote: Any = "Price",
                    header: Any = False) -> Any:
    """Sigma valuation, fair value and valuation-based forecasts on the last date (one row).

    dates: observation dates (one column, daily or monthly; daily are sampled to month-end);
    prices: levels in the same rows (> 0; yields in % with quote "Yield"); at least 60 months.
    fundamentals (optional): fair-value inputs in the same rows, optionally under a header row
    of names (CPI, Earnings, …). quote: "Price" (default), "Yield", or the model's asset
    class "Equity", "Commodity", "FX" (PPP: base then quote price level), "Bond".
    header: TRUE puts the column names above the row.
    Result: Valuation (σ) (+ = rich), Valuation (%) = P/FV − 1, To Fair Value (%) = FV/P − 1,
    Frequency (%) (share of history at least as extreme), Fair Value (price level), then the
    valuation-based forecasts 1 Mo … 5 Yr (annualized decimal returns; for yields cumulative
    yield changes in % points): the historical mean change plus the expected reversion toward
    fair value (its own history shrunk toward the asset class's literature half-life; the
    mean alone when the price has shown no reversion). Percent figures are decimals."""
    kind, asset_class = quote_kind(quote)
    _, h, fc = _history(dates, prices, fundamentals, kind, asset_class, "months of prices")
    last = h.iloc[-1]
    row = [last["sigma"], last["valuation_pct"], last["to_fair_value_pct"], last["frequency"],
           last["fair_value"], *[fc[c] for c in HORIZON_HEADER]]
    out = [[excel_value(float(v)) for v in row]]
    if to_flag("header", header):
        out.insert(0, list(VALUATION_HEADER))
    return out


@udf
def gamma_bond_valuation(dates: Any, yields: Any, maturity: Any, fundamentals: Any = None,
                         header: Any = False) -> Any:
    """Bond valuation on the last date (one row), yields in percent (4.25 = 4.25 %).

    dates: observation dates (daily or monthly); yields: the bond's yield in the same rows,
    at least 60 months; maturity: years (> 0, e.g. 10); fundamentals (optional): the
    inflation rate and the short rate in %, same rows; a CPI level needs a header row naming
    it (e.g. "CPI"), since columns without a header are read as rates.
    header: TRUE puts the column names above the row.
    Result: Valuation (σ) in yield terms (+ = yield above fair yield, the bond is cheap),
    Price Valuation (%) (price at today's yield of a bond with coupon = fair yield, over par,
    − 1; decimal), Fair Yield (%), Frequency (%), then the valuation-based cumulative yield
    change forecasts 1 Mo … 5 Yr in % points (−0.77 = a 77 bp fall)."""
    mat = to_number("maturity", maturity)
    if mat <= 0 or mat > 100:
        raise ExcelArgError(f"maturity: expected years between 0 and 100, got {mat:g}")
    m, h, fc = _history(dates, yields, fundamentals, "Yield", "Bond", "months of yields")
    last = h.iloc[-1]
    try:
        pv = price_valuation(float(m.iloc[-1]), float(last["fair_value"]), mat)
    except ValueError as e:
        raise ExcelArgError(str(e)) from None
    row = [last["sigma"], pv, last["fair_value"], last["frequency"],
           *[fc[c] for c in HORIZON_HEADER]]
    out = [[excel_value(float(v)) for v in row]]
    if to_flag("header", header):
        out.insert(0, list(BOND_VALUATION_HEADER))
    return out


@udf
def gamma_sigma(dates: Any, prices: Any, fundamentals: Any = None, quote: Any = "Price") -> Any:
    """Valuation (σ) on the last date: deviation from fair value (log price − log fair value;
    for yields, yield − fair yield) over its standard deviation, both estimated with data up to
    that date. + = rich (for yields: yield above fair). Arguments as in gamma_valuation."""
    kind, asset_class = quote_kind(quote)
    _, h, _ = _history(dates, prices, fundamentals, kind, asset_class, "months of prices",
                       forecasts=False)
    return excel_value(float(h["sigma"].iloc[-1]))
