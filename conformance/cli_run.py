"""``dcs-conformance run``: resolve the settings, judge one target (or the [[targets]] of a config file), print
the run's end on the terminal and publish the CI summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.cli_args import UsageError

if TYPE_CHECKING:
    from conformance.report_model import Report
    from conformance.settings import RunSettings


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.console import Console
    from conformance.reference.embedded import check_deviations
    from conformance.reporting import execute
    from conformance.run_console import print_run_end
    from conformance.settings import SettingsError, resolve

    flags = {key: value for key, value in vars(args).items() if key not in ("handler", "command", "quiet")}
    several = run_targets_if_listed(args, flags)
    if several is not None:
        return several
    console = Console.for_stream(sys.stderr)
    try:
        settings = resolve(flags, check_deviations=check_deviations)
        outcome = execute(
            settings,
            command=reproducer(settings),
            progress=(lambda _: None) if args.quiet else console.say,
            watch=None if args.quiet else console.watch,
        )
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    report = outcome.report
    print_run_end(report, outcome.report_dir, quiet=args.quiet, warn=console.style.message)
    publish_summary(report, outcome.report_dir, args.summary_md, settings)
    return outcome.exit_code


def run_targets_if_listed(args: argparse.Namespace, flags: dict[str, Any]) -> int | None:
    """``run --config FILE`` whose file lists [[targets]]: judge them all (conformance.targets); None otherwise."""
    from conformance.ci_summary import unwritable
    from conformance.settings import SettingsError
    from conformance.targets import lists_targets, run_from_config

    problem = unwritable(Path(args.summary_md)) if args.summary_md else None
    if problem:
        raise UsageError(f"--summary-md {args.summary_md}: {problem}")
    if not (args.config and lists_targets(Path(args.config))):
        if args.jobs is not None:
            raise UsageError("--jobs judges the [[targets]] of a --config file in parallel; this run has one target")
        return None
    try:
        return run_from_config(Path(args.config), flags, jobs=args.jobs, quiet=args.quiet)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def publish_summary(report: Report, report_dir: Path, summary_md: str | None, settings: RunSettings) -> None:
    """The run's markdown summary to --summary-md and $GITHUB_STEP_SUMMARY, annotations in GitHub Actions."""
    from conformance.ci_summary import publish, report_annotations, report_markdown

    try:
        problems = publish(
            report_markdown(report, str(report_dir)),
            report_annotations(report),
            summary_md=Path(summary_md) if summary_md else None,
            secrets=settings.credentials.secrets(),
        )
    except OSError as exc:
        problems = [f"cannot write --summary-md {summary_md}: {exc.strerror or exc}"]
    for problem in problems:
        print(f"dcs-conformance run: warning: {problem}", file=sys.stderr)


def reproducer(settings: RunSettings) -> str:
    """The command that reproduces this run, without any secret."""
    from conformance.settings import DEFAULT_EMBEDDED_RESTARTABLE, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_S

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
