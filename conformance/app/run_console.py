"""What the terminal shows when a run ends: one line per requirement, the counts, the run's figures, the diagnosis
and the verdict; read from the finished report (report.model.Report) alone."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from conformance.app.console import Style, shorten_values
from conformance.report.model import Report
from conformance.support.terminal import one_line

STATUS_MARK = {"passed": "PASS", "failed": "FAIL", "warning": "WARN", "skipped": "SKIP", "error": "ERR "}


def print_summary(report: Report) -> None:
    """One line per requirement (why, for those that did not pass), the counts table and the run's figures."""
    style = Style.for_stream(sys.stdout)
    for item in report["requirements"]:
        line = f"{item['id']} {item['level']:<6} {one_line(item['title'])}"
        if item["status"] != "passed":
            line += f"  -- {one_line(item['reason'])}"
            if item["evidence"]:
                line += f": {one_line(item['evidence'][0].get('explanation', ''))}"
        print(style.status(item["status"], STATUS_MARK[item["status"]]) + " " + shorten_values(line))
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


def print_run_end(report: Report, report_dir: Path, *, quiet: bool, warn: Callable[[str], str]) -> None:
    """Everything a run prints once its reports are written: the diagnosis, the summary (unless quiet), the error
    or the verdict's reason, the transport warning (styled by ``warn``), and the verdict line with the reports."""
    for message in report.get("diagnosis") or []:
        print(shorten_values(f"diagnosis: {one_line(message)}"))
    if not quiet:
        print_summary(report)
    error, reason = report.get("error"), report.get("verdict_reason")
    if error:
        print(shorten_values(f"dcs-conformance run: {one_line(error)}"), file=sys.stderr)
    elif reason:
        print(shorten_values(f"{report['verdict']}: {one_line(reason)}"))
    warning = (report.get("transport") or {}).get("warning")
    if warning:
        print(warn(f"WARNING: {warning}"), file=sys.stderr)
    verdict = Style.for_stream(sys.stdout).verdict(report["verdict"], report["verdict"])
    print(f"verdict: {verdict}  (reports: {report_dir})")
