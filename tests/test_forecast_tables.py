"""Forecast builders at workbook level: seed headers, no look-ahead, History, Previous Forecast.

All price data here is synthetic (labelled), built in the fixture; nothing is read from disk.
"""

import numpy as np
import pandas as pd
import pytest
from engine.version import model_version
from engine.inputs.data import Instrument, WorkbookData
from engine.models.signals import trade
from engine.tables import forecasts, history
from engine.tables.base import RefreshContext

N = 200


def _data(asof="2019-12-31", after=None, factor=1.0):
    """Synthetic workbook data: one instrument per asset class (+ a too-short one)."""
    rng = np.random.default_rng(42)
    me = pd.date_range("2003-05-31", periods=N, freq="ME")
    d15 = pd.DatetimeIndex([pd.Timestamp(m.year, m.month, 15) for m in me])
    cpi = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.002, 0.002, N))), index=me)
    prices = {
        "EQ": pd.Series(1000 * np.exp(np.cumsum(rng.normal(0.006, 0.04, N))), index=me),
        "BD": pd.Series(np.clip(5 + np.cumsum(rng.normal(0, 0.2, N)), 0.5, None), index=me),
        "FX": pd.Series(1.2 * np.exp(np.cumsum(rng.normal(0, 0.025, N))), index=me),
        "OIL": pd.Series(30 * np.exp(np.cumsum(rng.normal(0.003, 0.08, N))), index=d15),
        "NEW": pd.Series(50 * np.exp(np.cumsum(rng.normal(0, 0.05, 30))), index=me[-30:]),
    }
    insts = {
        "EQ": Instrument("EQ", "Synthetic Index", "Testland", "Equity", fair_value_inputs=["CPI"]),
        "BD": Instrument("BD", "Synthetic 10Y", "Testland", "Bond", quote="Yield", maturity=10),
        "FX": Instrument("FX", "EUR/USD (synthetic)", "Euro Area", "FX"),
        "OIL": Instrument("OIL", "Synthetic Crude", "Global", "Commodity", update="15"),
        "NEW": Instrument("NEW", "Young Index", "Testland", "Equity"),
    }
    a = pd.Timestamp(asof)
    if after is not None:
        prices = {k: v.where(v.index <= after, v * factor) for k, v in prices.items()}
    prices = {k: v[v.index <= a] for k, v in prices.items()}
    fund = pd.DataFrame({"CPI": cpi})
    fund = fund[fund.index <= a]
    return WorkbookData(asof=a, instruments=insts, prices=prices, fundamentals=fund,
                        returns=pd.DataFrame(), series=pd.DataFrame(), income=pd.DataFrame(),
                        macro=pd.DataFrame(), settings={})


def _build(data, hist=None):
    ctx = RefreshContext(data=data, history=hist if hist is not None else pd.DataFrame())
    out = {c.sheet: c for c in forecasts.build(ctx)}
    out["History"] = history.build(ctx)[0]
    return ctx, out


@pytest.fixture(scope="module")
def built():
    return _build(_data())


def test_seed_headers_and_words(built):
    ctx, out = built
    heads = {s: list(out[s].tables[0].df.columns) for s in forecasts.SHEETS.values()}
    base = ["Previous Forecast", "Position", "Trade", "Updated", "Phase"]
    assert heads["Stock Forecasts"] == ["Code", "Country", "Stock Index", "Price",
                                        "1 Mo Forecast", *base, "Note"]
    assert heads["Bond Forecasts"] == ["Code", "Country", "Debt Instrument", "Current Yield",
                                       "1 Mo Yield Forecast", *base]
    assert heads["FX Forecasts"] == ["Code", "Currency", "Spot FX Rate", "1 Mo Forecast", *base]
    # the seed's "($)" is dropped: a Unit column says what each level is (issue #12)
    assert heads["Commodity Forecasts"] == ["Code", "Country", "Commodity",
                                            "Cash/Futures Price", "Unit", "1 Month Forecast",
                                            *base]
    eq = out["Stock Forecasts"].tables[0].df.set_index("Code")
    assert eq.loc["EQ", "Position"] in ("Long", "Neutral", "Short")
    assert "not enough history" in eq.loc["NEW", "Note"]       # failed row marked
    assert "NEW" in ctx.failures and "EQ" not in ctx.failures
    oil = out["Commodity Forecasts"].tables[0].df.set_index("Code")
    assert oil.loc["OIL", "Updated"] == pd.Timestamp("2019-12-13")  # 15th is a Sunday
    bd = out["Bond Forecasts"].tables[0].df.set_index("Code")
    f = bd.loc["BD", "1 Mo Yield Forecast"]
    assert bd.loc["BD", "Position"] == ("Long" if f < -0.005 else "Short" if f > 0.005
                                        else "Neutral")


