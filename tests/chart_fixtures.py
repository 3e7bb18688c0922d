"""Hand-made ``Charts`` sheet content shaped like engine.tables.chart_sheet's (synthetic
numbers, labelled as such): per instrument a composite panel (summary row, price chart, Model
Signals chart) and a valuation panel (summary row, price and fair value, σ), and the stock
indices' scatter. Fast: no model runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.tables.base import DATE, PCT, SheetContent, Table
from engine.tables.charts import Axis, ChartSpec, Ref, Series

DATES = pd.date_range("1994-01-31", "1998-12-31", freq="ME")


def composite_panel(code: str, name: str, row: int, start=None) -> tuple[list, list[Table]]:
    dates = DATES[DATES >= pd.Timestamp(start)] if start is not None else DATES
    n = len(dates)
    px = Table(f"FcPrices_{code}", pd.DataFrame({"Date": dates,
                                                  "Price": np.linspace(460, 1229, n)}))
    pos = np.where(np.arange(n) < n // 2, 0.0, 1.0)
    rows = [(dates[0], pos[0])]               # steps: each later date twice, old then new
    for i in range(1, n):
        rows += [(dates[i], pos[i - 1]), (dates[i], pos[i])]
    sig = Table(f"FcSignals_{code}", pd.DataFrame(rows, columns=["Date", "Signal"]))
    summary = Table(f"ChartFc_{code}", pd.DataFrame([{
        "Code": code, "Name": name, "1 Mo Forecast": 0.0073, "Previous Forecast": 0.0184,
        "Position": "Long", "Trade": "B", "Updated": dates[-1]}]),
        {"1 Mo Forecast": PCT, "Previous Forecast": PCT, "Updated": DATE},
        title=f"{name} ({code}): composite forecast")
    date_axis = Axis("", "yyyy", dates=True, gridlines=False)
    price = ChartSpec(f"{name} ({code})",
                      (Series(code, Ref(px.name, "Date"), Ref(px.name, "Price"), "1F3864"),),
                      date_axis, Axis("Price", "#,##0"), width=18, height=7)
    signals = ChartSpec(
        f"Model Signals {code}",
        (Series("Signal", Ref(sig.name, "Date"), Ref(sig.name, "Signal"), "1F3864"),
         Series(Ref("FcChartLatest", "Label", row), Ref("FcChartLatest", "Date", row),
                Ref("FcChartLatest", "Signal", row), "C00000", marker="circle", label="top")),
        date_axis, Axis("Position", "0", -2, 2, 1), width=18, height=5)
    return [summary, price, signals], [px, sig]


def valuation_panel(code: str, name: str, sigma_end: float = 1.7) -> tuple[list, list[Table]]:
    n = len(DATES)
    p = np.linspace(460, 1229, n)
    feed = Table(f"ValChart_{code}", pd.DataFrame({
        "Date": DATES, "Price": p, "Fair Value": p * 0.8,
        "Valuation (σ)": np.linspace(-3.6, sigma_end, n)}))      # runs off the −3 scale
    summary = Table(f"ChartVal_{code}", pd.DataFrame([{
        "Code": code, "Name": name, "Valuation (σ)": sigma_end, "Valuation (%)": 0.31,
        "1 Yr": -0.041, "3 Yr": -0.02}]), {"Valuation (%)": PCT, "1 Yr": PCT, "3 Yr": PCT},
        title=f"{name} ({code}): valuation")
    date_axis = Axis("", "yyyy", dates=True, gridlines=False)
    t = feed.name
    price = ChartSpec(f"{code}: price and walk-forward fair value",
                      (Series("Price", Ref(t, "Date"), Ref(t, "Price"), "1F3864"),
                       Series("Fair Value", Ref(t, "Date"), Ref(t, "Fair Value"), "7F7F7F",
                              dash="dash")),
                      date_axis, Axis("Price", "#,##0"), legend="bottom", width=18, height=7)
    sigma = ChartSpec(f"{code} valuation (σ), bands at ±1.75σ",
                      (Series("Valuation (σ)", Ref(t, "Date"), Ref(t, "Valuation (σ)"),
                              "C00000"),),
                      date_axis, Axis("σ", "0", -3, 3, 1), bands=(-1.75, 1.75), width=18,
                      height=5.5)
    return [summary, price, sigma], [feed]


def scatter_panel(rows: list[dict]) -> list:
    df = pd.DataFrame(rows, columns=["Code", "Stock Index", "Valuation (σ)", "Valuation (%)",
                                     "1 Yr"])
    table = Table("ValScatter", df, {"Valuation (%)": PCT, "1 Yr": PCT},
                  title="Stock indices: valuation vs 1-year valuation-based forecast")
    chart = ChartSpec(
        "Stock indices: valuation vs 1-year valuation-based forecast",
        tuple(Series(Ref("ValScatter", "Code", i), Ref("ValScatter", "Valuation (%)", i),
                     Ref("ValScatter", "1 Yr", i), "1F3864", marker="circle", label="right")
              for i in range(len(df))),
        Axis("Valuation (%) = P/FV − 1", "0%"), Axis("1-year forecast (annualized)", "0%"),
        kind="scatter", width=18, height=9)
    return [table, chart]


def fake_charts(instruments: list[tuple[str, str, str]]) -> SheetContent:
    """``instruments``: (code, name, asset class). The Charts sheet in chart_sheet's order."""
    content = SheetContent("Charts", intro=["Charts — synthetic", "Synthetic chart data."])
    latest = pd.DataFrame({"Code": [c for c, _, _ in instruments],
                           "Date": [DATES[-1]] * len(instruments),
                           "Signal": [1] * len(instruments),
                           "Label": ["B"] * len(instruments)})
    content.data_tables.append(Table("FcChartLatest", latest))
    for cls in ("Equity", "Bond", "FX", "Commodity"):
        mine = [(k, c, n) for k, (c, n, a) in enumerate(instruments) if a == cls]
        for k, code, name in mine:
            blocks, feeds = composite_panel(code, name, k)
            content.add(*blocks)
            content.data_tables += feeds
        for _, code, name in mine:
            blocks, feeds = valuation_panel(code, name)
            content.add(*blocks)
            content.data_tables += feeds
        if cls == "Equity" and mine:
            content.add(*scatter_panel([{"Code": c, "Stock Index": n, "Valuation (σ)": 1.7,
                                         "Valuation (%)": 0.77, "1 Yr": 0.096}
                                        for _, c, n in mine]))
    return content
