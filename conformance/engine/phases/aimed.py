"""The aimed property-based phase: hypothesis strategies built for this one body, aimed where batch bugs live.

Schemathesis generates from the OpenAPI document and rarely draws lists of more than a few items; bugs in batch
endpoints live at sizes (20, 21, 25, 49, 50, 51), at positions and in duplicates. Here every case is a batch whose
size is drawn across 0-51 with those boundaries drawn often, whose IDs come from pools that are safe to send any
number of times (IDs minted by the run, non-restartable fixtures, odd strings; never a restartable fixture, which may
be sent only once), with duplicates at random positions (aimed_plans.py: plain seeded drawing, a few microseconds
a batch). Every answer is judged by the full batch oracle.

When a MUST requirement fails, hypothesis shrinks the failing plans (every replay names only replayable IDs and goes
through the run's client, within its budget) and the smallest failing request becomes the first evidence of that
requirement: "the smallest batch that loses an item has 21 IDs".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import chain

from conformance.checks.batch import (
    check_batch,
    check_fixture_outcomes,
    check_unknown_outcomes,
    observe_padded_over_limit,
)
from conformance.checks.refusals import check_refused
from conformance.checks.responses import check_response
from conformance.contract import MAX_BATCH
from conformance.engine.client import BudgetExhausted, TargetClient, TargetThrottling, TargetUnreachable
from conformance.engine.determinism import without_local_constants
from conformance.engine.parallel import in_order
from conformance.engine.phases.aimed_plans import Plan, assemble, draw_plans, edge_ids, shrinking_plans
from conformance.engine.stats import AimedStats
from conformance.judging.results import Exchange, Finding, Judgements, Seen

#: IDs minted for the phase: more than any batch holds (assemble takes a fresh one for each position).
MINTED_POOL = 120
#: Requests the shrinker may spend once a MUST failure is found, beyond the phase's own examples.
SHRINK_REQUESTS = 150

#: What a minimal failing case shows, by requirement: the headline of the shrunk evidence.
HEADLINES = {
    "BR-REQ-009": "the smallest batch that loses an item has {size} IDs",
    "BR-REQ-010": "the smallest batch answered with a foreign ID has {size} IDs",
    "BR-REQ-011": "the smallest batch answered with a repeated item has {size} IDs",
    "BR-REQ-001": "the smallest batch accepted although it is too large has {size} IDs",
    "BR-REQ-003": "the smallest batch answered with a server error has {size} IDs",
    "BR-REQ-015": "the smallest batch that reports an unknown task restarted has {size} IDs",
}


class _Violation(AssertionError):
    """A MUST requirement failed on this case; one subclass per requirement, so that hypothesis shrinks each
    distinct bug on its own."""

    requirement = ""


_VIOLATIONS: dict[str, type[_Violation]] = {}


def _violation(requirement: str) -> type[_Violation]:
    if requirement not in _VIOLATIONS:
        name = "Violation_" + requirement.replace("-", "_")
        _VIOLATIONS[requirement] = type(name, (_Violation,), {"requirement": requirement})
    return _VIOLATIONS[requirement]


@dataclass(frozen=True)
class Pools:
    """The IDs the aimed phase may send any number of times, besides the non-restartable fixtures: minted ones, and
    odd strings built around one more."""

    minted: list[str]
    odd: list[str]

    @classmethod
    def mint(cls, mint: Callable[[], str]) -> Pools:
        return cls([mint() for _ in range(MINTED_POOL)], edge_ids(mint()))


def drawn_count(max_examples: int) -> int:
    """How many plans the aimed phase draws for ``max_examples`` cases: all but its fixed first case, when there is
    room for it (see run_aimed)."""
    return max_examples - 1 if max_examples > 1 else max_examples


def run_aimed(
    client: TargetClient,
    ledger: Judgements,
    *,
    pools: Pools,
    seed: int,
    max_examples: int,
    not_restartable: list[str],
    musts: frozenset[str],
    stats: AimedStats,
    workers: int = 1,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Send ``max_examples`` aimed batches (``workers`` at a time), then shrink each MUST failure found to its
    smallest case, one request at a time.

    The first batch names one ID exactly twice: the cheapest request that shows how a target answers a duplicate
    (the duplicates scenario names one three times, which hides a target that answers every duplicate thrice), so
    it goes before any drawn case.

    The plans are drawn without looking at any answer (microseconds each, as the sending asks for them), so the
    same seed sends the same cases in the same order with any number of workers; the shrinking pass starts from
    the smallest failing plan of each requirement, replays it from the answer already judged and sends only new,
    smaller candidates."""
    drawn = drawn_count(max_examples)
    minted = pools.minted
    judge = _Judge(client, ledger, musts, frozenset(minted), frozenset(not_restartable), stats)

    def batch(plan: Plan) -> list[str]:
        return assemble(plan, minted, not_restartable, pools.odd)

    # One of the examples is a fixed first case when there is room for it; the others are drawn.
    first: list[tuple[Plan | None, list[str]]] = (
        [(None, [minted[0], minted[1], minted[0]])] if drawn < max_examples else []
    )
    cases = chain(first, ((plan, batch(plan)) for plan in draw_plans(seed, drawn)))
    #: requirement -> the smallest drawn plan that failed it, where the shrinking starts.
    failing: dict[str, Plan] = {}
    try:
        for (plan, ids), exchange in in_order(lambda case: judge.send(case[1]), cases, workers):
            failure = judge.judge(ids, exchange, progress)
            if failure is not None and plan is not None:
                smallest = failing.get(failure[0])
                if smallest is None or (plan.size, plan) < (smallest.size, smallest):
                    failing[failure[0]] = plan
    except (BudgetExhausted, TargetUnreachable, TargetThrottling):
        judge.publish_reproducers()
        raise
    if failing:
        judge.shrinking = True
        _shrink(lambda plan: judge.replay(batch(plan)), seed, list(failing.values()))
    judge.publish_reproducers()
    if judge.halted:
        raise judge.halted[0]