def test_signals_and_track_record(built):
    ctx, out = built
    sig = out["Signals"].tables[0].df
    assert list(sig.columns[:1]) == ["Date"]
    vals = pd.unique(sig.drop(columns="Date").to_numpy().ravel())
    assert {v for v in vals if not pd.isna(v)} <= {-1.0, 0.0, 1.0}
    tr = out["Track Record"].tables[0]
    assert set(tr.df["Code"]) == {"EQ", "BD", "FX", "OIL", "NEW"}
    assert tr.notes[0].startswith("Overall:")
    assert any(n.startswith("NEW: not enough history") for n in tr.notes)


def test_no_look_ahead_workbook_level(built):
    ctx, _ = built
    t = pd.Timestamp("2014-06-30")
    ctx3, out3 = _build(_data(after=t, factor=3.0))
    for code in ("EQ", "BD", "FX", "OIL"):
        a = ctx.results[code].history.loc[:t]
        b = ctx3.results[code].history.loc[:t]
        pd.testing.assert_frame_equal(a, b)
    s1 = built[1]["Signals"].tables[0].df
    s3 = out3["Signals"].tables[0].df
    pd.testing.assert_frame_equal(s1[s1["Date"] <= t], s3[s3["Date"] <= t])
    # and a refresh as of t sees exactly the same figures whatever happened after t
    _, oa = _build(_data(asof=t))
    _, ob = _build(_data(asof=t, after=t, factor=3.0))
    for s in forecasts.SHEETS.values():
        pd.testing.assert_frame_equal(oa[s].tables[0].df, ob[s].tables[0].df)


def test_history_idempotent_and_append():
    d1 = _data(asof="2019-11-30")
    _, o1 = _build(d1)
    h1 = o1["History"].tables[0].df
    assert list(h1.columns) == history.HISTORY_COLUMNS
    assert (h1["As Of"] == pd.Timestamp("2019-11-30")).all() and len(h1) == 4  # NEW failed
    assert (h1["Model Version"] == model_version(d1.settings)).all()
    _, o1b = _build(d1, h1)                                     # same as-of again
    pd.testing.assert_frame_equal(o1b["History"].tables[0].df, h1)
    _, o2 = _build(_data(asof="2019-12-31"), h1)                # next month appends
    h2 = o2["History"].tables[0].df
    assert len(h2) == 8
    pd.testing.assert_frame_equal(h2.iloc[:4], h1)
    _, o2b = _build(_data(asof="2019-12-31"), h2)               # re-run replaces only Dec
    pd.testing.assert_frame_equal(o2b["History"].tables[0].df, h2)


