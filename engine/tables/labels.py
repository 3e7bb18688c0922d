"""What a reader must be told beside an instrument's figures: how old its last quote is, and
whether its history is a constructed one (the synthetic euro). Used by the Data Status,
forecast, valuation and chart tables (notes) and, through them, by the report.

* **Quote age**: the calendar days from an instrument's last observation to the update date it
  feeds (:func:`engine.models.signals.update_date_of`). A month-end instrument whose last quote
  is dated the 1st (start-of-month FX quotes) is shown as ``Updated`` on the month's last
  business day, but the quote is 30 days older than that: more than :data:`STALE_DAYS` days is
  stale, and Data Status says so.
* **Synthetic euro**: the euro exists from 1999-01-01; an FX pair with EUR on either side whose
  history starts before that holds a constructed rate there (ECU or a basket of the legacy
  currencies, whatever the data source used), not a traded one.
"""

from __future__ import annotations

import pandas as pd

from engine.inputs.data import Instrument
from engine.models.signals import update_date_of

__all__ = ["EURO_START", "STALE_DAYS", "panel_notes", "quote_age", "stale_quote_note",
           "synthetic_euro", "synthetic_euro_note"]

STALE_DAYS = 7  # a week: beyond a holiday or a missed day, the quote is from earlier in the month
EURO_START = pd.Timestamp("1999-01-01")


def quote_age(inst: Instrument, last: pd.Timestamp) -> tuple[pd.Timestamp, int]:
    """``(update date, age in calendar days)`` of an instrument's last observation ``last``:
    the update it feeds (``Updated``) and how many days before it the quote was taken."""
    upd = update_date_of(last, inst.update)
    return upd, int((upd - pd.Timestamp(last).normalize()).days)


def stale_quote_note(insts: list[Instrument], prices: dict[str, pd.Series]) -> str | None:
    """One note naming the instruments whose last quote is more than :data:`STALE_DAYS` days
    older than the update it is shown under, with its true date; ``None`` when there are
    none."""
    parts = []
    for inst in insts:
        s = prices.get(inst.code)
        if s is None or not len(s):
            continue
        upd, age = quote_age(inst, s.index[-1])
        if age > STALE_DAYS:
            parts.append(f"{inst.code} {s.index[-1]:%Y-%m-%d}, {age} days before its "
                         f"{upd:%Y-%m-%d} update")
    if not parts:
        return None
    return ("Stale quotes (Data Status: Stale), older than the Updated date shown; the figures "
            "use them: " + "; ".join(parts) + ".")


def synthetic_euro(inst: Instrument, series: pd.Series | None) -> bool:
    """Whether the instrument is an FX pair with EUR on a side whose history starts before
    the euro (:data:`EURO_START`)."""
    pair = inst.currencies
    return bool(pair and "EUR" in pair and series is not None and len(series)
                and series.index[0] < EURO_START)


def synthetic_euro_note(insts: list[Instrument], prices: dict[str, pd.Series]) -> str | None:
    """The note for the euro pairs among ``insts`` whose shown history starts before 1999;
    ``None`` when there are none."""
    codes = [i.code for i in insts if synthetic_euro(i, prices.get(i.code))]
    if not codes:
        return None
    first = min(prices[c].index[0] for c in codes)
    return (f"{', '.join(codes)}: the euro exists from 1 January 1999; the history before "
            f"that (from {first:%Y-%m}) is a synthetic euro (ECU / legacy-currency basket, as "
            "the data source built it), not a traded rate.")


def panel_notes(inst: Instrument, series: pd.Series | None,
                shown_from: pd.Timestamp | None = None) -> list[str]:
    """The notes under one instrument's chart panel: a stale last quote, and the synthetic
    euro when the panel shows months before 1999 (``shown_from``: its first month)."""
    if series is None or not len(series):
        return []
    shown = series
    if shown_from is not None:
        shown = series[series.index.to_period("M") >= pd.Timestamp(shown_from).to_period("M")]
    return [n for n in (stale_quote_note([inst], {inst.code: series}),
                        synthetic_euro_note([inst], {inst.code: shown})) if n]
