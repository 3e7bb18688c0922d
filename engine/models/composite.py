"""The composite one-month forecast (seed ``003_…`` sections I, III, V, VII: the ``1 Mo Forecast``
/ ``1 Mo Yield Forecast`` / ``1 Month Forecast`` columns of Tables 2, 4, 6, 8).

Units and signs. The forecast made at month t is the change from t to t+1:

* ``quote="Price"`` (equities, FX, commodities): the simple return ``P[t+1]/P[t] − 1`` as a
  decimal (0.0073 = +0.73 %). For FX pairs ``BASE/QUOTE`` the price is the pair, so the forecast
  is the change of the base currency.
* ``quote="Yield"`` (bonds): the yield change ``Y[t+1] − Y[t]`` in percentage points
  (−0.09 = −9 bp); a fall is Long (see :mod:`engine.models.signals`).

The model is a forecast combination (Rapach, Strauss & Zhou 2010) of univariate predictor
regressions with sign restrictions (Campbell & Thompson 2008), around an anchor; the design and
its measured record are in ``docs/methodology.md``, "Composite forecast":

1. **Anchor** a_t. Equities: the sum-of-parts expected return (Ferreira & Santa-Clara 2011,
   :func:`engine.models.predictors.sum_of_parts`) where a dividend or earnings series allows
   it, else the prevailing mean of past changes. Bonds, currencies and commodities: zero
   change — the random walk, the bar such series are judged by (Meese & Rogoff 1983).
2. **Components**, one per predictor known at t: valuation σ, the sign of 12-1 momentum, the
   last change (AR(1)), the Markov high-volatility probability (the phase as an input, not a
   switch), and each fundamental as the literature uses it
   (:func:`engine.models.predictors.predictor`: log D/P, the term spread, inflation…). Each is
   an expanding-window least squares of the next change on that predictor alone, refitted
   every month on the pairs (x_s, y_{s+1}) with s+1 ≤ t (:func:`engine.models.walk_forward.
   expanding_slope`; the same numbers as statsmodels OLS), used from 36 pairs on.
   Component forecast: ``a_t + LAMBDA · clip(b_t (x_t − x̄_t), ± CLIP_SD · sd_t)`` — the
   regression's departure from its own mean, shrunk by half and capped at half a standard
   deviation of past changes. Its slope is set to zero when it has the sign theory rules out
   (:data:`SIGNS`: cheap valuation, positive momentum and high valuation ratios do not predict
   falls; an equity's high-volatility phase and inflation do not predict rises...).
3. **Combination**: the equal-weight mean of the components; a component without a forecast
   yet counts as the anchor (so a new predictor enters gradually, never as a jump in the
   number averaged). Equal weights beat estimated ones out of sample (measured: discounted
   MSFE weights did worse on the 39 series of the skill harness).
4. Equities: the forecast is floored at zero (Campbell & Thompson: a negative expected equity
   return is not credible).

No forecast before the anchor exists and at least one component has 36 training pairs.
Nothing is fitted on the future: every figure in row t uses data dated t or earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.domain import MIN_MEAN, MIN_TRAIN, check_asset_class, check_quote
from engine.inputs.data import asof
from engine.models.predictors import momentum_12_1, predictor, realized_changes, sum_of_parts
from engine.models.regimes import phases, regime_probabilities
from engine.models.signals import default_band, positions, trades
from engine.inputs.roles import column_roles, fundamental_role
from engine.models.walk_forward import expanding_slope

__all__ = ["forecast_history", "composite_forecast", "CompositeForecast", "one_month_forecast",
           "load_sigma", "component_signs", "MIN_TRAIN", "MIN_MEAN", "LAMBDA", "CLIP_SD",
           "SIGNS"]

LAMBDA = 0.5     # each component's departure from the anchor is shrunk by this factor
CLIP_SD = 0.5    # ... after capping it at this many standard deviations of past changes

# sign of the slope theory allows per component (+1: slope >= 0, -1: slope <= 0, 0: free)
SIGNS = {"Valuation": -1,       # rich (σ > 0) does not predict a rise; a cheap bond's yield
                                # (σ > 0: yield above fair) does not predict a further rise
         "Momentum": +1,        # time-series momentum (Moskowitz, Ooi & Pedersen 2012)
         "AR(1)": 0, }


def component_signs(name: str, quote: str, asset_class: str, role: str | None = None) -> int:
    """The sign restriction on a fundamental's slope (see module docstring, step 2): a
    valuation ratio (log D/P, log E/P) ≥ 0 for equities; an equity's inflation and short rate
    ≤ 0; a bond's inflation ≥ 0 (yields rise with inflation) and its term spread ≤ 0 (a steep
    curve is followed by falling long yields: Campbell & Shiller 1991); otherwise free.
    ``role``: the column's :data:`engine.domain.Role` (``None``: guessed from ``name``)."""
    if role is None:
        role = fundamental_role(name, "Bond" if quote == "Yield" else asset_class)
    if quote == "Yield":
        return {"price_level": +1, "rate": -1}.get(role, 0)
    if asset_class == "Equity":
        if role in ("level", "yield"):
            return +1
        return -1 if role in ("price_level", "rate") else 0
    return 0


