"""The reference store's restart rule, its seeded fixtures, and its safety under concurrent batches."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from conformance.reference import restart_ledger
from conformance.reference.restart_ledger import RestartLedger
from conformance.reference.store import (
    NOT_RESTARTABLE_KINDS,
    RESTARTABLE_STATUSES,
    MigrationTask,
    MigrationType,
    Outcome,
    Status,
    TaskStore,
    seed_store,
)


def task(
    status: Status = Status.TERMINATED, api_version: str = "v2", kind: MigrationType = MigrationType.ONLINE
) -> MigrationTask:
    return MigrationTask(str(uuid.uuid4()), kind, api_version, status)


def restart_one(store: TaskStore, task_id: str) -> Outcome:
    (outcome,) = store.restart_batch([task_id])
    return outcome


def test_restartable_statuses_are_exactly_terminated_and_failed() -> None:
    assert frozenset({Status.TERMINATED, Status.FAILED}) == RESTARTABLE_STATUSES


@pytest.mark.parametrize("status", [Status.TERMINATED, Status.FAILED])
def test_online_v2_task_in_restartable_state_restarts_to_migrating_and_reports_success(status: Status) -> None:
    item = task(status)
    store = TaskStore([item])
    outcome = restart_one(store, item.task_id)
    assert outcome == Outcome(item.task_id, "success")
    assert outcome.as_json() == {"result": "success", "task_id": item.task_id}
    assert store.get(item.task_id).status is Status.MIGRATING


@pytest.mark.parametrize("status", [Status.TERMINATED, Status.FAILED, Status.MIGRATING])
def test_v1_task_fails_with_task_not_v2_and_keeps_its_state(status: Status) -> None:
    item = task(status, api_version="v1")
    store = TaskStore([item])
    outcome = restart_one(store, item.task_id)
    assert outcome.as_json() == {
        "result": "failed",
        "task_id": item.task_id,
        "error_code": "dcs.41.0001",
        "error_msg": "task not v2",
    }
    assert store.get(item.task_id).status is status


@pytest.mark.parametrize("status", sorted(set(Status) - RESTARTABLE_STATUSES))
def test_online_v2_task_in_other_state_fails_with_dcs_4957_and_keeps_its_state(status: Status) -> None:
    item = task(status)
    store = TaskStore([item])
    outcome = restart_one(store, item.task_id)
    assert outcome.result == "failed"
    assert outcome.error_code == "DCS.4957"
    assert outcome.error_msg
    assert store.get(item.task_id).status is status


@pytest.mark.parametrize("status", [Status.TERMINATED, Status.FAILED])
def test_backup_import_task_fails_even_in_restartable_state(status: Status) -> None:
    item = task(status, kind=MigrationType.BACKUP_IMPORT)
    store = TaskStore([item])
    outcome = restart_one(store, item.task_id)
    assert outcome.result == "failed"
    assert outcome.error_code == "DCS.4957"
    assert outcome.error_msg
    assert store.get(item.task_id).status is status


def test_unknown_id_fails_per_item_without_affecting_the_rest_of_the_batch() -> None:
    known = task()
    store = TaskStore([known])
    outcomes = store.restart_batch(["no-such-task", known.task_id, ""])
    assert [o.task_id for o in outcomes] == ["no-such-task", known.task_id, ""]
    assert [o.result for o in outcomes] == ["failed", "success", "failed"]
    for failed in (outcomes[0], outcomes[2]):
        assert failed.error_code and failed.error_msg
    assert len(store) == 1


def test_second_restart_of_the_same_task_fails_because_it_is_now_migrating() -> None:
    item = task(Status.FAILED)
    store = TaskStore([item])
    assert restart_one(store, item.task_id).result == "success"
    again = restart_one(store, item.task_id)
    assert again.result == "failed"
    assert again.error_code == "DCS.4957"
    assert "MIGRATING" in again.error_msg


def test_duplicate_ids_in_one_batch_get_one_outcome_each_in_first_seen_order() -> None:
    a, b, c = task(), task(Status.SUCCESS), task()
    store = TaskStore([a, b, c])
    outcomes = store.restart_batch([b.task_id, a.task_id, b.task_id, "ghost", a.task_id, c.task_id, "ghost"])
    assert [o.task_id for o in outcomes] == [b.task_id, a.task_id, "ghost", c.task_id]
    assert [o.result for o in outcomes] == ["failed", "success", "failed", "success"]


def test_mixed_batch_answers_every_task_in_request_order() -> None:
    ok, v1, busy, backup = task(), task(api_version="v1"), task(Status.RUNNING), task(kind=MigrationType.BACKUP_IMPORT)
    store = TaskStore([ok, v1, busy, backup])
    ids = [v1.task_id, ok.task_id, "missing", busy.task_id, backup.task_id]
    outcomes = store.restart_batch(ids)
    assert [o.task_id for o in outcomes] == ids
    assert [(o.result, o.error_code) for o in outcomes] == [
        ("failed", "dcs.41.0001"),
        ("success", None),
        ("failed", "DCS.4800"),
        ("failed", "DCS.4957"),
        ("failed", "DCS.4957"),
    ]


def test_failed_outcome_json_always_carries_error_fields_and_success_never_does() -> None:
    assert Outcome("t", "success").as_json() == {"result": "success", "task_id": "t"}
    assert Outcome("t", "failed", "DCS.4957", "no").as_json() == {
        "result": "failed",
        "task_id": "t",
        "error_code": "DCS.4957",
        "error_msg": "no",
    }


def test_empty_batch_gives_no_outcomes() -> None:
    assert TaskStore([task()]).restart_batch([]) == []


# --- seed_store -------------------------------------------------------------------------------------------------------


def test_seed_store_default_offers_at_least_40_restartable_and_every_non_restartable_kind_several_times() -> None:
    store, fixtures = seed_store(seed=7)
    assert len(fixtures["restartable"]) >= 40
    kinds = Counter(
        (t.migration_type, t.api_version, t.status) for t in (store.get(i) for i in fixtures["not_restartable"])
    )
    assert set(kinds) == set(NOT_RESTARTABLE_KINDS)
    assert min(kinds.values()) >= 2
    # every category the rule distinguishes is present: v1, wrong state, backup import
    assert any(api == "v1" for _, api, _ in kinds)
    assert any(kind is MigrationType.BACKUP_IMPORT for kind, _, _ in kinds)
    assert any(api == "v2" and kind is MigrationType.ONLINE for kind, api, _ in kinds)


def test_seed_store_fixtures_name_distinct_tasks_that_all_exist() -> None:
    store, fixtures = seed_store(restartable=60, per_kind=3, seed=1)
    assert set(fixtures) == {"restartable", "not_restartable"}
    ids = fixtures["restartable"] + fixtures["not_restartable"]
    assert len(ids) == len(set(ids)) == len(store) == 60 + 3 * len(NOT_RESTARTABLE_KINDS)
    assert all(store.get(i) is not None for i in ids)
    assert all(str(uuid.UUID(i)) == i for i in ids)


def test_seed_store_restartable_tasks_are_half_terminated_half_failed_online_v2() -> None:
    store, fixtures = seed_store(restartable=10, seed=3)
    tasks = [store.get(i) for i in fixtures["restartable"]]
    assert all(t.migration_type is MigrationType.ONLINE and t.api_version == "v2" for t in tasks)
    assert Counter(t.status for t in tasks) == {Status.TERMINATED: 5, Status.FAILED: 5}


def test_seed_store_fixtures_keep_their_promises() -> None:
    store, fixtures = seed_store(restartable=40, per_kind=2, seed=11)
    outcomes = store.restart_batch(fixtures["restartable"] + fixtures["not_restartable"])
    by_id = {o.task_id: o for o in outcomes}
    assert all(by_id[i].result == "success" for i in fixtures["restartable"])
    assert all(by_id[i].result == "failed" and by_id[i].error_code for i in fixtures["not_restartable"])


def test_seed_store_is_deterministic_for_a_seed_and_varies_without_one() -> None:
    assert seed_store(restartable=5, seed=42)[1] == seed_store(restartable=5, seed=42)[1]
    assert seed_store(restartable=5, seed=42)[1] != seed_store(restartable=5, seed=43)[1]
    assert seed_store(restartable=5)[1] != seed_store(restartable=5)[1]


def test_seed_store_with_zero_restartable_tasks_promises_none() -> None:
    store, fixtures = seed_store(restartable=0, per_kind=1, seed=5)
    assert fixtures["restartable"] == []
    assert len(store) == len(fixtures["not_restartable"]) == len(NOT_RESTARTABLE_KINDS)


# --- concurrency ------------------------------------------------------------------------------------------------------


class SlowTask(MigrationTask):
    """A task whose restartable state is slow to read, so any unguarded check-then-set in the store would race."""

    def __getattribute__(self, name: str) -> object:
        value = super().__getattribute__(name)
        if name == "status" and value in RESTARTABLE_STATUSES:
            time.sleep(0.001)  # other threads run meanwhile and may read the same (stale) state
        return value


def test_concurrent_overlapping_batches_restart_each_task_exactly_once() -> None:
    tasks = [SlowTask(str(uuid.uuid4()), MigrationType.ONLINE, "v2", Status.TERMINATED) for _ in range(50)]
    blocked = [task(Status.RUNNING), task(api_version="v1")]
    store = TaskStore([*tasks, *blocked])
    ids = [t.task_id for t in tasks]
    threads_count = 12
    rounds = 3
    barrier = threading.Barrier(threads_count)
    results: list[list[Outcome]] = [[] for _ in range(threads_count)]

    def worker(index: int) -> None:
        # overlapping batches: half the threads walk the tasks forwards, half backwards, in batches of 25
        window = ids if index % 2 == 0 else ids[::-1]
        batches = [window[start : start + 25] + [b.task_id for b in blocked] for start in range(0, len(window), 25)]
        barrier.wait()
        for _ in range(rounds):
            for batch in batches:
                results[index].extend(store.restart_batch(batch))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    successes = Counter(o.task_id for outcomes in results for o in outcomes if o.result == "success")
    assert successes == Counter({task_id: 1 for task_id in ids})
    assert all(store.get(i).status is Status.MIGRATING for i in ids)
    answered = Counter(o.task_id for outcomes in results for o in outcomes)
    assert {answered[i] for i in ids} == {threads_count * rounds}
    assert {answered[b.task_id] for b in blocked} == {threads_count * rounds * 2}  # in both batches of a round


def ledger_calls(ledger: RestartLedger) -> dict[str, int]:
    calls: dict[str, int] = json.loads(ledger.path.read_text())["calls"]
    return calls


def test_a_store_with_a_ledger_keeps_in_its_file_how_many_calls_named_each_task_it_restarted(tmp_path: Path) -> None:
    """The test suite reads these files for references in other processes (restart_ledger.py)."""
    ledger = RestartLedger(tmp_path, "a test's store")
    first, second, stuck = task(), task(Status.FAILED), task(Status.MIGRATING)
    store = TaskStore([first, second, stuck], ledger=ledger)
    store.restart_batch(["unknown", stuck.task_id])
    assert not ledger.path.exists(), "a call that restarts nothing, and names nothing restarted, writes nothing"
    store.restart_batch([first.task_id, first.task_id, stuck.task_id])
    assert ledger_calls(ledger) == {first.task_id: 1}, "one call, though it named the task twice"
    store.restart_batch([second.task_id])
    store.restart_batch([first.task_id])
    assert ledger_calls(ledger) == {first.task_id: 2, second.task_id: 1} == store.asked_again() | {second.task_id: 1}
    document = json.loads(ledger.path.read_text())
    assert (document["who"], document["pid"]) == ("a test's store", os.getpid())
    assert [path.name for path in tmp_path.iterdir()] == [ledger.path.name], "no temporary left behind"


def test_a_ledger_is_kept_only_where_its_variable_names_a_directory(tmp_path: Path) -> None:
    assert restart_ledger.from_environment("serve", {}) is None
    assert restart_ledger.from_environment("serve", {restart_ledger.ENV: ""}) is None
    ledger = restart_ledger.from_environment("serve", {restart_ledger.ENV: str(tmp_path)})
    assert ledger is not None and ledger.path.parent == tmp_path
    other = restart_ledger.from_environment("serve", {restart_ledger.ENV: str(tmp_path)})
    assert other is not None and other.path != ledger.path, "each store a file of its own"
