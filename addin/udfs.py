"""The xlwings UDF module Excel imports (xlwings ribbon / ``xlwings.conf``: UDF Modules =
``addin.udfs``).

Every ``gamma_*`` function of DESIGN.md is re-exported here with xlwings' open-source
decorators (``@xw.func``, ``@xw.arg``; nothing from ``xlwings.pro``). The logic lives in the
adapters (:mod:`addin.udfs_valuation`, :mod:`addin.udfs_forecast`,
:mod:`addin.udfs_performance`); this module only says how Excel passes the arguments:

* ranges arrive as 2-D lists (``ndim=2``: a single cell is ``[[v]]``, a row ``[[a, b, c]]``),
  so a row range and a column range keep their shape and a result spills the same way;
* blanks arrive as ``None``, date-formatted cells as :class:`datetime.datetime`, other numbers
  as floats; error cells (``#N/A`` from a ``BDH()``) arrive as their text (``err_to_str``) so
  the function can say which row holds them instead of silently skipping it;
* an omitted optional argument gets the Python default.

Results are scalars or rectangular 2-D lists: modern Excel spills them as dynamic arrays (no
legacy ``expand`` resizing). A problem comes back as one ``#…`` string naming the argument;
nothing raises into Excel. Repeated calls with the same inputs are served from the adapters'
cache (:func:`addin.convert.udf`; ranges are hashed as tuples).

The wrappers carry no type annotations on purpose: xlwings reads annotations as converters
(``convert=typing.Any`` would break the call). ``EXCEL_ARGS`` below is the single record of the
Excel-facing signature; :func:`excel_decorate` applies it with any implementation of the three
decorators (the real ones here; the Linux tests pass xlwings' Windows ``udfs`` module).
Import cost: the adapters (pandas, numpy, the engine models; statsmodels and scipy only
inside the models) are imported on a function's first call, and their docstrings are read from
source without importing them. xlwings is imported where its decorators do something — on
Windows, where the add-in's COM server has imported xlwings before this module — or when it is
already loaded; elsewhere xlwings' own decorators are no-ops, and so are ours. So
``import addin.udfs`` costs milliseconds on top of what the add-in has already loaded
(``bench/bench_udfs.py`` measures it).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from functools import lru_cache
from typing import Any, Callable

if sys.platform.startswith("win") or "xlwings" in sys.modules:
    import xlwings as xw

    _func, _arg = xw.func, xw.arg
else:  # xlwings' UDF decorators only act on Windows (open-source edition)
    def _func(f=None, **kwargs):
        return (lambda g: g) if f is None else f

    def _arg(*args, **kwargs):
        return lambda g: g

CATEGORY = "Gamma Desk"

# Conversion options of a range argument and of a one-cell argument (see module doc).
RANGE = {"ndim": 2, "err_to_str": True}
CELL = {"err_to_str": True}

# name -> [(argument, xlwings options, Excel argument help ≤ 255 characters)], in signature order
EXCEL_ARGS: dict[str, list[tuple[str, dict[str, Any], str]]] = {
    "gamma_position": [
        ("forecast", RANGE, "One-month forecast: decimal return (0.0073) or, for yields, the "
                            "change in % points (-0.09). One cell or a range (same-shape result)."),
        ("band", CELL, "Optional neutral band in the forecast's unit: |forecast| <= band is "
                       "Neutral (0). Blank: the refresh's default band of asset_class (0 when "
                       "no class is given)."),
        ("quote", CELL, 'Optional "Price" (default) or "Yield" (a forecast fall in the yield '
                        "is Long the bond)."),
        ("asset_class", CELL, "Optional Equity, Bond, FX or Commodity: a blank band is then "
                              "the one the refresh uses, so the cell agrees with the table."),
    ],
    "gamma_trade": [
        ("previous_position", RANGE, "Previous position: 1 / 0 / -1 or Long / Neutral / Short "
                                     "(one cell or a range)."),
        ("position", RANGE, "New position, same shape as previous_position."),
    ],
    "gamma_forecast": [
        ("dates", RANGE, "Observation dates, one column (daily data are sampled to month-end)."),
        ("prices", RANGE, "Levels in the same rows (> 0), or yields in % with quote "
                          '"Yield"; at least 38 months.'),
        ("factors", RANGE, "Optional fundamentals in the same rows (CPI, earnings, short "
                           "rate…), optionally under one header row of names."),
        ("quote", CELL, '"Price" (default), "Yield", or the asset class "Equity", '
                        '"Commodity", "FX", "Bond".'),
    ],
    "gamma_valuation": [
        ("dates", RANGE, "Observation dates, one column (daily or monthly)."),
        ("prices", RANGE, "Levels in the same rows (> 0; yields in % with quote \"Yield\"); "
                          "at least 60 months."),
        ("fundamentals", RANGE, "Optional fair-value inputs in the same rows, optionally under "
                                "a header row of names (CPI, Earnings, …)."),
        ("quote", CELL, '"Price" (default), "Yield", "Equity", "Commodity", "FX" or "Bond".'),
        ("header", CELL, "Optional TRUE puts the column names above the result row."),
    ],
    "gamma_sigma": [
        ("dates", RANGE, "Observation dates, one column (daily or monthly)."),
        ("prices", RANGE, "Levels in the same rows (> 0; yields in % with quote \"Yield\"); "
                          "at least 60 months."),
        ("fundamentals", RANGE, "Optional fair-value inputs in the same rows, optionally under "
                                "a header row of names."),
        ("quote", CELL, '"Price" (default), "Yield", "Equity", "Commodity", "FX" or "Bond".'),
    ],
    "gamma_bond_valuation": [
        ("dates", RANGE, "Observation dates, one column (daily or monthly)."),
        ("yields", RANGE, "The bond's yield in percent (4.25 = 4.25 %), same rows; at least "
                          "60 months."),
        ("maturity", CELL, "Maturity in years (> 0, e.g. 10)."),
        ("fundamentals", RANGE, "Optional inflation input (CPI level or rate) and short rate, "
                                "same rows, optional header row of names."),
        ("header", CELL, "Optional TRUE puts the column names above the result row."),
    ],
    "gamma_perf": [
        ("dates", RANGE, "Month-end dates, one column."),
        ("returns", RANGE, "Monthly total returns as decimals (0.0173 = 1.73 %), same rows; "
                           "blank = missing month."),
        ("asof", CELL, "Optional as-of month (default: the last date with a return)."),
        ("years", CELL, "Optional number of prior calendar years, 0 to 10 (default 2)."),
        ("header", CELL, "Optional TRUE adds a header row."),
    ],
    "gamma_link": [
        ("returns", RANGE, "A column or row of decimal returns; blanks are skipped."),
    ],
    "gamma_annualize": [
        ("total_return", CELL, "Total return over the period as a decimal (0.25 = 25 %)."),
        ("months", CELL, "Length of the period in whole months (>= 12)."),
    ],
    "gamma_gdp_gap": [
        ("periods", RANGE, 'Years or quarters in order (2019, "2023Q1", …).'),
        ("growth", RANGE, "Real GDP growth in % as published (quarterly annualized); the base "
                          "period may be blank."),
        ("trend_growth", CELL, "Trend growth in % per year (e.g. 2.24)."),
        ("base_period", CELL, "The period indexed to 100 (e.g. 2019)."),
        ("deannualize", CELL, 'Optional "compound" ((1+g)^(1/4)-1, default) or "simple" (g/4).'),
        ("header", CELL, "Optional TRUE adds the header row."),
    ],
}

# The module of the engine adapter behind each UDF (same function name).
ADAPTER_MODULES: dict[str, str] = {
    "gamma_position": "addin.udfs_forecast", "gamma_trade": "addin.udfs_forecast",
    "gamma_forecast": "addin.udfs_forecast", "gamma_valuation": "addin.udfs_valuation",
    "gamma_sigma": "addin.udfs_valuation", "gamma_bond_valuation": "addin.udfs_valuation",
    "gamma_perf": "addin.udfs_performance", "gamma_link": "addin.udfs_performance",
    "gamma_annualize": "addin.udfs_performance", "gamma_gdp_gap": "addin.udfs_performance",
}


def adapter(name: str) -> Callable[..., Any]:
    """The engine adapter behind UDF ``name`` (imported on first use)."""
    return getattr(importlib.import_module(ADAPTER_MODULES[name]), name)


@lru_cache(maxsize=None)
def _module_docs(module: str) -> dict[str, str]:
    """Function docstrings of a module, read from its source without importing it."""
    spec = importlib.util.find_spec(module)
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    return {n.name: ast.get_docstring(n) or "" for n in tree.body
            if isinstance(n, ast.FunctionDef)}


def adapter_doc(name: str) -> str:
    """The adapter's docstring (cleaned), the UDF's help text."""
    return _module_docs(ADAPTER_MODULES[name]).get(name, "")


def excel_decorate(fn: Callable[..., Any], func: Callable[..., Any], arg: Callable[..., Any]
                   ) -> Callable[..., Any]:
    """Apply ``EXCEL_ARGS[fn.__name__]`` with the given ``func`` / ``arg`` decorators
    (xlwings' ``xw.func`` and ``xw.arg``, or the Windows ``xlwings.udfs.xlfunc`` / ``xlarg``)."""
    for name, options, help_text in reversed(EXCEL_ARGS[fn.__name__]):
        fn = arg(name, doc=help_text, **options)(fn)
    # call_in_wizard=False: Excel's Function Wizard would run the function on every keystroke
    # of its dialog (a forecast refits per keystroke); the cell computes when it is entered.
    fn = func(category=CATEGORY, call_in_wizard=False)(fn)
    info = getattr(fn, "__xlfunc__", None)  # set on Windows only
    if info is not None and fn.__doc__:
        # Excel's function wizard shows one paragraph of at most 255 characters
        info["ret"]["doc"] = excel_help(fn.__doc__)
    return fn


def excel_help(doc: str) -> str:
    """A docstring as Excel's one-paragraph function description (≤ 255 characters)."""
    text = " ".join(doc.split())
    return text if len(text) <= 255 else text[:254].rsplit(" ", 1)[0] + "…"


def _excel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give the wrapper the adapter's docstring (Excel's function help) and xlwings' marks."""
    fn.__doc__ = adapter_doc(fn.__name__)
    return excel_decorate(fn, _func, _arg)


