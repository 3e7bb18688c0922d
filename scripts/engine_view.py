"""Copy a refreshed workbook with every sheet but the engine's hidden, so that LibreOffice
renders what a user looks at (not thousands of input rows). Only the workbook part's sheet
states and active tab change; the engine sheets print as the engine set them up (landscape,
one page wide, the Charts sheet without its chart feeds).

    python scripts/engine_view.py IN.xlsx OUT.xlsx
"""
import re
import sys
import zipfile

from engine.tables.base import ENGINE_SHEETS
from engine.xlsx.package import Package

src, dst = sys.argv[1], sys.argv[2]
with Package(src) as pkg:
    wb_part = pkg.workbook_part
    text = pkg.read(wb_part).decode("utf-8")
names = re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', text)
first = next(i for i, n in enumerate(names) if n in ENGINE_SHEETS)


def state(m: re.Match) -> str:
    tag = re.sub(r'\sstate="[^"]*"', "", m.group(0))
    name = re.search(r'\bname="([^"]*)"', tag).group(1)
    return tag if name in ENGINE_SHEETS else tag.replace(" name=", ' state="hidden" name=', 1)


text = re.sub(r'<(?:\w+:)?sheet\b[^>]*/>', state, text)
text = re.sub(r'\b(activeTab|firstSheet)="\d+"', rf'\1="{first}"', text)
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for info in zin.infolist():
        data = text.encode("utf-8") if info.filename == wb_part else zin.read(info)
        zout.writestr(info, data)
print(dst, [n for n in names if n in ENGINE_SHEETS])
