"""Benchmark: all performance tables for 50 series x 30 years and 50 fact sheets.

SYNTHETIC DATA (labelled as such everywhere): random monthly returns, used only to measure
speed. Run: ``python bench/bench_performance.py [--sheets N] [--out DIR]``; prints seconds.
Goal: under 30 s for both parts together.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.inputs.data import WorkbookData
from engine.reports.factsheets import write_factsheets
from engine.tables import performance as perf_builder
from engine.tables.base import RefreshContext


def synthetic_data(n_series: int = 50, years: int = 30, asof: str = "2018-12-31",
                   ) -> WorkbookData:
    """50 SYNTHETIC strategies (first 45) and benchmarks (last 5), 30 years of months."""
    n = years * 12
    idx = pd.date_range(end=asof, periods=n, freq="ME")
    rng = np.random.default_rng(2024)
    mkt = rng.normal(0.007, 0.045, n)
    cols = {}
    for k in range(n_series - 5):
        cols[f"SYN_S{k:02d}"] = 0.001 + rng.uniform(0.3, 1.2) * mkt + rng.normal(0, 0.02, n)
    for k in range(5):
        cols[f"SYN_B{k}"] = mkt if k == 0 else rng.normal(0.005, 0.03, n)
    cols["SYN_RF"] = np.full(n, 0.003)
    ret = pd.DataFrame(cols, index=idx)
    names = [c for c in cols if c != "SYN_RF"]
    series = pd.DataFrame({
        "Name": names,
        "Role": ["Strategy" if c.startswith("SYN_S") else "Benchmark" for c in names],
        "Basis": ["Net" if c.startswith("SYN_S") else "Gross" for c in names],
        "Inception": [None] * len(names),
        "Benchmark": ["SYN_B0, SYN_B1" if c.startswith("SYN_S") else "" for c in names],
        "Description": ["SYNTHETIC benchmark-test series (random returns), not real data"] *
        len(names)})
    income = pd.DataFrame({"Income": rng.uniform(0.008, 0.012, n),
                           "Cashflow": rng.uniform(0.01, 0.013, n),
                           "Loss": rng.uniform(-0.0005, 0.001, n)}, index=idx)
    settings = {"Risk Free": "SYN_RF", "Firm Name": "SYNTHETIC benchmark run",
                "Disclosure": "Synthetic data for a speed test.", "Income Strategy": "SYN_S00"}
    return WorkbookData(asof=pd.Timestamp(asof), instruments={}, prices={},
                        fundamentals=pd.DataFrame(), returns=ret, series=series, income=income,
                        macro=pd.DataFrame(), settings=settings)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sheets", type=int, default=50, help="fact sheets to write (default 50)")
    ap.add_argument("--out", default=None, help="directory for the PDFs (default: a temp dir)")
    args = ap.parse_args()
    data = synthetic_data()
    c0 = time.process_time()
    t0 = time.perf_counter()
    ctx = RefreshContext(data)
    [sheet] = perf_builder.build(ctx)
    t1 = time.perf_counter()
    rows = len(sheet.tables[0].df)
    print(f"performance tables: {rows} series x 360 months in {t1 - t0:.2f} s")
    keep = data.series[data.series["Role"] == "Benchmark"]["Name"].tolist()
    strategies = data.series[data.series["Role"] == "Strategy"]["Name"].tolist()[:args.sheets]
    data.series = data.series[data.series["Name"].isin(strategies + keep)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        # 45 strategies in the synthetic set; top up to --sheets by writing twice if needed
        t2 = time.perf_counter()
        paths = write_factsheets(data, out)
        while len(paths) < args.sheets:
            paths += write_factsheets(data, out / f"rep{len(paths)}")[:args.sheets - len(paths)]
        t3 = time.perf_counter()
    print(f"fact sheets: {len(paths)} in {t3 - t2:.2f} s ({(t3 - t2) / len(paths):.2f} s each)")
    print(f"total: {t3 - t2 + t1 - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU of this "
          "process (goal < 30 s; wall time grows when other jobs share the CPU)")


if __name__ == "__main__":
    main()
