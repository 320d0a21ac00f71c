# The two commands of the README, and a few more. Everything installs itself
# into .venv on first use; nothing needs to be installed by hand but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test test-fast lint setup setup-dev schema bench bench-million clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .

setup-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

## serve: migrate, load the seed data and serve the API on http://$(HOST):$(PORT)
serve: setup
	$(BIN)/biomatdb db upgrade
	$(BIN)/biomatdb seed
	$(BIN)/biomatdb serve --host $(HOST) --port $(PORT)

## test: the test suite (SQLite; PostgreSQL too when BIOMATDB_TEST_DATABASE_URL is set)
test: setup-dev
	$(BIN)/python -m pytest -q

## test-fast: the edit-run loop (under 30 s): everything but the tests marked slow
## (fuzzing, real server processes, the wheel, the benchmark smoke run)
test-fast: setup-dev
	$(BIN)/python -m pytest -q -m "not slow"

## screenshots: the browser tests (needs /usr/bin/chromium), keeping their screenshots in docs/screenshots
screenshots: setup-dev
	BIOMATDB_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/test_browser.py

## lint: ruff, mypy and the import contracts of the layers (pyproject.toml [tool.importlinter])
lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: the benchmark harness (10k and 100k materials, SQLite and PostgreSQL) -> docs/benchmarks.md
bench: setup-dev
	$(BIN)/python -m benchmarks

## bench-million: the 1,000,000-material run on PostgreSQL (about an hour; needs 20 GB of disk,
## and wrk, Debian's package, for its load test) -> its own section of docs/benchmarks.md
bench-million: setup-dev
	$(BIN)/python -m benchmarks --million --iterations 10 --json benchmarks/.data/million.json

## schema: regenerate schemas/bundle.schema.json from the models
schema: setup
	$(BIN)/biomatdb schema

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
