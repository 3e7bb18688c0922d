"""The Gamma Desk ribbon add-in, ``addin/gamma_desk.xlam``, built from xlwings' open-source
add-in template (the file ``xlwings quickstart NAME --addin --ribbon`` copies,
``quickstart_addin_ribbon.xlam`` in the xlwings package, BSD-licensed).

``python -m addin.ribbon [OUT.xlam]`` rebuilds it without Excel. From the template it
changes three things and copies every other part as it is:

* ``customUI/customUI.xml``: a *Gamma Desk* tab with the buttons of :data:`BUTTONS`
  (Refresh, Check, Report), each calling a VBA callback of the template's ribbon module;
* that module's source (:func:`ribbon_module`): one callback per button, each a single
  ``RunPython "import addin.macros; addin.macros.NAME()"`` — the Python entry points in
  :mod:`addin.macros`, which take the active workbook (``xlwings.Book.caller()``);
* the template's xlwings module reads xlwings' own settings (``PROJECT_NAME = "xlwings"``
  instead of the template's ``"myaddin"``): the interpreter set by ``xlwings config
  create`` or the xlwings add-in's ribbon (``~/.xlwings/xlwings.conf``), or an
  ``xlwings.conf`` sheet in the workbook — one place for the interpreter, as every xlwings
  user knows it.

The VBA source goes in through :mod:`addin.vba_project` (the project is compiled by Excel
from its source when the add-in opens). Nobody pastes VBA: install the add-in (README,
"Use it from Excel").
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from addin import vba_project

__all__ = ["Button", "BUTTONS", "MODULE", "ADDIN", "template_path", "custom_ui",
           "ribbon_module", "build", "main"]

ADDIN = Path(__file__).with_name("gamma_desk.xlam")
MODULE = "RibbonMyAddin"        # the template's ribbon module: callbacks live there
CUSTOM_UI = "customUI/customUI.xml"
VBA_PART = "xl/vbaProject.bin"
# xlwings' settings layers, and the template's (disabled) settings sheet renamed to match
PROJECT_NAME = ('Public Const PROJECT_NAME As String = "myaddin"',
                'Public Const PROJECT_NAME As String = "xlwings"')
CONF_SHEET = ('name="_myaddin.conf"', 'name="_xlwings.conf"')
FIXED_TIME = (1980, 1, 1, 0, 0, 0)   # zip entry times: the same inputs give the same bytes


@dataclass(frozen=True)
class Button:
    """One ribbon button: ``callback`` the VBA Sub (in :data:`MODULE`), ``entry`` the
    function of :mod:`addin.macros` it runs, ``image`` an Office icon (``imageMso``)."""

    id: str
    label: str
    callback: str
    entry: str
    image: str
    tip: str

    @property
    def python(self) -> str:
        """What ``RunPython`` runs."""
        return f"import addin.macros; addin.macros.{self.entry}()"


BUTTONS = (
    Button("gammaRefresh", "Refresh", "GammaRefresh", "refresh", "RefreshAll",
           "Rewrite every engine sheet of the active workbook from its input sheets "
           "(as gamma refresh does); your sheets and unsaved edits stay as they are."),
    Button("gammaCheck", "Check", "GammaCheck", "check", "ReviewAcceptChange",
           "Validate the input sheets of the active workbook (as gamma check does) and "
           "list every problem with its cell; nothing is written."),
    Button("gammaReport", "Report", "GammaReport", "report", "FileSaveAsPdfOrXps",
           "Write the Macro Intelligence Report PDF beside the active workbook (as gamma "
           "report does)."),
)


def template_path() -> Path:
    """xlwings' add-in template with a ribbon, in the installed xlwings package."""
    import xlwings
    return Path(xlwings.__file__).with_name("quickstart_addin_ribbon.xlam")


