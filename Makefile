# One place for every routine job. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python has no wheels on PyPI. tools/llama_wheel.sh compiles it once with the flags in
# tools/llama-build.env (portable AVX2, never -march=native) into a wheelhouse keyed by those
# flags: pip's own cache, keyed by the sdist alone, never decides which build is installed.
PIP := $(BIN)/pip --disable-pip-version-check
SOURCES := $(shell find cli indexer extractors store -name '*.py' -o -name '*.gguf' -o -name '*.npz' -o -name '*.json' 2>/dev/null)

.PHONY: setup dev demo test lint typecheck pytest bench model clean

# Ends with the self-check: one sentence embedded in a child process, so a llama.cpp build
# that crashes on this CPU fails here, in one line, instead of at the first query.
setup: $(VENV)/.deps-stamp $(VENV)/.dev-stamp
	$(BIN)/python -m sleuth.indexer.selfcheck

$(VENV)/bin/python:
	@command -v $(PY) >/dev/null || PY=python3; $${PY:-$(PY)} -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel

$(VENV)/.llama-stamp: tools/llama-build.env tools/llama_wheel.sh | $(VENV)/bin/python
	wheel=$$(tools/llama_wheel.sh $(BIN)/python) && $(PIP) install -q --no-deps --force-reinstall "$$wheel" && $(PIP) install -q "$$wheel"
	touch $@

$(VENV)/.deps-stamp: pyproject.toml $(VENV)/.llama-stamp
	@echo "installing dependencies" >&2
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
