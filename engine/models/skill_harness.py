"""The skill harness: the engine's models run walk-forward on many real series at once
(:func:`engine.models.instrument.analyse`, valuation reversion pooled per asset class across
them) and scored against the rivals on the same months (:mod:`engine.models.skill`), with the
goals of ``docs/methodology.md`` checked. ``bench/bench_skill.py`` prints it; the slow test
``tests/test_skill_goals.py`` asserts the goals.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
import pandas as pd

from engine.models.horizons import HORIZONS
from engine.models.instrument import InstrumentInput, InstrumentResult, analyse
from engine.models.skill import (EQUAL_LIMIT, RIVALS, SKILL_COLUMNS, horizon_skill,
                                 sample_for, skill_table)

__all__ = ["SeriesLike", "InstrumentSkill", "score", "Harness", "harness", "Goal", "goals",
           "FLOOR", "VALUATION_SHARE"]

FLOOR = -0.005           # composite OOS R² against the mean on every series, at least this
VALUATION_SHARE = 2 / 3  # share of instruments with valuation R² > 0 at each of 2, 3, 5 years


class SeriesLike(Protocol):
    """What the harness needs of a series (e.g. :class:`workbooks.skill_series.SkillSeries`)."""

    name: str
    asset_class: str
    quote: str
    prices: pd.Series
    fundamentals: pd.DataFrame


@dataclass
class InstrumentSkill:
    """One instrument's scores: ``one_month`` (:func:`engine.models.skill.skill_table`: the
    composite and every rival on the same months) and ``horizons``
    (:func:`engine.models.skill.horizon_skill` of the valuation horizon forecasts)."""

    one_month: pd.DataFrame
    horizons: pd.DataFrame


def score(result: InstrumentResult) -> InstrumentSkill:
    """The scores of one instrument's :class:`~engine.models.instrument.InstrumentResult`
    (empty tables for a model that refused the data)."""
    hist, q = result.history, result.input.quote
    one = pd.DataFrame(columns=list(SKILL_COLUMNS))
    if hist is not None and result.rivals is not None:
        fc = pd.concat([hist[["forecast"]].rename(columns={"forecast": "Composite"}),
                        result.rivals], axis=1)
        one = skill_table(fc, sample_for(hist["price"], hist["forecast"], q))
    hz = pd.DataFrame()
    if result.paths:
        hz = horizon_skill(result.input.prices,
                           {h: p["forecast"] for h, p in result.paths.items()}, quote=q)
    return InstrumentSkill(one, hz)


@dataclass
class Harness:
    """The harness's results over many series: ``one_month`` (one row per series and model:
    ``Series``, ``Asset Class`` + :data:`~engine.models.skill.SKILL_COLUMNS`), ``horizons`` (one
    row per series and horizon: ``Series``, ``Asset Class``, ``horizon``, ``n_forecasts``,
    ``n_independent``, ``oos_r2``) and ``seconds`` (wall time of the run)."""

    one_month: pd.DataFrame
    horizons: pd.DataFrame
    seconds: float

    def r2(self) -> pd.DataFrame:
        """OOS R² against the prevailing mean, series × model (decimals), the best of each
        series' single-fundamental rivals as ``Best fundamental``."""
        t = self.one_month.pivot(index="Series", columns="Model", values="OOS R²")
        fixed = ["Composite", *RIVALS]
        fund = [c for c in t.columns if c not in fixed]
        out = t[[c for c in fixed if c in t.columns]].copy()
        out["Best fundamental"] = t[fund].max(axis=1) if fund else np.nan
        return out.drop(columns="Historical mean", errors="ignore")


