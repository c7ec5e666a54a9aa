"""conformance.engine.memory_budget: the response bytes all workers hold at once stay within the run's budget, and
the reading always goes on (a reader alone never waits; the next answer to be judged is always sent)."""

from __future__ import annotations

import threading
import time

import pytest

from conformance.engine.memory_budget import Backlog, MemoryBudget, body_size
from conformance.engine.parallel import in_order
from tests.conftest import exchange


def test_a_reader_waits_while_others_hold_the_budget_and_goes_on_when_they_release() -> None:
    budget = MemoryBudget(100)
    first = budget.reserve(80)
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(budget.reserve(30)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and budget.used == 80, "80 + 30 is over the budget of 100"
    budget.release(first)
    waiter.join(2)
    assert got and budget.used == 30 and budget.peak == 80


def test_a_reader_alone_never_waits_even_for_more_than_the_budget() -> None:
    budget = MemoryBudget(100)
    ticket = budget.reserve(500)
    assert budget.used == 500
    budget.release(ticket)
    assert budget.used == 0


def test_sixteen_workers_never_hold_more_than_the_budget_plus_one_answer() -> None:
    budget = MemoryBudget(2 * 1000)
    holding = 0
    most = 0
    lock = threading.Lock()

    def read() -> None:
        nonlocal holding, most
        ticket = budget.reserve(1000)
        with lock:
            holding += 1000
            most = max(most, holding)
        time.sleep(0.01)
        with lock:
            holding -= 1000
        budget.release(ticket)

    threads = [threading.Thread(target=read) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert most <= 2000 and budget.peak <= 2000 and budget.used == 0


def test_answers_read_ahead_of_the_judging_hold_at_most_the_backlog_limit() -> None:
    """16 workers, a window of 32, answers of 1000 bytes, a backlog of 3000 and a slow judge: once the limit is
    reached, a worker starts only the next answer to be judged, so no more than the limit's three answers (and the
    sixteen already in flight) ever wait; and every answer is still judged in order."""
    sent = 0
    lock = threading.Lock()

    def send(number: int) -> object:
        nonlocal sent
        with lock:
            sent += 1
        return exchange(content=b"x" * 1000, seq=number)

    judged: list[int] = []
    ahead: list[int] = []
    for number, result in in_order(send, range(80), 16, hold_bytes=3000):
        time.sleep(0.005)  # a slow judge
        with lock:
            ahead.append(sent - number - 1)
        judged.append(number)
        assert body_size(result) == 1000
    assert judged == list(range(80))
    assert max(ahead) <= 3 + 16, f"read ahead of the judge: {max(ahead)} answers (the window alone allows 32)"


def test_the_next_answer_to_be_judged_is_always_sent_past_the_limit() -> None:
    backlog = Backlog(100)
    backlog.answered(60)
    backlog.wait_room(lambda: False, lambda: False)  # one answer of 60 fits in 100
    started = time.monotonic()
    backlog.wait_room(lambda: True, lambda: False)  # the next to be judged goes, though two of 60 do not fit
    assert time.monotonic() - started < 0.05 and backlog.pending == 2
    stop = threading.Event()
    waiter = threading.Thread(target=backlog.wait_room, args=(lambda: False, stop.is_set))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive(), "a later answer waits while the backlog is full"
    backlog.judged()
    backlog.judged()
    waiter.join(2)
    assert not waiter.is_alive() and backlog.pending == 1


@pytest.mark.parametrize(("result", "size"), [(exchange(content=b"abc"), 3), (None, 0), ("text", 0)])
def test_only_an_answers_body_counts(result: object, size: int) -> None:
    assert body_size(result) == size
