"""Benchmark: out-of-sample skill of the valuation horizon forecasts on the 39 real series.

Run: ``python bench/bench_valuation_skill.py [--horizons 12,24,36,60] [--variants]``
(prints tables; asserts nothing)

For each series of :func:`workbooks.skill_series.skill_series` (real data: the demo's 13 and
26 more, four asset classes): the walk-forward valuation history, then the h-month forecasts

* ``before`` — the model this branch replaced: per instrument, the walk-forward regression of
  the h-month change on σ, its slope shrunk toward zero by ``(n/h)/(n/h + 10)`` (reproduced
  below, :func:`sigma_regression_forecast`);
* ``after`` — :func:`engine.models.horizons.horizon_paths`: drift + (ρ^h − 1)·deviation, ρ
  the walk-forward panel AR(1) of the deviation pooled across the series of the same asset class
  (:func:`engine.models.reversion.panel_reversion`, pooled by calendar date: a pair counts
  from the date it is known);

each scored by :func:`engine.models.skill.horizon_skill` — OOS R² against the prevailing mean
of past h-month changes, on the origins where the forecast, that mean and the outcome exist,
with the count of independent (non-overlapping) origins. ``--variants`` also prints the
alternatives that were tried (docs/methodology.md reports them).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.inputs.sampling import month_ids  # noqa: E402
from engine.models.horizons import _level, _pairs_of, horizon_paths  # noqa: E402
from engine.models.reversion import (panel_reversion, reversion_by_class,  # noqa: E402
                                     reversion_history)
from engine.models.skill import horizon_skill  # noqa: E402
from engine.models.valuation import valuation_history  # noqa: E402


def sigma_regression_forecast(prices: pd.Series, sigma: pd.Series, h: int, quote: str,
                              prior_obs: float = 10.0, min_pairs: int = 12) -> pd.Series:
    """The replaced model (main before this branch): walk-forward OLS of the h-month change
    on σ over the pairs completed by t, slope shrunk toward zero by ``(n/h)/(n/h + 10)``,
    evaluated at σ(t). Cumulative log change (pct points for yields)."""
    ids = month_ids(prices.index)
    n = len(prices)
    end, r = _pairs_of(ids, _level(prices, quote), h)
    x = sigma.to_numpy(dtype=float)
    ok = (end >= 0) & np.isfinite(r) & np.isfinite(x)
    e, xo, ro = end[ok], x[ok], r[ok]
    sums = np.stack([np.bincount(e, minlength=n).astype(float),
                     *(np.bincount(e, weights=v, minlength=n)
                       for v in (xo, ro, xo * xo, xo * ro))])
    c_n, c_x, c_y, c_xx, c_xy = np.cumsum(sums, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = c_x / c_n, c_y / c_n
        sxx = c_xx - c_n * mx ** 2
        slope = np.where(sxx > 1e-12 * np.maximum(c_n, 1), (c_xy - c_n * mx * my) / sxx, 0.0)
    w = (c_n / h) / (c_n / h + prior_obs)
    fc = np.where((c_n >= min_pairs) & np.isfinite(x), my + w * slope * (x - mx), np.nan)
    return pd.Series(fc, index=prices.index)


def load(include_demo: bool = True, stationary: bool = True):
    """(series, valuation history) for every series; ``stationary=False``: the fair-value
    models before this branch (no CAPE, dividend-yield or real-price-level designs)."""
    from workbooks.skill_series import skill_series

    out = []
    for s in skill_series(include_demo):
        f = s.fundamentals if len(s.fundamentals.columns) else None
        vh = valuation_history(s.prices, f, quote=s.quote, asset_class=s.asset_class,
                               stationary=stationary)
        out.append((s, vh))
    return out


def score(series, forecasts: dict[str, dict[int, pd.Series]], horizons) -> pd.DataFrame:
    """Long table: series, class, variant, horizon, OOS R², independent origins."""
    rows = []
    for s, _ in series:
        for variant, fc in forecasts[s.name].items():
            sk = horizon_skill(s.prices, {h: fc[h] for h in horizons}, quote=s.quote)
            for _, r in sk.iterrows():
                rows.append({"Series": s.name, "Class": s.asset_class, "Variant": variant,
                             "h": int(r["horizon"]), "R2": r["oos_r2"],
                             "Indep": int(r["n_independent"])})
    return pd.DataFrame(rows)


def forecasts_for(series, horizons, variants: dict[str, dict], before=None) -> dict:
    """name → variant → h → forecast Series (cumulative change). ``before`` (the series
    with the old fair values) feeds the ``before`` model and the variants marked
    ``"old_fair": True``."""
    out: dict[str, dict] = {s.name: {} for s, _ in series}
    for s, vh in (before or series):
        out[s.name]["before"] = {h: sigma_regression_forecast(s.prices, vh["sigma"], h,
                                                              s.quote) for h in horizons}
    for vname, opt in variants.items():
        opt = dict(opt)
        pooled = opt.pop("pooled", True)
        drift = opt.pop("drift", "mean")
        priors = opt.pop("priors", None)
        ser = before if opt.pop("old_fair", False) else series
        revs = {}
        if pooled and priors is None:   # what a caller does: one call, pooled by class
            revs = reversion_by_class({s.name: vh for s, vh in ser},
                                      {s.name: s.asset_class for s, _ in ser},
                                      {s.name: s.quote for s, _ in ser}, **opt)
        else:
            by_class: dict[str, dict] = {}
            for s, vh in ser:
                by_class.setdefault(s.asset_class, {})[s.name] = vh
            for ac, panel in by_class.items():
                if priors is not None:
                    opt["prior"] = priors[ac]
                if pooled:
                    revs.update(panel_reversion(panel, ac, **opt))
                else:
                    revs.update({c: reversion_history(v, ac, **opt)
                                 for c, v in panel.items()})
        for s, vh in ser:
            out[s.name][vname] = {h: horizon_paths(s.prices, vh, h, quote=s.quote,
                                                   reversion=revs[s.name],
                                                   drift=drift)["forecast"]
                                  for h in horizons}
    return out


def summary(long: pd.DataFrame, horizons) -> pd.DataFrame:
    g = long.dropna(subset=["R2"]).groupby(["Variant", "h"])["R2"]
    t = pd.DataFrame({"scored": g.size(), "R2>0": g.apply(lambda v: int((v > 0).sum())),
                      "median": g.median()}).unstack("h")
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizons", default="12,24,36,60")
    ap.add_argument("--variants", action="store_true")
    a = ap.parse_args()
    horizons = tuple(int(x) for x in a.horizons.split(","))
    t0 = time.perf_counter()
    series = load()
    before = load(stationary=False)
    variants = {"after": {}}
    if a.variants:
        from engine.models.reversion import PRIORS, ReversionPrior

        def pri(**kw):
            return {ac: ReversionPrior(**{**PRIORS[ac].__dict__, **kw}) for ac in PRIORS}
        variants.update({
            "old fair values": {"old_fair": True},
            "through deviation": {"through": "deviation"},
            "fixed effects (within)": {"demean": True},
            "alone (prior pool)": {"pooled": False},
            "prior only": {"priors": pri(pool_months=1e12, own_months=1e12)},
            "panel only": {"priors": pri(pool_months=1e-9, own_months=1e12)},
            "drift = fair value": {"drift": "fair_value"},
            "DF p <= 0.5": {"max_pvalue": 0.5},
            "DF p <= 0.9": {"max_pvalue": 0.9},
        })
    fc = forecasts_for(series, horizons, variants, before)
    for name, v in fc.items():   # the same origins as the replaced model, for a fair compare
        v["after, before's origins"] = {h: v["after"][h].where(v["before"][h].notna())
                                        for h in horizons}
    long = score(series, fc, horizons)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_rows", 500)
    wide = long.pivot_table(index=["Class", "Series"], columns=["Variant", "h"], values="R2",
                            sort=False)
    indep = long[long["Variant"] == "after"].pivot_table(index=["Class", "Series"],
                                                         columns="h", values="Indep",
                                                         sort=False)
    indep.columns = [f"n{h}" for h in indep.columns]
    show = wide[["before", "after"]].copy()
    show.columns = [f"{v[:3]} {h}" for v, h in show.columns]
    print("Valuation OOS R² vs the prevailing mean (before = σ regression; after = panel "
          "reversion), independent origins n")
    print(pd.concat([show, indep], axis=1).round(3).to_string())
    print()
    print("Series with OOS R² > 0, of those scored, and the median R², per variant:")
    print(summary(long, horizons).round(3).to_string())
    by = long[long["Variant"].isin(["before", "after"])].dropna(subset=["R2"])
    g = by.groupby(["Class", "Variant", "h"])["R2"]
    print("\nper asset class (R² > 0 / scored):")
    print((g.apply(lambda v: int((v > 0).sum())).astype(str) + "/" + g.size().astype(str))
          .unstack("h").to_string())
    print(f"\n{len(series)} series, {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
