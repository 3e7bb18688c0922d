"""The Refresh button: ``RunPython "import addin.macros; addin.macros.refresh()"``.

Refreshes the workbook open in Excel — the same engine and table builders as
``gamma refresh`` — writing through Excel (xlwings), so nothing in the open workbook is lost:
unsaved edits, VBA, pivot tables, anything outside the engine's own areas stay untouched.

1. a copy of the open workbook is saved to a temporary file (Windows: the Excel API
   ``SaveCopyAs``, which leaves the open book and its saved state alone; macOS: the workbook
   is saved first, then its file is copied — the one visible side effect);
2. the copy is read and validated (:func:`engine.inputs.reader.read_workbook`) and every
   registered builder runs (:func:`engine.refresh.build_contents`);
3. :mod:`addin.xl_writer` lays the sheets out with the CLI's own layout
   (:mod:`engine.workbook.layout`) and writes only the engine areas into the open workbook —
   the same cells, formats, tables and charts as ``gamma refresh``; without Excel's COM
   interface (macOS) charts are drawn from their first series only, which the message box
   says; progress shows in Excel's status bar.

Invalid inputs or any failure: nothing is written and a message box says why. Instruments
that failed are named in a message box; their rows are marked, the rest is refreshed.
Verified on Linux only against a stand-in of the xlwings API (``tests/test_addin_macros.py``);
the button itself needs Excel on Windows or macOS.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

TITLE = "Gamma Desk"


def save_copy(book: Any, dest: Path) -> Path:
    """Save the open workbook's current state (unsaved edits included) to ``dest``."""
    from addin import xl_writer
    if xl_writer.USE_COM:
        book.api.SaveCopyAs(str(dest))
        return dest
    book.save()  # macOS: AppleScript has no SaveCopyAs
    shutil.copyfile(book.fullname, dest)
    return dest


def _alert(book: Any, text: str) -> None:
    try:
        book.app.alert(text[:1500], title=TITLE)
    except Exception:  # no UI available: the status bar still says it
        book.app.status_bar = f"{TITLE}: {text[:200]}"


def run_refresh(book: Any, asof: Any = None) -> dict[str, Any]:
    """Refresh ``book`` (an xlwings Book) in place; returns a summary dict. Raises
    :class:`engine.refresh.Refused` (nothing written) on invalid inputs."""
    from addin.xl_writer import apply_plan, plan_from_copy
    from engine.refresh import build_contents, check

    app = book.app
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        app.status_bar = f"{TITLE}: {msg}…"

    suffix = Path(book.name).suffix.lower() or ".xlsx"
    with tempfile.TemporaryDirectory(prefix="gamma-desk-") as tmp:
        copy = Path(tmp) / f"copy{suffix if suffix in ('.xlsx', '.xlsm') else '.xlsx'}"
        progress("reading the workbook")
        save_copy(book, copy)
        data = check(copy, asof)
        contents, ctx = build_contents(data, progress)
        progress("laying out the engine sheets")
        plan = plan_from_copy(copy, contents)
    # xlwings restores each setting on the way out, an error included; events off so that
    # the workbook's own Worksheet_Change handlers do not run on every engine cell
    with app.properties(screen_updating=False, calculation="manual", enable_events=False):
        warnings = apply_plan(book, plan, progress)
    return {"asof": data.asof, "sheets": [s.name for s in plan.sheets],
            "failures": dict(ctx.failures), "warnings": warnings,
            "seconds": round(time.perf_counter() - t0, 1)}


def refresh(book: Any = None) -> int:
    """The button's entry point: refresh the calling workbook; 0 done, 1 done with failed
    instruments, 2 nothing written. Never raises into Excel: problems go to a message box."""
    if book is None:
        import xlwings as xw
        book = xw.Book.caller()
    app = book.app
    try:
        s = run_refresh(book)
    except Exception as e:
        from engine.refresh import Refused
        lines = [str(e)] if isinstance(e, Refused) else \
            [f"Refresh failed, nothing written: {type(e).__name__}: {e}"]
        app.status_bar = False
        _alert(book, "\n".join(lines))
        return 2
    app.status_bar = (f"{TITLE}: refreshed as of {s['asof']:%Y-%m-%d} in {s['seconds']} s"
                      if hasattr(s["asof"], "strftime") else f"{TITLE}: refreshed")
    notes = [f"{code}: {why}" for code, why in s["failures"].items()] + s["warnings"]
    if notes:
        _alert(book, "Refreshed, with problems:\n" + "\n".join(notes[:30]))
        return 1
    return 0


__all__ = ["refresh", "run_refresh", "save_copy"]
