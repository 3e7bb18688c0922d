"""The refresh pipeline: input sheets -> validated data -> builders -> engine sheets, safely.

``refresh(path)`` either replaces the workbook with a refreshed one (keeping the previous
version as ``NAME.bak.xlsx``) or raises :class:`Refused` and leaves the file byte-identical.
It refuses only when it must: the workbook is locked (open in Excel or LibreOffice, or
another refresh runs), the package is unsafe, damaged, encrypted or not a workbook, the
inputs are invalid, or the file cannot be written. Everything else refreshes: the engine's
sheets are spliced into the package and every other part is kept byte for byte
(:mod:`engine.workbook.splice`), which the guard checks before the replace
(:mod:`engine.workbook.guard`).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.inputs.data import WorkbookData
from engine.inputs.problems import InputError, Problem
from engine.inputs.reader import read_workbook
from engine.tables import builders
from engine.tables.base import ENGINE_SHEETS, FETCHED_SHEETS, RefreshContext, SheetContent
from engine.workbook import guard
from engine.workbook.fit_store import load_store, save_store
from engine.workbook.save import (Busy, RefreshLock, SaveError, replace_with_backup,
                                  resolve_workbook, write_temp)
from engine.workbook.splice import plan, write
from engine.xlsx.cells import Workbook
from engine.xlsx.package import Package, PackageError

Progress = Callable[[str], None]
# ``build(data, fit_store) -> (contents, failures)``: to build the tables some other way
# (the corpus tests build them once for hundreds of workbooks with the same inputs)
Build = Callable[[WorkbookData, dict], tuple[list[SheetContent], dict[str, str]]]


def _fault(phase: str) -> None:
    """Fault injection for the tests: with ``GAMMA_DESK_FAULT_AT=phase`` in the environment
    the process dies at that phase boundary as a kill would (no clean-up runs), so a test
    can check what a crash there leaves behind (``tests/test_refresh.py``)."""
    if os.environ.get("GAMMA_DESK_FAULT_AT") == phase:
        os._exit(99)


class Refused(Exception):
    """Nothing was written. ``problems`` lists why (each names its sheet, cell or part)."""

    def __init__(self, reason: str, problems: list[str] | None = None):
        self.reason = reason
        self.problems = problems or []
        lines = "\n".join(f"  {p}" for p in self.problems[:40])
        more = f"\n  … and {len(self.problems) - 40} more" if len(self.problems) > 40 else ""
        super().__init__(f"{reason}" + (f"\n{lines}{more}" if lines else ""))


@dataclass
class RefreshResult:
    path: Path
    backup: Path | None
    asof: object
    sheets: list[str]
    failures: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    data: WorkbookData | None = field(default=None, repr=False)  # what the refresh read
    contents: list[SheetContent] = field(default_factory=list, repr=False)  # what it wrote

    @property
    def exit_code(self) -> int:
        """0 done; 1 done but some instruments failed (DESIGN.md CLI)."""
        return 1 if self.failures else 0


def build_contents(data: WorkbookData, progress: Progress = lambda m: None,
                   seconds: dict[str, float] | None = None, fit_store: dict | None = None,
                   only: tuple[str, ...] | None = None
                   ) -> tuple[list[SheetContent], RefreshContext]:
    """Run the registered builders on validated data; returns their sheet contents.

    ``only``: the names of the builders to run (default: all). A builder that raises is
    recorded as a failure of all instruments it covers (the other builders still run); its
    sheets are left as they were. Failures go into the Data Status table when it was built
    here (:func:`report_failures`)."""
    ctx = RefreshContext(data=data, history=data.history, progress=progress,
                         fit_store=fit_store)
    contents: list[SheetContent] = []
    for name, build in builders():
        if only is not None and name not in only:
            continue
        progress(f"building {name}")
        t0 = time.perf_counter()
        try:
            contents += build(ctx)
        except Exception as e:  # one broken area must not lose the others
            logging.getLogger("gamma").debug("builder %s failed", name, exc_info=True)
            ctx.failures.setdefault(f"[{name}]", f"{type(e).__name__}: {e}")
        if seconds is not None:
            seconds[name] = time.perf_counter() - t0
    report_failures(ctx, ctx.failures)
    return contents, ctx


def report_failures(ctx: RefreshContext, failures: dict[str, str]) -> None:
    """Append ``failures`` (code -> reason) to the Data Status table built with ``ctx``."""
    status = ctx.data_status
    if status is not None and failures:
        from engine.tables.data_status import add_failures
        add_failures(status, failures)


_PACKAGE_REASON = {
    "not-a-workbook": "not an .xlsx workbook: nothing written",
    "encrypted": "password-protected workbook: nothing written",
    "damaged": "damaged workbook: nothing written",
    "unsafe": "unsafe workbook package: nothing written",
}


def _open(path: Path) -> tuple[Package, Workbook]:
    """The checked package and its workbook part; raises :class:`Refused`."""
    if not path.exists():
        raise Refused(f"{path}: no such file")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise Refused(f"{path.name}: not an .xlsx or .xlsm workbook")
    try:
        pkg = Package(path)
    except PackageError as e:
        raise Refused(_PACKAGE_REASON[e.kind], [str(e)]) from None
    try:
        pkg.verify()
        return pkg, Workbook(pkg)
    except PackageError as e:
        pkg.close()
        raise Refused(_PACKAGE_REASON[e.kind], [str(e)]) from None


def _read(book: Workbook, asof) -> WorkbookData:
    try:
        return read_workbook(book, asof=asof)
    except InputError as e:
        raise Refused("invalid workbook inputs: nothing written",
                      [str(p) for p in e.problems if p.severity == "error"]) from None
    except PackageError as e:
        raise Refused(_PACKAGE_REASON[e.kind], [str(e)]) from None


def _locked_structure(book: Workbook) -> str | None:
    """Why a refresh cannot add its sheets, or None: the structure is protected and some
    engine sheets are missing (adding them is what the protection forbids)."""
    missing = [s for s in ENGINE_SHEETS if book.sheet(s) is None and s not in FETCHED_SHEETS]
    if not book.lock_structure or not missing:
        return None
    return (f"the workbook's structure is protected (Review > Protect Workbook), so "
            f"the {len(missing)} engine sheet(s) it lacks ({', '.join(missing[:4])}"
            f"{', …' if len(missing) > 4 else ''}) cannot be added: unprotect the structure "
            "and refresh")


def check(path: str | Path, asof=None) -> WorkbookData:
    """Validate only (``gamma check``); raises :class:`Refused` listing every problem. A
    protected structure that would refuse the refresh is a warning on the data."""
    pkg, book = _open(Path(path))
    with pkg:
        data = _read(book, asof)
        locked = _locked_structure(book)
    if locked:
        data.problems.append(Problem("workbook", f"{locked} (a refresh is refused until then)",
                                     "warning"))
    return data


def refresh(path: str | Path, asof=None, progress: Progress = lambda m: None,
            build: Build | None = None) -> RefreshResult:
    """Refresh every engine sheet of the workbook at ``path`` in place (see module doc).
    A symbolic link is followed: the file it points to is refreshed, the link stays."""
    return locked(path, lambda p, target: _refresh(p, target, asof, progress, build))


def splice_in(pkg: Package, book: Workbook, target: Path, contents: list[SheetContent],
              progress: Progress, sec: dict[str, float], what: str = "refresh"):
    """Write ``contents`` (engine sheets) into a new copy of the package beside ``target``,
    guard it, and replace ``target`` with it (the previous version kept as a backup).
    Returns ``(splice, backup)``; raises :class:`Refused` when the guard finds a loss."""
    progress("writing engine sheets")
    t1 = time.perf_counter()
    splice = plan(pkg, book, contents)
    with write_temp(target) as tmp:
        with open(tmp, "wb") as f:
            write(pkg, splice, f)
        sec["write"] = time.perf_counter() - t1
        _fault("written")
        progress("checking nothing was lost")
        t2 = time.perf_counter()
        problems = guard.check(target, tmp, splice)
        sec["guard"] = time.perf_counter() - t2
        if problems:
            raise Refused(f"the {what} would change or drop content outside the "
                          "engine's sheets: nothing written", problems)
        _fault("checked")
        bak = replace_with_backup(tmp, target)
        _fault("replaced")
    return splice, bak


def locked(path: str | Path, run: Callable[[Path, Path], object]):
    """``run(path, target)`` holding the workbook's refresh lock, once no office program has
    it open (``target``: the file a symbolic link points to); :class:`Refused` otherwise."""
    try:
        target = resolve_workbook(Path(path))
    except SaveError as e:
        raise Refused(f"{e}") from None
    if not target.exists():
        raise Refused(f"{path}: no such file")
    try:
        with RefreshLock(target):  # checks first that the file and its folder are writable
            owner = guard.excel_lock_owner(target)
            if owner is not None:
                raise Refused(f"{target.name} is open in Excel or LibreOffice (lock file "
                              f"{owner.name}): close it, or use the add-in's Refresh button "
                              "inside Excel. Nothing written.")
            return run(Path(path), target)
    except Busy as e:
        raise Refused(f"{e}: nothing written") from None
    except SaveError as e:
        raise Refused(f"{e}") from None


def _refresh(path: Path, target: Path, asof, progress: Progress, build: Build | None
             ) -> RefreshResult:
    sec: dict[str, float] = {}
    t0 = time.perf_counter()
    progress("checking the workbook")
    pkg, book = _open(target)
    with pkg:
        locked = _locked_structure(book)
        if locked:
            raise Refused("protected workbook structure: nothing written",
                          [f"workbook: {locked}"])
        data = _read(book, asof)
        sec["read"] = time.perf_counter() - t0
        _fault("read")
        store = load_store(target)
        if build is not None:
            contents, failures = build(data, store)
        else:
            contents, ctx = build_contents(data, progress, sec, fit_store=store)
            failures = ctx.failures
        _fault("build")
        splice, bak = splice_in(pkg, book, target, contents, progress, sec)
    save_store(target, store)  # only a speed-up: a failure costs the next refresh a refit
    sec["total"] = time.perf_counter() - t0
    return RefreshResult(path=path, backup=bak, asof=data.asof,
                         sheets=sorted(splice.engine_sheets), failures=failures,
                         warnings=[str(p) for p in data.problems] + splice.warnings,
                         seconds=sec, data=data, contents=contents)
