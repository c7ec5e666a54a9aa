"""The aimed property-based phase: hypothesis strategies built for this one body, aimed where batch bugs live.

Schemathesis generates from the OpenAPI document and rarely draws lists of more than a few items; bugs in batch
endpoints live at sizes (20, 21, 25, 49, 50, 51), at positions and in duplicates. Here every case is a batch whose
size is drawn across 0-51 with those boundaries drawn often, whose IDs come from pools that are safe to send any
number of times (IDs minted by the run, non-restartable fixtures, odd strings; never a restartable fixture, which may
be sent only once), with duplicates at random positions. Every answer is judged by the full batch oracle.

When a MUST requirement fails, hypothesis shrinks the case (every replay names only replayable IDs and goes through
the run's client, within its budget) and the smallest failing request becomes the first evidence of that
requirement: "the smallest batch that loses an item has 21 IDs".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from conformance.checks.batch import check_batch, check_fixture_outcomes, check_unknown_outcomes
from conformance.checks.refusals import check_refused
from conformance.checks.responses import check_response
from conformance.contract import MAX_BATCH
from conformance.engine.client import BudgetExhausted, TargetClient, TargetThrottling, TargetUnreachable
from conformance.results import Exchange, Finding, Ledger, Seen

#: Sizes where batch implementations break: empty, one, two, a page of 20 and one past it, 25, the maximum and
#: one past it (which must be refused).
BOUNDARY_SIZES = (0, 1, 2, 20, 21, 25, 49, 50, MAX_BATCH + 1)
MINTED_POOL = 120
LONG_ID_CHARS = 1024
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


@dataclass
class AimedStats:
    cases: int = 0
    shrink_requests: int = 0
    reproducers: dict[str, int] = field(default_factory=dict)


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


def edge_ids(base: str) -> list[str]:
    """Odd but legal strings: any answer but a 5xx is allowed for them, and a 200 must still answer them whole."""
    return [
        "",
        "   ",
        ("x" + base) * (LONG_ID_CHARS // (len(base) + 1) + 1),
        "迁移任务-é-" + base,
        '"\\' + base,
        "\ud800" + base,
        f"  {base}  ",
    ]


def batches(minted: list[str], not_restartable: list[str], odd: list[str]) -> st.SearchStrategy[list[str]]:
    """Batches of IDs from pools that may be replayed: sizes over 0-51 with the boundaries drawn often; each
    position holds a fresh minted ID (so IDs are distinct by construction and shrink towards a plain batch of
    minted IDs), a non-restartable fixture or an odd string; then duplicates at random positions."""

    @st.composite
    def batch(draw: Callable[..., Any]) -> list[str]:
        size = draw(st.one_of(st.sampled_from(BOUNDARY_SIZES), st.integers(0, MAX_BATCH + 1)))
        with_odd = draw(st.integers(0, 3)) == 3
        fresh = iter(minted)
        ids: list[str] = []
        for _ in range(size):
            kind = draw(st.integers(0, 5))
            task = None
            if kind == 4 and not_restartable:
                task = draw(st.sampled_from(not_restartable))
            elif kind == 5 and with_odd:
                task = draw(st.sampled_from(odd))
            ids.append(task if task is not None and task not in ids else next(fresh))
        for _ in range(draw(st.sampled_from((0, 0, 1, 2))) if ids and size < MAX_BATCH else 0):
            ids.insert(draw(st.integers(0, len(ids))), draw(st.sampled_from(ids)))
        return ids

    return batch()


def run_aimed(
    client: TargetClient,
    ledger: Ledger,
    *,
    seed: int,
    max_examples: int,
    not_restartable: list[str],
    musts: frozenset[str],
    stats: AimedStats,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Send ``max_examples`` aimed batches, then shrink each MUST failure found to its smallest case."""
    minted = [client.guard.mint() for _ in range(MINTED_POOL)]
    minted_set = frozenset(minted)
    known = frozenset(not_restartable)
    odd = edge_ids(client.guard.mint())
    smallest: dict[str, tuple[Exchange, str]] = {}
    failing: dict[tuple[str, ...], tuple[str, str]] = {}
    shrinking = False

    halted: list[Exception] = []

    def judge(ids: list[str]) -> None:
        if halted:
            return  # the run must stop (budget, target gone): every remaining case passes without a request
        failure = failing.get(tuple(ids))
        if failure is None:
            try:
                failure = send_and_judge(ids)
            except (BudgetExhausted, TargetUnreachable, TargetThrottling) as exc:
                halted.append(exc)
                return
        if failure is not None:
            # One raise site for every failure: hypothesis tells bugs apart by exception type and origin.
            raise _violation(failure[0])(failure[1])

    def send_and_judge(ids: list[str]) -> tuple[str, str] | None:
        """Send one batch and record what the checks conclude; the first MUST it violates, if any."""
        nonlocal shrinking
        if shrinking and stats.shrink_requests >= SHRINK_REQUESTS:
            return None  # the shrink budget is spent: no further candidate may fail, so shrinking ends here
        exchange = client.post_json({"migration_tasks": ids}, label=f"aimed: batch of {len(ids)} IDs")
        if shrinking:
            stats.shrink_requests += 1
        else:
            stats.cases += 1
            if stats.cases % 50 == 0:
                progress(f"aimed: {stats.cases} cases sent")
        findings: list[Finding | Seen] = [*check_response(exchange)]
        if len(ids) > MAX_BATCH:
            findings += check_refused(exchange, f"{len(ids)} task IDs")
        else:
            ledger.valid_request_answered(exchange)
            findings += check_batch(ids, exchange)
            findings += check_unknown_outcomes(exchange, [task for task in ids if task in minted_set])
            fixtures = [task for task in dict.fromkeys(ids) if task in known]
            if fixtures and exchange.status == 200:
                findings += check_fixture_outcomes(exchange, [], fixtures, [])
        ledger.record(findings, exchange)
        failed = [
            item
            for item in findings
            if isinstance(item, Finding)
            and not item.ok
            and item.requirement in musts
            and item.requirement != "BR-REQ-023"
        ]
        if not failed or not exchange.judgeable:
            return None
        first = failed[0]
        previous = smallest.get(first.requirement)
        if previous is None or len(ids) <= _requested_size(previous[0]):
            smallest[first.requirement] = (exchange, first.message)
        failing[tuple(ids)] = (first.requirement, first.message)
        shrinking = True
        return failing[tuple(ids)]

    test = hypothesis.given(batches(minted, not_restartable, odd))(judge)
    test = hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
        report_multiple_bugs=True,
        verbosity=hypothesis.Verbosity.quiet,
    )(test)
    test = hypothesis.seed(seed)(test)
    try:
        test()
    except _Violation:
        pass
    except BaseExceptionGroup as group:
        _, rest = group.split(_Violation)
        if rest is not None:
            raise rest.exceptions[0] if len(rest.exceptions) == 1 else rest from None
    except HypothesisException:
        # A failure that does not reproduce (an intermittent fault) cannot be shrunk; its findings stand.
        pass
    if halted:
        raise halted[0]
    for requirement, (exchange, message) in smallest.items():
        size = _requested_size(exchange)
        headline = HEADLINES.get(requirement, "the smallest failing batch found has {size} IDs").format(size=size)
        ledger.lead(requirement, f"shrunk reproducer: {headline}: {message}", exchange)
        stats.reproducers[requirement] = size


def _requested_size(exchange: Exchange) -> int:
    try:
        document = json.loads(exchange.request_body or b"")
        return len(document["migration_tasks"])
    except (ValueError, KeyError, TypeError):
        return 0
