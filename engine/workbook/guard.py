"""The no-data-loss guard: what a refresh must not drop, and the check before replacing.

A refresh loads the workbook with openpyxl, rewrites only the engine's own sheets
(:data:`~engine.tables.base.ENGINE_SHEETS`), saves to a temporary file and — before the
atomic replace — calls::

    problems = unsupported_parts(original)            # parts openpyxl would drop
    before = snapshot(original)
    ... write engine sheets, save to tmp ...
    problems += compare(before, snapshot(tmp), engine_areas=areas)
    if problems: raise GuardError(problems)            # exit 2, original untouched

:func:`snapshot` reads the package itself (not through openpyxl, whose losses it must see):
per sheet every cell's value, formula, cached value of the formula, resolved style
(number format, font, fill, border, alignment, protection) and rich-text runs; comments,
hyperlinks, merged cells, data validations, conditional formats, column widths and
hidden columns, row heights, freeze panes, print settings, protection, Excel tables,
sheet-level extensions (sparklines, x14 validations…), charts (types, title, series
references, anchor), images and shapes; at workbook level the sheet order and visibility,
defined names, the date system and calculation mode, and the inventory of OOXML parts
(pivot caches, slicers, VBA, external links, custom XML…) with the sheet that owns each.

Untrusted files: parts are parsed with defusedxml (or, for DTD-free UTF-8 parts, by the C
parser after checking the prolog), and the zip directory is checked against
:data:`~engine.workbook.guard_package.MAX_UNCOMPRESSED_BYTES` and
:data:`~engine.workbook.guard_package.MAX_COMPRESSION_RATIO` first; a refusal raises
:class:`GuardError` with the reason.

Modules: ``guard_package`` (safe zip/XML access, the table of parts openpyxl drops),
``guard_sheet`` (one sheet), ``guard_snapshot`` (the workbook), ``guard_compare`` (the
messages). This module is the public face; ``python -m engine.workbook.guard BOOK
[AFTER]`` prints what a refresh of BOOK would refuse.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from engine.tables.base import ENGINE_SHEETS
from engine.workbook.guard_compare import MAX_MESSAGES, compare
from engine.workbook.guard_package import (
    ADVICE, MAX_COMPRESSION_RATIO, MAX_UNCOMPRESSED_BYTES, NS_MAIN, R_ID, UNSUPPORTED_PARTS,
    GuardError, Package, PackageError, require_defusedxml)
from engine.workbook.guard_sheet import read_drawing
from engine.workbook.guard_snapshot import WorkbookSnapshot, snapshot

__all__ = [
    "GuardError", "WorkbookSnapshot", "snapshot", "compare", "unsupported_parts",
    "excel_lock_owner", "table_areas", "MAX_UNCOMPRESSED_BYTES", "MAX_COMPRESSION_RATIO",
    "MAX_MESSAGES",
]

_M = f"{{{NS_MAIN}}}"

_SHAPES = {"shape", "group", "connector", "smartart", "chartex", "ink", "other graphic"}


def unsupported_parts(path: str | Path, keep_vba: bool = False) -> list[str]:
    """Messages for content in the file that a load+save through openpyxl would drop.

    Checks the package parts against ``UNSUPPORTED_PARTS`` (slicers, timelines, form and
    ActiveX controls, threaded comments, custom XML, dynamic-array metadata, query tables,
    embedded objects…), VBA (``xl/vbaProject.bin``) unless ``keep_vba`` and the file is an
    ``.xlsm``, shapes and text boxes on drawings, and sheet extensions (sparklines, x14
    validations and formats). Empty list = nothing known to be lost. The generic safety
    net is :func:`compare`, which reports any part that vanished after the save.
    Raises :class:`GuardError` for an unreadable or hostile file, like :func:`snapshot`.
    """
    require_defusedxml()
    path = Path(path)
    out: list[str] = []
    found: dict[str, list[str]] = defaultdict(list)
    try:
        with Package(path) as pkg:
            for name in pkg.names:
                ct = pkg.content_type(name).lower()
                low = name.lower()
                if low.endswith("vbaproject.bin") or "vbaproject" in ct:
                    if not keep_vba or path.suffix.lower() not in (".xlsm", ".xltm"):
                        if path.suffix.lower() in (".xlsm", ".xltm"):
                            why, fix = "macros are not being kept (keep_vba is off)", \
                                "Refresh it with macros kept"
                        else:
                            why, fix = f"a {path.suffix or 'file'} workbook cannot hold macros", \
                                "Save it as .xlsm"
                        out.append(f"Workbook contains VBA macros ({name}), which a refresh "
                                   f"would drop ({why}): refresh refused. {fix} or refresh "
                                   "from Excel with the add-in's button.")
                    continue
                for key, label, advice in UNSUPPORTED_PARTS:
                    if key in ct or key in low:
                        found[f"{label}\x00{advice}"].append(name)
                        break
            wb_part = pkg.workbook_part()
            sheets = _sheet_names(pkg, wb_part)
            for sheet, part in sheets.items():
                for rel in pkg.rels(part):
                    if rel.kind == "drawing" and pkg.has(rel.target):
                        kinds = Counter(d.kind for d in read_drawing(pkg, rel.target)
                                        if d.kind in _SHAPES)
                        if kinds:
                            what = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in kinds.items())
                            out.append(f'Sheet "{sheet}" has {what} on its drawing, which a '
                                       f"refresh would drop: refresh refused. {ADVICE}")
                if pkg.content_type(part).endswith("worksheet+xml"):
                    out += _sheet_extensions(pkg, sheet, part)
    except PackageError as exc:
        raise GuardError([str(exc)]) from exc
    for key, names in found.items():
        label, advice = key.split("\x00")
        shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        out.append(f"Workbook contains {label} ({shown}), which a refresh would drop: "
                   f"refresh refused. {advice}")
    return out


def _sheet_names(pkg: Package, wb_part: str) -> dict[str, str]:
    root = pkg.xml(wb_part)
    out = {}
    for el in root.iter(_M + "sheet"):
        rel = pkg.rel_target(wb_part, el.get(R_ID))
        if rel and not rel.external and pkg.has(rel.target):
            out[el.get("name", "")] = rel.target
    return out


_EXT_URI = re.compile(rb'<(?:\w+:)?ext\b[^>]*\buri="(\{[0-9A-Fa-f-]+\})"')


def _sheet_extensions(pkg: Package, sheet: str, part: str) -> list[str]:
    from openpyxl.xml.constants import EXT_TYPES

    from engine.workbook.guard_compare import _SHEET_EXT_MINOR
    data = pkg.read(part)
    cut = data.rfind(b"</sheetData>")
    tail = data[cut:] if cut >= 0 else data
    names = {k.upper(): v for k, v in EXT_TYPES.items()}
    out = []
    for uri in sorted({u.decode().upper() for u in _EXT_URI.findall(tail)}):
        if uri in _SHEET_EXT_MINOR:
            continue
        feature = names.get(uri, f"extension {uri}")
        out.append(f'Sheet "{sheet}" uses {feature} (a worksheet extension), which a refresh '
                   f"would drop: refresh refused. {ADVICE}")
    return out


def excel_lock_owner(path: str | Path) -> Path | None:
    """The owner file of an office program holding the workbook open, or None.

    Excel keeps ``~$`` + the file name next to a workbook it has open; for long names
    some versions replace the first two characters instead (``~$nancial.xlsx`` for
    ``Financial.xlsx``). LibreOffice keeps ``.~lock.NAME#``. All three are checked; a
    refresh must refuse while one exists.
    """
    path = Path(path)
    for cand in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:]),
                 path.with_name(f".~lock.{path.name}#")):
        if cand.exists():
            return cand
    return None


def table_areas(snap: WorkbookSnapshot, engine_sheets: Iterable[str] = ENGINE_SHEETS
                ) -> dict[str, list[str]]:
    """The A1 ranges of the Excel tables on each engine sheet of ``snap`` — where the
    engine wrote before — to pass (with what it writes now) as ``engine_areas``."""
    return {name: sorted(s.table_refs.values()) for name, s in snap.sheets.items()
            if name in set(engine_sheets) and s.table_refs}


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.workbook.guard BOOK [AFTER]``: print what a refresh of BOOK would
    refuse (unsupported parts) and the snapshot time; with AFTER, the differences."""
    import sys
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print(main.__doc__)
        return 2
    try:
        problems = unsupported_parts(args[0], keep_vba=args[0].lower().endswith(".xlsm"))
        before = snapshot(args[0])
        print(f"snapshot of {args[0]}: {before.seconds:.2f} s, {len(before.sheets)} sheets")
        if len(args) == 2:
            after = snapshot(args[1])
            print(f"snapshot of {args[1]}: {after.seconds:.2f} s")
            problems += compare(before, after, engine_areas=table_areas(before))
    except GuardError as exc:
        problems = exc.problems
    for p in problems:
        print(p)
    return 2 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
