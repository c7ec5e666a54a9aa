"""The one builder of report.json: a judged run (engine.runner.RunResult, read through JudgedRun) in, a typed,
redacted Report out.

The ledger hands out typed records (judging.results: RequirementResult, ObservationResult and the evidence they
keep); this module writes them in report.json's shape (report.model) field by field, so that the types hold from
the ledger to the file with no cast. The key order of every dictionary is report.json's order, which the golden
reports and two runs' comparison rely on. It reads the run through protocols: the engine sits above this layer,
and is never imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from conformance import __version__
from conformance.config.credentials import Credentials
from conformance.config.settings import RunSettings, run_options
from conformance.contract import catalogue_sha256, spec_sha256
from conformance.judging import results
from conformance.judging.results import (
    EvidenceRecord,
    ExchangeRecord,
    FirstMustFailure,
    ObservationResult,
    RequirementResult,
    Verdict,
    count_statuses,
)
from conformance.report.model import (
    REPORT_FORMAT,
    Evidence,
    FirstFailure,
    FixturePlan,
    Observation,
    Options,
    Report,
    Request,
    Requirement,
    Response,
    RunStats,
    Status,
)
from conformance.report.sanitize import scrub

#: A requirement's status as report.json spells it.
STATUSES: dict[results.Status, Status] = {
    results.Status.PASSED: "passed",
    results.Status.FAILED: "failed",
    results.Status.WARNING: "warning",
    results.Status.SKIPPED: "skipped",
    results.Status.ERROR: "error",
}


@dataclass(frozen=True)
class RunCounts:
    """What a run counted as it went (the client, the property-based phases, the ledger): report.json's stats."""

    requests: int
    unanswered: int
    throttled: int
    aimed_cases: int
    aimed_shrink_requests: int
    shrunk_reproducers: dict[str, int]
    generated_cases: int
    generated_by_phase: dict[str, int]
    generated_refused_by_guard: int
    first_must_failure: FirstMustFailure | None


class JudgedTarget(Protocol):
    """The target as judged (engine.runner.Target)."""

    @property
    def base_url(self) -> str: ...
    @property
    def project_id(self) -> str: ...
    @property
    def credentials(self) -> Credentials: ...
    @property
    def embedded(self) -> bool: ...


class SpentFixture(Protocol):
    """One restartable fixture as spent (engine.fixture_plan.Spent)."""

    @property
    def scenario(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def batch_size(self) -> int: ...


class SpentFixtures(Protocol):
    """How a run spent its fixtures (engine.fixture_plan.FixturePlan)."""

    @property
    def restartable(self) -> int: ...
    @property
    def not_restartable(self) -> int: ...
    @property
    def spent(self) -> Sequence[SpentFixture]: ...


class JudgedRun(Protocol):
    """What the builder reads of a finished run (engine.runner.RunResult)."""

    @property
    def settings(self) -> RunSettings: ...
    @property
    def target(self) -> JudgedTarget: ...
    @property
    def transport(self) -> dict[str, Any]: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def stats(self) -> RunCounts: ...
    @property
    def requirements(self) -> Sequence[RequirementResult]: ...
    @property
    def observations(self) -> Sequence[ObservationResult]: ...
    @property
    def trace(self) -> dict[str, Any]: ...
    @property
    def verdict(self) -> Verdict: ...
    @property
    def verdict_reason(self) -> str | None: ...
    @property
    def diagnosis(self) -> list[str]: ...
    @property
    def error(self) -> str | None: ...
    @property
    def fixture_plan(self) -> SpentFixtures | None: ...


def build_report(result: JudgedRun, command: str) -> Report:
    """report.json's dictionary for a finished run, redacted (sanitize.scrub) before any writer sees it; ``command``
    is the line that reproduces the run."""
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
        # The settings table decides the keys (config.settings.run_options); report.model.Options names their types,
        # and tests/unit/test_settings_table.py proves the two agree.
        "options": cast(Options, run_options(settings)),
        "command": command,
        "started_at": result.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": result.duration_s,
        "stats": run_stats(result.stats),
        "counts": count_statuses(result.requirements),
        "requirements": [requirement(item) for item in result.requirements],
        "observations": [observation(item) for item in result.observations],
        "trace": result.trace,
        "fixture_plan": fixture_plan(result.fixture_plan),
    }
    return scrub(report, target.credentials, target.base_url)


