"""Valuation builder: Tables 3, 5, 7, 9 columns and values, failures marked per row, charts,
Track Record section, and no look-ahead at workbook level (refresh --asof)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.inputs.data import Instrument, WorkbookData
from engine.models.bonds import price_valuation
from engine.models.horizons import horizon_forecasts
from engine.models.reversion import panel_reversion
from engine.models.valuation import residual_stationarity, valuation_history
from engine.tables import chart_sheet
from engine.tables.base import RefreshContext, Table, check_refs
from engine.tables.charts import Ref
from engine.tables.valuation import build

N = 300
IDX = pd.date_range("1975-01-31", periods=N, freq="ME")
HZ = ["1 Mo", "3 Mo", "6 Mo", "1 Yr", "2 Yr", "3 Yr", "5 Yr"]


def _walk(seed: int, drift: float, vol: float, start: float) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(start * np.exp(np.cumsum(rng.normal(drift, vol, N))), IDX)


def _data(short: bool = False, no_maturity: bool = False) -> WorkbookData:
    noise = np.random.default_rng(6).normal(0.003, 0.002, N)
    cpi_us = pd.Series(100 * np.exp(np.cumsum(noise)), IDX)
    cpi_uk = pd.Series(100 * 1.004 ** np.arange(N), IDX)
    rng = np.random.default_rng(3)
    yld = pd.Series(np.clip(7 + np.cumsum(rng.normal(0, 0.2, N)), 0.5, None), IDX)
    insts = {
        "SPX": Instrument("SPX", "S&P 500", "United States", "Equity",
                          fair_value_inputs=["CPI_US"]),
        "NKY": Instrument("NKY", "Nikkei 225", "Japan", "Equity"),
        "UST": Instrument("UST", "US 10Y", "United States", "Bond", quote="Yield",
                          maturity=None if no_maturity else 10.0,
                          fair_value_inputs=["CPI_US", "TBILL"]),
        "GBPUSD": Instrument("GBPUSD", "GBP/USD", "United Kingdom", "FX",
                             fair_value_inputs=["CPI_UK", "CPI_US"]),
        "GOLD": Instrument("GOLD", "Gold", "", "Commodity", fair_value_inputs=["CPI_US"]),
    }
    prices = {"SPX": _walk(1, 0.006, 0.045, 100), "NKY": _walk(2, 0.004, 0.05, 5000),
              "UST": yld, "GBPUSD": _walk(4, 0.0, 0.025, 1.6), "GOLD": _walk(5, 0.004, 0.05, 300)}
    if short:
        prices["NKY"] = prices["NKY"].iloc[-30:]
    fund = pd.DataFrame({"CPI_US": cpi_us, "CPI_UK": cpi_uk,
                         "TBILL": (0.6 * yld - 1.0 + np.cumsum(rng.normal(0, 0.1, N)))
                         .clip(lower=0.1)})
    return WorkbookData(asof=IDX[-1], instruments=insts, prices=prices, fundamentals=fund,
                        returns=pd.DataFrame(), series=pd.DataFrame(), income=pd.DataFrame(),
                        macro=pd.DataFrame(), settings={})


def _sheets(contents) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in contents:
        out.setdefault(c.sheet, []).append(c)
    return out


def test_tables_have_the_seed_columns_in_order():
    ctx = RefreshContext(data=_data())
    sheets = _sheets(build(ctx))
    assert set(sheets) == {"Stock Valuation", "Bond Valuation", "FX Valuation",
                           "Commodity Valuation", "Track Record"}  # Charts: chart_sheet
    cols = {s: list(sheets[s][0].tables[0].df.columns) for s in sheets if "Valuation" in s}
    assert cols["Stock Valuation"] == ["Code", "Country", "Valuation (σ)", "Valuation (%)", *HZ,
                                       "To Fair Value (%)", "Frequency (%)", "Fair Value"]
    assert cols["Bond Valuation"] == ["Code", "Country", "Debt Instrument", "Current Yield",
                                      "Valuation (σ)", "Price Valuation (%)", *HZ,
                                      "To Fair Value (%)", "Frequency (%)", "Fair Yield"]
    assert cols["FX Valuation"] == ["Code", "FX Rate", "Valuation (σ)", "Valuation (%)", *HZ,
                                    "To Fair Value (%)", "Frequency (%)", "Fair Value"]
    assert cols["Commodity Valuation"] == ["Code", "Commodity", "Valuation (σ)",
                                           "Valuation (%)", *HZ, "To Fair Value (%)",
                                           "Frequency (%)", "Fair Value"]
    t = sheets["Stock Valuation"][0].tables[0]
    assert t.formats["Valuation (σ)"] == "0.00" and t.formats["1 Yr"] == "0.00%"
    assert sheets["Bond Valuation"][0].tables[0].formats["1 Yr"] == "0.00"


def test_values_equal_the_models_and_are_cached():
    d = _data()
    ctx = RefreshContext(data=d)
    sheets = _sheets(build(ctx))
    stock = sheets["Stock Valuation"][0].tables[0].df.set_index("Code")
    h = valuation_history(d.prices["SPX"], d.fundamentals_for("SPX"), asset_class="Equity")
    assert stock.loc["SPX", "Valuation (σ)"] == pytest.approx(h["sigma"].iloc[-1], abs=1e-12)
    assert stock.loc["SPX", "Fair Value"] == pytest.approx(h["fair_value"].iloc[-1])
    # the horizon columns use the panel of the asset class (SPX and NKY), not SPX alone
    hn = valuation_history(d.prices["NKY"], None, asset_class="Equity")
    panel = panel_reversion({"SPX": h, "NKY": hn}, "Equity")
    fc = horizon_forecasts(d.prices["SPX"], h, reversion=panel["SPX"]).iloc[-1]
    np.testing.assert_allclose(stock.loc["SPX", HZ].to_numpy(float), fc.to_numpy(), rtol=1e-12)
    alone = horizon_forecasts(d.prices["SPX"], h, asset_class="Equity").iloc[-1]
    assert not np.allclose(alone.to_numpy(), fc.to_numpy(), rtol=1e-6)
    pd.testing.assert_frame_equal(ctx.results["SPX"].reversion, panel["SPX"])
    pd.testing.assert_frame_equal(ctx.results["SPX"].valuation, h)
    assert h["model"].iloc[-1] == "real trend (deflated by CPI_US)"
    fx = ctx.results["GBPUSD"].valuation
    assert fx["model"].iloc[-1] == "PPP: CPI_US/CPI_UK"
    bond = sheets["Bond Valuation"][0].tables[0].df.set_index("Code").loc["UST"]
    hb = ctx.results["UST"].valuation
    pv = price_valuation(d.prices["UST"].iloc[-1], hb["fair_value"].iloc[-1], 10.0)
    assert bond["Price Valuation (%)"] == pytest.approx(pv, abs=1e-14)
    # by hand: 20 semiannual coupons of fair/2 discounted at today's yield/2, over par
    i, c = d.prices["UST"].iloc[-1] / 200, hb["fair_value"].iloc[-1] / 2
    hand = (c * (1 - (1 + i) ** -20) / i + 100 * (1 + i) ** -20) / 100 - 1
    assert bond["Price Valuation (%)"] == pytest.approx(hand, abs=1e-12)
    assert bond["To Fair Value (%)"] == pytest.approx(100 / (100 * (1 + hand)) - 1, abs=1e-12)
    assert (1 + bond["Price Valuation (%)"]) * (1 + bond["To Fair Value (%)"]) == \
        pytest.approx(1.0, abs=1e-12)
    assert bond["Current Yield"] == d.prices["UST"].iloc[-1]
    assert bond["Fair Yield"] == pytest.approx(hb["fair_value"].iloc[-1])
    assert np.sign(bond["Price Valuation (%)"]) == -np.sign(bond["Valuation (σ)"])
    assert not ctx.failures
    notes = sheets["Stock Valuation"][0].tables[0].notes
    spx = next(n for n in notes if n.startswith("SPX: fair value by real trend"))
    inst = ctx.data.instruments["SPX"]
    fund = ctx.data.fundamentals_for("SPX")
    p = residual_stationarity(ctx.data.prices["SPX"], fund if len(fund.columns) else None,
                              quote=inst.quote, asset_class=inst.asset_class)["pvalue"]
    assert spx.endswith(f"(Engle–Granger/ADF p = {p:.3f}).")


def test_a_short_instrument_fails_alone_with_its_reason():
    ctx = RefreshContext(data=_data(short=True))
    sheets = _sheets(build(ctx))
    df = sheets["Stock Valuation"][0].tables[0].df.set_index("Code")
    assert list(df.columns)[-1] == "Note"
    assert df.loc["NKY", "Note"] == "need 60 months of prices for a valuation, got 30"
    assert np.isnan(df.loc["NKY", "Valuation (σ)"])
    assert np.isfinite(df.loc["SPX", "Valuation (σ)"]) and pd.isna(df.loc["SPX", "Note"])
    assert ctx.failures == {"NKY": "need 60 months of prices for a valuation, got 30"}
    tr = sheets["Track Record"][0].tables[0].df
    assert "NKY" not in set(tr["Code"])


def test_bond_without_maturity_is_noted():
    ctx = RefreshContext(data=_data(no_maturity=True))
    df = _sheets(build(ctx))["Bond Valuation"][0].tables[0].df.set_index("Code")
    assert np.isnan(df.loc["UST", "Price Valuation (%)"])
    assert "no Maturity" in df.loc["UST", "Note"]


def test_track_record_section_is_honest():
    ctx = RefreshContext(data=_data())
    tr = _sheets(build(ctx))["Track Record"][0].tables[0]
    df = tr.df
    assert len(df) == 5 * 7
    assert list(df.columns[:4]) == ["Code", "Asset Class", "Horizon", "Forecasts"]
    scored = df[df["Forecasts"] > 0]
    assert ((scored["OOS R²"] > 0) == (scored["Beats Mean"] == "Yes")).all()
    assert tr.notes[0].startswith("Overall: the valuation forecasts beat the prevailing "
                                  f"historical mean in {int((scored['OOS R²'] > 0).sum())} of "
                                  f"{len(scored)}")
    losers = scored[scored["Beats Mean"] == "No"]
    for code in set(losers["Code"]):
        assert any(n.startswith(f"{code}: the valuation forecast does not beat") for n in
                   tr.notes)


def _charts(d=None):
    ctx = RefreshContext(data=d or _data())
    build(ctx)
    [content] = chart_sheet.build(ctx)
    return ctx, content


def test_valuation_charts_are_data_chartspecs():
    """Charts 2, 3, 6 as data: per instrument its one-row summary, price with fair value, σ
    on the fixed −3…+3 scale with bands at ±1.75σ; the scatter once, after the stock
    indices, one labelled point per index."""
    ctx, content = _charts()
    check_refs(content)
    names = [b.name if isinstance(b, Table) else b.title for b in content.blocks]
    assert names[:3] == ["ChartVal_SPX", "SPX: price and walk-forward fair value",
                         "SPX valuation (σ), bands at ±1.75σ"]
    assert names[6:8] == ["ValScatter",
                          "Stock indices: valuation vs 1-year valuation-based forecast"]
    assert names[8] == "ChartVal_UST"
    spx = content.table("ChartVal_SPX")
    assert list(spx.df.columns) == ["Code", "Name", "Valuation (σ)", "Valuation (%)", "1 Yr",
                                    "3 Yr"]
    t3 = _sheets(build(RefreshContext(data=_data())))["Stock Valuation"][0].tables[0].df
    row = t3.set_index("Code").loc["SPX"]
    for c in ("Valuation (σ)", "Valuation (%)", "1 Yr", "3 Yr"):
        assert spx.df[c].iloc[0] == row[c]             # the table's numbers, not text
    assert spx.formats["Valuation (%)"] == "0.00%" and spx.formats["Valuation (σ)"] == "0.00"
    ust = content.table("ChartVal_UST")
    assert "Price Valuation (%)" in ust.df.columns and ust.formats["1 Yr"] == "0.00"
    sigma = [c for c in content.charts if c.title.startswith("SPX valuation")][0]
    assert (sigma.y_axis.minimum, sigma.y_axis.maximum, sigma.y_axis.major_unit) == (-3, 3, 1)
    assert sigma.bands == (-1.75, 1.75)
    feed = content.table("ValChart_SPX").df
    assert list(feed.columns) == ["Date", "Price", "Fair Value", "Valuation (σ)"]
    h = ctx.results["SPX"].valuation
    assert feed["Valuation (σ)"].iloc[-1] == h["sigma"].iloc[-1]
    assert feed["Date"].iloc[0] == h["sigma"].first_valid_index()   # its own first month
    scatter = [c for c in content.charts if c.kind == "scatter"]
    assert len(scatter) == 1
    assert [s.name for s in scatter[0].series] == [Ref("ValScatter", "Code", 0),
                                                   Ref("ValScatter", "Code", 1)]
    assert all(s.label == "right" and s.marker == "circle" for s in scatter[0].series)
    assert list(content.table("ValScatter").df["Code"]) == ["SPX", "NKY"]


def test_no_look_ahead_at_workbook_level(tmp_path):
    """Refresh at As Of t on the original workbook and on one whose every price and
    fundamental after t is tripled: the valuation tables are identical; and the valuation
    history up to t from a later As Of equals the one computed at t."""
    from workbook_factory import build as build_wb

    from engine.inputs.reader import read_workbook

    def triple_future(wb):
        for name in ("Prices", "Fundamentals"):
            ws = wb[name]
            for row in ws.iter_rows(min_row=2):
                if row[0].value is not None and pd.Timestamp(row[0].value) > cut:
                    for c in row[1:]:
                        if isinstance(c.value, (int, float)):
                            c.value = c.value * 3

    cut = pd.Timestamp("2019-06-30")
    a = build_wb(tmp_path / "a.xlsx", months=150)
    b = build_wb(tmp_path / "b.xlsx", months=150, mutate=triple_future)
    tables = []
    for path in (a, b):
        ctx = RefreshContext(data=read_workbook(path, asof=cut))
        tables.append({c.sheet: c.tables[0].df for c in build(ctx) if "Valuation" in c.sheet})
    for sheet in tables[0]:
        pd.testing.assert_frame_equal(tables[0][sheet], tables[1][sheet])
    late = RefreshContext(data=read_workbook(b, asof="2020-12-31"))
    early = RefreshContext(data=read_workbook(b, asof=cut))
    build(late), build(early)
    for code, h in ((c, r.valuation) for c, r in early.results.items()
                    if r.valuation is not None):
        pd.testing.assert_frame_equal(late.results[code].valuation.loc[:cut], h,
                                      check_freq=False)
    assert not late.results["EQ1"].valuation.loc[cut:].iloc[1:].equals(
        early.results["EQ1"].valuation.loc[cut:].iloc[1:])


def test_a_horizon_too_long_for_the_history_is_blank():
    # 64 months: a σ from month 60; a 3-year forecast needs 12 completed 36-month changes
    # (48 months), a 5-year one 72 months: blank, a blank cell, not "nan"
    d = _data()
    d.prices["NKY"] = d.prices["NKY"].iloc[-64:]
    ctx = RefreshContext(data=d)
    stock = _sheets(build(ctx))["Stock Valuation"][0].tables[0].df.set_index("Code")
    assert np.isfinite(stock.loc["NKY", "3 Yr"]) and np.isnan(stock.loc["NKY", "5 Yr"])
    _, content = _charts(d)
    nky = content.table("ChartVal_NKY").df.iloc[0]
    assert np.isfinite(nky["1 Yr"]) and np.isfinite(nky["3 Yr"])


def test_an_instrument_without_reversion_shows_the_mean_and_the_note_says_why():
    d = _data()
    t = np.arange(N)
    rng = np.random.default_rng(17)
    # a second currency pair whose rate accelerates away from its long-run level
    d.instruments["USDXXX"] = Instrument("USDXXX", "USD/XXX", "", "FX")
    d.prices["USDXXX"] = pd.Series(np.exp(0.00003 * t ** 2 + np.cumsum(rng.normal(0, 0.01, N))),
                                   IDX)
    # and one that reverts to its long-run level (an AR(1), ρ = 0.95)
    e = np.zeros(N)
    for i in range(1, N):
        e[i] = 0.95 * e[i - 1] + rng.normal(0, 0.02)
    d.instruments["MRX"] = Instrument("MRX", "MRX/USD", "", "FX")
    d.prices["MRX"] = pd.Series(np.exp(e), IDX)
    ctx = RefreshContext(data=d)
    t_fx = _sheets(build(ctx))["FX Valuation"][0].tables[0]
    rev = ctx.results["USDXXX"].reversion.iloc[-1]
    assert not rev["passes"] and rev["members"] == 2          # pooled with GBPUSD, MRX
    note = next(n for n in t_fx.notes if n.startswith("USDXXX: no valuation-based forecast"))
    assert "its price has not reverted toward fair value" in note
    assert note.endswith("its horizon columns show the historical mean change instead.")
    row = t_fx.df.set_index("Code").loc["USDXXX"]
    for h, label in zip((1, 12, 60), ("1 Mo", "1 Yr", "5 Yr")):
        path = ctx.results["USDXXX"].paths[h]
        # the prevailing mean h-month log change, annualized: exp(m·12/h) − 1
        assert row[label] == pytest.approx(np.expm1(path["mean"].iloc[-1] * 12 / h), abs=1e-15)
    ok = next(n for n in t_fx.notes if n.startswith("MRX: horizon forecasts revert"))
    assert "pooled estimate of 2 other fx instrument(s)" in ok
    assert ctx.results["MRX"].reversion["passes"].iloc[-1]
    assert not ctx.failures
