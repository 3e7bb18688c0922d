"""The ribbon's buttons (``addin/gamma_desk.xlam``, :mod:`addin.ribbon`): Refresh, Check
and Report, each ``RunPython "import addin.macros; addin.macros.NAME()"`` on the active
workbook. :func:`check` and :func:`report` read a saved copy of it, as ``gamma check`` and
``gamma report`` read the file; :func:`refresh` is described below.

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

    def build(copy: Path):
        data = check(copy, asof)
        contents, ctx = build_contents(data, progress)
        progress("laying out the engine sheets")
        return data, ctx, plan_from_copy(copy, contents)

    progress("reading the workbook")
    data, ctx, plan = _copy_then(book, build)
    # xlwings restores each setting on the way out, an error included; events off so that
    # the workbook's own Worksheet_Change handlers do not run on every engine cell
    with app.properties(screen_updating=False, calculation="manual", enable_events=False):
        warnings = apply_plan(book, plan, progress)
    return {"asof": data.asof, "sheets": [s.name for s in plan.sheets],
            "failures": dict(ctx.failures), "warnings": warnings,
            "seconds": round(time.perf_counter() - t0, 1)}


def _caller(book: Any) -> Any:
    if book is None:
        import xlwings as xw
        book = xw.Book.caller()
    return book


def _failed(book: Any, e: Exception, what: str) -> int:
    """A refusal (its problems) or any other error, in a message box; exit code 2."""
    from engine.refresh import Refused
    book.app.status_bar = False
    _alert(book, str(e) if isinstance(e, Refused) else
           f"{what} failed, nothing written: {type(e).__name__}: {e}")
    return 2


def _copy_then(book: Any, fn):
    """``fn(path)`` on a saved copy of the open workbook (unsaved edits included)."""
    suffix = Path(book.name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="gamma-desk-") as tmp:
        copy = Path(tmp) / f"copy{suffix if suffix in ('.xlsx', '.xlsm') else '.xlsx'}"
        save_copy(book, copy)
        return fn(copy)


def run_check(book: Any, asof: Any = None):
    """The validated inputs of ``book`` (:class:`engine.inputs.data.WorkbookData`), read
    and checked exactly as ``gamma check`` does; raises :class:`engine.refresh.Refused`
    listing every problem with its cell."""
    from engine.refresh import check as check_file
    return _copy_then(book, lambda path: check_file(path, asof))


def check(book: Any = None) -> int:
    """The Check button: validate the active workbook's input sheets; 0 valid (a message
    box says so, with any notes), 2 invalid (every problem listed). Writes nothing."""
    book = _caller(book)
    try:
        data = run_check(book)
    except Exception as e:
        return _failed(book, e, "Check")
    lines = [f"Inputs valid: {len(data.instruments)} instruments, as of "
             f"{data.asof:%Y-%m-%d}."] + [str(p) for p in data.problems[:30]]
    _alert(book, "\n".join(lines))
    return 0


def report_path(book: Any) -> Path:
    """Where the Report button writes: ``NAME Macro Intelligence Report.pdf`` beside the
    workbook (the temporary folder for a workbook never saved)."""
    full = Path(str(book.fullname))
    folder = full.parent if full.parent != Path(".") and full.parent.is_dir() \
        else Path(tempfile.gettempdir())
    return folder / f"{Path(book.name).stem} Macro Intelligence Report.pdf"


def run_report(book: Any, out: Path | None = None) -> tuple[Path, dict[str, str]]:
    """Build every table of ``book`` (as a refresh does, writing nothing into it) and write
    the Macro Intelligence Report PDF to ``out`` (default :func:`report_path`); returns
    the path and the instruments that failed (code -> reason)."""
    from engine.refresh import build_contents, check as check_file
    from engine.reports.report import write_report
    out = out or report_path(book)

    def progress(msg: str) -> None:
        book.app.status_bar = f"{TITLE}: {msg}…"

    def build(path: Path):
        data = check_file(path)
        contents, ctx = build_contents(data, progress)
        return data, contents, ctx

    data, contents, ctx = _copy_then(book, build)
    progress("writing the report")
    tables: dict[str, list] = {}
    for c in contents:
        tables.setdefault(c.sheet, []).append(c)
    return write_report(data, tables, out), dict(ctx.failures)


def report(book: Any = None) -> int:
    """The Report button: the Macro Intelligence Report PDF beside the workbook; 0 done,
    1 done with failed instruments (named), 2 nothing written."""
    book = _caller(book)
    try:
        path, failures = run_report(book)
    except Exception as e:
        return _failed(book, e, "Report")
    book.app.status_bar = f"{TITLE}: report written to {path}"
    notes = [f"{code}: {why}" for code, why in failures.items()]
    _alert(book, f"Report written to {path}" + (
        "\nWith problems:\n" + "\n".join(notes[:30]) if notes else ""))
    return 1 if notes else 0


def refresh(book: Any = None) -> int:
    """The button's entry point: refresh the calling workbook; 0 done, 1 done with failed
    instruments, 2 nothing written. Never raises into Excel: problems go to a message box."""
    book = _caller(book)
    app = book.app
    try:
        s = run_refresh(book)
    except Exception as e:
        return _failed(book, e, "Refresh")
    app.status_bar = (f"{TITLE}: refreshed as of {s['asof']:%Y-%m-%d} in {s['seconds']} s"
                      if hasattr(s["asof"], "strftime") else f"{TITLE}: refreshed")
    notes = [f"{code}: {why}" for code, why in s["failures"].items()] + s["warnings"]
    if notes:
        _alert(book, "Refreshed, with problems:\n" + "\n".join(notes[:30]))
        return 1
    return 0


__all__ = ["refresh", "run_refresh", "check", "run_check", "report", "run_report",
           "report_path", "save_copy"]
