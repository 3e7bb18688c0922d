"""Excel fidelity on Linux, part (a): xlwings' own Windows code paths.

xlwings' UDF registration (``xlwings/udfs.py``) and its Windows conversion engine
(``xlwings/_xlwindows.py``) import pywin32 and call Windows DLLs at import time. Those
imports are stubbed below (only the modules and DLL handles, never xlwings' code), then:

* our functions are decorated with the real ``xlwings.udfs.xlfunc`` / ``xlarg`` and the
  recorded ``__xlfunc__`` is compared with each function's Python signature;
* ``xlwings.udfs.generate_vba_wrapper`` writes the VBA the add-in would import, and its
  ``Function`` lines are checked (names, Optional arguments);
* arguments go through ``xlwings.conversion.read`` exactly as ``call_udf`` does with the
  values pywin32 hands over (tuples of tuples, pywintypes dates, error codes as ints),
  and results through ``xlwings.conversion.write``.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import importlib
import inspect
import io
import re
import sys
import types
from unittest import mock

import pytest

import addin.udfs as U

WIN_MODULES = ["pywintypes", "win32api", "win32con", "pythoncom", "win32com",
               "win32com.client", "win32com.server", "win32com.server.dispatcher",
               "win32com.server.policy", "win32com.server.util", "win32gui", "win32process",
               "win32timezone", "win32event"]


class _PyTime(dt.datetime):
    """Stand-in for pywintypes.TimeType (a datetime subclass in pywin32)."""


def _stub(name: str) -> types.ModuleType:
    m = types.ModuleType(name)
    m.__getattr__ = lambda attr: mock.MagicMock(name=f"{name}.{attr}")  # type: ignore
    return m


@pytest.fixture(scope="module")
def xlwin():
    """xlwings.udfs, xlwings.conversion and the Windows engine, with pywin32 stubbed."""
    import xlwings

    saved = {k: sys.modules.get(k) for k in WIN_MODULES + ["xlwings.udfs", "xlwings._xlwindows"]}
    stubs = {n: _stub(n) for n in WIN_MODULES}
    stubs["pywintypes"].TimeType = _PyTime
    stubs["pywintypes"].com_error = type("com_error", (Exception,), {})
    stubs["pywintypes"].error = type("error", (Exception,), {})
    stubs["win32com"].client = stubs["win32com.client"]
    with mock.patch.dict(sys.modules, stubs), \
            mock.patch.object(ctypes, "windll", mock.MagicMock(), create=True), \
            mock.patch.object(ctypes, "oledll", mock.MagicMock(), create=True), \
            mock.patch.object(ctypes, "PyDLL", mock.MagicMock()):
        sys.modules.pop("xlwings._xlwindows", None)
        sys.modules.pop("xlwings.udfs", None)
        xlwindows = importlib.import_module("xlwings._xlwindows")
        udfs = importlib.import_module("xlwings.udfs")
    added = "excel" not in [e.name for e in xlwings.engines]
    if added:
        xlwings.engines.add(xlwings.main.Engine(impl=xlwindows.engine))
    try:
        yield types.SimpleNamespace(udfs=udfs, win=xlwindows, conversion=xlwings.conversion)
    finally:
        if added:
            eng = xlwings.engines.engines_by_name.pop("excel", None)
            if eng in xlwings.engines.engines:
                xlwings.engines.engines.remove(eng)
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def _fresh(fn):
    """A copy of a wrapper function without any xlwings marks."""
    g = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                           fn.__closure__)
    g.__doc__ = fn.__doc__
    return g


def _decorated(xlwin):
    return {n: U.excel_decorate(_fresh(getattr(U, n)), xlwin.udfs.xlfunc, xlwin.udfs.xlarg)
            for n in U.UDF_NAMES}


DESIGN_UDFS = {"gamma_position", "gamma_trade", "gamma_forecast", "gamma_valuation",
               "gamma_sigma", "gamma_bond_valuation", "gamma_perf", "gamma_link",
               "gamma_annualize", "gamma_gdp_gap"}


def test_every_design_udf_is_exported():
    assert set(U.UDF_NAMES) == DESIGN_UDFS
    for n in DESIGN_UDFS:
        assert callable(getattr(U, n))


@pytest.mark.parametrize("name", sorted(DESIGN_UDFS))
def test_signature_matches_adapter_and_excel_args(name):
    wrapper = inspect.signature(getattr(U, name))
    adapter = inspect.signature(U.adapter(name))
    assert list(wrapper.parameters) == list(adapter.parameters) == \
        [a for a, _, _ in U.EXCEL_ARGS[name]]
    for p, q in zip(wrapper.parameters.values(), adapter.parameters.values()):
        assert p.default == q.default
        # xlwings treats an annotation as a converter: the Excel-facing wrapper has none
        assert p.annotation is inspect.Parameter.empty
    assert wrapper.return_annotation is inspect.Signature.empty


def test_recorded_conversions_match_signature(xlwin):
    for name, f in _decorated(xlwin).items():
        info = f.__xlfunc__
        sig = inspect.signature(f)
        assert info["name"] == name and info["sub"] is False
        assert info["category"] == U.CATEGORY
        assert info["async_mode"] is None and info["volatile"] is False
        # the Function Wizard does not run it on every keystroke (issue 13)
        assert info["call_in_wizard"] is False
        assert [a["name"] for a in info["args"]] == list(sig.parameters)
        for a, (pname, p) in zip(info["args"], sig.parameters.items()):
            spec = {n: o for n, o, _ in U.EXCEL_ARGS[name]}[pname]
            assert a["options"] == spec, (name, pname)
            assert "convert" not in a["options"]
            assert 0 < len(a["doc"]) <= 255 and a["doc"] != f"Positional argument {a['pos'] + 1}"
            if p.default is inspect.Parameter.empty:
                assert "optional" not in a
            else:
                assert a["optional"] == p.default
        # function help: the adapter's docstring, one paragraph, Excel's 255-character limit
        doc = info["ret"]["doc"]
        assert 0 < len(doc) <= 255 and "\n" not in doc
        assert doc.split(".")[0] in " ".join(U.adapter(name).__doc__.split())
        assert f.__doc__ == inspect.cleandoc(U.adapter(name).__doc__)
        assert info["ret"]["options"] == {}  # native dynamic arrays: no legacy 'expand'


def test_generated_vba_wrappers(xlwin):
    """xlwings' own VBA generator on our module: one Function per UDF, optional args marked."""
    mod = types.SimpleNamespace(**_decorated(xlwin))
    out = io.StringIO()
    book = mock.MagicMock()
    book.Name = "demo.xlsx"
    xlwin.udfs.generate_vba_wrapper("addin.udfs", mod, out, book)
    vba = out.getvalue()
    sigs = dict(re.findall(r"^Function (\w+)\((.*)\)$", vba, flags=re.M))
    assert set(sigs) == DESIGN_UDFS
    assert sigs["gamma_valuation"] == ("dates, prices, Optional fundamentals, Optional quote, "
                                       "Optional header")
    assert sigs["gamma_bond_valuation"] == ("dates, yields, maturity, Optional fundamentals, "
                                            "Optional header")
    assert sigs["gamma_link"] == "returns"
    assert 'XLPy.CallUDF("addin.udfs", "gamma_sigma", Array(dates, prices, fundamentals, ' \
           'quote), ThisWorkbook, Application.Caller)' in vba


