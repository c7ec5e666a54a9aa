"""What the terminal shows when a run ends: the diagnosis, one line per judged requirement (the skipped ones on one
line), the counts, the run's figures, a recap of what failed and where to look, and the verdict; read from the
finished report (report.model.Report) alone."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from conformance.app.console import Style, shorten_values
from conformance.report.model import Report, Requirement
from conformance.reporters.html_text import anchor, beyond_diagnosis
from conformance.support.terminal import one_line

#: Up to this many skipped requirements are named on their line; more are only counted (the report lists them).
SKIPPED_NAMED = 6
STATUS_MARK = {"passed": "PASS", "failed": "FAIL", "warning": "WARN", "skipped": "SKIP", "error": "ERR "}


def requirement_line(item: Requirement) -> str:
    """``ID LEVEL title``, and for a requirement that did not pass, why, with its first piece of evidence."""
    line = f"{item['id']} {item['level']:<6} {one_line(item['title'])}"
    if item["status"] != "passed":
        line += f"  -- {one_line(item['reason'])}"
        if item["evidence"]:
            line += f": {one_line(item['evidence'][0].get('explanation', ''))}"
    return shorten_values(line)


def skipped_line(skipped: list[Requirement]) -> str:
    """The skipped requirements on one line: how many, which, and each reason once with its count (a run against
    an unreachable target would otherwise bury its one useful line among two dozen SKIP lines)."""
    reasons = Counter(one_line(item["reason"]) for item in skipped)
    why = "; ".join(f"{reason} ({count})" if count > 1 else reason for reason, count in reasons.most_common())
    ids = ": " + ", ".join(item["id"] for item in skipped) if len(skipped) <= SKIPPED_NAMED else ""
    return shorten_values(f"{len(skipped)} requirement(s) not exercised{ids} -- {why}")


def print_summary(report: Report) -> None:
    """One line per requirement that was judged (why, for those that did not pass), the skipped ones on one line,
    the counts table and the run's figures."""
    style = Style.for_stream(sys.stdout)
    skipped = [item for item in report["requirements"] if item["status"] == "skipped"]
    for item in report["requirements"]:
        if item["status"] != "skipped":
            print(style.status(item["status"], STATUS_MARK[item["status"]]) + " " + requirement_line(item))
    if skipped:
        print(style.status("skipped", STATUS_MARK["skipped"]) + " " + skipped_line(skipped))
    counts = report["counts"]
    stats = report["stats"]
    print()
    print(f"{'requirements':<14}{'passed':>8}{'failed':>8}{'warning':>9}{'skipped':>9}{'error':>7}")
    print(
        f"{counts['total']:<14}{counts['passed']:>8}{counts['failed']:>8}{counts['warning']:>9}"
        f"{counts['skipped']:>9}{counts['error']:>7}"
    )
    unanswered = f", {stats['unanswered']} without a complete answer" if stats.get("unanswered") else ""
    throttled = f", {stats['throttled']} throttled" if stats.get("throttled") else ""
    print(
        f"{stats['requests']} requests{unanswered}{throttled}, {stats['generated_cases']} generated cases, "
        f"{report['duration_s']:.1f} s, seed {report['seed']}"
    )


def print_recap(report: Report, report_dir: Path) -> None:
    """What needs looking at, last, as pytest ends with its short summary: every failed requirement, then every
    warning, each with its first reason and where the report page shows its evidence."""
    style = Style.for_stream(sys.stdout)
    page = report_dir / "index.html"
    for status, heading in (("failed", "failed"), ("error", "could not be judged"), ("warning", "warnings")):
        items = [item for item in report["requirements"] if item["status"] == status]
        if not items:
            continue
        print()
        print(style.status(status, f"{heading} ({len(items)}):"))
        for item in items:
            print(f"  {requirement_line(item)}")
            print(f"    see {page}#{anchor('req', item['id'])}")


def print_run_end(report: Report, report_dir: Path, *, quiet: bool, warn: Callable[[str], str]) -> None:
    """Everything a run prints once its reports are written: the diagnosis, the summary (unless quiet), the error
    or the verdict's reason, the transport warning (styled by ``warn``), and the verdict line with the reports."""
    for message in report.get("diagnosis") or []:
        print(shorten_values(f"diagnosis: {one_line(message)}"))
    if not quiet:
        print_summary(report)
    print_recap(report, report_dir)
    error, diagnosis = report.get("error"), [str(message) for message in report.get("diagnosis") or []]
    # An incomplete run's reason begins with its diagnosis, printed on its own above: only what the reason adds.
    reason = beyond_diagnosis(str(report.get("verdict_reason") or ""), diagnosis)
    if error:
        print(shorten_values(f"dcs-conformance run: {one_line(error)}"), file=sys.stderr)
    elif reason and reason not in diagnosis:
        print(shorten_values(f"{report['verdict']}: {one_line(reason)}"))
    warning = (report.get("transport") or {}).get("warning")
    if warning:
        print(warn(f"WARNING: {warning}"), file=sys.stderr)
    verdict = Style.for_stream(sys.stdout).verdict(report["verdict"], report["verdict"])
    print(f"verdict: {verdict}  (reports: {report_dir})")
