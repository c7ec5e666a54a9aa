"""The report page's view model: plain data the template only has to lay out, computed by html.py and
batch_view.py from report.json."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Header:
    name: str
    value: str
    redacted: bool


@dataclass(frozen=True)
class Body:
    """A body as the page shows it: pretty JSON when it parses, otherwise the text with control characters made
    visible; folded when long."""

    text: str
    kind: str  # "json", "text", "empty" or "none"
    chars: int
    lines: int
    folded: bool
    truncated_by: int  # characters the suite left out of report.json (0: complete)


@dataclass(frozen=True)
class BatchRow:
    task_id: str  # as shown (JSON-quoted, shortened)
    full_id: str  # JSON-quoted, complete (tooltip)
    long_id: bool  # longer than a UUID: may break anywhere (a UUID breaks only at its hyphens)
    role: str  # in the run's plan: restartable, non-restartable, unknown, other; foreign if never requested; "" unknown
    order: int | None  # first position in the request, 1-based; None for foreign IDs
    requested: int
    answered: int
    results: list[str]
    error_codes: list[str]
    positions: list[int]  # indexes in the response's migration_tasks
    problems: list[tuple[str, str]]  # (css class, words)


@dataclass(frozen=True)
class BatchView:
    """The per-ID picture of one batch answer: each requested ID against what came back for it."""

    rows: list[BatchRow]
    requested: int
    distinct: int
    items: int
    missing: int
    foreign: int
    duplicated: int
    unexpected: int
    malformed: list[str]
    highlights: list[str]  # the structural problems (missing, foreign, duplicated IDs), spelled out

    @property
    def problem_count(self) -> int:
        return self.missing + self.foreign + self.duplicated + self.unexpected + len(self.malformed)


@dataclass(frozen=True)
class ExchangeView:
    anchor: str
    label: str
    seq: int | None
    explanation: str
    value: str | None  # an observation's value, when this exchange illustrates one
    has_exchange: bool
    method: str = ""
    url: str = ""
    request_headers: list[Header] = field(default_factory=list)
    request_body: Body | None = None
    status: int | None = None
    status_phrase: str = ""
    failure: str = ""  # why no complete answer arrived (timeout, reset, not HTTP, body over the cap)
    elapsed_ms: float | None = None
    response_headers: list[Header] = field(default_factory=list)
    response_body: Body | None = None
    curl: str = ""
    curl_notes: list[str] = field(default_factory=list)
    batch: BatchView | None = None
    #: The outcome the check expected for a task and the one the target answered (the finding's detail).
    outcome: tuple[str, str] | None = None


@dataclass(frozen=True)
class Source:
    cite: str
    quote: str


@dataclass(frozen=True)
class RequirementView:
    id: str
    anchor: str
    level: str
    title: str
    statement: str
    status: str
    reason: str
    checks: int
    violations: int
    sources: list[Source]
    evidence: list[ExchangeView]


@dataclass(frozen=True)
class ObservationView:
    id: str
    anchor: str
    title: str
    about: str
    seen: list[tuple[str, int]]
    evidence: list[ExchangeView]


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    mono: bool = False


@dataclass(frozen=True)
class FilterOption:
    value: str
    count: int
