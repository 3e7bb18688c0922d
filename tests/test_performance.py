"""Performance figures against independent computations (numpy products, closed forms)."""

import math

import numpy as np
import pandas as pd
import pytest

from engine.models import performance as p


def monthly(values, start="1990-01-31"):
    idx = pd.date_range(start, periods=len(values), freq="ME")
    return pd.Series(values, index=idx, dtype=float)


@pytest.fixture
def r():
    rng = np.random.default_rng(42)
    return monthly(rng.normal(0.007, 0.04, 120), "1989-01-31")  # 1989-01 … 1998-12


def test_link_is_product():
    x = [0.01, -0.02, 0.035, 0.0]
    assert p.link(x) == pytest.approx(1.01 * 0.98 * 1.035 - 1, abs=1e-15)


def test_link_rejects_missing_and_below_minus_one():
    with pytest.raises(ValueError, match="missing"):
        p.link([0.01, float("nan")])
    with pytest.raises(ValueError, match="below -1"):
        p.link([-1.5])
    with pytest.raises(ValueError, match="at least one"):
        p.link([])


def test_annualize_closed_form_and_refuses_short():
    assert p.annualize(0.21, 24) == pytest.approx(0.1, abs=1e-12)  # 1.1^2 = 1.21
    assert p.annualize(0.05, 12) == pytest.approx(0.05, abs=1e-15)
    with pytest.raises(ValueError, match="under 12 months"):
        p.annualize(0.05, 11)


def test_trailing_one_year_is_exactly_12_months_not_13(r):
    v, note = p.trailing_return(r, "1998-12-31", 12)
    assert note == ""
    vals = r.to_numpy()
    assert v == pytest.approx(np.prod(1 + vals[-12:]) - 1, abs=1e-14)
    # the 13-month trap: Dec 1997 … Dec 1998 would be a different number
    assert abs(v - (np.prod(1 + vals[-13:]) - 1)) > 1e-6
    # an as-of on the month's last business day selects that month
    assert p.trailing_return(r, "1998-12-31", 12)[0] == v


def test_three_and_five_year_annualized(r):
    vals = r.to_numpy()
    v3, _ = p.trailing_return(r, "1998-12-31", 36)
    v5, _ = p.trailing_return(r, "1998-12-31", 60)
    assert v3 == pytest.approx(np.prod(1 + vals[-36:]) ** (1 / 3) - 1, abs=1e-14)
    assert v5 == pytest.approx(np.prod(1 + vals[-60:]) ** (1 / 5) - 1, abs=1e-14)


def test_window_ending_before_asof(r):
    v, _ = p.trailing_return(r, "1997-06-30", 12)
    vals = r["1996-07-01":"1997-06-30"].to_numpy()
    assert len(vals) == 12
    assert v == pytest.approx(np.prod(1 + vals) - 1, abs=1e-14)


def test_missing_month_blanks_window_with_reason(r):
    gap = r.drop(pd.Timestamp("1998-03-31"))
    v, note = p.trailing_return(gap, "1998-12-31", 12)
    assert math.isnan(v) and "1998-03" in note
    v6, note6 = p.trailing_return(gap, "1998-12-31", 6)  # Jul–Dec: unaffected
    assert note6 == "" and v6 == pytest.approx(np.prod(1 + r.to_numpy()[-6:]) - 1)
    nan_in = r.copy()
    nan_in["1998-05-31"] = np.nan
    assert math.isnan(p.ytd_return(nan_in, "1998-12-31")[0])


def test_too_short_series_is_blank_with_note():
    s = monthly([0.01] * 20, "1997-05-31")
    v, note = p.trailing_return(s, "1998-12-31", 36)
    assert math.isnan(v) and "needs 36 months, has 20" in note


def test_leap_year_february_is_one_month():
    s = monthly([0.01, 0.02, 0.03], "1996-01-31")  # Feb 1996 is 29 days
    assert s.index[1] == pd.Timestamp("1996-02-29")
    v, _ = p.window_return(s, "1996-02-29", "1996-03-31")
    assert v == pytest.approx(1.02 * 1.03 - 1)
    # a leap-day as-of picks February
    assert p.trailing_return(s, "1996-02-29", 1)[0] == pytest.approx(0.02)
    # dates that are not month-ends map to their month; two in a month is refused
    with pytest.raises(ValueError, match="one return per month"):
        p.to_monthly(pd.Series([0.01, 0.02], index=pd.to_datetime(["1996-02-28", "1996-02-29"])))


