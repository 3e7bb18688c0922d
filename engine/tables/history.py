"""The ``History`` sheet: the audit trail of every refresh (issue #4 item 3).

Each refresh appends one row per instrument with a forecast: ``As Of`` (the refresh's as-of
date), ``Code``, ``Forecast`` (decimal return; percentage points for yields), ``Position``
(1 / 0 / −1), ``Trade``, ``Phase``, ``Model Version`` (:func:`engine.version.model_version`:
the package version, a hash of the model code and one of the settings) and ``Last Data Date``
(the instrument's last observation used). Re-running the same as-of replaces
that as-of's rows only; every other row read from the workbook (``ctx.history``) is written back
unchanged. Rows are ordered by ``As Of``, then in the order they were written.
"""

from __future__ import annotations

import pandas as pd

from engine.inputs.reader import HISTORY_COLUMNS  # the reader reads back what this writes
from engine.tables.base import DATE, RefreshContext, SheetContent, Table, register
from engine.version import model_version


def new_rows(ctx: RefreshContext) -> pd.DataFrame:
    """This refresh's History rows, from ``ctx.forecast_rows`` (filled by the forecasts
    builder), in instrument order."""
    cur = ctx.forecast_rows
    asof = pd.Timestamp(ctx.data.asof).normalize()
    version = model_version(ctx.data.settings)
    rows = [{"As Of": asof, "Code": code, "Forecast": r["forecast"], "Position": r["position"],
             "Trade": r["trade"], "Phase": r["phase"], "Model Version": version,
             "Last Data Date": pd.Timestamp(r["last_date"]).normalize()}
            for code in ctx.data.instruments if (r := cur.get(code)) is not None]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def merge_history(previous: pd.DataFrame | None, rows: pd.DataFrame,
                  asof: pd.Timestamp) -> pd.DataFrame:
    """Previous History rows without those of ``asof``, plus ``rows``; sorted by As Of (stable).
    """
    asof = pd.Timestamp(asof).normalize()
    if previous is None or len(previous) == 0:
        old = pd.DataFrame(columns=HISTORY_COLUMNS)
    else:
        old = previous.reindex(columns=HISTORY_COLUMNS).copy()
        old["As Of"] = pd.to_datetime(old["As Of"], errors="coerce")
        old["Last Data Date"] = pd.to_datetime(old["Last Data Date"], errors="coerce")
        old = old[old["As Of"].dt.normalize() != asof]
    parts = [p for p in (old, rows) if len(p)]
    if not parts:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
    out = out.sort_values("As Of", kind="stable").reset_index(drop=True)
    return out[HISTORY_COLUMNS]


@register("history", order=90)
def build(ctx: RefreshContext) -> list[SheetContent]:
    """Rewrite ``History`` = previous rows (other as-ofs) + this refresh's rows."""
    rows = new_rows(ctx)
    df = merge_history(ctx.history, rows, ctx.data.asof)
    return [SheetContent("History", tables=[Table(
        "History", df, formats={"As Of": DATE, "Last Data Date": DATE, "Forecast": "0.0000",
                                "Position": "0"})])]
