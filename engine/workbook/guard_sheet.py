"""Reading what a user could lose on one sheet, straight from the package XML.

The guard's second opinion: cells are read here without openpyxl (a streaming parse of
the sheet part), so whatever openpyxl failed to load or save shows up as a difference.
Sub-structures whose XML legitimately differs between writers (Excel vs openpyxl attribute
order and defaults) are normalised by a round trip through openpyxl's own element classes
(``from_tree`` -> ``to_tree``) before being put in canonical text form.

Cell records (see :class:`SheetSnap`) hold, per cell: value, formula text, the formula's
cached value, a resolved style tuple (number format code, font, fill, border, alignment,
protection) and rich-text runs. Values are typed: numbers are ``float``, booleans and
errors :class:`XlValue`, text ``str``; dates are Excel serial numbers (their look is the
number format, compared with the style).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from openpyxl.cell.text import InlineFont
from openpyxl.formatting.rule import Rule
from openpyxl.formula.translate import Translator
from openpyxl.styles.alignment import Alignment
from openpyxl.styles.borders import Border
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.fills import Fill
from openpyxl.styles.fonts import Font
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.styles.protection import Protection
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import from_ISO8601, to_excel
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.header_footer import HeaderFooter
from openpyxl.worksheet.page import PageMargins, PrintOptions, PrintPageSetup
from openpyxl.worksheet.pagebreak import ColBreak, RowBreak
from openpyxl.worksheet.properties import WorksheetProperties
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.xml.constants import EXT_TYPES

from engine.workbook.guard_package import NS_MAIN, R_ID, Package, PackageError, local

_M = f"{{{NS_MAIN}}}"
STRIDE = 6  # row tuples: (col, value, formula, cached, style, rich) per cell

# Top-level worksheet elements this module reads (anything else is tracked by presence).
_HANDLED = {
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
    "sheetProtection", "autoFilter", "mergeCells", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup",
    "headerFooter", "rowBreaks", "colBreaks", "drawing", "legacyDrawing", "tableParts",
    "extLst", "sheetCalcPr",
    "phoneticPr", "ignoredErrors",  # East-Asian phonetic defaults, green-triangle flags
}
_SHEET_ELEMENTS = {
    "oleObjects": "embedded OLE objects", "controls": "form/ActiveX controls",
    "customSheetViews": "custom views", "picture": "background picture",
    "smartTags": "smart tags", "cellWatches": "watch-window cells",
    "dataConsolidate": "data consolidation settings", "protectedRanges": "protected ranges",
    "scenarios": "what-if scenarios", "sortState": "sort settings",
    "webPublishItems": "web publish items", "legacyDrawingHF": "header/footer pictures",
    "drawingHF": "header/footer pictures",
}


@dataclass(frozen=True)
class XlValue:
    """A boolean (``TRUE``/``FALSE``) or error (``#N/A``…) cell value. Unlike Python's
    ``True == 1.0`` or ``"#N/A" == "#N/A"`` (text), it equals only the same kind of value,
    so a boolean that became the number 1 is a difference."""

    text: str

    def __str__(self) -> str:
        return self.text


XL_TRUE, XL_FALSE = XlValue("TRUE"), XlValue("FALSE")


def XlError(text: str) -> XlValue:  # noqa: N802 - reads like a type at the call sites
    """An error value such as ``#N/A``."""
    return XlValue(text)


_EXT_NAMES = {k.upper(): v for k, v in EXT_TYPES.items()}
_INTERN: dict[tuple, tuple] = {}


def _intern(t: tuple) -> tuple:
    """Share equal style tuples across snapshots so row comparison hits identity."""
    if len(_INTERN) > 50_000:
        _INTERN.clear()
    return _INTERN.setdefault(t, t)


# -- canonical text of XML -------------------------------------------------------------
def canon(el: Element, skip: frozenset[str] = frozenset({"id"})) -> str:
    """Namespace-free, attribute-sorted text of an element tree; ``true``/``false`` become
    ``1``/``0``; attributes in ``skip`` (relationship ids by default) are left out."""
    attrs = sorted((local(k), {"true": "1", "false": "0"}.get(v, v))
                   for k, v in el.attrib.items() if local(k) not in skip)
    inner = "".join(canon(c, skip) for c in el)
    text = (el.text or "").strip()
    a = "".join(f' {k}="{v}"' for k, v in attrs)
    return f"<{local(el.tag)}{a}>{text}{inner}</{local(el.tag)}>"


def _norm(cls: type, el: Element, skip: frozenset[str] = frozenset({"id"})) -> str:
    """Canonical text of ``el`` after openpyxl's own parse/serialise (writer-independent)."""
    try:
        obj = cls.from_tree(el)
        tree = obj.to_tree()
    except Exception:  # openpyxl cannot model it: compare the raw XML
        return canon(el, skip)
    try:
        if obj == cls():  # all defaults: same as absent (e.g. locked, unhidden protection)
            return ""
    except Exception:
        pass
    return canon(tree, skip) if tree is not None else ""


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# -- styles and shared strings ---------------------------------------------------------
@dataclass
class Styles:
    """Resolved cell formats (``xfs[i]`` = the style tuple of ``s="i"``) and differential
    formats (``dxfs``) of one workbook."""

    xfs: list[tuple] = field(default_factory=list)
    dxfs: list[str] = field(default_factory=list)

    def xf(self, idx: int) -> tuple:
        if 0 <= idx < len(self.xfs):
            return self.xfs[idx]
        return self.xfs[0] if self.xfs else ()


STYLE_PARTS = ("number format", "font", "fill", "border", "alignment", "protection")


def read_styles(pkg: Package, part: str | None) -> Styles:
    """Parse ``styles.xml`` into style tuples ``(number format code, font, fill, border,
    alignment, protection)``, each a canonical string."""
    if not part or not pkg.has(part):
        return Styles(xfs=[_intern(("General", "", "", "", "", ""))])
    root = pkg.xml(part)
    fmts = dict(BUILTIN_FORMATS)
    fonts: list[str] = []
    fills: list[str] = []
    borders: list[str] = []
    xfs: list[tuple] = []
    dxfs: list[str] = []
    for el in root:
        name = local(el.tag)
        if name == "numFmts":
            for f in el:
                fmts[int(f.get("numFmtId", "0"))] = f.get("formatCode", "")
        elif name == "fonts":
            fonts = [_norm(Font, f) for f in el]
        elif name == "fills":
            fills = [_norm(Fill, f) for f in el]
        elif name == "borders":
            borders = [_norm(Border, f) for f in el]
        elif name == "dxfs":
            dxfs = [_norm(DifferentialStyle, f) for f in el]
    for el in root:
        if local(el.tag) != "cellXfs":
            continue
        for xf in el:
            def pick(lst: list[str], key: str) -> str:
                i = int(xf.get(key, "0") or 0)
                return lst[i] if 0 <= i < len(lst) else ""
            align = prot = ""
            for c in xf:
                if local(c.tag) == "alignment":
                    align = _norm(Alignment, c)
                elif local(c.tag) == "protection":
                    prot = _norm(Protection, c)
            code = fmts.get(int(xf.get("numFmtId", "0") or 0), "General")
            xfs.append(_intern((code, pick(fonts, "fontId"), pick(fills, "fillId"),
                                pick(borders, "borderId"), align, prot)))
    if not xfs:
        xfs = [_intern(("General", fonts[0] if fonts else "", "", "", "", ""))]
    return Styles(xfs=xfs, dxfs=dxfs)


def read_shared_strings(pkg: Package, part: str | None) -> list[tuple[str, str | None]]:
    """``[(text, rich-run digest or None)]`` in index order; phonetic runs are ignored."""
    out: list[tuple[str, str | None]] = []
    if not part or not pkg.has(part):
        return out
    for _, el in pkg.iterxml(part):
        if el.tag != _M + "si":
            continue
        out.append(string_item(el))
        el.clear()
    return out


def string_item(el: Element) -> tuple[str, str | None]:
    """``(text, digest of the rich-text runs or None)`` of an ``<si>`` or ``<is>``."""
    runs = [c for c in el if c.tag == _M + "r"]
    if not runs:
        return (el.findtext(_M + "t") or "", None)
    text = "".join((r.findtext(_M + "t") or "") for r in runs)
    digest = "|".join(
        (_norm(InlineFont, r.find(_M + "rPr")) if r.find(_M + "rPr") is not None else "")
        + "\x00" + (r.findtext(_M + "t") or "") for r in runs)
    return (text, hashlib.sha1(digest.encode()).hexdigest()[:12])


# -- one sheet ------------------------------------------------------------------------
@dataclass
class DrawingItem:
    """One object anchored on a sheet's drawing: ``kind`` chart / image / shape / group /
    connector / smartart / chartex / other; ``anchor`` the top-left cell; ``detail`` a
    canonical description (chart types, title and series references; shape text…)."""

    kind: str
    anchor: str
    title: str = ""
    detail: str = ""


@dataclass
class SheetSnap:
    """What a user could lose on one sheet. ``rows[r]`` is a flat tuple with
    :data:`STRIDE` entries per non-empty cell: column number, value, formula (``=…``, with
    ``{…} array A1:A3`` / ``dynamic`` markers), cached value, style tuple, rich-run digest."""

    name: str
    kind: str = "worksheet"
    state: str = "visible"
    rows: dict[int, tuple] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    hyperlinks: dict[str, str] = field(default_factory=dict)
    merged: set[str] = field(default_factory=set)
    validations: dict[str, str] = field(default_factory=dict)
    cond_formats: dict[str, str] = field(default_factory=dict)
    columns: dict[int, tuple] = field(default_factory=dict)   # col -> (width, hidden, style, outline)
    row_formats: dict[int, tuple] = field(default_factory=dict)  # row -> (height, hidden, style, outline)
    settings: dict[str, str] = field(default_factory=dict)   # view / print / protection …
    extensions: dict[str, str] = field(default_factory=dict)  # ext uri -> feature name
    other_elements: set[str] = field(default_factory=set)    # unmodelled top-level XML
    tables: dict[str, str] = field(default_factory=dict)     # table name -> ref + columns
    table_refs: dict[str, str] = field(default_factory=dict)  # table name -> A1 range
    drawing: list[DrawingItem] = field(default_factory=list)


def _typed(t: str, v: str | None) -> object:
    if v is None:
        return None
    if t == "n" or t is None:
        try:
            return float(v)
        except ValueError:
            return v
    if t == "b":
        return XL_TRUE if v.strip() in ("1", "true") else XL_FALSE
    if t == "e":
        return XlError(v)
    if t == "d":
        try:
            return float(to_excel(from_ISO8601(v)))
        except Exception:
            return v
    return v  # "str": text result of a formula


def read_cells(pkg: Package, part: str, sst: list, styles: Styles, snap: SheetSnap) -> Element:
    """Stream the sheet's ``sheetData`` into ``snap.rows`` / ``snap.row_formats`` and
    return the (row-cleared) root element for the other top-level structures."""
    default = styles.xf(0)
    shared: dict[str, Translator] = {}
    V, F, IS = _M + "v", _M + "f", _M + "is"
    ROW, C = _M + "row", _M + "c"
    nsst = len(sst)
    col_cache: dict[str, int] = {}
    style_cache: dict[str, tuple] = {}
    row_no = 0
    holder: dict = {}
    for el in pkg.iter_rows(part, holder):
        if el.tag != ROW:
            continue
        r = el.get("r")
        row_no = int(float(r)) if r else row_no + 1
        a = el.attrib
        if "ht" in a or "hidden" in a or "customFormat" in a or "outlineLevel" in a:
            ht = a.get("ht")
            fmt = (round(float(ht), 3) if ht else None,
                   a.get("hidden") in ("1", "true"),
                   styles.xf(int(a.get("s", "0"))) if a.get("customFormat") in ("1", "true") else None,
                   a.get("outlineLevel", "0"))
            if fmt != (None, False, None, "0"):
                snap.row_formats[row_no] = fmt
        flat: list = []
        col = 0
        for c in el:
            if c.tag != C:
                continue
            ref = c.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                col = col_cache.get(letters) or col_cache.setdefault(
                    letters, column_index_from_string(letters))
            else:
                col += 1
                ref = f"{get_column_letter(col)}{row_no}"
            t = c.get("t", "n")
            s = c.get("s")
            style = (style_cache.get(s) or style_cache.setdefault(s, styles.xf(int(s)))) if s else default
            value = formula = cached = rich = None
            if len(c) == 1 and c[0].tag == V:  # the common case: a plain value
                f, v = None, c[0].text
            else:
                f, v = c.find(F), c.findtext(V)
            if t == "n":
                if v:
                    try:
                        value = float(v)
                    except ValueError:
                        value = v
            elif t == "s":
                if v is not None:
                    i = int(v)
                    if 0 <= i < nsst:
                        value, rich = sst[i]
                    else:
                        value = XlError(f"#shared string {i} missing")
            elif t == "inlineStr":
                isel = c.find(IS)
                if isel is not None:
                    value, rich = string_item(isel)
            else:
                value = _typed(t, v if v != "" else None)
            if f is not None:
                ft = f.get("t")
                text = f.text or ""
                if ft == "shared":
                    si = f.get("si", "")
                    if text:
                        shared[si] = Translator("=" + text, ref)
                        formula = "=" + text
                    elif si in shared:
                        formula = shared[si].translate_formula(ref)
                    else:
                        formula = f"=(shared formula {si})"
                elif ft == "array":
                    formula = f"{{={text}}} array {f.get('ref', ref)}"
                    if c.get("cm"):
                        formula += " dynamic"
                elif ft == "dataTable":
                    formula = "data table " + canon(f)
                else:
                    formula = "=" + text
                cached, value = value, None
                if t == "s" and cached is not None:
                    cached = str(cached)
            if value is None and formula is None and style is default:
                continue
            flat.extend((col, value, formula, cached, style, rich))
        if flat:
            snap.rows[row_no] = tuple(flat)
    root = holder.get("root")
    if root is None:
        raise PackageError(f"{pkg.path.name}: part {part} is empty")
    return root


def read_sheet(pkg: Package, part: str, sst: list, styles: Styles, snap: SheetSnap) -> None:
    """Fill ``snap`` from the worksheet part ``part`` (cells, layout, validations, …)."""
    root = read_cells(pkg, part, sst, styles, snap)
    for el in root:
        name = local(el.tag)
        if name == "cols":
            for c in el:
                lo, hi = int(c.get("min", "1")), min(int(c.get("max", "1")), 16384)
                w = c.get("width")
                cw = c.get("customWidth") in ("1", "true")
                fmt = (round(float(w), 3) if w and (cw or c.get("hidden") not in ("1", "true")) else None,
                       c.get("hidden") in ("1", "true"),
                       styles.xf(int(c.get("style", "0"))) if c.get("style") else None,
                       c.get("outlineLevel", "0"))
                if fmt != (None, False, None, "0"):
                    for i in range(lo, hi + 1):
                        snap.columns[i] = fmt
        elif name == "mergeCells":
            snap.merged = {m.get("ref", "") for m in el}
        elif name == "dataValidations":
            for dv in el:
                sq = " ".join(sorted(dv.get("sqref", "").split()))
                body = _norm(DataValidation, dv).replace(f' sqref="{dv.get("sqref", "")}"', "")
                snap.validations[sq] = snap.validations.get(sq, "") + body
        elif name == "conditionalFormatting":
            sq = " ".join(sorted(el.get("sqref", "").split()))
            rules = []
            for rule in el:
                dxf = rule.get("dxfId")
                body = _norm(Rule, rule, frozenset({"id", "dxfId"}))
                if rule.find(_M + "extLst") is not None:  # x14 data bars, icon sets…
                    body += "+extension " + canon(rule.find(_M + "extLst"))
                if dxf is not None and dxf.isdigit() and int(dxf) < len(styles.dxfs):
                    body += styles.dxfs[int(dxf)]
                rules.append(body)
            snap.cond_formats[sq] = snap.cond_formats.get(sq, "") + "".join(sorted(rules))
        elif name == "hyperlinks":
            for h in el:
                rel = pkg.rel_target(part, h.get(R_ID))
                target = rel.target if rel else ""
                loc = h.get("location")
                desc = target + (f"#{loc}" if loc else "")
                if h.get("tooltip"):
                    desc += f' (tooltip "{h.get("tooltip")}")'
                for ref in h.get("ref", "").split():
                    snap.hyperlinks[ref] = desc
        elif name == "sheetViews":
            for view in el:
                pane = view.find(_M + "pane")
                frozen = "none"
                if pane is not None and pane.get("state") in ("frozen", "frozenSplit"):
                    frozen = pane.get("topLeftCell") or (
                        f"{get_column_letter(int(float(pane.get('xSplit', '0'))) + 1)}"
                        f"{int(float(pane.get('ySplit', '0'))) + 1}")
                snap.settings["freeze panes"] = frozen
                hidden = view.get("showGridLines") in ("0", "false")
                snap.settings["gridlines"] = "hidden" if hidden else "shown"
                snap.settings["zoom"] = view.get("zoomScale", "100")
                snap.settings["right-to-left"] = "yes" if view.get("rightToLeft") in ("1", "true") else "no"
                break
        elif name == "extLst":
            for ext in el:
                uri = (ext.get("uri") or "").upper()
                snap.extensions[uri] = _EXT_NAMES.get(uri, f"extension {uri}")
        elif name in _SETTINGS:
            label, cls = _SETTINGS[name]
            if name == "headerFooter" and not "".join(el.itertext()).strip():
                continue  # an empty header/footer is no header/footer
            snap.settings[label] = _norm(cls, el) if cls else canon(el)
        elif name not in _HANDLED:
            snap.other_elements.add(_SHEET_ELEMENTS.get(name, f"<{name}> element"))
    _read_sheet_rels(pkg, part, snap)


_SETTINGS: dict[str, tuple[str, type | None]] = {
    "sheetPr": ("sheet properties (tab colour, outline, fit to page)", WorksheetProperties),
    "sheetProtection": ("sheet protection", SheetProtection),
    "autoFilter": ("auto filter", AutoFilter),
    "printOptions": ("print options", PrintOptions),
    "pageMargins": ("page margins", PageMargins),
    "pageSetup": ("page setup", PrintPageSetup),
    "headerFooter": ("header/footer", HeaderFooter),
    "rowBreaks": ("row page breaks", RowBreak),
    "colBreaks": ("column page breaks", ColBreak),
}


def _read_sheet_rels(pkg: Package, part: str, snap: SheetSnap) -> None:
    for rel in pkg.rels(part):
        if rel.external or not pkg.has(rel.target):
            continue
        if rel.kind == "comments":
            read_comments(pkg, rel.target, snap)
        elif rel.kind == "table":
            t = pkg.xml(rel.target)
            cols = [c.get("name", "") for c in t.iter(_M + "tableColumn")]
            style = t.find(_M + "tableStyleInfo")
            snap.table_refs[t.get("displayName") or t.get("name", "")] = t.get("ref", "")
            snap.tables[t.get("displayName") or t.get("name", "")] = (
                f"{t.get('ref', '')} columns {cols}"
                + (f" style {style.get('name')}" if style is not None else ""))
        elif rel.kind == "drawing":
            snap.drawing.extend(read_drawing(pkg, rel.target))


def read_comments(pkg: Package, part: str, snap: SheetSnap) -> None:
    root = pkg.xml(part)
    authors = [a.text or "" for a in root.iter(_M + "author")]
    for c in root.iter(_M + "comment"):
        text = "".join(t.text or "" for t in c.iter(_M + "t"))
        i = int(c.get("authorId", "0") or 0)
        author = authors[i] if 0 <= i < len(authors) else ""
        snap.comments[c.get("ref", "")] = f'"{_short(text)}"' + (f" by {author}" if author else "") \
            + ("" if len(text) <= 60 else f" #{hashlib.sha1(text.encode()).hexdigest()[:8]}")


# -- drawings and charts ----------------------------------------------------------------
_NS_XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
_NS_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_NS_C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
_KINDS = {"graphicFrame": "graphic", "pic": "image", "sp": "shape", "grpSp": "group",
          "cxnSp": "connector", "contentPart": "ink"}


def read_drawing(pkg: Package, part: str) -> list[DrawingItem]:
    """Objects anchored on a drawing part (charts with their series, images, shapes)."""
    items = []
    for anchor in pkg.xml(part):
        where = local(anchor.tag)
        frm = anchor.find(_NS_XDR + "from")
        if frm is not None:
            col = int(frm.findtext(_NS_XDR + "col") or 0)
            row = int(frm.findtext(_NS_XDR + "row") or 0)
            pos = f"{get_column_letter(col + 1)}{row + 1}"
        else:
            p = anchor.find(_NS_XDR + "pos")
            pos = f"({p.get('x')},{p.get('y')})" if p is not None else where
        for obj in anchor:
            kind = _KINDS.get(local(obj.tag))
            if kind is None:
                continue
            item = DrawingItem(kind, pos)
            if kind == "graphic":
                chart = obj.find(f".//{_NS_C}chart")
                if chart is not None:
                    rel = pkg.rel_target(part, chart.get(R_ID))
                    item.kind = "chart"
                    if rel and pkg.has(rel.target):
                        item.title, item.detail = read_chart(pkg, rel.target)
                else:
                    gd = obj.find(f".//{_NS_A}graphicData")
                    uri = gd.get("uri", "") if gd is not None else ""
                    item.kind = ("smartart" if "diagram" in uri else
                                 "chartex" if "chartex" in uri.lower() else "other graphic")
                    item.detail = uri
            elif kind in ("shape", "group"):
                text = "".join(t.text or "" for t in obj.iter(_NS_A + "t"))
                item.title = _short(text, 40)
                item.detail = f"{len(list(obj.iter(_NS_XDR + 'sp')))} shapes" if kind == "group" else ""
            elif kind == "image":
                nv = obj.find(f".//{_NS_XDR}cNvPr")
                item.title = nv.get("descr") or nv.get("name", "") if nv is not None else ""
            items.append(item)
            break
    return items


def read_chart(pkg: Package, part: str) -> tuple[str, str]:
    """``(title, detail)`` of a chart part: chart types and every series' references."""
    root = pkg.xml(part)
    plot = root.find(f".//{_NS_C}plotArea")
    types = sorted(local(c.tag) for c in plot if local(c.tag).endswith("Chart")) if plot is not None else []
    title_el = root.find(f"{_NS_C}chart/{_NS_C}title")
    title = ""
    if title_el is not None:
        title = "".join(t.text or "" for t in title_el.iter(_NS_A + "t")) or (
            title_el.findtext(f".//{_NS_C}f") or "")
    series = []
    for ser in root.iter(_NS_C + "ser"):
        refs = []
        for key in ("tx", "cat", "val", "xVal", "yVal", "bubbleSize"):
            el = ser.find(_NS_C + key)
            if el is not None:
                f = el.findtext(f".//{_NS_C}f") or el.findtext(f".//{_NS_C}v") or "literal"
                refs.append(f"{key}={f}")
        series.append("(" + ", ".join(refs) + ")")
    return title, f"{'/'.join(types)} series {'; '.join(series)}"


def cell_items(flat: tuple) -> list[tuple]:
    """Unpack a row tuple into ``[(col, value, formula, cached, style, rich)]``."""
    return [flat[i:i + STRIDE] for i in range(0, len(flat), STRIDE)]
