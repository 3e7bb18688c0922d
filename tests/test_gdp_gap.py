"""GDP gap table on the newsletter's inputs, checked by hand and against its printed figures."""

import math

import pandas as pd
import pytest

from engine.models.gdp_gap import GDP_GAP_COLUMNS, gdp_gap, parse_period

PERIODS = ["2019", "2020", "2021", "2022", "2023Q1", "2023Q2", "2023Q3"]
GROWTH = [None, -2.8, 5.9, 2.1, 2.2, 2.1, 5.2]  # newsletter, Nov 2023


def test_newsletter_inputs_simple_matches_printed_actual_rows():
    t = gdp_gap(PERIODS, GROWTH, 2.24, "2019", "simple").set_index("Period")
    assert list(t.reset_index().columns) == list(GDP_GAP_COLUMNS)
    # printed: Non Annualized 0.55, 0.525, 1.3 (= g/4: the newsletter de-annualizes simply)
    assert list(t["Non Annualized"].iloc[4:].round(3)) == [0.55, 0.525, 1.3]
    assert math.isnan(t.loc["2021", "Non Annualized"])
    # printed GDP index 100.0 97.2 102.9 105.1 105.7 106.2 107.6 (one decimal)
    assert list(t["GDP Index"].round(1)) == [100.0, 97.2, 102.9, 105.1, 105.7, 106.2, 107.6]
    # by hand: 100 * 0.972 * 1.059 * 1.021 * 1.0055 * 1.00525 * 1.013
    assert t.loc["2023Q3", "GDP Index"] == pytest.approx(
        100 * 0.972 * 1.059 * 1.021 * 1.0055 * 1.00525 * 1.013, rel=1e-12)
    # annual target rows agree with the printed 102.2 104.5 106.9 and gaps -5.0 -1.6 -1.8
    assert list(t["Target Index"].iloc[:4].round(1)) == [100.0, 102.2, 104.5, 106.9]
    assert list(t["Gap"].iloc[:4].round(1)) == [0.0, -5.0, -1.6, -1.8]


def test_quarterly_target_compounds_trend_at_quarterly_frequency():
    t = gdp_gap(PERIODS, GROWTH, 2.24, "2019", "simple").set_index("Period")
    q = 1.0224 ** 0.25 - 1
    assert t.loc["2023Q1", "Trend Growth"] == pytest.approx(q * 100)
    assert round(t.loc["2023Q1", "Trend Growth"], 2) == 0.56  # printed 0.56
    assert t.loc["2023Q3", "Target Index"] == pytest.approx(100 * 1.0224 ** 3.75, rel=1e-12)
    # the printed quarterly targets (107.0, 107.2, 107.3) apply 0.14 %/quarter = 0.56 % / 4,
    # i.e. de-annualize the already-quarterly trend twice; the correct ones are higher and
    # the gap stays negative (see docs/performance.md)
    assert list(t["Target Index"].iloc[4:].round(1)) == [107.5, 108.1, 108.7]
    assert list(t["Gap"].iloc[4:].round(1)) == [-1.8, -1.8, -1.1]
    printed = [106.872 * 1.0014 ** k for k in (1, 2, 3)]
    assert [round(x, 1) for x in printed] == [107.0, 107.2, 107.3]


def test_compound_deannualization():
    t = gdp_gap(PERIODS, GROWTH, 2.24, "2019").set_index("Period")
    assert t.loc["2023Q1", "Non Annualized"] == pytest.approx((1.022 ** 0.25 - 1) * 100)
    idx = 100 * 0.972 * 1.059 * 1.021 * (1.022 * 1.021 * 1.052) ** 0.25
    assert t.loc["2023Q3", "GDP Index"] == pytest.approx(idx, rel=1e-12)
    assert t.loc["2023Q3", "Gap"] == pytest.approx(idx - 100 * 1.0224 ** 3.75, rel=1e-12)


def test_base_in_the_middle_goes_backwards():
    t = gdp_gap([2018, 2019, 2020], [1.0, 2.0, 3.0], 2.0, 2019).set_index("Period")
    assert t.loc["2019", "GDP Index"] == 100
    assert t.loc["2018", "GDP Index"] == pytest.approx(100 / 1.02)
    assert t.loc["2018", "Target Index"] == pytest.approx(100 / 1.02)
    assert t.loc["2020", "GDP Index"] == pytest.approx(103)


def test_period_parsing():
    assert parse_period("2023Q1") == (2023, 1)
    assert parse_period("2023 q2") == (2023, 2)
    assert parse_period("Q3 2023") == (2023, 3)
    assert parse_period(2019.0) == (2019, 0)
    with pytest.raises(ValueError, match="periods: expected a year or a quarter"):
        parse_period("2023Q5")


def test_bad_inputs_name_argument():
    with pytest.raises(ValueError, match="periods: must follow each other without gaps, got "
                                         "2020 then 2022"):
        gdp_gap(["2020", "2022"], [1, 2], 2, "2020")
    with pytest.raises(ValueError, match="growth: blank for 2021"):
        gdp_gap(["2020", "2021"], [1, None], 2, "2020")
    with pytest.raises(ValueError, match="base_period: 2018 is not among"):
        gdp_gap(["2020", "2021"], [1, 2], 2, "2018")
    with pytest.raises(ValueError, match="deannualize"):
        gdp_gap(["2020"], [1], 2, "2020", "log")
    with pytest.raises(ValueError, match="growth: must have one value per period"):
        gdp_gap(["2020", "2021"], [1], 2, "2020")
    with pytest.raises(ValueError, match="growth: expected a percent for 2021"):
        gdp_gap(["2020", "2021"], [1, "n/a"], 2, "2020")
    # a quarter may not follow Q2 by skipping Q3; a year may follow only Q4
    with pytest.raises(ValueError, match="2023Q2 then 2024"):
        gdp_gap(["2023Q1", "2023Q2", "2024"], [1, 1, 1], 2, "2023Q1")
    t = gdp_gap(["2023Q3", "2023Q4", "2024"], [1, 1, 1], 2, "2023Q3")
    assert list(t["Period"]) == ["2023Q3", "2023Q4", "2024"]
    assert isinstance(t, pd.DataFrame)


def test_compound_deannualization_refuses_growth_at_or_below_minus_100():
    """(1 + g)^(1/4) has no real value for g < -100 %: a clear error, never complex numbers.
    Simple de-annualization (g/4) accepts down to -400 % (a quarter losing everything)."""
    with pytest.raises(ValueError, match="growth: -150.0 % for 2020Q2"):
        gdp_gap(["2020Q1", "2020Q2"], [None, -150.0], 2.0, "2020Q1")
    t = gdp_gap(["2020Q1", "2020Q2"], [None, -150.0], 2.0, "2020Q1", "simple")
    assert t["GDP Index"].iloc[1] == pytest.approx(100 * (1 - 1.5 / 4))
