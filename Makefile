# One command per chore, for people and CI alike.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The suite runs on every core (pytest-xdist); PYTEST_ARGS="-n 0 -k …" for one process.
PYTEST_ARGS ?= -n auto

.PHONY: run test check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,dev]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed  ## set up and start occur on http://127.0.0.1:8800
	$(BIN)/occur serve

test: $(VENV)/.test-installed  ## set up and run the whole suite
	$(BIN)/pytest $(PYTEST_ARGS)

check: $(VENV)/.test-installed  ## ruff, mypy --strict on src/, import-linter
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.test-installed  ## hot-path benchmarks, each against a baseline of the same run
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
	@echo "== bench/ingest.py"; $(BIN)/python -m bench.ingest $(INGEST_ARGS)
	@echo "== bench/pages.py"; $(BIN)/python -m bench.pages $(PAGES_ARGS)
	@echo "== bench/collector.py"; $(BIN)/python -m bench.collector $(COLLECTOR_ARGS)
	@echo "== bench/import.py"; $(BIN)/python -m bench.import $(IMPORT_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
