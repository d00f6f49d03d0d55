# Developer entry points. `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip
RUFF := $(BIN)/ruff
MYPY := $(BIN)/mypy
JUPYTER := $(BIN)/jupyter
STAMP := $(VENV)/.installed
PIP_FLAGS ?= --disable-pip-version-check --quiet

PYTEST_ARGS ?=
LAB_ARGS ?=
BENCH_ARGS ?=
RAT_HOME_LAB := $(CURDIR)/.lakehouse

.PHONY: help venv install test lint lab bench clean distclean

help: ## Show this help
	@grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) \
		| awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml changes (or the stamp is removed).
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install $(PIP_FLAGS) --upgrade pip
	$(PIP) install $(PIP_FLAGS) -e ".[test]"
	@touch $@

venv: $(STAMP) ## Create .venv and install the package with its test extras

install: $(STAMP) ## Same as venv

lint: $(STAMP) ## ruff + mypy
	$(RUFF) check .
	$(MYPY)

test: lint ## Lint, type-check, then run pytest (extra arguments: PYTEST_ARGS="-k foo -x")
	$(PY) -m pytest $(PYTEST_ARGS)

lab: $(STAMP) ## Start JupyterLab on notebooks/ with the lakehouse in .lakehouse/
	@test -x $(BIN)/jupyter-lab || $(PIP) install $(PIP_FLAGS) jupyterlab
	@mkdir -p $(RAT_HOME_LAB)
	RAT_HOME="$(RAT_HOME_LAB)" $(JUPYTER) lab notebooks/ $(LAB_ARGS)

bench: $(STAMP) ## Run the benchmarks (bench/run.py; extra arguments: BENCH_ARGS=...)
	$(PY) bench/run.py $(BENCH_ARGS)

clean: ## Remove caches and build output (keeps .venv and .lakehouse)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find . \( -path ./$(VENV) -o -name node_modules \) -prune -o \
		-type d \( -name __pycache__ -o -name '*.egg-info' \) -exec rm -rf {} +

distclean: clean ## clean, and also remove .venv (keeps .lakehouse)
	rm -rf $(VENV)
