"""The ``Downloads`` sheet ``gamma fetch`` writes (never a refresh builder: a refresh leaves
the sheet as the last fetch wrote it, and reads it back through :mod:`engine.inputs.reader`).

Layout (:mod:`engine.inputs.downloads`): the ``Downloads`` table at A1 — ``Date``, the day a
value became known (its ALFRED vintage date), then per mapping ``<column>`` (the latest
observation known on that date, in the series' units) and ``<column> Period`` (that
observation's date), blank where that series had nothing new that day (a value stays known
until a later one replaces it; a blank never hides a stale series) — and the
``DownloadSources`` table to its right.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from engine.inputs.downloads import DOWNLOADS, PERIOD, SOURCE_COLUMNS, Mapping
from engine.tables.base import DATE, INT, SheetContent, Table


@dataclass
class Fetched:
    """One mapping's download: ``known`` as :func:`engine.sources.vintages.latest_known`
    returns it (index: vintage date; ``value``, ``period``), ``info`` the source's metadata
    (FRED's ``title``, ``units``, ``frequency``, ``seasonal_adjustment``)."""

    mapping: Mapping
    known: pd.DataFrame
    info: dict


def downloads_content(fetched: list[Fetched], when: dt.datetime) -> SheetContent:
    """The ``Downloads`` sheet for ``fetched`` (in mapping order; each with at least one row),
    fetched at ``when`` (naive, UTC)."""
    cols: dict[str, pd.Series] = {}
    for f in fetched:
        cols[f.mapping.name] = f.known["value"]
        cols[f.mapping.name + PERIOD] = f.known["period"]
    wide = pd.DataFrame(cols).sort_index()
    wide.index.name = "Date"
    data = wide.reset_index()
    fmts = {"Date": DATE, **{f.mapping.name + PERIOD: DATE for f in fetched}}
    rows = [[f.mapping.name, f.mapping.spec, f.info.get("title"), f.info.get("units"),
             f.info.get("frequency"), f.info.get("seasonal_adjustment"), len(f.known),
             f.known.index.min(), f.known.index.max(), f.known["period"].max(),
             f"{when:%Y-%m-%d %H:%M:%S}"] for f in fetched]  # text: a date format would cut
    # the time of day, a date-time one outgrows the column widths laid out for dates
    sources = pd.DataFrame(rows, columns=SOURCE_COLUMNS)
    return SheetContent(DOWNLOADS, tables=[Table(DOWNLOADS, data, formats=fmts)],
                        data_tables=[Table("DownloadSources", sources, formats={
                            "Dates Known": INT, "First Known": DATE, "Last Known": DATE,
                            "Last Period": DATE})])