def _shrink(test: Callable[[Plan], None], seed: int, failing: list[Plan]) -> None:
    """Shrink the ``failing`` plans through ``test``, which raises a _Violation for a plan that fails."""
    from hypothesis.errors import HypothesisException

    try:
        with without_local_constants():
            shrinking_plans(test, seed, failing)()
    except _Violation:
        pass
    except BaseExceptionGroup as group:
        _, rest = group.split(_Violation)
        if rest is not None:
            raise rest.exceptions[0] if len(rest.exceptions) == 1 else rest from None
    except HypothesisException:
        # A failure that does not reproduce (an intermittent fault) cannot be shrunk; its findings stand.
        pass


class _Judge:
    """Sends aimed batches, records what the checks conclude, and remembers each failure for the shrinker."""

    def __init__(
        self,
        client: TargetClient,
        ledger: Judgements,
        musts: frozenset[str],
        minted: frozenset[str],
        known: frozenset[str],
        stats: AimedStats,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.musts = musts
        self.minted = minted
        self.known = known
        self.stats = stats
        self.failing: dict[tuple[str, ...], tuple[str, str]] = {}
        self.passing: set[tuple[str, ...]] = set()
        #: requirement -> (size, exchange, finding) of the smallest failing batch seen so far.
        self.smallest: dict[str, tuple[int, Exchange, Finding]] = {}
        self.halted: list[Exception] = []
        self.shrinking = False

    def send(self, ids: list[str]) -> Exchange:
        return self.client.post_json({"migration_tasks": ids}, label=f"aimed: batch of {len(ids)} IDs")

    def replay(self, ids: list[str]) -> None:
        """The shrinking pass: answers already judged are replayed, new candidates are sent one by one."""
        key = tuple(ids)
        failure = self.failing.get(key)
        fresh = failure is None and key not in self.passing and not self.halted
        if fresh and self.stats.shrink_requests < SHRINK_REQUESTS:
            try:
                failure = self.judge(ids, self.send(ids))
            except (BudgetExhausted, TargetUnreachable, TargetThrottling) as exc:
                self.halted.append(exc)  # every remaining case passes without a request, so the run ends
        if failure is not None:
            # One raise site for every failure: hypothesis tells bugs apart by exception type and origin.
            raise _violation(failure[0])(failure[1])

    def judge(
        self, ids: list[str], exchange: Exchange, progress: Callable[[str], None] = lambda _: None
    ) -> tuple[str, str] | None:
        """Record what the checks conclude of one answer; the first MUST it violates, if any."""
        if self.shrinking:
            self.stats.shrink_requests += 1
        else:
            self.stats.cases += 1
            if self.stats.cases % 50 == 0:
                progress(f"aimed: {self.stats.cases} cases sent")
        findings: list[Finding | Seen] = [*check_response(exchange)]
        distinct = len(set(ids))
        if distinct > MAX_BATCH:
            findings += check_refused(exchange, f"{len(ids)} task IDs")
        else:
            if len(ids) > MAX_BATCH:
                # Padded over the limit with duplicates: how they count towards "at most 50 tasks" is not documented.
                findings += observe_padded_over_limit(exchange)
            else:
                self.ledger.valid_request_answered(exchange)
            findings += check_batch(ids, exchange)
            findings += check_unknown_outcomes(exchange, [task for task in ids if task in self.minted])
            fixtures = [task for task in dict.fromkeys(ids) if task in self.known]
            findings += check_fixture_outcomes(exchange, [], fixtures, [])
        self.ledger.record(findings, exchange)
        failed = [
            item
            for item in findings
            if isinstance(item, Finding)
            and not item.ok
            and item.requirement in self.musts
            and item.requirement != "BR-REQ-023"
        ]
        key = tuple(ids)
        if not failed or not exchange.judgeable:
            self.passing.add(key)
            return None
        first = failed[0]
        previous = self.smallest.get(first.requirement)
        if previous is None or len(ids) <= previous[0]:
            self.smallest[first.requirement] = (len(ids), exchange, first)
        self.failing[key] = (first.requirement, first.message)
        return self.failing[key]

    def publish_reproducers(self) -> None:
        for requirement, (size, exchange, finding) in self.smallest.items():
            headline = HEADLINES.get(requirement, "the smallest failing batch found has {size} IDs").format(size=size)
            self.ledger.lead(replace(finding, message=f"shrunk reproducer: {headline}: {finding.message}"), exchange)
            self.stats.reproducers[requirement] = size
