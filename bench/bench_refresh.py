"""Refresh of the demo workbook against the bare openpyxl load+save of the same workbook.

Whole processes (interpreter start and imports included), measured in the same run, each
repeated and the median taken. Prints seconds and the ratio (goal: <= 2.0 once the models are
in; see the issue notes for the figures recorded).

    python bench/bench_refresh.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "workbooks" / "demo.xlsx"

BARE = ("import sys; from openpyxl import load_workbook; "
        "wb = load_workbook(sys.argv[1]); wb.save(sys.argv[2])")


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    # the workbook as a user has it in month 2: refreshed once (History present)
    work = tmp / "demo.xlsx"
    shutil.copyfile(DEMO, work)
    subprocess.run([sys.executable, "-m", "engine.cli", "refresh", str(work), "-q"],
                   check=False, capture_output=True, cwd=ROOT)
    bare, refresh = [], []
    for _ in range(args.repeat):
        bare.append(timed([sys.executable, "-c", BARE, str(work), str(tmp / "bare.xlsx")]))
        refresh.append(timed([sys.executable, "-m", "engine.cli", "refresh", str(work), "-q"]))
    b, r = statistics.median(bare), statistics.median(refresh)
    size = work.stat().st_size / 1e6
    print(f"workbook: {work.name}, {size:.1f} MB (refreshed once, History present)")
    print(f"bare openpyxl load+save (process): {b:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in bare)})")
    print(f"gamma refresh          (process): {r:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in refresh)})")
    print(f"ratio refresh / bare: {r / b:.2f}  (goal <= 2.0)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
