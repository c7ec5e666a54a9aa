"""The aimed drawing draws what batch bugs need: every size of the documented range and the boundaries around it
(each boundary within the first batches), IDs only from pools that may be replayed, and duplicates, the same for a
seed in any process; and hypothesis shrinks a failing plan towards plain minted IDs."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from hypothesis import find, settings

from conformance.contract import load_catalogue
from conformance.engine.phases.aimed import MINTED_POOL, _Judge
from conformance.engine.phases.aimed_plans import (
    BOUNDARY_SIZES,
    Plan,
    assemble,
    draw_plans,
    edge_ids,
    plans,
    shrinking_plans,
)
from conformance.engine.stats import AimedStats
from conformance.judging.results import Ledger
from tests.conftest import exchange

MINTED = [str(uuid.UUID(int=n, version=4)) for n in range(1, MINTED_POOL + 1)]
KNOWN = ["5e3a2f10-0b7c-4c1e-9d2a-6f8e1b4c7a90", "7599c3ed-d0d3-4fb9-9273-653160302023"]
ODD = edge_ids(MINTED[0])


def batch(plan: Plan) -> list[str]:
    return assemble(plan, MINTED, KNOWN, ODD)


def drawn(seed: int = 1, count: int = 400) -> list[Plan]:
    return list(draw_plans(seed, count))


def draw_many() -> list[list[str]]:
    return [batch(plan) for plan in drawn()]


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


def test_the_same_seed_draws_the_same_plans_and_another_seed_others() -> None:
    assert drawn(7) == drawn(7)
    assert drawn(7) != drawn(8)
    assert drawn(7, 50) == drawn(7)[:50], "a longer drawing starts with the shorter one"


@pytest.mark.parametrize("seed", [1, 2, 20261203])
def test_every_boundary_size_comes_first_once(seed: int) -> None:
    first = [plan.size for plan in drawn(seed)[: len(BOUNDARY_SIZES)]]
    assert sorted(first) == sorted(BOUNDARY_SIZES)


def test_a_plan_replayed_from_its_choices_is_the_plan_drawn() -> None:
    """Shrinking starts from the failing plans themselves: hypothesis reads each back from its ``choices``."""
    wanted = drawn(3, 30)
    seen: list[Plan] = []

    def test(plan: Plan) -> None:
        seen.append(plan)
        raise AssertionError("every plan fails")

    with pytest.raises(AssertionError):
        shrinking_plans(test, 3, wanted)()
    assert sorted(seen[: len(wanted)]) == sorted(wanted), "each plan replayed as drawn, before any other"


def test_a_failing_plan_is_shrunk_to_the_smallest_plan_that_still_fails() -> None:
    seen: list[Plan] = []

    def test(plan: Plan) -> None:
        seen.append(plan)
        if len(set(batch(plan))) >= 21:
            raise AssertionError("loses an item")

    with pytest.raises(AssertionError):
        shrinking_plans(test, 1, [Plan(49, 3, 2, 123456)])()
    assert seen[0] == Plan(49, 3, 2, 123456)
    assert batch(seen[-1]) == MINTED[:21], "the smallest failing batch, of plain minted IDs"


def test_shrinking_the_same_failures_tries_the_same_candidates() -> None:
    def candidates() -> list[Plan]:
        seen: list[Plan] = []

        def test(plan: Plan) -> None:
            seen.append(plan)
            if plan.size >= 26 and plan.mix & 1:
                raise AssertionError("fails")

        with pytest.raises(AssertionError):
            shrinking_plans(test, 5, [Plan(50, 3, 1, 99), Plan(40, 1, 0, 7)])()
        return seen

    assert candidates() == candidates()


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
