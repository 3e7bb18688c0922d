# Gamma Desk — everything a fresh machine needs, from the project's own files.
PY   ?= python3
VENV ?= .venv
BIN  := $(VENV)/bin
OUT  ?= out/demo
# The versions CI tested (pip freeze, Python 3.11); `make CONSTRAINTS=` installs the ranges of
# pyproject.toml instead (another Python, where a pinned version has no wheel).
CONSTRAINTS ?= constraints.txt

.PHONY: demo test test-slow sysdeps bench render clean constraints

# constraints.txt: the exact versions CI tested; pyproject.toml keeps the ranges a user's own
# environment may take.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e '.[test,demo-data]'
	$(BIN)/python -m compileall -q engine addin  # an editable install compiles nothing
	touch $@

# Debian packages for the LibreOffice round-trip test and PDF checks (skipped when present).
sysdeps:
	@bash scripts/install-sysdeps.sh

demo: $(BIN)/.installed
	$(BIN)/gamma demo --out $(OUT)

test: $(BIN)/.installed sysdeps
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow"

# The long runs: the whole real-workbook corpus, LibreOffice opening a sample of it, a
# refresh killed at random moments. CI runs them after `make test` (.ci/run).
test-slow: $(BIN)/.installed sysdeps
	$(BIN)/python -m pytest -q -p no:cacheprovider -m slow

bench: $(BIN)/.installed
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Render the refreshed demo and PDFs to PNG for a look (out/render/*.png).
render: demo sysdeps
	PY=$(BIN)/python bash scripts/render.sh $(OUT) out/render

# After a dependency change: pin what the venv now has (review the diff, then commit it).
constraints: $(BIN)/.installed
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) out build *.egg-info
