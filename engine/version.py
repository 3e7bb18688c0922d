"""The version that names the code a figure came from (``gamma --version``, the ``History``
sheet's ``Model Version``).

``model_version(settings)`` is ``"gamma-desk 0.1.0 code 1a2b3c4d5e6f settings 9f8e7d6c5b4a"``:

* the package version (:data:`engine.__version__`, also the wheel's version: pyproject reads it
  from there);
* ``code``: the first 12 hex digits of a SHA-256 over the source of every module that computes
  a figure — :data:`MODEL_SOURCES` (``engine/models``, ``engine/inputs``,
  ``engine/calendars.py``, ``engine/domain.py``) — each file's path relative to ``engine/``
  and its text with line endings made ``\\n``, in path order. Computed from the files at run
  time, so it is the same from a clean clone, an editable install and an installed wheel (all
  ship the ``.py`` sources), and a Windows checkout with CRLF line endings names the same
  code. A git commit would not survive the wheel, and two commits that change only docs or
  tests would name different models;
* ``settings``: the first 12 hex digits of a SHA-256 over the ``Settings`` sheet's keys and
  values (keys case- and space-normalized, sorted; ``As Of`` left out: it has its own column).

Two History rows with the same ``Model Version`` were computed by the same model code with the
same settings; the instrument's own row on ``Instruments`` (band, calendar, …) is not in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from functools import lru_cache
from pathlib import Path

__all__ = ["MODEL_SOURCES", "code_hash", "settings_hash", "model_version", "version_text"]

_ENGINE = Path(__file__).resolve().parent
MODEL_SOURCES = ("models/*.py", "inputs/*.py", "calendars.py", "domain.py")
_DIGITS = 12  # 48 bits: enough to tell versions apart in one firm's history


def _version() -> str:
    from engine import __version__

    return __version__


@lru_cache(maxsize=1)
def code_hash() -> str:
    """Hash of the model sources (module docstring), 12 hex digits."""
    h = hashlib.sha256()
    files = sorted({p for pattern in MODEL_SOURCES for p in _ENGINE.glob(pattern)})
    for p in files:
        h.update(p.relative_to(_ENGINE).as_posix().encode() + b"\0")
        h.update(p.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return h.hexdigest()[:_DIGITS]


def _canonical(value: object) -> str:
    """A settings value as text that does not depend on how the cell was read (an integer
    typed as 2 and read as 2.0 is the same setting)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return " ".join(str(value).split())


def settings_hash(settings: dict | None) -> str:
    """Hash of the ``Settings`` key/value pairs but ``As Of`` (module docstring)."""
    items = sorted((" ".join(str(k).split()).casefold(), _canonical(v))
                   for k, v in (settings or {}).items())
    h = hashlib.sha256()
    for k, v in items:
        if k != "as of":
            h.update(f"{k}\0{v}\0".encode())
    return h.hexdigest()[:_DIGITS]


def model_version(settings: dict | None = None) -> str:
    """``"gamma-desk VERSION code HASH"``, plus ``" settings HASH"`` when ``settings`` (the
    ``Settings`` sheet as read) is given — the ``History`` sheet's ``Model Version``."""
    text = f"gamma-desk {_version()} code {code_hash()}"
    return text if settings is None else f"{text} settings {settings_hash(settings)}"


def version_text() -> str:
    """What ``gamma --version`` prints: the model version, then the versions of the libraries
    the figures depend on (so a bug report says what computed them)."""
    from importlib import metadata

    libs = []
    for dist in ("numpy", "pandas", "statsmodels", "exchange_calendars", "openpyxl", "xlwings"):
        try:
            libs.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            libs.append(f"{dist} (not installed)")
    import platform

    return (f"{model_version()}\n"
            f"Python {platform.python_version()}; " + ", ".join(libs))
