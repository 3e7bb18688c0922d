"""The performance tables (seed ``000_…``) built from :mod:`engine.models.performance`:
the ``Performance`` table, the newsletter table, and the ``Series`` sheet / ``Settings``
helpers they use. Pure functions of pandas objects; conventions in
:mod:`engine.models.performance` and docs/performance.md."""

from __future__ import annotations

import math

import pandas as pd

from engine.inputs.data import setting  # noqa: F401 - re-exported for builders
from engine.models.performance import (
    asof_month,
    calendar_year_return,
    max_drawdown,
    sharpe,
    since_inception,
    to_monthly,
    trailing_return,
    volatility,
    ytd_return,
)

__all__ = ["PERF_COLUMNS", "basis_note", "newsletter_table", "performance_row", "performance_table",
           "series_rows", "setting", "valid_series_meta"]

PERF_COLUMNS = ("Month", "YTD", "Trailing 1 Yr", "3 Yr (ann.)", "5 Yr (ann.)",
                "Since Inception")


def series_rows(returns: pd.DataFrame, series_meta: pd.DataFrame | None) -> list[dict]:
    """Rows of the ``Series`` sheet as dicts (Name, Role, Basis, Inception, Benchmark,
    Description), strategies first then benchmarks, in sheet order. Column names are matched
    case-insensitively; without a ``Series`` row a ``Returns`` column is not shown."""
    if not isinstance(returns, pd.DataFrame):
        raise ValueError(f"returns: expected a DataFrame (one column per series), got "
                         f"{type(returns).__name__}")
    if series_meta is None or len(series_meta) == 0:
        return []
    meta = series_meta.copy()
    lower = {str(c).strip().lower(): c for c in meta.columns}
    if "name" not in lower:
        meta = meta.reset_index()
        lower = {str(c).strip().lower(): c for c in meta.columns}
        if "name" not in lower:
            raise ValueError("series_meta: needs a 'Name' column (the Returns column header), "
                             f"got columns {list(series_meta.columns)}")
    rows = []
    for _, rec in meta.iterrows():
        def get(key, default=None, rec=rec):
            c = lower.get(key)
            v = rec[c] if c is not None else default
            return default if v is None or (isinstance(v, float) and math.isnan(v)) else v
        name = str(get("name", "")).strip()
        if not name:
            continue
        role = str(get("role", "Strategy")).strip().title()
        if role not in ("Strategy", "Benchmark"):
            raise ValueError(f"series_meta: Role of {name!r} must be Strategy or Benchmark, "
                             f"got {role!r}")
        basis = str(get("basis", "")).strip().title()
        if basis not in ("Net", "Gross"):
            raise ValueError(f"series_meta: Basis of {name!r} must be Net or Gross, got "
                             f"{basis!r}")
        inc = get("inception")
        bench = [b.strip() for b in str(get("benchmark", "") or "").split(",") if b.strip()]
        rows.append({"Name": name, "Role": role, "Basis": basis,
                     "Inception": pd.Timestamp(inc) if inc is not None and not pd.isna(inc)
                     else None,
                     "Benchmark": bench, "Description": str(get("description", "") or "")})
    rows.sort(key=lambda m: 0 if m["Role"] == "Strategy" else 1)
    return rows


def _series(returns: pd.DataFrame, name: str, inception=None) -> pd.Series:
    s = returns[name].dropna()
    if inception is not None:
        s = s[s.index >= inception.to_period("M").to_timestamp()]
    return s


def performance_row(r: pd.Series, asof, risk_free: pd.Series | None = None, inception=None,
                    years: int = 3) -> tuple[dict[str, float], list[str]]:
    """All figures of one row of the performance table (decimals; see module docstring) and
    the notes explaining every blank. Keys: the :data:`PERF_COLUMNS`, one per prior calendar
    year (``str(year)``), ``Volatility (36m, ann.)``, ``Sharpe``, ``Max Drawdown``."""
    end = asof_month(asof)
    r = to_monthly(r, inception=inception)
    r = r[r.index <= end]
    vals: dict[str, float] = {}
    notes: list[str] = []

    def put(col, value_note):
        value, note = value_note
        vals[col] = value
        if note:
            notes.append(f"{col}: {note}")

    put("Month", trailing_return(r, asof, 1))
    put("YTD", ytd_return(r, asof))
    put("Trailing 1 Yr", trailing_return(r, asof, 12))
    put("3 Yr (ann.)", trailing_return(r, asof, 36))
    put("5 Yr (ann.)", trailing_return(r, asof, 60))
    si, _, note = since_inception(r, asof)
    put("Since Inception", (si, note))
    for y in range(end.year - 1, end.year - 1 - years, -1):
        put(str(y), calendar_year_return(r, y, asof))
    put("Volatility (36m, ann.)", volatility(r, asof, 36))
    put("Sharpe", sharpe(r, risk_free, asof, 36))
    put("Max Drawdown", max_drawdown(r, asof))
    return vals, notes


