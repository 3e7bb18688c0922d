"""The ``Settings`` sheet as one typed object, read once: :class:`Settings`.

The sheet is key/value rows typed by a user; keys are matched case- and space-insensitively
and a blank value counts as absent (:func:`engine.inputs.data.setting`). Every key the engine
reads is named here, once — the reader validates them (``gamma check`` and ``gamma refresh``
run the same checks, each naming its cell), the builders and the PDFs read the typed fields:

| key | field | unit / values | when absent |
|---|---|---|---|
| ``As Of`` | (``WorkbookData.asof``) | a date | refused |
| ``Trend Growth`` | ``trend_growth`` | percent per year (2.24 = 2.24 %) | no GDP gap |
| ``Base Period`` | ``base_period`` | a Macro period: ``2019``, ``2023Q1`` | no GDP gap |
| ``GDP Deannualize`` | ``gdp_deannualize`` | ``compound`` or ``simple`` | ``compound`` |
| ``Macro Publication Lag`` | ``macro_lag`` | whole months 0 … 12 | 0 |
| ``Risk Free`` | ``risk_free`` | a ``Returns`` column | Sharpe ratios blank |
| ``Income Strategy`` | ``income_strategy`` | a ``Returns`` column | the income table's own name |
| ``Report Title`` | ``report_title`` | text | ``Macro Intelligence Report`` |
| ``Firm Name`` … ``Disclosure`` | ``firm`` | text (:mod:`engine.inputs.firm`) | its defaults |
| ``FRED API Key`` | ``fred_api_key`` | text (``gamma fetch``) | ``$FRED_API_KEY`` |

Reading never raises: a value of the wrong type is kept as typed (a Trend Growth that is text
stays text), so that a builder given unvalidated data — a test's, a UDF's — reports it in its
own words; the reader has refused such a workbook before any builder runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.inputs.data import MACRO_LAG_KEY, setting
from engine.inputs.firm import Firm, firm_settings

__all__ = ["Settings", "read_settings", "TREND_GROWTH", "BASE_PERIOD", "GDP_DEANNUALIZE",
           "RISK_FREE", "INCOME_STRATEGY", "REPORT_TITLE", "FRED_API_KEY",
           "DEFAULT_REPORT_TITLE"]

TREND_GROWTH = "Trend Growth"
BASE_PERIOD = "Base Period"
GDP_DEANNUALIZE = "GDP Deannualize"
RISK_FREE = "Risk Free"
INCOME_STRATEGY = "Income Strategy"
REPORT_TITLE = "Report Title"
FRED_API_KEY = "FRED API Key"
DEFAULT_REPORT_TITLE = "Macro Intelligence Report"


@dataclass(frozen=True)
class Settings:
    """The engine's Settings (module docstring), typed; ``None`` where a key is absent."""

    trend_growth: Any = None          # percent per year; a number once validated
    base_period: Any = None           # "2019", "2023Q1" (a whole year typed as a number: int)
    gdp_deannualize: str = "compound"
    macro_lag: Any = 0                # whole months; an int once validated
    risk_free: str | None = None
    income_strategy: str | None = None
    report_title: str = DEFAULT_REPORT_TITLE
    firm: Firm = field(default_factory=lambda: firm_settings({}))
    fred_api_key: str | None = None


def _name(raw: dict, key: str) -> str | None:
    v = setting(raw, key)
    return None if v is None else str(v).strip() or None


def read_settings(raw: dict | None) -> Settings:
    """The :class:`Settings` of a ``Settings`` sheet's key -> value mapping (never raises)."""
    raw = raw or {}
    base = setting(raw, BASE_PERIOD)
    if isinstance(base, float) and base.is_integer():
        base = int(base)  # 2019 typed as a number
    method = setting(raw, GDP_DEANNUALIZE, "compound")
    return Settings(
        trend_growth=setting(raw, TREND_GROWTH),
        base_period=base,
        gdp_deannualize=str(method).strip().lower(),
        macro_lag=setting(raw, MACRO_LAG_KEY, 0),
        risk_free=_name(raw, RISK_FREE),
        income_strategy=_name(raw, INCOME_STRATEGY),
        report_title=str(setting(raw, REPORT_TITLE, DEFAULT_REPORT_TITLE)),
        firm=firm_settings(raw),
        fred_api_key=_name(raw, FRED_API_KEY))
