"""Income-strategy figures, checked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from engine.models.income import income_figures


def frame(n=11, start="2023-01-31"):
    idx = pd.date_range(start, periods=n, freq="ME")
    rng = np.random.default_rng(1)
    return pd.DataFrame({"Income": rng.uniform(0.009, 0.013, n),
                         "Cashflow": rng.uniform(0.01, 0.014, n),
                         "Loss": rng.uniform(-0.001, 0.001, n)}, index=idx)


def test_newsletter_month_convention():
    df = frame()
    df.loc["2023-11-30", ["Income", "Cashflow", "Loss"]] = [0.01, 0.012, 0.0008]
    t = income_figures(df, "2023-11-30")
    assert t.loc["Income", "Month"] == 0.01
    assert t.loc["Income", "Month (ann.)"] == pytest.approx(0.12)  # "+1.00%; +12.0% annualized"
    assert t.loc["Cashflow", "Month (ann.)"] == pytest.approx(0.144)  # "+1.2%. ~14% annualized"
    assert t.loc["Loss", "Month"] == 0.0008


def test_ytd_is_summed_and_annualized_simply():
    df = frame()
    t = income_figures(df, "2023-11-30")
    for col in ("Income", "Cashflow", "Loss"):
        total = sum(df[col].tolist())
        assert t.loc[col, "YTD"] == pytest.approx(total, abs=1e-15)
        assert t.loc[col, "YTD (ann.)"] == pytest.approx(total * 12 / 11, abs=1e-15)
    assert t.loc["Income", "YTD Months"] == 11
    # Earlier as-of uses only January … that month
    t6 = income_figures(df, "2023-06-30")
    assert t6.loc["Income", "YTD"] == pytest.approx(sum(df["Income"].tolist()[:6]))


def test_newsletter_ytd_annualized_is_a_run_rate_projection():
    """The newsletter's "YTD 2023 MBS Income: +13.6%, 14.6% annualized": no annualization of
    13.6 % over 11 months gives 14.6 % (x 12/11: 14.84 %; compounded 14.92 %); YTD plus the one
    month left at November's 1.00 % does. Both are shown, each under its own label."""
    df = frame()
    df["Income"] = 0.0126                                   # ten months …
    df.loc["2023-11-30", "Income"] = 0.01                   # … and November at 1.00 %
    df.loc["2023-01-31", "Income"] = 0.136 - 0.0126 * 9 - 0.01  # so that YTD = 13.6 %
    t = income_figures(df, "2023-11-30")
    # abs 1e-12: sums of eleven rounded decimals, far below the 0.1 % printed
    assert t.loc["Income", "YTD"] == pytest.approx(0.136, abs=1e-12)
    assert t.loc["Income", "Full Year (run rate)"] == pytest.approx(0.146, abs=1e-12)
    assert t.loc["Income", "YTD (ann.)"] == pytest.approx(0.136 * 12 / 11, abs=1e-12)
    assert round(t.loc["Income", "YTD (ann.)"] * 100, 1) != 14.6  # the standard one is not it
    dec = income_figures(frame(12), "2023-12-31")           # December: nothing left to project
    assert (dec["Full Year (run rate)"] == dec["YTD"]).all()


def test_recoveries_are_negative_losses():
    df = frame(3)
    df["Loss"] = [0.002, -0.003, -0.001]
    t = income_figures(df, "2023-03-31")
    assert t.loc["Loss", "Month"] == -0.001
    assert t.loc["Loss", "YTD"] == pytest.approx(-0.002)


def test_missing_month_and_mid_year_start_blank_ytd():
    df = frame().drop(pd.Timestamp("2023-04-30"))
    t = income_figures(df, "2023-11-30")
    assert math.isnan(t.loc["Income", "YTD"]) and "2023-04" in t.loc["Income", "Note"]
    assert t.loc["Income", "Month"] == df["Income"].iloc[-1]
    late = frame(5, "2023-07-31")
    t2 = income_figures(late, "2023-11-30")
    assert math.isnan(t2.loc["Cashflow", "YTD"]) and "starts 2023-07" in t2.loc["Cashflow", "Note"]


def test_bad_input():
    with pytest.raises(ValueError, match="income: needs columns .* missing Loss"):
        income_figures(frame().drop(columns="Loss"), "2023-11-30")
    with pytest.raises(ValueError, match="asof"):
        income_figures(frame(), "soon")


def test_mid_month_asof_uses_the_last_complete_month():
    df = frame()  # Jan … Nov 2023, month-end dated
    t = income_figures(df, "2023-11-15")  # November's rates (dated 11-30) are not known yet
    assert t.loc["Income", "Month"] == df["Income"].iloc[9]
    assert t.loc["Income", "YTD"] == pytest.approx(sum(df["Income"].tolist()[:10]))
    assert t.loc["Income", "YTD Months"] == 10
