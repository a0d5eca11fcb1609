# mailtrack developer entry points. `make check` is what CI runs (.ci/run).
#   make demo    set up and run the whole loop on the embedded default (no server)
#   make test    set up (system packages, venv) and run the whole test suite
#   make check   lint + types + the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup system demo lint format types test check clean

$(BIN)/mailtrack: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/mailtrack

# Debian packages of the test mail stack (Dovecot, Postfix); uses sudo when not root.
system:
	.ci/install-system

demo: setup
	$(BIN)/mailtrack demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

types: setup
	$(BIN)/mypy

test: system setup
	$(BIN)/pytest $(PYTEST_ARGS)

check: lint types test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
