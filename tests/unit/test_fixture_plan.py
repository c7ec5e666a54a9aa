"""engine/fixture_plan and the scenarios that follow it: each restartable fixture is spent once, where it reveals
most. With one it sits in the batch of 50, in the middle, after failing tasks; from two on, several share one call;
from three on, one call restarts three (past a quota of two); what is left goes to the smaller mixed batches."""

from __future__ import annotations

import json
import random
from collections import Counter

import httpx
import pytest
import respx

from conformance.contract import MAX_BATCH, load_catalogue
from conformance.engine.client import TargetClient
from conformance.engine.fixture_plan import MIDDLE_INDEX, Allotment, Spent, allot, place, spent_in
from conformance.engine.guard import IdGuard
from conformance.engine.phases.scenarios import MIXED_BATCHES, Fixtures, Scenarios
from conformance.judging.results import Ledger

BASE = "http://target.test"
WANTED = [restartable for restartable, _, _ in MIXED_BATCHES]


def test_one_restartable_task_goes_to_the_batch_of_50_and_none_to_the_smaller_batches() -> None:
    assert allot(1, WANTED, full_batch=True) == Allotment(1, (0,) * 6)


@pytest.mark.parametrize(("restartable", "large"), [(1, 1), (2, 2), (3, 3), (6, 3), (30, 10), (100, 10)])
def test_the_batch_of_50_is_served_first_up_to_a_third_and_ten(restartable: int, large: int) -> None:
    allotment = allot(restartable, WANTED, full_batch=True)
    assert allotment.large == large
    assert allotment.large + sum(allotment.mixed) <= restartable


def test_with_plenty_each_smaller_mixed_batch_gets_what_it_wants() -> None:
    assert allot(100, WANTED, full_batch=True).mixed == tuple(WANTED)


def test_six_restartable_tasks_leave_one_each_for_the_first_three_smaller_batches() -> None:
    assert allot(6, WANTED, full_batch=True).mixed == (1, 1, 1, 0, 0, 0)


def test_without_a_batch_of_50_the_largest_mixed_batch_takes_its_place() -> None:
    allotment = allot(3, WANTED, full_batch=False)
    assert allotment.large == 0
    assert allotment.mixed == (0, 0, 0, 0, 0, 3)


def test_the_places_are_the_middle_the_last_and_the_second_and_more_go_to_free_places() -> None:
    others = [f"o{index}" for index in range(46)]
    batch = place(["r1", "r2", "r3", "r4"], others, ("middle", "last", "second"), random.Random(1))
    assert len(batch) == MAX_BATCH
    assert (batch.index("r1"), batch.index("r2"), batch.index("r3")) == (MIDDLE_INDEX, MAX_BATCH - 1, 1)
    assert sorted(task for task in batch if task.startswith("o")) == sorted(others)


def test_a_place_that_is_taken_or_out_of_a_small_batch_falls_to_the_nearest_free_one() -> None:
    assert place(["r1", "r2"], ["o"], ("middle", "last"), random.Random(1)) == ["o", "r1", "r2"]
    assert place(["r1"], [], ("middle",), random.Random(1)) == ["r1"]


def test_spent_in_names_each_restartable_task_s_index_and_the_batch_size() -> None:
    assert spent_in("s", "l", ["a", "r", "b"], ["r"]) == [Spent("s", "l", 1, 3)]


# -- the scenarios follow the plan ---------------------------------------------------------------------------------