def test_ytd_and_calendar_years_and_mid_year_start():
    s = monthly(np.linspace(-0.02, 0.03, 21), "1997-04-30")  # Apr 1997 … Dec 1998
    vals = s.to_numpy()
    ytd, _ = p.ytd_return(s, "1998-12-31")
    assert ytd == pytest.approx(np.prod(1 + vals[-12:]) - 1)
    y97, note = p.calendar_year_return(s, 1997, "1998-12-31")
    assert math.isnan(y97) and "needs 12 months, has 9" in note
    ytd_oct, _ = p.ytd_return(s, "1998-10-31")
    assert ytd_oct == pytest.approx(np.prod(1 + vals[9:19]) - 1)
    # YTD in the first (partial) year is blank, not a shorter window
    assert math.isnan(p.ytd_return(s, "1997-12-31")[0])
    # calendar year not complete at as-of
    assert "not complete" in p.calendar_year_return(s, 1998, "1998-11-30")[1]


def test_since_inception_annualizes_only_from_12_months():
    s = monthly([0.01] * 8, "1998-05-31")
    v, n, note = p.since_inception(s, "1998-12-31")
    assert n == 8 and v == pytest.approx(1.01 ** 8 - 1) and "not annualized" in note
    s2 = monthly([0.01] * 30, "1996-07-31")
    v2, n2, note2 = p.since_inception(s2, "1998-12-31")
    assert n2 == 30 and note2 == "" and v2 == pytest.approx(1.01 ** 12 - 1)
    v3, n3, _ = p.since_inception(s2, "1998-12-31", inception="1997-01-15")
    assert n3 == 24 and v3 == pytest.approx(1.01 ** 12 - 1)


def test_volatility_and_sharpe_formula(r):
    rf = pd.Series(0.003, index=r.index)
    vals = r.to_numpy()[-36:]
    vol, _ = p.volatility(r, "1998-12-31")
    assert vol == pytest.approx(math.sqrt(np.sum((vals - vals.mean()) ** 2) / 35) * math.sqrt(12))
    sh, _ = p.sharpe(r, rf, "1998-12-31")
    e = vals - 0.003
    assert sh == pytest.approx(e.mean() / e.std(ddof=1) * math.sqrt(12))
    assert math.isnan(p.sharpe(r, None, "1998-12-31")[0])
    short_rf = rf["1997-01-01":]
    assert "risk free" in p.sharpe(r, short_rf, "1998-12-31")[1]


def test_max_drawdown_by_hand():
    # wealth 1 -> 1.1 -> 0.88 -> 0.968 -> 1.1616 -> 0.58: peak 1.1616, trough 0.5808
    s = monthly([0.10, -0.20, 0.10, 0.20, -0.50])
    v, _ = p.max_drawdown(s, "1990-05-31")
    assert v == pytest.approx(-0.5)
    v_early, _ = p.max_drawdown(s, "1990-03-31")  # 1.1 -> 0.88
    assert v_early == pytest.approx(0.88 / 1.1 - 1)
    # a loss in the first month counts (wealth starts at 1 before it)
    assert p.max_drawdown(monthly([-0.1, 0.5]), "1990-02-28")[0] == pytest.approx(-0.1)
    assert p.max_drawdown(monthly([0.01, 0.02]), "1990-02-28")[0] == 0.0


def test_wealth_index_and_drawdown_series():
    s = monthly([0.10, -0.20])
    w = p.wealth_index(s, 10_000)
    assert list(w.round(6)) == [10_000, 11_000, 8_800]
    assert w.index[0] == pd.Timestamp("1989-12-31")
    dd = p.drawdown_series(s)
    assert dd.iloc[-1] == pytest.approx(-0.2)


def test_best_worst(r):
    bw = p.best_worst_month(r, "1998-12-31")
    assert bw["best"] == r.max() and bw["worst"] == r.min()
    assert bw["best_month"] == r.idxmax().to_period("M")


