"""The Settings sheet read once into a typed object (issue #13, item 5): every key the engine
reads is named in engine/inputs/settings.py, and nothing downstream looks a key up itself."""

from __future__ import annotations

import re
from pathlib import Path

from engine.inputs.reader import read_workbook
from engine.inputs.settings import DEFAULT_REPORT_TITLE, read_settings

ROOT = Path(__file__).resolve().parent.parent


def test_keys_are_matched_as_a_user_types_them_and_absent_ones_default():
    s = read_settings({" trend  growth ": 2.24, "BASE PERIOD": 2019.0, "Risk Free": " TBILL ",
                       "GDP Deannualize": "Simple", "Report Title": "", "Firm Name": "X LLC"})
    assert s.trend_growth == 2.24
    assert s.base_period == 2019 and isinstance(s.base_period, int)  # a year typed as a number
    assert s.risk_free == "TBILL" and s.income_strategy is None
    assert s.gdp_deannualize == "simple"
    assert s.report_title == DEFAULT_REPORT_TITLE      # blank counts as absent
    assert s.firm.name == "X LLC" and s.macro_lag == 0
    empty = read_settings(None)
    assert empty.trend_growth is None and empty.firm.name == "The Adviser"


def test_the_demo_reads_its_settings_into_the_typed_object():
    d = read_workbook(ROOT / "workbooks" / "demo.xlsx")
    c = d.config
    assert isinstance(c.trend_growth, float) and c.base_period is not None
    assert c.risk_free in d.returns.columns
    assert c.firm.name == d.settings.get("Firm Name")


def test_no_settings_key_is_looked_up_outside_engine_inputs():
    """Builders, PDFs and commands read ``data.config``; a raw ``setting(...)`` lookup lives
    only in engine/inputs (where the sheet is read and validated)."""
    offenders = []
    for path in (ROOT / "engine").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("engine/inputs/"):
            continue
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<![\w.])setting\(", line) and not line.lstrip().startswith("def "):
                offenders.append(f"{rel}:{k}: {line.strip()}")
    assert offenders == []
