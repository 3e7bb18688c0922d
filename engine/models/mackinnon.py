"""MacKinnon's approximate p-values of unit-root (Dickey–Fuller, Engle–Granger) statistics.

MacKinnon, J.G. (1994), "Approximate asymptotic distribution functions for unit-root and
cointegration tests", Journal of Business & Economic Statistics 12(2), 167–176: the p-value
of a statistic ``τ`` is ``Φ(Σ_k c_k τ^k)`` with coefficients for "small" and "large" ``τ``,
and 0 or 1 beyond the tabulated range. The coefficients are the paper's, as statsmodels
arranges them in ``statsmodels.tsa.adfvalues`` (BSD-3-Clause), for the regressions with a
constant (``"c"``) and with a constant and a trend (``"ct"``) and ``N`` = 1…6 integrated
series; ``tests/test_valuation.py`` checks this function against statsmodels'
``mackinnonp``. Kept here because the refresh needs nothing else of statsmodels' time-series
module, whose import (scipy.stats) costs a second and a half.
"""

from __future__ import annotations

import math

__all__ = ["mackinnon_pvalue"]

_MAX = {"c": (2.74, 0.92, 0.55, 0.61, 0.79, 1.0), "ct": (0.7, 0.63, 0.71, 0.93, 1.19, 1.42)}
_MIN = {"c": (-18.83, -18.86, -23.48, -28.07, -25.96, -23.27),
        "ct": (-16.18, -21.15, -25.37, -26.63, -26.53, -26.18)}
_STAR = {"c": (-1.61, -2.62, -3.13, -3.47, -3.78, -3.93),
         "ct": (-2.89, -3.19, -3.5, -3.65, -3.8, -4.36)}
_SMALL = {  # c0, c1, c2 for τ <= τ*
    "c": ((2.1659, 1.4412, 0.038269), (2.92, 1.5012, 0.039796), (3.4699, 1.4856, 0.03164),
          (3.9673, 1.4777, 0.026315), (4.5509, 1.5338, 0.029545), (5.1399, 1.6036, 0.034445)),
    "ct": ((3.2512, 1.6047, 0.049588), (3.6646, 1.5419, 0.036448), (4.0983, 1.5173, 0.029898),
           (4.5844, 1.5338, 0.028796), (5.0722, 1.5634, 0.029472), (5.53, 1.5914, 0.030392)),
}
_LARGE = {  # c0 … c3 for τ > τ*
    "c": ((1.7339, 0.93202, -0.12745, -0.010368), (2.1945, 0.64695, -0.29198, -0.042377),
          (2.5893, 0.45168, -0.36529, -0.050074), (3.0387, 0.45452, -0.33666, -0.041921),
          (3.5049, 0.52098, -0.29158, -0.033468), (3.9489, 0.58933, -0.25359, -0.02721)),
    "ct": ((2.5261, 0.61654, -0.37956, -0.060285), (2.85, 0.5272, -0.36622, -0.051695),
           (3.221, 0.5255, -0.32685, -0.041501), (3.652, 0.59758, -0.27483, -0.032081),
           (4.0712, 0.66428, -0.23464, -0.02546), (4.4735, 0.71757, -0.20681, -0.021196)),
}


def mackinnon_pvalue(stat: float, regression: str = "c", n: int = 1) -> float:
    """The p-value (0–1; small = reject a unit root, i.e. mean reversion) of the statistic
    ``stat`` of a regression with a constant (``"c"``) or a constant and a trend (``"ct"``)
    on ``n`` (1–6) integrated series (``n`` = 1: Dickey–Fuller; more: Engle–Granger)."""
    if regression not in _MAX:
        raise ValueError(f"regression must be 'c' or 'ct', got {regression!r}")
    if not 1 <= n <= 6:
        raise ValueError(f"n must be 1 to 6 integrated series, got {n}")
    k = n - 1
    if stat > _MAX[regression][k]:
        return 1.0
    if stat < _MIN[regression][k]:
        return 0.0
    coef = _SMALL[regression][k] if stat <= _STAR[regression][k] else _LARGE[regression][k]
    z = sum(c * stat ** j for j, c in enumerate(coef))
    return 0.5 * math.erfc(-z / math.sqrt(2.0))
