"""Excel-facing performance functions: Excel-shaped inputs, independent expectations, and
errors returned as '#…' strings (never raised)."""

import datetime as dt

import numpy as np
import pytest

from addin.udfs_performance import (
    gamma_annualize,
    gamma_gdp_gap,
    gamma_link,
    gamma_perf,
)


def excel_columns(values, start=(1996, 1)):
    y, m = start
    dates, rets = [], []
    for v in values:
        nxt = dt.datetime(y + (m == 12), m % 12 + 1, 1)
        dates.append([nxt - dt.timedelta(days=1)])
        rets.append([v])
        y, m = nxt.year, nxt.month
    return dates, rets


def test_gamma_perf_row_and_header():
    rng = np.random.default_rng(5)
    vals = list(rng.normal(0.01, 0.03, 35))  # Jan 1996 … Nov 1998
    dates, rets = excel_columns(vals)
    out = gamma_perf(dates, rets, None, 2, True)
    assert out[0] == ["Month", "YTD", "Trailing 1 Yr", 1997, 1996]
    row = out[1]
    v = np.array(vals)
    assert row[0] == pytest.approx(v[-1])
    assert row[1] == pytest.approx(np.prod(1 + v[-11:]) - 1)
    assert row[2] == pytest.approx(np.prod(1 + v[-12:]) - 1)
    assert row[3] == pytest.approx(np.prod(1 + v[12:24]) - 1)
    assert row[4] == pytest.approx(np.prod(1 + v[:12]) - 1)
    # years=3: 1995 is not covered -> blank cell, not a number
    assert gamma_perf(dates, rets, None, 3)[0][5] == ""


def test_gamma_perf_errors_are_strings():
    dates, rets = excel_columns([0.01, 0.02])
    assert gamma_perf(dates, rets[:1]).startswith("#")
    out = gamma_perf(dates, rets, dt.datetime(1997, 6, 30))
    assert out.startswith("#N/A") and "1997-06" in out
    assert gamma_perf(dates, [["x"], [0.1]]).startswith("#VALUE!: returns (row 1)")
    assert gamma_perf(dates, rets, None, 99).startswith("#VALUE!: years")


def test_gamma_perf_blank_inside_is_a_missing_month():
    vals = [0.01] * 24
    dates, rets = excel_columns(vals)
    rets[15] = [None]  # April 1997 blank
    out = gamma_perf(dates, rets)
    assert out[0][2] == ""  # trailing 1 year spans the gap
    assert out[0][0] == pytest.approx(0.01)


def test_gamma_link_skips_blanks():
    assert gamma_link([[0.1], [None], [-0.05], [""]]) == pytest.approx(1.1 * 0.95 - 1)
    assert gamma_link(0.03) == pytest.approx(0.03)
    assert gamma_link([[None]]).startswith("#N/A")
    assert gamma_link([["abc"]]).startswith("#VALUE!: returns (cell 1)")


def test_gamma_annualize():
    assert gamma_annualize(0.21, 24) == pytest.approx(0.1)
    msg = gamma_annualize(0.05, 6)
    assert msg.startswith("#N/A") and "under 12 months" in msg
    assert gamma_annualize(0.05, 12.5).startswith("#VALUE!: months")


def test_gamma_gdp_gap_newsletter_inputs():
    periods = [[2019], [2020], [2021], [2022], ["2023Q1"], ["2023Q2"], ["2023Q3"], [None]]
    growth = [[None], [-2.8], [5.9], [2.1], [2.2], [2.1], [5.2], [None]]
    out = gamma_gdp_gap(periods, growth, 2.24, 2019, "simple", True)
    assert out[0] == ["Period", "Growth", "Non Annualized", "GDP Index", "Trend Growth",
                      "Target Index", "Gap"]
    assert len(out) == 8
    assert out[1][:2] == ["2019", ""] and out[1][3] == 100.0
    q3 = out[7]
    assert q3[2] == pytest.approx(1.3)
    assert q3[3] == pytest.approx(100 * 0.972 * 1.059 * 1.021 * 1.0055 * 1.00525 * 1.013)
    assert q3[5] == pytest.approx(100 * 1.0224 ** 3.75)
    assert q3[6] == pytest.approx(q3[3] - q3[5])


def test_gamma_gdp_gap_errors():
    assert gamma_gdp_gap([[2019], [2021]], [[1], [2]], 2, 2019).startswith(
        "#VALUE!: periods: must follow")
    assert gamma_gdp_gap([[2019]], [[1]], 2, 2019, "log").startswith("#VALUE!: deannualize")
    assert gamma_gdp_gap([[2019], [2020]], [[1]], 2, 2019).startswith("#VALUE!: periods has 2")


def test_gamma_perf_accepts_excel_serial_dates():
    # 35400 = 1996-12-01 .. serials of month-ends Jan-Dec 1997
    ends = [dt.datetime(1997, m % 12 + 1, 1) - dt.timedelta(days=1) if m < 12
            else dt.datetime(1997, 12, 31) for m in range(1, 13)]
    serials = [[(d - dt.datetime(1899, 12, 30)).days] for d in ends]
    rets = [[0.01]] * 12
    out = gamma_perf(serials, rets, None, 0)
    assert out[0][2] == pytest.approx(1.01 ** 12 - 1)
    assert out[0][1] == pytest.approx(1.01 ** 12 - 1)  # December as-of: YTD = 12 months


def test_gamma_perf_mid_month_asof_does_not_see_the_month_end():
    rng = np.random.default_rng(8)
    vals = list(rng.normal(0.01, 0.03, 36))  # Jan 1996 … Dec 1998, month-end dates
    dates, rets = excel_columns(vals)
    v = np.array(vals)
    row = gamma_perf(dates, rets, dt.datetime(1998, 12, 15), 1)[0]
    assert row[0] == pytest.approx(v[-2])  # November: December's return is dated 12-31
    assert row[2] == pytest.approx(np.prod(1 + v[-13:-1]) - 1)
    assert row[3] == pytest.approx(np.prod(1 + v[12:24]) - 1)  # 1997
    # first-of-month dates: the default as-of is the month of the last return
    firsts = [[dt.datetime(1996 + i // 12, i % 12 + 1, 1)] for i in range(36)]
    assert gamma_perf(firsts, rets)[0][0] == pytest.approx(v[-1])