def spend(restartable: int, not_restartable: int) -> tuple[list[Spent], list[list[str]], Fixtures]:
    """Run the batch of 50 and the mixed batches (in the run's order) against a target that answers every ID per
    item: where each restartable fixture went, and every batch sent."""
    fixtures = Fixtures([f"r-{i}" for i in range(restartable)], [f"n-{i}" for i in range(not_restartable)])
    sent: list[list[str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["migration_tasks"]
        sent.append(ids)
        items = [{"task_id": task, "result": "failed", "error_code": "E", "error_msg": "no"} for task in ids]
        return httpx.Response(200, json={"migration_tasks": items})

    spent: list[Spent] = []
    guard = IdGuard(fixtures.restartable, fixtures.not_restartable, random.Random(3))
    with respx.mock(base_url=BASE) as router:
        router.post(url__regex=r".*").mock(side_effect=answer)
        with TargetClient(BASE, "p", guard=guard) as client:
            scenarios = Scenarios(client, Ledger(load_catalogue()), random.Random(7), fixtures, spent=spent)
            scenarios.unknown_per_item = True
            scenarios.full_batch()
            scenarios.fixture_batches()
    return spent, sent, fixtures


def places(spent: list[Spent], scenario: str) -> list[int]:
    return sorted(item.index for item in spent if item.scenario == scenario)


def test_one_plus_one_puts_the_restartable_task_in_the_middle_of_the_batch_of_50_among_failures() -> None:
    spent, sent, fixtures = spend(1, 1)
    assert spent == [Spent("batch of 50", "batch of 50 tasks: 1+1+48", MIDDLE_INDEX, MAX_BATCH)]
    [full] = [batch for batch in sent if len(batch) == MAX_BATCH]
    assert full[MIDDLE_INDEX] == fixtures.restartable[0]
    assert fixtures.not_restartable[0] in full
    # No smaller mixed batch is first with it any more: the one restartable task is not in a 2-task batch.
    assert all(fixtures.restartable[0] not in batch for batch in sent if len(batch) < MAX_BATCH)


def test_two_plus_one_puts_both_in_one_call_in_the_middle_and_last() -> None:
    spent, _, _ = spend(2, 1)
    assert places(spent, "batch of 50") == [MIDDLE_INDEX, MAX_BATCH - 1]
    assert {item.label for item in spent} == {"batch of 50 tasks: 2+1+47"}


def test_three_plus_two_restarts_three_in_one_call() -> None:
    spent, _, _ = spend(3, 2)
    assert places(spent, "batch of 50") == [1, MIDDLE_INDEX, MAX_BATCH - 1]


def test_six_plus_two_keeps_three_for_the_batch_of_50_and_gives_the_smaller_batches_one_each() -> None:
    spent, _, _ = spend(6, 2)
    assert places(spent, "batch of 50") == [1, MIDDLE_INDEX, MAX_BATCH - 1]
    mixed = [item for item in spent if item.scenario == "mixed batches"]
    # The documented two-task example with the restartable task after the failure, then the middle of three.
    assert [(item.batch_size, item.index) for item in mixed[:2]] == [(2, 1), (3, 1)]
    assert len(mixed) == 3


def test_the_default_reference_s_count_fills_the_mixed_batches_and_ten_in_the_batch_of_50() -> None:
    spent, _, _ = spend(100, 48)
    assert len(places(spent, "batch of 50")) == 10
    assert {MIDDLE_INDEX, MAX_BATCH - 1, 1} <= set(places(spent, "batch of 50"))
    assert Counter(item.batch_size for item in spent if item.scenario == "mixed batches") == Counter(
        {2: 1, 3: 1, 5: 2, 10: 4, 20: 8, 30: 12}
    )


@pytest.mark.parametrize(("restartable", "not_restartable"), [(1, 1), (2, 1), (3, 2), (6, 2), (100, 48)])
def test_each_restartable_fixture_is_sent_at_most_once(restartable: int, not_restartable: int) -> None:
    spent, sent, fixtures = spend(restartable, not_restartable)
    sends = Counter(task for batch in sent for task in batch if task in set(fixtures.restartable))
    assert set(sends.values()) == {1}
    assert len(spent) == sum(sends.values())


def test_a_run_s_first_request_is_a_batch_of_minted_ids_and_its_second_the_batch_of_50() -> None:
    """The order in which bugs show: the first answer to a well-formed batch, then the batch of 50 with the plan's
    restartable tasks, before the invalid requests (the kill matrix's first detections depend on it)."""
    fixtures = Fixtures([f"r-{i}" for i in range(3)], [f"n-{i}" for i in range(2)])
    sent: list[object] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if len(sent) >= 2:  # only the first two are read as batches; the rest is refused as a whole
            sent.append(request.content)
            return httpx.Response(400, json={"error_code": "DCS.4000", "error_msg": "invalid"})
        ids = json.loads(request.content)["migration_tasks"]
        sent.append(ids)
        items = [{"task_id": task, "result": "failed", "error_code": "E", "error_msg": "no"} for task in ids]
        return httpx.Response(200, json={"migration_tasks": items})

    guard = IdGuard(fixtures.restartable, fixtures.not_restartable, random.Random(3))
    with respx.mock(base_url=BASE) as router:
        router.post(url__regex=r".*").mock(side_effect=answer)
        with TargetClient(BASE, "p", guard=guard) as client:
            Scenarios(client, Ledger(load_catalogue()), random.Random(7), fixtures).run_all()
    first, second, third = sent[:3]
    assert isinstance(first, list) and len(first) == 3 and all(guard.is_minted(task) for task in first)
    assert isinstance(second, list) and len(second) == MAX_BATCH
    assert set(fixtures.restartable) <= set(second)
    assert third == b""  # then the invalid requests, from the first of them
