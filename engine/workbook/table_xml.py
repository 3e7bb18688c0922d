"""Excel table parts (``xl/tables/tableN.xml``) for the engine's tables.

A table's column names must equal its header cells' text (the layout writes both from the
same names) and be unique; its range holds at least one data row. The engine's tables use
the built-in ``TableStyleMedium2`` with banded rows and filter buttons; chart-feed tables
are plain (``TableStyleLight1``, no banding, no filter buttons).
"""

from __future__ import annotations

from engine.workbook.layout import PlacedTable
from engine.xlsx.namespaces import Flavour
from engine.xlsx.xmltext import escape_attr

__all__ = ["table_part"]


def table_part(t: PlacedTable, table_id: int, flavour: Flavour) -> bytes:
    """The table part of ``t`` with workbook-unique ``table_id`` (and ``t.name``)."""
    ref = t.ref
    cols = "".join(f'<tableColumn id="{j}" name="{escape_attr(name)}"/>'
                   for j, name in enumerate(t.columns, start=1))
    if t.styled:
        style = ('<tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" '
                 'showLastColumn="0" showRowStripes="1" showColumnStripes="0"/>')
        auto = f'<autoFilter ref="{ref}"/>'
    else:
        style = ('<tableStyleInfo name="TableStyleLight1" showFirstColumn="0" '
                 'showLastColumn="0" showRowStripes="0" showColumnStripes="0"/>')
        auto = ""
    name = escape_attr(t.name)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<table xmlns="{flavour.main}" id="{table_id}" name="{name}" displayName="{name}" '
            f'ref="{ref}" totalsRowShown="0">{auto}<tableColumns count="{len(t.columns)}">'
            f'{cols}</tableColumns>{style}</table>').encode("utf-8")
