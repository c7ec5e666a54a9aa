"""The command line that reproduces a run: every setting that shaped it, and no secret.

Beside the settings it is derived from, so that the CLI, the many-targets mode and the pytest plugin print the same
command.
"""

from __future__ import annotations

from conformance.config.settings import (
    DEFAULT_EMBEDDED_RESTARTABLE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT_S,
    RunSettings,
)


def reproducer(settings: RunSettings) -> str:
    """The command that reproduces this run, without any secret."""
    parts = ["dcs-conformance", "run"]
    for flag, value in (
        ("--base-url", settings.base_url),
        ("--project-id", settings.project_id if settings.base_url else None),
        ("--fixtures", settings.fixtures),
        ("--seed", settings.seed),
        ("--max-examples", settings.max_examples),
        ("--rate-limit", settings.rate_limit),
        ("--max-requests", settings.max_requests),
        ("--timeout", settings.timeout if settings.timeout != DEFAULT_TIMEOUT_S else None),
        (
            "--max-response-bytes",
            settings.max_response_bytes if settings.max_response_bytes != DEFAULT_MAX_RESPONSE_BYTES else None,
        ),
        (
            "--embedded-restartable",
            settings.embedded_restartable if settings.embedded_restartable != DEFAULT_EMBEDDED_RESTARTABLE else None,
        ),
        ("--embedded-not-restartable", settings.embedded_not_restartable),
        ("--workers", settings.workers),
        ("--ca-bundle", settings.tls.ca_bundle),
        ("--client-cert", settings.tls.client_cert),
        ("--client-key", settings.tls.client_key),
    ):
        if value is not None:
            parts += [flag, str(value)]
    parts += [
        flag
        for flag, on in (
            ("--strict", settings.strict),
            ("--certify", settings.certify),
            ("--insecure", settings.tls.insecure),
        )
        if on
    ]
    for fault in settings.faults:
        parts += ["--fault", fault]
    for variant in settings.variants:
        parts += ["--variant", variant]
    if settings.credentials.token:
        parts += ["--auth-token", "$DCS_AUTH_TOKEN"]
    return " ".join(parts)
