"""Track record metrics against independent (hand / loop / closed-form) computations."""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from engine.models.composite import forecast_history
from engine.models.skill import RIVALS, rival_forecasts
from engine.models.track_record import (long_returns, par_bond_duration, score, track_record,
                                        verdict)


def test_score_against_loops():
    y = [0.02, -0.01, 0.03, -0.04, 0.01, 0.00]
    pos = [1, -1, 1, 1, -1, 0]
    r = y  # price instrument: long return = change
    got = score(np.array(pos, float), np.array(r))
    # strategy months: +0.02, +0.01, +0.03, -0.04, -0.01, 0 (neutral)
    assert got["Hit Rate"] == pytest.approx(3 / 5)    # 5 active months, 3 gains
    # base rate on the same 5 months as the hit rate (the neutral 6th is not scored):
    # a long gained in 3 of them (+0.02, +0.03, +0.01)
    assert got["Base Rate"] == pytest.approx(3 / 5)
    assert np.isnan(got["PT"])                        # under 12 months: no test
    # 6 months: under 12 months a return is never annualized (DESIGN) -> no annual figure
    assert np.isnan(got["Annual Return"])
    s = [0.02, 0.01, 0.03, -0.04, -0.01, 0.0]
    mean_s = sum(s) / 6
    vol = math.sqrt(sum((v - mean_s) ** 2 for v in s) / 5) * math.sqrt(12)
    assert got["Volatility"] == pytest.approx(vol, rel=1e-12)
    assert got["Sharpe"] == pytest.approx(mean_s * 12 / vol, rel=1e-12)
    peak = 1.02 * 1.01 * 1.03
    assert got["Max Drawdown"] == pytest.approx(peak * 0.96 * 0.99 / peak - 1, rel=1e-12)
    # trades: flat->1 (B), 1->-1, -1->1, 1->1 none, 1->-1, -1->0 : 5 changes in half a year
    assert got["Trades/Yr"] == pytest.approx(10.0)


def test_par_bond_duration_matches_finite_difference():
    def price(y, coupon, m):  # semi-annual bond, per 100 face; y and coupon in percent
        i, c, n = y / 200, coupon / 2, int(2 * m)
        return sum(c / (1 + i) ** k for k in range(1, n + 1)) + 100 / (1 + i) ** n
    for y, m in ((4.25, 10), (8.0, 30), (1.0, 2)):
        h = 1e-4
        d_fd = -(price(y + h, y, m) - price(y - h, y, m)) / (2 * h / 100) / price(y, y, m)
        assert float(par_bond_duration(y, m)) == pytest.approx(d_fd, rel=1e-6)
    assert float(par_bond_duration(0.0, 7)) == 7.0
    with pytest.raises(ValueError, match="maturity"):
        par_bond_duration(5.0, 0)


def test_long_returns_prices_and_yields():
    idx = pd.date_range("2000-01-31", periods=3, freq="ME")
    h = pd.DataFrame({"price": [100.0, 110.0, 99.0]}, index=idx)
    r = long_returns(h, "Price")
    assert r.iloc[0] == pytest.approx(0.10) and r.iloc[1] == pytest.approx(-0.10)
    assert np.isnan(r.iloc[2])
    hy = pd.DataFrame({"price": [5.0, 4.9, 5.2]}, index=idx)
    ry = long_returns(hy, "Yield", maturity=10)
    d = float(par_bond_duration(5.0, 10))
    assert ry.iloc[0] == pytest.approx(5.0 / 1200 + d * 0.1 / 100)   # yield fell 10 bp
    assert ry.iloc[1] < 0                                             # yield rose 30 bp


