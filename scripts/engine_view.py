"""Copy a refreshed workbook keeping only the engine sheets, set to print landscape and one
page wide, so LibreOffice renders what a user looks at (not thousands of input rows).

    python scripts/engine_view.py IN.xlsx OUT.xlsx
"""
import sys

from openpyxl import load_workbook

from engine.tables.base import ENGINE_SHEETS

src, dst = sys.argv[1], sys.argv[2]
wb = load_workbook(src)
for ws in list(wb.worksheets):
    if ws.title not in ENGINE_SHEETS:
        wb.remove(ws)
for ws in wb.worksheets:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if ws._charts:  # print the charts, not the chart-feed columns to their right
        last = max(ch.anchor._from.row for ch in ws._charts) + 20
        ws.print_area = f"A1:R{last}"
wb.save(dst)
print(dst, wb.sheetnames)
