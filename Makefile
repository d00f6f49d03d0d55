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
BENCH_STAMP := $(VENV)/.bench-installed
PIP_FLAGS ?= --disable-pip-version-check --quiet

PYTEST_ARGS ?=
LAB_ARGS ?=
BENCH_ARGS ?=
RAT_HOME_LAB := $(CURDIR)/.lakehouse

.PHONY: help venv install system-deps frontend test lint lab bench clean distclean

# The JupyterLab extension (TypeScript) is built by npm into ratatouille_jupyter/labextension.
LABEXT_DIR := labextension
NODE_STAMP := $(LABEXT_DIR)/node_modules/.installed
LABEXT_STAMP := $(LABEXT_DIR)/.built
LABEXT_SOURCES := $(shell find $(LABEXT_DIR)/src $(LABEXT_DIR)/style $(LABEXT_DIR)/scripts -type f 2>/dev/null) \
	$(LABEXT_DIR)/package.json $(LABEXT_DIR)/tsconfig.json

help: ## Show this help
	@grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) \
		| awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml changes (or the stamp is removed).
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install $(PIP_FLAGS) --upgrade pip
	# The frontend is built by the `frontend` target, not inside pip's isolated build.
	SKIP_JUPYTER_BUILDER=1 $(PIP) install $(PIP_FLAGS) -e ".[test]"
	@touch $@

$(NODE_STAMP): $(LABEXT_DIR)/package-lock.json
	cd $(LABEXT_DIR) && npm ci --no-audit --no-fund
	@touch $@

$(LABEXT_STAMP): $(NODE_STAMP) $(LABEXT_SOURCES)
	cd $(LABEXT_DIR) && npm run build:prod
	@touch $@

frontend: $(LABEXT_STAMP) ## Build the JupyterLab extension (npm)

venv: $(STAMP) ## Create .venv and install the package with its test extras

install: $(STAMP) ## Same as venv

lint: $(STAMP) ## ruff + mypy
	$(RUFF) check .
	$(MYPY)

# The Debian packages the tests need (PostgreSQL, Chromium...), shared with .ci/run: installed when this user
# may (root or passwordless sudo), else the one command to run is printed and make stops.
system-deps: ## Check the system packages the tests need; install the missing ones when allowed
	.ci/system-deps

# system-deps comes first: without the packages the browser and Postgres tests would fail late.
test: system-deps lint frontend ## System packages, lint, type-check, frontend tests, then pytest (extra arguments: PYTEST_ARGS="-k foo -x")
	cd $(LABEXT_DIR) && npm run typecheck && npm test
	$(PY) -m pytest $(PYTEST_ARGS)

# `make lab` names its lakehouse in ./ratatouille.toml (gitignored, written once, kept when it exists), so
# every process started in the repository (the lab, its kernels, `rat` in a shell) opens the same one.
LAB_CONFIG := ratatouille.toml

$(LAB_CONFIG):
	@printf '%s\n' \
		'# Written by `make lab`: the lakehouse of this repository, for the lab and for `rat` in a shell.' \
		'# RAT_* environment variables still win; see docs/configuration.md.' \
		'home = ".lakehouse"' \
		'# The example pipelines (relative to the home).' \
		'pipelines_dir = "../notebooks/pipelines"' >$@
	@echo "wrote $@ (lakehouse in .lakehouse/, pipelines in notebooks/pipelines/)"

lab: $(STAMP) frontend $(LAB_CONFIG) ## Install, build, and open JupyterLab on notebooks/ (tutorial); the lakehouse named in ./ratatouille.toml (.lakehouse/)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(JUPYTER) labextension develop . --overwrite
	@mkdir -p $(RAT_HOME_LAB)
	@PATH="$(CURDIR)/$(BIN):$$PATH" rat config | head -1
	PATH="$(CURDIR)/$(BIN):$$PATH" $(JUPYTER) lab notebooks/tutorial.ipynb \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# The `bench` extra (matplotlib for the plots, tpchgen-cli and duckdb for TPC-H), installed once over the development install.
$(BENCH_STAMP): $(STAMP)
	SKIP_JUPYTER_BUILDER=1 $(PIP) install $(PIP_FLAGS) -e ".[bench]"
	@touch $@

bench: $(BENCH_STAMP) ## Run the benchmarks (bench/run.py; extra arguments: BENCH_ARGS="--quick tables")
	$(PY) bench/run.py $(BENCH_ARGS)

clean: ## Remove caches and build output (keeps .venv and .lakehouse)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache test-artifacts ratatouille_jupyter/labextension \
		$(LABEXT_DIR)/lib $(LABEXT_DIR)/node_modules
	find . \( -path ./$(VENV) -o -name node_modules \) -prune -o \
		-type d \( -name __pycache__ -o -name '*.egg-info' \) -exec rm -rf {} +

distclean: clean ## clean, and also remove .venv (keeps .lakehouse)
	rm -rf $(VENV)

include docker/stack.mk
