PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint dist serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The distribution was called dcs-conformance before it got a name of its own: a venv made before the rename keeps
# that editable install beside the new one (the pytest plugin registered twice), so it goes first.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip uninstall --quiet --yes dcs-conformance 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e ".[test,lint]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/dcs-conformance run $(ARGS)

serve: $(STAMP)
	$(BIN)/dcs-conformance serve $(ARGS)

# On every core (pytest-xdist): each worker a process of its own, the tests that share an expensive fixture in one
# worker (tests/conftest.py names their groups; loadgroup keeps a group together). TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= auto

# The package's bytecode first: the tests start the command and its children hundreds of times, and where
# PYTHONDONTWRITEBYTECODE is set (as on CI images) each start would compile the package from source again (0.1 s of
# CPU each; a fresh clone's tests took 450 s with this line, 498 s without).
test: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 conformance tests bench
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The unit tests alone (no server, no engine run; the wheel build is packaging, left to `make test`): seconds, for
# every edit. In one process: two workers spend more CPU (each collects and imports everything) for no shorter wall
# time on these tests. `make test` still runs everything before a commit.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q \
		--deselect tests/unit/test_openapi.py::test_built_wheel_contains_the_contract $(PYTEST_ARGS)

bench: $(STAMP)
	bench/killrate $(ARGS)

# The GitHub workflows and the action, and the GitLab files, as their users' tools check them.
GITHUB_WORKFLOWS := examples/ci/github-actions.yml $(wildcard .github/workflows/*.yml)
GITLAB_FILES := examples/ci/gitlab-ci.yml templates/dcs-conformance.gitlab-ci.yml

# What CI runs before the tests; the pre-commit hooks (.pre-commit-config.yaml) run its Python part. zizmor runs
# offline: its online audits need a GitHub token and the network, which CI does not have.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/actionlint $(GITHUB_WORKFLOWS)
	$(BIN)/zizmor --offline --quiet $(GITHUB_WORKFLOWS) action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(GITHUB_WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.gitlab-ci $(GITLAB_FILES)

# The sdist and the wheel (the wheel built from the sdist, so the sdist is proven complete), checked as PyPI would.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

clean:
	rm -rf $(VENV) .hypothesis .schemathesis
