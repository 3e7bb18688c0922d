"""Read and validate the input sheets into :class:`~engine.inputs.data.WorkbookData`.

Every problem is reported with its place (``Prices!B30: text "n/a?" where a number is
expected``) and all of them at once: :func:`read_workbook` raises
:class:`~engine.inputs.problems.InputError` listing every error; warnings (e.g. stale
series) travel on ``WorkbookData.problems``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.calendars import check_calendar, closed_days, default_calendar
from engine.inputs.data import ASSET_CLASSES, Instrument, WorkbookData, setting
from engine.inputs.problems import InputError, Problems
from engine.inputs.sampling import anchor_day, monthly
from engine.inputs.sheets import Grid, cell_date, cell_number, read_grids
from engine.xlsx.cells import Workbook

INPUT_SHEETS = ("Instruments", "Prices", "Fundamentals", "Returns", "Series", "Income",
                "Macro", "Settings", "History")
REQUIRED_SHEETS = ("Instruments", "Prices", "Settings")
YIELD_RANGE = (-5.0, 40.0)      # percent; outside is almost surely a unit error
STALE_MONTHS = 2                # last observation more than this many months before As Of
_ROWS: dict[int, list[int]] = {}  # id(frame) -> sheet row of each data row, during one read
HISTORY_COLUMNS = ["As Of", "Code", "Forecast", "Position", "Trade", "Phase",
                   "Model Version", "Last Data Date"]


def read_workbook(source: str | Path | Workbook, asof: str | dt.date | None = None
                  ) -> WorkbookData:
    """Read, validate and align the workbook's inputs.

    ``asof`` overrides ``Settings!As Of``. Observations dated after the as-of date are
    dropped here, so nothing downstream can see them. ``source``: the workbook file, or the
    open :class:`~engine.xlsx.cells.Workbook` of it. Raises :class:`InputError` with every
    error found, :class:`~engine.xlsx.package.PackageError` for a file that is not a
    readable workbook."""
    grids, names = read_grids(source if isinstance(source, Workbook) else Path(source),
                              INPUT_SHEETS)
    p = Problems()
    for s in REQUIRED_SHEETS:
        if s not in grids:
            p.error(s, f'required sheet "{s}" is missing (sheets: {", ".join(names)})')
    if p.errors:
        raise InputError(p)

    settings, asof_cell = _settings(grids["Settings"], p)
    when = _asof(settings, asof, asof_cell, p)
    instruments = _instruments(grids["Instruments"], p)
    raw = _dated_table(grids["Prices"], p, kind="price")
    fundamentals = _dated_table(grids["Fundamentals"], p, kind="fundamental") \
        if "Fundamentals" in grids else pd.DataFrame()
    returns = _dated_table(grids["Returns"], p, kind="return") \
        if "Returns" in grids else pd.DataFrame()
    income = _income(grids["Income"], p) if "Income" in grids else pd.DataFrame()
    _check_codes(instruments, raw, fundamentals, grids, p)
    _check_levels(instruments, raw, grids["Prices"], p)
    series = _series_meta(grids.get("Series"), returns, p)
    macro = _macro(grids.get("Macro"), p)
    history = _history(grids.get("History"))

    _ROWS.clear()
    prices: dict[str, pd.Series] = {}
    if when is not None and not p.errors:
        _check_asof(when, raw, asof_cell, p)
    if p.errors:
        raise InputError(p)
    _check_calendars(instruments, grids["Instruments"], when, p)
    if p.errors:
        raise InputError(p)
    for code, inst in instruments.items():
        if code not in raw:
            continue
        s = monthly(raw[code], inst.update, asof=when, calendar=inst.calendar)
        prices[code] = s.rename(code)
        _check_stale(inst, s, when, p)
    cut = lambda df: df.loc[df.index <= when] if len(df) else df  # noqa: E731
    return WorkbookData(
        asof=when, instruments=instruments, prices=prices, fundamentals=cut(fundamentals),
        returns=cut(returns), series=series, income=cut(income), macro=macro,
        settings=settings, raw_prices=cut(raw), problems=list(p), history=history)


# --- Settings -------------------------------------------------------------------------------

def _settings(g: Grid, p: Problems) -> tuple[dict[str, Any], str]:
    out: dict[str, Any] = {}
    asof_cell = "Settings"
    kj, vj = (g.col("Key"), g.col("Value"))
    if kj is None or vj is None:
        # tolerate a headerless key/value sheet: first two columns
        rows = [g.header[:2]] + [r[:2] for r in g.rows]
        kj, vj, base = 0, 1, -1
    else:
        rows, base = [r for r in g.rows], 0
    for i, r in enumerate(rows):
        if len(r) < 2 or r[kj] is None or str(r[kj]).strip() == "":
            continue
        key = str(r[kj]).strip()
        out[key] = r[vj]
        if key.casefold() == "as of":
            asof_cell = g.where(i + base, vj)
    return out, asof_cell


def _asof(settings: dict, override: Any, where: str, p: Problems) -> pd.Timestamp | None:
    raw = override if override is not None else setting(settings, "As Of")
    label = "--asof" if override is not None else where
    if raw is None:
        p.error(label, 'no "As Of" date (add a row As Of | date to Settings, or pass --asof)')
        return None
    try:
        ts = pd.Timestamp(raw)
    except (ValueError, TypeError):
        p.error(label, f'As Of "{raw}" is not a date')
        return None
    if pd.isna(ts):
        p.error(label, f'As Of "{raw}" is not a date')
        return None
    return ts.normalize()


def _check_asof(when: pd.Timestamp, raw: pd.DataFrame, where: str, p: Problems) -> None:
    if raw.empty:
        return
    first, last = raw.index.min(), raw.index.max()
    if when < first:
        p.error(where, f"As Of {when:%Y-%m-%d} is before the first Prices date {first:%Y-%m-%d}")
    elif when > last + pd.Timedelta(days=31):
        p.error(where, f"As Of {when:%Y-%m-%d} is beyond the data: the last Prices date is "
                f"{last:%Y-%m-%d}")


# --- Instruments ----------------------------------------------------------------------------

def _instruments(g: Grid, p: Problems) -> dict[str, Instrument]:
    cols = {c: g.col(c) for c in ("Code", "Name", "Country", "Asset Class", "Quote", "Maturity",
                                  "Update", "Fair Value Inputs", "Neutral Band",
                                  "Calendar")}
    for c in ("Code", "Name", "Asset Class"):
        if cols[c] is None:
            p.error("Instruments!1:1", f'required column "{c}" is missing '
                    f'(headers: {", ".join(h for h in g.header if h)})')
    if p.errors:
        return {}
    out: dict[str, Instrument] = {}
    classes = {a.casefold(): a for a in ASSET_CLASSES}

    def text(i: int, c: str) -> str:
        j = cols[c]
        v = None if j is None else g.rows[i][j]
        return "" if v is None else str(v).strip()

    for i, r in enumerate(g.rows):
        code = text(i, "Code")
        if not code and not any(v is not None for v in r):
            continue
        where = g.where(i, cols["Code"])
        if not code:
            p.error(where, "blank instrument code")
            continue
        if code in out:
            p.error(where, f'duplicate code "{code}" (first on row {out[code].row})', code)
            continue
        ac = classes.get(text(i, "Asset Class").casefold())
        if ac is None:
            p.error(g.where(i, cols["Asset Class"]), f'asset class "{text(i, "Asset Class")}" '
                    f'is not one of {", ".join(ASSET_CLASSES)}', code)
            continue
        quote = text(i, "Quote") or ("Yield" if ac == "Bond" else "Price")
        if quote.casefold() not in ("price", "yield"):
            p.error(g.where(i, cols["Quote"]), f'quote "{quote}" must be Price or Yield', code)
            continue
        quote = quote.capitalize()
        maturity = None
        if cols["Maturity"] is not None:
            maturity = cell_number(g, i, cols["Maturity"], p, what="a maturity in years",
                                   code=code)
            if maturity is not None and not 0 < maturity <= 100:
                p.error(g.where(i, cols["Maturity"]),
                        f"maturity {maturity:g} years is outside (0, 100]", code)
        if ac == "Bond" and quote == "Yield" and maturity is None:
            j = cols["Maturity"]
            p.error(g.where(i, j) if j is not None else "Instruments",
                    "a bond quoted as a yield needs a Maturity (years)", code)
        update = text(i, "Update") or "MonthEnd"
        if isinstance(g.rows[i][cols["Update"]] if cols["Update"] is not None else None, float):
            update = str(int(g.rows[i][cols["Update"]]))
        try:
            d = anchor_day(update)
            update = "MonthEnd" if d is None else str(d)
        except ValueError as e:
            p.error(g.where(i, cols["Update"]), str(e), code)
        fvi = [s.strip() for s in text(i, "Fair Value Inputs").split(",") if s.strip()]
        band = None
        if cols["Neutral Band"] is not None:
            band = cell_number(g, i, cols["Neutral Band"], p, what="a neutral band", code=code)
            if band is not None and band < 0:
                p.error(g.where(i, cols["Neutral Band"]), f"neutral band {band:g} is negative",
                        code)
        calendar = default_calendar(text(i, "Country"), ac)
        if text(i, "Calendar"):
            try:
                calendar = check_calendar(text(i, "Calendar"))
            except ValueError as e:
                p.error(g.where(i, cols["Calendar"]), str(e), code)
        out[code] = Instrument(code=code, name=text(i, "Name") or code,
                               country=text(i, "Country"), asset_class=ac, quote=quote,
                               maturity=maturity, update=update, fair_value_inputs=fvi,
                               neutral_band=band, calendar=calendar, row=i + 2)
    if not out and not p.errors:
        p.error("Instruments", "no instruments listed")
    return out


def _check_calendars(instruments: dict[str, Instrument], g: Grid, when: pd.Timestamp,
                     p: Problems) -> None:
    """Every calendar named can be built for the as-of year (the ``Updated`` dates need it);
    a calendar the package cannot build is an error at its cell, not a crash later."""
    j = g.col("Calendar")
    for code, inst in instruments.items():
        try:
            closed_days(inst.calendar, when.year, when.year)
        except ValueError as e:
            p.error(g.where(inst.row - 2, j) if j is not None else f"Instruments!A{inst.row}",
                    str(e), code)


# --- Dated tables (Prices, Fundamentals, Returns, Income) -----------------------------------

def _dated_table(g: Grid, p: Problems, *, kind: str) -> pd.DataFrame:
    """Column A dates (sorted, unique), other columns numbers; blank rows skipped."""
    if not g.header or g.header[0].casefold() != "date":
        p.error(f"{g.sheet}!A1", f'column A must be headed "Date" (found "{g.header[0] if g.header else ""}")')
        return pd.DataFrame()
    names = g.header[1:]
    seen: dict[str, int] = {}
    for j, h in enumerate(names, start=1):
        if not h:
            if any(r[j] is not None for r in g.rows):
                p.error(g.where(-1, j), "column has data but no header")
            continue
        if h in seen:
            p.error(g.where(-1, j), f'duplicate column "{h}" (also column {seen[h] + 1})')
        seen.setdefault(h, j)
    dates: list[dt.datetime] = []
    values: list[list[float]] = []
    rows_at: list[int] = []
    for i, r in enumerate(g.rows):
        if all(v is None for v in r):
            continue
        d = cell_date(g, i, 0, p)
        vals = [np.nan] * len(names)
        for j in range(1, len(g.header)):
            if not g.header[j]:
                continue
            x = cell_number(g, i, j, p)
            if x is not None:
                vals[j - 1] = x
        if d is not None:
            dates.append(d)
            values.append(vals)
            rows_at.append(i)
    idx = pd.DatetimeIndex(dates)
    stamps = idx.asi8
    for k in (np.flatnonzero(stamps[1:] <= stamps[:-1]) + 1).tolist():  # the few bad rows only
        if idx[k] == idx[k - 1]:
            p.error(g.where(rows_at[k], 0), f"duplicate date {idx[k]:%Y-%m-%d} (also row {rows_at[k - 1] + 2})")
        elif idx[k] < idx[k - 1]:
            p.error(g.where(rows_at[k], 0), f"dates not in ascending order: {idx[k]:%Y-%m-%d} "
                    f"follows {idx[k - 1]:%Y-%m-%d}")
    df = pd.DataFrame(values, index=idx, columns=names, dtype=float)
    df = df.loc[:, [h for h in names if h and seen.get(h) is not None]]
    df = df.loc[:, ~df.columns.duplicated()]
    df.index.name = "Date"
    _ROWS[id(df)] = rows_at  # sheet rows of the data, for messages (not in df.attrs:
    # pandas deep-copies attrs on every operation, which made each model step slow)
    if kind == "return":
        _check_returns(g, df, rows_at, p)
    return df


INCOME_COLUMNS = ["Income", "Cashflow", "Loss"]


def _income(g: Grid, p: Problems) -> pd.DataFrame:
    """The income strategy's monthly rates (decimals); other columns (a note typed next to
    the table) are not data."""
    missing = [c for c in INCOME_COLUMNS if g.col(c) is None]
    if missing:
        p.error("Income!1:1", f'required column(s) {", ".join(missing)} missing '
                f'(headers: {", ".join(h for h in g.header if h)})')
        return pd.DataFrame(columns=INCOME_COLUMNS)
    idx = [0] + [g.col(c) for c in INCOME_COLUMNS]
    keep = Grid(g.sheet, [g.header[j] for j in idx], [[r[j] for j in idx] for r in g.rows],
                {(i, idx.index(j)) for i, j in g.uncached if j in idx})
    keep.where = lambda i, j: g.where(i, idx[j])  # messages name the real cell
    return _dated_table(keep, p, kind="income")


def _check_returns(g: Grid, df: pd.DataFrame, rows_at: list[int], p: Problems) -> None:
    for j, c in enumerate(df.columns, start=1):
        bad = np.flatnonzero(np.abs(df[c].to_numpy()) >= 1.0)
        for k in bad[:3]:
            p.error(g.where(rows_at[k], j), f"return {df[c].iloc[k]:g} is not a monthly "
                    "decimal return (0.0073 = 0.73 %; |r| must be < 1)")


def _check_codes(instruments: dict[str, Instrument], raw: pd.DataFrame, fund: pd.DataFrame,
                 grids: dict[str, Grid], p: Problems) -> None:
    g = grids["Prices"]
    for j, h in enumerate(g.header[1:], start=1):
        if h and h not in instruments:
            p.error(g.where(-1, j), f'code "{h}" is not in Instruments')
    for code, inst in instruments.items():
        if code not in raw.columns:
            p.error(f"Instruments!A{inst.row}", f'code "{code}" has no column in Prices', code)
        elif raw[code].notna().sum() == 0:
            p.error(f"Instruments!A{inst.row}", f'code "{code}" has no prices', code)
        for f in inst.fair_value_inputs:
            if f not in fund.columns:
                gi = grids["Instruments"]
                j = gi.col("Fair Value Inputs")
                p.error(gi.where(inst.row - 2, j), f'fair value input "{f}" is not a column of '
                        "Fundamentals", code)


def _check_levels(instruments: dict[str, Instrument], raw: pd.DataFrame, g: Grid,
                  p: Problems) -> None:
    rows = _ROWS.get(id(raw), [])
    for code, inst in instruments.items():
        if code not in raw.columns:
            continue
        j = g.header.index(code)
        v = raw[code].to_numpy()
        if inst.is_yield:
            lo, hi = YIELD_RANGE
            bad = np.flatnonzero((v < lo) | (v > hi))
            msg = "yield {x:g} is outside the sane range {lo:g}…{hi:g} (percent, e.g. 4.25)"
        else:
            bad = np.flatnonzero(v <= 0)
            msg = "price {x:g} is not positive"
            lo = hi = 0
        for k in bad[:3]:
            p.error(g.where(rows[k], j), msg.format(x=v[k], lo=lo, hi=hi), code)
        if len(bad) > 3:
            p.error(g.where(-1, j), f"… and {len(bad) - 3} more such values for {code}", code)


def _check_stale(inst: Instrument, s: pd.Series, when: pd.Timestamp, p: Problems) -> None:
    if s.empty:
        p.warn(f"Prices!{inst.code}", f"{inst.code}: no observation on or before As Of",
               inst.code)
        return
    last = s.index[-1]
    months = (when.year - last.year) * 12 + when.month - last.month
    if months > STALE_MONTHS:
        p.warn(f"Prices!{inst.code}", f"{inst.code} is stale: last observation "
               f"{last:%Y-%m-%d}, {months} months before As Of", inst.code)


# --- Series, Macro, History -----------------------------------------------------------------

def _series_meta(g: Grid | None, returns: pd.DataFrame, p: Problems) -> pd.DataFrame:
    cols = ["Name", "Role", "Basis", "Inception", "Benchmark", "Description"]
    if g is None:
        if len(returns.columns):
            p.error("Series", "sheet missing: every Returns column needs a Series row "
                    "(Name, Role, Basis, …)")
        return pd.DataFrame(columns=cols).set_index("Name")
    idx = {c: g.col(c) for c in cols}
    for c in ("Name", "Role", "Basis"):
        if idx[c] is None:
            p.error("Series!1:1", f'required column "{c}" is missing')
    if p.errors:
        return pd.DataFrame(columns=cols).set_index("Name")
    recs = []
    for i, r in enumerate(g.rows):
        name = r[idx["Name"]]
        if name is None or not str(name).strip():
            continue
        name = str(name).strip()
        rec = {c: (r[idx[c]] if idx[c] is not None else None) for c in cols}
        rec["Name"] = name
        role = str(rec["Role"] or "").strip().capitalize()
        basis = str(rec["Basis"] or "").strip().capitalize()
        if role not in ("Strategy", "Benchmark"):
            p.error(g.where(i, idx["Role"]), f'role "{rec["Role"]}" must be Strategy or Benchmark')
        if basis not in ("Net", "Gross"):
            p.error(g.where(i, idx["Basis"]), f'basis "{rec["Basis"]}" must be Net or Gross')
        if name not in returns.columns:
            p.error(g.where(i, idx["Name"]), f'series "{name}" has no column in Returns')
        bm = rec["Benchmark"]
        if bm is not None and str(bm).strip():
            for b in str(bm).split(","):
                if b.strip() not in returns.columns:
                    p.error(g.where(i, idx["Benchmark"]), f'benchmark "{b.strip()}" has no '
                            "column in Returns")
        rec.update(Role=role, Basis=basis)
        if rec["Inception"] is not None:
            try:
                rec["Inception"] = pd.Timestamp(rec["Inception"])
            except (ValueError, TypeError):
                p.error(g.where(i, idx["Inception"]), f'inception "{rec["Inception"]}" is not a date')
        recs.append(rec)
    named = {r["Name"] for r in recs}
    for c in returns.columns:
        if c not in named:
            p.error(f"Returns!{c}", f'column "{c}" has no row in Series (Role, Basis needed)')
    return pd.DataFrame(recs, columns=cols).set_index("Name")


def _macro(g: Grid | None, p: Problems) -> pd.DataFrame:
    if g is None:
        return pd.DataFrame(columns=["Period", "Growth", "Source"])
    pj, gj, sj = g.col("Period"), g.col("Growth"), g.col("Source")
    if pj is None or gj is None:
        p.error("Macro!1:1", 'columns "Period" and "Growth" are required')
        return pd.DataFrame(columns=["Period", "Growth", "Source"])
    recs = []
    for i, r in enumerate(g.rows):
        per = r[pj]
        if per is None:
            continue
        if isinstance(per, float) and per.is_integer():
            per = int(per)
        per = str(per).strip()
        if not _period_ok(per):
            p.error(g.where(i, pj), f'period "{per}" is not a year (2021) or quarter (2023Q1)')
            continue
        growth = cell_number(g, i, gj, p, what="growth in percent")
        recs.append({"Period": per, "Growth": growth,
                     "Source": (r[sj] if sj is not None else None)})
    return pd.DataFrame(recs, columns=["Period", "Growth", "Source"])


def _period_ok(per: str) -> bool:
    import re
    return re.fullmatch(r"\d{4}(Q[1-4])?", per) is not None


def _history(g: Grid | None) -> pd.DataFrame:
    if g is None or not g.header:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    cols = [c for c in HISTORY_COLUMNS if g.col(c) is not None]
    recs = [{c: r[g.col(c)] for c in cols} for r in g.rows if any(v is not None for v in r)]
    df = pd.DataFrame(recs, columns=HISTORY_COLUMNS)
    for c in ("As Of", "Last Data Date"):
        df[c] = pd.to_datetime(df[c], errors="coerce")
    return df
