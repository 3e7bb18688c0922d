"""Every model of one instrument, computed once: the result the table builders, the reports,
the Excel functions and the skill harness read (``docs/architecture.md``).

:func:`analyse` takes the instruments of a workbook (or any set of series) and returns one
:class:`InstrumentResult` per code:

1. the walk-forward valuation (:func:`engine.models.valuation.valuation_history`);
2. the reversion of the valuation deviation, pooled per asset class across the instruments
   given (:func:`engine.models.reversion.reversion_by_class`), and the valuation horizon
   forecasts from it (:func:`engine.models.horizons.horizon_paths`);
3. the Markov regimes of all instruments estimated together
   (:func:`engine.models.regimes.regime_probabilities_many`);
4. the composite one-month forecast (:func:`engine.models.composite.composite_forecast`),
   its rivals (:func:`engine.models.skill.rival_forecasts`) and its track record
   (:func:`engine.models.track_record.track_record`).

Steps 1, 3 and 4 are independent across instruments: with ``workers > 1`` they run in that many
processes (joblib's loky backend, which also works on Windows), each on a share of the
instruments; step 2 needs the whole asset class and runs in the calling process. The figures
do not depend on ``workers``. A model that refuses an instrument's data (too short a history,
a bad value) leaves its exception in the result (``valuation_error``, ``forecast_error``) for the
caller to report; the other instruments are unaffected. So does a forecast that is impossible
anywhere in the walk-forward history (:mod:`engine.models.forecast_bounds`: a price change of
−100 % or less, a yield change that takes the yield outside the accepted range):
:class:`~engine.models.forecast_bounds.ImpossibleForecast`, and that figure is never returned.

Units are those of the models: prices as levels, yields in percentage points; forecasts of
prices as decimal returns, of yields as changes in percentage points.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.domain import MIN_HISTORY, AssetClass, Quote, check_asset_class, check_quote
from engine.models.composite import CompositeForecast, composite_forecast
from engine.models.forecast_bounds import check_forecasts
from engine.models.horizons import HORIZONS, forecasts_from_paths, horizon_paths
from engine.models.regimes import regime_probabilities_many
from engine.models.reversion import reversion_by_class
from engine.models.signals import default_band
from engine.models.skill import rival_forecasts
from engine.models.track_record import track_record
from engine.models.valuation import valuation_history

__all__ = ["InstrumentInput", "InstrumentResult", "analyse"]


@dataclass(frozen=True)
class InstrumentInput:
    """One instrument's data: ``prices`` monthly levels (yields in pct points), indexed by
    observation date; ``fundamentals`` its fundamental series (``None`` or no columns: none);
    ``band`` the neutral band in forecast units (``None``: the asset class default);
    ``maturity`` in years (bonds; the track record's bond returns); ``roles`` each
    fundamental's :data:`engine.domain.Role` as the workbook states it (a column not in it:
    guessed from its name, :func:`engine.inputs.roles.column_roles`)."""

    code: str
    prices: pd.Series
    quote: Quote
    asset_class: AssetClass
    fundamentals: pd.DataFrame | None = None
    band: float | None = None
    maturity: float | None = None
    roles: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        check_quote(self.quote, f"{self.code}: quote")
        check_asset_class(self.asset_class, f"{self.code}: asset_class")

    @property
    def factors(self) -> pd.DataFrame | None:
        f = self.fundamentals
        return f if f is not None and len(f.columns) else None

    @property
    def neutral_band(self) -> float:
        b = self.band
        return float(b) if b is not None and np.isfinite(b) else default_band(self.asset_class)


@dataclass
class InstrumentResult:
    """Every model's walk-forward output for one instrument (module docstring).

    ``valuation``: the :func:`~engine.models.valuation.valuation_history` frame (``None`` when
    the valuation refused the data: ``valuation_error``); ``reversion``: its frame of the
    panel reversion; ``paths``: horizon h → :func:`~engine.models.horizons.horizon_paths`;
    ``horizons``: the horizon forecasts per date (columns ``1 Mo`` … ``5 Yr``); ``composite``:
    the one-month composite (``None`` when it refused the data: ``forecast_error``);
    ``rivals`` and ``track_record`` beside it."""

    input: InstrumentInput
    valuation: pd.DataFrame | None = None
    valuation_error: Exception | None = None
    reversion: pd.DataFrame | None = None
    paths: dict[int, pd.DataFrame] = field(default_factory=dict)
    horizons: pd.DataFrame | None = None
    composite: CompositeForecast | None = None
    forecast_error: Exception | None = None
    rivals: pd.DataFrame | None = None
    track_record: pd.DataFrame | None = None

    @property
    def code(self) -> str:
        return self.input.code

    @property
    def history(self) -> pd.DataFrame | None:
        """The composite's monthly history (:func:`~engine.models.composite.forecast_history`
        columns), or ``None``."""
        return self.composite.history if self.composite is not None else None

    @property
    def sigma(self) -> pd.Series | None:
        return self.valuation["sigma"] if self.valuation is not None else None


def analyse(inputs: Sequence[InstrumentInput], *, workers: int = 1,
            store: MutableMapping | None = None, min_history: int = MIN_HISTORY,
            horizons: tuple[int, ...] = HORIZONS, track: bool = True
            ) -> dict[str, InstrumentResult]:
    """Every model of every instrument of ``inputs`` (module docstring), keyed by code.

    ``store``: a content-keyed mapping of Markov estimations read and extended
    (:func:`~engine.models.regimes.regime_probabilities`; with ``workers > 1`` each worker's
    new entries are merged back). ``min_history``: months before a valuation σ.
    ``horizons``: the valuation horizons in months (empty: no reversion, no horizon paths).
    ``track``: also the rivals and the track record."""
    codes = [i.code for i in inputs]
    if len(set(codes)) != len(codes):
        raise ValueError(f"inputs: codes must be unique, got {codes}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    chunks = [list(inputs[k::workers]) for k in range(workers)] if workers > 1 else [inputs]
    chunks = [c for c in chunks if c]
    if len(chunks) > 1:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=len(chunks), backend="loky")(
            delayed(_one_month)(c, dict(store) if store is not None else None, min_history,
                                track) for c in chunks)
    else:
        parts = [_one_month(chunks[0], store, min_history, track)] if chunks else []
    results: dict[str, InstrumentResult] = {}
    for res, new in parts:
        results.update(res)
        if store is not None and new is not store:
            store.update(new)
    if horizons:
        _valuation_horizons([results[c] for c in codes], horizons)
    return {c: results[c] for c in codes}


def _one_month(inputs: Sequence[InstrumentInput], store: MutableMapping | None,
               min_history: int, track: bool
               ) -> tuple[dict[str, InstrumentResult], MutableMapping | None]:
    """Steps 1, 3 and 4 for a share of the instruments (one process)."""
    out = {i.code: InstrumentResult(i) for i in inputs}
    for i in inputs:
        try:
            out[i.code].valuation = valuation_history(
                i.prices, i.factors, quote=i.quote, asset_class=i.asset_class,
                min_history=min_history, roles=i.roles)
        except ValueError as e:
            out[i.code].valuation_error = e
    regimes = regime_probabilities_many([_regime_input(i) for i in inputs],
                                        quotes=[i.quote for i in inputs], store=store)
    for i, regime in zip(inputs, regimes):
        r = out[i.code]
        try:
            r.composite = composite_forecast(
                i.prices, i.factors, quote=i.quote, asset_class=i.asset_class,
                sigma=r.sigma, band=i.neutral_band, regime=regime, use_valuation=False,
                roles=i.roles)
            h = r.composite.history
            check_forecasts(h["forecast"], h["price"], i.quote)
        except ValueError as e:
            r.composite, r.forecast_error = None, e
            continue
        if track:
            h = r.composite.history
            r.rivals = rival_forecasts(h["price"], quote=i.quote, asset_class=i.asset_class,
                                       fundamentals=i.factors, sigma=r.sigma,
                                       roles=i.roles)
            r.track_record = track_record(h, r.rivals, quote=i.quote, band=i.neutral_band,
                                          maturity=i.maturity)
    return out, store


def _regime_input(i: InstrumentInput) -> pd.Series:
    """The prices the regime model reads: numeric, positive for prices (bad data is the
    composite's to refuse, with its message; here it only must not stop the others)."""
    p = pd.to_numeric(i.prices, errors="coerce").astype(float)
    if not isinstance(p.index, pd.DatetimeIndex):
        return pd.Series(dtype=float, index=pd.DatetimeIndex([]))
    p = p[~p.index.duplicated(keep="last")].dropna().sort_index()
    return p[p > 0] if i.quote == "Price" else p


def _valuation_horizons(results: list[InstrumentResult], horizons: tuple[int, ...]) -> None:
    """Step 2: the panel reversion of each asset class, then each member's horizon paths."""
    valued = {r.code: r for r in results if r.valuation is not None}
    if not valued:
        return
    groups: dict[tuple[str, str], list[InstrumentResult]] = {}
    for r in valued.values():
        groups.setdefault((r.input.asset_class, r.input.quote), []).append(r)
    for (ac, q), members in groups.items():
        try:
            revs = reversion_by_class({r.code: r.valuation for r in members},
                                      {r.code: ac for r in members},
                                      {r.code: q for r in members})
        except ValueError as e:  # each member fails alone, with the reason
            for r in members:
                r.valuation_error = r.valuation_error or e
            continue
        for r in members:
            try:
                r.reversion = revs[r.code]
                r.paths = {h: horizon_paths(r.input.prices, r.valuation, h, quote=q,
                                            reversion=r.reversion) for h in horizons}
                hz = forecasts_from_paths(r.paths, q)
                level = r.input.prices.reindex(hz.index)
                for h, c in zip(horizons, hz.columns):
                    check_forecasts(hz[c], level, q, months=h, annualized=q == "Price",
                                    argument=f"{c} valuation forecast")
                r.horizons = hz
            except ValueError as e:
                r.paths, r.valuation_error = {}, e