def test_relative_stats_against_numpy():
    rng = np.random.default_rng(7)
    b = monthly(rng.normal(0.005, 0.04, 48))
    s = monthly(0.002 + 0.8 * b.to_numpy() + rng.normal(0, 0.01, 48))
    st = p.relative_stats(s, b, b.index[-1], 36)
    x, y = b.to_numpy()[-36:], s.to_numpy()[-36:]
    assert st["beta"] == pytest.approx(np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1))
    assert st["correlation"] == pytest.approx(pd.Series(y).corr(pd.Series(x)))
    up = x > 0
    gs = np.exp(np.mean(np.log1p(y[up]))) - 1
    gb = np.exp(np.mean(np.log1p(x[up]))) - 1
    assert st["up_capture"] == pytest.approx(gs / gb)
    dn = x < 0
    assert st["down_capture"] == pytest.approx(
        (np.exp(np.mean(np.log1p(y[dn]))) - 1) / (np.exp(np.mean(np.log1p(x[dn]))) - 1))
    assert st["months"] == 36


def test_bad_input_names_argument():
    with pytest.raises(ValueError, match="returns: .*below -1"):
        p.to_monthly(monthly([0.1, -1.2]))
    with pytest.raises(ValueError, match="returns: expected a pandas Series"):
        p.to_monthly([0.1])
    with pytest.raises(ValueError, match="asof"):
        p.trailing_return(monthly([0.1]), "not a date", 1)


def _frame():
    idx = pd.date_range("1990-01-31", "1998-12-31", freq="ME")
    rng = np.random.default_rng(3)
    ret = pd.DataFrame({"STRAT": rng.normal(0.01, 0.03, len(idx)),
                        "SPX": rng.normal(0.008, 0.045, len(idx)),
                        "TBILL": 0.004}, index=idx)
    ret.loc[:"1997-03-31", "STRAT"] = np.nan  # starts April 1997
    meta = pd.DataFrame({"Name": ["SPX", "STRAT"], "Role": ["Benchmark", "Strategy"],
                         "Basis": ["Gross", "Net"], "Inception": [None, None],
                         "Benchmark": ["", "SPX"], "Description": ["S&P 500", "Strategy A"]})
    return ret, meta


def test_performance_table_rows_order_and_blanks():
    ret, meta = _frame()
    t = p.performance_table(ret, meta, "1998-12-31", ret["TBILL"])
    assert list(t["Code"]) == ["STRAT", "SPX"]  # strategies first
    assert list(t["Basis"]) == ["Net", "Gross"]
    assert list(t.columns[:10]) == ["Code", "Role", "Basis", "Inception", "Month", "YTD",
                                    "Trailing 1 Yr", "3 Yr (ann.)", "5 Yr (ann.)",
                                    "Since Inception"]
    assert {"1997", "1996", "1995"} <= set(t.columns)
    s = t.set_index("Code")
    assert math.isnan(s.loc["STRAT", "3 Yr (ann.)"]) and "3 Yr" in s.loc["STRAT", "Note"]
    assert math.isnan(s.loc["STRAT", "1997"])
    spx = ret["SPX"].to_numpy()
    assert s.loc["SPX", "5 Yr (ann.)"] == pytest.approx(np.prod(1 + spx[-60:]) ** 0.2 - 1)
    assert s.loc["SPX", "1996"] == pytest.approx(np.prod(1 + spx[72:84]) - 1)
    strat = ret["STRAT"].dropna().to_numpy()
    assert len(strat) == 21
    assert s.loc["STRAT", "Since Inception"] == pytest.approx(
        np.prod(1 + strat) ** (12 / 21) - 1)
    assert s.loc["STRAT", "Inception"] == pd.Timestamp("1997-04-30")


def test_newsletter_table_headers_and_values():
    ret, meta = _frame()
    t = p.newsletter_table(ret, meta, "1998-11-30", years=2)
    # no header says Net or Gross: the rows differ, each row's Basis is its label (#12)
    assert list(t.columns) == ["Code", "Basis", "% Return", "1998 YTD %",
                               "Trailing 1 year %", "1997 Full Year %", "1996 Full Year %",
                               "Note"]
    spx = ret["SPX"][:"1998-11-30"].to_numpy()
    row = t.set_index("Code").loc["SPX"]
    assert row["% Return"] == pytest.approx(spx[-1])
    assert row["1998 YTD %"] == pytest.approx(np.prod(1 + spx[-11:]) - 1)
    assert row["Trailing 1 year %"] == pytest.approx(np.prod(1 + spx[-12:]) - 1)
    assert row["1997 Full Year %"] == pytest.approx(np.prod(1 + spx[-23:-11]) - 1)


