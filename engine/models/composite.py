"""The composite one-month forecast (seed ``003_…`` sections I, III, V, VII: the ``1 Mo Forecast``
/ ``1 Mo Yield Forecast`` / ``1 Month Forecast`` columns of Tables 2, 4, 6, 8).

Units and signs. The forecast made at month t is the change from t to t+1:

* ``quote="Price"`` (equities, FX, commodities): the simple return ``P[t+1]/P[t] − 1`` as a
  decimal (0.0073 = +0.73 %). For FX pairs ``BASE/QUOTE`` the price is the pair, so the forecast
  is the change of the base currency.
* ``quote="Yield"`` (bonds): the yield change ``Y[t+1] − Y[t]`` in percentage points
  (−0.09 = −9 bp); a fall is Long (see :mod:`engine.models.signals`).

The model (details and reasons in ``docs/methodology.md``, "Composite forecast"):

1. Features known at t: valuation σ (from :func:`engine.models.valuation.valuation_history`),
   the extremity term σ·|σ|, the filtered high-volatility probability p
   (:mod:`engine.models.regimes`, 0.5 before the first regime fit), the interaction p·σ,
   12-1 momentum (log P[t−1]/P[t−12]; for yields Y[t−1] − Y[t−12]) and the 12-month change of
   up to three fundamental series (log change while the series has been positive so far,
   difference otherwise). Which of them are used is itself decided with data ≤ t: σ terms
   once a σ exists, a factor once it has more than ``min_train`` 12-month changes (a factor
   that starts late does not remove the earlier forecasts). Each distinct feature set is run
   walk-forward (regression and combination weight) and row t takes the run of its own set,
   so row t equals a refresh run with the data up to t.
2. A walk-forward ridge regression of the next change on those features, re-estimated every
   month on the pairs (x_s, y_{s+1}) with s+1 ≤ t (expanding window), penalty
   ``ridge`` × n × feature variance (intercept free), forecast clipped to the prevailing mean
   ± 2 standard deviations of past changes.
3. A forecast combination with an anchor a_t — the prevailing historical mean, or zero change
   when zero has had the smaller squared errors over the months scored so far (FX pairs and
   commodities, where the random walk is the harder benchmark):
   ``forecast = a_t + w_t (regression − a_t)``, where w_t is the encompassing weight estimated
   on the out-of-sample errors realised so far (least squares of y − a on f − a, prior 0.5
   worth 24 months, clipped to [0, 1]). A regression that has not helped out of sample fades
   towards the anchor.

Nothing is fitted on the future: every figure in row t uses data dated t or earlier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.inputs.data import asof
from engine.inputs.sampling import after_previous_month, month_ids
from engine.models.regimes import phases, regime_probabilities
from engine.models.signals import default_band, positions, trades

__all__ = ["forecast_history", "one_month_forecast", "walk_forward_ols", "realized_changes",
           "momentum_12_1", "factor_changes", "load_sigma", "MAX_FACTORS", "RIDGE",
           "MIN_TRAIN", "PRIOR_MONTHS"]

MAX_FACTORS = 3      # fundamental series used as factors (first ones listed)
RIDGE = 0.1          # ridge penalty per observation, on standardised features
MIN_TRAIN = 36       # training pairs needed before the first forecast
PRIOR_MONTHS = 24    # weight of the 0.5 prior in the combination weight, in months
MIN_MEAN = 12        # realised changes needed for the prevailing mean


def _check_quote(quote: str) -> None:
    if quote not in ("Price", "Yield"):
        raise ValueError(f"quote must be 'Price' or 'Yield', got {quote!r}")


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


def realized_changes(prices: pd.Series, quote: str = "Price") -> pd.Series:
    """Change from the previous month to t, per row t: decimal simple return for prices,
    percentage-point change for yields. NaN in the first row and after a missing month (the
    previous observation is not from the previous calendar month): a change over two months
    or more is neither trained on nor scored as a one-month change."""
    _check_quote(quote)
    ch = prices / prices.shift(1) - 1.0 if quote == "Price" else prices.diff()
    return ch.where(after_previous_month(prices.index))


def momentum_12_1(prices: pd.Series, quote: str = "Price") -> pd.Series:
    """12-1 momentum known at t: log(P[m−1]/P[m−12]) for prices, Y[m−1] − Y[m−12] (pp) for
    yields, with m the calendar month of row t (the most recent month is skipped, as usual);
    NaN when either month has no observation."""
    _check_quote(quote)
    ids = month_ids(prices.index)
    level = np.log(prices) if quote == "Price" else prices
    by_month = pd.Series(level.to_numpy(dtype=float), index=ids)
    by_month = by_month[~by_month.index.duplicated(keep="last")]
    mom = by_month.reindex(ids - 1).to_numpy() - by_month.reindex(ids - 12).to_numpy()
    return pd.Series(mom, index=prices.index)


def factor_changes(fundamentals: pd.DataFrame | None, index: pd.DatetimeIndex,
                   max_factors: int = MAX_FACTORS) -> pd.DataFrame:
    """12-month change of up to ``max_factors`` fundamental series, aligned as of ``index``
    (the last value known on each date). Log change for series positive throughout (CPI,
    earnings: the change is then e.g. the inflation rate), plain difference otherwise (rates,
    yields, in their own units)."""
    out = {}
    if fundamentals is None or len(fundamentals.columns) == 0:
        return pd.DataFrame(index=index)
    for col in list(fundamentals.columns):
        if len(out) >= max_factors:
            break
        s = pd.to_numeric(fundamentals[col], errors="coerce")
        if not isinstance(s.index, pd.DatetimeIndex) or s.dropna().empty:
            continue
        a = asof(s, index)
        if (s.dropna() > 0).all():
            ch = np.log(a) - np.log(a.shift(12))
        else:
            ch = a - a.shift(12)
        out[f"d12_{col}"] = ch
    return pd.DataFrame(out, index=index)


def _factor_configs(fundamentals: pd.DataFrame | None, index: pd.DatetimeIndex,
                    min_train: int, max_factors: int = MAX_FACTORS
                    ) -> tuple[list[tuple], dict[tuple, pd.Series]]:
    """The factor part of the feature set as it stands at each row t, decided with the data
    dated <= t only (what :func:`factor_changes` and the ``> min_train`` rule give on the
    fundamentals truncated at t): the first ``max_factors`` columns with a value dated <= t;
    log change while every value so far is positive, difference otherwise; used once more
    than ``min_train`` 12-month changes exist. Returns one tuple of ``(column, is_log)`` per
    row and the change series per ``(column, is_log)``."""
    T = len(index)
    rows: list[list] = [[] for _ in range(T)]
    series: dict[tuple, pd.Series] = {}
    if fundamentals is None or len(fundamentals.columns) == 0:
        return [()] * T, series
    stamps = index.to_numpy()
    chosen = np.zeros(T, dtype=int)
    for col in list(fundamentals.columns):
        s = pd.to_numeric(fundamentals[col], errors="coerce")
        if not isinstance(s.index, pd.DatetimeIndex):
            continue
        s = s.dropna().sort_index()
        if s.empty:
            continue
        exists = stamps >= s.index[0].to_datetime64()
        slot = exists & (chosen < max_factors)
        chosen += slot
        nonpos = s.index[(s <= 0).to_numpy()]
        positive = (stamps < nonpos[0].to_datetime64()) if len(nonpos) else np.ones(T, bool)
        a = asof(s, index)
        diff = a - a.shift(12)
        count = diff.notna().cumsum().to_numpy()
        use = slot & (count > min_train)
        if not use.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            log = np.log(a.where(a > 0)) - np.log(a.shift(12).where(a.shift(12) > 0))
        series[(col, True)] = log
        series[(col, False)] = diff
        for t in np.where(use)[0]:
            rows[t].append((col, bool(positive[t])))
    return [tuple(r) for r in rows], series


def load_sigma(prices: pd.Series, fundamentals: pd.DataFrame | None, quote: str,
               asset_class: str) -> pd.Series | None:
    """Walk-forward valuation σ from :func:`engine.models.valuation.valuation_history`
    (imported lazily), or ``None`` when the valuation model is unavailable or refuses the
    data (too short a history); the composite then runs without its valuation terms."""
    try:
        from engine.models.valuation import valuation_history
    except ImportError:
        return None
    try:
        vh = valuation_history(prices, fundamentals, quote=quote, asset_class=asset_class)
    except ValueError:
        return None
    return vh["sigma"] if "sigma" in vh else None


def walk_forward_ols(X: np.ndarray, y_next: np.ndarray, *, min_train: int = MIN_TRAIN,
                     ridge: float = 0.0) -> np.ndarray:
    """Expanding-window least squares forecasts, re-estimated every row.

    ``X`` (T × k, first column the intercept) holds the features known at row t; ``y_next``
    (T) the change realised from t to t+1 (NaN when not yet known). The forecast for row t is
    ``X[t] @ beta_t`` with ``beta_t`` fitted on the rows s ≤ t−1 whose features and target
    are finite (so every target used is dated ≤ t). ``ridge`` adds ``ridge × n × var(x_j)``
    to the diagonal for j ≥ 1 (intercept not penalised). NaN before ``min_train`` pairs.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y_next, dtype=float)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be T x k with T = len(y_next), got {X.shape} and {y.shape}")
    T, k = X.shape
    ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
    Xz = np.where(ok[:, None], X, 0.0)
    yz = np.where(ok, y, 0.0)
    xtx = np.cumsum(Xz[:, :, None] * Xz[:, None, :], axis=0)
    xty = np.cumsum(Xz * yz[:, None], axis=0)
    n = np.cumsum(ok)
    # shift by one: row t uses pairs s <= t-1
    xtx = np.concatenate([np.zeros((1, k, k)), xtx[:-1]])
    xty = np.concatenate([np.zeros((1, k)), xty[:-1]])
    n = np.concatenate([[0], n[:-1]])
    out = np.full(T, np.nan)
    rows = np.where((n >= max(min_train, k + 1)) & np.isfinite(X).all(axis=1))[0]
    if len(rows) == 0:
        return out
    A = xtx[rows].copy()
    b = xty[rows]
    if ridge > 0 and k > 1:
        nn = n[rows].astype(float)
        mean = xtx[rows][:, 0, 1:] / nn[:, None]              # X[:,0] is the intercept
        var = np.einsum("tjj->tj", xtx[rows])[:, 1:] / nn[:, None] - mean ** 2
        var = np.clip(var, 1e-12, None)
        idx = np.arange(1, k)
        A[:, idx, idx] += ridge * nn[:, None] * var
    try:
        beta = np.linalg.solve(A, b[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        beta = np.stack([np.linalg.lstsq(a, v, rcond=None)[0] for a, v in zip(A, b)])
    out[rows] = np.einsum("tk,tk->t", X[rows], beta)
    return out


def _prevailing(values: pd.Series, min_obs: int) -> tuple[pd.Series, pd.Series]:
    """Expanding mean and standard deviation of the changes dated ≤ t."""
    c = values.expanding(min_periods=min_obs)
    return c.mean(), c.std()


def _combination_weight(y_next: np.ndarray, f: np.ndarray, m: np.ndarray,
                        prior: float = PRIOR_MONTHS) -> np.ndarray:
    """Encompassing weight w_t from the pairs s ≤ t−1: least squares of (y−m) on (f−m) with a
    prior w = 0.5 worth ``prior`` months, clipped to [0, 1]."""
    d = f - m
    e = y_next - m
    ok = np.isfinite(d) & np.isfinite(e)
    sxy = np.cumsum(np.where(ok, d * e, 0.0))
    sxx = np.cumsum(np.where(ok, d * d, 0.0))
    cnt = np.cumsum(ok)
    sxy = np.concatenate([[0.0], sxy[:-1]])
    sxx = np.concatenate([[0.0], sxx[:-1]])
    cnt = np.concatenate([[0], cnt[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        qbar = np.where(cnt > 0, sxx / np.maximum(cnt, 1), np.nan)
        w = (sxy + 0.5 * prior * qbar) / (sxx + prior * qbar)
    w = np.where(np.isfinite(w), w, 0.5)
    return np.clip(w, 0.0, 1.0)


def _anchor(y_next: np.ndarray, mean: np.ndarray, min_obs: int = MIN_MEAN) -> np.ndarray:
    """The combination's anchor at t: the prevailing mean, or zero change when zero has had
    the smaller sum of squared errors over the months already scored (s ≤ t−1, at least
    ``min_obs`` of them). NaN where the mean is not yet defined."""
    ok = np.isfinite(y_next) & np.isfinite(mean)
    with np.errstate(over="ignore"):  # absurd levels (1e200) overflow to inf: still ordered
        se_m = np.cumsum(np.where(ok, (y_next - mean) ** 2, 0.0))
        se_0 = np.cumsum(np.where(ok, y_next ** 2, 0.0))
    cnt = np.cumsum(ok)
    se_m, se_0 = np.concatenate([[0.0], se_m[:-1]]), np.concatenate([[0.0], se_0[:-1]])
    cnt = np.concatenate([[0], cnt[:-1]])
    zero = (cnt >= min_obs) & (se_0 < se_m)
    return np.where(np.isfinite(mean), np.where(zero, 0.0, mean), np.nan)


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


def forecast_history(prices: pd.Series, fundamentals: pd.DataFrame | None = None, *,
                     quote: str = "Price", asset_class: str = "Equity",
                     sigma: pd.Series | pd.DataFrame | None = None, band: float | None = None,
                     regime: pd.DataFrame | None = None, min_train: int = MIN_TRAIN,
                     ridge: float = RIDGE, refit_every: int = 12,
                     use_valuation: bool = True, fit_store=None) -> pd.DataFrame:
    """Walk-forward composite one-month forecasts for one instrument, one row per month.

    ``prices``: monthly levels (yields in percentage points for ``quote="Yield"``), indexed by
    observation date. ``fundamentals``: the instrument's fundamental series (any dates; the last
    value known at each price date is used). ``sigma``: valuation σ history (Series, or the
    DataFrame of ``valuation_history``); ``None`` computes it with
    :func:`engine.models.valuation.valuation_history` when available (``use_valuation=False``
    skips it). ``band``: neutral band (forecast units), default per asset class. ``regime``: a
    precomputed :func:`engine.models.regimes.regime_probabilities` frame (reused if given);
    ``fit_store``: optional content-keyed store of Markov estimations passed to it.

    Columns: ``price``, ``change`` (realised change to t), ``forecast`` (composite, change t→t+1:
    decimal for prices, pp for yields), ``regression``, ``mean`` (prevailing mean), ``anchor``
    (mean or 0, see the module docstring), ``weight`` (combination weight on the regression), ``sigma``, ``momentum``, ``regime_prob`` (filtered
    high-volatility probability), ``phase``, ``position`` (1/0/−1, NaN without forecast),
    ``trade``. ``attrs["features"]`` lists the regression's features. Row t uses data ≤ t only.
    """
    _check_quote(quote)
    if band is None:
        band = default_band(asset_class)
    elif asset_class not in ("Equity", "Bond", "FX", "Commodity"):
        raise ValueError(f"asset_class must be Equity, Bond, FX or Commodity, got {asset_class!r}")
    p = _clean_prices(prices, quote)
    if len(p) < 2:
        raise ValueError(f"prices: need at least 2 monthly observations, got {len(p)}")
    idx = p.index
    if sigma is None and use_valuation:
        sigma = load_sigma(p, fundamentals, quote, asset_class)
    sig = _align_sigma(sigma, idx)
    if regime is None:
        regime = regime_probabilities(p, quote=quote, refit_every=refit_every,
                                      store=fit_store)
    prob = regime["prob_high_vol"].reindex(idx).astype(float)
    prob_used = prob.fillna(0.5)
    change = realized_changes(p, quote)
    y_next = change.shift(-1)
    mom = momentum_12_1(p, quote)
    # The feature set in force at row t is decided with data dated <= t only (σ terms once a
    # σ exists, each factor once it has > min_train changes, its log/difference form), so
    # row t is exactly what a refresh with the data up to t gives; each distinct set is run
    # walk-forward over the whole sample (its regression and combination weight), and row t
    # takes the run of its own set.
    has_sig = sig.notna().cumsum().to_numpy() > 0
    fac_rows, fac_series = _factor_configs(fundamentals, idx, min_train)
    configs = list(zip(has_sig.tolist(), fac_rows))
    mean, sd = _prevailing(change, MIN_MEAN)
    lo, hi = (mean - 2 * sd).to_numpy(), (mean + 2 * sd).to_numpy()
    m = mean.to_numpy()
    yn = y_next.to_numpy()
    a = _anchor(yn, m)
    reg, w = np.full(len(idx), np.nan), np.full(len(idx), np.nan)
    names: dict[tuple, list[str]] = {}
    for cfg in dict.fromkeys(configs):
        with_sig, facs = cfg
        feats = {"const": pd.Series(1.0, index=idx)}
        if with_sig:
            feats.update({"sigma": sig, "sigma_abs_sigma": sig * sig.abs(), "prob_x_sigma":
                          prob_used * sig})
        feats["prob_high_vol"] = prob_used
        feats["momentum"] = mom
        for col, is_log in facs:
            feats[f"d12_{col}"] = fac_series[(col, is_log)]
        X = pd.DataFrame(feats, index=idx)
        names[cfg] = list(X.columns)
        r = walk_forward_ols(X.to_numpy(), yn, min_train=min_train, ridge=ridge)
        r = np.where(np.isfinite(r), np.clip(r, lo, hi), np.nan)
        wc = _combination_weight(yn, r, a)
        rows = np.fromiter((c == cfg for c in configs), dtype=bool, count=len(configs))
        reg[rows], w[rows] = r[rows], wc[rows]
    fc = a + w * (reg - a)
    out = pd.DataFrame({
        "price": p, "change": change, "forecast": fc, "regression": reg, "mean": m,
        "anchor": a, "weight": np.where(np.isfinite(fc), w, np.nan), "sigma": sig,
        "momentum": mom, "regime_prob": prob,
    }, index=idx)
    out["phase"] = phases(out["regime_prob"], out["sigma"])
    out["position"] = positions(out["forecast"], band, quote)
    out["trade"] = trades(out["position"])
    out.attrs["features"] = names[configs[-1]]  # the set in force at the last row
    out.attrs["quote"] = quote
    out.attrs["band"] = float(band)
    return out


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
        need = MIN_TRAIN + 13
        raise ValueError(f"prices: need about {need}+ months with valuation data for a "
                         f"forecast, got {len(h)} months")
    return {"date": h.index[-1], "forecast": float(last["forecast"]),
            "position": int(last["position"]), "phase": last["phase"],
            "regime_prob": float(last["regime_prob"]), "sigma": float(last["sigma"])}
