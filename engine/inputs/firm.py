"""The firm's identity and disclosure text from ``Settings``, as the client PDFs print them.

Keys (matched case- and space-insensitively, like every Settings key; a blank value counts as
absent):

| key | printed | when absent |
|---|---|---|
| ``Firm Name`` | page headers, footers, the disclosures | ``The Adviser`` |
| ``Firm Address`` | the disclosures (who is speaking) | not printed |
| ``Firm Contact`` | the disclosures (phone, e-mail, web site) | "available on request" |
| ``Regulatory Status`` | the disclosures, as written | none: no registration is claimed |
| ``Disclosure`` | the disclosures, after the standard statements | nothing added |

Nothing here is computed: the text is the user's, trimmed of surrounding blanks.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.inputs.data import setting

__all__ = ["DEFAULT_FIRM_NAME", "Firm", "firm_settings"]

DEFAULT_FIRM_NAME = "The Adviser"


@dataclass(frozen=True)
class Firm:
    """The firm as Settings describe it (module doc); empty strings for what is absent."""

    name: str
    address: str = ""
    contact: str = ""
    regulatory_status: str = ""
    disclosure: str = ""
    named: bool = True  # False: no Firm Name in Settings, ``name`` is the default


def _text(settings: dict, key: str) -> str:
    v = setting(settings, key)
    return "" if v is None else " ".join(str(v).split())


def firm_settings(settings: dict | None) -> Firm:
    """The :class:`Firm` of a workbook's ``Settings`` (key -> value), defaults when absent."""
    s = settings or {}
    name = _text(s, "Firm Name")
    return Firm(name=name or DEFAULT_FIRM_NAME, address=_text(s, "Firm Address"),
                contact=_text(s, "Firm Contact"),
                regulatory_status=_text(s, "Regulatory Status"),
                disclosure=str(setting(s, "Disclosure", "") or "").strip(),
                named=bool(name))