def run_stats(counts: RunCounts) -> RunStats:
    failure = counts.first_must_failure
    first: FirstFailure | None = (
        {"requirement": failure.requirement, "request": failure.request, "seconds": failure.seconds}
        if failure
        else None
    )
    return {
        "requests": counts.requests,
        "unanswered": counts.unanswered,
        "throttled": counts.throttled,
        "aimed_cases": counts.aimed_cases,
        "aimed_shrink_requests": counts.aimed_shrink_requests,
        "shrunk_reproducers": dict(counts.shrunk_reproducers),
        "generated_cases": counts.generated_cases,
        "generated_by_phase": dict(counts.generated_by_phase),
        "generated_refused_by_guard": counts.generated_refused_by_guard,
        "first_must_failure": first,
    }


def fixture_plan(plan: SpentFixtures | None) -> FixturePlan | None:
    if plan is None:
        return None
    return {
        "restartable": plan.restartable,
        "not_restartable": plan.not_restartable,
        "spent": [
            {"scenario": item.scenario, "label": item.label, "index": item.index, "batch_size": item.batch_size}
            for item in plan.spent
        ],
    }


def requirement(result: RequirementResult) -> Requirement:
    return {
        "id": result.id,
        "level": result.level,
        "title": result.title,
        "statement": result.statement,
        "needs": list(result.needs),
        "sources": [{"cite": source.cite(), "quote": source.quote} for source in result.sources],
        "status": STATUSES[result.status],
        "reason": result.reason,
        "checks": result.checks,
        "violations": result.violations,
        "evidence": [evidence(item) for item in result.evidence],
    }


def observation(result: ObservationResult) -> Observation:
    return {
        "id": result.id,
        "title": result.title,
        "about": result.about,
        "seen": [{"value": seen.value, "count": seen.count} for seen in result.seen],
        "evidence": [evidence(item) for item in result.evidence],
    }


def evidence(record: EvidenceRecord) -> Evidence:
    """One piece of evidence: an observation's value first, then the exchange, the explanation, the check's detail
    (when it structured one), the role of each task the request named, and whether the shrinker found it."""
    entry: Evidence = {}
    if record.value is not None:
        entry["value"] = record.value
    if record.exchange is not None:
        entry["label"] = record.exchange.label
        entry["seq"] = record.exchange.seq
        entry["request"] = request(record.exchange)
        entry["response"] = response(record.exchange)
    entry["explanation"] = record.explanation
    if record.detail:
        entry["detail"] = record.detail.copy()
    if record.roles:
        entry["roles"] = dict(record.roles)
    if record.shrunk:
        entry["shrunk"] = True
    return entry


def request(exchange: ExchangeRecord) -> Request:
    sent: Request = {
        "method": exchange.method,
        "url": exchange.url,
        "headers": dict(exchange.request_headers),
        "body": exchange.request_body.text,
    }
    if exchange.request_body.folded_chars:
        sent["body_truncated_chars"] = exchange.request_body.folded_chars
    return sent


def response(exchange: ExchangeRecord) -> Response:
    body, folded = exchange.response_body.text, exchange.response_body.folded_chars
    answer: Response = (
        {
            "status": exchange.status,
            "headers": dict(exchange.response_headers),
            "body": body,
            "body_truncated_chars": folded,
            "elapsed_ms": exchange.elapsed_ms,
        }
        if folded
        else {
            "status": exchange.status,
            "headers": dict(exchange.response_headers),
            "body": body,
            "elapsed_ms": exchange.elapsed_ms,
        }
    )
    if exchange.failure:
        answer["failure"] = exchange.failure
    return answer


def _auth_kind(credentials: Credentials) -> Literal["token", "aksk", "none"]:
    if credentials.token:
        return "token"
    if credentials.ak:
        return "aksk"
    return "none"