def test_history_one_row_per_instrument_per_update():
    """Three refreshes between two month-ends hold the same update as the month-end refresh:
    each replaces its rows (issue #12: the T-bill got the trade "S" three times)."""
    _, o = _build(_data(asof="2019-11-30"))
    h = o["History"].tables[0].df
    for day in ("2019-12-05", "2019-12-10", "2019-12-13"):
        _, o = _build(_data(asof=day), h)
        h = o["History"].tables[0].df
    per = h.groupby(["Code", "Last Data Date"]).size()
    assert (per == 1).all(), per[per > 1]
    assert sorted(h["Code"]) == ["BD", "EQ", "FX", "OIL"]      # one update each, still
    assert (h["As Of"] == pd.Timestamp("2019-12-13")).all()    # the latest refresh's rows
    first = _build(_data(asof="2019-11-30"))[1]["History"].tables[0].df
    assert (h["Trade"] != "").sum() == (first["Trade"] != "").sum()  # trades not multiplied
    # OIL updates on the 15th: a refresh on the 20th holds its December update, a new row;
    # the month-end instruments still hold November's
    _, o = _build(_data(asof="2019-12-20"), h)
    h2 = o["History"].tables[0].df
    assert h2["Code"].value_counts().to_dict() == {"OIL": 2, "EQ": 1, "BD": 1, "FX": 1}
    # rows written twice for one update by an older version are reduced to the later one
    legacy = pd.concat([first.assign(**{"As Of": pd.Timestamp("2019-12-02")}), first],
                       ignore_index=True)
    merged = history.merge_history(legacy, first.iloc[:0], pd.Timestamp("2019-12-31"))
    assert len(merged) == len(first) and (merged["As Of"] == pd.Timestamp("2019-12-02")).all()


def test_previous_forecast_carried_from_history():
    _, o1 = _build(_data(asof="2019-11-30"))
    h1 = o1["History"].tables[0].df
    ctx2, o2 = _build(_data(asof="2019-12-31"), h1)
    for sheet, code in (("Stock Forecasts", "EQ"), ("Bond Forecasts", "BD"),
                        ("FX Forecasts", "FX")):
        row = o2[sheet].tables[0].df.set_index("Code").loc[code]
        prev = h1.set_index("Code").loc[code]
        assert row["Previous Forecast"] == prev["Forecast"]
        assert row["Trade"] == trade(int(prev["Position"]), row["Position"])
    # a hand-written History row wins over the walk-forward value
    hand = pd.DataFrame([{"As Of": pd.Timestamp("2019-11-30"), "Code": "EQ",
                          "Forecast": 0.0512, "Position": "Short", "Trade": "S",
                          "Phase": "rational", "Model Version": "old",
                          "Last Data Date": pd.Timestamp("2019-11-30")}])
    _, o3 = _build(_data(asof="2019-12-31"), hand)
    row = o3["Stock Forecasts"].tables[0].df.set_index("Code").loc["EQ"]
    assert row["Previous Forecast"] == 0.0512
    assert row["Trade"] == {"Long": "CS&B", "Neutral": "CS", "Short": ""}[row["Position"]]
    hist3 = o3["History"].tables[0].df
    assert hist3.iloc[0]["Model Version"] == "old"              # earlier row kept as read
    # without History: the walk-forward forecast of the previous month
    h = ctx2.results["FX"].history
    _, o4 = _build(_data(asof="2019-12-31"))
    row = o4["FX Forecasts"].tables[0].df.set_index("Code").loc["FX"]
    assert row["Previous Forecast"] == h["forecast"].iloc[-2]


def test_previous_forecast_skips_a_history_that_misses_the_previous_update():
    """History holds October but not November for EQ (it failed in November, say): December's
    Previous Forecast is the walk-forward forecast made at the November update, not October's
    History row."""
    ctx1, o1 = _build(_data(asof="2019-10-31"))
    oct_rows = o1["History"].tables[0].df
    ctx2, o2 = _build(_data(asof="2019-12-31"), oct_rows)
    row = o2["Stock Forecasts"].tables[0].df.set_index("Code").loc["EQ"]
    walk = ctx2.results["EQ"].history["forecast"]
    assert walk.index[-2] == pd.Timestamp("2019-11-30")
    assert row["Previous Forecast"] == walk.iloc[-2]
    assert row["Previous Forecast"] != oct_rows.set_index("Code").loc["EQ", "Forecast"]


def test_forecast_builder_leaves_the_charts_sheet_to_the_chart_builder(built):
    """Charts 1, 4, 5 are laid out by engine.tables.chart_sheet (tests/test_chart_sheet.py)."""
    _, out = built
    assert "Charts" not in out