def performance_table(returns: pd.DataFrame, series_meta: pd.DataFrame, asof,
                      risk_free: pd.Series | None = None) -> pd.DataFrame:
    """The ``Performance`` table: one row per ``Series`` row, strategies first, then
    benchmarks.

    Columns: Code (the Returns column / Series Name), Role, Basis (Net/Gross), Inception
    (first month used), Month, YTD, Trailing 1 Yr, 3 Yr (ann.), 5 Yr (ann.), Since Inception (annualized
    from 12 months; cumulative below, noted), the last three completed calendar years (headed
    by the year), Volatility (36m, ann.), Sharpe (36m, excess over ``risk_free``), Max
    Drawdown (negative decimal), Note (why a figure is blank). All returns are decimals.
    ``risk_free``: monthly decimal returns of the Settings ``Risk Free`` series."""
    end = asof_month(asof)
    years = [str(y) for y in range(end.year - 1, end.year - 4, -1)]
    cols = (["Code", "Role", "Basis", "Inception", *PERF_COLUMNS, *years,
             "Volatility (36m, ann.)", "Sharpe", "Max Drawdown", "Note"])
    rows = []
    for m in series_rows(returns, series_meta):
        row = {"Code": m["Name"], "Role": m["Role"], "Basis": m["Basis"]}
        if m["Name"] not in returns.columns:
            row["Note"] = f"no Returns column {m['Name']!r}"
            rows.append(row)
            continue
        s = _series(returns, m["Name"], m["Inception"])
        row["Inception"] = (s.index[0].to_period("M").to_timestamp(how="end").normalize()
                            if len(s) else None)
        try:
            vals, notes = performance_row(s, asof, risk_free, years=3)
        except ValueError as e:
            row["Note"] = str(e)
            rows.append(row)
            continue
        row.update(vals)
        row["Note"] = "; ".join(notes)
        rows.append(row)
    df = pd.DataFrame(rows, columns=cols)
    return df


def newsletter_table(returns: pd.DataFrame, series_meta: pd.DataFrame, asof, years: int = 2,
                     ) -> pd.DataFrame:
    """The newsletter's performance table (seed ``000_…``): Code, Basis, ``% Return`` (the
    as-of month), ``{Y} YTD %``, ``Trailing 1 year %`` (exactly 12 months), then
    ``{Y-k} Full Year %`` for the ``years`` prior calendar years, Note. Decimals.

    The newsletter heads every column "… Net %"; here no header says Net or Gross, because
    the rows are not all net: each row's ``Basis`` (from the Series sheet) is its only
    Net/Gross label (see :func:`basis_note`)."""
    end = asof_month(asof)
    ycols = [f"{end.year - k} Full Year %" for k in range(1, years + 1)]
    month_col, ytd_col, t12_col = "% Return", f"{end.year} YTD %", "Trailing 1 year %"
    cols = ["Code", "Basis", month_col, ytd_col, t12_col, *ycols, "Note"]
    rows = []
    for m in series_rows(returns, series_meta):
        row = {"Code": m["Name"], "Basis": m["Basis"]}
        if m["Name"] not in returns.columns:
            row["Note"] = f"no Returns column {m['Name']!r}"
            rows.append(row)
            continue
        s = _series(returns, m["Name"], m["Inception"])
        notes = []
        figs = [(month_col, trailing_return(s, asof, 1)),
                (ytd_col, ytd_return(s, asof)),
                (t12_col, trailing_return(s, asof, 12))]
        figs += [(c, calendar_year_return(s, end.year - k, asof))
                 for k, c in enumerate(ycols, start=1)]
        for col, (v, note) in figs:
            row[col] = v
            if note:
                notes.append(f"{col}: {note}")
        row["Note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def basis_note(returns: pd.DataFrame, series_meta: pd.DataFrame) -> str:
    """The Net/Gross note under a performance table, from the rows' own ``Basis``: which
    series are net (after the fees their Description states) and which gross (before fees),
    strategies and benchmarks named apart, so the note never calls a gross strategy a
    benchmark."""
    rows = series_rows(returns, series_meta)

    def names(role, basis):
        return [m["Name"] for m in rows if m["Role"] == role and m["Basis"] == basis]

    parts = []
    for basis, meaning in (("Net", "after the fees stated in each series' description"),
                           ("Gross", "before any fee")):
        groups = [f"{label} {', '.join(n)}" for label, n in
                  (("strategies", names("Strategy", basis)),
                   ("benchmark indices", names("Benchmark", basis))) if n]
        if groups:
            parts.append(f"{basis} = {meaning} ({'; '.join(groups)})")
    return ("Basis: " + ". ".join(parts) + ".") if parts else ""


def valid_series_meta(returns: pd.DataFrame, series: pd.DataFrame,
                      ) -> tuple[pd.DataFrame, dict[str, str]]:
    """The ``Series`` rows that are valid, and ``{name: reason}`` for the rows that are not
    (bad Role or Basis), so one bad row does not stop the others. The returned frame always
    has a ``Name`` column (an index named Name is turned into one)."""
    if series is None or len(series) == 0:
        return series, {}
    if not any(str(c).strip().lower() == "name" for c in series.columns):
        series = series.reset_index()  # the reader indexes the Series sheet by Name
        if not any(str(c).strip().lower() == "name" for c in series.columns):
            series = series.rename(columns={series.columns[0]: "Name"})
    good, bad = [], {}
    for i in range(len(series)):
        row = series.iloc[[i]]
        try:
            series_rows(returns, row)
            good.append(i)
        except ValueError as e:
            nc = next(c for c in row.columns if str(c).strip().lower() == "name")
            name = str(row.iloc[0][nc])
            bad[name] = str(e)
    return series.iloc[good], bad
