"""The skill harness over the real series: the composite and the valuation forecasts against
every rival, walk-forward, in one run, with the goals of docs/methodology.md checked.

Run: ``python bench/bench_skill.py [--series NAME ...] [--csv OUT.csv]``

Series: :func:`workbooks.skill_series.skill_series` (the demo's 13 instruments and 26 more
real series shipped in pip packages; ``docs/data.md``). Prints, per series, the OOS R² (in %)
against the prevailing mean of the composite and of each rival on the same months, the
composite's Clark–West t and the rival it equals most often; then the valuation horizons'
OOS R² with their independent observations; then the goals. ``--csv`` also writes the long
tables (``OUT.csv`` and ``OUT.horizons.csv``).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.models.skill_harness import goals, harness  # noqa: E402
from workbooks.skill_series import skill_series  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", nargs="*", help="only these series (names)")
    ap.add_argument("--csv", type=Path, help="write the long tables here")
    args = ap.parse_args(argv)
    series = [s for s in skill_series() if not args.series or s.name in args.series]
    warnings.simplefilter("ignore")  # statsmodels convergence chatter: the figures are the point
    h = harness(series)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    r2 = (h.r2() * 100).round(2)
    comp = h.one_month[h.one_month["Model"] == "Composite"].set_index("Series")
    r2["CW t"] = comp["Clark-West"].round(2)
    r2["equals most"] = comp["Equal To"] + " " + (comp["Equal Share"] * 100).round(0).astype(
        int).astype(str) + "%"
    r2.insert(0, "class", comp["Asset Class"])
    print(f"One-month forecasts, OOS R² vs the prevailing mean (%), {len(series)} series")
    print(r2.to_string())
    num = r2.drop(columns=["class", "CW t", "equals most"]).astype(float)
    print(pd.DataFrame({"median": num.median(), "worst": num.min(), "series > 0": (num > 0).sum(),
                        "series ≥ −0.5": (num >= -0.5).sum()}).round(2).T.to_string())
    if len(h.horizons):
        hz = h.horizons.pivot(index="Series", columns="horizon", values="oos_r2") * 100
        ind = h.horizons.pivot(index="Series", columns="horizon", values="n_independent")
        print("\nValuation horizon forecasts, OOS R² vs the prevailing mean (%) "
              "[independent observations]")
        cells = hz.round(1).astype(str) + " [" + ind.astype("Int64").astype(str) + "]"
        print(cells.to_string())
        print("series > 0: " + ", ".join(f"{c} mo {int((hz[c] > 0).sum())}/{hz[c].notna().sum()}"
                                         for c in hz.columns))
    print("\nGoals")
    ok = True
    for g in goals(h):
        ok &= g.met
        print(f"  [{'met' if g.met else 'NOT MET'}] {g.goal}: {g.measured:.4f} "
              f"(target {g.target:.4f})")
    print(f"\n{h.seconds:.1f} s for {len(series)} series")
    if args.csv:
        h.one_month.to_csv(args.csv, index=False)
        h.horizons.to_csv(args.csv.with_suffix(".horizons.csv"), index=False)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
