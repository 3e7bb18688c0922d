"""A refresh against openpyxl's bare load and save of the same workbook, whole processes.

Both are timed as whole processes (interpreter start and imports included), interleaved in
the same run, each repeated and the median taken:

* the demo refreshed as of 1998-11-30 (History and the fit store present) refreshed to
  1998-12-31 — a real monthly step — and the same month refreshed again;
* the demo with a user sheet of a million cells added, refreshed to 1998-12-31.

Prints seconds and the ratios to the bare load+save (goals: the monthly refresh <= 1.0, the
million-cell workbook <= 0.3), then the phases of one monthly refresh.

    python bench/bench_refresh.py [--repeat 5] [--cells 1000000]
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
sys.path.insert(0, str(ROOT))

BARE = ("import sys; from openpyxl import load_workbook; "
        "wb = load_workbook(sys.argv[1]); wb.save(sys.argv[2])")
PHASES = ("import sys; from engine.refresh import refresh; "
          "s = refresh(sys.argv[1], asof='1998-12-31').seconds; "
          "print(', '.join(f'{k} {v:.2f}' for k, v in s.items()))")


def timed(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
    return time.perf_counter() - t0


def big_sheet(src: Path, dst: Path, cells: int) -> None:
    """``src`` with a user sheet "Big" of ``cells`` numbers (20 columns) added by zip
    surgery (the engine's own package writer: every other part copied as it is)."""
    from engine.workbook.shared_parts import add_sheets, edit_content_types, edit_rels
    from engine.xlsx.cells import Workbook
    from engine.xlsx.namespaces import CONTENT_TYPES
    from engine.xlsx.package import Package
    from engine.xlsx.zipwrite import ZipWriter
    cols, rows = 20, -(-cells // 20)
    letters = [chr(65 + j) for j in range(cols)]
    body = "".join(f'<row r="{r}">' + "".join(
        f'<c r="{letters[j]}{r}"><v>{r * 0.25 + j}</v></c>' for j in range(cols)) + "</row>"
        for r in range(1, rows + 1))
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
             f'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}'
             f"</sheetData></worksheet>").encode()
    with Package(src) as pkg, open(dst, "wb") as out:
        book = Workbook(pkg)
        fl = pkg.flavour
        part = "xl/worksheets/big.xml"
        rid = "rIdBig"
        sid = max(s.sheet_id for s in book.sheets) + 1
        wb_rels = pkg.rels_name(book.part)
        new = {book.part: add_sheets(pkg.read(book.part), [("Big", sid, rid)], fl),
               wb_rels: edit_rels(pkg.read(wb_rels), [(rid, fl.rel("worksheet"),
                                                       "worksheets/big.xml")]),
               "[Content_Types].xml": edit_content_types(
                   pkg.read("[Content_Types].xml"), {part: CONTENT_TYPES["worksheet"]}, set())}
        w = ZipWriter(out)
        for name in pkg.names:
            if name in new:
                w.add(name, new[name])
            else:
                w.copy(pkg, name)
        w.add(part, sheet)
        w.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cells", type=int, default=1_000_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    py = sys.executable
    # month 1: the workbook refreshed as of November 1998 (History and the fit store present)
    prev = tmp / "prev.xlsx"
    shutil.copyfile(DEMO, prev)
    subprocess.run([py, "-m", "engine.cli", "refresh", str(prev), "--asof", "1998-11-30", "-q"],
                   check=True, capture_output=True, cwd=ROOT)
    big = tmp / "big.xlsx"
    big_sheet(prev, big, args.cells)

    def copy(src: Path, name: str) -> Path:
        work = tmp / name
        shutil.copyfile(src, work)
        shutil.copyfile(tmp / ".prev.gamma-fits.json", tmp / f".{work.stem}.gamma-fits.json")
        return work

    t = {k: [] for k in ("bare", "monthly", "again", "bare big", "big")}
    refresh = [py, "-m", "engine.cli", "refresh"]
    for i in range(args.repeat):  # interleaved, so drifts of the machine hit every case
        work = copy(prev, f"demo{i}.xlsx")
        t["bare"].append(timed([py, "-c", BARE, str(work), str(tmp / "bare.xlsx")]))
        t["monthly"].append(timed(refresh + [str(work), "--asof", "1998-12-31", "-q"]))
        t["again"].append(timed(refresh + [str(work), "--asof", "1998-12-31", "-q"]))
        if i < max(1, args.repeat // 2):  # the bare load+save of a million cells takes minutes
            work = copy(big, f"big{i}.xlsx")
            t["bare big"].append(timed([py, "-c", BARE, str(work), str(tmp / "bare.xlsx")]))
        work = copy(big, f"bigr{i}.xlsx")
        t["big"].append(timed(refresh + [str(work), "--asof", "1998-12-31", "-q"]))
    med = {k: statistics.median(v) for k, v in t.items()}
    runs = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    print(f"workbook: the demo refreshed as of 1998-11-30 ({prev.stat().st_size / 1e6:.2f} MB, "
          f"History present); with a {args.cells:,}-cell user sheet: "
          f"{big.stat().st_size / 1e6:.1f} MB")
    print(f"bare openpyxl load+save:                      {med['bare']:6.2f} s  "
          f"(runs: {runs(t['bare'])})")
    for key, label in (("monthly", "monthly refresh to 1998-12-31"),
                       ("again", "same month refreshed again   ")):
        print(f"gamma refresh, {label}: {med[key]:6.2f} s  ratio {med[key] / med['bare']:.2f}  "
              f"(runs: {runs(t[key])})")
    print(f"bare openpyxl load+save, {args.cells:,} cells: {med['bare big']:6.2f} s  "
          f"(runs: {runs(t['bare big'])})")
    print(f"gamma refresh, {args.cells:,} cells:          {med['big']:6.2f} s  ratio "
          f"{med['big'] / med['bare big']:.2f}  (runs: {runs(t['big'])})")
    print("goals: monthly ratio <= 1.0; million-cell ratio <= 0.3")
    steps = copy(prev, "steps.xlsx")
    out = subprocess.run([py, "-c", PHASES, str(steps)], check=True, capture_output=True,
                         text=True, cwd=ROOT).stdout
    print("phases of one monthly refresh (s):", out.strip())
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