def custom_ui() -> str:
    """The ribbon: a *Gamma Desk* tab, one group, a large button per :data:`BUTTONS`."""
    buttons = "\n".join(
        f'          <button id={quoteattr(b.id)} label={quoteattr(b.label)} size="large" '
        f'onAction={quoteattr(f"{MODULE}.{b.callback}")} imageMso={quoteattr(b.image)} '
        f'screentip={quoteattr(b.label)} supertip={quoteattr(b.tip)} />'
        for b in BUTTONS)
    return ('<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">\n'
            '  <ribbon>\n    <tabs>\n'
            '      <tab id="gammaDeskTab" label="Gamma Desk">\n'
            '        <group id="gammaDeskGroup" label="Monthly workbook">\n'
            f'{buttons}\n'
            '        </group>\n      </tab>\n    </tabs>\n  </ribbon>\n</customUI>\n')


def ribbon_module() -> str:
    """The VBA source of :data:`MODULE` (CRLF line ends): one ribbon callback per button."""
    subs = "\n".join(
        f"Sub {b.callback}(control As IRibbonControl)\n"
        f'    RunPython "{b.python}"\n'
        "End Sub\n" for b in BUTTONS)
    text = (f'Attribute VB_Name = "{MODULE}"\n'
            "' Gamma Desk ribbon callbacks, written by addin/ribbon.py (do not edit here):\n"
            "' each runs a Python entry point of addin.macros on the active workbook.\n"
            f"{subs}")
    return text.replace("\n", "\r\n")   # VBA's line ends, as the template's module has


def _replace_once(text: str, old: str, new: str, part: str) -> str:
    if text.count(old) != 1:
        raise vba_project.VbaError(part, "the template holds this text exactly once", old)
    return text.replace(old, new)


def build(out: Path | str = ADDIN, template: Path | str | None = None) -> Path:
    """Write the add-in to ``out`` from ``template`` (default :func:`template_path`);
    returns ``out``. The same template gives the same bytes."""
    template = Path(template) if template else template_path()
    with zipfile.ZipFile(template) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
    if CUSTOM_UI not in parts or VBA_PART not in parts:
        raise vba_project.VbaError(str(template), "an add-in template with a ribbon and a "
                                   "VBA project", sorted(parts))
    sources = vba_project.module_sources(parts[VBA_PART])
    xlwings_module = _replace_once(sources["xlwings"], *PROJECT_NAME, part="xlwings module")
    parts[VBA_PART] = vba_project.replace_sources(
        parts[VBA_PART], {MODULE: ribbon_module(), "xlwings": xlwings_module})
    parts[CUSTOM_UI] = custom_ui().encode("utf-8")
    wb = parts["xl/workbook.xml"].decode("utf-8")
    parts["xl/workbook.xml"] = _replace_once(wb, *CONF_SHEET, part="xl/workbook.xml") \
        .encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in infos:        # the template's order: [Content_Types].xml stays where it is
            info = zipfile.ZipInfo(i.filename, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, parts[i.filename])
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, out)
    return out


def built_for(xlam: Path | str = ADDIN) -> str | None:
    """The xlwings version whose template the add-in was built from (its VBA names the
    Mac AppleScript and the Windows DLL of that version)."""
    with zipfile.ZipFile(xlam) as z:
        text = vba_project.module_sources(z.read(VBA_PART)).get("xlwings", "")
    m = re.search(r"^'Version: (\S+)", text, flags=re.M)
    return m.group(1) if m else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m addin.ribbon", description=__doc__.split(
        "\n\n")[0])
    ap.add_argument("out", nargs="?", default=str(ADDIN), help="the .xlam to write")
    ap.add_argument("--template", help="xlwings' quickstart_addin_ribbon.xlam (default: "
                    "the installed xlwings')")
    args = ap.parse_args(argv)
    try:
        path = build(args.out, args.template)
    except (OSError, zipfile.BadZipFile, vba_project.VbaError) as e:
        print(f"python -m addin.ribbon: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path} (xlwings {built_for(path)} template)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