def test_bad_meta_rejected():
    ret, meta = _frame()
    meta.loc[0, "Basis"] = "Both"
    with pytest.raises(ValueError, match="Basis of 'SPX' must be Net or Gross"):
        p.performance_table(ret, meta, "1998-12-31")


def test_series_ending_before_asof_is_blank_not_stale():
    s = monthly([0.01] * 24, "1997-01-31")  # ends 1998-12
    v, note = p.trailing_return(s, "1999-01-31", 1)
    assert math.isnan(v) and "no return for 1999-01" in note
    assert math.isnan(p.trailing_return(s, "1999-01-31", 12)[0])
    # figures for an as-of inside the record are unaffected
    assert p.trailing_return(s, "1998-12-31", 12)[0] == pytest.approx(1.01 ** 12 - 1)


def test_mid_month_asof_cannot_see_the_month_end_return(r):
    """No look-ahead: at 1998-12-15 the December return (dated 1998-12-31) is not known, so
    the windows end in November (independent: numpy on the values up to November)."""
    vals = r.to_numpy()  # ... 1998-11 is vals[-2], 1998-12 is vals[-1]
    v, note = p.trailing_return(r, "1998-12-15", 12)
    assert note == "" and v == pytest.approx(np.prod(1 + vals[-13:-1]) - 1, abs=1e-14)
    assert p.trailing_return(r, "1998-12-15", 1)[0] == pytest.approx(vals[-2])
    assert p.ytd_return(r, "1998-12-15")[0] == pytest.approx(np.prod(1 + vals[-12:-1]) - 1)
    assert "not complete" in p.calendar_year_return(r, 1998, "1998-12-15")[1]
    assert p.volatility(r, "1998-12-15")[0] == pytest.approx(
        np.std(vals[-37:-1], ddof=1) * math.sqrt(12))
    assert p.best_worst_month(r, "1998-12-15")["best"] == vals[:-1].max()
    w = np.concatenate([[1.0], np.cumprod(1 + vals[:-1])])
    assert p.max_drawdown(r, "1998-12-15")[0] == pytest.approx(
        (w / np.maximum.accumulate(w) - 1).min())
    # the last business day completes the month: 1998-10-30 is a Friday (the 31st a Saturday)
    assert p.trailing_return(r, "1998-10-30", 1)[0] == pytest.approx(r["1998-10-31"])
    assert p.trailing_return(r, "1998-10-29", 1)[0] == pytest.approx(r["1998-09-30"])
    # business days as the Updated column's (Mon-Fri minus US federal holidays): 2021-05-31
    # is Memorial Day, so a 2021-05-28 as-of has May complete
    s = monthly([0.01, 0.02, 0.03], "2021-03-31")
    assert p.trailing_return(s, "2021-05-28", 1)[0] == pytest.approx(0.03)
    assert p.trailing_return(s, "2021-05-27", 1)[0] == pytest.approx(0.02)
    # a month named as text or as a period is that month
    assert p.trailing_return(r, "1998-12", 1)[0] == pytest.approx(vals[-1])
    assert p.trailing_return(r, pd.Period("1998-12", "M"), 1)[0] == pytest.approx(vals[-1])


def test_mid_month_asof_tables_are_to_the_previous_month_end(r):
    ret = pd.DataFrame({"S": r})
    meta = pd.DataFrame({"Name": ["S"], "Role": ["Strategy"], "Basis": ["Net"]})
    vals = r.to_numpy()
    t = p.performance_table(ret, meta, "1999-01-15").set_index("Code")
    # January 1999 is not complete: YTD = the whole of 1998, the prior years 1997 …
    assert t.loc["S", "Month"] == pytest.approx(vals[-1])
    assert t.loc["S", "YTD"] == pytest.approx(np.prod(1 + vals[-12:]) - 1)
    assert t.loc["S", "1997"] == pytest.approx(np.prod(1 + vals[-24:-12]) - 1)
    n = p.newsletter_table(ret, meta, "1999-01-15")
    assert "1998 YTD %" in n.columns and "1997 Full Year %" in n.columns
