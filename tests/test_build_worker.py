"""The builders in a forked second process (engine/build_worker.py): the same result as in
process, a fallback when the child is gone, and no orphan when the parent is killed."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from engine.build_worker import BuildWorker, worker_available
from engine.inputs.reader import read_workbook
from engine.refresh import build_contents

DEMO = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"
pytestmark = pytest.mark.skipif(not worker_available(), reason="no fork or a single core")


@pytest.fixture(scope="module")
def data():
    return read_workbook(DEMO, asof="1998-12-31")


@pytest.fixture(scope="module")
def in_process(data):
    store: dict = {}
    contents, ctx = build_contents(data, fit_store=store, light=False)
    return contents, ctx.failures, store


def _same(a, b) -> None:
    """Two lists of SheetContent hold the same tables, notes and number of charts."""
    assert [c.sheet for c in a] == [c.sheet for c in b]
    for x, y in zip(a, b):
        assert x.intro == y.intro and len(x.charts) == len(y.charts)
        for tx, ty in zip(x.tables + x.data_tables, y.tables + y.data_tables, strict=True):
            assert (tx.name, tx.title, tx.notes, tx.formats) == \
                (ty.name, ty.title, ty.notes, ty.formats)
            pd.testing.assert_frame_equal(tx.df, ty.df)


def test_worker_builds_what_the_process_builds(data, in_process):
    contents, failures, store = in_process
    with BuildWorker(enabled=True) as w:
        assert w.running
        w.submit(data, {})
        got, got_failures, got_store, seconds = w.build(data, {})
    _same(contents, got)
    assert got_failures == failures
    assert got_store == store  # the child's new Markov fits come back to be saved
    assert "build (second process)" in seconds  # it really was built over there
    # the chart descriptions crossed the pipe whole
    assert [c.charts for c in got] == [c.charts for c in contents] and any(c.charts for c in got)


def test_dead_child_falls_back_to_building_here(data, in_process):
    contents, failures, _ = in_process
    messages: list[str] = []
    with BuildWorker(enabled=True) as w:
        w._proc.kill()
        w._proc.join()
        w.submit(data, {})
        got, got_failures, _, seconds = w.build(data, {}, messages.append)
    _same(contents, got)
    assert got_failures == failures
    assert "build (second process)" not in seconds
    assert any("building here instead" in m for m in messages)


def test_light_and_model_builders_make_the_whole_refresh(data, in_process):
    """The main process's light builders and the worker's model builders together are
    every builder, each exactly once."""
    from engine.tables.base import builders
    light = [n for n, _ in builders(True)]
    models = [n for n, _ in builders(False)]
    assert sorted(light + models) == sorted(n for n, _ in builders())
    assert not set(light) & set(models)
    assert {"valuation", "forecasts", "history"} <= set(models)
    # no sheet is written by both kinds (their contents are simply concatenated)
    light_sheets = {c.sheet for c in build_contents(data, light=True)[0]}
    assert light_sheets == {"Data Status", "Performance", "GDP Gap"}
    assert light_sheets.isdisjoint(c.sheet for c in in_process[0])


def test_switched_off_by_environment(monkeypatch):
    monkeypatch.setenv("GAMMA_DESK_WORKER", "0")
    assert not worker_available()
    with BuildWorker() as w:
        assert not w.running


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # a zombie has exited (nobody may reap it here)


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc")
def test_child_exits_when_the_parent_is_killed():
    """SIGKILL of the refresh process (nothing of it can run) must not leave the child
    waiting for data forever."""
    script = textwrap.dedent("""
        import time
        from engine.build_worker import BuildWorker
        w = BuildWorker(enabled=True)
        print(w._proc.pid, flush=True)
        time.sleep(120)
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                         cwd=Path(__file__).resolve().parent.parent)
    child = int(p.stdout.readline())
    assert not _gone(child)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    deadline = time.monotonic() + 30  # the child first finishes its imports, then sees EOF
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert _gone(child), "the build child outlived its killed parent"
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)
