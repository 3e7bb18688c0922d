"""Gamma Desk engine.

Data flows through the sub-packages in this order:

``inputs``   input sheets -> validated pandas objects (:class:`engine.inputs.WorkbookData`)
``models``   pure functions of pandas objects (valuation, forecasts, performance, GDP gap)
``tables``   model results -> output tables (:class:`engine.tables.SheetContent`)
``workbook`` tables -> engine sheets written in place, guarded so no user cell is lost
``reports``  tables -> client PDFs (fact sheets, Macro Intelligence Report)

``refresh`` runs the pipeline and ``cli`` is the ``gamma`` command over it.
"""

__version__ = "0.1.0"  # the one place: pyproject.toml reads it; engine.version adds the code hash
