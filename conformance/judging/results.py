"""The run's data model: exchanges (evidence), findings (what checks concluded), and the ledger that turns them
into one status per requirement and a verdict.

Checks produce findings; the ledger collects them and hands out typed records (RequirementResult,
ObservationResult, with the evidence they keep); report.build turns those into report.json, and reporters read only
the finished report.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol, TypedDict, TypeVar, cast

from conformance.contract import Catalogue, Source
from conformance.support import jsontext

MAX_BODY_CHARS = 16 * 1024
EVIDENCE_PER_REQUIREMENT = 3
MAX_OBSERVATION_EVIDENCE = 8
#: How many exchanges of the run hold what was parsed from their bodies at once: the one each lane (scenarios,
#: property phases) is judging, and the earlier one a metamorphic check compares it with. A parsed answer costs
#: several times its bytes (50,000 items: 4.7 MB of JSON, about 30 MB parsed and indexed).
PARSED_EXCHANGES = 3


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"
    ERROR = "error"


class Verdict(StrEnum):
    CONFORMANT = "conformant"
    WITH_WARNINGS = "conformant-with-warnings"
    NON_CONFORMANT = "non-conformant"
    INCOMPLETE = "incomplete"
    ERROR = "error"


NOT_JSON = object()
#: A body that is valid JSON nested deeper than the suite parses (jsontext.MAX_DEPTH): never "not JSON", and nothing
#: can be judged of its content (checks say so with ``Rule.unjudged``).
TOO_DEEP = object()
#: The observation that records such bodies, wherever they came from.
TOO_DEEP_OBSERVATION = "OBS-016"
T = TypeVar("T")


@dataclass(frozen=True)
class KeptBody:
    """A body as evidence keeps it: decoded as UTF-8 (errors replaced), folded past MAX_BODY_CHARS with a note
    appended; how much was folded is data for the reporters too."""

    text: str | None
    #: Characters left out of ``text`` (0: the body is whole).
    folded_chars: int = 0


def keep_body(body: bytes | None) -> KeptBody:
    if body is None:
        return KeptBody(None)
    text = body.decode("utf-8", errors="replace")
    left_out = len(text) - MAX_BODY_CHARS
    if left_out <= 0:
        return KeptBody(text)
    return KeptBody(text[:MAX_BODY_CHARS] + f"... [{left_out} more characters folded]", left_out)


@dataclass(frozen=True)
class ExchangeRecord:
    """An exchange as evidence keeps it, once recorded: bodies kept (folded), headers as the client redacted them."""

    label: str
    seq: int
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: KeptBody
    #: None when no complete answer arrived.
    status: int | None
    response_headers: dict[str, str]
    response_body: KeptBody
    elapsed_ms: float
    failure: str | None


@dataclass
class Exchange:
    """One request and its response, as sent and received; headers are already redacted by the client."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    elapsed_ms: float = 0.0
    label: str = ""
    seq: int = 0
    at_s: float = 0.0
    #: Why no complete answer arrived (timeout, reset, not HTTP, body over the cap); None for a complete answer.
    failure: str | None = None
    #: Answered 429/503 on every attempt: the target never processed the request, so nothing may be judged on it.
    throttled: bool = False
    #: A failure on a reused keep-alive connection that was followed by one resend on a fresh connection: only an
    #: observation (OBS-013), since a request written into a connection the target had just closed is never read,
    #: and the client cannot tell it from one the target read and dropped (RFC 9112 §9.3.1). The resend is judged.
    earlier_failure: str | None = None
    #: What ``derived`` has computed so far; never evidence.
    _derived: dict[Callable[[Exchange], Any], Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        """A complete HTTP response arrived within the run's limits."""
        return self.failure is None

    @property
    def judgeable(self) -> bool:
        """The target processed the request and answered it completely: its answer is evidence."""
        return self.failure is None and not self.throttled

    @cached_property
    def response_json(self) -> Any:
        """The parsed response body (strict JSON, RFC 8259), NOT_JSON, or TOO_DEEP (see body_problem)."""
        return self._parsed[0]

    @property
    def body_problem(self) -> str:
        """Why response_json is NOT_JSON or TOO_DEEP ("NaN is not a JSON value...", "...nested 2000 levels deep..."),
        or "" when the body parsed."""
        return self._parsed[1]

    @cached_property
    def _parsed(self) -> tuple[Any, str]:
        _PARSED.hold(self)
        try:
            return jsontext.loads(self.response_body), ""
        except jsontext.TooDeep as exc:
            return TOO_DEEP, str(exc)
        except (ValueError, RecursionError) as exc:
            return NOT_JSON, str(exc) or type(exc).__name__

    def forget_views(self) -> None:
        """Drop what was parsed and derived from the body (computed again if asked): an exchange that waits to be
        recorded (engine.overlap) then holds its bytes only, not the objects parsed from them."""
        self.__dict__.pop("response_json", None)
        self.__dict__.pop("_parsed", None)
        self._derived.clear()

    def derived(self, compute: Callable[[Exchange], T]) -> T:
        """``compute(self)``, computed once however many checks ask: an exchange is never changed once recorded,
        and the checks of one answer read the same views of its body (the batch checks, its result items)."""
        try:
            return cast(T, self._derived[compute])
        except KeyError:
            value = self._derived[compute] = compute(self)
            _PARSED.hold(self)
            return value

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.response_headers.items():
            if key.lower() == lowered:
                return value
        return None

    def record(self) -> ExchangeRecord:
        """What evidence keeps of this exchange."""
        return ExchangeRecord(
            label=self.label,
            seq=self.seq,
            method=self.method,
            url=self.url,
            request_headers=dict(self.request_headers),
            request_body=keep_body(self.request_body),
            status=self.status or None,
            response_headers=dict(self.response_headers),
            response_body=keep_body(self.response_body),
            elapsed_ms=round(self.elapsed_ms, 1),
            failure=self.failure or None,
        )


class _ParsedViews:
    """The exchanges that hold their parsed views (``response_json``, ``derived``), run-wide and across threads: at
    most ``limit``; the one that parsed longest ago forgets them when one more parses (and parses again if asked).

    Whoever keeps an exchange (a scenario its answers until it is done, the shrinker its smallest failure, a
    deferred ledger what waits) then keeps its bytes only (--max-response-bytes at most), not the several times
    that in parsed objects. Held by weak reference: being held here keeps no exchange alive."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: OrderedDict[int, weakref.ref[Exchange]] = OrderedDict()
        self._lock = threading.Lock()

    def hold(self, exchange: Exchange) -> None:
        with self._lock:
            self._held[id(exchange)] = weakref.ref(exchange)
            self._held.move_to_end(id(exchange))
            evicted = [self._held.popitem(last=False)[1]() for _ in range(len(self._held) - self.limit)]
        for old in evicted:
            if old is not None and old is not exchange:
                old.forget_views()


_PARSED = _ParsedViews(PARSED_EXCHANGES)


class Detail(TypedDict, total=False):
    """What a check already knew when it found a violation, so that views need not work it out again; report.json
    carries it as it is (report.model.Detail)."""

    missing: list[str]
    foreign: list[str]
    repeated: list[str]
    expected: str
    actual: str
    #: The one task an outcome finding is about, and its role in the run (restartable, non-restartable, unknown):
    #: the per-ID view marks its row.
    task: str
    role: str
    #: How many IDs the ``missing``, ``foreign`` or ``repeated`` list leaves out (checks.batch.MAX_DETAIL_IDS): the
    #: message gives the whole count.
    left_out: dict[str, int]


@dataclass(frozen=True)
class Finding:
    """A check's conclusion about one requirement on one exchange: held (ok) or violated, and why."""

    requirement: str
    ok: bool
    message: str = ""
    #: What the message says, as data for views: ``missing``, ``foreign``, ``repeated`` (task IDs), ``expected``
    #: and ``actual`` (an outcome such as "success" or "failed"). Empty when there is nothing to structure.
    detail: Detail = field(default_factory=lambda: Detail(), hash=False)
    #: The check could not judge the requirement on this answer (``message`` says why): neither held nor violated,
    #: it counts as no check, and its message is the skip reason if nothing else judged the requirement.
    unjudged: bool = False


@dataclass(frozen=True)
class Seen:
    """An undocumented behaviour, recorded without judgement."""

    observation: str
    value: str


@dataclass(frozen=True)
class EvidenceRecord:
    """One piece of evidence: an exchange (or, when none was involved, only an explanation) and what the check
    said about it."""

    exchange: ExchangeRecord | None
    explanation: str = ""
    detail: Detail = field(default_factory=lambda: Detail())
    #: The smallest failing request the shrinker found.
    shrunk: bool = False
    #: An observation's value, when the exchange illustrates one.
    value: str | None = None
    #: The role in the run of each task ID the request named (restartable, non-restartable, unknown, other), from
    #: the run's plan: its fixtures and the IDs it minted (see Ledger.know_roles).
    roles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FirstMustFailure:
    """The first violation of a MUST requirement: which, at which request, how far into the run."""

    requirement: str
    request: int
    seconds: float


@dataclass(frozen=True)
class RequirementResult:
    """What the run concluded about one catalogue requirement."""

    id: str
    level: str
    title: str
    statement: str
    #: What the user could provide to exercise it (the catalogue's needs, and a skip's).
    needs: list[str]
    sources: tuple[Source, ...]
    status: Status
    reason: str
    checks: int
    violations: int
    evidence: list[EvidenceRecord]


@dataclass(frozen=True)
class SeenCount:
    value: str
    count: int


@dataclass(frozen=True)
class ObservationResult:
    """What the run saw of one undocumented behaviour: each value, most frequent first, and a few exchanges."""

    id: str
    title: str
    about: str
    seen: list[SeenCount]
    evidence: list[EvidenceRecord]


@dataclass
class _RequirementTally:
    checked: int = 0
    violations: int = 0
    evidence: list[EvidenceRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _ObservationTally:
    values: Counter[str] = field(default_factory=Counter)
    evidence: list[EvidenceRecord] = field(default_factory=list)


class Judgements(Protocol):
    """What a property-based phase does with the run's ledger: it only adds to it. The phases take this rather than
    the Ledger, so that what they judge can wait its turn (see engine.overlap) while the scenarios run."""

    def record(self, results: Sequence[Finding | Seen], exchange: Exchange | None = None) -> None: ...

    def valid_request_answered(self, exchange: Exchange) -> None: ...

    def lead(self, finding: Finding, exchange: Exchange) -> None: ...


class Ledger:
    """Collects findings for the whole run; keeps a few pieces of evidence per requirement, counts the rest."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._requirements = {req.id: _RequirementTally() for req in catalogue.requirements}
        self._observations = {obs.id: _ObservationTally() for obs in catalogue.observations}
        self.skip_reasons: dict[str, str] = {}
        self.skip_needs: dict[str, tuple[str, ...]] = {}
        self.valid_answers: Counter[str] = Counter()
        self.first_failure: FirstMustFailure | None = None
        self._must = {req.id for req in catalogue.requirements if req.level == "MUST"}
        self._watchers: list[Callable[[Exchange], None]] = []
        self._noted: set[int] = set()
        self._role_of: Callable[[str], str] | None = None

    def know_roles(self, role_of: Callable[[str], str]) -> None:
        """Name the role of every task ID a request of the evidence kept from now on names (judging.trace's
        role_function): the per-ID view of the report shows it for each row, which the IDs alone cannot say."""
        self._role_of = role_of

    def watch(self, watcher: Callable[[Exchange], None]) -> None:
        """Show every recorded exchange to ``watcher`` too (the scenario trace): every exchange of a run passes
        through here, so nothing has to be captured at the send sites. Each exchange is shown once, however many
        batches of findings are recorded on it."""
        self._watchers.append(watcher)

    def record(self, results: Sequence[Finding | Seen], exchange: Exchange | None = None) -> None:
        if exchange is not None and self._first_time(exchange):
            # What belongs to the exchange itself, not to a check's findings, is noted once.
            for watcher in self._watchers:
                watcher(exchange)
            if exchange.earlier_failure:
                self._observe(Seen("OBS-013", exchange.earlier_failure), exchange)
            if exchange.throttled:
                self._observe(
                    Seen("OBS-012", f"status {exchange.status}: still throttled after every resend"), exchange
                )
            elif exchange.complete and exchange.response_json is TOO_DEEP:
                self._observe(
                    Seen(TOO_DEEP_OBSERVATION, f"status {exchange.status}: {exchange.body_problem}"), exchange
                )
        if exchange is not None and exchange.throttled:
            return  # the target never processed the request: what the checks concluded about it is not evidence
        for item in results:
            if isinstance(item, Seen):
                self._observe(item, exchange)
                continue
            if item.unjudged:
                self.skip(item.requirement, f"not judged: {item.message}")
                continue
            tally = self._requirements[item.requirement]
            tally.checked += 1
            if not item.ok:
                if self.first_failure is None and item.requirement in self._must and exchange is not None:
                    self.first_failure = FirstMustFailure(item.requirement, exchange.seq, exchange.at_s)
                tally.violations += 1
                if len(tally.evidence) < EVIDENCE_PER_REQUIREMENT:
                    tally.evidence.append(self._evidence(item, exchange))

    def _first_time(self, exchange: Exchange) -> bool:
        """Whether the run records this exchange for the first time (by ``seq``; one without a number always is)."""
        if not exchange.seq:
            return True
        if exchange.seq in self._noted:
            return False
        self._noted.add(exchange.seq)
        return True

    def _observe(self, item: Seen, exchange: Exchange | None) -> None:
        tally = self._observations[item.observation]
        first_time = item.value not in tally.values
        if first_time and exchange is not None and len(tally.evidence) < MAX_OBSERVATION_EVIDENCE:
            record = exchange.record()
            tally.evidence.append(EvidenceRecord(record, value=item.value, roles=self._roles(exchange, record)))
        tally.values[item.value] += 1

    def lead(self, finding: Finding, exchange: Exchange) -> None:
        """Put a case already judged first in a requirement's evidence: the smallest failing request the shrinker
        found is what a reader should see before any other."""
        tally = self._requirements[finding.requirement]
        tally.evidence.insert(0, replace(self._evidence(finding, exchange), shrunk=True))
        del tally.evidence[EVIDENCE_PER_REQUIREMENT:]

    def _evidence(self, finding: Finding, exchange: Exchange | None) -> EvidenceRecord:
        """A violation as evidence: the exchange, the explanation, the check's detail when it structured one, and
        the roles of the tasks the request named."""
        if exchange is None:
            return EvidenceRecord(None, finding.message, finding.detail)
        record = exchange.record()
        return EvidenceRecord(record, finding.message, finding.detail, roles=self._roles(exchange, record))

    def _roles(self, exchange: Exchange, record: ExchangeRecord) -> dict[str, str]:
        """Only where the per-ID view can use them: a batch request and a batch answer, both kept whole."""
        if self._role_of is None or record.request_body.folded_chars or record.response_body.folded_chars:
            return {}
        answer = exchange.response_json if exchange.complete else None
        if not (isinstance(answer, dict) and isinstance(answer.get("migration_tasks"), list)):
            return {}
        return {task: self._role_of(task) for task in requested_task_ids(exchange.request_body)}

    def error(self, requirement: str, message: str) -> None:
        self._requirements[requirement].errors.append(message)

    def skip(self, requirement: str, reason: str, *, needs: tuple[str, ...] = ()) -> None:
        """Say why a requirement was not exercised; ``needs`` names what the user could provide to exercise it
        (beyond what the catalogue already says it needs), which keeps the skip from making the run incomplete."""
        self.skip_reasons.setdefault(requirement, reason)
        if needs:
            self.skip_needs.setdefault(requirement, needs)

    def skip_unmet(self, unmet: Mapping[str, str]) -> None:
        """Skip every requirement the catalogue says needs something the run does not provide, with the reason
        given for that need (a requirement exercised anyway, by other means, is judged all the same)."""
        for need, reason in unmet.items():
            for req in self.catalogue.needing(need):
                self.skip(req.id, reason)

    def valid_request_answered(self, exchange: Exchange) -> None:
        """Remember how a well-formed request under the run's own credentials was answered, for the diagnosis."""
        if exchange.throttled:
            self.valid_answers["throttled"] += 1
        elif not exchange.complete:
            self.valid_answers["no answer"] += 1
        else:
            self.valid_answers[str(exchange.status)] += 1

    def checked(self, requirement: str) -> int:
        return self._requirements[requirement].checked

    def violated(self) -> int:
        """How many requirements were violated so far, for the live progress line of a long run."""
        return sum(1 for tally in self._requirements.values() if tally.violations)

    def requirement_results(self, *, strict: bool = False) -> list[RequirementResult]:
        results = []
        for req in self.catalogue.requirements:
            tally = self._requirements[req.id]
            if tally.errors:
                status, reason = Status.ERROR, tally.errors[0]
            else:
                status, judged = status_from(req.level, tally.checked, tally.violations, strict=strict)
                reason = judged or self.skip_reasons.get(req.id, "no check exercised it in this run")
            needs = list(dict.fromkeys((*req.needs, *self.skip_needs.get(req.id, ()))))
            results.append(
                RequirementResult(
                    id=req.id,
                    level=req.level,
                    title=req.title,
                    statement=req.statement,
                    needs=needs,
                    sources=req.sources,
                    status=status,
                    reason=reason,
                    checks=tally.checked,
                    violations=tally.violations,
                    evidence=list(tally.evidence),
                )
            )
        return results

    def observation_results(self) -> list[ObservationResult]:
        return [
            ObservationResult(
                id=obs.id,
                title=obs.title,
                about=obs.about,
                seen=[SeenCount(value, count) for value, count in self._observations[obs.id].values.most_common()],
                evidence=list(self._observations[obs.id].evidence),
            )
            for obs in self.catalogue.observations
        ]


def status_from(level: str, checked: int, violations: int, *, strict: bool = False) -> tuple[Status, str | None]:
    """A requirement's status from how many checks judged it and how many of them it failed, with the reason the
    report gives (None for a skip: the reason is why nothing exercised it). The ledger decides with it, and
    ``verify`` re-derives with it what a report records."""
    if violations:
        failing = level == "MUST" or strict
        return (Status.FAILED if failing else Status.WARNING), f"{violations} of {_checks(checked)} violated it"
    if checked:
        return Status.PASSED, "held in the one check" if checked == 1 else f"held in all {checked} checks"
    return Status.SKIPPED, None


def requested_task_ids(body: bytes | None) -> list[str]:
    """The distinct string task IDs a request body names, in request order ([] for any body that is not the
    documented {"migration_tasks": [...]}): what evidence gives a role to."""
    try:
        request = jsontext.loads(body) if body else None
    except (ValueError, RecursionError):
        return []
    tasks = request.get("migration_tasks") if isinstance(request, dict) else None
    if not isinstance(tasks, list):
        return []
    return list(dict.fromkeys(task for task in tasks if isinstance(task, str)))


def _checks(count: int) -> str:
    return "1 check" if count == 1 else f"{count} checks"


def unexercised_musts(requirements: Sequence[RequirementResult], *, certify: bool = False) -> list[RequirementResult]:
    """MUST requirements left unexercised that the run should have judged: those that need nothing from the user
    (no fixtures, no extra credentials), or every one of them for a certification."""
    return [
        item
        for item in requirements
        if item.level == "MUST" and item.status == Status.SKIPPED and (certify or not item.needs)
    ]


def decide_verdict(
    requirements: Sequence[RequirementResult],
    *,
    certify: bool = False,
    setup_problem: bool = False,
    fixtures_unusable: bool = False,
) -> Verdict:
    """A verdict never says more than was checked.

    MUST failures make a run non-conformant and SHOULD failures only warn; but a run that left unexercised a MUST
    requirement needing nothing from the user (any MUST, with ``certify``) is incomplete, and so is a run whose
    diagnosis found the target unusable as configured (credentials rejected, wrong URL), whatever else it saw, or
    whose restartable fixtures all came back as unusable tasks do (unless something else failed).
    """
    statuses = {(item.level, item.status) for item in requirements}
    if any(status == Status.ERROR for _, status in statuses):
        return Verdict.ERROR
    if setup_problem:
        return Verdict.INCOMPLETE
    if any(status == Status.FAILED for _, status in statuses):
        return Verdict.NON_CONFORMANT
    if fixtures_unusable:
        return Verdict.INCOMPLETE
    if unexercised_musts(requirements, certify=certify):
        return Verdict.INCOMPLETE
    if any(status == Status.WARNING for _, status in statuses):
        return Verdict.WITH_WARNINGS
    return Verdict.CONFORMANT


def count_statuses(requirements: Sequence[RequirementResult]) -> dict[str, int]:
    counts = {str(status): 0 for status in Status}
    for item in requirements:
        counts[str(item.status)] += 1
    counts["total"] = len(requirements)
    return counts
