"""Sending many independent requests at once, judging them in order.

A remote target is slow because of its round trip, not because of us: a few requests in flight hide that latency.
Only sending happens in worker threads, through the run's one client (whose guard, budget, rate limit and
redaction are safe under concurrency); every answer is handed back in the order the requests were planned and
judged on the calling thread, so the ledger, the evidence it keeps and the report are the same for any number of
workers.

The workers are daemon threads fed a few requests ahead: when the run stops (budget spent, target gone, SIGINT), the
caller goes on at once to write its reports, and a worker still waiting for a hanging target never holds the
process back.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_IDLE_POLL_S = 0.1


def in_order(send: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[tuple[T, R]]:
    """Each item with what ``send`` returned for it, in the order of ``items``. An exception raised by ``send``
    (the budget spent, the target gone) is raised here at that item's turn; items not yet started are not sent."""
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield item, send(item)
        return
    # The first request goes alone: a target that cannot be reached (or refuses the TLS handshake) fails once, not
    # once per worker.
    yield items[0], send(items[0])
    items = items[1:]
    futures: list[Future[R]] = [Future() for _ in items]
    pending: queue.Queue[int] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                index = pending.get(timeout=_IDLE_POLL_S)
            except queue.Empty:
                continue
            future = futures[index]
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(send(items[index]))
            except BaseException as exc:  # handed to the caller at this item's turn
                future.set_exception(exc)

    for number in range(workers):
        threading.Thread(target=work, name=f"send-{number}", daemon=True).start()
    window = workers * 2
    for index in range(min(window, len(items))):
        pending.put(index)
    try:
        for index, item in enumerate(items):
            result = futures[index].result()
            if index + window < len(items):
                pending.put(index + window)
            yield item, result
    finally:
        stop.set()
        for future in futures:
            future.cancel()
