"""FRED and ALFRED (St. Louis Fed) over their REST API, with the standard library only.

:class:`Fred` asks ``fred/series/observations`` for **every vintage** of a series
(``realtime_start=1776-07-04``, ``realtime_end=9999-12-31``, ``output_type=1``: one row per
observation and real-time period, ALFRED's revision history) and ``fred/series`` for its
title, units and frequency, in JSON. Why not ``fredapi`` or ``pandas-datareader``: the
latter's FRED reader downloads the current vintage only (no real-time periods); the former is
one URL and an XML parse around ``urllib`` too — calling the documented API directly costs
no dependency and keeps the one place the network is touched small, testable (the tests
serve recorded FRED JSON on 127.0.0.1) and free of a third party's error handling.

Errors: :class:`FredError` (a typed ``ValueError``: the series, what failed, FRED's own
message), never an ``urllib`` traceback; the API key never appears in a message.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable

import pandas as pd

from engine.sources.vintages import latest_known

API = "https://api.stlouisfed.org/fred"
KEY_ENV = "FRED_API_KEY"      # where the API key is looked for first
URL_ENV = "GAMMA_FRED_URL"    # another API root (a mirror; the tests' recordings)
ALL_TIME = {"realtime_start": "1776-07-04", "realtime_end": "9999-12-31"}  # FRED's bounds
PAGE = 100_000                # FRED's largest page of observations
RETRY_STATUS = (429, 500, 502, 503, 504)

# (url) -> (HTTP status, body); the default opens the URL with urllib
Transport = Callable[[str], tuple[int, bytes]]


class FredError(ValueError):
    """A series could not be fetched: ``series`` (id), ``what`` failed, FRED's ``message``."""

    def __init__(self, series: str, what: str, message: str):
        self.series, self.what, self.message = series, what, message
        super().__init__(f"FRED:{series}: {what}: {message}")


def urllib_transport(url: str, timeout: float = 60.0) -> tuple[int, bytes]:
    """GET ``url``; (status, body) for any HTTP answer, ``OSError`` when none came."""
    req = urllib.request.Request(url, headers={"User-Agent": "gamma-desk"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:  # FRED explains a 400 in a JSON body
        return e.code, e.read()


class Fred:
    """A FRED/ALFRED client: ``api_key`` (32 characters, from fredaccount.stlouisfed.org),
    ``root`` the API root (default :data:`API`, or ``$GAMMA_FRED_URL``), ``transport`` the
    HTTP GET (injected by tests), ``retries`` for rate limits and server errors."""

    def __init__(self, api_key: str, root: str | None = None,
                 transport: Transport = urllib_transport, retries: int = 2,
                 page: int = PAGE):
        self.api_key = api_key
        self.root = (root or os.environ.get(URL_ENV) or API).rstrip("/")
        self.transport = transport
        self.retries = retries
        self.page = page

    def _get(self, series: str, endpoint: str, params: dict) -> dict:
        query = urllib.parse.urlencode({**params, "series_id": series,
                                        "api_key": self.api_key, "file_type": "json"})
        url = f"{self.root}/{endpoint}?{query}"
        for attempt in range(self.retries + 1):
            try:
                status, body = self.transport(url)
            except (OSError, http.client.HTTPException) as e:  # DNS, refused, timeout, TLS, cut
                if attempt == self.retries:
                    raise FredError(series, f"no answer from {self.root}",
                                    str(getattr(e, "reason", e))) from None
            else:
                if status not in RETRY_STATUS or attempt == self.retries:
                    break
            time.sleep(2 ** attempt)  # FRED allows 120 requests a minute
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise FredError(series, f"{endpoint}: HTTP {status}", "the answer is not "
                            "JSON") from None
        if status != 200 or not isinstance(doc, dict) or "error_message" in doc:
            msg = doc.get("error_message", "no message") if isinstance(doc, dict) else doc
            raise FredError(series, f"{endpoint}: HTTP {status}", str(msg))
        return doc

    def info(self, series: str) -> dict:
        """The series' FRED metadata: ``title``, ``units``, ``frequency``,
        ``seasonal_adjustment``, … (``fred/series``)."""
        doc = self._get(series, "series", {})
        found = doc.get("seriess") or []
        if not found:
            raise FredError(series, "series", "FRED returned no such series")
        return found[0]

    def vintages(self, series: str) -> list[tuple[str, float, str, str]]:
        """Every vintage row ``(date, value, realtime_start, realtime_end)`` of the series,
        dates as ISO text, values in the series' units (NaN where FRED has ``"."``), paged
        through FRED's limit."""
        rows: list[tuple[str, float, str, str]] = []
        offset = 0
        while True:
            doc = self._get(series, "series/observations", {
                **ALL_TIME, "output_type": 1, "limit": self.page, "offset": offset})
            obs = doc.get("observations")
            if not isinstance(obs, list):
                raise FredError(series, "series/observations", "no observations in the answer")
            for o in obs:
                try:
                    v = float("nan") if o["value"] == "." else float(o["value"])
                    rows.append((o["date"], v, o["realtime_start"], o["realtime_end"]))
                except (KeyError, TypeError, ValueError):
                    raise FredError(series, "series/observations",
                                    f"an observation FRED sent is malformed: {o!r}") from None
            offset += len(obs)
            if not obs or offset >= int(doc.get("count", 0)):
                return rows

    def known(self, series: str) -> pd.DataFrame:
        """The series as known on each vintage date (:func:`latest_known`)."""
        return latest_known(self.vintages(series))