def harness(series: Iterable[SeriesLike], *, horizons: tuple[int, ...] = HORIZONS,
            workers: int = 1) -> Harness:
    """Every model on every series in one run (:func:`~engine.models.instrument.analyse`:
    the valuation reversion pooled per asset class across the series, by calendar date) and
    their scores against the rivals."""
    t0 = time.perf_counter()
    series = list(series)
    inputs = [InstrumentInput(s.name, s.prices, s.quote, s.asset_class, s.fundamentals)
              for s in series]
    results = analyse(inputs, horizons=horizons, workers=workers)
    one, hz = [], []
    for s in series:
        res = score(results[s.name])
        tag = {"Series": s.name, "Asset Class": s.asset_class}
        if len(res.one_month):
            one.append(res.one_month.assign(**tag))
        if len(res.horizons):
            hz.append(res.horizons.assign(**tag))
    lead = ["Series", "Asset Class"]
    one_df = pd.concat(one, ignore_index=True) if one else pd.DataFrame(
        columns=[*lead, *SKILL_COLUMNS])
    hz_df = pd.concat(hz, ignore_index=True) if hz else pd.DataFrame(
        columns=[*lead, "horizon", "n_forecasts", "n_independent", "oos_r2"])
    return Harness(one_df[[*lead, *[c for c in one_df.columns if c not in lead]]],
                   hz_df[[*lead, *[c for c in hz_df.columns if c not in lead]]],
                   time.perf_counter() - t0)


class Goal(NamedTuple):
    """One goal as measured: ``measured`` and ``target`` in the goal's unit (R² and shares
    as decimals), ``met`` whether it holds."""

    goal: str
    measured: float
    target: float
    met: bool


def goals(h: Harness, *, dividend_series: tuple[str, ...] = ("US_CRSP",),
          valuation_horizons: tuple[int, ...] = (24, 36, 60)) -> list[Goal]:
    """The goals of the composite and valuation forecasts (``docs/methodology.md``), checked
    on a :class:`Harness` run: composite OOS R² against the mean at least :data:`FLOOR` on
    every series and positive on at least half; its median at least the best single rival's
    median; on each series of ``dividend_series`` (a stock series with dividends) at least the
    one-line regression on its dividend yield; valuation R² > 0 on at least
    :data:`VALUATION_SHARE` of the instruments at each of ``valuation_horizons``; no forecast
    equal to a rival in more than ``EQUAL_LIMIT`` of the months."""
    r2 = h.r2()
    c = r2["Composite"].dropna()
    out = [Goal("composite R² ≥ −0.5 % on every series (worst)", float(c.min()), FLOOR,
                bool(c.min() >= FLOOR)),
           Goal("composite R² > 0 on at least half the series (share)",
                float((c > 0).mean()), 0.5, bool((c > 0).mean() >= 0.5))]
    rivals = r2.drop(columns="Composite").median()
    best = rivals.idxmax()
    out.append(Goal(f"composite median R² ≥ the best rival's median ({best})",
                    float(c.median()), float(rivals[best]), bool(c.median() >= rivals[best])))
    one = h.one_month.set_index(["Series", "Model"])
    for name in dividend_series:
        if (name, "Composite") not in one.index:
            continue
        dp = [m for s, m in one.index if s == name and any(
            w in str(m).upper() for w in ("DIV", "D/P"))]
        if dp:
            got, ref = one.loc[(name, "Composite"), "OOS R²"], one.loc[(name, dp[0]), "OOS R²"]
            out.append(Goal(f"{name}: composite R² ≥ the one-line {dp[0]} regression's",
                            float(got), float(ref), bool(got >= ref)))
    for hz in valuation_horizons:
        v = h.horizons[h.horizons["horizon"] == hz]["oos_r2"].dropna() if len(h.horizons) \
            else pd.Series(dtype=float)
        if len(v):
            share = float((v > 0).mean())
            out.append(Goal(f"valuation R² > 0 at {hz} months (share of instruments)",
                            share, VALUATION_SHARE, share >= VALUATION_SHARE))
    comp = h.one_month[h.one_month["Model"] == "Composite"]
    worst = float(comp["Equal Share"].max())
    out.append(Goal("composite equal to a rival (worst share of months)", worst, EQUAL_LIMIT,
                    worst <= EQUAL_LIMIT))
    return out
