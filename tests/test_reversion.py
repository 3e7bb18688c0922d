"""Panel AR(1) reversion of the valuation deviation: the pooled slope equals statsmodels OLS on
the stacked panel, the walk-forward rows equal the one-date estimate, no look-ahead, a known ρ
(and half-life) recovered from a synthetic AR(1) panel, the shrinkage by hand, the reversion
test, and the demo workbook's tables follow σ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.models.reversion import (PRIORS, RHO_MAX, TEST_PAIRS, ReversionPrior,
                                     deviation_pairs, fallback_reason, half_life_years,
                                     panel_reversion, pooled_ar1, pooled_ar1_ols,
                                     reversion_history, rho_from_half_life)

N = 360


def _frame(d: np.ndarray, start: str, fv_drift: float = 0.004, seed: int = 0,
           fv_noise: float = 0.0) -> pd.DataFrame:
    """A valuation-history-like frame: deviation d, a log fair value that drifts (with noise
    independent of d), and the price they imply."""
    idx = pd.date_range(start, periods=len(d), freq="ME")
    rng = np.random.default_rng(seed)
    lfv = np.log(50) + fv_drift * np.arange(len(d)) + np.cumsum(rng.normal(0, fv_noise, len(d)))
    return pd.DataFrame({"deviation": d, "fair_value": np.exp(lfv),
                         "valuation_pct": np.expm1(d)}, index=idx)


def _ar1(n: int, rho: float, seed: int, sd: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = np.zeros(n)
    d[0] = rng.normal(0, sd / np.sqrt(1 - rho ** 2))
    for i in range(1, n):
        d[i] = rho * d[i - 1] + rng.normal(0, sd)
    return d


def _panel(k: int = 4, rho: float = 0.97, n: int = N, **kw) -> dict[str, pd.DataFrame]:
    starts = ["1960-01-31", "1965-06-30", "1971-03-31", "1958-09-30", "1980-01-31",
              "1975-11-30", "1962-04-30", "1969-08-31"]
    return {f"I{j}": _frame(_ar1(n - 20 * j, rho, seed=j), starts[j % len(starts)], seed=j + 50,
                            **kw) for j in range(k)}


@pytest.mark.parametrize("through", ["price", "deviation"])
@pytest.mark.parametrize("demean", [False, True])
def test_pooled_slope_equals_statsmodels_ols_on_the_stacked_panel(through, demean):
    panel = _panel(fv_noise=0.01)
    asof = pd.Timestamp("1985-12-31")
    res = pooled_ar1_ols(panel, asof, through=through, demean=demean)
    fast = pooled_ar1(panel, asof, through=through, demean=demean)
    # the closed form is the OLS coefficient: equal to float rounding
    assert fast.rho == pytest.approx(res.params["deviation"], rel=1e-12)
    assert fast.n_pairs == int(res.nobs) and fast.members == len(panel)
    # statsmodels counts n − 1 degrees of freedom; with fixed effects the honest count is
    # n − members − 1 (the demeaning used one per instrument)
    dof = fast.n_pairs - (fast.members if demean else 0) - 1
    assert fast.se == pytest.approx(res.bse["deviation"] * np.sqrt((res.nobs - 1) / dof),
                                    rel=1e-10)
    # and by hand from the stacked arrays
    xs, ys = [], []
    for v in panel.values():
        pr = deviation_pairs(v, through=through)
        pr = pr[pr.index <= asof]
        x, y = pr["x"].to_numpy(), pr["y"].to_numpy()
        if demean:
            xs.append(x - x.mean())
            ys.append(y - y.mean())
        else:
            xs.append(x)
            ys.append(x + (y - x) - (y - x).mean())
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert fast.rho == pytest.approx((x @ y) / (x @ x), rel=1e-12)


def test_pairs_are_consecutive_months_under_one_model_and_known_at_the_second():
    f = _frame(_ar1(40, 0.9, 1), "2000-01-31")
    f["model"] = ["a"] * 20 + ["b"] * 20
    f = f.drop(f.index[[5]])                       # a gap: no pair across it
    pr = deviation_pairs(f, through="deviation")
    assert len(pr) == 39 - 1 - 2                   # 38 steps, minus the gap's two, minus switch
    assert pd.Timestamp("2000-07-31") not in pr.index   # July follows the gap (no June)
    assert pd.Timestamp("2000-08-31") in pr.index
    assert pd.Timestamp("2001-09-30") not in pr.index   # model switch between months 20, 21
    lfv = np.log(f["fair_value"].to_numpy())
    p = deviation_pairs(f, through="price")
    i = f.index.get_loc(pd.Timestamp("2000-08-31"))
    # price route: this month's deviation plus the next month's log price change
    lp = f["deviation"].to_numpy() + lfv
    assert p.loc[f.index[i], "y"] == pytest.approx(f["deviation"].iloc[i - 1]
                                                   + lp[i] - lp[i - 1], abs=1e-14)
    with pytest.raises(ValueError, match="through='price' needs the valuation_history"):
        deviation_pairs(f["deviation"], through="price")


def test_walk_forward_rows_equal_the_one_date_estimate_of_the_others_and_the_shrinkage():
    panel = _panel(k=3, fv_noise=0.01)
    rev = panel_reversion(panel, "Equity")
    pri = PRIORS["Equity"]
    r = rev["I0"]
    for t in (r.index[200], r.index[300], r.index[-1]):   # every member has 12+ pairs
        row = r.loc[t]
        others = pooled_ar1({c: v for c, v in panel.items() if c != "I0"}, t)
        own = pooled_ar1({"I0": panel["I0"]}, t)
        assert row["rho_panel"] == pytest.approx(others.rho, rel=1e-10)
        assert row["n_panel"] == others.n_pairs and row["n_own"] == own.n_pairs
        assert row["rho_own"] == pytest.approx(own.rho, rel=1e-10)
        pool = (others.n_pairs * others.rho + pri.pool_months * pri.rho) / \
            (others.n_pairs + pri.pool_months)
        w = own.n_pairs / (own.n_pairs + pri.own_months)
        assert row["rho_pool"] == pytest.approx(pool, rel=1e-12)
        assert row["weight"] == pytest.approx(w, rel=1e-12)
        assert row["rho"] == pytest.approx(w * own.rho + (1 - w) * pool, rel=1e-12)
        assert row["half_life"] == pytest.approx(np.log(0.5) / np.log(row["rho"]) / 12)


def test_no_look_ahead_in_the_panel():
    panel = _panel(k=3)
    base = panel_reversion(panel, "FX")
    t = pd.Timestamp("1980-12-31")
    changed = {c: v.copy() for c, v in panel.items()}
    for c in ("I1", "I2"):                         # other members' future rewritten
        after = changed[c].index > t
        changed[c].loc[after, "deviation"] *= -3.0
        changed[c].loc[after, "fair_value"] *= 1.7
    alt = panel_reversion(changed, "FX")
    pd.testing.assert_frame_equal(base["I0"].loc[:t], alt["I0"].loc[:t])
    assert not base["I0"].loc[t:].iloc[1:].equals(alt["I0"].loc[t:].iloc[1:])


def test_known_rho_and_half_life_recovered_from_an_ar1_panel():
    # 12 instruments × 600 months of an AR(1) deviation with ρ = 0.95 (half-life 1.13 years)
    # around a fair value drifting with its own noise: the price route's pooled slope is ρ.
    rho = 0.95
    panel = {f"I{j}": _frame(_ar1(600, rho, seed=100 + j), "1950-01-31", seed=200 + j,
                             fv_noise=0.01) for j in range(12)}
    est = pooled_ar1(panel)
    # tolerance: 3 standard errors of the pooled slope (the fair value's own noise enters the
    # price route's residual: se ≈ 0.004 on 7,200 pairs) plus the O(1/T) small-sample bias of
    # an AR(1) slope, ≈ (1 + ρ)/T ≈ 0.003 for T = 600
    tol = 3 * est.se + (1 + rho) / 600
    assert abs(est.rho - rho) < tol
    # the half-life within the same band mapped through d(half-life)/dρ at the truth
    slope = -np.log(0.5) / (12 * rho * np.log(rho) ** 2)     # years per unit of ρ
    assert abs(half_life_years(est.rho) - half_life_years(rho)) < tol * slope
    rev = panel_reversion(panel, "Equity")["I0"].iloc[-1]
    # in force: own slope (weight 600/1200) and the pool (11 others, the 3.25-year prior
    # worth 240 of their 6,600 months, pulling by 0.0012): within the band plus that pull of
    # the truth, where the prior alone is at 0.982; alone (no panel) it is pulled halfway to
    # the prior
    assert abs(rev["rho"] - rho) < tol + 0.002
    alone = reversion_history(panel["I0"], "Equity").iloc[-1]
    assert abs(alone["rho"] - rho) > abs(rev["rho"] - rho)
    assert alone["rho_pool"] == pytest.approx(PRIORS["Equity"].rho)


def test_deviation_route_counts_the_fair_value_moving_toward_the_price():
    # the fair value closes half of every gap itself (it follows the price): the deviation
    # reverts fast, the price does not — the price route sees the truth (ρ = 1: no reversion)
    rng = np.random.default_rng(7)
    n = 480
    lp = np.cumsum(rng.normal(0.005, 0.04, n))       # a random walk: no price reversion
    lfv = np.zeros(n)
    lfv[0] = lp[0]
    for i in range(1, n):
        lfv[i] = lfv[i - 1] + 0.3 * (lp[i - 1] - lfv[i - 1]) + 0.005
    f = pd.DataFrame({"deviation": lp - lfv, "fair_value": np.exp(lfv)},
                     index=pd.date_range("1960-01-31", periods=n, freq="ME"))
    dev_route = pooled_ar1({"a": f}, through="deviation").rho
    price_route = pooled_ar1({"a": f}, through="price").rho
    assert dev_route < 0.8          # 1 − 0.3 = 0.7 in truth
    # a random walk's price-route slope: 1 within 3 sd of sqrt((1 − 0.7²)/Σx²·σ²)…: 0.03
    assert abs(price_route - 1.0) < 0.03


def test_reversion_test_fails_a_price_that_runs_away_with_its_reason():
    from engine.models.valuation import valuation_history

    # a price accelerating away from its long-run level: no reversion in its own history
    t = np.arange(N)
    rng = np.random.default_rng(9)
    idx = pd.date_range("1970-01-31", periods=N, freq="ME")
    p = pd.Series(np.exp(0.00002 * t ** 2 + np.cumsum(rng.normal(0, 0.01, N))), idx)
    rev = reversion_history(valuation_history(p, asset_class="FX"), "FX")
    tested = rev["n_own"] >= TEST_PAIRS
    assert rev.loc[tested, "rho_own"].iloc[-1] >= 1
    assert not rev["passes"].iloc[-1]
    assert rev.loc[~tested, "passes"].all()       # untested: pooled/prior reversion in force
    why = fallback_reason(rev.iloc[-1])
    assert why.startswith(f"its price has not reverted toward fair value over its own "
                          f"{int(rev['n_own'].iloc[-1])} months (AR(1) ρ = 1.0")
    assert fallback_reason(rev.iloc[70]) is None
    # the optional Dickey–Fuller criterion fails a deviation that reverts too slowly to show
    slow = _frame(_ar1(300, 0.995, 3), "1970-01-31")
    on = reversion_history(slow, "Equity", max_pvalue=0.1)
    off = reversion_history(slow, "Equity")
    last = on.iloc[-1]
    assert last["df_pvalue"] > 0.1 and not last["passes"] and off["passes"].iloc[-1]
    assert "Dickey–Fuller" in fallback_reason(last, 0.1)


def test_rho_is_clipped_and_a_flat_deviation_uses_the_prior():
    flat = _frame(np.zeros(100), "1990-01-31")
    rev = reversion_history(flat, "Bond", quote="Yield")
    assert rev["rho_own"].isna().all()             # no variation: no own slope
    assert rev["rho"].to_numpy() == pytest.approx(PRIORS["Bond"].rho)
    assert rev["passes"].all()
    strong = ReversionPrior(1e6, pool_months=1e12, own_months=1e12)
    assert reversion_history(flat, "Bond", prior=strong)["rho"].iloc[-1] == RHO_MAX
    assert not reversion_history(flat, "Bond", prior=strong)["passes"].iloc[-1]


def test_half_life_conversions_are_inverse():
    for years in (0.5, 3.25, 40.0):
        assert half_life_years(rho_from_half_life(years)) == pytest.approx(years, rel=1e-12)
    assert half_life_years(1.0) == np.inf and np.isnan(half_life_years(-0.2))
    # the priors as documented: BWG 3.25 years, Rogoff 4, Cashin et al. 5, bonds 1.5
    assert [PRIORS[c].half_life_years for c in ("Equity", "FX", "Commodity", "Bond")] == \
        [3.25, 4.0, 5.0, 1.5]


@pytest.mark.parametrize("kwargs, message", [
    ({"asset_class": "Stock"}, "asset_class must be one of"),
    ({"through": "fair"}, "through must be one of"),
    ({"max_pvalue": 0.0}, "max_pvalue must be in"),
    ({"quote": "Level"}, "quote must be 'Price' or 'Yield'"),
])
def test_bad_arguments_are_named(kwargs, message):
    args = {"asset_class": "Equity", **kwargs}
    with pytest.raises(ValueError, match=message):
        panel_reversion({"a": _frame(_ar1(50, 0.9, 1), "2000-01-31")}, **args)
    with pytest.raises(ValueError, match="panel must be a non-empty mapping"):
        panel_reversion({}, "Equity")
    with pytest.raises(ValueError, match="years must be > 0"):
        rho_from_half_life(0)


# --------------------------------------------------------------------- the demo workbook

def _sign_ok(table: pd.DataFrame, hz: list[str], mean_rows: dict[str, pd.Series]) -> None:
    for _, r in table.iterrows():
        for c in hz:
            f, m = r[c], mean_rows[r["Code"]][c]
            if not (np.isfinite(f) and np.isfinite(m)):
                continue
            dep = f - m
            assert dep * r["Valuation (σ)"] <= 1e-15, (r["Code"], c, f, m)


def test_demo_valuation_forecasts_never_contradict_sigma():
    from pathlib import Path

    from engine.inputs.reader import read_workbook
    from engine.models.horizons import HORIZON_LABELS, HORIZONS, forecasts_from_paths
    from engine.tables.base import RefreshContext
    from engine.tables.valuation import build

    demo = Path(__file__).resolve().parents[1] / "workbooks" / "demo.xlsx"
    ctx = RefreshContext(data=read_workbook(demo))
    out = build(ctx)
    hz = [HORIZON_LABELS[h] for h in HORIZONS]
    drift = {c: forecasts_from_paths({h: p.assign(forecast=p["drift"]) for h, p in
                                      paths.items()},
                                     ctx.data.instruments[c].quote).iloc[-1]
             for c, paths in ((c, r.paths) for c, r in ctx.results.items() if r.paths)}
    tables = [t.df for sc in out for t in sc.tables if t.name.endswith("Valuation")]
    assert len(tables) == 4
    for df in tables:
        _sign_ok(df, hz, drift)
    # and every month of every instrument's history, not just the last
    for code, paths in ((c, r.paths) for c, r in ctx.results.items() if r.paths):
        sig = ctx.results[code].valuation["sigma"].to_numpy()
        for p in paths.values():
            dep = p["departure"].to_numpy()
            ok = np.isfinite(dep)
            assert (dep[ok] * sig[ok] <= 0).all(), code
    notes = [n for sc in out for t in sc.tables if t.name.endswith("Valuation") for n in t.notes]
    assert any("revert toward fair value with a half-life of" in n for n in notes)


@pytest.mark.slow
def test_skill_series_forecasts_never_contradict_sigma():
    from engine.models.horizons import horizon_paths
    from engine.models.valuation import valuation_history
    from workbooks.skill_series import skill_series

    by_class: dict[str, dict] = {}
    data = {}
    for s in skill_series():
        f = s.fundamentals if len(s.fundamentals.columns) else None
        vh = valuation_history(s.prices, f, quote=s.quote, asset_class=s.asset_class)
        by_class.setdefault(s.asset_class, {})[s.name] = vh
        data[s.name] = (s, vh)
    for ac, panel in by_class.items():
        rev = panel_reversion(panel, ac)
        for code in panel:
            s, vh = data[code]
            for h in (1, 12, 60):
                p = horizon_paths(s.prices, vh, h, quote=s.quote, reversion=rev[code])
                dep, sig = p["departure"].to_numpy(), vh["sigma"].to_numpy()
                ok = np.isfinite(dep)
                assert ok.any() and (dep[ok] * sig[ok] <= 0).all(), (code, h)


def test_reversion_by_class_pools_each_class_and_quote_apart():
    from engine.models.reversion import reversion_by_class

    eq, fx = _panel(k=3), {f"F{j}": v for j, v in enumerate(_panel(k=2, rho=0.9).values())}
    both = reversion_by_class({**eq, **fx}, {**dict.fromkeys(eq, "Equity"),
                                            **dict.fromkeys(fx, "FX")})
    for code, frame in panel_reversion(eq, "Equity").items():
        pd.testing.assert_frame_equal(both[code], frame)
    for code, frame in panel_reversion(fx, "FX").items():
        pd.testing.assert_frame_equal(both[code], frame)
    with pytest.raises(ValueError, match="asset_classes: no asset class for 'I0'"):
        reversion_by_class(eq, {})
