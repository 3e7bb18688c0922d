"""Real-time (point-in-time) values from a series' vintages: what was known on each date.

A vintage row says: the observation for ``date`` had ``value`` from ``realtime_start`` to
``realtime_end`` (both inclusive), as ALFRED's ``output_type=1`` serves it. From those rows
:func:`latest_known` keeps, for each day a vintage started, the **latest observation in the
vintage then in force** and its value — the real-time diagonal. A figure for date t that reads
it (``asof`` on the row dates) uses only what was published on or before t; a revision
counts from its own vintage date, never earlier.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable

import pandas as pd

VINTAGE_COLUMNS = ["date", "value", "realtime_start", "realtime_end"]


def latest_known(rows: Iterable[tuple[str, float, str, str]]) -> pd.DataFrame:
    """The latest observation known on each vintage date.

    ``rows``: ``(date, value, realtime_start, realtime_end)``, dates as ISO text
    (``"9999-12-31"`` = still in force); a NaN value (ALFRED's ``"."``) is no observation.
    Returns a frame indexed by the vintage date (``Known From``, a Timestamp) with columns
    ``value`` (in the series' units) and ``period`` (the observation date, a Timestamp), one
    row per vintage date on which the latest observation or its value changed; a value stays
    known until a later vintage replaces it. Rows are ordered by vintage date."""
    live = [(rs, re_, d, v) for d, v, rs, re_ in rows if v == v]  # NaN != NaN
    live.sort(key=lambda r: r[0])
    heap: list[tuple[int, str, str, float]] = []  # (-observation ordinal, end, date, value)
    out: list[tuple[str, float, str]] = []
    last = None
    k = 0
    for start in sorted({r[0] for r in live}):
        while k < len(live) and live[k][0] <= start:
            rs, re_, d, v = live[k]
            heapq.heappush(heap, (-dt.date.fromisoformat(d).toordinal(), re_, d, v))
            k += 1
        while heap and heap[0][1] < start:  # out of force: a later vintage replaced it
            heapq.heappop(heap)
        if heap:
            _, _, d, v = heap[0]
            if (d, v) != last:
                out.append((start, v, d))
                last = (d, v)
    idx = pd.DatetimeIndex([r[0] for r in out], name="Known From")
    return pd.DataFrame({"value": [r[1] for r in out],
                         "period": pd.to_datetime([r[2] for r in out])}, index=idx)
