"""The report's commentary pages: what moved the forecasts this month, per asset class, from
the ``Commentary`` sheet's sentences (:mod:`engine.tables.commentary`) — the same text as the
workbook, nothing written here."""

from __future__ import annotations

from engine.reports.pages import PageWriter
from engine.reports.render import GREY
from engine.tables.base import SheetContent

__all__ = ["TITLE", "write_commentary"]

TITLE = "Commentary: what moved the forecasts"
WRAP = 150  # characters per line at 8 pt across the landscape page
_SECTION = {"Equity": "Equity Markets", "Bond": "Fixed Income", "FX": "Currencies",
            "Commodity": "Commodities"}


def write_commentary(pw: PageWriter, content: SheetContent | None, heading: bool = True
                     ) -> None:
    """The commentary pages (a new page and its heading unless ``heading`` is False — the
    report's section has written it —, then per asset class its summary in bold colour and its
    instruments' sentences); a line saying it is unavailable when the refresh produced no
    ``Commentary`` table."""
    if heading:
        pw.heading(TITLE, page_break=True)
    try:
        df = content.table("Commentary").df if content is not None else None
    except KeyError:
        df = None
    if df is None or df.empty:
        pw.text("Commentary: not available in this refresh.", color="#c0504d")
        return
    pw.text("Generated from the model's figures (the workbook's Commentary sheet): this "
            "month's forecasts, their parts, valuation, phase and positions against the "
            "previous update.", size=7.5, color=GREY, width=WRAP)
    for ac, group in df.groupby("Asset Class", sort=False):
        pw.room(0.12)
        # not the section's own title: the contents page numbers key on heading text
        pw.heading(f"{_SECTION.get(str(ac), str(ac))}: this month", size=11)
        for rec in group.itertuples(index=False):
            summary = rec.Topic == "Summary"
            pw.text(str(rec.Sentence), size=8.5 if summary else 8,
                    color="#1F3864" if summary else "#333333", width=WRAP)
