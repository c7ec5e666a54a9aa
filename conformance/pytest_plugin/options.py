"""The plugin's options and its warning: shared by the inert plugin and the session it starts, with nothing but the
standard library and pytest to import (the plugin is loaded in every pytest session of an environment that
installs the suite)."""

from __future__ import annotations

from typing import Any

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
    ("--dcs-sign-key", {"metavar": "FILE", "help": "with --dcs-certify: sign the bundle with this OpenSSH key"}),
    ("--dcs-fault", {"action": "append", "metavar": "NAME", "help": "with --dcs-embedded: switch on a fault"}),
    ("--dcs-variant", {"action": "append", "metavar": "NAME", "help": "with --dcs-embedded: switch on a variant"}),
    # The plugin's own: which target, and the CI summary file the CLI writes with --summary-md.
    ("--dcs-embedded", {"action": "store_true", "default": None, "help": "judge the embedded reference server"}),
    ("--dcs-summary-md", {"metavar": "FILE", "help": "also write the run's markdown summary to FILE"}),
)
#: Destinations of the options above: the plugin is on when any of them is given.
DESTS = tuple(flag[2:].replace("-", "_") for flag, _ in OPTIONS)


class DcsShouldViolation(UserWarning):
    """A SHOULD requirement was violated: its item passes with this warning (it fails with --dcs-strict)."""