def _read(xlwin, f, pos, value):
    return xlwin.conversion.read(None, value, f.__xlfunc__["args"][pos]["options"])


def test_arguments_through_xlwings_conversion(xlwin):
    f = _decorated(xlwin)
    na = -2146826246  # what pywin32 gives for a #N/A cell
    # a column of three cells: a pywintypes date, a blank, an error
    col = ((_PyTime(2020, 1, 31),), (None,), (na,))
    assert _read(xlwin, f["gamma_valuation"], 0, col) == [[dt.datetime(2020, 1, 31)], [None],
                                                          ["#N/A"]]
    # one cell to a range argument is still 2-D; a row stays a row
    assert _read(xlwin, f["gamma_link"], 0, 0.01) == [[0.01]]
    assert _read(xlwin, f["gamma_link"], 0, ((0.01, 0.02, ""),)) == [[0.01, 0.02, None]]
    # scalar arguments stay scalars; an error cell is its text, a blank is None
    assert _read(xlwin, f["gamma_annualize"], 1, 24.0) == 24.0
    assert _read(xlwin, f["gamma_annualize"], 1, na) == "#N/A"
    assert _read(xlwin, f["gamma_position"], 1, None) is None


def _call(xlwin, f, *excel_args):
    """What xlwings.udfs.call_udf does for a synchronous, non-legacy-array UDF."""
    info = f.__xlfunc__
    args = list(excel_args)
    for i, a in enumerate(args):
        ai = info["args"][min(i, len(info["args"]) - 1)]
        args[i] = ai.get("optional") if isinstance(a, int) and a == -2147352572 else \
            xlwin.conversion.read(None, a, ai["options"])
    return xlwin.conversion.write(f(*args), None, info["ret"]["options"])


