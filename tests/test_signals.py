"""Positions, trade codes and update dates (DESIGN.md conventions, seed Tables 2/4/6/8)."""

import itertools

import numpy as np
import pandas as pd
import pytest

from engine.models.signals import (DEFAULT_BANDS, position, positions, trade, trades,
                                   update_date, update_dates)

# The whole trade table, written out by hand from DESIGN.md.
TRADE_TABLE = {
    (0, 1): "B", (0, -1): "S", (1, 0): "CL", (-1, 0): "CS", (1, -1): "CL&S", (-1, 1): "CS&B",
    (1, 1): "", (0, 0): "", (-1, -1): "",
}
WORDS = {1: "Long", 0: "Neutral", -1: "Short"}


@pytest.mark.parametrize("prev,new", list(itertools.product((1, 0, -1), repeat=2)))
def test_trade_table_numbers_and_words(prev, new):
    expected = TRADE_TABLE[(prev, new)]
    assert trade(prev, new) == expected
    assert trade(WORDS[prev], WORDS[new]) == expected
    assert trade(WORDS[prev].upper(), float(new)) == expected
    assert trade(str(prev), WORDS[new].lower()) == expected


@pytest.mark.parametrize("bad", [2, "Buy", None, True, 0.5])
def test_trade_rejects_bad_positions(bad):
    with pytest.raises(ValueError, match="prev"):
        trade(bad, 1)


def test_position_prices_and_band():
    assert position(0.0073) == 1
    assert position(-0.0126) == -1
    assert position(0.0) == 0
    assert position(0.0009, band=0.001) == 0
    assert position(0.001, band=0.001) == 0      # |f| <= band is neutral
    assert position(0.0011, band=0.001) == 1
    assert position(-0.0011, band=0.001) == -1


def test_position_yield_inversion():
    # Seed Table 4: a -0.09 pp yield forecast is Long the note; +0.01 pp is Short.
    assert position(-0.09, quote="Yield") == 1
    assert position(0.01, quote="Yield") == -1
    assert position(0.01, band=DEFAULT_BANDS["Bond"], quote="Yield") == -1
    assert position(0.004, band=DEFAULT_BANDS["Bond"], quote="Yield") == 0


@pytest.mark.parametrize("kw,match", [({"band": -1}, "band"), ({"quote": "Level"}, "quote"),
                                      ({"band": float("nan")}, "band")])
def test_position_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        position(0.01, **kw)


def test_positions_vectorized_matches_scalar():
    f = pd.Series([0.02, -0.0005, np.nan, -0.03, 0.0], index=pd.date_range("2000-01-31", periods=5, freq="ME"))
    for quote in ("Price", "Yield"):
        p = positions(f, band=0.001, quote=quote)
        for v, got in zip(f, p):
            if np.isnan(v):
                assert np.isnan(got)
            else:
                assert got == position(v, 0.001, quote)
                assert str(got) != "-0.0"


def test_trades_vectorized():
    p = pd.Series([np.nan, 1, 1, 0, -1, 1, 0, 0, -1])
    got = trades(p).tolist()
    assert got == ["", "B", "", "CL", "S", "CS&B", "CL", "", "S"]
    assert trades(p, initial=None).tolist()[1] == ""
    assert trades(p, initial=-1).tolist()[1] == "CS&B"


@pytest.mark.parametrize("month,rule,expected", [
    ("1998-12", "MonthEnd", "1998-12-31"),          # Thursday
    ("2021-12", "MonthEnd", "2021-12-31"),          # NYSE open (no Saturday New Year observed)
    ("2024-03", "MonthEnd", "2024-03-28"),          # Fri 29th = Good Friday
    ("2021-07", "MonthEnd", "2021-07-30"),          # Sat 31st -> Friday
    ("2020-05", "MonthEnd", "2020-05-29"),          # Sun 31st -> Friday
    ("2021-05", "MonthEnd", "2021-05-28"),          # Mon 31st is Memorial Day
    ("2022-04", "MonthEnd", "2022-04-29"),          # Sat 30th -> Friday
    ("2021-12", "20", "2021-12-20"),                # Monday
    ("2021-11", "20", "2021-11-19"),                # Saturday -> Friday
    ("2021-02", "15", "2021-02-12"),                # Presidents' Day -> Friday
    ("2021-08", "15", "2021-08-13"),                # Sunday -> Friday
    ("2022-01", "15", "2022-01-14"),                # Saturday -> Friday
    ("2024-01", "15", "2024-01-12"),                # MLK Day Monday -> Friday
    ("2021-06", "20", "2021-06-18"),                # Sun 20th -> Fri 18th (NYSE Juneteenth from 2022)
    ("2022-06", "20", "2022-06-17"),                # Mon 20th = Juneteenth observed
])
def test_update_date_schedule(month, rule, expected):
    got = update_date(month, rule)
    assert got == pd.Timestamp(expected)


def test_update_date_july4_observed():
    # 4 July 2021 was a Sunday, observed Monday 5 July; month end unaffected, but day 5 is.
    assert update_date("2021-07-05", "MonthEnd") == pd.Timestamp("2021-07-30")
    assert update_date(pd.Timestamp("2021-07-31"), 15) == pd.Timestamp("2021-07-15")


def test_update_date_bad_rule():
    with pytest.raises(ValueError, match="rule"):
        update_date("2021-01", "Weekly")


def test_update_dates_vectorized():
    idx = pd.DatetimeIndex(["2021-12-15", "2021-07-10", "2021-12-01"])
    assert list(update_dates(idx, "MonthEnd")) == [pd.Timestamp("2021-12-31"),
                                                   pd.Timestamp("2021-07-30"),
                                                   pd.Timestamp("2021-12-31")]


def test_sampling_keeps_a_month_on_its_holiday_adjusted_update_day():
    """A refresh on the schedule's update day must include that month's update: 2024-03-28
    (29 Mar is Good Friday) for MonthEnd, 2024-01-12 (15 Jan is MLK Day) for 15.
    The sampling's "month still in progress" test used weekdays only and dropped the month."""
    from engine.inputs.sampling import monthly
    days = pd.bdate_range("2024-01-01", "2024-03-28")
    s = pd.Series(np.arange(len(days), dtype=float), index=days)
    got = monthly(s, "MonthEnd", asof=pd.Timestamp("2024-03-28"))
    assert got.index[-1] == pd.Timestamp("2024-03-28")
    assert update_date(got.index[-1], "MonthEnd") == pd.Timestamp("2024-03-28")
    days = pd.bdate_range("2023-10-01", "2024-01-12")
    s = pd.Series(np.arange(len(days), dtype=float), index=days)
    got = monthly(s, "15", asof=pd.Timestamp("2024-01-12"))
    assert got.index[-1] == pd.Timestamp("2024-01-12")
    assert update_date(got.index[-1], "15") == pd.Timestamp("2024-01-12")
    # the day before the update day the month is still in progress
    got = monthly(s[s.index <= "2024-01-11"], "15", asof=pd.Timestamp("2024-01-11"))
    assert got.index[-1] == pd.Timestamp("2023-12-15")
