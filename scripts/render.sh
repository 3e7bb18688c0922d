#!/usr/bin/env bash
# Render a refreshed workbook and the PDFs in OUT to PNG pages in DEST, to look at them.
set -euo pipefail
OUT=${1:-out/demo}; DEST=${2:-out/render}
mkdir -p "$DEST"
soffice --headless --convert-to pdf --outdir "$DEST" "$OUT/demo.xlsx" >/dev/null
pdftoppm -r 50 -png "$DEST/demo.pdf" "$DEST/workbook"
for f in "$OUT"/*.pdf "$OUT"/factsheets/*.pdf; do
  [ -f "$f" ] || continue
  pdftoppm -r 60 -png "$f" "$DEST/$(basename "${f%.pdf}" | tr ' ' '_')"
done
ls "$DEST" | head -50