def _equity(n=300, seed=7):
    """Synthetic (labelled) index for mechanics tests."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("1970-01-31", periods=n, freq="ME")
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0.006, 0.04, n))), index=idx)


def test_rivals_are_walk_forward_ols():
    px = _equity()
    h = forecast_history(px, use_valuation=False)
    fc = rival_forecasts(h["price"])
    y_next = h["change"].shift(-1).to_numpy()
    sgn = np.sign(h["momentum"].to_numpy())
    t = 200
    rows = [s for s in range(t) if np.isfinite(sgn[s]) and np.isfinite(y_next[s])]
    beta = sm.OLS(y_next[rows], np.column_stack([np.ones(len(rows)), sgn[rows]])).fit().params
    assert fc["Momentum 12-1"].iloc[t] == pytest.approx(beta[0] + beta[1] * sgn[t], rel=1e-9)
    assert (fc["Random walk"].dropna() == 0).all()
    assert "Valuation only" not in fc             # no sigma given
    pd.testing.assert_series_equal(fc["Historical mean"], h["mean"], check_names=False)


def _record(px, band=0.001):
    h = forecast_history(px, use_valuation=False)
    return h, track_record(h, rival_forecasts(h["price"]), quote="Price", band=band)


def test_track_record_same_sample_and_buy_and_hold():
    px = _equity()
    h, tr = _record(px)
    assert tr["Model"].tolist() == ["Composite", *[m for m in RIVALS if m != "Valuation only"],
                                    "Buy & hold"]
    assert tr["Months"].nunique() == 1 and tr["Start"].nunique() == 1
    n = int(tr["Months"].iloc[0])
    start, end = tr["Start"].iloc[0], tr["End"].iloc[0]
    # buy & hold over months start..end holds from start to the month after end
    i0, i1 = px.index.get_loc(start), px.index.get_loc(end) + 1
    assert i1 - i0 == n
    bh = tr.set_index("Model").loc["Buy & hold"]
    assert bh["Annual Return"] == pytest.approx((px.iloc[i1] / px.iloc[i0]) ** (12 / n) - 1,
                                                rel=1e-10)
    assert bh["Trades/Yr"] == pytest.approx(12 / n)
    rw = tr.set_index("Model").loc["Random walk"]
    assert rw["Annual Return"] == 0 and np.isnan(rw["Hit Rate"])
    hm = tr.set_index("Model").loc["Historical mean"]
    assert hm["OOS R²"] == 0 and np.isnan(hm["Clark-West"])
    # hand check of the composite's R² and Clark-West on the same sample
    s = (h.index >= start) & (h.index <= end)
    y = h["change"].shift(-1)[s].to_numpy()
    f, m = h["forecast"][s].to_numpy(), h["mean"][s].to_numpy()
    comp = tr.set_index("Model").loc["Composite"]
    assert comp["OOS R²"] == pytest.approx(1 - ((y - f) ** 2).sum() / ((y - m) ** 2).sum(),
                                           rel=1e-10)
    adj = [(a - c) ** 2 - ((a - b) ** 2 - (c - b) ** 2) for a, b, c in zip(y, f, m)]
    mu = sum(adj) / n
    sd = math.sqrt(sum((a - mu) ** 2 for a in adj) / (n - 1))
    assert comp["Clark-West"] == pytest.approx(mu / (sd / math.sqrt(n)), rel=1e-9)


def test_short_history_gives_empty_record():
    px = _equity(n=30)
    h, tr = _record(px)
    assert (tr["Months"] == 0).all()
    assert "not enough history" in verdict("X", tr)


def test_verdict_words():
    cols = ["Model", "Months", "OOS R²", "Clark-West", "Sharpe", "Equal To", "Equal Share",
            "Start", "End"]
    rows = [["Composite", 100, -0.004, 0.3, 0.2, "Random walk", 0.1],
            ["Random walk", 100, -0.01, 0.1, np.nan, "", 0.0],
            ["Historical mean", 100, 0.0, np.nan, 0.5, "", 0.0],
            ["Momentum 12-1", 100, 0.002, 1.0, 0.3, "", 0.0],
            ["Valuation only", 100, np.nan, np.nan, np.nan, "", 0.0],
            ["Buy & hold", 100, np.nan, np.nan, 0.5, "", np.nan]]
    rows = [r + [pd.Timestamp("2000-01-31"), pd.Timestamp("2008-04-30")] for r in rows]
    text = verdict("SPX", pd.DataFrame(rows, columns=cols))
    assert text.startswith("SPX: the composite does not beat the historical mean")
    assert "Momentum 12-1 rival forecasts better" in text
    assert "lower Sharpe ratio than buy-and-hold (0.20 vs 0.50)" in text
    assert "equals" not in text                               # 10 % of months: below 20 %
    rows[0][1:7] = [100, 0.01, 2.0, 0.9, "Random walk", 0.35]
    idx = pd.date_range("2000-01-31", "2008-04-30", freq="ME")
    hist = pd.DataFrame({"forecast": 0.004, "anchor": 0.006}, index=idx)
    hist.iloc[:35, 0] = 0.0                                   # floored in 35 of 100 months
    text = verdict("SPX", pd.DataFrame(rows, columns=cols), hist)
    assert "beats the historical mean (R² 1.00%, Clark-West 2.00" in text
    assert "rival" not in text and "Sharpe" not in text
    assert "equals the Random walk forecast in 35% of months — in 35% of months the floor" \
        in text


def test_annual_return_only_from_twelve_months():
    r = np.array([0.01, -0.02, 0.03, 0.0, 0.015, -0.005, 0.02, 0.01, -0.01, 0.005, 0.0, 0.012,
                  0.004, -0.003])
    pos = np.ones(len(r))
    for n in (11, 12, 14):
        got = score(pos[:n], r[:n])
        growth = 1.0
        for v in r[:n]:
            growth *= 1.0 + v
        if n < 12:
            assert np.isnan(got["Annual Return"])
        else:
            assert got["Annual Return"] == pytest.approx(growth ** (12.0 / n) - 1.0, rel=1e-12)


def test_base_rate_on_the_hit_rate_months():
    """A model that is Neutral in the losing months must not look skilful against a base rate
    taken over all months: both rates are shares of the same (non-neutral) months."""
    y = np.array([0.02, -0.03, 0.01, -0.02, 0.015, -0.01])
    pos = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])       # long in the up months only
    got = score(pos, y)
    assert got["Hit Rate"] == 1.0
    assert got["Base Rate"] == 1.0                         # always long gained in those 3 too
    short = score(-np.ones(6), y)
    assert short["Hit Rate"] == pytest.approx(3 / 6) and short["Base Rate"] == pytest.approx(3 / 6)


def test_yield_direction_is_the_sign_of_the_yield_change_not_the_carry():
    """Issue #12: a T-bill's total return is positive in almost every month (carry), so a
    base rate from returns was 95 % and hid the hit rate. For yields, direction is scored on
    the yield change: the base rate is the share of months the yield fell."""
    idx = pd.date_range("1980-01-31", periods=240, freq="ME")
    rng = np.random.default_rng(5)
    y = pd.Series(5.0 + np.cumsum(rng.choice([-0.05, 0.0, 0.05], 240)), index=idx)
    h = forecast_history(y, quote="Yield")
    rivals = rival_forecasts(y, quote="Yield")
    t = track_record(h, rivals, quote="Yield", maturity=1 / 12).set_index("Model")
    ret = long_returns(h, "Yield", 1 / 12)
    ok = h["forecast"].notna() & h["mean"].notna() & h["change"].shift(-1).notna()
    months = ok[ok].index
    dy = h["change"].shift(-1).loc[months].to_numpy()
    assert (ret.loc[months] > 0).mean() > 0.9          # the carry: "long gained" nearly always
    bh = t.loc["Buy & hold"]                            # always long: every month is active
    moved = [v for v in dy if v != 0]                   # an unchanged yield has no direction
    assert bh["Base Rate"] == pytest.approx(sum(1 for v in moved if v < 0) / len(moved))
    assert bh["Hit Rate"] == bh["Base Rate"]
    assert 0.3 < bh["Base Rate"] < 0.7                  # falls vs rises, not the carry's 90 %+
