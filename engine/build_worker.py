"""The model builders in a second process, while the refresh loads the workbook for writing.

A refresh has two independent halves: the models (importing statsmodels alone takes about a
second, then the builders run) and openpyxl's load of the whole workbook it will write into.
On a machine with two or more cores :class:`BuildWorker` forks a child at the start of the
refresh.
The child imports the model libraries while the parent validates the inputs; it then runs
the model builders (:func:`engine.refresh.build_contents` with ``light=False``) on the
validated data the parent sends, while the parent loads the workbook. The child never opens
the workbook: it receives the validated :class:`~engine.inputs.data.WorkbookData` and the fit
store, and returns the sheet contents, the failures, the updated fit store and the builders'
timings, all pickled through a pipe.

The light builders (Data Status, Performance, GDP Gap: no models, no statsmodels) run in the
parent meanwhile (:func:`engine.tables.base.register`). The result never depends on which
process built it (``tests/test_build_worker.py``). Off Linux, on one core, with
``GAMMA_DESK_WORKER=0`` in the environment, or when the child dies or reports an error,
:meth:`BuildWorker.build` builds in the calling process instead: the same result, only slower.
A child whose parent is killed sees the pipe close and exits.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
import traceback
from typing import Callable

from engine.inputs.data import WorkbookData
from engine.tables.base import SheetContent

Progress = Callable[[str], None]

# What the builders import lazily; imported by the child while the parent reads the inputs.
WARM_MODULES = ("statsmodels.regression.linear_model", "statsmodels.tsa.adfvalues",
                "statsmodels.tsa.regime_switching.markov_regression")


def worker_available() -> bool:
    """True when builds can run in a forked child: Linux (macOS has ``fork`` too, but forking
    after numpy has loaded its system libraries is unsafe there; Windows has none), at least
    two cores, and not switched off with ``GAMMA_DESK_WORKER=0``."""
    if os.environ.get("GAMMA_DESK_WORKER", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return (sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()
            and (os.cpu_count() or 1) >= 2)


class BuildWorker:
    """A forked child that runs the model builders (see the module doc). As a context manager::

        with BuildWorker() as worker:          # forks now; the child warms its imports
            data = read(...)
            worker.submit(data, store)        # the child starts building
            wb = load_workbook(...)           # meanwhile, in the parent
            contents, failures, store, seconds = worker.build(data, store, progress)

    ``build`` returns what :func:`engine.refresh.build_contents` would have returned in this
    process (contents, ``ctx.failures``), plus the fit store after the build and the seconds
    per builder. Leaving the block stops the child if it is still running."""

    def __init__(self, enabled: bool | None = None):
        self._proc = None
        self._conn = None
        self._submitted = False
        self._sender: threading.Thread | None = None
        if not (worker_available() if enabled is None else enabled):
            return
        try:
            ctx = mp.get_context("fork")
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, parent), daemon=True,
                               name="gamma-desk-builders")
            proc.start()
            child.close()  # so that the child's death reads as EOF here
            self._proc, self._conn = proc, parent
        except (OSError, ValueError):  # no fork here after all: build in-process
            self._proc = self._conn = None

    @property
    def running(self) -> bool:
        """Is a child process serving this worker?"""
        return self._proc is not None

    def submit(self, data: WorkbookData, fit_store: dict | None) -> None:
        """Send the validated data (and the fit store) to the child, which starts building.
        Returns at once: the data goes through the pipe from a thread, as the child reads it
        once its imports are done (a blocking send would stall this process until then)."""
        if self._conn is None:
            return
        msg = ("build", data, fit_store)
        self._sender = threading.Thread(target=self._send, args=(msg,), daemon=True)
        self._sender.start()
        self._submitted = True

    def _send(self, msg) -> None:
        try:
            self._conn.send(msg)
        except (OSError, ValueError, EOFError):  # the child is gone: build() will notice
            pass

    def build(self, data: WorkbookData, fit_store: dict | None,
              progress: Progress = lambda m: None
              ) -> tuple[list[SheetContent], dict[str, str], dict | None, dict[str, float]]:
        """The built contents, failures, fit store and seconds per builder: from the child
        when it has them, else built here (the fallback of the module doc)."""
        if self._sender is not None:
            self._sender.join()
        got = self._receive(progress) if self._submitted else None
        self.close()
        if got is not None:
            return got
        from engine.refresh import build_contents
        seconds: dict[str, float] = {}
        contents, ctx = build_contents(data, progress, seconds, fit_store=fit_store,
                                       light=False)
        return contents, ctx.failures, fit_store, seconds

    def _receive(self, progress: Progress):
        try:
            while True:
                msg = self._conn.recv()
                if msg[0] == "progress":
                    progress(msg[1])
                elif msg[0] == "done":
                    return msg[1:]
                else:  # "error": the child could not build; say why, then build here
                    progress(f"second process failed, building here instead: {msg[1]}")
                    return None
        except (EOFError, OSError):  # the child died
            progress("second process stopped, building here instead")
            return None

    def close(self) -> None:
        """Stop the child (if any) and release the pipe. Safe to call twice."""
        conn, proc, self._conn, self._proc = self._conn, self._proc, None, None
        if conn is not None:
            try:
                conn.send(("stop",))
            except (OSError, ValueError):
                pass
            conn.close()
        if proc is not None:
            proc.join(timeout=2)
            if proc.is_alive():
                proc.kill()
                proc.join()

    def __enter__(self) -> BuildWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(conn, parent_end) -> None:
    """The child: warm the imports, then build what the parent sends (once) and reply."""
    import importlib
    import signal
    # Ctrl-C is the parent's to handle (it stops this child); no second traceback here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The fork copied the parent's end of the pipe too: close it, so that the parent's
    # death (even by SIGKILL) reads as EOF here and the child exits instead of waiting.
    parent_end.close()
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # the builders will report it on use
            pass
    try:
        msg = conn.recv()
    except (EOFError, OSError):
        return
    if msg[0] != "build":
        return
    _, data, store = msg
    try:
        from engine.refresh import build_contents
        seconds: dict[str, float] = {}
        t0 = time.perf_counter()
        contents, ctx = build_contents(data, lambda m: conn.send(("progress", m)), seconds,
                                       fit_store=store, light=False)
        seconds["build (second process)"] = time.perf_counter() - t0
        conn.send(("done", contents, ctx.failures, store, seconds))
    except Exception as e:  # noqa: BLE001 - reported to the parent, which builds itself
        try:
            conn.send(("error", f"{type(e).__name__}: {e}"))
        except Exception:  # noqa: BLE001 - e.g. the failure was pickling: parent sees EOF
            traceback.print_exc()
    finally:
        conn.close()
