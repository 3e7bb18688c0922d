"""Bond prices against hand-computed closed forms, and the seed's Price Valuation (%)."""

from __future__ import annotations

import pytest

from engine.models.bonds import bond_price, price_valuation


def _annuity(i: float, n: int) -> float:
    """Present value of 1 per period for n periods at rate i (closed form)."""
    return (1 - (1 + i) ** -n) / i


def test_ten_year_five_percent_coupon_at_six_percent():
    # 20 semiannual coupons of 2.5 at 3 % per half-year: 2.5·a(20, 3 %) + 100·1.03^-20
    hand = 2.5 * _annuity(0.03, 20) + 100 * 1.03 ** -20
    assert hand == pytest.approx(92.5613, abs=1e-4)  # the textbook figure
    assert bond_price(6.0, 5.0, 10) == pytest.approx(hand, abs=1e-10)


@pytest.mark.parametrize("y", [0.5, 4.25, 12.0])
@pytest.mark.parametrize("m", [1, 2, 5, 30])
def test_par_bond_prices_at_100(y, m):
    assert bond_price(y, y, m) == pytest.approx(100.0, abs=1e-9)


def test_zero_coupon_and_annual_and_monthly():
    assert bond_price(4.0, 0.0, 7) == pytest.approx(100 / 1.02 ** 14, abs=1e-10)
    assert bond_price(3.0, 5.0, 4, freq=1) == pytest.approx(5 * _annuity(0.03, 4)
                                                            + 100 * 1.03 ** -4, abs=1e-10)
    assert bond_price(6.0, 6.0, 1, freq=12) == pytest.approx(100.0, abs=1e-9)


def test_fractional_maturity_street_convention():
    # 2.75 years, 6 % coupon, 4 % yield: seen from the last coupon date (half a period ago)
    # it is a 6-period bond; roll it forward half a period, subtract half a coupon accrued.
    p6 = 3 * _annuity(0.02, 6) + 100 * 1.02 ** -6
    hand = p6 * 1.02 ** 0.5 - 3 * 0.5
    assert bond_price(4.0, 6.0, 2.75) == pytest.approx(hand, abs=1e-10)


def test_maturity_under_one_period():
    # 3 months, semiannual: one cash flow 102.5 in half a period; accrued half a coupon
    hand = 102.5 / 1.025 ** 0.5 - 1.25
    assert bond_price(5.0, 5.0, 0.25) == pytest.approx(hand, abs=1e-10)
    assert bond_price(5.0, 5.0, 0.25) == pytest.approx(100.0, abs=0.01)  # ~ par
    assert bond_price(4.0, 0.0, 0.25) == pytest.approx(100 / 1.02 ** 0.5, abs=1e-10)


def test_price_valuation_by_hand_and_signs():
    hand = (2.5 * _annuity(0.03, 20) + 100 * 1.03 ** -20) / 100 - 1
    assert price_valuation(6.0, 5.0, 10) == pytest.approx(hand, abs=1e-12)
    assert price_valuation(6.0, 5.0, 10) < 0          # yield above fair: price cheap
    assert price_valuation(4.0, 5.0, 10) > 0          # yield below fair: price rich
    assert price_valuation(5.0, 5.0, 10) == pytest.approx(0.0, abs=1e-12)
    # longer maturity, bigger price effect for the same yield gap (duration)
    assert abs(price_valuation(6.0, 5.0, 30)) > abs(price_valuation(6.0, 5.0, 2))
    # the seed's point: 1 bp matters more at 2 % than at 10 %
    assert abs(price_valuation(2.01, 2.0, 10)) > abs(price_valuation(10.01, 10.0, 10))


def test_price_valuation_fractional_maturity_is_relative_to_price_at_fair_yield():
    expect = bond_price(4.0, 3.0, 2.75) / bond_price(3.0, 3.0, 2.75) - 1
    assert price_valuation(4.0, 3.0, 2.75) == pytest.approx(expect, abs=1e-14)


def test_negative_yields():
    assert bond_price(-0.5, 0.0, 2) == pytest.approx(100 / (1 - 0.0025) ** 4, abs=1e-10)


@pytest.mark.parametrize("args, message", [
    ((5.0, 5.0, 0.0), "maturity_years must be > 0, got 0.0"),
    ((5.0, 5.0, -2), "maturity_years must be > 0"),
    ((5.0, -1.0, 2), "coupon_pct must be >= 0, got -1.0"),
    ((-250.0, 5.0, 2), "yield_pct must be above -200, got -250.0"),
    (("5", 5.0, 2), "yield_pct must be a number, got '5'"),
    ((float("nan"), 5.0, 2), "yield_pct must be finite"),
    ((5.0, True, 2), "coupon_pct must be a number"),
])
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        bond_price(*args)


def test_bad_freq():
    with pytest.raises(ValueError, match="freq must be 1, 2, 4 or 12 coupons a year, got 3"):
        bond_price(5.0, 5.0, 2, freq=3)


def test_price_valuation_with_negative_fair_yield():
    # coupon = fair yield = −0.5 %: hand price at −0.2 % over the price at −0.5 %
    def hand(y, c):
        i = y / 200
        return (c / 2) * (1 - (1 + i) ** -20) / i + 100 * (1 + i) ** -20
    expect = hand(-0.2, -0.5) / hand(-0.5, -0.5) - 1
    assert price_valuation(-0.2, -0.5, 10) == pytest.approx(expect, abs=1e-12)
    assert price_valuation(-0.2, -0.5, 10) < 0


def test_price_valuation_bad_input_names_argument():
    with pytest.raises(ValueError, match="maturity_years must be > 0, got 0.0"):
        price_valuation(5.0, 4.0, 0)
    with pytest.raises(ValueError, match="fair_yield must be a number, got None"):
        price_valuation(5.0, None, 10)
