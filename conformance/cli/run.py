"""``dcs-conformance run``: resolve the settings, judge one target (or the [[targets]] of a config file), print
the run's end on the terminal and publish the CI summary."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.cli.args import UsageError

if TYPE_CHECKING:
    from conformance.config.settings import RunSettings
    from conformance.reference.process import ReferenceProcess
    from conformance.report.model import Report


def cmd_run(args: argparse.Namespace) -> int:
    with reference_started_early(args) as early:
        from conformance.config.settings import SettingsError, resolve

        flags = {key: value for key, value in vars(args).items() if key not in ("handler", "command", "quiet")}
        several = run_targets_if_listed(args, flags)
        if several is not None:
            return several
        try:
            settings = resolve(flags, check_deviations=check_deviations)
        except SettingsError as exc:
            raise UsageError(str(exc)) from None
        from conformance.engine.phases.drawing_cache import chosen
        from conformance.engine.phases.st_draw import cases_ahead, schemathesis_examples

        # The schemathesis child starts drawing now, before this process loads what a run needs (about half a
        # second of CPU here): its cases are wanted from the generated phase on, and drawing them is the longest
        # job of a run on the other core (unless the drawing cache holds them: then no child starts).
        with cases_ahead(
            settings.seed,
            schemathesis_examples(settings.max_examples),
            chosen(settings.cache_dir, off=settings.no_cache),
        ) as cases:
            # What the run needs, loaded only once its settings hold up (a usage error costs none of it).
            from functools import partial

            from conformance.app.console import Console
            from conformance.app.run import execute
            from conformance.app.run_console import print_run_end
            from conformance.app.target import open_target
            from conformance.config.reproducer import reproducer
            from conformance.engine.runner import EXIT_CODES
            from conformance.judging.results import Verdict
            from conformance.support.errors import TargetNotOpened

            console = Console.for_stream(sys.stderr)
            try:
                outcome = execute(
                    settings,
                    command=reproducer(settings),
                    progress=(lambda _: None) if args.quiet else console.say,
                    watch=None if args.quiet else console.watch,
                    target=partial(open_target, started=early),
                    cases=cases,
                )
            except SettingsError as exc:
                raise UsageError(str(exc)) from None
            except TargetNotOpened as exc:
                print(f"dcs-conformance run: {exc}", file=sys.stderr)
                return EXIT_CODES[Verdict.ERROR]
    report = outcome.report
    print_run_end(report, outcome.report_dir, quiet=args.quiet, warn=console.style.message)
    publish_summary(report, outcome.report_dir, args.summary_md, settings)
    return outcome.exit_code


def check_deviations(faults: Sequence[str], variants: Sequence[str]) -> None:
    """reference.embedded's check of --fault and --variant names, whose modules (the reference server's faults and
    variants) load only when a run names one: a usage error or a plain run needs none of them here."""
    from conformance.reference.embedded import check_deviations as check

    check(faults, variants)


@contextmanager
def reference_started_early(args: argparse.Namespace) -> Iterator[ReferenceProcess | None]:
    """The embedded reference's process, started before this process loads what a run needs, so that both load on
    their own core at once, when the command line and the environment name no target (a config file may: its runs
    start their own); killed when the block ends, if the run did not stop it (or never used it)."""
    from conformance.config import table

    if args.base_url or args.config or os.environ.get(table.get("base_url").env or ""):
        yield None
        return
    from conformance.reference.process import ReferenceProcess

    with ReferenceProcess() as process:
        yield process


def run_targets_if_listed(args: argparse.Namespace, flags: dict[str, Any]) -> int | None:
    """``run --config FILE`` whose file lists [[targets]]: judge them all (conformance.app.targets); None otherwise."""
    from conformance.config.settings import SettingsError

    if args.summary_md:
        from conformance.reporters.ci_summary import unwritable

        if problem := unwritable(Path(args.summary_md)):
            raise UsageError(f"--summary-md {args.summary_md}: {problem}")
    if args.config:
        from conformance.app.targets import lists_targets, run_from_config
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
    from conformance.reporters.ci_summary import publish, report_annotations, report_markdown

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
