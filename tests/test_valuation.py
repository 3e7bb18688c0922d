"""Valuation model: known truth recovered, statsmodels agreement, no look-ahead, edge cases.

Synthetic series are built as fair value × exp(known deviation), with the deviation made
exactly orthogonal to the fair-value regressors over the whole sample; the OLS fit on the whole
sample then recovers the fair value *exactly*, so the last row is checked against closed-form
truth at float precision (tolerance 1e-9, a few ulps of the running sums).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from engine.models.valuation import (fit_fair_value, fundamental_role, valuation_history,
                                     valuation_snapshot)

N = 360
IDX = pd.date_range("1970-01-31", periods=N, freq="ME")


def _ar1(n: int, phi: float = 0.95, sd: float = 0.04, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal(0, sd)
    return e


def _orthogonal(d: np.ndarray, X: np.ndarray) -> np.ndarray:
    """d minus its projection on X: OLS of d on X then has zero coefficients."""
    beta, *_ = np.linalg.lstsq(X, d, rcond=None)
    return d - X @ beta


def _years(idx: pd.DatetimeIndex) -> np.ndarray:
    return ((idx.year - 1900) * 12 + idx.month - 1) / 12.0


def test_trend_model_recovers_known_fair_value_and_sigma_exactly():
    t = _years(IDX)
    X = np.column_stack([np.ones(N), t])
    d = _orthogonal(_ar1(N), X)
    log_fv = np.log(50.0) + 0.06 * (t - t[0])
    p = pd.Series(np.exp(log_fv + d), IDX)
    h = valuation_history(p)
    last = h.iloc[-1]
    sd = np.sqrt((d ** 2).sum() / (N - 2))  # OLS residual std, 2 parameters
    assert last["fair_value"] == pytest.approx(np.exp(log_fv[-1]), rel=1e-9)
    assert last["deviation"] == pytest.approx(d[-1], abs=1e-9)
    assert last["sigma"] == pytest.approx(d[-1] / sd, abs=1e-8)
    assert last["valuation_pct"] == pytest.approx(np.exp(d[-1]) - 1, abs=1e-9)
    assert last["to_fair_value_pct"] == pytest.approx(np.exp(-d[-1]) - 1, abs=1e-9)
    assert last["frequency"] == pytest.approx(np.mean(np.abs(d) >= abs(d[-1]) - 1e-12))
    assert last["model"] == "trend"


def test_identity_valuation_and_to_fair_value_every_row():
    p = pd.Series(np.exp(0.01 * np.arange(N) + _ar1(N, seed=3)), IDX)
    h = valuation_history(p).dropna(subset=["sigma"])
    prod = (1 + h["valuation_pct"]) * (1 + h["to_fair_value_pct"])
    np.testing.assert_allclose(prod.to_numpy(), 1.0, rtol=0, atol=1e-12)
    # and they are not the same number (DESIGN.md): opposite signs, different sizes
    big = h["valuation_pct"].abs() > 0.05
    assert (h.loc[big, "valuation_pct"] * h.loc[big, "to_fair_value_pct"] < 0).all()
    assert not np.allclose(h.loc[big, "valuation_pct"], -h.loc[big, "to_fair_value_pct"])


def test_sigma_recovered_within_tolerance_on_noisy_truth():
    # Not orthogonalised: the fitted trend differs from the true one by sampling error.
    # With 360 months of AR(0.95, 4 %) noise the trend error at the end is ~ a few %, so
    # we allow 0.35 σ and 6 % in valuation (about 3 standard errors of the end-point fit).
    t = _years(IDX)
    d = _ar1(N, seed=7)
    p = pd.Series(np.exp(np.log(20) + 0.05 * (t - t[0]) + d), IDX)
    last = valuation_history(p).iloc[-1]
    true_sigma = d[-1] / d.std(ddof=2)
    assert abs(last["sigma"] - true_sigma) < 0.35
    assert abs(last["valuation_pct"] - np.expm1(d[-1])) < 0.06


def test_every_row_matches_statsmodels_on_data_up_to_that_date():
    rng = np.random.default_rng(5)
    earn = np.exp(np.cumsum(rng.normal(0.004, 0.02, N)))
    cpi = np.exp(np.cumsum(rng.normal(0.003, 0.002, N)))
    p = pd.Series(np.exp(1.0 + 0.9 * np.log(earn) + 0.2 * np.log(cpi) + _ar1(N, seed=2)), IDX)
    f = pd.DataFrame({"EPS": earn, "US_CPI": cpi}, index=IDX)
    # the cointegration model (stationary=False: without the CAPE that would take over)
    h = valuation_history(p, f, asset_class="Equity", stationary=False)
    for i in (59, 60, 150, 271, N - 1):
        res, name = fit_fair_value(p, f, asof_date=IDX[i], stationary=False)
        assert name == h["model"].iloc[i] == "cointegration: log EPS, log US_CPI"
        e = res.resid.iloc[-1]
        assert h["deviation"].iloc[i] == pytest.approx(e, abs=1e-9)
        assert h["sigma"].iloc[i] == pytest.approx(e / np.sqrt(res.scale), abs=1e-7)
        freq = np.mean(np.abs(res.resid.to_numpy()) >= abs(e) * (1 - 1e-9))
        assert h["frequency"].iloc[i] == pytest.approx(freq)
    assert h["sigma"].iloc[:59].isna().all() and np.isfinite(h["sigma"].iloc[59])


def test_cointegration_recovers_known_relation():
    rng = np.random.default_rng(11)
    log_e = np.cumsum(rng.normal(0.005, 0.03, N))
    X = np.column_stack([np.ones(N), log_e])
    d = _orthogonal(_ar1(N, seed=4), X)
    p = pd.Series(np.exp(2.0 + 1.0 * log_e + d), IDX)
    f = pd.DataFrame({"Earnings": np.exp(log_e)}, index=IDX)
    last = valuation_history(p, f, stationary=False).iloc[-1]
    assert last["fair_value"] == pytest.approx(np.exp(2.0 + log_e[-1]), rel=1e-9)
    assert last["sigma"] == pytest.approx(d[-1] / np.sqrt((d ** 2).sum() / (N - 2)), abs=1e-8)


def test_fx_ppp_fair_value_from_two_price_levels():
    # EUR/USD (USD per EUR): fair S = k · P_US / P_EU; the first price level is the base's.
    rng = np.random.default_rng(8)
    p_eu = np.exp(np.cumsum(rng.normal(0.002, 0.002, N)))
    p_us = np.exp(np.cumsum(rng.normal(0.003, 0.002, N)))
    d = _ar1(N, seed=9)
    d -= d.mean()
    s = pd.Series(1.1 * p_us / p_eu * np.exp(d), IDX)
    f = pd.DataFrame({"EU_CPI": p_eu, "US_CPI": p_us}, index=IDX)
    h = valuation_history(s, f, asset_class="FX")
    assert h["model"].iloc[-1] == "PPP: US_CPI/EU_CPI"
    assert h["fair_value"].iloc[-1] == pytest.approx(1.1 * p_us[-1] / p_eu[-1], rel=1e-9)
    assert h["valuation_pct"].iloc[-1] == pytest.approx(np.expm1(d[-1]), abs=1e-9)


def test_commodity_real_price_trend():
    t = _years(IDX)
    cpi = np.exp(0.003 * np.arange(N))
    X = np.column_stack([np.ones(N), t])
    d = _orthogonal(_ar1(N, seed=12), X)
    real_fv = np.exp(3.0 + 0.01 * (t - t[0]))
    p = pd.Series(real_fv * cpi * np.exp(d), IDX)
    h = valuation_history(p, pd.DataFrame({"CPI": cpi}, index=IDX), asset_class="Commodity",
                          stationary=False)
    assert h["model"].iloc[-1] == "real trend (deflated by CPI)"
    assert h["fair_value"].iloc[-1] == pytest.approx(real_fv[-1] * cpi[-1], rel=1e-9)


def test_bond_fair_yield_from_inflation_and_short_rate():
    rng = np.random.default_rng(13)
    cpi = 100 * np.exp(np.cumsum(rng.normal(0.003, 0.003, N)))
    short = np.clip(5 + np.cumsum(rng.normal(0, 0.2, N)), 0.1, None)
    f = pd.DataFrame({"CPI": cpi, "TBILL": short}, index=IDX)
    infl = np.full(N, np.nan)
    infl[12:] = (cpi[12:] / cpi[:-12] - 1) * 100
    ok = np.isfinite(infl)
    X = np.column_stack([np.ones(ok.sum()), infl[ok], short[ok]])
    d = np.zeros(N)
    d[ok] = _orthogonal(_ar1(ok.sum(), sd=0.2, seed=14), X)
    y = pd.Series(1.5 + 0.6 * np.nan_to_num(infl) + 0.7 * short + d, IDX)
    h = valuation_history(y, f, quote="Yield", asset_class="Bond")
    assert h["model"].iloc[-1] == "fair yield: inflation/short rate"
    assert h["fair_value"].iloc[-1] == pytest.approx(1.5 + 0.6 * infl[-1] + 0.7 * short[-1],
                                                     abs=1e-8)
    assert h["deviation"].iloc[-1] == pytest.approx(d[-1], abs=1e-8)
    assert h["valuation_pct"].isna().all()  # price valuation needs a maturity (bonds.py)
    # the first 12 months have no inflation: the fallback (long-run level) is in force
    # until the inflation model has 60 months
    assert h["model"].iloc[59] == "fair yield: long-run level"
    assert h["fair_value"].iloc[59] == pytest.approx(y.iloc[:60].mean(), abs=1e-9)
    assert h["model"].iloc[12 + 59] == "fair yield: inflation/short rate"


def test_no_look_ahead_changing_the_future_leaves_the_past_unchanged():
    rng = np.random.default_rng(21)
    cpi = np.exp(np.cumsum(rng.normal(0.003, 0.002, N)))
    p = pd.Series(np.exp(np.cumsum(rng.normal(0.005, 0.04, N))), IDX)
    f = pd.DataFrame({"CPI": cpi}, index=IDX)
    base = valuation_history(p, f, asset_class="Commodity")
    k = 200
    p2, f2 = p.copy(), f.copy()
    p2.iloc[k + 1:] *= 3.0
    f2.iloc[k + 1:] *= 0.5
    p2 = p2.drop(p2.index[k + 5])  # and a gap in the future
    alt = valuation_history(p2, f2.drop(f2.index[k + 5]), asset_class="Commodity")
    pd.testing.assert_frame_equal(base.iloc[:k + 1], alt.iloc[:k + 1], check_freq=False)
    assert not np.isclose(base["sigma"].iloc[k + 2], alt["sigma"].iloc[k + 2])


def test_late_fundamentals_switch_model_per_date_without_look_ahead():
    rng = np.random.default_rng(22)
    p = pd.Series(np.exp(np.cumsum(rng.normal(0.005, 0.04, N))), IDX)
    cpi = pd.Series(np.exp(np.cumsum(rng.normal(0.003, 0.002, N))), IDX)
    cpi.iloc[:100] = np.nan  # CPI starts in month 101
    h = valuation_history(p, pd.DataFrame({"CPI": cpi}), asset_class="Commodity")
    assert (h["model"].iloc[59:159] == "trend").all()
    assert (h["model"].iloc[159:] == "real price level (deflated by CPI)").all()
    assert h["n_obs"].iloc[159] == 60


def test_gappy_series_uses_valid_months_only():
    rng = np.random.default_rng(23)
    p = pd.Series(np.exp(np.cumsum(rng.normal(0.005, 0.04, N))), IDX)
    gappy = p.drop(p.index[[10, 11, 12, 100, 250]])
    gappy.iloc[30] = np.nan
    h = valuation_history(gappy)
    assert np.isnan(h["sigma"].iloc[30])
    res, _ = fit_fair_value(gappy)
    assert res.nobs == len(gappy) - 1
    assert h["sigma"].iloc[-1] == pytest.approx(res.resid.iloc[-1] / np.sqrt(res.scale),
                                                abs=1e-8)
    first = np.flatnonzero(np.isfinite(h["sigma"].to_numpy()))[0]
    assert h["n_obs"].iloc[first] == 60


def test_constant_series_is_at_fair_value():
    p = pd.Series(100.0, IDX[:80])
    h = valuation_history(p)
    last = h.iloc[-1]
    assert last["sigma"] == 0.0 and last["frequency"] == 1.0
    assert last["fair_value"] == pytest.approx(100.0, rel=1e-12)
    assert abs(last["valuation_pct"]) < 1e-12


def test_short_series_gives_nan_and_snapshot_refuses():
    p = pd.Series(np.linspace(10, 20, 40), IDX[:40])
    assert valuation_history(p)["sigma"].isna().all()
    with pytest.raises(ValueError, match="need 60 months of prices.*got 40"):
        valuation_snapshot(p)
    assert np.isfinite(valuation_history(p, min_history=24)["sigma"].iloc[-1])
    empty = valuation_history(pd.Series([], index=pd.DatetimeIndex([]), dtype=float))
    assert empty.empty


def test_snapshot_is_the_last_row():
    p = pd.Series(np.exp(np.cumsum(np.random.default_rng(3).normal(0.004, 0.04, N))), IDX)
    snap = valuation_snapshot(p)
    h = valuation_history(p)
    assert snap["date"] == IDX[-1] and snap["price"] == p.iloc[-1]
    assert snap["sigma"] == h["sigma"].iloc[-1] and snap["model"] == "trend"


def test_fundamental_roles():
    assert fundamental_role("US_CPI") == "price_level"
    assert fundamental_role("T-Bill 3M") == "rate"
    assert fundamental_role("RF") == "rate"
    assert fundamental_role("Dividend Yield") == "yield"        # an equity's valuation yield
    assert fundamental_role("Dividend Yield", "Bond") == "rate"  # any other class: a rate
    assert fundamental_role("Treasury Yield") == "rate"
    assert fundamental_role("E/P") == "yield"
    assert fundamental_role("SP_EARNINGS") == "level"
    assert fundamental_role("F2", "FX") == "price_level"
    assert fundamental_role("F1", "Bond") == "rate"


@pytest.mark.parametrize("kwargs, message", [
    ({"prices": [1.0, 2.0]}, "prices must be a pandas Series, got list"),
    ({"prices": pd.Series([1.0, 2.0])}, "prices must have a DatetimeIndex"),
    ({"prices": pd.Series([1.0, 2.0], IDX[[1, 0]])}, "sorted ascending"),
    ({"prices": pd.Series([1.0, 2.0], pd.DatetimeIndex(["2000-01-05", "2000-01-20"]))},
     "one observation per month, got two in 2000-01"),
    ({"prices": pd.Series([1.0, -2.0], IDX[:2])}, "prices must be > 0 for quote='Price', got -2"),
    ({"prices": pd.Series([1.0, 2.0], IDX[:2]), "quote": "Level"}, "quote must be one of"),
    ({"prices": pd.Series([1.0, 2.0], IDX[:2]), "asset_class": "Stock"},
     "asset_class must be one of"),
    ({"prices": pd.Series([1.0, 2.0], IDX[:2]), "min_history": 3}, "min_history must be"),
    ({"prices": pd.Series([1.0, 2.0], IDX[:2]), "fundamentals": [[1]]},
     "fundamentals must be a pandas DataFrame"),
])
def test_bad_input_raises_naming_argument(kwargs, message):
    prices = kwargs.pop("prices")
    with pytest.raises(ValueError, match=message):
        valuation_history(prices, **kwargs)


def test_negative_yields_are_allowed():
    y = pd.Series(np.sin(np.arange(N) / 10) - 0.2, IDX)
    h = valuation_history(y, quote="Yield", asset_class="Bond")
    assert h["fair_value"].iloc[-1] == pytest.approx(y.mean(), abs=1e-12)
    sd = y.std(ddof=1)
    assert h["sigma"].iloc[-1] == pytest.approx((y.iloc[-1] - y.mean()) / sd, abs=1e-10)


def test_statsmodels_twin_matches_hand_ols():
    p = pd.Series(np.exp(np.cumsum(np.random.default_rng(4).normal(0.004, 0.04, N))), IDX)
    res, _ = fit_fair_value(p)
    X = sm.add_constant(_years(IDX))
    beta = np.linalg.solve(X.T @ X, X.T @ np.log(p.to_numpy()))
    np.testing.assert_allclose(res.params.to_numpy(), beta, rtol=1e-10)


def test_residual_stationarity_matches_statsmodels_coint_and_separates_cases():
    from statsmodels.tsa.stattools import coint

    from engine.models.valuation import residual_stationarity

    rng = np.random.default_rng(31)
    log_e = np.cumsum(rng.normal(0.005, 0.03, N))
    p = pd.Series(np.exp(1.0 + 1.0 * log_e + _ar1(N, phi=0.8, seed=32)), IDX)
    f = pd.DataFrame({"Earnings": np.exp(log_e)}, index=IDX)
    out = residual_stationarity(p, f, stationary=False)  # the cointegration model
    ref = coint(np.log(p.to_numpy()), log_e, trend="c", maxlag=12, autolag="aic")
    assert out["adf_stat"] == pytest.approx(ref[0], rel=1e-8)
    assert out["pvalue"] == pytest.approx(ref[1], rel=1e-8)
    assert out["pvalue"] < 0.05 and out["model"].startswith("cointegration")
    walk = pd.Series(np.exp(np.cumsum(rng.normal(0.0, 0.05, N))), IDX)
    assert residual_stationarity(walk, pd.DataFrame({"Earnings": np.exp(log_e)},
                                                    index=IDX), stationary=False)["pvalue"] > 0.10
    flat = residual_stationarity(pd.Series(100.0, IDX[:80]))
    assert flat["pvalue"] == 0.0


def test_fundamentals_on_the_price_index_are_read_as_known_on_each_date():
    # A blank in a fundamentals column on the price rows (quarterly earnings next to monthly
    # CPI, or the latest month not yet published) means "the last figure still stands",
    # exactly as for fundamentals on another index (engine.inputs.data.asof): the model in
    # force must not flip to the fallback in the blank months.
    rng = np.random.default_rng(41)
    earn = np.exp(np.cumsum(rng.normal(0.004, 0.02, N)))
    cpi = np.exp(np.cumsum(rng.normal(0.003, 0.002, N)))
    p = pd.Series(np.exp(1.0 + np.log(earn) + _ar1(N, seed=42)), IDX)
    f = pd.DataFrame({"EPS": earn, "CPI": cpi}, index=IDX)
    f.loc[IDX.month % 3 != 0, "EPS"] = np.nan   # quarterly earnings
    f.iloc[-1, 1] = np.nan                         # last CPI not yet published
    h = valuation_history(p, f)
    expect = valuation_history(p, f.ffill())       # carried forward by pandas
    pd.testing.assert_frame_equal(h, expect)
    # the first EPS figure is in March 1970 (row 2): 60 valid months from row 61 on, then
    # the CAPE once it has 120 months of earnings (row 2 + 119) and 60 CAPE months
    assert (h["model"].iloc[61:180] == "cointegration: log EPS, log CPI").all()
    assert (h["model"].iloc[180:] == "CAPE: price / 10-year real EPS (deflated by CPI)").all()


@pytest.mark.parametrize("name", ["CPI YOY Index", "CPI_YOY", "US CPI Inflation", "HICP y/y",
                                  "CPI %", "CPI_PCT"])
def test_an_inflation_rate_named_after_its_price_index_is_a_rate(name):
    # Bloomberg's "CPI YOY Index" is a 12-month inflation rate in percent, not a price level:
    # read as a level, its own 12-month % change would enter the fair yield as "inflation".
    assert fundamental_role(name, "Bond") == "rate"
    assert fundamental_role(name) == "rate"
    assert fundamental_role("CPI_USA") == fundamental_role("Core CPI") == "price_level"


def test_bond_fair_yield_uses_an_inflation_rate_named_cpi_yoy():
    rng = np.random.default_rng(43)
    infl = 3 + np.cumsum(rng.normal(0, 0.1, N))
    y = pd.Series(2.0 + 0.8 * infl + _ar1(N, sd=0.2, seed=44), IDX)
    h = valuation_history(y, pd.DataFrame({"CPI YOY": infl}, index=IDX), quote="Yield",
                          asset_class="Bond")
    X = sm.add_constant(infl)
    res = sm.OLS(y.to_numpy(), X).fit()   # the inflation rate as given, all 360 months
    assert h["fair_value"].iloc[-1] == pytest.approx(res.fittedvalues[-1], abs=1e-9)


def test_every_fair_value_input_of_a_yield_is_used():
    # A bond's short rate under a name the role words do not know ("UST2Y", FRED's "GS2"):
    # Fair Value Inputs says the instrument uses it, so for a yield it is a rate input, not
    # silently dropped in favour of the long-run mean.
    rng = np.random.default_rng(45)
    short = np.clip(4 + np.cumsum(rng.normal(0, 0.15, N)), 0.1, None)
    y = pd.Series(1.0 + 0.9 * short + _ar1(N, sd=0.15, seed=46), IDX)
    for name in ("UST2Y", "GS2"):
        h = valuation_history(y, pd.DataFrame({name: short}, index=IDX), quote="Yield",
                              asset_class="Bond")
        res = sm.OLS(y.to_numpy(), sm.add_constant(short)).fit()
        assert h["model"].iloc[-1] == "fair yield: inflation/short rate"
        assert h["fair_value"].iloc[-1] == pytest.approx(res.fittedvalues[-1], abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_adf_statistic_is_statsmodels_adfuller(seed):
    """Random walks, stationary AR(1)s and AR(2)s of several lengths: the same lag choice and
    the same statistic as statsmodels' adfuller (no trend, AIC)."""
    from statsmodels.tsa.stattools import adfuller

    from engine.models.valuation import adf_statistic
    rng = np.random.default_rng(seed)
    n = [60, 120, 300, 700][seed % 4]
    e = rng.normal(size=n)
    x = np.cumsum(e) if seed % 3 == 0 else np.zeros(n)
    if seed % 3:
        phi = (0.5, 0.3) if seed % 3 == 1 else (0.9, -0.2)
        for t in range(2, n):
            x[t] = phi[0] * x[t - 1] + phi[1] * x[t - 2] + e[t]
    maxlag = min(12, n // 4)
    stat, lags = adf_statistic(x, maxlag)
    with warnings.catch_warnings():  # statsmodels announces a change of return type
        warnings.simplefilter("ignore", FutureWarning)
        ref = adfuller(x, maxlag=maxlag, regression="n", autolag="AIC")
    assert lags == ref[2]
    assert stat == pytest.approx(ref[0], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("regression", ["c", "ct"])
@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_mackinnon_pvalues_equal_statsmodels(regression, n):
    """The p-values the refresh computes without statsmodels' time-series module are
    statsmodels' own (same coefficients; the normal CDF through erfc instead of scipy, so
    the last bits may differ: 1e-12)."""
    from statsmodels.tsa.adfvalues import mackinnonp

    from engine.models.mackinnon import mackinnon_pvalue
    for stat in np.linspace(-30.0, 3.0, 221):
        assert mackinnon_pvalue(float(stat), regression, n) == pytest.approx(
            mackinnonp(float(stat), regression=regression, N=n), rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="regression must be"):
        mackinnon_pvalue(-2.0, "ctt", n)


# ----------------------------------------------------------------- stationary ratio models

def _cape_inputs(seed: int = 51):
    rng = np.random.default_rng(seed)
    cpi = 100 * np.exp(np.cumsum(rng.normal(0.003, 0.002, N)))
    earn = np.exp(np.cumsum(rng.normal(0.005, 0.03, N)))
    real = earn / cpi
    e10 = np.full(N, np.nan)
    for i in range(119, N):                      # the 10-year average of real earnings, by hand
        e10[i] = real[i - 119:i + 1].mean()
    return cpi, earn, e10


def test_cape_recovers_known_fair_value_from_smoothed_real_earnings():
    cpi, earn, e10 = _cape_inputs()
    ok = np.isfinite(e10)
    d = np.zeros(N)
    d[ok] = _orthogonal(_ar1(ok.sum(), seed=52), np.ones((ok.sum(), 1)))  # mean 0 where valid
    k = np.log(18.0)                             # the long-run CAPE
    p = pd.Series(np.exp(k) * cpi * np.nan_to_num(e10, nan=1.0) * np.exp(d), IDX)
    f = pd.DataFrame({"Earnings": earn, "CPI": cpi}, index=IDX)
    h = valuation_history(p, f)
    last = h.iloc[-1]
    assert last["model"] == "CAPE: price / 10-year real Earnings (deflated by CPI)"
    # exact truth: the expanding mean of log CAPE over the valid months is k (d has mean 0);
    # 1e-9 relative = a few ulps of running sums over 241 months
    assert last["fair_value"] == pytest.approx(np.exp(k) * cpi[-1] * e10[-1], rel=1e-9)
    m = ok.sum()
    assert last["sigma"] == pytest.approx(d[-1] / np.sqrt((d[ok] ** 2).sum() / (m - 1)),
                                          abs=1e-8)
    # before 120 months of earnings + 60 CAPE months, the cointegration model is in force
    assert h["model"].iloc[119 + 58].startswith("cointegration")
    assert h["model"].iloc[119 + 59].startswith("CAPE")


def test_cape_rows_match_statsmodels_on_data_up_to_that_date():
    cpi, earn, _ = _cape_inputs(53)
    p = pd.Series(np.exp(2.0 + np.log(earn) + _ar1(N, seed=54)), IDX)
    f = pd.DataFrame({"EPS": earn, "US_CPI": cpi}, index=IDX)
    h = valuation_history(p, f)
    for i in (178, 200, N - 1):
        res, name = fit_fair_value(p, f, asof_date=IDX[i])
        assert name == h["model"].iloc[i] and name.startswith("CAPE")
        e = res.resid.iloc[-1]
        # statsmodels' OLS on the same rows; 1e-9 / 1e-7: float rounding of running sums
        assert h["deviation"].iloc[i] == pytest.approx(e, abs=1e-9)
        assert h["sigma"].iloc[i] == pytest.approx(e / np.sqrt(res.scale), abs=1e-7)


def test_dividend_yield_model_is_the_dividend_yield_against_its_mean():
    rng = np.random.default_rng(55)
    dy = np.exp(np.log(3.5) + _ar1(N, phi=0.97, sd=0.05, seed=56))   # percent
    p = pd.Series(np.exp(np.cumsum(rng.normal(0.006, 0.04, N))), IDX)
    h = valuation_history(p, pd.DataFrame({"Dividend Yield": dy}, index=IDX))
    last = h.iloc[-1]
    assert last["model"] == "dividend yield: Dividend Yield"
    ldy = np.log(dy)
    # deviation = mean log DY − log DY (rich when the yield is low); exact up to rounding
    assert last["deviation"] == pytest.approx(ldy.mean() - ldy[-1], abs=1e-10)
    assert last["fair_value"] == pytest.approx(p.iloc[-1] * dy[-1] / np.exp(ldy.mean()),
                                               rel=1e-10)


def test_commodity_real_price_level_is_the_expanding_mean_of_the_real_price():
    rng = np.random.default_rng(57)
    cpi = 100 * np.exp(np.cumsum(rng.normal(0.003, 0.002, N)))
    real = np.exp(1.0 + _ar1(N, phi=0.97, sd=0.05, seed=58))
    p = pd.Series(real * cpi, IDX)
    h = valuation_history(p, pd.DataFrame({"CPI": cpi}, index=IDX), asset_class="Commodity")
    lr = np.log(real)
    for i in (59, 200, N - 1):
        assert h["model"].iloc[i] == "real price level (deflated by CPI)"
        mean = lr[:i + 1].mean()
        # fair value = CPI × exp(expanding mean of the log real price), to rounding
        assert h["fair_value"].iloc[i] == pytest.approx(cpi[i] * np.exp(mean), rel=1e-10)
        assert h["deviation"].iloc[i] == pytest.approx(lr[i] - mean, abs=1e-10)
