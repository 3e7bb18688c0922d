"""Forecasts that cannot happen, refused where the models produce them.

A forecast is **impossible** when no market can deliver it, whatever the model:

* a price (quote ``"Price"``; a decimal return R over ``months`` months): R ≤ −100 % (the
  price would be zero or negative), or a move of a factor of :data:`MAX_MONTHLY_FACTOR` (100)
  or more per month on average, ``(1 + R)^(1/months) ≥ 100`` — the size of a unit slip in
  the inputs, never a market's month; an annualized forecast A is first turned back into
  its cumulative return ``(1 + A)^(months/12) − 1``;
* a yield (quote ``"Yield"``; a change Δ in percentage points): the yield it leads to,
  ``y + Δ``, outside :data:`engine.domain.YIELD_RANGE` (−5 % … 40 %), the range the reader
  accepts as an input yield — so a fall larger than the yield allows (4.2 − 9.5 = −5.3 %) or a
  rise to 55 % is impossible;
* any infinite forecast. A NaN forecast is no forecast (too little history), not an error.

:func:`check_forecasts` raises :class:`ImpossibleForecast` (a ``ValueError``, the models'
error channel) naming the argument, the rule and the value; the caller fails that instrument
alone (:mod:`engine.models.instrument`), so the figure is never written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.domain import YIELD_RANGE, Quote, check_quote

__all__ = ["ImpossibleForecast", "MAX_MONTHLY_FACTOR", "check_forecasts"]

MAX_MONTHLY_FACTOR = 100.0  # x100 per month: a unit slip, not a market move


class ImpossibleForecast(ValueError):
    """A forecast no market can deliver: ``argument`` (which forecast), ``rule`` (what it
    breaks), ``value`` (the forecast, in its own unit) and ``at`` (its date)."""

    def __init__(self, argument: str, rule: str, value: float, at: object):
        self.argument, self.rule, self.value, self.at = argument, rule, value, at
        when = f" on {at:%Y-%m-%d}" if isinstance(at, pd.Timestamp) else ""
        super().__init__(f"{argument}{when} is impossible ({rule}): not written; "
                         "check the inputs")


def check_forecasts(forecast: pd.Series, level: pd.Series, quote: Quote, *, months: int = 1,
                    annualized: bool = False, argument: str = "1 Mo forecast") -> None:
    """Raise :class:`ImpossibleForecast` for the first impossible forecast (module doc).

    ``forecast``: forecasts indexed by the date they are made on (price: decimal return over
    ``months`` months, annualized when ``annualized``; yield: change in percentage points);
    ``level``: the price or yield on those dates (aligned on the index)."""
    check_quote(quote)
    f = pd.to_numeric(forecast, errors="coerce").astype(float)
    x = f.to_numpy()
    if quote == "Price":
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            total = (1 + x) ** (months / 12) - 1 if annualized else x
            per_month = np.where(total > -1, (1 + total) ** (1 / months), 0.0)
        bad = np.isinf(x) | (total <= -1) | (per_month >= MAX_MONTHLY_FACTOR)
    else:
        y = pd.to_numeric(level, errors="coerce").reindex(f.index).to_numpy(dtype=float)
        lo, hi = YIELD_RANGE
        with np.errstate(invalid="ignore"):
            bad = np.isinf(x) | (y + x < lo) | (y + x > hi)
    hit = np.flatnonzero(bad)
    if not len(hit):
        return
    k = int(hit[0])
    at, v = f.index[k], float(x[k])
    if quote == "Price":
        label = f"{v * 100:+.4g} %" + (" a year" if annualized else "")
        if not np.isfinite(v):
            rule = "not a finite number"
        elif total[k] <= -1:
            rule = f"{label}: a price cannot fall 100 % or more"
        else:
            rule = (f"{label}: a move of ×{MAX_MONTHLY_FACTOR:g} or more a month is a unit "
                    "slip, not a market")
    else:
        lo, hi = YIELD_RANGE
        yk = float(y[k])
        rule = ("not a finite number" if not np.isfinite(v) else
                f"{v:+.4g} pct points from a yield of {yk:.4g} % gives {yk + v:.4g} %, "
                f"outside {lo:g} … {hi:g} %")
    raise ImpossibleForecast(argument, rule, v, at)
