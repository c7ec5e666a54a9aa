"""The shape of report.json, as types: what ``report.build`` builds (and ``app.run`` writes) and every reader (the
reporters, ``report``, ``verify``, the console summary, the CI summaries) may rely on.

TypedDicts rather than classes, because the report is JSON first: it is written once, read back from disk by later
commands, compared across versions, and hand-edited reports must still be readable. ``total=False`` marks the parts a
reader must not take for granted (fields added after the first release, or absent from a hand-made report);
``report.store.load_report`` checks a report read from disk against the schema of the required parts.

One type is the judging layer's own: ``Detail``, what a check already knew when it found a violation
(judging.results.Detail), which report.json carries as the finding made it.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from conformance.judging.results import Detail as Detail

#: Bumped when a field changes meaning or disappears; new optional fields keep the format.
REPORT_FORMAT = 1

Status = Literal["passed", "failed", "warning", "skipped", "error"]


class Request(TypedDict):
    method: str
    url: str
    headers: dict[str, str]
    #: Decoded as UTF-8 (errors replaced), and cut after results.MAX_BODY_CHARS characters with a note appended.
    body: str | None
    #: Characters of the body left out of ``body`` (present only when it was cut).
    body_truncated_chars: NotRequired[int]


class Response(TypedDict):
    status: int | None
    headers: dict[str, str]
    body: str | None
    elapsed_ms: float
    body_truncated_chars: NotRequired[int]
    #: Why no complete answer arrived (timeout, reset, not HTTP, body over the cap).
    failure: NotRequired[str]


class Evidence(TypedDict, total=False):
    """One exchange as evidence (or only an explanation, when no exchange was involved)."""

    label: str
    seq: int
    request: Request
    response: Response
    explanation: str
    detail: Detail
    #: Each task ID the request named and its role in the run: restartable, non-restartable, unknown (minted by the
    #: run), other (any other string).
    roles: dict[str, str]
    #: The smallest failing request the shrinker found.
    shrunk: bool
    #: An observation's value, when the exchange illustrates one.
    value: str


class Source(TypedDict):
    cite: str
    quote: str


class Requirement(TypedDict):
    id: str
    level: str
    title: str
    statement: str
    needs: list[str]
    sources: list[Source]
    status: Status
    reason: str
    checks: int
    violations: int
    evidence: list[Evidence]


class SeenValue(TypedDict):
    value: str
    count: int


class Observation(TypedDict):
    id: str
    title: str
    about: str
    seen: list[SeenValue]
    evidence: list[Evidence]


class Target(TypedDict):
    base_url: str
    project_id: str
    embedded: bool
    fixtures: str | None
    auth: Literal["token", "aksk", "none"]
    faults: list[str]
    variants: list[str]


class Options(TypedDict):
    max_examples: int
    rate_limit: float | None
    max_requests: int | None
    timeout: float
    max_response_bytes: int
    workers: int
    strict: bool
    certify: bool


class FirstFailure(TypedDict):
    requirement: str
    request: int
    seconds: float


class RunStats(TypedDict):
    requests: int
    unanswered: int
    throttled: int
    aimed_cases: int
    aimed_shrink_requests: int
    shrunk_reproducers: dict[str, Any]
    generated_cases: int
    generated_by_phase: dict[str, int]
    generated_refused_by_guard: int
    first_must_failure: FirstFailure | None


class SpentTask(TypedDict):
    """One restartable fixture as spent: the scenario and batch, its index there (as in $.migration_tasks[i]) and
    the batch's size."""

    scenario: str
    label: str
    index: int
    batch_size: int


class FixturePlan(TypedDict):
    """How the run spent its fixtures (engine/fixture_plan.py): each restartable task restarts once per run."""

    restartable: int
    not_restartable: int
    spent: list[SpentTask]


#: Requirements per status (passed, failed, warning, skipped, error) and their total (results.count_statuses).
Counts = dict[str, int]


class Report(TypedDict):
    #: Absent from reports written before the format was numbered; they read as format 1.
    report_format: NotRequired[int]
    verdict: str
    verdict_reason: str | None
    diagnosis: list[str]
    error: str | None
    suite_version: str
    spec_sha256: str
    catalogue_sha256: str
    seed: int
    target: Target
    #: TLS and proxy as used (conformance.wire.tls.describe).
    transport: dict[str, Any]
    options: Options
    command: str
    started_at: str
    duration_s: float
    stats: RunStats
    counts: Counts
    requirements: list[Requirement]
    observations: list[Observation]
    #: The scenario trace (conformance.judging.trace), with its own format number.
    trace: dict[str, Any]
    #: Absent from reports written before it was added; null for a run without fixtures.
    fixture_plan: NotRequired[FixturePlan | None]
