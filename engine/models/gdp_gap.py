"""The real-GDP "deferred demand" gap model (seed ``000_…``: the Actual Real GDP / Real GDP
Target / Foregone GDP Gap table).

Units: ``Growth``, ``Non Annualized`` and ``Trend Growth`` are in **percent** as published
(5.9 = +5.9 %), like the ``Macro`` sheet; indices are levels with the base period = 100;
``Gap`` is in index points (actual − target; negative = output below trend, "foregone").

Method:

* Periods are a chronological, gap-free sequence of years (``"2019"``) and quarters
  (``"2023Q1"``), e.g. annual figures followed by quarters as in the newsletter.
* Quarterly growth is published annualized and is de-annualized: ``compound``
  ``(1+g)^(1/4) − 1`` or ``simple`` ``g/4`` (the newsletter's printed figures use simple).
  Annual growth is used as is (``Non Annualized`` left blank, as printed).
* GDP index: 100 at the base period; ``I_t = I_{t-1} × (1 + g_t)`` after it and
  ``I_{t-1} = I_t / (1 + g_t)`` before it.
* Trend ("target") growth per period compounds the annual trend rate at the period's own
  frequency: a year grows by ``trend``, a quarter by ``(1+trend)^(1/4) − 1`` (always compound);
  the target index is 100 at the base period and compounds those rates.
* Gap = GDP index − target index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from engine.domain import parse_period

__all__ = ["GDP_GAP_COLUMNS", "MAX_GROWTH_PCT", "contiguous_run", "gdp_gap", "parse_period"]

# percent a year (annual, or quarterly annualized): no economy has grown tenfold in a year, so
# a larger figure is a typing or unit error (the fastest on record are near +150 %)
MAX_GROWTH_PCT = 1000.0

GDP_GAP_COLUMNS = ("Period", "Growth", "Non Annualized", "GDP Index", "Trend Growth",
                   "Target Index", "Gap")


def _label(p: tuple[int, int]) -> str:
    return f"{p[0]}" if p[1] == 0 else f"{p[0]}Q{p[1]}"


def _follows(prev: tuple[int, int], cur: tuple[int, int]) -> bool:
    (py, pq), (cy, cq) = prev, cur
    if pq == 0:  # after a year: the next year, or the next year's first quarter
        return cy == py + 1 and cq in (0, 1)
    if cq == 0:  # a year after a quarter: only after Q4
        return pq == 4 and cy == py + 1
    return (cy, cq) == ((py, pq + 1) if pq < 4 else (py + 1, 1))


def contiguous_run(periods: Sequence[Any], base_period: Any) -> tuple[int, int]:
    """``(start, stop)`` slice of the run of periods that follow each other without gaps and
    contains ``base_period`` (e.g. a Macro sheet holding 1959Q2 … 2009Q3 and then 2019 …
    2023Q3: with base 2019 the second run). ValueError if the base period is absent."""
    ps = [parse_period(p, "periods") for p in periods]
    base = parse_period(base_period, "base_period")
    if base not in ps:
        raise ValueError(f"base_period: {_label(base)} is not among the periods")
    k = ps.index(base)
    start, stop = k, k + 1
    while start > 0 and _follows(ps[start - 1], ps[start]):
        start -= 1
    while stop < len(ps) and _follows(ps[stop - 1], ps[stop]):
        stop += 1
    return start, stop


def gdp_gap(periods: Sequence[Any], growth: Sequence[Any], trend_growth: float,
            base_period: Any, deannualize: Literal["compound", "simple"] = "compound",
            ) -> pd.DataFrame:
    """The GDP gap table: columns :data:`GDP_GAP_COLUMNS`, one row per period.

    ``periods``: years and quarters in order without gaps; ``growth``: real GDP growth in
    percent as published (annual; quarterly annualized); a blank (None/NaN) is allowed only
    for the base period, whose own growth is not used; ``trend_growth``: the trend rate in percent per year (e.g. 2.24);
    ``base_period``: the period whose index is 100; ``deannualize``: ``"compound"`` or
    ``"simple"`` for quarterly growth. Raises ValueError naming the argument on bad input:
    growth or trend growth at or below −100 % (−400 % for quarters de-annualized simply) or
    above :data:`MAX_GROWTH_PCT`, or an index that overflows."""
    if deannualize not in ("compound", "simple"):
        raise ValueError(f"deannualize: must be 'compound' or 'simple', got {deannualize!r}")
    periods, growth = list(periods), list(growth)
    if len(periods) != len(growth):
        raise ValueError(f"growth: must have one value per period, got {len(growth)} values "
                         f"for {len(periods)} periods")
    if not periods:
        raise ValueError("periods: need at least one period, got none")
    try:
        trend = float(trend_growth)
    except (TypeError, ValueError):
        raise ValueError(f"trend_growth: expected a percent per year like 2.24, got "
                         f"{trend_growth!r}") from None
    if not math.isfinite(trend) or not -100 < trend <= MAX_GROWTH_PCT:
        raise ValueError(f"trend_growth: expected a percent per year above -100 and at most "
                         f"{MAX_GROWTH_PCT:g}, got {trend}")
    ps = [parse_period(p, "periods") for p in periods]
    for a, b in zip(ps, ps[1:]):
        if not _follows(a, b):
            raise ValueError(f"periods: must follow each other without gaps, got "
                             f"{_label(a)} then {_label(b)}")
    base = parse_period(base_period, "base_period")
    if base not in ps:
        raise ValueError(f"base_period: {_label(base)} is not among the periods "
                         f"({_label(ps[0])} … {_label(ps[-1])})")
    k = ps.index(base)
    g: list[float] = []
    for i, (p, v) in enumerate(zip(ps, growth)):
        x = math.nan
        if v is not None and not (isinstance(v, str) and not v.strip()):
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"growth: expected a percent for {_label(p)}, got {v!r}") \
                    from None
        if math.isnan(x) and i != k:
            raise ValueError(f"growth: blank for {_label(p)}; only the base period may be blank")
        floor = -400 if p[1] and deannualize == "simple" else -100  # (1+g)^(1/4) needs g > -100
        if not math.isnan(x) and (x <= floor or x > MAX_GROWTH_PCT or math.isinf(x)):
            raise ValueError(f"growth: {x} % for {_label(p)} is not a possible growth rate "
                             f"(above {floor:g} and at most {MAX_GROWTH_PCT:g} % a year)")
        g.append(x)

    def period_rate(p, annual_pct):  # decimal growth over one period
        a = annual_pct / 100.0
        if p[1] == 0:
            return a
        return (1 + a) ** 0.25 - 1 if deannualize == "compound" else a / 4

    step = [period_rate(p, x) if not math.isnan(x) else math.nan for p, x in zip(ps, g)]
    trend_step = [trend / 100.0 if p[1] == 0 else (1 + trend / 100.0) ** 0.25 - 1 for p in ps]
    idx = [math.nan] * len(ps)
    tgt = [math.nan] * len(ps)
    idx[k] = tgt[k] = 100.0
    for i in range(k + 1, len(ps)):
        idx[i] = idx[i - 1] * (1 + step[i])
        tgt[i] = tgt[i - 1] * (1 + trend_step[i])
    for i in range(k - 1, -1, -1):
        idx[i] = idx[i + 1] / (1 + step[i + 1])
        tgt[i] = tgt[i + 1] / (1 + trend_step[i + 1])
    for i, p in enumerate(ps):
        if not (math.isfinite(idx[i]) and math.isfinite(tgt[i])):
            raise ValueError(f"growth: the GDP index overflows at {_label(p)} (beyond the "
                             "largest number Excel holds); is growth in percent (5.9 = 5.9 %)?")
    rows = []
    for i, p in enumerate(ps):
        rows.append({"Period": _label(p), "Growth": g[i],
                     "Non Annualized": step[i] * 100 if p[1] else math.nan,
                     "GDP Index": idx[i],
                     "Trend Growth": trend_step[i] * 100 if i != k else math.nan,
                     "Target Index": tgt[i], "Gap": idx[i] - tgt[i]})
    return pd.DataFrame(rows, columns=list(GDP_GAP_COLUMNS))