def _clean_prices(prices: pd.Series, quote: str) -> pd.Series:
    if not isinstance(prices, pd.Series):
        raise ValueError(f"prices must be a pandas Series, got {type(prices).__name__}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must be indexed by dates (DatetimeIndex), got "
                         f"{type(prices.index).__name__}")
    p = pd.to_numeric(prices, errors="coerce").astype(float).dropna().sort_index()
    if p.index.has_duplicates:
        raise ValueError(f"prices: date {p.index[p.index.duplicated()][0]:%Y-%m-%d} appears twice")
    if quote == "Price" and (p <= 0).any():
        raise ValueError(f"prices must be > 0 for quote='Price', got {p[p <= 0].iloc[0]}")
    return p


def load_sigma(prices: pd.Series, fundamentals: pd.DataFrame | None, quote: str,
               asset_class: str, roles: Mapping[str, str] | None = None) -> pd.Series | None:
    """Walk-forward valuation σ from :func:`engine.models.valuation.valuation_history`, or
    ``None`` when the valuation model refuses the data (too short a history); the composite's
    valuation component then waits as the anchor."""
    from engine.models.valuation import valuation_history

    try:
        vh = valuation_history(prices, fundamentals, quote=quote, asset_class=asset_class,
                               roles=roles)
    except ValueError:
        return None
    return vh["sigma"] if "sigma" in vh else None


def _align_sigma(sigma: pd.Series | pd.DataFrame | None, index: pd.DatetimeIndex) -> pd.Series:
    if sigma is None:
        return pd.Series(np.nan, index=index)
    if isinstance(sigma, pd.DataFrame):
        if "sigma" not in sigma:
            raise ValueError("sigma must be a Series or a DataFrame with a 'sigma' column, got "
                             f"columns {list(sigma.columns)}")
        sigma = sigma["sigma"]
    if not isinstance(sigma.index, pd.DatetimeIndex):
        raise ValueError("sigma must be indexed by dates (DatetimeIndex)")
    return asof(pd.to_numeric(sigma, errors="coerce"), index)


@dataclass(frozen=True)
class CompositeForecast:
    """One instrument's walk-forward composite: ``history`` (one row per month, columns of
    :func:`forecast_history`) and ``components`` (each component's forecast, same index and
    unit, NaN before it has its training pairs; the composite is their mean, missing ones
    counted as the anchor)."""

    history: pd.DataFrame
    components: pd.DataFrame


