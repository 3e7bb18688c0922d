"""Markov-switching estimations kept beside the workbook, so a monthly refresh refits only
what new data requires.

The store maps a content key (a hash of the exact data and settings an estimation used,
see :func:`engine.models.regimes.fit_key`) to the fitted parameters, and the key of each
completed twelve-month block of filtered probabilities to those probabilities. A key always means the
same data, so a stored fit can never be applied to other data, and deleting the file only
costs time: ``.NAME.gamma-fits.json`` next to ``NAME.xlsx`` (next to the target of a
symlinked workbook). It is written through a scratch file named as the workbook's others
(:mod:`engine.workbook.save`), so the file a killed write leaves is swept by the next refresh.
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from pathlib import Path

from engine.workbook.save import SaveError, resolve_workbook, temp_path


def store_path(workbook: Path) -> Path:
    workbook = resolve_workbook(workbook)
    return workbook.with_name(f".{workbook.stem}.gamma-fits.json")


def load_store(workbook: Path) -> dict:
    """The stored fits, or an empty store when the file is missing or unreadable."""
    try:
        data = json.loads(store_path(workbook).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError, SaveError):
        return {}


def save_store(workbook: Path, store: dict) -> bool:
    """Write the store atomically (never partial); ``False`` when it could not be written
    (full disk, read-only folder, ...): the store is only a speed-up, so that is no error.
    The scratch file is ``.~gamma-NAME.xlsx.<16 hex>.fits.tmp`` beside the workbook, removed
    on failure, and swept by the next refresh if the process is killed meanwhile."""
    try:
        p = store_path(workbook)
        tmp = temp_path(workbook, kind="fits")
    except SaveError:
        return False
    try:
        tmp.write_text(json.dumps(store, separators=(",", ":")))
        os.replace(tmp, p)
        return True
    except OSError:
        return False
    finally:
        with suppress(OSError):
            tmp.unlink()
