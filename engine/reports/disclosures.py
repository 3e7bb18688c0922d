"""The disclosures of the client PDFs: what kind of performance each series is, what its fees
are, and the statements the SEC Marketing Rule (Rule 206(4)-1) and GIPS expect beside them.

* :func:`series_kind` — ``Actual``, ``Hypothetical`` (model, back-tested, simulated) or
  ``Illustrative`` (figures that are no one's performance), from the ``Series`` row;
* :func:`fee_statement` — per series, what its returns deduct, in the series' own terms: a
  Net series whose description states an assumed fee says that this fee is all that is
  deducted; an illustrative series says nothing is deducted; Gross says no fees;
* :func:`disclosure_block` — the paragraphs of one block (a fact sheet's, the report's page):
  the firm (``Settings``: :mod:`engine.inputs.firm`), the series statements, the standard
  statements and the firm's own ``Disclosure`` text. A standard statement whose topic the
  firm's text already covers (past performance, GIPS, benchmarks, not advice) is left out,
  and no sentence appears twice: the block says each thing once.

Pure text: no drawing, no files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from engine.inputs.firm import Firm

__all__ = ["KIND_TAG", "basis_phrase", "disclosure_block", "fee_statement", "firm_lines",
           "hypothetical_statement", "illustrative_statement", "kind_label", "sentences",
           "series_kind"]

HYPOTHETICAL_WORDS = ("model", "hypothetical", "simulated", "synthetic", "backtest",
                      "back-test")
ILLUSTRATIVE_WORDS = ("illustrative", "not real")
KIND_TAG = {"Hypothetical": "hypothetical", "Illustrative": "illustrative", "Actual": ""}

# "net of an assumed 0.75% p.a. fee", "net of a 1 % annual management fee"
_FEE = re.compile(r"net of (?:an? )?(?:assumed )?(\d+(?:\.\d+)?)\s?%\s*"
                  r"(?:p\.\s?a\.|a year|per year|per annum|annual|yearly)?[^.;]*?\bfees?\b",
                  re.IGNORECASE)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'\u201c])")

# topic -> what, in the firm's own text, already covers it
TOPICS = {
    "past": re.compile(r"past performance", re.IGNORECASE),
    "gips": re.compile(r"\bGIPS\b|Global Investment Performance Standards", re.IGNORECASE),
    "benchmarks": re.compile(r"\bbenchmarks?\b.*\bunmanaged\b|\bunmanaged\b.*\bbenchmarks?\b"
                             r"|cannot be invested in directly", re.IGNORECASE),
    "advice": re.compile(r"not (?:an )?offer|not investment advice|nor investment advice",
                         re.IGNORECASE),
}


def _get(meta: Mapping, key: str) -> object:
    want = key.casefold()
    for k, v in dict(meta).items():
        if str(k).strip().casefold() == want:
            return v
    return None


def _text(v: object) -> str:
    return v.strip() if isinstance(v, str) else ""


def series_kind(meta: Mapping) -> str:
    """``'Actual'``, ``'Hypothetical'`` or ``'Illustrative'`` for one ``Series`` row (a mapping
    with ``Name``, ``Description`` and optionally ``Performance Type``).

    ``Performance Type`` when given: ``Actual``; ``Illustrative``; anything else (Model,
    Hypothetical, Backtest…) is hypothetical. Without it, the name and description decide:
    "illustrative" or "not real" -> Illustrative; "model", "hypothetical", "simulated",
    "synthetic", "backtest" -> Hypothetical; else Actual."""
    given = _text(_get(meta, "Performance Type")).casefold()
    if given:
        return ("Actual" if given == "actual" else
                "Illustrative" if given.startswith("illustrative") else "Hypothetical")
    text = f"{_text(_get(meta, 'Name'))} {_text(_get(meta, 'Description'))}".casefold()
    if any(w in text for w in ILLUSTRATIVE_WORDS):
        return "Illustrative"
    return "Hypothetical" if any(w in text for w in HYPOTHETICAL_WORDS) else "Actual"


def kind_label(name: str, kind: str) -> str:
    """``name`` with its kind beside it: ``'Value Tilt (hypothetical)'``; actual: the name."""
    tag = KIND_TAG.get(kind, "")
    return f"{name} ({tag})" if tag else str(name)


def fee_statement(meta: Mapping, kind: str) -> str:
    """One sentence: what ``meta``'s returns deduct (``Basis`` Net or Gross, the
    ``Description``'s stated fee, an optional ``Fees Deducted`` column's text)."""
    name = _text(_get(meta, "Name")) or "This series"
    basis = _text(_get(meta, "Basis")).casefold()
    given = _text(_get(meta, "Fees Deducted"))
    if given:
        return f"{name}: returns are {basis or 'shown'} of fees; deducted: {given.rstrip('.')}."
    if kind == "Illustrative":
        return (f"{name}: illustrative figures, from which no advisory fees, trading costs or "
                "other expenses are deducted.")
    if basis != "net":
        return (f"{name}: returns are gross of fees: no advisory fees or other expenses are "
                "deducted, and a client's return would be lower by the fees charged.")
    fee = _FEE.search(_text(_get(meta, "Description")))
    if fee:
        return (f"{name}: returns are net of an assumed {fee.group(1)}% a year fee only, as "
                "its description states; no trading costs or other expenses are deducted.")
    if kind == "Hypothetical":
        return (f"{name}: returns are labelled net of fees, but the fees deducted are not "
                "stated; no trading costs are deducted.")
    return (f"{name}: returns are net of the actual advisory fees and trading costs charged "
            "to the account.")


def basis_phrase(meta: Mapping, kind: str) -> str:
    """A few words for the fact sheet's header line, agreeing with :func:`fee_statement`:
    ``'Net of an assumed 0.75% a year fee only'``, ``'Gross of fees'``, ``'Illustrative, no
    fees deducted'``, ``'Net of fees'``."""
    basis = _text(_get(meta, "Basis")).casefold()
    if _text(_get(meta, "Fees Deducted")):
        return f"{basis.capitalize() or 'Shown'} of fees (see Disclosures)"
    if kind == "Illustrative":
        return "Illustrative, no fees deducted"
    if basis != "net":
        return "Gross of fees"
    fee = _FEE.search(_text(_get(meta, "Description")))
    if fee:
        return f"Net of an assumed {fee.group(1)}% a year fee only"
    return "Net of fees (see Disclosures)"


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (at ``.``, ``!`` or ``?`` followed by a capital)."""
    return [s.strip() for s in _SPLIT.split(" ".join(str(text).split())) if s.strip()]


def _key(sentence: str) -> str:
    return re.sub(r"[\W_]+", " ", sentence.casefold()).strip()


def _standard(firm: Firm) -> dict[str, str]:
    return {
        "past": "Past performance is not indicative of future results. Investing involves "
                "risk, including the possible loss of principal.",
        "gips": f"{firm.name} does not claim compliance with the Global Investment "
                "Performance Standards (GIPS\u00ae); this material has not been prepared or "
                "verified under GIPS.",
        "benchmarks": "Benchmark indices are unmanaged, are shown gross of fees and cannot "
                      "be invested in directly.",
        "advice": "This material is for information only: it is not an offer to buy or sell "
                  "any security, nor investment advice suited to any particular investor.",
    }


def firm_lines(firm: Firm) -> list[str]:
    """Who publishes the material: name, address, regulatory status, where to ask."""
    out = [f"Published by {firm.name}" + (f", {firm.address.rstrip('.')}." if firm.address
                                          else ".")]
    if firm.regulatory_status:
        out.append(firm.regulatory_status.rstrip(".") + ".")
    out.append(f"Contact: {firm.contact.rstrip('.')}." if firm.contact else
               f"Further information, including {firm.name}'s full disclosures and the "
               "criteria and assumptions behind any hypothetical performance, is available "
               "on request.")
    return out


def hypothetical_statement(subject: str) -> str:
    """The Marketing Rule's statement for hypothetical performance; ``subject`` says whose
    (series names, or which figures)."""
    return (f"HYPOTHETICAL PERFORMANCE: {subject.rstrip('.')}. These results do "
            "not represent actual trading or any client account. They were obtained by "
            "applying the strategy's rules to historical data, with the benefit of hindsight, "
            "and do not reflect the effect of material economic and market factors on actual "
            "decisions. Actual results would have differed, possibly materially.")


def illustrative_statement(names: Sequence[str]) -> str:
    """The statement for illustrative figures (no one's performance)."""
    return (f"ILLUSTRATIVE FIGURES: {', '.join(names)}. These figures are neither actual nor "
            "model performance; they show how the figures are presented and must not be "
            "relied on as a record of returns.")


def disclosure_block(firm: Firm, series: Iterable[tuple[Mapping, str]] = (),
                     extra: Sequence[str] = (), standard: Sequence[str] = tuple(TOPICS)
                     ) -> list[str]:
    """The paragraphs of one disclosure block, each sentence once.

    ``series``: (``Series`` row, :func:`series_kind`) of every series whose figures the page
    shows — their fee statements, then one hypothetical and one illustrative statement naming
    them; ``extra``: statements of the page (e.g. what the forecasts are); ``standard``: the
    standard topics to include (``past``, ``gips``, ``benchmarks``, ``advice``), each left out
    when ``firm.disclosure`` already covers it; then the firm's own text and who publishes."""
    series = list(series)
    paras: list[str] = []
    hypo = [_text(_get(m, "Name")) for m, k in series if k == "Hypothetical"]
    illus = [_text(_get(m, "Name")) for m, k in series if k == "Illustrative"]
    if hypo:
        paras.append(hypothetical_statement(", ".join(hypo)))
    if illus:
        paras.append(illustrative_statement(illus))
    paras += [fee_statement(m, k) for m, k in series]
    paras += list(extra)
    own = sentences(firm.disclosure)
    std = _standard(firm)
    paras += [std[t] for t in standard
              if t in std and not any(TOPICS[t].search(s) for s in own)]
    if own:
        paras.append(" ".join(own))
    paras += firm_lines(firm)
    # each sentence once, in first-seen order; a paragraph left empty is dropped
    seen: set[str] = set()
    out = []
    for p in paras:
        keep = []
        for s in sentences(p):
            k = _key(s)
            if k and k not in seen:
                seen.add(k)
                keep.append(s)
        if keep:
            out.append(" ".join(keep))
    return out
