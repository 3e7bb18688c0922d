"""Atomic replacement of a workbook, keeping the previous version as a backup.

The new workbook is written to a temporary file in the same folder, flushed to disk, checked,
and only then moved over the original with :func:`os.replace` (atomic on POSIX and Windows
within one volume). A crash at any moment leaves either the old or the new workbook, both
complete; the backup ``NAME.bak.xlsx`` is itself written by copy-then-rename.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def temp_path(path: Path) -> Path:
    """A fresh temporary file name next to ``path`` (same volume, so the rename is atomic)."""
    fd, name = tempfile.mkstemp(prefix=f".~gamma-{path.stem}-", suffix=path.suffix,
                                dir=path.parent)
    os.close(fd)
    return Path(name)


def backup_path(path: Path) -> Path:
    """Where the previous version is kept: ``demo.xlsx`` -> ``demo.bak.xlsx``."""
    return path.with_name(f"{path.stem}.bak{path.suffix}")


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_with_backup(new_file: Path, path: Path) -> Path:
    """Keep ``path`` as its backup, then atomically move ``new_file`` onto ``path``.

    Returns the backup's path."""
    bak = backup_path(path)
    tmp_bak = temp_path(path)
    try:
        shutil.copy2(path, tmp_bak)
        fsync_file(tmp_bak)
        os.replace(tmp_bak, bak)
    finally:
        tmp_bak.unlink(missing_ok=True)
    shutil.copymode(path, new_file)  # mkstemp made it 0600; keep the workbook's permissions
    fsync_file(new_file)
    os.replace(new_file, path)
    _fsync_dir(path.parent)
    return bak


class Busy(Exception):
    """Another refresh of the same workbook is running."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # Windows without the pid
        return False
    return True


class RefreshLock:
    """``with RefreshLock(path):`` — one refresh of a workbook at a time.

    The lock file ``.~gamma-NAME.lock`` holds the owner's pid. A lock left by a process that
    died (killed mid-refresh) is taken over, and the temporary files such a process left next
    to the workbook are removed; a live owner makes the new refresh raise :class:`Busy`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = self.path.with_name(f".~gamma-{self.path.name}.lock")

    def __enter__(self) -> "RefreshLock":
        for _ in range(2):
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self.lock.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and _alive(pid):
                    raise Busy(f"another refresh of {self.path.name} is running (pid {pid})")
                self.lock.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            self._sweep()
            return self
        raise Busy(f"could not lock {self.path.name}")

    def _sweep(self) -> None:
        folder, stem = self.path.parent, self.path.stem
        for pattern in (f".~gamma-{stem}-*{self.path.suffix}", f".{stem}.gamma-fits.json.*.tmp"):
            for stale in folder.glob(pattern):
                stale.unlink(missing_ok=True)

    def __exit__(self, *exc) -> None:
        self.lock.unlink(missing_ok=True)
