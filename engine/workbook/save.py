"""Replacing a workbook safely: one refresh at a time, atomic replacement, a backup.

A refresh holds :class:`RefreshLock`, writes the new version into a temporary file beside the
workbook (:func:`write_temp` / :func:`temp_path`), then :func:`replace_with_backup` copies the
current file to ``NAME.bak.xlsx`` (copy, fsync, rename) and moves the new one over it with
:func:`os.replace`, atomic within a folder on POSIX and Windows. A crash at any moment leaves
either the old or the new workbook, both complete. A symlinked workbook is handled through
its target (:func:`resolve_workbook`): the target is replaced, the link stays a link, and
every file below lives beside the target, so the rename never crosses a volume.

File names, for the workbook ``demo.xlsx`` (never anything in ``TMPDIR``):

=======================================  ==================================================
``.~gamma-demo.xlsx.lock``               the lock: JSON with pid, process start time, boot
                                         id, host name
``.~gamma-demo.xlsx.<16 hex>.tmp.xlsx``  the new version being written (ends with the
                                         workbook's suffix: openpyxl reads files by it)
``.~gamma-demo.xlsx.<16 hex>.part``      the backup being copied
``.~gamma-demo.xlsx.<16 hex>.fits.tmp``  the fit store being written (:mod:`.fit_store`)
``.~gamma-demo.xlsx.<16 hex>.lock.tmp``  the lock being written, before it is linked
=======================================  ==================================================

Why: scratch files left by a killed refresh are deleted by the next refresh of the same
workbook, so a name must say unambiguously which workbook it belongs to. Each is built from
the *full* file name (``demo.xlsx`` and ``demo.xlsm`` differ), a random part of exactly 16
lowercase hex digits, and an ending that starts with a dot and a letter that is not a hex
digit. Such a name splits one way only, and :func:`scratch_pattern` matches it with an exact
regular expression: the files of ``demo-2.xlsx`` or ``demo.xlsx.xlsx`` never match the
pattern of ``demo.xlsx``, nor the reverse (a glob like ``.~gamma-demo*`` would). Scratch
files are created with ``O_EXCL``, so an existing file is never reused or overwritten.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

PREFIX = ".~gamma-"
EMPTY_LOCK_GRACE = 5.0      # s: an O_EXCL lock may be seen empty while its owner writes it
OTHER_HOST_STALE = 3600.0   # s: another host's pid cannot be checked; trust its lock this long
_ENDINGS = {"part": ".part", "fits": ".fits.tmp", "lock": ".lock.tmp"}  # "tmp": see _ending
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_EDQUOT = getattr(errno, "EDQUOT", -1)


class SaveError(Exception):
    """The workbook could not be written; the message says why in plain words and names it.
    ``path`` is the workbook."""

    def __init__(self, message: str, path: Path | None = None):
        super().__init__(message)
        self.path = path


class Busy(SaveError):
    """Another refresh of the same workbook is running."""


# -- names ------------------------------------------------------------------------------------
def resolve_workbook(path: str | os.PathLike) -> Path:
    """The file a workbook path stands for: absolute, with every symbolic link resolved
    (relative and chained ones too). Raises :class:`SaveError` on a link loop."""
    path = Path(path)
    try:
        return path.resolve()
    except (RuntimeError, OSError) as e:  # RuntimeError: a loop, before Python 3.13
        raise SaveError(f"{path.name}: symbolic link loop or unreadable link ({e})",
                        path) from None


def backup_path(path: Path) -> Path:
    """Where the previous version is kept: ``demo.xlsx`` -> ``demo.bak.xlsx`` (beside
    ``path`` as given; :func:`replace_with_backup` passes the resolved target)."""
    return path.with_name(f"{path.stem}.bak{path.suffix}")


def lock_path(target: Path) -> Path:
    """The lock file of the (resolved) workbook ``target``: ``.~gamma-demo.xlsx.lock``."""
    return target.with_name(f"{PREFIX}{target.name}.lock")


def _ending(target: Path, kind: str) -> str:
    return ".tmp" + target.suffix if kind == "tmp" else _ENDINGS[kind]


def scratch_pattern(target: Path) -> re.Pattern[str]:
    """The exact pattern (use ``fullmatch``) of the scratch files of the workbook ``target``
    — its temporary, ``.part``, fit-store and lock-staging files; see the module doc."""
    endings = "|".join(re.escape(_ending(target, k)) for k in ("tmp", *_ENDINGS))
    return re.compile(re.escape(PREFIX + target.name) + rf"\.[0-9a-f]{{16}}(?:{endings})")


def temp_path(target: str | os.PathLike, kind: str = "tmp") -> Path:
    """Create a new empty scratch file beside the resolved workbook ``target`` (``O_EXCL``,
    mode 0600; 0666 less the umask for ``"fits"`` and ``"lock"``, which other users read) and
    return its path. ``kind``: ``"tmp"`` (a new version of the workbook), ``"part"``,
    ``"fits"`` or ``"lock"``. Raises :class:`SaveError` when the folder refuses it (also
    by its mode bits, as :func:`check_writable`)."""
    target = resolve_workbook(target)
    _check_folder(target)
    mode = 0o666 if kind in ("fits", "lock") else 0o600
    while True:
        p = target.with_name(f"{PREFIX}{target.name}.{secrets.token_hex(8)}"
                             f"{_ending(target, kind)}")
        try:
            os.close(os.open(p, _NEW, mode))
            return p
        except FileExistsError:
            continue  # a collision of 64 random bits: draw again
        except BaseException as e:  # also an interrupt between creating and returning it
            with suppress(OSError):
                p.unlink()
            if isinstance(e, OSError):
                raise _error(e, target) from e
            raise


# -- errors -----------------------------------------------------------------------------------
def _error(e: OSError, target: Path) -> SaveError:
    """``e`` as one plain line naming the workbook."""
    name, folder = target.name, target.parent
    if e.errno == errno.ENOSPC:
        msg = f"no space left on the disk holding {name}: nothing written"
    elif e.errno == _EDQUOT:
        msg = f"no space left on the disk holding {name} (disk quota exceeded): nothing written"
    elif e.errno == errno.EROFS:
        msg = f"cannot write in {folder} (the folder of {name}): read-only file system"
    elif e.errno in (errno.EACCES, errno.EPERM):
        msg = f"cannot write in {folder} (the folder of {name}): permission denied"
    else:
        msg = f"could not write {name}: {e.strerror or e}: nothing written"
    return SaveError(msg, target)


_DISK_ERRORS = {errno.ENOSPC, _EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def check_writable(target: str | os.PathLike) -> None:
    """Raise :class:`SaveError` unless the workbook could be replaced: it exists, it is not
    read-only, and its folder takes new files.

    Read from the mode bits too, since root (and some file servers) ignore them: a file with
    no write bit for anyone is read-only, and a folder without any write bit is refused
    (POSIX only: on Windows a folder's read-only flag means nothing for its files)."""
    target = resolve_workbook(target)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise SaveError(f"{target.name}: no such file: nothing written", target) from None
    except OSError as e:
        raise _error(e, target) from e
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise SaveError(f"{target.name} is read-only: nothing written", target)
    _check_folder(target)


def _check_folder(target: Path) -> None:
    if os.name != "posix":
        return
    try:
        st = os.stat(target.parent)
    except OSError as e:
        raise _error(e, target) from e
    if not st.st_mode & 0o222 or not os.access(target.parent, os.W_OK | os.X_OK):
        raise _error(PermissionError(errno.EACCES, "permission denied"), target)


# -- writing and replacing --------------------------------------------------------------------
@contextmanager
def write_temp(target: str | os.PathLike) -> Iterator[Path]:
    """``with write_temp(target) as tmp:`` write the new version of the workbook into
    ``tmp`` (a fresh :func:`temp_path`), then pass it to :func:`replace_with_backup`.

    If the block raises, ``tmp`` is removed; a full disk, a quota or a permission error is
    raised as :class:`SaveError` (other errors unchanged)."""
    target = resolve_workbook(target)
    tmp = temp_path(target)
    try:
        yield tmp
    except BaseException as e:
        with suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and e.errno in _DISK_ERRORS:
            raise _error(e, target) from e
        raise


def replace_with_backup(new_file: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Keep the workbook as ``NAME.bak.xlsx``, then atomically move ``new_file`` onto it.
    Returns the backup's path.

    ``target`` is resolved (a link stays a link; its target is replaced). The backup is a
    copy, fsynced, then renamed over the old backup, so it is never partial; the new file
    gets the workbook's permission bits (and owner, when allowed) and is fsynced before the
    rename; the folder is fsynced after it (POSIX). ``new_file`` is consumed: moved onto the
    workbook, or removed on any failure. Raises :class:`SaveError` (read-only workbook or
    folder, full disk, ...) with the workbook as it was; the backup is then either the
    previous one or a complete copy of the workbook."""
    target, new_file = resolve_workbook(target), Path(new_file)
    if new_file.resolve() == target:
        raise ValueError(f"{new_file} is the workbook itself")
    bak = backup_path(target)
    part: Path | None = None
    replaced = False
    try:
        check_writable(target)  # rename ignores the file's own mode: check it here
        part = temp_path(target, "part")
        _copy(target, part)
        os.replace(part, bak)
        _keep_owner_and_mode(target, new_file)
        _fsync_file(new_file)
        os.replace(new_file, target)
        replaced = True
    except OSError as e:
        raise _error(e, target) from e
    finally:  # also on KeyboardInterrupt: no scratch file outlives the call
        for p in (part, None if replaced else new_file):
            if p is not None:
                with suppress(OSError):
                    p.unlink()
    _fsync_dir(target.parent)
    return bak


def _copy(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        os.fsync(fout.fileno())
    shutil.copystat(src, dst)


def _keep_owner_and_mode(target: Path, new_file: Path) -> None:
    st = os.stat(target)
    if hasattr(os, "chown"):  # a refresh run as root must not take the user's file over
        with suppress(OSError):
            os.chown(new_file, st.st_uid, st.st_gid)
    shutil.copymode(target, new_file)  # after chown, which may clear set-id bits


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))  # Windows: needs write access
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make the renames durable. Best effort: the workbook is already replaced, and some
    file systems refuse to fsync a folder."""
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- the lock ---------------------------------------------------------------------------------
def _proc_start(pid: int) -> int | None:
    """The process's start time in clock ticks after boot (Linux, ``/proc/PID/stat`` field
    22), or ``None`` where unknown. The process name (field 2) may hold spaces and
    parentheses: count from the last ``)``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        return int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip() or None
    except OSError:
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:  # 0 and negatives would signal process groups
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes
        k32 = ctypes.WinDLL("kernel32", use_last_error=True)
        h = k32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not h:
            return ctypes.get_last_error() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        ok = k32.GetExitCodeProcess(h, ctypes.byref(code))
        k32.CloseHandle(h)
        return not ok or code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except (OSError, OverflowError):
        return False
    return True


def _record() -> str:
    pid = os.getpid()
    return json.dumps({"pid": pid, "start": _proc_start(pid), "boot": _boot_id(),
                       "host": socket.gethostname(), "time": round(time.time(), 3)})


def _parse(data: bytes) -> dict | None:
    """A lock's content, or ``None`` when empty or unreadable. A bare pid (the lock files of
    earlier versions) reads as ``{"pid": pid}``."""
    try:
        rec = json.loads(data.decode())
    except ValueError:  # also UnicodeDecodeError
        return None
    if type(rec) is int:
        rec = {"pid": rec}
    return rec if isinstance(rec, dict) and type(rec.get("pid")) is int else None


def _held(rec: dict | None, age: float) -> bool:
    """Whether a lock with content ``rec``, last written ``age`` seconds ago, is held."""
    if rec is None:  # being written by an O_EXCL owner, or left empty by a crash
        return age < EMPTY_LOCK_GRACE
    host = rec.get("host")
    if host is not None and host != socket.gethostname():
        return age < OTHER_HOST_STALE
    if not _alive(rec["pid"]):
        return False
    boot = _boot_id()
    if rec.get("boot") and boot and rec["boot"] != boot:
        return False  # written before a reboot: that process is gone, the pid is another's
    start = rec.get("start")
    if start is None:  # written where start times are unknown: pid liveness only
        return True
    now = _proc_start(rec["pid"])
    return now is None or now == start  # a different start time: the pid was reused


class RefreshLock:
    """``with RefreshLock(target) as lock:`` — one refresh of a workbook at a time.

    On entry: :func:`check_writable`, then the lock file :func:`lock_path` is created beside
    the resolved workbook (``lock.target``) with its content already in it — written to a
    staging file and hard-linked to the lock's name, which fails if the lock exists; where
    hard links are unsupported, ``O_CREAT | O_EXCL`` then write. An existing lock is held
    while its owner lives (same host: pid alive with the recorded start time and boot id;
    pid liveness alone where start times are unknown; another host: for an hour; empty: for
    :data:`EMPTY_LOCK_GRACE` seconds) and the entry raises :class:`Busy`. A stale lock is
    removed — under ``flock`` of that very file, and only if the lock's name still points to
    it, so two refreshes breaking the same stale lock cannot remove each other's new one —
    and the lock taken. Once the lock is ours, the workbook's scratch files left by a killed
    refresh are deleted (:func:`scratch_pattern`: that workbook's only). On exit the lock is
    removed if it is still ours."""

    def __init__(self, target: str | os.PathLike):
        self.target = resolve_workbook(target)
        self.lock = lock_path(self.target)
        self._id: tuple[int, int] | None = None  # (st_dev, st_ino) of our lock file

    def __enter__(self) -> RefreshLock:
        check_writable(self.target)
        record = _record()
        try:
            for _ in range(10):  # each round takes the lock, raises Busy, or removes a stale one
                if self._create(record):
                    self._sweep()
                    return self
                self._break_if_stale()
        except BaseException:  # e.g. an interrupt once linked: a long-lived process (the
            self.__exit__()    # add-in's) must not keep a lock it no longer uses
            raise
        raise Busy(f"could not lock {self.target.name}: other refreshes keep starting",
                   self.target)

    def __exit__(self, *exc: object) -> None:
        with suppress(OSError):
            st = os.stat(self.lock)
            if (st.st_dev, st.st_ino) == self._id:
                os.unlink(self.lock)
        self._id = None

    def _create(self, record: str) -> bool:
        staging = temp_path(self.target, "lock")
        try:
            with open(staging, "w", encoding="utf-8") as f:
                f.write(record)
            st = os.stat(staging)
            self._id = (st.st_dev, st.st_ino)  # before the link: an interrupt right after it
            try:                                # must still find the lock ours
                os.link(staging, self.lock)  # atomic, and the lock appears complete
            except (FileExistsError, FileNotFoundError):  # held; or staging swept by holder
                self._id = None
                return False
            except OSError:
                self._id = None
                return self._create_exclusive(record)  # no hard links on this file system
            return True
        except FileNotFoundError:  # staging swept by the holder of the lock
            return False
        except OSError as e:
            raise _error(e, self.target) from e
        finally:
            with suppress(OSError):
                staging.unlink()

    def _create_exclusive(self, record: str) -> bool:
        try:
            fd = os.open(self.lock, _NEW, 0o666)
        except FileExistsError:
            return False
        except OSError as e:
            raise _error(e, self.target) from e
        try:
            os.write(fd, record.encode())
            st = os.fstat(fd)
            self._id = (st.st_dev, st.st_ino)
        except BaseException as e:
            os.close(fd)
            with suppress(OSError):
                os.unlink(self.lock)
            if isinstance(e, OSError):
                raise _error(e, self.target) from e
            raise
        os.close(fd)
        return True

    def _break_if_stale(self) -> None:
        """Raise :class:`Busy` if the lock is held; remove it if stale (see the class doc)."""
        try:
            fd = os.open(self.lock, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return  # released meanwhile: try again
        except OSError as e:
            raise Busy(f"another refresh of {self.target.name} may be running (its lock "
                       f"{self.lock.name} cannot be read: {e.strerror})", self.target) from e
        try:
            if fcntl is not None:
                with suppress(OSError):  # e.g. a network file system without locks
                    fcntl.flock(fd, fcntl.LOCK_EX)  # breakers of this file take turns
            st = os.fstat(fd)
            rec = _parse(os.read(fd, 1 << 16))
            if _held(rec, time.time() - st.st_mtime):
                raise Busy(self._busy(rec), self.target)
            if fcntl is None:  # Windows cannot remove an open file (a small race remains)
                os.close(fd)
                fd = -1
            now = os.stat(self.lock)
            if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                os.unlink(self.lock)
        except FileNotFoundError:
            pass
        except PermissionError as e:
            if os.name != "nt":  # e.g. a sticky folder and another user's lock
                raise SaveError(f"cannot remove {self.lock.name}, the stale lock of "
                                f"{self.target.name}: permission denied", self.target) from e
            # Windows: someone has it open; look again
        finally:
            if fd >= 0:
                os.close(fd)

    def _busy(self, rec: dict | None) -> str:
        name = self.target.name
        if rec is None:
            return f"another refresh of {name} is starting (its lock file is being written)"
        host = rec.get("host")
        where = f" on {host}" if host and host != socket.gethostname() else ""
        return f"another refresh of {name} is running (pid {rec['pid']}{where})"

    def _sweep(self) -> None:
        pattern = scratch_pattern(self.target)
        try:
            names = os.listdir(self.target.parent)
        except OSError:
            return
        for n in names:
            if pattern.fullmatch(n):
                with suppress(OSError):
                    os.unlink(self.target.parent / n)
