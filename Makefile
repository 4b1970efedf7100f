# The commands of the README. Everything installs into .venv from pyproject.toml's pins.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test check lint contracts bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/cas demo

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy activation switch_adapters

# The layer rule of DESIGN.md (ivr -> activation -> switch_adapters), as import contracts.
contracts: $(STAMP)
	$(BIN)/lint-imports

check: lint contracts test

bench: $(STAMP)
	$(BIN)/python bench/bench_steps.py

clean:
	rm -rf $(VENV) var .pytest_cache
