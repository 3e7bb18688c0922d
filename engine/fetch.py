"""``gamma fetch WORKBOOK``: download the series the ``Settings`` map (``Fetch: <column>`` |
``FRED:<series id>``) with their vintages, and write them to the engine's ``Downloads`` sheet.

Only ``Downloads`` is written — through the same splice, guard and atomic replace as a
refresh (:func:`engine.refresh.splice_in`), so the user's sheets and every other part stay
byte for byte. Everything is downloaded before anything is written: a failure (no API key, a
malformed mapping, a series FRED does not know, no network) raises
:class:`~engine.refresh.Refused` and leaves the file byte-identical. See ``docs/fetch.md``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.inputs.settings import FRED_API_KEY, read_settings
from engine.inputs.downloads import Mapping, fetch_mappings
from engine.inputs.problems import Problems
from engine.inputs.reader import _settings  # the one reading of Settings' key/value rows
from engine.inputs.sheets import read_grids
from engine.refresh import Progress, Refused, _open, locked, splice_in
from engine.sources.fred import KEY_ENV, Fred, FredError
from engine.tables.downloads import Fetched, downloads_content

KEY_SETTING = FRED_API_KEY


@dataclass
class FetchResult:
    path: Path
    backup: Path | None
    fetched: list[Fetched]
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # the splice's (a typed cell replaced…)


def api_key(settings: dict, env=os.environ) -> str:
    """The FRED API key: ``$FRED_API_KEY``, else the ``Settings`` row ``FRED API Key``;
    :class:`Refused` naming both when neither is set."""
    key = (env.get(KEY_ENV) or "").strip() or (read_settings(settings).fred_api_key or "")
    if not key:
        raise Refused(f"no FRED API key: set the environment variable {KEY_ENV}, or add the "
                      f'Settings row "{KEY_SETTING}" | <key> (a free key: '
                      "https://fredaccount.stlouisfed.org/apikey); nothing written")
    return key


def fetch(path: str | Path, progress: Progress = lambda m: None,
          client: Callable[[str], Fred] = Fred, env=os.environ) -> FetchResult:
    """Fill the ``Downloads`` sheet of the workbook at ``path`` (see the module doc).
    ``client(api_key)`` makes the FRED client (default :class:`~engine.sources.fred.Fred`:
    ``$GAMMA_FRED_URL`` or FRED's own API root); ``env`` is where ``FRED_API_KEY`` is looked
    up. Raises :class:`~engine.refresh.Refused` (nothing written) on any failure."""
    return locked(path, lambda p, target: _fetch(p, target, progress, client, env))


def _fetch(path: Path, target: Path, progress: Progress, client, env) -> FetchResult:
    sec: dict[str, float] = {}
    pkg, book = _open(target)
    with pkg:
        grids, _ = read_grids(book, ("Settings",))
        if "Settings" not in grids:
            raise Refused('no "Settings" sheet: the Fetch rows go there; nothing written')
        p = Problems()
        maps = fetch_mappings(grids["Settings"], p)
        if p.errors:
            raise Refused("invalid Fetch rows in Settings: nothing written",
                          [str(e) for e in p.errors])
        if not maps:
            raise Refused('nothing to fetch: add Settings rows "Fetch: <column>" | '
                          '"FRED:<series id>" (e.g. "Fetch: CPI" | "FRED:CPIAUCSL"); nothing '
                          "written")
        fred = client(api_key(_settings(grids["Settings"], p)[0], env))
        fetched = [_one(fred, m, progress) for m in maps]
        when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        splice, bak = splice_in(pkg, book, target, [downloads_content(fetched, when)],
                                progress, sec, what="fetch")
    return FetchResult(path=path, backup=bak, fetched=fetched, seconds=sec,
                       warnings=splice.warnings)


def _one(fred: Fred, m: Mapping, progress: Progress) -> Fetched:
    progress(f"fetching {m.name} = {m.spec} (every vintage)")
    try:
        known = fred.known(m.series)
        if known.empty:
            raise FredError(m.series, "series/observations", "no observations")
        return Fetched(m, known, fred.info(m.series))
    except FredError as e:
        raise Refused(f"could not fetch {m.name} ({m.where}): nothing written",
                      [str(e)]) from None
