"""The .xlsx file format, below the engine: safe reading of a workbook package
(:mod:`~engine.xlsx.package`), its cells (:mod:`~engine.xlsx.cells`), number formats
(:mod:`~engine.xlsx.numfmt`), and writing a package whose copied parts keep their bytes
(:mod:`~engine.xlsx.zipwrite`). Nothing here knows about forecasts or engine sheets."""