def test_previous_forecast_is_the_previous_update_not_the_same_one():
    """A refresh between two updates (here 10 Jan: no January data yet, the December update
    is still current) must show the same Previous Forecast and Trade as the refresh that made
    the December update: the History row of 31 Dec holds *this* update, not the previous."""
    _, o1 = _build(_data(asof="2019-11-30"))
    h1 = o1["History"].tables[0].df
    _, o2 = _build(_data(asof="2019-12-31"), h1)
    h2 = o2["History"].tables[0].df
    _, o3 = _build(_data(asof="2020-01-10"), h2)
    prev_rows = h1.set_index("Code")
    for sheet, code in (("Stock Forecasts", "EQ"), ("Bond Forecasts", "BD"),
                        ("FX Forecasts", "FX"), ("Commodity Forecasts", "OIL")):
        dec = o2[sheet].tables[0].df.set_index("Code").loc[code]
        jan = o3[sheet].tables[0].df.set_index("Code").loc[code]
        assert jan["Previous Forecast"] == prev_rows.loc[code, "Forecast"]   # the November one
        assert jan["Previous Forecast"] == dec["Previous Forecast"]
        assert jan["Trade"] == dec["Trade"]
        assert jan["Updated"] == dec["Updated"]


def test_updated_is_the_update_the_last_observation_feeds():
    """A 15th-updating instrument with month-end dated prices (e.g. a monthly BDH): the reader
    keeps 30 Nov 2019 for the update of 15 Dec (sampling: the last observation on or before the
    15th, after the previous month's 15th), so ``Updated`` is Friday 13 Dec 2019 (15th a
    Sunday) — not 15 Nov, which would predate the data the forecast used."""
    from engine.inputs.sampling import monthly
    d = _data()
    raw = d.prices["EQ"].rename("OIL") * 0.03          # month-end dated levels
    d.prices["OIL"] = monthly(raw, "15", asof=d.asof)
    assert d.prices["OIL"].index[-1] == pd.Timestamp("2019-11-30")
    _, out = _build(d)
    oil = out["Commodity Forecasts"].tables[0].df.set_index("Code").loc["OIL"]
    assert oil["Updated"] == pd.Timestamp("2019-12-13")
    assert forecasts.update_date_of(pd.Timestamp("2019-11-30"), "15") == pd.Timestamp("2019-12-13")
    assert forecasts.update_date_of(pd.Timestamp("2019-12-13"), "15") == pd.Timestamp("2019-12-13")
    assert forecasts.update_date_of(pd.Timestamp("2019-12-20"), "20") == pd.Timestamp("2019-12-20")
    assert forecasts.update_date_of(pd.Timestamp("2019-12-23"), "20") == pd.Timestamp("2020-01-17")  # MLK Day
    assert forecasts.update_date_of(pd.Timestamp("2019-12-02"), "MonthEnd") == \
        pd.Timestamp("2019-12-31")


def test_gamma_position_cell_agrees_with_the_refreshed_table(built):
    """The same forecast gives the same position in a cell (gamma_position with the
    instrument's asset class, band left blank) as in the refreshed table (issue 13)."""
    from addin.udfs_forecast import gamma_position
    from engine.models.signals import position

    ctx, out = built
    words = {"Long": 1, "Neutral": 0, "Short": -1}
    checked = 0
    for sheet in forecasts.SHEETS.values():
        for _, row in out[sheet].tables[0].df.iterrows():
            if row["Code"] not in ctx.forecast_rows:  # NEW: too short, its row marked failed
                continue
            inst = ctx.data.instruments[row["Code"]]
            fc = ctx.forecast_rows[row["Code"]]["forecast"]
            assert gamma_position(fc, None, inst.quote, inst.asset_class) == \
                words[row["Position"]]
            # and around the band the refresh used, where a band of 0 would disagree
            band = ctx.results[row["Code"]].input.neutral_band
            for f in (-2 * band, -0.5 * band, 0.5 * band, 2 * band):
                assert gamma_position(f, None, inst.quote, inst.asset_class) == \
                    position(f, band, inst.quote)
            checked += 1
    assert checked == 4  # EQ, BD, FX, OIL (NEW is too short for a forecast)
