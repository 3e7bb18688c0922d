"""The ``History`` sheet: the audit trail of every refresh (issue #4 item 3).

Each refresh appends one row per instrument with a forecast: ``As Of`` (the refresh's as-of
date), ``Code``, ``Forecast`` (decimal return; percentage points for yields), ``Position``
(1 / 0 / −1), ``Trade``, ``Phase``, ``Model Version`` (:func:`engine.version.model_version`:
the package version, a hash of the model code and one of the settings) and ``Last Data Date``
(the instrument's last observation used).

One row per instrument per **update** (DESIGN.md), not per refresh: the update a row belongs to
is the update date its ``Last Data Date`` feeds (:func:`engine.models.signals.update_date_of`
with the instrument's ``Update`` rule). A refresh between two updates (e.g. on the 5th, 10th
and 20th for a month-end instrument) holds the same update as the refresh before it and
replaces that row instead of adding one, so counting trades from History counts each update's
trade once. Re-running the same as-of replaces that as-of's rows; every other row read from the
workbook (``ctx.history``) is written back unchanged, except that of two rows of one instrument
and one update (written by an older version) only the later is kept. Rows are ordered by
``As Of``, then in the order they were written.
"""

from __future__ import annotations

import pandas as pd

from engine.inputs.reader import HISTORY_COLUMNS  # the reader reads back what this writes
from engine.models.signals import update_date_of
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


def update_keys(df: pd.DataFrame, rules: dict[str, str] | None = None) -> pd.Series:
    """``(code, update date)`` of each History row: the update its ``Last Data Date`` feeds
    under the instrument's ``Update`` rule (``rules``: code → rule; MonthEnd when absent).
    ``None`` for a row without a usable Last Data Date (it is never merged with another)."""
    rules = rules or {}
    keys = []
    for code, last in zip(df["Code"], pd.to_datetime(df["Last Data Date"], errors="coerce")):
        if pd.isna(last):
            keys.append(None)
            continue
        try:
            upd = update_date_of(last, rules.get(str(code), "MonthEnd"))
        except ValueError:  # an unknown rule: the observation itself identifies the update
            upd = pd.Timestamp(last).normalize()
        keys.append((str(code), upd))
    return pd.Series(keys, index=df.index, dtype=object)


def merge_history(previous: pd.DataFrame | None, rows: pd.DataFrame,
                  asof: pd.Timestamp, rules: dict[str, str] | None = None) -> pd.DataFrame:
    """Previous History rows without those of ``asof`` and without those of the same
    instrument and update as one of ``rows`` (:func:`update_keys`), plus ``rows``; of two
    previous rows of one instrument and update only the later is kept. Sorted by As Of
    (stable)."""
    asof = pd.Timestamp(asof).normalize()
    if previous is None or len(previous) == 0:
        old = pd.DataFrame(columns=HISTORY_COLUMNS)
    else:
        old = previous.reindex(columns=HISTORY_COLUMNS).copy()
        old["As Of"] = pd.to_datetime(old["As Of"], errors="coerce")
        old["Last Data Date"] = pd.to_datetime(old["Last Data Date"], errors="coerce")
        old = old[old["As Of"].dt.normalize() != asof]
    if len(old):
        new_keys = set(update_keys(rows, rules).dropna()) if len(rows) else set()
        key = update_keys(old, rules)
        old = old[~key.isin(new_keys)]
        key = key.loc[old.index]
        order = old["As Of"].sort_values(kind="stable").index
        dup = key.loc[order].where(key.loc[order].notna())
        later = dup.duplicated(keep="last") & dup.notna()
        old = old.drop(index=later[later].index)
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
    rules = {c: i.update for c, i in ctx.data.instruments.items()}
    df = merge_history(ctx.history, rows, ctx.data.asof, rules)
    return [SheetContent("History", tables=[Table(
        "History", df, formats={"As Of": DATE, "Last Data Date": DATE, "Forecast": "0.0000",
                                "Position": "0"})])]
