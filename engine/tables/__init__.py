"""Table builders: importing this package registers every builder, in run order."""

import importlib

from engine.tables.base import (ENGINE_SHEETS, RefreshContext, SheetContent, Table, builders,
                                check_refs, register)
from engine.tables.charts import Axis, ChartSpec, Ref, Series

# Builder modules by area; a module not yet present is skipped (its sheets are not written).
BUILDER_MODULES = ("data_status", "valuation", "forecasts", "chart_sheet", "commentary",
                   "performance", "gdp_gap", "history")

for _m in BUILDER_MODULES:
    try:
        importlib.import_module(f"engine.tables.{_m}")
    except ModuleNotFoundError as e:  # only a missing builder module itself is tolerated
        if e.name != f"engine.tables.{_m}":
            raise

__all__ = ["ENGINE_SHEETS", "Axis", "ChartSpec", "Ref", "RefreshContext", "Series",
           "SheetContent", "Table", "builders", "check_refs", "register"]
