"""``dcs-conformance summarize DIR...``: the overview of report directories produced elsewhere.

A CI matrix judges each region in its own job and uploads its report directory; a last job downloads them all and
summarizes them into the same overview (index.html and summary.json) that ``run --config`` writes for the targets
it judges itself. Nothing is re-run: the reports are the only input.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from conformance.cli.args import OneLineParser


def add_summarize_parser(commands: argparse._SubParsersAction[OneLineParser]) -> None:
    summarize = commands.add_parser(
        "summarize",
        help="build the overview of many report directories",
        description=(
            "Build the overview (index.html and summary.json: targets x requirements) of report directories that "
            "runs wrote elsewhere, e.g. the jobs of a CI matrix; each target is named after its directory. Exit "
            "code: the worst of the targets' (interrupted > 3 error > 1 non-conformant > 4 incomplete > 0)."
        ),
    )
    summarize.add_argument("directories", nargs="+", type=Path, metavar="DIR", help="a directory holding report.json")
    summarize.add_argument(
        "--out", type=Path, metavar="DIR", help="where the overview goes (default: reports/overview-<UTC timestamp>/)"
    )
    summarize.add_argument("--summary-md", type=Path, metavar="FILE", help="also write the markdown summary to FILE")
    summarize.set_defaults(handler=cmd_summarize)


def cmd_summarize(args: argparse.Namespace) -> int:
    from conformance.cli.args import UsageError
    from conformance.report.store import REPORT_FILE
    from conformance.reporters import overview
    from conformance.reporters.ci_summary import overview_markdown, publish, report_annotations, unwritable
    from conformance.support.files import refuse_links
    from conformance.support.terminal import one_line

    out = args.out or Path("reports") / f"overview-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    problem = unwritable(args.summary_md) if args.summary_md else None
    if problem:
        raise UsageError(f"--summary-md {args.summary_md}: {problem}")
    try:
        reports = overview.read_report_dirs(args.directories)
    except overview.OverviewError as exc:
        raise UsageError(str(exc)) from None
    if (out / REPORT_FILE).exists() or any(out.resolve() == t.directory.resolve() for t in reports):
        raise UsageError(f"{out} is a report directory: give --out a directory of its own for the overview")
    summary = overview.build(reports, out)
    try:
        refuse_links(out, [overview.SUMMARY_FILE, overview.INDEX_FILE])
        overview.write(summary, out)
    except OSError as exc:
        raise UsageError(f"cannot write the overview to {exc.filename or out}: {exc.strerror or exc}") from None
    for line in overview.text_lines(summary):
        print(line)
    annotations = [line for t in reports if t.report for line in report_annotations(t.report, t.name)]
    try:
        problems = publish(overview_markdown(summary, str(out)), annotations, summary_md=args.summary_md)
    except OSError as exc:
        raise UsageError(f"cannot write --summary-md {args.summary_md}: {exc.strerror or exc}") from None
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    verdict = one_line(summary["verdict"])  # the worst of the reports' own verdicts: any string a report holds
    print(f"verdict: {verdict}  ({len(reports)} targets; overview: {out / overview.INDEX_FILE})")
    return int(summary["exit_code"])
