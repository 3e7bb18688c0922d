"""Fundamentals' roles stated by the workbook (a Role row under the header), read once by the
reader and used by every model; the name heuristic only where the row is blank, and `gamma
check` says which columns it guessed (issue #13, item 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.cli import main
from engine.inputs.reader import read_workbook
from engine.inputs.problems import InputError
from engine.inputs.roles import column_roles
from engine.models.composite import composite_forecast
from engine.models.skill import rival_forecasts
from engine.models.valuation import valuation_history
from workbook_factory import build


def _dividend_yield_workbook(tmp_path, header: str, role: str | None):
    """The factory workbook whose equity has a dividend-yield column named ``header`` (in
    percent, mean-reverting around 3 %), with a Role row giving ``role`` (None: no row)."""
    def mutate(wb):
        fs = wb["Fundamentals"]
        rows = [[c.value for c in r] for r in fs.iter_rows()]
        wb.remove(fs)
        fs = wb.create_sheet("Fundamentals")
        fs.append([*rows[0], header])
        if role is not None:
            fs.append(["Role", None, role])
        rng = np.random.default_rng(11)
        dy = 3.0
        for r in rows[1:]:
            dy = 3.0 + 0.9 * (dy - 3.0) + rng.normal(0, 0.15)
            fs.append([*r, round(dy, 3)])
        wb["Instruments"]["H2"] = f"CPI, {header}"
    return build(tmp_path / "dy.xlsx", months=180, mutate=mutate)


def test_role_row_is_read_and_is_not_a_data_row(tmp_path):
    d = read_workbook(_dividend_yield_workbook(tmp_path, "DY", "yield"))
    assert d.fundamental_roles == {"DY": "yield"}
    assert d.roles_for("EQ1") == {"DY": "yield"}
    assert len(d.fundamentals) == 180  # the Role row is not a dated row
    # the guessed column is listed, the stated one is not
    assert any('"CPI"' in n and "price level" in n for n in d.notes)
    assert not any('"DY"' in n for n in d.notes)


def test_without_the_row_a_short_name_is_guessed_and_check_says_so(tmp_path, capsys):
    path = _dividend_yield_workbook(tmp_path, "DY", None)
    d = read_workbook(path)
    assert d.fundamental_roles == {}
    assert any('Fundamentals!C1: role of "DY" guessed from its name: level' in n
               for n in d.notes)
    assert main(["check", str(path)]) == 0
    assert 'note: Fundamentals!C1: role of "DY" guessed' in capsys.readouterr().out


def test_a_bad_role_names_its_cell(tmp_path):
    path = _dividend_yield_workbook(tmp_path, "DY", "dividend")
    with pytest.raises(InputError) as e:
        read_workbook(path)
    assert any(p.where == "Fundamentals!C2" and 'role "dividend"' in p.message
               for p in e.value.problems)


def test_the_stated_role_decides_the_model(tmp_path):
    """"DY" guessed is a level (log DY − log P: a cointegration model); stated as a yield,
    the equity's fair value is the dividend-yield model and the SOP anchor uses it."""
    d = read_workbook(_dividend_yield_workbook(tmp_path, "DY", "yield"))
    px, fund = d.prices["EQ1"], d.fundamentals_for("EQ1")
    stated = valuation_history(px, fund, roles=d.roles_for("EQ1"))
    guessed = valuation_history(px, fund)
    assert stated["model"].iloc[-1] == "dividend yield: DY"
    assert guessed["model"].iloc[-1] != stated["model"].iloc[-1]
    named = fund.rename(columns={"DY": "Dividend Yield"})
    by_name = valuation_history(px, named)  # the same data under a name the guess reads right
    assert np.allclose(stated["sigma"], by_name["sigma"], equal_nan=True)
    # and the composite / rivals read the column the same way as the name-guessed twin
    a = composite_forecast(px, fund, roles={"DY": "yield"}).components
    b = composite_forecast(px, named).components.rename(columns={"Dividend Yield": "DY"})
    pd.testing.assert_frame_equal(a, b)
    ra = rival_forecasts(px, fundamentals=fund, roles={"DY": "yield"})
    rb = rival_forecasts(px, fundamentals=named).rename(columns={"Dividend Yield": "DY"})
    pd.testing.assert_frame_equal(ra, rb)


def test_column_roles_stated_guessed_and_per_class():
    assert column_roles(["DY", "CPI"], "Equity", {"DY": "Yield"}) == {
        "DY": "yield", "CPI": "price_level"}
    assert column_roles(["X"], "Equity", {"X": "price level"}) == {"X": "price_level"}
    # a valuation yield is an equity's idea: a bond's input stated as a yield is a rate
    assert column_roles(["DY"], "Bond", {"DY": "yield"}) == {"DY": "rate"}
    with pytest.raises(ValueError, match="role of 'X'"):
        column_roles(["X"], "Equity", {"X": "dividends"})


def test_cells_are_named_right_under_a_role_row(tmp_path):
    """A Role row shifts the data one row down: a slip in the data is still named at its
    own cell (the plausibility warning of a CPI typed ×100 in the 100th data row)."""
    def slip(wb):
        wb["Fundamentals"]["B102"] = wb["Fundamentals"]["B102"].value * 100
    path = _dividend_yield_workbook(tmp_path, "DY", "yield")
    from openpyxl import load_workbook
    wb = load_workbook(path)
    assert wb["Fundamentals"]["A2"].value == "Role"
    slip(wb)
    wb.save(path)
    d = read_workbook(path)
    where = [p.where for p in d.problems if p.severity == "warning"]
    assert "Fundamentals!B102" in where, where
