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
    fsync_file(new_file)
    os.replace(new_file, path)
    _fsync_dir(path.parent)
    return bak
