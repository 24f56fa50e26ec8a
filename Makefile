# Two set-up commands for a fresh machine: `make demo` (the main job) and `make test` (the suite).
# Each creates the virtual environment when it is missing; nothing is installed by hand.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test browser servers lint check docs bench clean help

help:
	@echo "make demo   install, build the graph on the embedded store, check it, answer a headline question"
	@echo "make test   install with test extras, lint, run the whole test suite"
	@echo "make check  run the QC checks, SHACL and provenance on the built graph"
	@echo "make bench  run the benchmarks in bench/ and print their reports"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m compileall -q src
	touch $@

demo: $(BIN)/.installed
	$(BIN)/dispute-kg build
	$(BIN)/dispute-kg check
	$(BIN)/dispute-kg coverage > /dev/null && echo "coverage: every sentence of every source is cited"
	$(BIN)/dispute-kg query run claims -p state=Japan

test: $(BIN)/.installed browser servers
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest -q -n auto --maxprocesses 4

# The browser tests drive Debian's Chromium through Playwright: browser downloads are impossible here.
browser:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# The compliance suite runs on OpenLink Virtuoso 7 as well as Oxigraph server; Debian packages it.
servers:
	@command -v virtuoso-t >/dev/null || { echo "installing Debian's Virtuoso 7 for the compliance tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		virtuoso-opensource-7-bin >/dev/null; }

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench

check: $(BIN)/.installed
	$(BIN)/dispute-kg check

bench: $(BIN)/.installed
	$(BIN)/python bench/query_cold.py
	$(BIN)/python bench/build_scale.py
	$(BIN)/python bench/serve_load.py
	$(BIN)/python bench/validate_incremental.py

clean:
	rm -rf .dispute-kg .pytest_cache
