"""Benchmark: full walk-forward rebuild of the forecasts, and the scale of the models.

Run: ``python bench/bench_forecast.py [--quick]``

1. Demo workbook (real data, ``workbooks/demo.xlsx``): the whole forecasts builder from
   scratch — every model of every instrument (:func:`engine.models.instrument.analyse`:
   valuation σ, walk-forward Markov regimes, composite forecasts for every month, rivals,
   track record) — with an empty in-process fit cache, then with a warm fit store.
2. SYNTHETIC instruments (random-walk prices with two volatility regimes, labelled synthetic,
   scale test only) × 480 months, everything :func:`analyse` computes per instrument:
   (a) one at a time, the way a single Excel call runs (100 instruments, the per-instrument
   figure); (b) all 1,000 in one call, one process; (c) all 1,000 in one call with 2 worker
   processes (joblib/loky). ``--quick`` runs 200 instead of 1,000 in (b) and (c).
   The ratios print against (a) measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.models import regimes  # noqa: E402
from engine.models.instrument import InstrumentInput, analyse  # noqa: E402


def synthetic(n_instruments: int, months: int, seed: int = 0) -> list[tuple[pd.Series, pd.DataFrame]]:
    """SYNTHETIC prices (regime-switching volatility) and a CPI-like fundamental."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("1979-01-31", periods=months, freq="ME")
    out = []
    for _ in range(n_instruments):
        state = np.cumsum(rng.random(months) < 0.03) % 2  # switches about every 33 months
        r = np.where(state == 1, rng.normal(-0.002, 0.07, months), rng.normal(0.007, 0.035, months))
        px = pd.Series(100 * np.exp(np.cumsum(r)), index=idx, name="SYNTHETIC")
        cpi = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.003, 0.002, months))), index=idx)
        out.append((px, pd.DataFrame({"CPI": cpi})))
    return out


def inputs(items) -> list[InstrumentInput]:
    return [InstrumentInput(f"S{k}", px, "Price", "Equity", f) for k, (px, f) in
            enumerate(items)]


def run_synthetic(items, workers: int = 1, together: bool = True) -> float:
    regimes._FIT_CACHE.clear()
    t = time.perf_counter()
    if together:
        analyse(inputs(items), workers=workers)
    else:
        for inp in inputs(items):
            analyse([inp])
    return time.perf_counter() - t


def bench_demo() -> None:
    path = ROOT / "workbooks" / "demo.xlsx"
    if not path.exists():
        print("demo workbook missing: skipped")
        return
    from engine.inputs.reader import read_workbook
    from engine.tables import forecasts
    from engine.tables.base import RefreshContext

    data = read_workbook(path)
    months = sum(len(s) for s in data.prices.values())
    regimes._FIT_CACHE.clear()
    store: dict = {}
    ctx = RefreshContext(data=data, history=data.history, fit_store=store)
    t = time.perf_counter()
    forecasts.build(ctx)
    dt = time.perf_counter() - t
    print(f"demo (real data): {len(data.instruments)} instruments, {months} instrument-months, "
          f"every model + forecast tables + track record from scratch {dt:.1f} s")
    regimes._FIT_CACHE.clear()
    ctx = RefreshContext(data=data, history=data.history, fit_store=store)
    t = time.perf_counter()
    forecasts.build(ctx)
    fits = sum(not k.startswith(regimes.FILTERED) for k in store)
    print(f"demo, same rebuild with a warm content-keyed fit store ({fits} fits and "
          f"{len(store) - fits} filtered blocks, as a "
          f"monthly refresh would have): {time.perf_counter() - t:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="200 instruments instead of 1,000")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # statsmodels chatter: the timings are the point
    analyse(inputs(synthetic(2, 120, seed=99)))  # warm the imports
    bench_demo()
    n = 200 if args.quick else 1000
    base = run_synthetic(synthetic(100, 480, seed=100), together=False) / 100
    print(f"SYNTHETIC instruments x 480 months, every model (valuation, regimes, composite, "
          f"rivals, track record):")
    print(f"  one at a time (100):        {base * 1000:6.1f} ms per instrument  (baseline)")
    items = synthetic(n, 480, seed=n)
    one = run_synthetic(items, workers=1)
    print(f"  {n} together, 1 process: {one:7.1f} s  ({one / n * 1000:5.1f} ms each, "
          f"{base * n / one:4.1f}x the baseline)")
    two = run_synthetic(items, workers=2)
    print(f"  {n} together, 2 processes: {two:5.1f} s  ({two / n * 1000:5.1f} ms each, "
          f"{base * n / two:4.1f}x the baseline)  goal: 1,000 in < 60 s")


if __name__ == "__main__":
    main()
