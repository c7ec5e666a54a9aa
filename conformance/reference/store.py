"""The migration tasks the reference server restarts, and the one rule that decides each restart."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.reference.restart_ledger import RestartLedger


class Status(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    MIGRATING = "MIGRATING"
    TERMINATED = "TERMINATED"
    TERMINATING = "TERMINATING"
    FULLMIGRATING = "FULLMIGRATING"
    INCRMIGEATING = "INCRMIGEATING"  # sic: the API spells it so
    RUNNING = "RUNNING"
    MIGRATION_FAILED = "MIGRATION_FAILED"
    RELEASED = "RELEASED"


class MigrationType(StrEnum):
    ONLINE = "online_migration"
    BACKUP_IMPORT = "backupfile_import"


RESTARTABLE_STATUSES = frozenset({Status.TERMINATED, Status.FAILED})


@dataclass
class MigrationTask:
    task_id: str
    migration_type: MigrationType
    api_version: str
    status: Status


@dataclass(frozen=True)
class Outcome:
    """One item of a batch answer, before it is rendered as JSON."""

    task_id: str
    result: str
    error_code: str | None = None
    error_msg: str | None = None

    def as_json(self) -> dict[str, str]:
        item = {"result": self.result, "task_id": self.task_id}
        if self.result == "failed":
            item["error_code"] = self.error_code or ""
            item["error_msg"] = self.error_msg or ""
        return item


def no_such_task(task_id: str) -> Outcome:
    """The outcome for an ID that names no task of the project."""
    return Outcome(task_id, "failed", "DCS.4800", "Invalid migration_tasks: no such migration task.")


class TaskStore:
    """In-memory tasks; each restart decides and changes state under one lock, so a task restarts at most once.

    With a ``ledger`` (restart_ledger.py, a test-only channel) the counts of asked_again are also kept in a file,
    for a test in another process to read."""

    def __init__(self, tasks: Iterable[MigrationTask] = (), ledger: RestartLedger | None = None) -> None:
        self._tasks = {task.task_id: task for task in tasks}
        self._lock = threading.Lock()
        #: How many calls named each task, and the tasks a call restarted: a client that sends a restartable task at
        #: most once never names a restarted task again (see asked_again).
        self._asked: Counter[str] = Counter()
        self._restarted: set[str] = set()
        self._ledger = ledger

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, task: MigrationTask) -> None:
        with self._lock:
            self._tasks[task.task_id] = task

    def get(self, task_id: str) -> MigrationTask | None:
        with self._lock:
            return self._tasks.get(task_id)

    def restart_batch(self, task_ids: Iterable[str]) -> list[Outcome]:
        """One outcome per distinct ID, in the order first requested."""
        with self._lock:
            distinct = dict.fromkeys(task_ids)
            self._asked.update(list(distinct))
            outcomes = [self._restart(task_id) for task_id in distinct]
            if self._ledger is not None and not self._restarted.isdisjoint(distinct):
                self._ledger.record({task: self._asked[task] for task in sorted(self._restarted)})
            return outcomes

    def asked_again(self) -> dict[str, int]:
        """The restarted tasks that more than one call asked to restart, with how many calls did."""
        with self._lock:
            return {task: self._asked[task] for task in sorted(self._restarted) if self._asked[task] > 1}

    def _restart(self, task_id: str) -> Outcome:
        task = self._tasks.get(task_id)
        if task is None:
            return no_such_task(task_id)
        if task.api_version != "v2":
            return Outcome(task_id, "failed", "dcs.41.0001", "task not v2")
        if task.migration_type is not MigrationType.ONLINE:
            return Outcome(
                task_id,
                "failed",
                "DCS.4957",
                f"Only online migration tasks can be restarted, not {task.migration_type}.",
            )
        if task.status not in RESTARTABLE_STATUSES:
            return Outcome(
                task_id,
                "failed",
                "DCS.4957",
                f"The operation is not allowed in the task's current state ({task.status}).",
            )
        task.status = Status.MIGRATING
        self._restarted.add(task_id)
        return Outcome(task_id, "success")


NOT_RESTARTABLE_KINDS: tuple[tuple[MigrationType, str, Status], ...] = (
    (MigrationType.ONLINE, "v1", Status.TERMINATED),
    (MigrationType.ONLINE, "v1", Status.FAILED),
    (MigrationType.ONLINE, "v2", Status.MIGRATING),
    (MigrationType.ONLINE, "v2", Status.SUCCESS),
    (MigrationType.ONLINE, "v2", Status.RUNNING),
    (MigrationType.ONLINE, "v2", Status.TERMINATING),
    (MigrationType.ONLINE, "v2", Status.FULLMIGRATING),
    (MigrationType.ONLINE, "v2", Status.INCRMIGEATING),
    (MigrationType.ONLINE, "v2", Status.MIGRATION_FAILED),
    (MigrationType.ONLINE, "v2", Status.RELEASED),
    (MigrationType.BACKUP_IMPORT, "v2", Status.TERMINATED),
    (MigrationType.BACKUP_IMPORT, "v2", Status.FAILED),
)


def seed_store(
    restartable: int = 100,
    per_kind: int = 4,
    seed: int | None = None,
    not_restartable: int | None = None,
    ledger: RestartLedger | None = None,
) -> tuple[TaskStore, dict[str, list[str]]]:
    """A store with known tasks (its restarts counted in ``ledger`` too, if given), and the fixtures file content
    that promises what each will do.

    Half of the restartable tasks are TERMINATED and half FAILED; every non-restartable kind (v1, wrong state,
    backup import) appears ``per_kind`` times, or, with ``not_restartable``, that many tasks cycle through the kinds
    (a staging-sized project has only a few).
    """
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    store = TaskStore(ledger=ledger)
    fixtures: dict[str, list[str]] = {"restartable": [], "not_restartable": []}
    for index in range(restartable):
        status = Status.TERMINATED if index % 2 == 0 else Status.FAILED
        task = MigrationTask(new_id(), MigrationType.ONLINE, "v2", status)
        store.add(task)
        fixtures["restartable"].append(task.task_id)
    kinds = [kind for kind in NOT_RESTARTABLE_KINDS for _ in range(per_kind)]
    if not_restartable is not None:
        kinds = [NOT_RESTARTABLE_KINDS[index % len(NOT_RESTARTABLE_KINDS)] for index in range(not_restartable)]
    for migration_type, api_version, status in kinds:
        task = MigrationTask(new_id(), migration_type, api_version, status)
        store.add(task)
        fixtures["not_restartable"].append(task.task_id)
    return store, fixtures
