"""The aimed strategy draws what batch bugs need: every size of the documented range and the boundaries around it,
IDs only from pools that may be replayed, and duplicates; and it shrinks towards plain minted IDs."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, find, given, settings

from conformance.contract import load_catalogue
from conformance.engine.phases.aimed import MINTED_POOL, _Judge
from conformance.engine.phases.aimed_plans import BOUNDARY_SIZES, Plan, assemble, edge_ids, plans
from conformance.engine.stats import AimedStats
from conformance.judging.results import Ledger
from tests.conftest import exchange

MINTED = [str(uuid.UUID(int=n, version=4)) for n in range(1, MINTED_POOL + 1)]
KNOWN = ["5e3a2f10-0b7c-4c1e-9d2a-6f8e1b4c7a90", "7599c3ed-d0d3-4fb9-9273-653160302023"]
ODD = edge_ids(MINTED[0])


def batch(plan: Plan) -> list[str]:
    return assemble(plan, MINTED, KNOWN, ODD)


DRAWS = settings(max_examples=400, database=None, derandomize=True, suppress_health_check=list(HealthCheck))


def draw_many() -> list[list[str]]:
    drawn: list[list[str]] = []

    @DRAWS
    @given(plans())
    def collect(plan: Plan) -> None:
        drawn.append(batch(plan))

    collect()
    return drawn


def test_every_id_comes_from_a_replayable_pool() -> None:
    for ids in draw_many():
        assert set(ids) <= set(MINTED) | set(KNOWN) | set(ODD)


def test_every_boundary_size_is_drawn_and_sizes_spread_over_the_range() -> None:
    drawn = draw_many()
    sizes = Counter(len(set(ids)) for ids in drawn)
    assert set(BOUNDARY_SIZES) <= set(sizes)
    assert sum(count for size, count in sizes.items() if 21 <= size <= 51) >= len(drawn) // 3
    assert any(len(ids) > len(set(ids)) for ids in drawn), "duplicates at random positions"
    assert any(set(ids) & set(KNOWN) for ids in drawn) and any(set(ids) & set(ODD) for ids in drawn)


def test_the_smallest_batch_is_plain_minted_ids() -> None:
    """Shrinking goes towards fresh minted IDs, so a reproducer names no fixture unless the bug needs one."""
    found = find(plans(), lambda plan: len(set(batch(plan))) >= 21, settings=settings(database=None, max_examples=400))
    assert batch(found) == MINTED[:21]


@pytest.mark.parametrize("status", [200, 400, 413])
def test_a_batch_padded_over_50_with_duplicates_is_only_seen_whatever_the_answer(status: int) -> None:
    """49 distinct IDs and two repeats make 51 entries: "at most 50 tasks" does not say how they count (OBS-002),
    so neither accepting nor refusing them fails BR-REQ-001; accepted, the answer is judged like any other."""
    ids = MINTED[:49] + MINTED[:2]
    items = [{"task_id": task, "result": "failed", "error_code": "E", "error_msg": "m"} for task in MINTED[:49]]
    body = {"migration_tasks": items} if status == 200 else {"error_code": "DCS.4800", "error_msg": "too many"}
    ledger = Ledger(load_catalogue())
    judge = _Judge(None, ledger, frozenset({"BR-REQ-001"}), frozenset(MINTED), frozenset(), AimedStats())  # type: ignore[arg-type]
    assert judge.judge(ids, exchange(status, body, request={"migration_tasks": ids})) is None
    results = {item.id: item for item in ledger.requirement_results()}
    assert results["BR-REQ-001"].checks == 0
    assert bool(results["BR-REQ-015"].checks) == (status == 200)
    [observed] = [item for item in ledger.observation_results() if item.id == "OBS-002"]
    answered = "accepted (200)" if status == 200 else f"refused with status {status}"
    assert {"value": f"more than 50 entries naming at most 50 tasks: {answered}", "count": 1} in [
        {"value": seen.value, "count": seen.count} for seen in observed.seen
    ]


def test_a_batch_of_51_distinct_ids_must_be_refused() -> None:
    ids = MINTED[:51]
    ledger = Ledger(load_catalogue())
    judge = _Judge(None, ledger, frozenset({"BR-REQ-001"}), frozenset(MINTED), frozenset(), AimedStats())  # type: ignore[arg-type]
    assert judge.judge(ids, exchange(200, request={"migration_tasks": ids})) is not None
    assert next(item for item in ledger.requirement_results() if item.id == "BR-REQ-001").status == "failed"
