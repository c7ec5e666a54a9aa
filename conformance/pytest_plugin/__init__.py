"""The pytest plugin: a pytest job judges a DCS target with the suite, one test item per catalogue requirement.

    pytest --dcs-base-url URL --dcs-project-id ID [--dcs-fixtures FILE] [--dcs-report-dir DIR] [...]
    pytest --dcs-embedded                      # judge the embedded reference server

It is registered in every pytest session of an environment that installs the suite (the ``pytest11`` entry point),
so it must cost nothing where it is not wanted: unless one of its ``--dcs-*`` options is given it only adds those
options and three fixtures that skip. This module's imports are therefore the standard library, pytest and
:mod:`.options` alone (with the settings table it reads, standard library only too); the engine (schemathesis,
httpx, the reference server) is imported from :mod:`.session` when an option turns the plugin on.

The options are the ``run`` command's settings (``conformance.config.table``) under a ``--dcs-`` prefix, with the
same environment variables and config file; each option's destination minus ``dcs_`` is the setting's name in
``settings.resolve``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.pytest_plugin.options import dests, options

if TYPE_CHECKING:
    from conformance.app.run import RunOutcome
    from conformance.config.settings import RunSettings
    from conformance.engine.client import TargetClient
    from conformance.pytest_plugin.session import DcsSession

OFF = "dcs-conformance is off in this session: give --dcs-base-url URL --dcs-project-id ID, or --dcs-embedded"

SESSION = pytest.StashKey["DcsSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dcs-conformance", "DCS batch-restart conformance (inert unless a --dcs option is given)")
    for flag, kwargs in options():
        group.addoption(flag, dest=flag[2:].replace("-", "_"), **kwargs)


def given_options(config: pytest.Config) -> dict[str, Any]:
    """The --dcs-* options given on the command line (or in addopts), by destination."""
    return {dest: value for dest in dests() if (value := config.getoption(dest, None)) not in (None, False, [])}


def pytest_configure(config: pytest.Config) -> None:
    """Turn the plugin on when one of its options is given: check every setting now, so that a mistake ends the
    session before anything runs, with one line and pytest's usage-error exit code."""
    given = given_options(config)
    if not given:
        return
    from conformance.pytest_plugin.session import DcsSession, DcsUsageError

    try:
        config.stash[SESSION] = DcsSession.from_options(given, config)
    except DcsUsageError as exc:
        raise pytest.UsageError(f"dcs-conformance: {exc}") from None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put one item per catalogue requirement (and one for the run's completeness) before the session's own tests;
    tryfirst, so that -k and -m select among them too."""
    dcs = config.stash.get(SESSION, None)
    if dcs is not None:
        items[:0] = dcs.collect(session)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    dcs = config.stash.get(SESSION, None)
    if dcs is not None:
        dcs.terminal_summary(terminalreporter)


def pytest_unconfigure(config: pytest.Config) -> None:
    dcs = config.stash.get(SESSION, None)
    if dcs is not None:
        dcs.close()


def _session(request: pytest.FixtureRequest) -> DcsSession:
    dcs = request.config.stash.get(SESSION, None)
    if dcs is None:
        pytest.skip(OFF)
    return dcs


@pytest.fixture(scope="session")
def dcs_target(request: pytest.FixtureRequest) -> RunSettings:
    """The session's resolved run settings (target, project, limits), with every credential masked: pytest prints
    fixture values in failure reports, and a secret must never reach one. Send requests through ``dcs_client``."""
    return _session(request).public_settings()


@pytest.fixture(scope="session")
def dcs_run(request: pytest.FixtureRequest) -> RunOutcome:
    """The finished run: ``report`` (the report.json dictionary), ``report_dir`` and ``exit_code``. The suite runs
    once per session, on first need."""
    return _session(request).outcome()


@pytest.fixture(scope="session")
def dcs_client(request: pytest.FixtureRequest, dcs_run: RunOutcome) -> TargetClient:
    """The run's own guarded client, for your extra checks: the same ID guard (restartable tasks the suite spent
    stay spent), request budget, rate limit and redaction. Handed out after the suite's run, so the suite's
    requests come first."""
    return _session(request).client()