def _call(name: str, *args: Any) -> Any:
    """Run the adapter; a scalar or a rectangular 2-D list, never an exception."""
    try:
        out = adapter(name)(*args)
    except Exception as e:  # the adapters never raise; import errors and the unforeseen
        return f"#VALUE!: {name}: {type(e).__name__}: {e}"
    if isinstance(out, list):
        if not out or not all(isinstance(r, list) and r for r in out):
            return f"#N/A: {name}: empty range, nothing to compute"
        if not all(isinstance(r, list) for r in out) or len({len(r) for r in out}) != 1:
            return f"#VALUE!: {name}: result is not a rectangular range"
    return out


@_excel
def gamma_position(forecast, band=None, quote=None, asset_class=None):
    return _call("gamma_position", forecast, band, quote, asset_class)


@_excel
def gamma_trade(previous_position, position):
    return _call("gamma_trade", previous_position, position)


@_excel
def gamma_forecast(dates, prices, factors=None, quote="Price"):
    return _call("gamma_forecast", dates, prices, factors, quote)


@_excel
def gamma_valuation(dates, prices, fundamentals=None, quote="Price", header=False):
    return _call("gamma_valuation", dates, prices, fundamentals, quote, header)


@_excel
def gamma_sigma(dates, prices, fundamentals=None, quote="Price"):
    return _call("gamma_sigma", dates, prices, fundamentals, quote)


@_excel
def gamma_bond_valuation(dates, yields, maturity, fundamentals=None, header=False):
    return _call("gamma_bond_valuation", dates, yields, maturity, fundamentals, header)


@_excel
def gamma_perf(dates, returns, asof=None, years=2, header=False):
    return _call("gamma_perf", dates, returns, asof, years, header)


@_excel
def gamma_link(returns):
    return _call("gamma_link", returns)


@_excel
def gamma_annualize(total_return, months):
    return _call("gamma_annualize", total_return, months)


@_excel
def gamma_gdp_gap(periods, growth, trend_growth, base_period, deannualize="compound",
                  header=False):
    return _call("gamma_gdp_gap", periods, growth, trend_growth, base_period, deannualize,
                 header)


UDF_NAMES = tuple(EXCEL_ARGS)

__all__ = [*UDF_NAMES, "EXCEL_ARGS", "ADAPTER_MODULES", "adapter", "adapter_doc",
           "excel_decorate", "excel_help", "CATEGORY"]
