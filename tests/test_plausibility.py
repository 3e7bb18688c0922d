"""Plausibility of input series (engine/inputs/plausibility.py) and impossible forecasts
(engine/models/forecast_bounds.py), as pure functions, and the issue-14 cases on the real
demo workbook: SPX on 1998-11-30 typed in cents."""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.cli import demo_workbook, main
from engine.inputs.plausibility import JUMP_FACTOR, MAX_ROBUST_SD, suspect_values
from engine.inputs.reader import read_workbook
from engine.models.forecast_bounds import ImpossibleForecast, check_forecasts


def _walk(n=240, sd=0.04, seed=3, start=100.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("1990-01-31", periods=n, freq="ME")
    return pd.Series(start * np.exp(np.cumsum(rng.normal(0.005, sd, n))), index=idx)


# --- suspect_values ---------------------------------------------------------------------

def test_a_clean_random_walk_has_no_suspect_value():
    for seed in range(5):
        assert suspect_values(_walk(seed=seed)) == []


@pytest.mark.parametrize("factor", [100.0, 0.01, 1e10])
def test_a_unit_slip_is_a_jump_at_its_own_cell(factor):
    s = _walk()
    s.iloc[120] *= factor
    (f,) = suspect_values(s)
    assert f.position == 120 and f.at == s.index[120] and f.rule == "jump" and f.spike
    assert f.value == s.iloc[120] and f.previous == s.iloc[119]
    assert "times the previous" in f.describe() or "of the previous" in f.describe()


def test_a_spike_beyond_eight_robust_sds_but_below_the_jump_factor():
    s = _walk(sd=0.02)
    s.iloc[100] *= 3.0  # log 1.1: about 50 robust SDs of 2 % months, far below x50
    (f,) = suspect_values(s)
    assert f.position == 100 and f.rule == "robust" and f.size > MAX_ROBUST_SD and f.spike
    assert 3.0 < JUMP_FACTOR


def test_a_level_pasted_in_other_units_is_flagged_once_where_it_starts():
    s = _walk()
    s.iloc[200:] /= 100  # the rest of the column pasted in hundreds
    (f,) = suspect_values(s)
    assert f.position == 200 and not f.spike


def test_the_last_observation_is_judged_too():
    s = _walk()
    s.iloc[-1] = 1e12
    (f,) = suspect_values(s)
    assert f.position == len(s) - 1


def test_a_turbulent_year_is_judged_against_its_own_turbulence():
    """Months of ±25 % inside a calm series: ordinary for that year (the local scale), so not
    suspect, though beyond 8 robust SDs of the calm history."""
    s = _walk(sd=0.02)
    r = np.log(s).diff().fillna(0).to_numpy().copy()
    r[100:124] = np.where(np.arange(24) % 2 == 0, 0.22, -0.2)
    s = pd.Series(100 * np.exp(np.cumsum(r)), index=s.index)
    assert suspect_values(s) == []


def test_rates_use_changes_and_a_pegged_rate_is_fine():
    idx = pd.date_range("1990-01-31", periods=200, freq="ME")
    rate = pd.Series(np.r_[np.full(100, 0.375), np.linspace(0.375, 5.0, 100)], index=idx)
    assert suspect_values(rate, "rate") == []
    bad = rate.copy()
    bad.iloc[150] /= 100  # 4.25 typed as 0.0425
    (f,) = suspect_values(bad, "rate")
    assert f.position == 150 and f.rule == "jump"


def test_rates_near_zero_are_not_a_jump():
    idx = pd.date_range("2009-01-31", periods=60, freq="ME")
    rate = pd.Series(np.r_[np.full(30, 0.05), np.full(30, 0.0005)], index=idx)  # x1/100
    assert [f.rule for f in suspect_values(rate, "rate")] != ["jump"]


def test_auto_flags_a_fundamental_only_when_both_yardsticks_agree():
    idx = pd.date_range("2000-01-31", periods=120, freq="ME")
    short_rate = pd.Series(np.r_[np.linspace(5, 0.1, 60), np.linspace(0.1, 0.02, 60)],
                           index=idx)
    assert suspect_values(short_rate, "auto") == []  # log moves near zero are large
    cpi = pd.Series(100 * 1.002 ** np.arange(120), index=idx)
    cpi.iloc[60] *= 100
    assert [f.position for f in suspect_values(cpi, "auto")] == [60]


def test_changes_are_judged_as_values():
    rng = np.random.default_rng(1)
    r = pd.Series(rng.normal(0.005, 0.02, 120))
    assert suspect_values(r, "change") == []
    r.iloc[50] = 0.6
    (f,) = suspect_values(r, "change")
    assert f.position == 50 and f.previous is None


def test_nans_are_skipped_and_positions_are_those_given():
    s = _walk(60)
    s.iloc[10] = np.nan
    s.iloc[30] *= 100
    assert [f.position for f in suspect_values(s)] == [30]
    assert suspect_values(pd.Series([], dtype=float)) == []
    assert suspect_values(pd.Series([1.0])) == []


def test_the_demo_real_data_has_no_suspect_value():
    """1929–32, 1980 and 1987 are in the demo: none is a false alarm."""
    d = read_workbook(demo_workbook())
    assert [str(p) for p in d.problems if p.kind == "suspect"] == []


# --- check_forecasts --------------------------------------------------------------------

IDX = pd.date_range("2020-01-31", periods=3, freq="ME")


def test_possible_forecasts_pass():
    check_forecasts(pd.Series([0.01, -0.5, np.nan], IDX), pd.Series(1.0, IDX), "Price")
    check_forecasts(pd.Series([-0.2, 3.0, np.nan], IDX), pd.Series(4.0, IDX), "Yield")


@pytest.mark.parametrize("value, words", [(-1.0, "cannot fall 100 %"),
                                          (-1.17, "cannot fall 100 %"),
                                          (99.0, "×100"), (math.inf, "not a finite")])
def test_impossible_price_forecasts(value, words):
    with pytest.raises(ImpossibleForecast) as e:
        check_forecasts(pd.Series([0.01, value, 0.0], IDX), pd.Series(1.0, IDX), "Price")
    assert e.value.at == IDX[1] and e.value.argument == "1 Mo forecast"
    assert words in str(e.value) and "2020-02-29" in str(e.value)


def test_a_yield_change_larger_than_the_yield_allows():
    y = pd.Series([4.2, 4.2, 4.2], IDX)
    check_forecasts(pd.Series([-9.1, 0, 0], IDX), y, "Yield")  # to -4.9 %: possible
    with pytest.raises(ImpossibleForecast, match=r"outside -5 … 40 %"):
        check_forecasts(pd.Series([-9.5, 0, 0], IDX), y, "Yield")  # to -5.3 %
    with pytest.raises(ImpossibleForecast, match="gives 55"):
        check_forecasts(pd.Series([0, 50.8, 0], IDX), y, "Yield")


def test_annualized_horizon_forecasts():
    lvl = pd.Series(1.0, IDX)
    check_forecasts(pd.Series([-0.99, 0.5, 10.0], IDX), lvl, "Price", months=60,
                    annualized=True)
    with pytest.raises(ImpossibleForecast, match="a year"):
        check_forecasts(pd.Series([-1.0, 0, 0], IDX), lvl, "Price", months=60,
                        annualized=True, argument="5 Yr valuation forecast")


# --- the demo workbook: SPX on 1998-11-30 typed in cents --------------------------------

def _set_number(src: Path, dst: Path, part: str, ref: str, value: float) -> None:
    """Copy the workbook with one numeric cell's value replaced (every other byte kept)."""
    with zipfile.ZipFile(src) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts[part].decode()
    pat = re.compile(rf'(<c r="{ref}"[^>]*><v>)[^<]*(</v></c>)')
    assert pat.search(xml), ref
    parts[part] = pat.sub(rf"\g<1>{value!r}\g<2>", xml, count=1).encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in parts.items():
            z.writestr(n, b)


def test_spx_in_cents_is_a_warning_naming_the_cell(tmp_path, capfd):
    """Prices!B2355 is SPX on 1998-11-30 (1163.63) in the demo; 116363 is it in cents."""
    src = demo_workbook()
    d = read_workbook(src)
    assert d.prices["SPX"].loc["1998-11-30"] == pytest.approx(1163.63)
    path = tmp_path / "demo.xlsx"
    _set_number(src, path, "xl/worksheets/sheet2.xml", "B2355", 116363.0)
    assert main(["check", "-q", str(path)]) == 0
    out = capfd.readouterr().out
    (line,) = [ln for ln in out.splitlines() if "Prices!B2355" in ln]
    assert "warning: input suspect: 116363" in line and "1098.67" in line, out
    data = read_workbook(path)
    assert [p.where for p in data.suspects["SPX"]] == ["Prices!B2355"]
    assert all(not v for k, v in data.suspects.items() if k != "SPX")


@pytest.mark.slow
def test_spx_at_1e12_fails_alone_on_the_demo(tmp_path, capfd):
    """The issue's second figure: 1e12 in Prices!B2355 gave a forecast of −3,160,457. Now the
    SPX forecast is impossible (×100 a month): SPX fails alone, exit 1, the rest refreshed."""
    import openpyxl

    path = tmp_path / "demo.xlsx"
    _set_number(demo_workbook(), path, "xl/worksheets/sheet2.xml", "B2355", 1e12)
    assert main(["refresh", "-q", str(path)]) == 1
    out = capfd.readouterr().out
    assert "Prices!B2355: warning: input suspect: 1e+12" in out, out
    (failed,) = [ln for ln in out.splitlines() if "FAILED" in ln]
    assert failed.startswith("  FAILED SPX: 1 Mo forecast on 1998-11-30 is impossible"), out
    ws = openpyxl.load_workbook(path, data_only=True)["Stock Forecasts"]
    rows = {r[0]: r for r in ws.iter_rows(values_only=True) if r and r[0] in
            ("SPX", "DJIA", "USMKT")}
    assert rows["SPX"][4] is None and "impossible" in rows["SPX"][-1]
    assert all(isinstance(rows[c][4], float) for c in ("DJIA", "USMKT"))
