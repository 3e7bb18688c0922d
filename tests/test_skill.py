"""The skill harness's scores against hand computations and closed forms."""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from engine.models.predictors import predictor
from engine.models.skill import (SkillSample, clark_west, horizon_skill, pesaran_timmermann,
                                 rival_forecasts, skill_table)


def _pt_by_hand(f, y):
    """Pesaran & Timmermann (1992), eq. (4)–(6), written out from the paper."""
    pairs = [(a > 0, b > 0) for a, b in zip(f, y) if a != 0 and b != 0]
    n = len(pairs)
    p_hat = sum(a == b for a, b in pairs) / n
    py = sum(b for _, b in pairs) / n
    px = sum(a for a, _ in pairs) / n
    p_star = py * px + (1 - py) * (1 - px)
    var_p = p_star * (1 - p_star) / n
    var_star = ((2 * py - 1) ** 2 * px * (1 - px) / n + (2 * px - 1) ** 2 * py * (1 - py) / n
                + 4 * py * px * (1 - py) * (1 - px) / n ** 2)
    return p_hat, (p_hat - p_star) / math.sqrt(var_p - var_star)


def test_pesaran_timmermann_against_the_paper():
    rng = np.random.default_rng(2)
    y = rng.normal(0.005, 0.04, 200)
    f = np.where(rng.random(200) < 0.6, np.sign(y), -np.sign(y)) * 0.01   # 60 % right
    f[:7] = 0.0                                                           # no call: skipped
    hit, pt, n = pesaran_timmermann(f, y)
    hit_h, pt_h = _pt_by_hand(f, y)
    assert n == 193 and hit == pytest.approx(hit_h, rel=1e-12)
    assert pt == pytest.approx(pt_h, rel=1e-10)        # same formula, rounding only
    assert pt > 1.645                                  # 60 % on 193 calls is significant
    assert np.isnan(pesaran_timmermann(np.ones(50), y[:50])[1])   # a forecast never turning


def test_clark_west_and_r2_by_hand():
    y = np.array([0.02, -0.01, 0.03, -0.04, 0.01, 0.00, 0.015])
    m = np.array([0.005, 0.004, 0.006, 0.005, 0.003, 0.004, 0.004])
    f = np.array([0.01, -0.002, 0.004, 0.001, -0.003, 0.002, 0.0])
    adj = [(a - c) ** 2 - ((a - b) ** 2 - (c - b) ** 2) for a, b, c in zip(y, f, m)]
    mu = sum(adj) / 7
    sd = math.sqrt(sum((a - mu) ** 2 for a in adj) / 6)
    assert clark_west(y, f, m) == pytest.approx(mu / (sd / math.sqrt(7)), rel=1e-10)
    idx = pd.date_range("2000-01-31", periods=7, freq="ME")
    # "Half" has no forecast in its first two months: scored as the mean there
    half = np.where(np.arange(7) < 2, np.nan, f)
    t = skill_table(pd.DataFrame({"F": f, "Half": half, "Historical mean": m,
                                  "Random walk": 0.0}, index=idx),
                    SkillSample(idx, y, m)).set_index("Model")
    sse = lambda g: float(((y - g) ** 2).sum())  # noqa: E731
    assert t.loc["F", "OOS R²"] == pytest.approx(1 - sse(f) / sse(m), rel=1e-12)
    assert t.loc["F", "OOS R² vs 0"] == pytest.approx(1 - sse(f) / sse(0.0), rel=1e-12)
    filled = np.where(np.isnan(half), m, half)
    assert t.loc["Half", "OOS R²"] == pytest.approx(1 - sse(filled) / sse(m), rel=1e-12)
    assert t.loc["Half", "Coverage"] == pytest.approx(5 / 7)
    # "Half" equals the mean in 2 of 7 months and F in the other 5
    assert t.loc["Half", "Equal To"] == "F" and t.loc["Half", "Equal Share"] == pytest.approx(5 / 7)
    assert t.loc["Random walk", "OOS R² vs 0"] == 0.0


def test_a_fundamental_rival_is_the_one_line_regression_on_log_dp():
    rng = np.random.default_rng(5)
    n = 240
    idx = pd.date_range("1970-01-31", periods=n, freq="ME")
    px = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.006, 0.04, n))), index=idx)
    dy = pd.Series(np.exp(rng.normal(1.2, 0.2, n)), index=idx)          # dividend yield, %
    fc = rival_forecasts(px, fundamentals=pd.DataFrame({"Dividend Yield": dy}))
    x = np.log(dy.to_numpy())
    assert np.allclose(predictor(dy, "Dividend Yield", px, "Price", "Equity"), x)
    y_next = (px.shift(-1) / px - 1).to_numpy()
    t = 150
    fit = sm.OLS(y_next[:t], sm.add_constant(x[:t])).fit()
    assert fc["Dividend Yield"].iloc[t] == pytest.approx(fit.params[0] + fit.params[1] * x[t],
                                                         rel=1e-9)   # rounding only


def test_horizon_skill_counts_independent_origins():
    idx = pd.date_range("1990-01-31", periods=120, freq="ME")
    rng = np.random.default_rng(0)
    px = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.005, 0.04, 120))), index=idx)
    lp = np.log(px)
    fut = (lp.shift(-12) - lp)                         # the realised 12-month log change
    perfect = fut.where(np.arange(120) >= 30)          # a forecast that knows the future
    hz = horizon_skill(px, {12: perfect}).iloc[0]
    assert hz["oos_r2"] == pytest.approx(1.0)          # zero error
    n = int(perfect.notna().sum())
    assert hz["n_forecasts"] == n and hz["n_independent"] == math.ceil(n / 12)
