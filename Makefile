# One place for every routine job. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python has no wheels on PyPI: pip compiles it once and caches the wheel.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
PIP := $(BIN)/pip --disable-pip-version-check
SOURCES := $(shell find cli indexer extractors store -name '*.py' -o -name '*.gguf' 2>/dev/null)

.PHONY: setup dev demo test lint typecheck pytest bench model clean

setup: $(VENV)/.deps-stamp $(VENV)/.dev-stamp

$(VENV)/bin/python:
	@command -v $(PY) >/dev/null || PY=python3; $${PY:-$(PY)} -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel

$(VENV)/.deps-stamp: pyproject.toml | $(VENV)/bin/python
	@echo "installing dependencies (the first run compiles llama-cpp-python: several minutes)" >&2
	$(PIP) install -q -e '.[dev]' --config-settings editable_mode=strict
	touch $@

# Strict editable installs link each file, so new modules need a re-link.
$(VENV)/.dev-stamp: $(VENV)/.deps-stamp $(SOURCES) pyproject.toml
	$(PIP) install -q --no-deps --no-build-isolation -e . --config-settings editable_mode=strict
	touch $@

dev: $(VENV)/.dev-stamp

demo: setup
	@rm -rf .demo-home
	SLEUTH_HOME=.demo-home $(BIN)/sleuth index examples
	SLEUTH_HOME=.demo-home $(BIN)/sleuth search "how do I reset a forgotten password"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: setup
	$(BIN)/python bench/run.py

model:
	bash tools/build_model.sh

clean:
	rm -rf build .demo-home .pytest_cache .mypy_cache .ruff_cache
