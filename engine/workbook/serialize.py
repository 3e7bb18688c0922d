"""openpyxl's save in two steps: the sheets a refresh never changes are serialized ahead.

Most of a save is turning each worksheet's cells into XML (openpyxl's ``WorksheetWriter``).
The user's sheets — prices, returns, notes — are the bulk of a monthly workbook, and the
refresh never changes them; their XML can be made while the second process is still building
the models (:mod:`engine.build_worker`), instead of after. :func:`save_workbook` then writes
the package exactly as :func:`openpyxl.writer.excel.save_workbook` does, taking those sheets'
XML as made.

Why this gives the same file: a sheet's XML depends only on that sheet and on two
workbook-wide registries that only ever grow — cell styles (``wb._cell_styles``: a style keeps
its index once given one) and differential styles of conditional formats — and openpyxl 3.1
writes text as inline strings, so no shared-string table is involved. A sheet serialized ahead
must not change afterwards; the refresh only writes engine sheets. The no-data-loss guard then
compares the saved file with the original, as for any save (``tests/test_refresh.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.workbook import Workbook
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter


class SheetsAhead:
    """Worksheets serialized ahead of the save (see the module doc). Release with
    :meth:`discard` (or by saving) — each holds a temporary file."""

    def __init__(self) -> None:
        self._writers: dict[int, WorksheetWriter] = {}

    def serialize(self, wb: Workbook, names: Iterable[str]) -> None:
        """Make the XML of the worksheets ``names`` of ``wb`` now."""
        for name in names:
            ws = wb[name]
            if id(ws) in self._writers or not hasattr(ws, "_cells"):  # chartsheets: no cells
                continue
            writer = WorksheetWriter(ws)
            writer.write()
            self._writers[id(ws)] = writer

    def take(self, ws) -> WorksheetWriter | None:
        return self._writers.pop(id(ws), None)

    def discard(self) -> None:
        """Remove the temporary files of the sheets not saved."""
        for w in self._writers.values():
            w.cleanup()
        self._writers.clear()


class _Writer(ExcelWriter):
    def __init__(self, workbook: Workbook, archive: ZipFile, ahead: SheetsAhead):
        super().__init__(workbook, archive)
        self._ahead = ahead

    def write_worksheet(self, ws) -> None:  # ExcelWriter.write_worksheet, XML made earlier
        writer = self._ahead.take(ws)
        if writer is None:
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


def save_workbook(wb: Workbook, path: Path, ahead: SheetsAhead | None = None) -> None:
    """Save ``wb`` to ``path`` as ``wb.save(path)`` would, using the XML of the sheets in
    ``ahead``; every other sheet is serialized now."""
    ahead = ahead or SheetsAhead()
    try:
        with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:
            wb.properties.modified = dt.datetime.now(tz=dt.timezone.utc).replace(tzinfo=None)
            _Writer(wb, archive, ahead).write_data()
    finally:
        ahead.discard()
