"""Bond prices from yields and the seed's ``Price Valuation (%)`` (Table 5).

Conventions: yields and coupons in percent per year (4.25 = 4.25 %), compounded ``freq`` times
a year (2 = semiannual, the US Treasury convention); maturity in years; prices per 100 face,
*clean* (without accrued interest), as quoted.

Fractional maturities use the street convention: the last coupon falls at the maturity, the
others every ``1/freq`` years before it, so the first coupon is ``w = n − (N − 1)`` periods away
(``n = maturity·freq`` periods, ``N = ceil(n)`` coupons left, ``0 < w ≤ 1``); cash flows are
discounted at ``(1 + y/freq)^−(w + j)`` and linear accrued interest ``c/freq · (1 − w)`` is
subtracted. With whole periods (``w = 1``) this is the textbook annuity formula and a bond with
coupon = yield is priced at exactly 100.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["bond_price", "price_valuation"]


def _check_number(arg: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"{arg} must be a number, got {v!r}")
    x = float(v)
    if not math.isfinite(x):
        raise ValueError(f"{arg} must be finite, got {x}")
    return x


def _price(y: float, c: float, m: float, freq: int) -> float:
    """Clean price per 100 face (module docstring); inputs already checked."""
    i = y / 100.0 / freq
    n = m * freq
    big_n = max(1, math.ceil(n - 1e-9))
    w = n - (big_n - 1)
    cpn = c / freq
    disc = (1.0 + i) ** (-(w + np.arange(big_n)))
    dirty = cpn * disc.sum() + 100.0 * disc[-1]
    return float(dirty - cpn * (1.0 - w))


def _check_curve(arg: str, y: float, freq: int) -> None:
    if y / 100.0 / freq <= -1.0:
        raise ValueError(f"{arg} must be above {-100 * freq}, got {y}")


def _check_maturity_freq(m: float, freq: int) -> None:
    if isinstance(freq, bool) or freq not in (1, 2, 4, 12):
        raise ValueError(f"freq must be 1, 2, 4 or 12 coupons a year, got {freq!r}")
    if m <= 0:
        raise ValueError(f"maturity_years must be > 0, got {m}")


def bond_price(yield_pct: float, coupon_pct: float, maturity_years: float, freq: int = 2
               ) -> float:
    """Clean price per 100 face of a fixed-coupon bond (seed Table 5, ``Price Valuation (%)``).

    ``yield_pct``: yield to maturity, % per year compounded ``freq`` times a year (> −100·freq).
    ``coupon_pct``: coupon rate, % of face per year, paid ``freq`` times a year (≥ 0).
    ``maturity_years``: years to maturity (> 0; fractional allowed, see the module docstring;
    under one period the bond is a single final coupon + face, discounted over the fraction).
    ``freq``: coupons per year, 1, 2, 4 or 12.
    """
    y = _check_number("yield_pct", yield_pct)
    c = _check_number("coupon_pct", coupon_pct)
    m = _check_number("maturity_years", maturity_years)
    _check_maturity_freq(m, freq)
    if c < 0:
        raise ValueError(f"coupon_pct must be >= 0, got {c}")
    _check_curve("yield_pct", y, freq)
    return _price(y, c, m, freq)


def price_valuation(current_yield: float, fair_yield: float, maturity: float, freq: int = 2
                    ) -> float:
    """Seed ``Price Valuation (%)``, decimal: the price at ``current_yield`` of a bond with
    ``maturity`` years and coupon = ``fair_yield``, over its price at ``fair_yield`` (par for
    whole coupon periods), minus 1 (DESIGN.md). Yields in %. Negative = the bond is cheap
    (yield above fair yield); e.g. 10-year, current 6 %, fair 5 % → −0.0744. A negative fair
    yield gives a (hypothetical) negative coupon: the formula still holds.
    """
    y = _check_number("current_yield", current_yield)
    fy = _check_number("fair_yield", fair_yield)
    m = _check_number("maturity", maturity)
    _check_maturity_freq(m, freq)
    _check_curve("current_yield", y, freq)
    _check_curve("fair_yield", fy, freq)
    return _price(y, fy, m, freq) / _price(fy, fy, m, freq) - 1.0
