"""What ``gamma fetch`` downloads, as the user writes it in ``Settings``, and how the engine's
``Downloads`` sheet is laid out (the fetch writes it, the reader reads it back).

A mapping is one ``Settings`` row: key ``Fetch: <column>``, value ``<SOURCE>:<series id>``,
e.g. ``Fetch: CPI`` | ``FRED:CPIAUCSL``. ``<column>`` is the name the rest of the workbook
uses: an instrument ``Code`` (its prices then come from ``Downloads``) or a fundamental's name
(a ``Fair Value Inputs`` entry). See ``docs/fetch.md``.

``Downloads`` holds one table at A1: ``Date`` — the day a value became known (the ALFRED
vintage date, ``realtime_start``), then per mapping ``<column>`` (the latest observation as
known on that date; blank when nothing new became known that day) and ``<column> Period``
(that observation's date); to its right, after a blank column, the ``DownloadSources``
table (:data:`SOURCE_COLUMNS`: ``Column``, ``Source``, …) saying where each came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.inputs.problems import Problems
from engine.inputs.sheets import Grid

DOWNLOADS = "Downloads"
SOURCES = ("FRED",)  # sources this version can fetch (docs/fetch.md: how Bloomberg would fit)
PERIOD = " Period"   # suffix of the column holding each value's observation date
SOURCE_COLUMNS = ["Column", "Source", "Title", "Units", "Frequency", "Seasonal Adjustment",
                  "Dates Known", "First Known", "Last Known", "Last Period", "Fetched (UTC)"]
_KEY = re.compile(r"\s*fetch\s*:\s*(.*)$", re.I | re.S)
_VALUE = re.compile(r"\s*([A-Za-z]+)\s*:\s*(\S.*?)\s*$")  # ids may hold spaces: "SPX Index"


@dataclass(frozen=True)
class Mapping:
    """``Fetch: <name>`` = ``<source>:<series>``; ``where`` is its Settings cell."""

    name: str
    source: str
    series: str
    where: str

    @property
    def spec(self) -> str:
        """As the Sources table records it, e.g. ``FRED:CPIAUCSL``."""
        return f"{self.source}:{self.series}"


def fetch_mappings(settings: Grid, p: Problems) -> list[Mapping]:
    """The ``Fetch:`` rows of the Settings grid (a Key/Value sheet, or headerless two
    columns), in sheet order; malformed ones, unknown sources and duplicate names are
    recorded in ``p`` with their cell."""
    kj, vj = settings.col("Key"), settings.col("Value")
    rows = list(enumerate(settings.rows))
    if kj is None or vj is None:  # headerless: the header row is a key/value row too
        kj, vj = 0, 1
        rows = [(-1, settings.header[:2])] + rows
    out: list[Mapping] = []
    seen: dict[str, str] = {}
    for i, r in rows:
        key = r[kj] if len(r) > kj else None
        m = _KEY.match(str(key)) if key is not None else None
        if m is None:
            continue
        name = " ".join(m.group(1).split())
        where = settings.where(i, kj)
        value = r[vj] if len(r) > vj else None
        v = _VALUE.match(str(value)) if value is not None else None
        if not name:
            p.error(where, '"Fetch:" needs a column name, e.g. "Fetch: CPI" | "FRED:CPIAUCSL"')
        elif v is None:
            p.error(settings.where(i, vj), f'"Fetch: {name}" needs a value SOURCE:SERIES, '
                    f'e.g. FRED:CPIAUCSL (found "{"" if value is None else value}")')
        elif v.group(1).upper() not in SOURCES:
            p.error(settings.where(i, vj), f'source "{v.group(1)}" of "Fetch: {name}" is not '
                    f'one this version fetches ({", ".join(SOURCES)}; see docs/fetch.md)')
        elif name.casefold() in seen:
            p.error(where, f'"Fetch: {name}" is mapped twice (also {seen[name.casefold()]})')
        elif name.endswith(PERIOD) or name.casefold() == "date":
            p.error(where, f'"{name}" cannot be a fetched column name ("Date" and names '
                    f'ending in "{PERIOD.strip()}" are the Downloads sheet\'s own)')
        else:
            seen[name.casefold()] = where
            out.append(Mapping(name, v.group(1).upper(), v.group(2), where))
    return out
