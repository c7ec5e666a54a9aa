"""A run from start to files: claim the report directory, judge (engine.runner), turn the result into report.json's
dictionary and write every report file (json, junit, html, and the certification bundle with --certify).

The one module that knows both the run and the report: the engine below it returns a typed RunResult and never sees
a report, and the reporters below it read the finished report only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from conformance import __version__
from conformance.app.target import open_target
from conformance.config.credentials import Credentials
from conformance.config.settings import RunSettings, SettingsError
from conformance.contract import catalogue_sha256, spec_sha256
from conformance.engine.progress import Watch
from conformance.engine.runner import OpenRun, RunResult, exit_code, interruptible, judge
from conformance.judging.results import count_statuses
from conformance.report.certify import write_bundle
from conformance.report.model import REPORT_FORMAT, Report
from conformance.report.sanitize import scrub
from conformance.report.store import claim, default_report_dir, point_latest
from conformance.reporters import html, json_report, junit
from conformance.support.jsontext import dumps_strict, loads
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
) -> RunOutcome:
    """Judge the target and write report.json, junit.xml and index.html, whatever the target does and even when the
    run is interrupted: a signal during the writing is only noted, so the files are always written whole.
    ``command`` is the line that reproduces the run; ``watch``, ``opened``: see runner.judge."""
    say = progress or (lambda message: print(message, file=sys.stderr, flush=True))
    with interruptible() as signals:
        report_dir = settings.report_dir or default_report_dir()
        try:
            report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(f"cannot create the report directory {report_dir}: {exc.strerror}") from None
        claim(report_dir)
        result = judge(settings, say=say, signals=signals, open_target=open_target, watch=watch, opened=opened)
        report = build_report(result, command)
        write_reports(report, report_dir, certify=settings.certify, sign_key=settings.sign_key)
        if settings.report_dir is None:
            warning = point_latest(report_dir)
            if warning:
                say(f"warning: {warning}")
    interrupted = result.interrupted or (signals[0] if signals else None)
    return RunOutcome(report=report, report_dir=report_dir, exit_code=exit_code(result.verdict, interrupted))


def build_report(result: RunResult, command: str) -> Report:
    """report.json's dictionary for a finished run, redacted (sanitize.scrub) before any writer sees it."""
    settings, target = result.settings, result.target
    report: Report = {
        "report_format": REPORT_FORMAT,
        "verdict": str(result.verdict),
        "verdict_reason": result.verdict_reason,
        "diagnosis": result.diagnosis,
        "error": result.error,
        "suite_version": __version__,
        "spec_sha256": spec_sha256(),
        "catalogue_sha256": catalogue_sha256(),
        "seed": settings.seed,
        "target": {
            "base_url": target.base_url if not target.embedded else "embedded reference server",
            "project_id": target.project_id,
            "embedded": target.embedded,
            "fixtures": str(settings.fixtures) if settings.fixtures else ("seeded" if target.embedded else None),
            "auth": _auth_kind(target.credentials),
            "faults": list(settings.faults),
            "variants": list(settings.variants),
        },
        "transport": result.transport,
        "options": {
            "max_examples": settings.max_examples,
            "rate_limit": settings.rate_limit,
            "max_requests": settings.max_requests,
            "timeout": settings.timeout,
            "max_response_bytes": settings.max_response_bytes,
            "workers": settings.workers,
            "strict": settings.strict,
            "certify": settings.certify,
        },
        "command": command,
        "started_at": result.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": result.duration_s,
        "stats": result.stats,
        "counts": count_statuses(cast(list[dict[str, Any]], result.requirements)),
        "requirements": result.requirements,
        "observations": result.observations,
        "trace": result.trace,
    }
    return scrub(report, target.credentials, target.base_url)


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
        write_bundle(report, directory, sign_key)


def _auth_kind(credentials: Credentials) -> Literal["token", "aksk", "none"]:
    if credentials.token:
        return "token"
    if credentials.ak:
        return "aksk"
    return "none"
