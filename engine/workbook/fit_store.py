"""Markov-switching estimations kept beside the workbook, so a monthly refresh refits only
what new data requires.

The store maps a content key (a hash of the exact data and settings an estimation used,
see :func:`engine.models.regimes.fit_key`) to the fitted parameters, and the key of each
completed twelve-month block of filtered probabilities to those probabilities. A key always means the
same data, so a stored fit can never be applied to other data, and deleting the file only
costs time: ``.NAME.gamma-fits.json`` next to ``NAME.xlsx``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def store_path(workbook: Path) -> Path:
    return workbook.with_name(f".{workbook.stem}.gamma-fits.json")


def load_store(workbook: Path) -> dict:
    """The stored fits, or an empty store when the file is missing or unreadable."""
    p = store_path(workbook)
    try:
        data = json.loads(p.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_store(workbook: Path, store: dict) -> None:
    """Write the store atomically (a partial file is never left behind)."""
    p = store_path(workbook)
    tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(store, separators=(",", ":")))
    os.replace(tmp, p)
