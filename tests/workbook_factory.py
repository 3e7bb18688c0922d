"""A small, valid monthly workbook built with openpyxl, for input and writer tests.

The price paths are deterministic random walks (seeded) — synthetic, labelled so in the
Sources sheet; the demo workbook is the real-data one."""

from __future__ import annotations

import re
import zipfile

import datetime as dt
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from openpyxl import Workbook

INSTRUMENTS = [
    # Code, Name, Country, Asset Class, Quote, Maturity, Update, Fair Value Inputs, Neutral Band
    ("EQ1", "Test Index", "US", "Equity", "Price", None, "MonthEnd", "CPI", None),
    ("BD1", "Test 10Y Note", "US", "Bond", "Yield", 10, "MonthEnd", "", None),
    ("FX1", "EUR/USD", "EU", "FX", "Price", None, "MonthEnd", "", None),
    ("CM1", "Test Crude", "", "Commodity", "Price", None, "15", "", None),
]


def month_ends(n: int, end: str = "2020-12-31") -> pd.DatetimeIndex:
    return pd.date_range(end=end, periods=n, freq="ME")


def build(path: Path, months: int = 120, mutate: Callable[[Workbook], None] | None = None,
          asof: str = "2020-12-31") -> Path:
    """Write the workbook to ``path`` (after ``mutate(wb)`` if given) and return ``path``."""
    rng = np.random.default_rng(7)
    wb = Workbook()
    ws = wb.active
    ws.title = "Instruments"
    ws.append(["Code", "Name", "Country", "Asset Class", "Quote", "Maturity", "Update",
               "Fair Value Inputs", "Neutral Band"])
    for r in INSTRUMENTS:
        ws.append(list(r))

    dates = month_ends(months, asof)
    eq = 100 * np.exp(np.cumsum(rng.normal(0.005, 0.04, months)))
    bd = np.clip(4 + np.cumsum(rng.normal(0, 0.15, months)), 0.5, 15)
    fx = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.02, months)))
    cm = 50 * np.exp(np.cumsum(rng.normal(0, 0.08, months)))
    ps = wb.create_sheet("Prices")
    ps.append(["Date", "EQ1", "BD1", "FX1", "CM1"])
    for k, d in enumerate(dates):
        mid = d.replace(day=15).to_pydatetime()
        ps.append([mid, None, None, None, round(float(cm[k]), 2)])
        ps.append([d.to_pydatetime(), round(float(eq[k]), 2), round(float(bd[k]), 3),
                   round(float(fx[k]), 4), None])

    fs = wb.create_sheet("Fundamentals")
    fs.append(["Date", "CPI"])
    for k, d in enumerate(dates):
        fs.append([d.to_pydatetime(), round(100 * 1.002 ** k, 3)])

    rs = wb.create_sheet("Returns")
    rs.append(["Date", "Strategy A", "Bench B"])
    for k, d in enumerate(dates):
        rs.append([d.to_pydatetime(), round(float(rng.normal(0.006, 0.02)), 5),
                   round(float(rng.normal(0.005, 0.03)), 5)])
    ss = wb.create_sheet("Series")
    ss.append(["Name", "Role", "Basis", "Inception", "Benchmark", "Description"])
    ss.append(["Strategy A", "Strategy", "Net", dates[0].to_pydatetime(), "Bench B", "Test"])
    ss.append(["Bench B", "Benchmark", "Gross", dates[0].to_pydatetime(), None, "Test bench"])

    inc = wb.create_sheet("Income")
    inc.append(["Date", "Income", "Cashflow", "Loss"])
    for d in dates[-24:]:
        inc.append([d.to_pydatetime(), 0.01, 0.012, 0.0003])
    ms = wb.create_sheet("Macro")
    ms.append(["Period", "Growth", "Source"])
    for per, g in (("2019", None), ("2020", -2.8), ("2021", 5.9), ("2022", 2.1),
                   ("2023Q1", 2.2), ("2023Q2", 2.1), ("2023Q3", 5.2)):
        ms.append([per, g, "newsletter"])
    st = wb.create_sheet("Settings")
    st.append(["Key", "Value"])
    for k, v in (("As Of", dt.datetime.fromisoformat(asof)), ("Trend Growth", 2.24),
                 ("Base Period", "2019"), ("Risk Free", "Bench B"),
                 ("Firm Name", "Test Firm LLC"), ("Disclosure", "Test disclosure.")):
        st.append([k, v])
    src = wb.create_sheet("Sources")
    src.append(["Series", "Source"])
    src.append(["all", "SYNTHETIC test data (seeded random walks)"])
    if mutate is not None:
        mutate(wb)
    wb.save(path)
    return path


def inject_formula(path, sheet_xml: str, ref: str, formula: str) -> None:
    """Turn cell ``ref`` into ``formula`` keeping its value as the cached value, the way Excel
    saves a Bloomberg =BDH() cell."""
    src = zipfile.ZipFile(path)
    parts = {n: src.read(n) for n in src.namelist()}
    src.close()
    xml = parts[sheet_xml].decode()
    pat = re.compile(rf'<c r="{ref}"([^>]*)><v>([^<]*)</v></c>')
    assert pat.search(xml), f"{ref} not found"
    xml = pat.sub(rf'<c r="{ref}"\1><f>{formula}</f><v>\2</v></c>', xml, count=1)
    parts[sheet_xml] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in parts.items():
            z.writestr(n, b)
