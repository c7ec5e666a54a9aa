"""``dcs-conformance report``, ``verify`` and ``compare``: commands that read report directories a run wrote and
never send a request."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance import __version__
from conformance.cli.args import UsageError
from conformance.report.model import Report
from conformance.support.files import refuse_links
from conformance.support.terminal import one_line


def _load_report(path: Path, *, or_file: bool = False, loosely: bool = False) -> Report:
    """The report in ``path`` as report.store.load_report reads it; a usage error otherwise."""
    from conformance.report.store import ReportError, load_report

    try:
        return load_report(path, or_file=or_file, loosely=loosely)
    except ReportError as exc:
        raise UsageError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    from conformance.report.certify import SUMS_FILE
    from conformance.reporters import html

    directory = args.directory
    report = _load_report(directory)
    try:
        refuse_links(directory, [html.FILENAME])
        path = html.write(report, directory)
    except OSError as exc:
        raise UsageError(f"cannot write {directory / html.FILENAME}: {exc.strerror or exc}") from None
    print(f"wrote {path}")
    if (directory / SUMS_FILE).is_file():
        print(f"note: {SUMS_FILE} was written by the certified run; verify will flag a re-rendered index.html")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from conformance.report.certify import links_in, verify

    # Before anything is read: a link would have us hash (or parse) a file outside the certificate.
    problems = links_in(args.directory)
    if not problems:
        _load_report(args.directory)
        problems = verify(args.directory)
    if problems:
        for problem in problems:
            print(f"INVALID: {one_line(problem)}")
        return 1
    print(f"valid: {args.directory} is a conformant, untampered certificate for dcs-conformance {__version__}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from conformance.report.compare import compare, should_fail
    from conformance.report.store import report_file
    from conformance.reporters import compare_html, compare_json, compare_text

    # Reports of other runs, perhaps of another suite version: read by their keys.
    base = _load_report(args.base, or_file=True, loosely=True)
    candidate = _load_report(args.candidate, or_file=True, loosely=True)
    base_file, candidate_file = report_file(args.base), report_file(args.candidate)
    try:
        comparison = compare(base, candidate, base_name=str(base_file), candidate_name=str(candidate_file))
    except (KeyError, TypeError, AttributeError) as exc:  # a hand-edited report that passed the shape check
        problem = f"{type(exc).__name__}: {exc}"
        raise UsageError(f"{base_file} or {candidate_file} is not a well-formed report ({problem})") from None
    try:
        refuse_links(args.out, [compare_json.FILENAME, compare_html.FILENAME])
        written = [compare_json.write(comparison, args.out), compare_html.write(comparison, args.out)]
    except OSError as exc:
        raise UsageError(f"cannot write to {exc.filename or args.out}: {exc.strerror or exc}") from None
    print(compare_text.render(comparison))
    print(f"wrote {written[0]} and {written[1]}")
    return 1 if should_fail(comparison, args.fail_on) else 0
