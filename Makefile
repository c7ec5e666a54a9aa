PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/dcs-conformance run $(ARGS)

serve: $(STAMP)
	$(BIN)/dcs-conformance serve $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The unit tests alone (no server, no engine run; the wheel build is packaging, left to `make test`): seconds, for
# every edit. `make test` still runs everything before a commit.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q \
		--deselect tests/unit/test_openapi.py::test_built_wheel_contains_the_contract $(PYTEST_ARGS)

bench: $(STAMP)
	bench/killrate $(ARGS)

# What CI runs before the tests, and what the pre-commit hooks run (.pre-commit-config.yaml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .hypothesis .schemathesis
