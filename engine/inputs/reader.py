"""Read and validate the input sheets into :class:`~engine.inputs.data.WorkbookData`.

Every problem is reported with its place (``Prices!B30: text "n/a?" where a number is
expected``) and all of them at once: :func:`read_workbook` raises
:class:`~engine.inputs.problems.InputError` listing every error; warnings (e.g. stale
series) travel on ``WorkbookData.problems``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.calendars import check_calendar, closed_days, default_calendar
from engine.domain import MAX_MONTHLY_RETURN, YIELD_RANGE, Role, check_role
from engine.inputs.data import (ASSET_CLASSES, MACRO_LAG_KEY, Instrument, WorkbookData,
                                macro_asof, macro_lag, setting)
from engine.inputs.dates import DateError, read_date
from engine.inputs.downloads import DOWNLOADS, Mapping, fetch_mappings
from engine.inputs.plausibility import Kind, suspect_values
from engine.inputs.problems import InputError, Problem, Problems, cell_ref
from engine.inputs.roles import fundamental_role
from engine.inputs.settings import (BASE_PERIOD, GDP_DEANNUALIZE, INCOME_STRATEGY, REPORT_TITLE,
                                    RISK_FREE, TREND_GROWTH)
from engine.inputs.sampling import anchor_day, monthly
from engine.inputs.sheets import Grid, cell_date, cell_number, read_grids
from engine.xlsx.cells import Workbook, col_letter

INPUT_SHEETS = ("Instruments", "Prices", "Fundamentals", "Returns", "Series", "Income",
                "Macro", "Settings", "History", DOWNLOADS)
REQUIRED_SHEETS = ("Instruments", "Prices", "Settings")
STALE_MONTHS = 2                # last observation more than this many months before As Of
_ROWS: dict[int, list[int]] = {}  # id(frame) -> sheet row of each data row, during one read
BEYOND_SHOWN = 3  # values right of the last header named one by one; the rest counted
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

    date1904 = grids["Settings"].date1904
    settings, cells = _settings(grids["Settings"], p)
    asof_where = "--asof" if asof is not None else cells.get("as of", "Settings")
    when = _asof(settings, asof, asof_where, date1904, p)
    instruments = _instruments(grids["Instruments"], p)
    broken: set[str] = set()  # sheets whose layout is wrong: no cross-sheet follow-ons
    raw = _dated_table(grids["Prices"], p, kind="price", broken=broken)
    roles: dict[str, Role] = {}
    if "Fundamentals" in grids:
        roles, fund_grid = _role_row(grids["Fundamentals"], p)
        grids = {**grids, "Fundamentals": fund_grid}  # its data rows, cells named right
        fundamentals = _dated_table(fund_grid, p, kind="fundamental", broken=broken)
    else:
        fundamentals = pd.DataFrame()
    returns = _dated_table(grids["Returns"], p, kind="return", broken=broken) \
        if "Returns" in grids else pd.DataFrame()
    income = _income(grids["Income"], p) if "Income" in grids else pd.DataFrame()
    if not instruments:
        broken.add("Instruments")
    _check_levels(instruments, raw, grids["Prices"], p)
    typed = {"Prices": raw, "Fundamentals": fundamentals}  # as on their sheets, for messages
    raw, fundamentals, fetched = _downloads(grids, instruments, raw, fundamentals, p)
    if not broken & {"Instruments", "Prices", "Fundamentals"}:
        _check_codes(instruments, raw, fundamentals, grids, p, fetched)
    series = _series_meta(grids.get("Series"), returns, "Returns" in broken, p)
    macro = _macro(grids.get("Macro"), p)
    _check_settings(settings, cells, returns, macro, p)
    history = _history(grids.get("History"))

    prices: dict[str, pd.Series] = {}
    if when is not None and not p.errors:
        _check_asof(when, raw, asof_where, p)
    if p.errors:
        _ROWS.clear()
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
    _check_fair_value_inputs(instruments, fundamentals.loc[fundamentals.index <= when]
                             if len(fundamentals) else fundamentals, grids, p)
    cut = lambda df: df.loc[df.index <= when] if len(df) else df  # noqa: E731
    # the typed sheets' values (a column fetched into Downloads is FRED's, not a typing slip)
    suspects = _check_plausible(grids, instruments, prices, typed["Prices"],
                                {"Fundamentals": typed["Fundamentals"], "Returns": returns,
                                 "Income": income}, when, p)
    try:
        macro = macro_asof(macro, when, macro_lag(settings))
    except ValueError as e:
        p.error(f"Settings!{MACRO_LAG_KEY}", str(e))
        _ROWS.clear()
        raise InputError(p) from None
    _ROWS.clear()
    return WorkbookData(
        asof=when, instruments=instruments, prices=prices, fundamentals=cut(fundamentals),
        returns=cut(returns), series=series, income=cut(income), macro=macro,
        settings=settings, raw_prices=cut(raw), problems=list(p), history=history,
        fundamental_roles=roles,
        notes=_role_guesses(instruments, roles, grids.get("Fundamentals")),
        suspects=suspects)


# --- Settings -------------------------------------------------------------------------------

def _settings(g: Grid, p: Problems) -> tuple[dict[str, Any], dict[str, str]]:
    """The key/value pairs, and the cell of each value (``Settings!B2``) by its key
    case-folded."""
    out: dict[str, Any] = {}
    cells: dict[str, str] = {}
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
        cells.setdefault(" ".join(key.split()).casefold(), g.where(i + base, vj))
    return out, cells


def _asof(settings: dict, override: Any, where: str, date1904: bool, p: Problems
          ) -> pd.Timestamp | None:
    """The as-of date from ``--asof`` or Settings ``As Of`` in any form of
    :func:`~engine.inputs.dates.read_date`; a month (``1998-12``) means its last day, and
    the reading is noted (``where`` names the argument or the cell)."""
    raw = override if override is not None else setting(settings, "As Of")
    if raw is None:
        p.error(where, 'no "As Of" date (add a row As Of | date to Settings, or pass --asof)')
        return None
    try:
        when, note = read_date(raw, date1904=date1904, month_end=True)
    except DateError as e:
        p.error(where, f"As Of: {e}")
        return None
    if note:
        p.warn(where, f"As Of {note}")
    return pd.Timestamp(when).normalize()


def _check_asof(when: pd.Timestamp, raw: pd.DataFrame, where: str, p: Problems) -> None:
    """As Of within the Prices dates; ``where`` is the Settings cell or ``--asof``."""
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
                                  "Update", "Fair Value Inputs", "Neutral Band", "Unit",
                                  "Calendar")}
    missing = [c for c in ("Code", "Name", "Asset Class") if cols[c] is None]
    for c in missing:
        p.error("Instruments!1:1", f'required column "{c}" is missing '
                f'(headers: {", ".join(h for h in g.header if h)})')
    if missing:
        return {}
    out: dict[str, Instrument] = {}
    classes = {a.casefold(): a for a in ASSET_CLASSES}

    def text(i: int, c: str) -> str:
        j = cols[c]
        v = None if j is None else g.rows[i][j]
        return "" if v is None else str(v).strip()

    for i, r in enumerate(g.rows):
        code = unicodedata.normalize("NFC", text(i, "Code"))
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
        raw_update = g.rows[i][cols["Update"]] if cols["Update"] is not None else None
        if isinstance(raw_update, float):  # a day typed as a number: 15.0 is "15", 15.5 stays
            update = str(int(raw_update)) if raw_update.is_integer() else repr(raw_update)
        try:
            d = anchor_day(update)
            update = "MonthEnd" if d is None else str(d)
        except ValueError as e:
            p.error(g.where(i, cols["Update"]), str(e), code)
        fvi = [unicodedata.normalize("NFC", s.strip())
               for s in text(i, "Fair Value Inputs").split(",") if s.strip()]
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
                               neutral_band=band, calendar=calendar, row=i + 2,
                               unit=text(i, "Unit"))
    if not out and not any(pr.where.startswith("Instruments") for pr in p.errors):
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

def _role_guesses(instruments: dict[str, Instrument], roles: dict[str, Role],
                  g: Grid | None) -> list[str]:
    """One line per Fair Value Input column whose role the Role row does not give: the role
    guessed from its name and the instruments reading it so (``gamma check`` prints them)."""
    if g is None:
        return []
    guessed: dict[tuple[int, str, str], list[str]] = {}
    for code, inst in instruments.items():
        for c in inst.fair_value_inputs:
            j = g.col(c)
            if c in roles or j is None:
                continue
            role = fundamental_role(c, "Bond" if inst.quote == "Yield" else inst.asset_class)
            guessed.setdefault((j, c, role), []).append(code)
    return [f'{g.where(-1, j)}: role of "{c}" guessed from its name: {role.replace("_", " ")} '
            f'(for {", ".join(codes)}; a Role row under the header states it)'
            for (j, c, role), codes in sorted(guessed.items())]


def _role_row(g: Grid, p: Problems) -> tuple[dict[str, Role], Grid]:
    """The optional ``Role`` row of the Fundamentals sheet — the first row under the header,
    ``Role`` in column A, then each column's role (level, rate, yield, price level; blank:
    guessed from the name) — and the sheet without it."""
    if not g.rows or str(g.rows[0][0] or "").strip().casefold() != "role":
        return {}, g
    roles: dict[str, Role] = {}
    for j, h in enumerate(g.header[1:], start=1):
        v = g.rows[0][j] if j < len(g.rows[0]) else None
        if not h or v is None or str(v).strip() == "":
            continue
        try:
            roles[h] = check_role(v)
        except ValueError:
            p.error(g.where(0, j), f'role "{v}" of "{h}" is not one of level, rate, yield, '
                    "price level")
    rest = dataclasses.replace(g, rows=g.rows[1:],
                               uncached={(i - 1, j) for i, j in g.uncached if i > 0})
    rest.where = lambda i, j: g.where(i + 1, j)  # messages name the real cell
    return roles, rest


def _dated_table(g: Grid, p: Problems, *, kind: str, broken: set[str] | None = None
                 ) -> pd.DataFrame:
    """Column A dates (sorted, unique), other columns numbers; blank rows skipped. A sheet
    whose layout is wrong joins ``broken``. Headers are compared NFC-normalized (the same
    code typed on a Mac and on Windows can differ in its bytes)."""
    if not g.header or g.header[0].casefold() != "date":
        p.error(f"{g.sheet}!A1", f'column A must be headed "Date" (found "{g.header[0] if g.header else ""}")')
        if broken is not None:
            broken.add(g.sheet)
        return pd.DataFrame()
    g.header = [unicodedata.normalize("NFC", h) for h in g.header]
    _report_beyond(g, p)
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
    return _dated_table(_columns(g, [0] + [g.col(c) for c in INCOME_COLUMNS]), p,
                        kind="income")


def _columns(g: Grid, idx: list[int]) -> Grid:
    """The grid of columns ``idx`` only, its messages naming the real cells."""
    keep = Grid(g.sheet, [g.header[j] for j in idx], [[r[j] for j in idx] for r in g.rows],
                {(i, idx.index(j)) for i, j in g.uncached if j in idx}, date1904=g.date1904)
    keep.where = lambda i, j: g.where(i, idx[j])
    return keep


def _report_beyond(g: Grid, p: Problems) -> None:
    """Values right of the last header are not read: each is an error naming its cell (the
    first few; the rest counted), as a column of data without a header is."""
    for r, c in g.beyond[:BEYOND_SHOWN]:
        p.error(f"{g.sheet}!{cell_ref(r, c)}", f"value right of the last header (column "
                f"{col_letter(len(g.header))}) is not read: give its column a header in row 1, "
                "or move it off this sheet")
    if len(g.beyond) > BEYOND_SHOWN:
        p.error(f"{g.sheet}", f"… and {len(g.beyond) - BEYOND_SHOWN} more values right of the "
                "last header")


def _check_returns(g: Grid, df: pd.DataFrame, rows_at: list[int], p: Problems) -> None:
    for j, c in enumerate(df.columns, start=1):
        bad = np.flatnonzero(np.abs(df[c].to_numpy()) >= MAX_MONTHLY_RETURN)
        for k in bad[:3]:
            p.error(g.where(rows_at[k], j), f"return {df[c].iloc[k]:g} is not a monthly "
                    "decimal return (0.0073 = 0.73 %; |r| must be < 1)")


def _check_codes(instruments: dict[str, Instrument], raw: pd.DataFrame, fund: pd.DataFrame,
                 grids: dict[str, Grid], p: Problems, fetched: set[str] = frozenset()) -> None:
    """``fetched``: names mapped to Downloads, whose problems :func:`_downloads` reported."""
    g = grids["Prices"]
    # a code whose Instruments row was refused (reported there) is no unknown code here
    refused = {pr.code for pr in p.errors if pr.code and pr.where.startswith("Instruments")}
    for j, h in enumerate(g.header[1:], start=1):
        if h and h not in instruments and h not in refused:
            p.error(g.where(-1, j), f'code "{h}" is not in Instruments')
    for code, inst in instruments.items():
        if code in fetched and code not in raw.columns:
            pass
        elif code not in raw.columns:
            p.error(f"Instruments!A{inst.row}", f'code "{code}" has no column in Prices', code)
        elif raw[code].notna().sum() == 0:
            col = col_letter(g.header.index(code) + 1)  # its cells' problems say it already
            if not any(re.fullmatch(rf"Prices!{col}\d+", pr.where) for pr in p.errors):
                p.error(f"Instruments!A{inst.row}", f'code "{code}" has no prices', code)
        for f in inst.fair_value_inputs:
            if f not in fund.columns and f not in fetched:
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


# Settings a user types (DESIGN.md: As Of, Trend Growth, Base Period, firm name, disclosure,
# …), each checked for what the engine will do with it
TREND_GROWTH_RANGE = (-10.0, 20.0)  # percent per year; outside, a unit slip (224 for 2.24)
TEXT_SETTINGS = ("Firm Name", "Disclosure", REPORT_TITLE)
SERIES_SETTINGS = (RISK_FREE, INCOME_STRATEGY)  # each names a Returns column
DEANNUALIZE = ("compound", "simple")


def _check_settings(settings: dict, cells: dict[str, str], returns: pd.DataFrame,
                    macro: pd.DataFrame, p: Problems) -> None:
    """Trend Growth (a number of percent per year), Base Period (a year or quarter that is a
    Macro period), GDP Deannualize, the Settings that name a Returns series and the firm's
    texts: each problem names the Settings cell."""
    def where(key: str) -> str:
        return cells.get(key.casefold(), "Settings")

    has_macro = len(macro) > 0
    trend = setting(settings, TREND_GROWTH)
    if trend is not None:
        if isinstance(trend, bool) or not isinstance(trend, (int, float)) \
                or not np.isfinite(trend):
            p.error(where("Trend Growth"), f"Trend Growth {_shown(trend)} is not a number "
                    "(percent per year, e.g. 2.24)")
        elif not TREND_GROWTH_RANGE[0] <= trend <= TREND_GROWTH_RANGE[1]:
            lo, hi = TREND_GROWTH_RANGE
            p.error(where("Trend Growth"), f"Trend Growth {trend:g} is outside {lo:g} … {hi:g} "
                    "(percent per year, e.g. 2.24)")
    elif has_macro:
        p.warn("Settings", 'no "Trend Growth" (percent per year, e.g. 2.24): the GDP gap '
               "will not be computed")
    base = setting(settings, BASE_PERIOD)
    if base is not None:
        per = _period_text(base)
        periods = set(macro["Period"]) if has_macro else set()
        if isinstance(base, bool) or not _period_ok(per):
            p.error(where("Base Period"), f"Base Period {_shown(base)} is not a year (2019) "
                    "or quarter (2023Q1)")
        elif has_macro and per not in periods:
            p.error(where("Base Period"), f"Base Period {per} is not a Macro period "
                    f"({min(periods)} … {max(periods)})")
    elif has_macro:
        p.warn("Settings", 'no "Base Period" (e.g. 2019): the GDP gap will not be computed')
    method = setting(settings, GDP_DEANNUALIZE)
    if method is not None and str(method).strip().lower() not in DEANNUALIZE:
        p.error(where("GDP Deannualize"), f"GDP Deannualize {_shown(method)} must be "
                f"{' or '.join(DEANNUALIZE)}")
    for key in SERIES_SETTINGS:
        name = setting(settings, key)
        if name is not None and str(name).strip() not in returns.columns and len(returns.columns):
            p.error(where(key), f'{key} "{str(name).strip()[:40]}" is not a Returns column '
                    f'({", ".join(map(str, returns.columns[:6]))}'
                    f'{", …" if len(returns.columns) > 6 else ""})')
    for key in TEXT_SETTINGS:
        v = setting(settings, key)
        if isinstance(v, str) and v.strip().startswith("#"):
            p.error(where(key), f"{key} is the Excel error {v.strip()[:12]}: it would be "
                    "printed on client material")


def _shown(v: Any) -> str:
    """A Settings value as a message shows it: text quoted, a number as typed."""
    if isinstance(v, str):
        return f'"{v.strip()[:30]}"'
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


def _check_fair_value_inputs(instruments: dict[str, Instrument], fund: pd.DataFrame,
                             grids: dict[str, Grid], p: Problems) -> None:
    """A Fair Value Inputs column with no value on or before As Of is a warning naming the
    Fundamentals column: the instrument is valued without it (on its trend), not silently."""
    g = grids.get("Fundamentals")
    for code, inst in instruments.items():
        for f in inst.fair_value_inputs:
            if f in fund.columns and fund[f].notna().sum() == 0:
                j = g.col(f) if g is not None else None
                col = f"Fundamentals!{col_letter(j + 1)}" if j is not None else "Fundamentals"
                p.warn(col, f'fair value input "{f}" of {code} has no values on or before As '
                       f"Of: {code} is valued without it", code)


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


# --- Plausibility (engine.inputs.plausibility): warnings naming the cell ---------------------

SUSPECTS_SHOWN = 3  # suspect cells listed per column; the rest counted


def _check_plausible(grids: dict[str, Grid], instruments: dict[str, Instrument],
                     prices: dict[str, pd.Series], raw: pd.DataFrame,
                     tables: dict[str, pd.DataFrame], when: pd.Timestamp, p: Problems
                     ) -> dict[str, list[Problem]]:
    """Warn of every suspect value of the data the models read (up to As Of): each
    instrument's monthly prices, every Fundamentals, Returns and Income column, Macro growth.
    Returns code -> the warnings of its prices and of its Fair Value Inputs."""
    by_code: dict[str, list[Problem]] = {c: [] for c in instruments}
    g = grids["Prices"]
    rows = _ROWS.get(id(raw), [])
    for code, s in prices.items():
        if code not in raw.columns:  # its prices come from Downloads
            continue
        at = raw.index.get_indexer(s.index)
        cells = pd.Series(s.to_numpy(), index=[rows[k] for k in at])
        by_code[code] += _warn_suspects(p, g, g.header.index(code), cells,
                                        "rate" if instruments[code].is_yield else "level",
                                        s.index, code)
    kinds: dict[str, Kind] = {"Fundamentals": "auto", "Returns": "change", "Income": "change"}
    for sheet, df in tables.items():
        if sheet not in grids or not len(df):
            continue
        g, rows = grids[sheet], _ROWS.get(id(df), [])
        keep = np.asarray(df.index <= when)
        for c in df.columns:
            cells = pd.Series(df[c].to_numpy()[keep], index=np.asarray(rows)[keep])
            ok = cells.notna().to_numpy()
            found = _warn_suspects(p, g, g.col(c), cells[ok], kinds[sheet],
                                   df.index[keep][ok])
            for code, inst in instruments.items():
                if sheet == "Fundamentals" and c in inst.fair_value_inputs:
                    by_code[code] += found
    g = grids.get("Macro")
    gj = g.col("Growth") if g is not None else None
    if gj is not None:
        vals = {i: r[gj] for i, r in enumerate(g.rows)
                if isinstance(r[gj], (int, float)) and not isinstance(r[gj], bool)}
        _warn_suspects(p, g, gj, pd.Series(vals, dtype=float), "change")
    return by_code


def _warn_suspects(p: Problems, g: Grid, j: int, cells: pd.Series, kind: Kind,
                   dates: pd.DatetimeIndex | None = None, code: str | None = None
                   ) -> list[Problem]:
    """Warnings for the suspect values of one column; ``cells`` is indexed by data row,
    ``dates`` (the same length) date them in the message."""
    found = suspect_values(cells, kind)
    out = [Problem(g.where(int(cells.index[f.position]), j),
                   f.describe(kind, dates[f.position] if dates is not None else None),
                   "warning", code, "suspect") for f in found]
    if len(out) > SUSPECTS_SHOWN:
        out = out[:SUSPECTS_SHOWN] + [Problem(
            g.where(-1, j), f"input suspect: … and {len(found) - SUSPECTS_SHOWN} more "
            "suspect values in this column", "warning", code, "suspect")]
    p.extend(out)
    return out


# --- Series, Macro, History -----------------------------------------------------------------

def _series_meta(g: Grid | None, returns: pd.DataFrame, returns_broken: bool, p: Problems
                 ) -> pd.DataFrame:
    """The Series rows; with ``returns_broken`` (the Returns sheet's layout is wrong, already
    reported) no row is blamed for a missing Returns column."""
    cols = ["Name", "Role", "Basis", "Inception", "Benchmark", "Description"]
    if g is None:
        if len(returns.columns):
            p.error("Series", "sheet missing: every Returns column needs a Series row "
                    "(Name, Role, Basis, …)")
        return pd.DataFrame(columns=cols).set_index("Name")
    idx = {c: g.col(c) for c in cols}
    missing = [c for c in ("Name", "Role", "Basis") if idx[c] is None]
    for c in missing:
        p.error("Series!1:1", f'required column "{c}" is missing')
    if missing:
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
        if name not in returns.columns and not returns_broken:
            p.error(g.where(i, idx["Name"]), f'series "{name}" has no column in Returns')
        bm = rec["Benchmark"]
        if bm is not None and str(bm).strip() and not returns_broken:
            for b in str(bm).split(","):
                if b.strip() not in returns.columns:
                    p.error(g.where(i, idx["Benchmark"]), f'benchmark "{b.strip()}" has no '
                            "column in Returns")
        rec.update(Role=role, Basis=basis)
        if rec["Inception"] is not None:
            try:
                rec["Inception"] = pd.Timestamp(read_date(rec["Inception"],
                                                          date1904=g.date1904)[0])
            except DateError as e:
                p.error(g.where(i, idx["Inception"]), f"Inception: {e}")
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
        per = _period_text(per)
        if not _period_ok(per):
            p.error(g.where(i, pj), f'period "{per}" is not a year (2021) or quarter (2023Q1)')
            continue
        growth = cell_number(g, i, gj, p, what="growth in percent")
        recs.append({"Period": per, "Growth": growth,
                     "Source": (r[sj] if sj is not None else None)})
    return pd.DataFrame(recs, columns=["Period", "Growth", "Source"])


def _period_ok(per: str) -> bool:
    return re.fullmatch(r"\d{4}(Q[1-4])?", per) is not None


def _period_text(per: Any) -> str:
    """A Macro period or Settings ``Base Period`` as text: 2019 typed as a number is "2019"."""
    if isinstance(per, float) and per.is_integer():
        per = int(per)
    return str(per).strip()


def _history(g: Grid | None) -> pd.DataFrame:
    if g is None or not g.header:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    cols = [c for c in HISTORY_COLUMNS if g.col(c) is not None]
    recs = [{c: r[g.col(c)] for c in cols} for r in g.rows if any(v is not None for v in r)]
    df = pd.DataFrame(recs, columns=HISTORY_COLUMNS)
    for c in ("As Of", "Last Data Date"):
        df[c] = pd.to_datetime(df[c], errors="coerce")
    return df


# --- Downloads (written by gamma fetch) -----------------------------------------------------

def _downloads(grids: dict[str, Grid], instruments: dict[str, Instrument], raw: pd.DataFrame,
               fundamentals: pd.DataFrame, p: Problems
               ) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """Prices and fundamentals with the ``Downloads`` columns the Settings map (``Fetch:
    <column>``) joined in: an instrument code's to the prices, any other to the
    fundamentals. Each Downloads row is dated when its value became known (its vintage), so
    the as-of cut and ``asof`` alignment use only values published by then. A mapped column
    also typed on Prices or Fundamentals, or not (or not yet, or from another series) on
    Downloads, is an error: the workbook must say which data it means. Also returns the
    mapped names."""
    errors = len(p.errors)
    maps = fetch_mappings(grids["Settings"], p)
    names = {m.name for m in maps}
    for m in maps:
        typed = "Prices" if m.name in raw.columns else "Fundamentals" \
            if m.name in fundamentals.columns else None
        if typed:
            p.error(m.where, f'"{m.name}" is a column of {typed} and mapped to {m.spec}: '
                    f"remove one, so the workbook says which data it means", m.name)
    g = grids.get(DOWNLOADS)
    if g is None:
        for m in maps:
            p.error(m.where, f'"Fetch: {m.name}" has no {DOWNLOADS} sheet to read yet: run '
                    '"gamma fetch WORKBOOK" first')
    if g is None or len(p.errors) > errors:
        return raw, fundamentals, names
    width = g.header.index("") if "" in g.header else len(g.header)  # then the Sources table
    src_at = {h: j for j, h in enumerate(g.header) if j > width and h}
    recorded = {}
    if "Column" in src_at and "Source" in src_at:
        recorded = {str(r[src_at["Column"]]): str(r[src_at["Source"]]) for r in g.rows
                    if r[src_at["Column"]] is not None}
    keep: list[Mapping] = []
    for m in maps:
        j = g.col(m.name)
        if j is None or j >= width:
            p.error(m.where, f'"Fetch: {m.name}" has no column in {DOWNLOADS}: run "gamma '
                    'fetch WORKBOOK"', m.name)
        elif recorded.get(m.name, m.spec).casefold() != m.spec.casefold():
            p.error(m.where, f'"Fetch: {m.name}" maps {m.spec}, but {DOWNLOADS} holds '
                    f'{recorded[m.name]}: run "gamma fetch WORKBOOK"', m.name)
        else:
            keep.append(m)
    if not keep or len(p.errors) > errors:
        return raw, fundamentals, names
    sub = _columns(g, [0] + [g.col(m.name) for m in keep])
    df = _dated_table(sub, p, kind="download")
    _check_levels(instruments, df, sub, p)
    prices = [m.name for m in keep if m.name in instruments]
    others = [m.name for m in keep if m.name not in instruments]
    return _joined(raw, df[prices]), _joined(fundamentals, df[others]), names


def _joined(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Columns of both on the union of their dates (NaN where a column has no row)."""
    if not len(b.columns):
        return a
    if not len(a.columns):
        return b
    out = a.join(b, how="outer").sort_index()
    out.index.name = "Date"
    return out
