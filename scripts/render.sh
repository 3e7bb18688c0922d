#!/usr/bin/env bash
# Render a refreshed workbook (engine sheets only) and the PDFs in OUT to PNG pages in DEST.
set -euo pipefail
OUT=${1:-out/demo}; DEST=${2:-out/render}
PY=${PY:-python3}
mkdir -p "$DEST"
$PY "$(dirname "$0")/engine_view.py" "$OUT/demo.xlsx" "$DEST/engine-sheets.xlsx" >/dev/null
soffice --headless --convert-to pdf --outdir "$DEST" "$DEST/engine-sheets.xlsx" >/dev/null
pdftoppm -r 50 -png "$DEST/engine-sheets.pdf" "$DEST/workbook"
for f in "$OUT"/*.pdf "$OUT"/factsheets/*.pdf; do
  [ -f "$f" ] || continue
  pdftoppm -r 60 -png "$f" "$DEST/$(basename "${f%.pdf}" | tr ' ' '_')"
done
ls "$DEST" | head -80
