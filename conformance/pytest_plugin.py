"""The pytest plugin: a pytest job judges a DCS target with the suite, one test item per catalogue requirement.

    pytest --dcs-base-url URL --dcs-project-id ID [--dcs-fixtures FILE] [--dcs-report-dir DIR] [...]
    pytest --dcs-embedded                      # judge the embedded reference server

It is registered in every pytest session of an environment that installs dcs-batch-restart-conformance (its
``pytest11`` entry point), so it must cost nothing where it is not wanted: unless one of its ``--dcs-*`` options is
given it only adds those options and three fixtures that skip. This module's imports are therefore the standard
library and pytest alone; the engine (schemathesis, httpx, the reference server) is imported from
:mod:`conformance.pytest_run` when an option turns the plugin on.

The options are the ``run`` command's settings under a ``--dcs-`` prefix, with the same environment variables and
config file; each option's destination minus ``dcs_`` is the setting's name in ``settings.resolve``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.engine.client import TargetClient
    from conformance.pytest_run import DcsSession
    from conformance.reporting import RunOutcome
    from conformance.settings import RunSettings

#: The ``run`` command's settings, under a ``--dcs-`` prefix (same meaning, same environment variables).
OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--dcs-base-url", {"metavar": "URL", "help": "the target's base URL (env DCS_BASE_URL)"}),
    ("--dcs-project-id", {"metavar": "ID", "help": "project ID in the request path (env DCS_PROJECT_ID)"}),
    ("--dcs-fixtures", {"metavar": "FILE", "help": 'known tasks: {"restartable": [...], "not_restartable": [...]}'}),
    ("--dcs-auth-token", {"metavar": "TOKEN", "help": "IAM token (env DCS_AUTH_TOKEN); AK/SK: CLOUD_SDK_AK/SK"}),
    ("--dcs-readonly-token", {"metavar": "TOKEN", "help": "a token lacking the modify permission (403 check)"}),
    ("--dcs-readonly-ak", {"metavar": "AK", "help": "an access key lacking the modify permission (403 check)"}),
    ("--dcs-readonly-sk", {"metavar": "SK", "help": "the secret key of --dcs-readonly-ak"}),
    ("--dcs-report-dir", {"metavar": "DIR", "help": "where reports go (default: reports/<UTC timestamp>/)"}),
    ("--dcs-seed", {"type": int, "metavar": "N", "help": "seed that reproduces the run (default: random)"}),
    ("--dcs-max-examples", {"type": int, "metavar": "N", "help": "fuzzing examples (default: 100)"}),
    ("--dcs-rate-limit", {"type": float, "metavar": "N", "help": "at most N requests per second"}),
    ("--dcs-max-requests", {"type": int, "metavar": "N", "help": "request budget, your dcs_client requests too"}),
    ("--dcs-timeout", {"type": float, "metavar": "S", "help": "seconds each response may take (default: 30)"}),
    ("--dcs-max-response-bytes", {"type": int, "metavar": "N", "help": "largest response body read (8 MiB)"}),
    ("--dcs-workers", {"type": int, "metavar": "N", "help": "most requests in flight at once (default: 16 remote)"}),
    ("--dcs-ca-bundle", {"metavar": "FILE", "help": "PEM CA bundle for the target's certificate (DCS_CA_BUNDLE)"}),
    ("--dcs-insecure", {"action": "store_true", "default": None, "help": "do not verify the certificate (warned)"}),
    ("--dcs-client-cert", {"metavar": "FILE", "help": "client certificate for mutual TLS"}),
    ("--dcs-client-key", {"metavar": "FILE", "help": "the key of --dcs-client-cert"}),
    ("--dcs-embedded-restartable", {"type": int, "metavar": "N", "help": "restartable tasks the reference seeds"}),
    ("--dcs-embedded-not-restartable", {"type": int, "metavar": "N", "help": "non-restartable tasks it seeds"}),
    ("--dcs-config", {"metavar": "FILE", "help": "TOML file with the same settings as 'dcs-conformance run'"}),
    ("--dcs-strict", {"action": "store_true", "default": None, "help": "SHOULD violations fail their items"}),
    ("--dcs-certify", {"action": "store_true", "default": None, "help": "any MUST left unexercised: incomplete"}),
    ("--dcs-fault", {"action": "append", "metavar": "NAME", "help": "with --dcs-embedded: switch on a fault"}),
    ("--dcs-variant", {"action": "append", "metavar": "NAME", "help": "with --dcs-embedded: switch on a variant"}),
    # The plugin's own: which target, and the CI summary file the CLI writes with --summary-md.
    ("--dcs-embedded", {"action": "store_true", "default": None, "help": "judge the embedded reference server"}),
    ("--dcs-summary-md", {"metavar": "FILE", "help": "also write the run's markdown summary to FILE"}),
)
#: Destinations of the options above: the plugin is on when any of them is given.
DESTS = tuple(flag[2:].replace("-", "_") for flag, _ in OPTIONS)
OFF = "dcs-conformance is off in this session: give --dcs-base-url URL --dcs-project-id ID, or --dcs-embedded"

SESSION = pytest.StashKey["DcsSession"]()


class DcsShouldViolation(UserWarning):
    """A SHOULD requirement was violated: its item passes with this warning (it fails with --dcs-strict)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dcs-conformance", "DCS batch-restart conformance (inert unless a --dcs option is given)")
    for flag, kwargs in OPTIONS:
        group.addoption(flag, dest=flag[2:].replace("-", "_"), **kwargs)


def given_options(config: pytest.Config) -> dict[str, Any]:
    """The --dcs-* options given on the command line (or in addopts), by destination."""
    return {dest: value for dest in DESTS if (value := config.getoption(dest, None)) not in (None, False, [])}


def pytest_configure(config: pytest.Config) -> None:
    """Turn the plugin on when one of its options is given: check every setting now, so that a mistake ends the
    session before anything runs, with one line and pytest's usage-error exit code."""
    given = given_options(config)
    if not given:
        return
    from conformance.pytest_run import DcsSession, DcsUsageError

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
