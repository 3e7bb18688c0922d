"""engine.workbook.save on a real file system: symlinks, the lock (atomic, pid reuse, other
hosts, takeover races), exact scratch-file names and their sweep, no TMPDIR, read-only files
and folders, a full disk and KeyboardInterrupt at every step of the replacement.

The files here are not real workbooks: the save module never reads their content, and the
checks compare bytes. Faults are injected by wrapping one os/shutil function for the length
of one call of the module; runs as root (mode bits are read, not enforced) and as a user."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from engine.workbook import fit_store, save
from engine.workbook.save import (
    PREFIX, Busy, RefreshLock, SaveError, backup_path, check_writable, lock_path,
    replace_with_backup, resolve_workbook, scratch_pattern, temp_path, write_temp)

ROOT = Path(__file__).resolve().parent.parent
OLD, NEW, PREVIOUS = b"old workbook " * 100, b"new workbook " * 120, b"previous backup"
KINDS = ("tmp", "part", "fits", "lock")
LINUX_PROC = Path("/proc/self/stat").exists() and Path("/proc/sys/kernel/random/boot_id").exists()
needs_symlinks = pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX folder modes")


def make(folder: Path, name: str = "demo.xlsx", data: bytes = OLD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(data)
    return p


def scratch(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith(PREFIX))


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def write_lock(wb: Path, content, age: float = 0.0) -> Path:
    lock = lock_path(resolve_workbook(wb))
    lock.write_text(content if isinstance(content, str) else json.dumps(content))
    if age:
        t = time.time() - age
        os.utime(lock, (t, t))
    return lock


def my_record(**changes) -> dict:
    pid = os.getpid()
    rec = {"pid": pid, "start": save._proc_start(pid), "boot": save._boot_id(),
           "host": socket.gethostname(), "time": time.time()}
    return {**rec, **changes}


@contextmanager
def chmod(path: Path, mode: int):
    old = stat.S_IMODE(path.stat().st_mode)
    os.chmod(path, mode)
    try:
        yield
    finally:
        os.chmod(path, old)


# -- 1. symlinks ------------------------------------------------------------------------------
@needs_symlinks
def test_symlinked_workbook_is_refreshed_through_relative_and_chained_links(tmp_path):
    real = make(tmp_path / "real")
    make(real.parent, "demo.bak.xlsx", PREVIOUS)
    (tmp_path / "links").mkdir()
    (tmp_path / "more").mkdir()
    link = tmp_path / "links" / "link.xlsx"
    link.symlink_to(Path("..") / "real" / "demo.xlsx")         # relative
    chain = tmp_path / "more" / "chain.xlsx"
    chain.symlink_to(Path("..") / "links" / "link.xlsx")       # a link to a link
    assert resolve_workbook(chain) == resolve_workbook(link) == real.resolve()

    with RefreshLock(chain) as lock:
        assert lock.target == real.resolve()
        assert lock.lock.parent == real.parent.resolve() and lock.lock.exists()
        with pytest.raises(Busy):  # the same workbook under its own name: the same lock
            RefreshLock(real).__enter__()
        with write_temp(chain) as tmp:
            tmp.write_bytes(NEW)
        assert tmp.parent == real.parent.resolve()
        bak = replace_with_backup(tmp, chain)
        assert fit_store.save_store(chain, {"k": 1})
    assert bak == real.parent.resolve() / "demo.bak.xlsx"
    assert real.read_bytes() == NEW and bak.read_bytes() == OLD
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "real" / "demo.xlsx")
    assert chain.is_symlink() and os.readlink(chain) == str(Path("..") / "links" / "link.xlsx")
    assert chain.read_bytes() == NEW
    assert sorted(os.listdir(tmp_path / "links")) == ["link.xlsx"]
    assert sorted(os.listdir(tmp_path / "more")) == ["chain.xlsx"]
    assert sorted(os.listdir(real.parent)) == [".demo.gamma-fits.json", "demo.bak.xlsx",
                                               "demo.xlsx"]
    assert fit_store.load_store(link) == {"k": 1}


@needs_symlinks
def test_symlink_loop_is_a_save_error(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    a.symlink_to("b.xlsx")
    b.symlink_to("a.xlsx")
    with pytest.raises(SaveError, match="a.xlsx"):
        RefreshLock(a).__enter__()


# -- 2. the lock appears with its content -----------------------------------------------------
@pytest.mark.skipif(not LINUX_PROC, reason="Linux /proc")
def test_lock_appears_complete_by_hard_link(tmp_path, monkeypatch):
    wb = make(tmp_path)
    seen = []
    real_link = os.link

    def link(src, dst, *a, **k):
        real_link(src, dst, *a, **k)  # from this instant the lock exists: read it now
        seen.append(json.loads(Path(dst).read_text()))

    monkeypatch.setattr(os, "link", link)
    with RefreshLock(wb) as lock:
        assert scratch(tmp_path) == [lock.lock.name]  # the staging file is gone
        assert json.loads(lock.lock.read_text()) == seen[0]
    rec = seen[0]
    assert rec["pid"] == os.getpid() and rec["host"] == socket.gethostname()
    assert rec["boot"] == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    stat_fields = Path("/proc/self/stat").read_text().rpartition(")")[2].split()
    assert rec["start"] == int(stat_fields[22 - 3])
    assert scratch(tmp_path) == []


def test_lock_without_hard_links_uses_o_excl_and_honours_young_empty_locks(tmp_path,
                                                                        monkeypatch):
    wb = make(tmp_path)

    def no_link(src, dst, *a, **k):
        raise OSError(errno.EPERM, "Operation not permitted")  # as on FAT, some SMB shares

    monkeypatch.setattr(os, "link", no_link)
    with RefreshLock(wb) as lock:
        assert json.loads(lock.lock.read_text())["pid"] == os.getpid()
        assert scratch(tmp_path) == [lock.lock.name]
        with pytest.raises(Busy):
            RefreshLock(wb).__enter__()
    assert scratch(tmp_path) == []

    lock = write_lock(wb, "")  # an O_EXCL owner between creating and writing it
    with pytest.raises(Busy, match="being written"):
        RefreshLock(wb).__enter__()
    os.utime(lock, (time.time() - 10, time.time() - 10))  # never written: a crash
    with RefreshLock(wb):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


_HOLDER = """
import sys
from pathlib import Path
from engine.workbook.save import RefreshLock, temp_path
wb = Path(sys.argv[1])
with RefreshLock(wb):
    for kind in ("tmp", "part", "fits", "lock"):
        temp_path(wb, kind)
    print("locked", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def _holder(wb: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, str(wb)], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_live_owner_keeps_the_lock_and_a_killed_ones_files_are_swept(tmp_path):
    """A refresh in another process: while it lives, Busy and nothing of its removed; killed,
    its lock is taken over and its scratch files (all kinds) are swept — and only those of
    that workbook."""
    wb = make(tmp_path)
    other = make(tmp_path, "demo-2.xlsx")
    others = sorted(temp_path(other, k).name for k in KINDS)
    p = _holder(wb)
    try:
        mine = [n for n in scratch(tmp_path) if n not in others]
        assert len(mine) == 5  # its lock and four scratch files
        with pytest.raises(Busy, match=rf"demo.xlsx is running \(pid {p.pid}\)"):
            RefreshLock(wb).__enter__()
        assert [n for n in scratch(tmp_path) if n not in others] == mine
    finally:
        p.kill()
        p.wait()
    with RefreshLock(wb) as lock:
        assert scratch(tmp_path) == sorted(others + [lock.lock.name])
        assert json.loads(lock.lock.read_text())["pid"] == os.getpid()
    assert scratch(tmp_path) == others


def test_an_owner_that_ends_removes_its_lock(tmp_path):
    wb = make(tmp_path)
    p = _holder(wb)
    p.stdin.write("\n")
    p.stdin.flush()
    assert p.stdout.readline().strip() == "released"
    p.wait()
    assert not lock_path(resolve_workbook(wb)).exists()


@pytest.mark.parametrize("module, name, after", [
    (os, "open", True), (os, "link", False), (os, "link", True), (os, "unlink", True),
    (os, "listdir", False)])
def test_interrupt_while_locking_leaves_no_lock_behind(tmp_path, module, name, after):
    """A long-lived process (the add-in's) interrupted while taking the lock must not keep
    it: nothing of the lock is left, and the next refresh takes it at once."""
    wb = make(tmp_path)
    with fail_call(module, name, 1, KeyboardInterrupt(), after=after):
        with pytest.raises(KeyboardInterrupt):
            RefreshLock(wb).__enter__()
    assert scratch(tmp_path) == []
    with RefreshLock(wb):
        pass


# -- 3. stale locks: pid reuse, no start times, other hosts, old formats -----------------------
@pytest.mark.skipif(not LINUX_PROC, reason="Linux /proc")
def test_pid_reused_by_another_process_is_stale(tmp_path):
    wb = make(tmp_path)
    write_lock(wb, my_record())  # this very process: held
    with pytest.raises(Busy):
        RefreshLock(wb).__enter__()
    write_lock(wb, my_record(start=my_record()["start"] + 1))  # live pid, other start: reused
    with RefreshLock(wb) as lock:
        assert json.loads(lock.lock.read_text())["time"] > 0
    write_lock(wb, my_record(boot="00000000-0000-0000-0000-000000000000"))  # before a reboot
    with RefreshLock(wb):
        pass


def test_without_start_times_the_pid_alone_decides(tmp_path, monkeypatch):
    """macOS and Windows: no /proc. A live pid holds its lock whatever start time it
    records; a dead one does not."""
    monkeypatch.setattr(save, "_proc_start", lambda pid: None)
    monkeypatch.setattr(save, "_boot_id", lambda: None)
    wb = make(tmp_path)
    with RefreshLock(wb) as lock:
        rec = json.loads(lock.lock.read_text())
        assert rec["start"] is None and rec["boot"] is None
    write_lock(wb, my_record(start=123, boot="x"))
    with pytest.raises(Busy):
        RefreshLock(wb).__enter__()
    write_lock(wb, my_record(pid=dead_pid(), start=None))
    with RefreshLock(wb):
        pass


def test_another_hosts_lock_is_held_for_an_hour(tmp_path):
    wb = make(tmp_path)
    rec = my_record(host="another-host", pid=dead_pid())  # its pid means nothing here
    write_lock(wb, rec, age=59 * 60)
    with pytest.raises(Busy, match=r"on another-host\)"):
        RefreshLock(wb).__enter__()
    write_lock(wb, rec, age=61 * 60)
    with RefreshLock(wb):
        pass


def test_bare_pid_locks_of_earlier_versions_and_unreadable_content(tmp_path):
    wb = make(tmp_path)
    write_lock(wb, str(os.getpid()))
    with pytest.raises(Busy):
        RefreshLock(wb).__enter__()
    write_lock(wb, str(dead_pid()))
    with RefreshLock(wb):
        pass
    write_lock(wb, '{"pid": 12')  # partly written (O_EXCL fallback): held for a moment
    with pytest.raises(Busy):
        RefreshLock(wb).__enter__()
    write_lock(wb, '{"pid": 12', age=60)
    with RefreshLock(wb):
        pass


@pytest.mark.skipif(save.fcntl is None, reason="flock")
def test_two_refreshes_breaking_one_stale_lock_cannot_remove_each_others(tmp_path,
                                                                         monkeypatch):
    """B opens the stale lock; before B looks at it, A removes it and takes the lock. B must
    then see that the name points to another file, leave A's lock alone, and be Busy."""
    wb = make(tmp_path)
    write_lock(wb, my_record(pid=dead_pid()))
    real_flock, a = save.fcntl.flock, RefreshLock(wb)
    calls = []

    def flock(fd, op):
        calls.append(fd)
        if len(calls) == 1:  # B, holding the stale file open: A runs now
            a.__enter__()
        return real_flock(fd, op)

    monkeypatch.setattr(save.fcntl, "flock", flock)
    with pytest.raises(Busy, match=f"pid {os.getpid()}"):
        RefreshLock(wb).__enter__()  # B
    st = a.lock.stat()
    assert (st.st_dev, st.st_ino) == a._id  # A's lock survived
    a.__exit__(None, None, None)
    assert not a.lock.exists()


def test_sweep_happens_only_when_the_lock_is_ours(tmp_path):
    wb = make(tmp_path)
    with RefreshLock(wb):
        left = sorted(temp_path(wb, k).name for k in KINDS)
        with pytest.raises(Busy):
            RefreshLock(wb).__enter__()
        assert all((tmp_path / n).exists() for n in left)
    with RefreshLock(wb) as lock:
        assert scratch(tmp_path) == [lock.lock.name]


# -- 4. names ---------------------------------------------------------------------------------
NAMES = ["demo.xlsx", "demo-2.xlsx", "demo.xlsx.xlsx", "demo.xlsm", "demo.bak.xlsx", "demo",
         "de.mo.xlsx", "demo(1)+[x]^$.xlsx", "demo.xlsx.0123456789abcdef.tmp.xlsx",
         "demo.part", "demo.xlsx.lock"]


def test_scratch_names_never_match_another_workbooks(tmp_path):
    """All the workbooks above in one folder, each with scratch files of every kind: each
    workbook's pattern matches exactly its own, and its lock sweeps exactly those."""
    mine = {}
    for name in NAMES:
        wb = make(tmp_path, name)
        mine[name] = {temp_path(wb, k).name for k in KINDS}
    locks = {lock_path(resolve_workbook(tmp_path / n)).name for n in NAMES}
    assert len(locks) == len(NAMES)
    everything = set(os.listdir(tmp_path))
    for name in NAMES:
        pattern = scratch_pattern(resolve_workbook(tmp_path / name))
        assert {n for n in everything if pattern.fullmatch(n)} == mine[name], name
        assert not any(pattern.fullmatch(n) for n in locks)
    for name in NAMES:
        before = set(os.listdir(tmp_path))
        with RefreshLock(tmp_path / name) as lock:
            during = set(os.listdir(tmp_path))
        assert before - during == mine[name] and during - before == {lock.lock.name}, name
    assert set(os.listdir(tmp_path)) == set(NAMES)


def test_scratch_file_name_format_and_o_excl(tmp_path, monkeypatch):
    wb = make(tmp_path)
    tokens = iter(["0" * 16, "0" * 16, "a" * 16])
    monkeypatch.setattr(save.secrets, "token_hex", lambda n: next(tokens))
    first = temp_path(wb)
    assert first.name == ".~gamma-demo.xlsx.0000000000000000.tmp.xlsx"
    assert first.parent == tmp_path.resolve()
    first.write_bytes(b"someone's")
    second = temp_path(wb)  # the same random part: the existing name is skipped
    assert second.name == ".~gamma-demo.xlsx." + "a" * 16 + ".tmp.xlsx"
    assert first.read_bytes() == b"someone's" and second.read_bytes() == b""
    if os.name == "posix":
        assert stat.S_IMODE(second.stat().st_mode) == 0o600
    m = resolve_workbook(tmp_path / "book.xlsm")
    tokens = iter(["b" * 16])
    assert temp_path(make(tmp_path, "book.xlsm")).name == f".~gamma-{m.name}.{'b' * 16}.tmp.xlsm"


_part = st.sampled_from(["demo", ".", "-", "x", "xlsx", "xlsm", "tmp", "part", "fits", "lock",
                         "bak", "0123456789abcdef", "a", "f0", "[", "("])


@settings(derandomize=True, max_examples=400, deadline=None)
@given(st.lists(_part, min_size=1, max_size=8).map("".join),
       st.lists(_part, min_size=1, max_size=8).map("".join), st.sampled_from(KINDS))
def test_no_scratch_name_fits_two_workbooks(a, b, kind):
    """The names' grammar (pure strings): a scratch name of workbook ``a`` is matched by the
    pattern of ``b`` only when ``a == b``."""
    if a == b or a in (".", "..") or b in (".", ".."):
        return
    wa, wb = Path("/f") / a, Path("/f") / b
    name = f"{PREFIX}{wa.name}.0123456789abcdef{save._ending(wa, kind)}"
    assert scratch_pattern(wa).fullmatch(name)
    assert not scratch_pattern(wb).fullmatch(name)
    assert lock_path(wa).name != lock_path(wb).name
    assert not scratch_pattern(wb).fullmatch(lock_path(wa).name)


# -- 5. the fit store's scratch file ----------------------------------------------------------
def test_fit_store_writes_through_a_swept_scratch_file(tmp_path, monkeypatch):
    wb = make(tmp_path)
    used = []
    real_replace = os.replace

    def spy(src, dst):
        used.append(Path(src).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    assert fit_store.save_store(wb, {"k": 1})
    assert scratch_pattern(resolve_workbook(wb)).fullmatch(used[0]) and ".fits.tmp" in used[0]

    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        fit_store.save_store(wb, {"k": 2})
    assert scratch(tmp_path) == []  # removed on the way out
    monkeypatch.setattr(os, "replace", real_replace)
    left = temp_path(wb, "fits")  # as a SIGKILL between write and rename leaves it
    with RefreshLock(wb):
        assert not left.exists()
    assert fit_store.load_store(wb) == {"k": 1}


def test_fit_store_failure_is_no_error(tmp_path, monkeypatch):
    wb = make(tmp_path)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    assert fit_store.save_store(wb, {"k": 1}) is False
    assert scratch(tmp_path) == [] and fit_store.load_store(wb) == {}


# -- 6. TMPDIR --------------------------------------------------------------------------------
def test_nothing_is_written_to_tmpdir(tmp_path, monkeypatch):
    empty = tmp_path / "tmpdir"
    empty.mkdir()
    monkeypatch.setenv("TMPDIR", str(empty))
    monkeypatch.setenv("TEMP", str(empty))
    monkeypatch.setenv("TMP", str(empty))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read from the environment
    assert tempfile.gettempdir() == str(empty)
    wb = make(tmp_path / "books")
    seen = set()
    real_open = os.open

    def spy(path, *a, **k):  # every file the module opens, while it runs (and folders)
        p = Path(path).resolve()
        seen.add(p if p.is_dir() else p.parent)
        return real_open(path, *a, **k)

    monkeypatch.setattr(os, "open", spy)
    with RefreshLock(wb):
        with write_temp(wb) as tmp:
            tmp.write_bytes(NEW)
        replace_with_backup(tmp, wb)
        fit_store.save_store(wb, {"k": 1})
    assert list(empty.iterdir()) == []
    assert seen == {wb.parent.resolve()}


# -- 7. read-only files and folders -----------------------------------------------------------
def test_read_only_workbook_is_refused_by_its_mode_bits(tmp_path):
    wb = make(tmp_path)
    new = temp_path(wb)
    new.write_bytes(NEW)
    msg = "demo.xlsx is read-only: nothing written"
    with chmod(wb, 0o444):
        with pytest.raises(SaveError, match=msg) as e:
            check_writable(wb)
        assert e.value.path == resolve_workbook(wb)
        with pytest.raises(SaveError, match=msg):
            RefreshLock(wb).__enter__()
        with pytest.raises(SaveError, match=msg):
            replace_with_backup(new, wb)
    assert wb.read_bytes() == OLD
    assert sorted(os.listdir(tmp_path)) == ["demo.xlsx"]  # no backup, no lock, new removed


@posix_only
def test_folder_without_write_bits_is_refused(tmp_path):
    folder = tmp_path / "shared"
    wb = make(folder)
    msg = f"cannot write in {folder.resolve()} (the folder of demo.xlsx): permission denied"
    with chmod(folder, 0o555):
        for call in (lambda: check_writable(wb), lambda: RefreshLock(wb).__enter__(),
                     lambda: temp_path(wb), lambda: write_temp(wb).__enter__()):
            with pytest.raises(SaveError) as e:
                call()
            assert str(e.value) == msg
    assert sorted(os.listdir(folder)) == ["demo.xlsx"]


@pytest.mark.parametrize("code, words", [
    (errno.EACCES, "permission denied"), (errno.EPERM, "permission denied"),
    (errno.EROFS, "read-only file system")])
def test_real_permission_errors_name_the_folder(tmp_path, monkeypatch, code, words):
    """As for a user without rights, or a read-only mount: the OS refuses the file."""
    wb = make(tmp_path)
    msg = f"cannot write in {tmp_path.resolve()} (the folder of demo.xlsx): {words}"

    def refuse(path, *a, **k):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(os, "open", refuse)
    for call in (lambda: RefreshLock(wb).__enter__(), lambda: temp_path(wb)):
        with pytest.raises(SaveError) as e:
            call()
        assert str(e.value) == msg
    monkeypatch.undo()
    new = temp_path(wb)
    new.write_bytes(NEW)
    real = os.replace

    def refuse_replace(src, dst):
        if Path(dst) == resolve_workbook(wb):
            raise OSError(code, os.strerror(code))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", refuse_replace)
    with pytest.raises(SaveError) as e:
        replace_with_backup(new, wb)
    assert str(e.value) == msg and wb.read_bytes() == OLD
    assert sorted(os.listdir(tmp_path)) == ["demo.bak.xlsx", "demo.xlsx"]


# -- 8, 9. a full disk, an interrupt, at every step -------------------------------------------
STEPS = [(os, "open"), (os, "fsync"), (os, "replace"), (os, "close"), (os, "chown"),
         (shutil, "copyfileobj"), (shutil, "copystat"), (shutil, "copymode")]
STEPS = [(m, n) for m, n in STEPS if hasattr(m, n)]


@contextmanager
def fail_call(module, name: str, n: int, exc: BaseException | None, after: bool = False):
    """Make the ``n``-th call of ``module.name`` raise ``exc`` (before doing its work, or
    after with ``after``); with ``exc=None`` only count. Yields the list of calls."""
    real, calls = getattr(module, name), []

    def wrapper(*a, **k):
        calls.append(a)
        if exc is None or len(calls) != n:
            return real(*a, **k)
        if after:
            real(*a, **k)
        raise exc

    setattr(module, name, wrapper)
    try:
        yield calls
    finally:
        setattr(module, name, real)


def _setup(folder: Path) -> tuple[Path, Path]:
    wb = make(folder)
    make(folder, "demo.bak.xlsx", PREVIOUS)
    new = temp_path(wb)
    new.write_bytes(NEW)
    return wb, new


def _count(tmp_path: Path) -> dict:
    counts = {}
    for module, name in STEPS:
        wb, new = _setup(tmp_path / f"count-{name}")
        with fail_call(module, name, 0, None) as calls:
            replace_with_backup(new, wb)
        counts[(module, name)] = len(calls)
    return counts


def _check_consistent(folder: Path, wb: Path, raised: bool) -> None:
    assert sorted(os.listdir(folder)) == ["demo.bak.xlsx", "demo.xlsx"]  # no scratch file
    assert wb.read_bytes() == (OLD if raised else NEW)
    assert (folder / "demo.bak.xlsx").read_bytes() in (PREVIOUS, OLD)  # never partial
    if not raised:
        assert (folder / "demo.bak.xlsx").read_bytes() == OLD


@pytest.mark.parametrize("code, line", [
    (errno.ENOSPC, "no space left on the disk holding demo.xlsx: nothing written"),
    (getattr(errno, "EDQUOT", errno.ENOSPC), "no space left on the disk holding demo.xlsx"),
])
def test_full_disk_at_every_step_of_the_replacement(tmp_path, code, line):
    cases = 0
    for (module, name), count in _count(tmp_path).items():
        for n in range(1, count + 1):
            folder = tmp_path / f"{name}-{n}"
            wb, new = _setup(folder)
            raised = False
            with fail_call(module, name, n, OSError(code, os.strerror(code))):
                try:
                    replace_with_backup(new, wb)
                except SaveError as e:
                    raised = True
                    assert str(e).startswith(line) and "\n" not in str(e)
            _check_consistent(folder, wb, raised)
            # only the best-effort steps may pass: owner, and the folder's fsync after the
            # rename (last call of open/fsync/close)
            best_effort = name == "chown" or (name in ("open", "fsync", "close") and n == count)
            assert raised or best_effort, (name, n)
            cases += 1
    assert cases >= 12


def test_full_disk_midway_through_the_backup_copy(tmp_path, monkeypatch):
    wb, new = _setup(tmp_path)

    def half_then_full(fsrc, fdst, length=0):
        fdst.write(fsrc.read(len(OLD) // 2))
        fdst.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", half_then_full)
    with pytest.raises(SaveError, match="^no space left on the disk holding demo.xlsx"):
        replace_with_backup(new, wb)
    _check_consistent(tmp_path, wb, raised=True)
    assert (tmp_path / "demo.bak.xlsx").read_bytes() == PREVIOUS


def test_full_disk_while_writing_the_new_version_or_the_lock(tmp_path, monkeypatch):
    wb = make(tmp_path)
    with pytest.raises(SaveError, match="^no space left on the disk holding demo.xlsx: "
                                        "nothing written$"):
        with write_temp(wb) as tmp:
            tmp.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")  # as zipfile would
    assert sorted(os.listdir(tmp_path)) == ["demo.xlsx"]
    with pytest.raises(ValueError):  # other errors pass unchanged, the file still removed
        with write_temp(wb):
            raise ValueError("a bug")
    assert sorted(os.listdir(tmp_path)) == ["demo.xlsx"]

    for module, name in [(os, "open"), (os, "write")]:  # the lock, by link and by O_EXCL
        if name == "write":
            monkeypatch.setattr(os, "link", lambda *a, **k: (_ for _ in ()).throw(
                OSError(errno.EPERM, "no hard links")))
        with fail_call(module, name, 1, OSError(errno.ENOSPC, "full")):
            with pytest.raises(SaveError, match="^no space left on the disk holding demo"):
                RefreshLock(wb).__enter__()
        assert sorted(os.listdir(tmp_path)) == ["demo.xlsx"]


@pytest.mark.parametrize("after", [False, True], ids=["before-the-call", "after-the-call"])
def test_keyboard_interrupt_at_every_step_of_the_replacement(tmp_path, after):
    cases = 0
    for (module, name), count in _count(tmp_path).items():
        for n in range(1, count + 1):
            folder = tmp_path / f"{name}-{n}"
            wb, new = _setup(folder)
            with fail_call(module, name, n, KeyboardInterrupt(), after=after):
                with pytest.raises(KeyboardInterrupt):
                    replace_with_backup(new, wb)
            assert sorted(os.listdir(folder)) == ["demo.bak.xlsx", "demo.xlsx"], (name, n)
            assert wb.read_bytes() in (OLD, NEW), (name, n)  # never missing or partial
            assert (folder / "demo.bak.xlsx").read_bytes() in (PREVIOUS, OLD)
            if wb.read_bytes() == NEW:
                assert (folder / "demo.bak.xlsx").read_bytes() == OLD
            cases += 1
    assert cases >= 12


# -- 10. kept behaviour -----------------------------------------------------------------------
def test_backup_copy_then_rename_fsyncs_and_keeps_the_mode(tmp_path, monkeypatch):
    wb, new = _setup(tmp_path)
    os.chmod(wb, 0o640)
    t = time.time() - 3600
    os.utime(wb, (t, t))
    fsynced, renames = [], []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        s = os.fstat(fd)
        fsynced.append((stat.S_ISDIR(s.st_mode), s.st_ino))
        return real_fsync(fd)

    def replace(src, dst):
        renames.append((Path(src).name, Path(dst).name, os.stat(src).st_ino))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    bak = replace_with_backup(new, wb)
    monkeypatch.undo()
    assert bak == backup_path(resolve_workbook(wb)) == tmp_path.resolve() / "demo.bak.xlsx"
    assert bak.read_bytes() == OLD and wb.read_bytes() == NEW
    assert abs(bak.stat().st_mtime - t) < 1  # a copy with its times (copy2's stat)
    (part, to_bak, part_ino), (tmp, to_wb, new_ino) = renames
    assert part.endswith(".part") and to_bak == "demo.bak.xlsx"
    assert tmp == new.name and to_wb == "demo.xlsx"
    assert (False, part_ino) in fsynced and (False, new_ino) in fsynced
    if os.name == "posix":
        assert (True, tmp_path.stat().st_ino) in fsynced
        assert stat.S_IMODE(wb.stat().st_mode) == 0o640
    assert bak.stat().st_ino == part_ino and wb.stat().st_ino == new_ino
    assert sorted(os.listdir(tmp_path)) == ["demo.bak.xlsx", "demo.xlsx"]


def test_busy_is_a_save_error():
    assert issubclass(Busy, SaveError) and issubclass(SaveError, Exception)
