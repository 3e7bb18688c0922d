"""Every UDF of the registry (``addin.udfs.UDF_NAMES``) with Excel's extremes in every argument:
±1e308, NaN, ±inf, −1, 0, the smallest subnormal, and huge arrays. Every returned cell is a
finite number, a string, a boolean or None — never inf or NaN as a number; a refusal is one
``#…`` string. The UDF-specific refusals of issue 14 are pinned with their message."""

from __future__ import annotations

import datetime as dt
import math

import pytest

import addin.udfs as U
from test_addin_properties import _month_ends

EXTREMES = [1e308, -1e308, math.nan, math.inf, -math.inf, -1.0, 0.0, 5e-324, -1.5, 1e12]


N = 72  # months: enough for every function (the valuation needs 60)
DATES = [[d] for d in _month_ends(N)]
PRICES = [[100.0 * 1.01 ** k + (k % 5)] for k in range(N)]
YIELDS = [[4.0 + 0.1 * (k % 7)] for k in range(N)]
RETURNS = [[0.01 * ((k % 7) - 3)] for k in range(N)]

# one valid call per UDF: the baseline each extreme is put into, argument by argument
BASE = {
    "gamma_position": ([[0.02], [-0.01]], 0.005, "Price"),
    "gamma_trade": ([[1], [0]], [[-1], [1]]),
    "gamma_forecast": (DATES, PRICES, None, "Price"),
    "gamma_valuation": (DATES, PRICES, None, "Price", True),
    "gamma_sigma": (DATES, PRICES, None, "Price"),
    "gamma_bond_valuation": (DATES, YIELDS, 10, None, True),
    "gamma_perf": (DATES, RETURNS, None, 2, True),
    "gamma_link": (RETURNS,),
    "gamma_annualize": (0.25, 24),
    "gamma_gdp_gap": ([[2019], [2020], [2021], ["2022Q1"]], [[None], [-2.8], [5.9], [2.2]],
                      2.24, 2019, "compound", True),
}


def _ok_cell(v) -> bool:
    if v is None or isinstance(v, (bool, str)):
        return True
    return isinstance(v, (int, float)) and math.isfinite(v)


def _check(name: str, result) -> None:
    cells = [v for r in result for v in r] if isinstance(result, list) else [result]
    bad = [v for v in cells if not _ok_cell(v)]
    assert not bad, f"{name} returned non-Excel values {bad[:3]}"


def _variants(value):
    """The extremes in place of one argument: as a scalar, as a whole column of the
    argument's length, and as one cell of the argument's column."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        for x in EXTREMES:
            yield [[x]] * len(value)
            for k in (0, len(value) - 1):
                col = [list(r) for r in value]
                col[k] = [x]
                yield col
    for x in EXTREMES:
        yield x
        yield [[x]]


def test_every_udf_has_a_baseline():
    assert set(BASE) == set(U.UDF_NAMES)


@pytest.mark.parametrize("name", U.UDF_NAMES)
def test_extremes_in_every_argument_give_excel_values(name):
    fn = getattr(U, name)
    base = BASE[name]
    _check(name, fn(*base))
    assert not (isinstance(fn(*base), str) and fn(*base).startswith("#")), fn(*base)
    calls = 0
    for i, value in enumerate(base):
        for v in _variants(value):
            args = list(base)
            args[i] = v
            _check(name, fn(*args))
            calls += 1
    assert calls >= 2 * len(EXTREMES) * len(base)


HEAVY = ("gamma_forecast", "gamma_valuation", "gamma_sigma", "gamma_bond_valuation")


@pytest.mark.parametrize("name", U.UDF_NAMES)
def test_huge_arrays(name):
    """Long ranges, as a whole-column reference passes them: 20,000 rows of 1e308 in every
    range argument (the models that walk forward month by month: 1,200 rows, a century, to
    keep the test fast), and the valid range followed by 20,000 blank rows and 1e308."""
    fn = getattr(U, name)
    base = BASE[name]
    dated = name in HEAVY or name == "gamma_perf"
    n = 1_200 if name in HEAVY else 20_000
    args = [[[1e308]] * n if isinstance(a, list) else a for a in base]
    if dated:
        args[0] = [[d] for d in _month_ends(n, start=1900)]  # dates, not numbers
    _check(name, fn(*args))
    pad = 20_000
    args = [a + [[None]] * pad + [[1e308]] if isinstance(a, list) else a for a in base]
    if dated:
        args[0] = base[0] + [[None]] * pad + [[dt.datetime(2099, 12, 31)]]
    _check(name, fn(*args))


def test_link_refuses_what_is_not_a_decimal_return():
    over = U.gamma_link([[1e308], [1e308]])
    assert over.startswith("#") and "returns" in over, over
    many = U.gamma_link([[1e5]] * 90)  # each allowed, the product beyond Excel's range
    assert many.startswith("#") and "returns" in many and "Excel" in many, many
    assert "below -1" in U.gamma_link([[-1.5], [0.1]])
    assert U.gamma_link([[-1.0], [0.1]]) == -1.0  # a total loss is a possible return
    assert U.gamma_link([[0.1], [0.1]]) == pytest.approx(0.21)


def test_perf_refuses_returns_outside_a_month():
    dates = [[d] for d in _month_ends(12, start=2020)]
    for bad, words in ((1e308, "not a monthly decimal return"),
                       (1.5, "not a monthly decimal return"),
                       (-1.5, "below -1")):
        r = U.gamma_perf(dates, [[bad]] + [[0.01]] * 11)
        assert isinstance(r, str) and r.startswith("#") and "returns" in r and words in r, r
    ok = U.gamma_perf(dates, [[0.01]] * 12)
    assert isinstance(ok, list) and ok[0][0] == pytest.approx(0.01)


def test_gdp_gap_says_why_it_cannot_compute():
    periods = [[2019], [2020], [2021]]
    r = U.gamma_gdp_gap(periods, [[None], [1e308], [2.0]], 2.0, 2019)
    assert isinstance(r, str) and r.startswith("#") and "growth" in r and "2020" in r, r
    r = U.gamma_gdp_gap(periods, [[None], [1.0], [2.0]], 1e308, 2019)
    assert isinstance(r, str) and r.startswith("#") and "trend_growth" in r, r
    ok = U.gamma_gdp_gap(periods, [[None], [1.0], [2.0]], 2.0, 2019)
    assert isinstance(ok, list) and ok[1][3] == pytest.approx(101.0)


def test_valuation_never_returns_an_impossible_forecast():
    """A last price of 1e308 makes the horizon forecasts −100 %: refused, not returned."""
    prices = [list(r) for r in PRICES]
    prices[-1] = [1e308]
    r = U.gamma_valuation(DATES, prices)
    assert isinstance(r, str) and r.startswith("#NUM!") and "impossible" in r, r
