"""No look-ahead at workbook level: `gamma refresh --asof t` on two workbooks that differ only
after t writes identical engine sheets — every figure, table and chart feed."""

from __future__ import annotations

import datetime as dt

from openpyxl import load_workbook

import workbook_factory as wf
from engine.cli import main
from engine.tables.base import ENGINE_SHEETS

T = dt.datetime(2019, 12, 31)


def triple_after_t(wb) -> None:
    """Multiply every input number dated after T by three (prices, yields, fundamentals,
    returns, income) — a wildly different future."""
    for sheet in ("Prices", "Fundamentals", "Returns", "Income"):
        ws = wb[sheet]
        for row in ws.iter_rows(min_row=2):
            if isinstance(row[0].value, dt.datetime) and row[0].value > T:
                for c in row[1:]:
                    if isinstance(c.value, (int, float)):
                        c.value = c.value * 3 if sheet != "Returns" else c.value * 0.3 - 0.05


def engine_cells(path) -> dict[str, list[tuple]]:
    wb = load_workbook(path, data_only=True)
    return {s: list(wb[s].iter_rows(values_only=True)) for s in ENGINE_SHEETS
            if s in wb.sheetnames}


def test_refresh_asof_ignores_everything_after_t(tmp_path):
    a = wf.build(tmp_path / "a.xlsx")
    b = wf.build(tmp_path / "b.xlsx", mutate=triple_after_t)
    for p in (a, b):
        assert main(["refresh", str(p), "--asof", "2019-12-31", "--quiet"]) in (0, 1)
    ca, cb = engine_cells(a), engine_cells(b)
    assert set(ca) == set(cb) and len(ca) >= 10
    for sheet in ca:
        assert ca[sheet] == cb[sheet], f"{sheet} differs although only data after t changed"
    # and the future really was different: a refresh at the last date disagrees
    for p in (a, b):
        assert main(["refresh", str(p), "--quiet"]) in (0, 1)
    assert engine_cells(a)["Data Status"] != engine_cells(b)["Data Status"]
