"""The refresh pipeline: input sheets -> validated data -> builders -> engine sheets, safely.

``refresh(path)`` either replaces the workbook with a refreshed one (keeping the previous
version as ``NAME.bak.xlsx``) or raises :class:`Refused` and leaves the file byte-identical:
locked by Excel, invalid inputs, parts a save would drop, or any user cell that would change.
The model builders run in a second process while this one loads the workbook
(:mod:`engine.build_worker`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.build_worker import BuildWorker
from engine.inputs.data import WorkbookData
from engine.inputs.problems import InputError
from engine.inputs.reader import read_workbook
from engine.tables import builders
from engine.tables.base import ENGINE_SHEETS, RefreshContext, SheetContent
from engine.workbook import guard
from engine.workbook.cached_values import cached_values, formula_cells, restore
from engine.workbook.fit_store import load_store, save_store
from engine.workbook.load import load_for_writing
from engine.workbook.save import Busy, RefreshLock, replace_with_backup, temp_path
from engine.workbook.serialize import SheetsAhead, save_workbook
from engine.workbook.writer import write_contents

Progress = Callable[[str], None]


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
                   light: bool | None = None) -> tuple[list[SheetContent], RefreshContext]:
    """Run the registered builders on validated data; returns their sheet contents.

    ``light``: ``None`` runs every builder; ``True`` only the light ones, ``False`` only the
    model builders (see :func:`engine.tables.base.register`). A builder that raises is
    recorded as a failure of all instruments it covers (the other builders still run); its
    sheets are left as they were. Failures go into the Data Status table when it was built
    here (:func:`report_failures`)."""
    ctx = RefreshContext(data=data, history=data.history, progress=progress)
    if fit_store is not None:
        ctx.cache["regime_fit_store"] = fit_store
    contents: list[SheetContent] = []
    for name, build in builders(light):
        progress(f"building {name}")
        t0 = time.perf_counter()
        try:
            contents += build(ctx)
        except Exception as e:  # one broken area must not lose the others
            ctx.failures.setdefault(f"[{name}]", f"{type(e).__name__}: {e}")
        if seconds is not None:
            seconds[name] = time.perf_counter() - t0
    report_failures(ctx, ctx.failures)
    return contents, ctx


def report_failures(ctx: RefreshContext, failures: dict[str, str]) -> None:
    """Append ``failures`` (code -> reason) to the Data Status table built with ``ctx``."""
    status = ctx.cache.get("data_status")
    if status is not None and failures:
        from engine.tables.data_status import add_failures
        add_failures(status, failures)


def check(path: str | Path, asof=None) -> WorkbookData:
    """Validate only (``gamma check``); raises :class:`Refused` listing every input problem."""
    return _checked(Path(path), asof)[0]


def _checked(path: Path, asof) -> tuple[WorkbookData, guard.WorkbookSnapshot]:
    """The validated data and the guard's snapshot of the file as it is now. The snapshot
    comes first: it reads every part with defusedxml and size bounds, so a hostile file is
    refused before openpyxl parses anything."""
    try:
        _refuse_unreadable(path)
        snap = guard.snapshot(path)
        problems = guard.unsupported_parts(path, keep_vba=path.suffix.lower() == ".xlsm")
        if problems:
            raise Refused("the workbook holds parts a refresh would drop: nothing written",
                          problems)
        return read_workbook(path, asof=asof, snapshot=snap), snap
    except InputError as e:
        raise Refused("invalid workbook inputs: nothing written",
                      [str(p) for p in e.problems if p.severity == "error"]) from None
    except guard.GuardError as e:
        raise Refused("unreadable or unsafe workbook: nothing written", e.problems) from None


def refresh(path: str | Path, asof=None, progress: Progress = lambda m: None) -> RefreshResult:
    """Refresh every engine sheet of the workbook at ``path`` in place (see module doc)."""
    path = Path(path)
    if not path.exists():
        raise Refused(f"{path}: no such file")
    try:
        with RefreshLock(path):
            return _refresh(path, asof, progress)
    except Busy as e:
        raise Refused(f"{e}: nothing written") from None


def _refresh(path: Path, asof, progress: Progress) -> RefreshResult:
    sec: dict[str, float] = {}
    t0 = time.perf_counter()
    owner = guard.excel_lock_owner(path)
    if owner is not None:
        raise Refused(f"{path.name} is open in Excel (lock file {owner.name}): close it, or "
                      "use the add-in's Refresh button inside Excel. Nothing written.")
    ahead = SheetsAhead()              # the user's sheets' XML, made while the models run
    scratch: list[Path] = []           # temporary files of this run, removed at the end
    try:
        # The models run in a second process (when the machine has one to give) while this
        # one validates the inputs, loads the workbook it will write into, runs the light
        # builders and serializes the user's sheets, which a refresh never changes.
        with BuildWorker() as worker:
            progress("checking the workbook")
            data, before = _checked(path, asof)
            sec["read"] = time.perf_counter() - t0
            store = load_store(path)
            worker.submit(data, store)
            t1 = time.perf_counter()
            if worker.running:
                progress("building the tables in a second process; loading the workbook")
            wb, loaded_from = load_for_writing(path, keep_vba=path.suffix.lower() == ".xlsm")
            scratch += [loaded_from] if loaded_from is not None else []
            areas_before = _areas(wb)
            fcells = formula_cells(wb, skip=set(ENGINE_SHEETS))
            sec["load"] = time.perf_counter() - t1
            contents, ctx = build_contents(data, progress, sec, light=True)
            t1 = time.perf_counter()
            ahead.serialize(wb, [n for n in wb.sheetnames if n not in ENGINE_SHEETS])
            sec["user sheets serialized"] = time.perf_counter() - t1
            models, failures, store, built = worker.build(data, store, progress)
            sec.update(built)
        report_failures(ctx, failures)
        contents += models
        failures = {**ctx.failures, **failures}
        progress("writing engine sheets")
        t1 = time.perf_counter()
        tmp = temp_path(path)
        scratch.append(tmp)
        areas = write_contents(wb, contents)
        save_workbook(wb, tmp, ahead)
        wb.close()
        restore(tmp, cached_values(before, fcells))  # openpyxl drops formulas' cached values
        sec["write"] = time.perf_counter() - t1
        progress("checking nothing was lost")
        t2 = time.perf_counter()
        try:
            after = guard.snapshot(tmp)
        except guard.GuardError as e:
            raise Refused("the refreshed copy could not be checked: nothing written",
                          e.problems) from None
        both = {s: list(areas_before.get(s, [])) + list(areas.get(s, []))
                for s in set(areas_before) | set(areas)}
        problems = guard.compare(before, after, engine_areas=both)
        sec["guard"] = time.perf_counter() - t2
        if problems:
            raise Refused("the refresh would change or drop content outside the engine's "
                          "tables: nothing written", problems)
        bak = replace_with_backup(tmp, path)
        try:
            save_store(path, store)
        except OSError:  # only a speed-up: the next refresh refits
            pass
    finally:
        ahead.discard()
        for p in scratch:
            p.unlink(missing_ok=True)
    sec["total"] = time.perf_counter() - t0
    return RefreshResult(path=path, backup=bak, asof=data.asof,
                         sheets=sorted({c.sheet for c in contents}), failures=failures,
                         warnings=[str(p) for p in data.problems], seconds=sec, data=data,
                         contents=contents)


def _areas(wb) -> dict[str, list[str]]:
    from engine.workbook.areas import read_areas
    return read_areas(wb)


def _refuse_unreadable(path: Path) -> None:
    if not path.exists():
        raise Refused(f"{path}: no such file")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise Refused(f"{path.name}: not an .xlsx or .xlsm workbook")
