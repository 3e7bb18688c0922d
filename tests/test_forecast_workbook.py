"""No look-ahead at workbook level: the demo workbook (real data) read by the real reader.

Every price dated after t is multiplied by three in a copy of the Prices sheet; every forecast
figure dated t or earlier must be identical, and a refresh as of t must produce identical
forecast tables, Signals and History rows.
"""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from engine.inputs.reader import read_workbook
from engine.tables import forecasts, history
from engine.tables.base import RefreshContext

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "demo.xlsx"
KEEP = ("SPX", "AAA", "GBPUSD", "WTI")          # one instrument per asset class
T = pd.Timestamp("1995-06-30")

pytestmark = pytest.mark.skipif(not DEMO.exists(), reason="demo workbook not built")


@pytest.fixture(scope="module")
def tripled(tmp_path_factory) -> Path:
    wb = load_workbook(DEMO)
    ws = wb["Prices"]
    for row in ws.iter_rows(min_row=2):
        d = row[0].value
        if isinstance(d, dt.datetime) and pd.Timestamp(d) > T:
            for c in row[1:]:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    c.value = c.value * 3.0
    out = tmp_path_factory.mktemp("wb") / "tripled.xlsx"
    wb.save(out)
    return out


def _run(path, asof=None):
    data = read_workbook(path, asof=asof)
    data.instruments = {k: v for k, v in data.instruments.items() if k in KEEP}
    ctx = RefreshContext(data=data, history=data.history)
    out = {c.sheet: c for c in forecasts.build(ctx)}
    out["History"] = history.build(ctx)[0]
    return ctx, out


def test_figures_at_t_ignore_later_prices(tripled):
    ctx_a, out_a = _run(DEMO)
    ctx_b, out_b = _run(tripled)
    for code in KEEP:
        a = ctx_a.results[code].history.loc[:T]
        b = ctx_b.results[code].history.loc[:T]
        assert len(a) > 60
        pd.testing.assert_frame_equal(a, b)
    sa, sb = out_a["Signals"].tables[0].df, out_b["Signals"].tables[0].df
    pd.testing.assert_frame_equal(sa[sa["Date"] <= T], sb[sb["Date"] <= T])
    # the later months did change (the test can fail)
    assert not ctx_a.results["SPX"].history["price"].equals(
        ctx_b.results["SPX"].history["price"])


def test_refresh_as_of_t_is_identical(tripled):
    _, out_a = _run(DEMO, asof=T.date())
    _, out_b = _run(tripled, asof=T.date())
    for sheet in (*forecasts.SHEETS.values(), "Signals", "History", "Track Record"):
        for ta, tb in zip(out_a[sheet].tables, out_b[sheet].tables):
            pd.testing.assert_frame_equal(ta.df, tb.df)