def composite_forecast(prices: pd.Series, fundamentals: pd.DataFrame | None = None, *,
                       quote: str = "Price", asset_class: str = "Equity",
                       sigma: pd.Series | pd.DataFrame | None = None, band: float | None = None,
                       regime: pd.DataFrame | None = None, min_train: int = MIN_TRAIN,
                       refit_every: int = 12, use_valuation: bool = True,
                       fit_store=None, roles: Mapping[str, str] | None = None
                       ) -> CompositeForecast:
    """Walk-forward composite one-month forecasts for one instrument (module docstring).

    ``prices``: monthly levels (yields in percentage points for ``quote="Yield"``), indexed by
    observation date. ``fundamentals``: the instrument's fundamental series (any dates; the
    last value known at each price date is used). ``sigma``: valuation σ history (Series, or
    the DataFrame of ``valuation_history``); ``None`` computes it with
    :func:`engine.models.valuation.valuation_history` (``use_valuation=False`` skips it).
    ``band``: neutral band (forecast units), default per asset class. ``regime``: a
    precomputed :func:`engine.models.regimes.regime_probabilities` frame (reused if given);
    ``fit_store``: optional content-keyed store of Markov estimations passed to it.
    ``roles``: each fundamental's :data:`engine.domain.Role` (the workbook's ``Role`` row);
    a column not in it has its role guessed from its name.
    """
    check_quote(quote)
    check_asset_class(asset_class)
    if band is None:
        band = default_band(asset_class)
    p = _clean_prices(prices, quote)
    if len(p) < 2:
        raise ValueError(f"prices: need at least 2 monthly observations, got {len(p)}")
    idx = p.index
    if sigma is None and use_valuation:
        sigma = load_sigma(p, fundamentals, quote, asset_class, roles)
    sig = _align_sigma(sigma, idx)
    if regime is None:
        regime = regime_probabilities(p, quote=quote, refit_every=refit_every,
                                      store=fit_store)
    prob = regime["prob_high_vol"].reindex(idx).astype(float)
    change = realized_changes(p, quote)
    y_next = change.shift(-1).to_numpy(dtype=float)
    expanding = change.expanding(min_periods=MIN_MEAN)
    mean, sd = expanding.mean().to_numpy(dtype=float), expanding.std().to_numpy(dtype=float)
    equity = asset_class == "Equity" and quote == "Price"
    if equity:
        sop = sum_of_parts(p, fundamentals, roles).to_numpy(dtype=float)
        anchor = np.where(np.isfinite(mean), np.where(np.isfinite(sop), sop, mean), np.nan)
    else:
        anchor = np.where(np.isfinite(mean), 0.0, np.nan)
    mom = momentum_12_1(p, quote)
    inputs = {"Valuation": (sig.to_numpy(dtype=float), SIGNS["Valuation"]),
              "Momentum": (np.sign(mom.to_numpy(dtype=float)), SIGNS["Momentum"]),
              "AR(1)": (change.to_numpy(dtype=float), SIGNS["AR(1)"]),
              "Phase": (prob.to_numpy(dtype=float), -1 if equity else 0)}
    cols = fundamentals.columns if fundamentals is not None else []
    known = column_roles(cols, "Bond" if quote == "Yield" else asset_class, roles)
    for col in cols:
        name = str(col)
        if name in inputs:  # a fundamental named like a component keeps its own slot
            name = f"{name} (fundamental)"
        role = known[str(col)]
        inputs[name] = (predictor(fundamentals[col], str(col), p, quote, asset_class, role)
                        .to_numpy(dtype=float),
                        component_signs(str(col), quote, asset_class, role))
    comps = {}
    for name, (x, sign) in inputs.items():
        fit = expanding_slope(x, y_next, min_train=min_train)
        b = fit.slope if not sign else np.where(fit.slope * sign < 0, 0.0, fit.slope)
        dep = np.clip(b * (x - fit.x_mean), -CLIP_SD * sd, CLIP_SD * sd)
        comps[name] = anchor + LAMBDA * dep
    C = pd.DataFrame(comps, index=idx)
    M = C.to_numpy()
    have = np.isfinite(M)
    fc = np.where(have.any(axis=1) & np.isfinite(anchor),
                  np.where(have, M, anchor[:, None]).mean(axis=1), np.nan)
    if equity:
        fc = np.where(np.isfinite(fc), np.maximum(fc, 0.0), np.nan)
    out = pd.DataFrame({"price": p, "change": change, "forecast": fc, "mean": mean,
                        "anchor": anchor, "sigma": sig, "momentum": mom, "regime_prob": prob},
                       index=idx)
    out["phase"] = phases(out["regime_prob"], out["sigma"])
    out["position"] = positions(out["forecast"], band, quote)
    out["trade"] = trades(out["position"])
    out.attrs["quote"] = quote
    out.attrs["band"] = float(band)
    return CompositeForecast(out, C)


def forecast_history(prices: pd.Series, fundamentals: pd.DataFrame | None = None, **kw
                     ) -> pd.DataFrame:
    """The ``history`` of :func:`composite_forecast` (same arguments): one row per month with
    ``price``, ``change`` (realised change to t), ``forecast`` (composite, change t→t+1:
    decimal for prices, pp for yields), ``mean`` (prevailing mean of past changes), ``anchor``
    (module docstring, step 1), ``sigma``, ``momentum``, ``regime_prob`` (filtered
    high-volatility probability), ``phase``, ``position`` (1/0/−1, NaN without forecast) and
    ``trade``. Row t uses data ≤ t only."""
    return composite_forecast(prices, fundamentals, **kw).history


def one_month_forecast(prices: pd.Series, fundamentals: pd.DataFrame | None = None, *,
                       quote: str = "Price", asset_class: str = "Equity",
                       sigma: pd.Series | pd.DataFrame | None = None,
                       band: float | None = None) -> dict:
    """The latest composite forecast (last row of :func:`forecast_history`) as a dict with
    ``date``, ``forecast`` (decimal return; pp for yields), ``position`` (1/0/−1), ``phase``,
    ``regime_prob``, ``sigma``. Raises ValueError when the history is too short for a forecast.
    """
    h = forecast_history(prices, fundamentals, quote=quote, asset_class=asset_class,
                         sigma=sigma, band=band)
    last = h.iloc[-1]
    if not np.isfinite(last["forecast"]):
        raise ValueError(f"prices: need {MIN_TRAIN + 2}+ consecutive months for a forecast, "
                         f"got {len(h)} months")
    return {"date": h.index[-1], "forecast": float(last["forecast"]),
            "position": int(last["position"]), "phase": last["phase"],
            "regime_prob": float(last["regime_prob"]), "sigma": float(last["sigma"])}
