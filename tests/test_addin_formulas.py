"""Excel fidelity on Linux, part (b): the demo's ``Functions`` sheet evaluated by an Excel
formula engine (the ``formulas`` package) with our UDFs registered as Excel functions.

Each formula cell (live ``=gamma_…(…)`` formula, column C) is computed from the demo's input
cells exactly as a spreadsheet engine resolves the references, then compared with the engine's
own figure that the workbook builder wrote beside it (column Q), which was computed by calling
the engine models directly, not through the UDF adapters.

How the registered functions receive arguments mirrors xlwings (see ``addin.udfs``): a range
argument as a 2-D list with blanks ``None`` and error cells as their text; a one-cell argument
as a scalar; an omitted optional argument as its Python default. Dates reach the functions as
Excel serial numbers here (cells that are not date-typed in the formula engine), which the
adapters accept as well as datetimes.
"""

from __future__ import annotations

import inspect
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

formulas = pytest.importorskip("formulas")
import schedula as sh  # noqa: E402  (a dependency of formulas)
from openpyxl import load_workbook  # noqa: E402
from openpyxl.worksheet.formula import ArrayFormula  # noqa: E402

import addin.udfs as U  # noqa: E402
from workbooks.demo_addin import ENGINE_COL, FUNCTIONS_SHEET, RESULT_COL  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"


def _cell(v):
    """One value as xlwings delivers it from a cell."""
    if v is sh.EMPTY or v is None:
        return None
    if isinstance(v, formulas.functions.XlError):
        return str(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _excel_function(name: str):
    """``name`` as the formula engine calls it, with xlwings' argument conventions."""
    specs = U.EXCEL_ARGS[name]
    params = list(inspect.signature(getattr(U, name)).parameters.values())

    def fn(*args):
        out = []
        for (arg, options, _), p, a in zip(specs, params, args):
            optional = p.default is not inspect.Parameter.empty
            if optional and not hasattr(a, "value") and type(a) is int and a == 0:
                out.append(p.default)   # formulas passes an omitted argument (",,") as 0
                continue
            v = getattr(a, "value", a)  # a Ranges object carries its cells in .value
            if isinstance(v, np.ndarray):
                rows = [[_cell(x) for x in r] for r in np.atleast_2d(v).tolist()]
            else:
                rows = [[_cell(v)]]
            if options.get("ndim") == 2:
                out.append(rows)
            else:
                out.append(rows[0][0])
        res = getattr(U, name)(*out)
        return np.array(res, dtype=object) if isinstance(res, list) else res

    return fn


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    work = tmp_path_factory.mktemp("formulas") / "demo.xlsx"
    shutil.copy(DEMO, work)
    funcs = formulas.get_functions()
    for name in U.UDF_NAMES:
        funcs[name.upper()] = _excel_function(name)
    model = formulas.ExcelModel().loads(str(work)).finish()
    sol = model.calculate()
    by_ref = {}
    for key, val in sol.items():
        if f"]{FUNCTIONS_SHEET.upper()}'!" in key.upper():
            by_ref[key.split("!")[1].upper()] = np.atleast_2d(getattr(val, "value", val))
    return by_ref


def _formula_cells():
    ws = load_workbook(DEMO)[FUNCTIONS_SHEET]
    out = []
    for row in range(1, ws.max_row + 1):
        c = ws.cell(row, RESULT_COL)
        v = c.value
        if isinstance(v, ArrayFormula):
            out.append((v.text, v.ref, row, ws))
        elif isinstance(v, str) and v.startswith("=gamma_"):
            out.append((v, c.coordinate, row, ws))
    return out


def test_functions_sheet_calls_every_udf():
    called = {f.split("(")[0][1:] for f, *_ in _formula_cells()}
    assert called == set(U.UDF_NAMES)


def _same(got, want) -> bool:
    if want is None:
        return got in ("", None) or got is sh.EMPTY
    if isinstance(want, str):
        return got == want
    if isinstance(got, str):
        return False
    # same computation reached by two paths (adapter vs direct engine call): only
    # floating-point summation order may differ
    return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-12)


def test_every_formula_equals_the_engine_figure(evaluated):
    checked = 0
    for text, ref, row, ws in _formula_cells():
        got = evaluated[ref.upper()]
        h, w = got.shape
        want = [[ws.cell(row + i, ENGINE_COL + j).value for j in range(w)] for i in range(h)]
        assert not any(isinstance(x, str) and x.startswith("#") for x in got.ravel()), \
            (text, got)
        for i in range(h):
            for j in range(w):
                assert _same(_cell(got[i, j]), want[i][j]), (text, i, j, got[i, j], want[i][j])
                checked += 1
    assert checked >= 80  # every cell of every result block
