"""The report's Track Record page: one row per instrument with the figures a reader weighs,
from the ``Track Record`` sheet's two tables (the detail goes to the report's appendix).

Columns: ``Code``, ``Asset Class``, ``Months`` scored, the composite's ``OOS R²`` against the
prevailing mean (> 0 beats it) and its ``Clark-West`` t-statistic (> 1.28: significant at
10 %), ``Best Rival`` (the rival model with the highest OOS R²) and its OOS R², the
composite's ``Hit Rate``, then the hypothetical strategy's ``Annual Return``, ``Sharpe`` and
``Max Drawdown`` (headed "(hyp.)": a walk-forward simulation, no costs), and the valuation
forecasts' ``Valuation Horizons Beating Mean`` ("3 of 7") and ``Valuation 1 Yr OOS R²``.
Figures are copied from the sheet's tables, never recomputed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.tables.base import INT, NUM2, PCT, PCT1, SheetContent, Table

__all__ = ["FORECAST_TABLE", "HYPOTHETICAL_COLUMNS", "VALUATION_TABLE", "hypothetical_headers",
           "track_summary"]

FORECAST_TABLE, VALUATION_TABLE = "ForecastTrackRecord", "ValuationTrackRecord"
# the strategy columns of the forecast track record: simulated returns, so hypothetical
HYPOTHETICAL_COLUMNS = ("Annual Return", "Volatility", "Sharpe", "Max Drawdown")
HYP = " (hyp.)"


def _table(sc: SheetContent, name: str) -> pd.DataFrame | None:
    try:
        return sc.table(name).df
    except KeyError:
        return None


def hypothetical_headers(table: Table) -> Table:
    """``table`` with each :data:`HYPOTHETICAL_COLUMNS` header marked "(hyp.)"."""
    ren = {c: c + HYP for c in HYPOTHETICAL_COLUMNS if c in table.df.columns}
    if not ren:
        return table
    return Table(table.name, table.df.rename(columns=ren),
                 {ren.get(k, k): v for k, v in table.formats.items()}, table.title,
                 list(table.notes))


def track_summary(sc: SheetContent) -> Table | None:
    """The one-row-per-instrument summary (module doc) of the ``Track Record`` sheet, or None
    when it has neither table."""
    fc, val = _table(sc, FORECAST_TABLE), _table(sc, VALUATION_TABLE)
    if fc is None and val is None:
        return None
    codes = list(dict.fromkeys([*(fc["Code"] if fc is not None else []),
                                *(val["Code"] if val is not None else [])]))
    rows = []
    for code in codes:
        r: dict[str, object] = {"Code": code}
        if val is not None:
            v = val[val["Code"] == code]
            r["Asset Class"] = v["Asset Class"].iloc[0] if len(v) else ""
        if fc is not None:
            f = fc[fc["Code"] == code]
            comp = f[f["Model"] == "Composite"]
            c = comp.iloc[0] if len(comp) else None
            # the historical mean is what OOS R² is measured against (0 by construction)
            rivals = f[~f["Model"].isin(["Composite", "Buy & hold", "Historical mean"])
                       & f["OOS R²"].notna()]
            best = rivals.loc[rivals["OOS R²"].idxmax()] if len(rivals) else None
            r.update({
                "Months": c["Months"] if c is not None else np.nan,
                "OOS R²": c["OOS R²"] if c is not None else np.nan,
                "Clark-West": c["Clark-West"] if c is not None else np.nan,
                "Best Rival": best["Model"] if best is not None else "",
                "Rival OOS R²": best["OOS R²"] if best is not None else np.nan,
                "Hit Rate": c["Hit Rate"] if c is not None else np.nan,
                **{k + HYP: (c[k] if c is not None else np.nan)
                   for k in ("Annual Return", "Sharpe", "Max Drawdown")}})
        if val is not None:
            v = val[(val["Code"] == code) & (val["Forecasts"] > 0)]
            wins = int((v["OOS R²"] > 0).sum())
            r["Valuation Horizons Beating Mean"] = f"{wins} of {len(v)}" if len(v) else ""
            one = v[v["Horizon"] == "1 Yr"]["OOS R²"]
            r["Valuation 1 Yr OOS R²"] = float(one.iloc[0]) if len(one) else np.nan
        rows.append(r)
    df = pd.DataFrame(rows)
    formats = {"Months": INT, "OOS R²": PCT, "Clark-West": NUM2, "Rival OOS R²": PCT,
               "Hit Rate": PCT1, "Annual Return" + HYP: PCT, "Sharpe" + HYP: NUM2,
               "Max Drawdown" + HYP: PCT, "Valuation 1 Yr OOS R²": PCT}
    return Table("TrackSummary", df, {k: v for k, v in formats.items() if k in df.columns},
                 title="Track record summary: walk-forward, out of sample")
