"""What every end-to-end test must keep: no run asks the reference to restart a restartable task twice.

The README promises each restartable task is sent at most once, resends included: the reference's store counts the
calls that name each task (``TaskStore.asked_again``), and every store a test's server restarted anything in is
checked when the test ends. References in other processes (``serve``, the embedded run's child) are counted by
tests/conftest.py, through their restart ledgers. A test that sends a restarted task again on purpose (the
reference's own "already restarting" answer, a second run over spent fixtures) says so with
``@pytest.mark.asks_again``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance.reference.store import TaskStore


@pytest.fixture(autouse=True)
def no_restartable_task_asked_twice(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if request.node.get_closest_marker("asks_again"):
        yield
        return
    stores: dict[int, TaskStore] = {}
    restart_batch = TaskStore.restart_batch

    def counted(store: TaskStore, task_ids: Any) -> Any:
        stores[id(store)] = store
        return restart_batch(store, task_ids)

    monkeypatch.setattr(TaskStore, "restart_batch", counted)
    yield
    again = {task: calls for store in stores.values() for task, calls in store.asked_again().items()}
    assert not again, f"restartable tasks asked to restart by more than one call (task: calls): {again}"