MISSING = -2147352572  # the VBA wrapper's "missing argument"


def test_end_to_end_calls(xlwin):
    f = _decorated(xlwin)
    assert _call(xlwin, f["gamma_link"], ((0.1,), (0.2,), (None,))) == [[pytest.approx(0.32)]]
    assert _call(xlwin, f["gamma_annualize"], 0.21, 24.0) == [[pytest.approx(0.1)]]
    assert _call(xlwin, f["gamma_position"], ((0.01, -0.02, 0.001),), 0.005, MISSING) == \
        [[1, -1, 0]]
    assert _call(xlwin, f["gamma_position"], ((0.09,), (-0.2,)), MISSING, "Yield") == \
        [[-1], [1]]
    assert _call(xlwin, f["gamma_trade"], 0.0, 1.0) == [["B"]]
    assert _call(xlwin, f["gamma_trade"], ((1.0, -1.0),), (("Short", "Long"),)) == \
        [["CL&S", "CS&B"]]
    got = _call(xlwin, f["gamma_gdp_gap"], ((2019.0,), (2020.0,)), ((None,), (10.0,)), 0.0,
                2019.0, MISSING, True)
    assert got[0][0] == "Period" and got[2][3] == pytest.approx(110.0)
    # an error cell in a range comes back as one '#…' string naming the row
    err = _call(xlwin, f["gamma_link"], ((0.1,), (-2146826246,)))
    assert err[0][0].startswith("#VALUE!: returns (cell 2): contains the Excel error #N/A")


def test_results_write_as_excel_values(xlwin):
    """Result cells go through the Windows engine's write path (NaN -> empty, numpy -> float)."""
    import numpy as np
    out = xlwin.conversion.write([[np.float64(0.5), float("nan"), None, "x"]], None, {})
    assert out == [[0.5, "", "", "x"]]
    with pytest.raises(Exception, match="same length"):
        xlwin.conversion.write([[1, 2], [3]], None, {})  # why U._call checks rectangles
    assert U._call("gamma_link", []) == "#N/A: returns: no returns given (all cells blank)"


def test_import_is_light_and_fast():
    """What a recalculating Excel waits for on first load: no statsmodels/scipy/openpyxl/
    matplotlib (nor pandas) at import; measured in a fresh interpreter."""
    import subprocess
    from pathlib import Path
    code = ("import sys,time;t=time.perf_counter();import addin.udfs;"
            "print(time.perf_counter()-t);"
            "print(','.join(m for m in ('statsmodels','scipy','openpyxl','matplotlib',"
            "'pandas','numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    seconds, loaded = out.splitlines()[0], (out.splitlines()[1:] or [""])[0]
    assert loaded == ""
    assert float(seconds) < 0.5


def test_repeated_calls_are_served_from_the_cache():
    import copy
    dates = [[dt.datetime(2000 + (k + 1) // 12, (k + 1) % 12 + 1, 1) - dt.timedelta(days=1)]
             for k in range(72)]
    prices = [[100.0 + k + (k % 7)] for k in range(72)]
    served = U.adapter("gamma_valuation").cache_hits
    first = U.gamma_valuation(dates, prices)
    hits = served()
    again = U.gamma_valuation(copy.deepcopy(dates), copy.deepcopy(prices))  # equal, not same
    # from the cache (keyed on the values: lists hashed as tuples), as a copy of its own
    assert served() == hits + 1 and again == first and again is not first
    other = U.gamma_valuation(dates, prices[:-1] + [[999.0]])
    assert served() == hits + 1 and other != first
