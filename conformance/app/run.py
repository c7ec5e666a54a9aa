"""A run from start to files: claim the report directory, judge (engine.runner), build report.json's dictionary
(report.build) and write every report file (json, junit, html, and the certification bundle with --certify).

The engine below it returns a typed RunResult and never sees a report; report.build turns it into one; the
reporters below it read the finished report only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from conformance.app.target import open_target
from conformance.config.settings import RunSettings, SettingsError
from conformance.engine.progress import Watch
from conformance.engine.runner import OpenRun, TargetOpener, exit_code, interruptible, judge
from conformance.report.build import build_report
from conformance.report.model import Report
from conformance.report.store import claim, default_report_dir, point_latest
from conformance.reporters import html, json_report, junit
from conformance.support.jsontext import dumps_strict, loads

if TYPE_CHECKING:
    from conformance.engine.phases.st_draw import CaseDrawing
    from conformance.support.sshsig import SigningKey


@dataclass
class RunOutcome:
    report: Report
    report_dir: Path
    exit_code: int


def execute(
    settings: RunSettings,
    *,
    command: str = "",
    progress: Callable[[str], None] | None = None,
    watch: Watch | None = None,
    opened: OpenRun | None = None,
    target: TargetOpener = open_target,
    cases: CaseDrawing | None = None,
) -> RunOutcome:
    """Judge the target and write report.json, junit.xml and index.html, whatever the target does and even when the
    run is interrupted: a signal during the writing is only noted, so the files are always written whole.
    ``command`` is the line that reproduces the run; ``watch``, ``opened``: see runner.judge; ``target`` opens
    the target (app.target.open_target, maybe with a reference process started early); ``cases``: see runner.judge."""
    say = progress or (lambda message: print(message, file=sys.stderr, flush=True))
    with interruptible() as signals:
        report_dir = settings.report_dir or default_report_dir()
        try:
            report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(f"cannot create the report directory {report_dir}: {exc.strerror}") from None
        claim(report_dir)
        result = judge(settings, say=say, signals=signals, open_target=target, watch=watch, opened=opened, cases=cases)
        report = build_report(result, command)
        write_reports(report, report_dir, certify=settings.certify, sign_key=settings.sign_key)
        if settings.report_dir is None:
            warning = point_latest(report_dir)
            if warning:
                say(f"warning: {warning}")
    interrupted = result.interrupted or (signals[0] if signals else None)
    return RunOutcome(report=report, report_dir=report_dir, exit_code=exit_code(result.verdict, interrupted))


def write_reports(report: Report, directory: Path, *, certify: bool, sign_key: SigningKey | None = None) -> None:
    """report.json, junit.xml and index.html; then badge.svg and SHA256SUMS over them for a certification, signed
    (SHA256SUMS.sig) with ``sign_key``. A certification's page, junit.xml and badge are rendered from report.json
    as written, read back, so that ``verify`` rendering them again from the file gets them byte for byte."""
    json_report.write(report, directory)
    if certify:
        report = cast(Report, loads(dumps_strict(report)))
    junit.write(report, directory)
    html.write(report, directory)
    if certify:
        # Only a certification loads the bundle's code, and with it the cryptography library.
        from conformance.report.certify import write_bundle

        write_bundle(report, directory, sign_key)
