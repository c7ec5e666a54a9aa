"""Sending many independent requests at once, judging them in order.

A remote target is slow because of its round trip, not because of us: a few requests in flight hide that latency.
Only sending happens in worker threads, through the run's one client (whose guard, budget, rate limit and
redaction are safe under concurrency); every answer is handed back in the order the requests were planned and
judged on the calling thread, so the ledger, the evidence it keeps and the report are the same for any number of
workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def in_order(send: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[tuple[T, R]]:
    """Each item with what ``send`` returned for it, in the order of ``items``. An exception raised by ``send``
    (the budget spent, the target gone) is raised here at that item's turn; later items are not sent if not yet
    started."""
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield item, send(item)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send") as pool:
        window = workers * 2
        futures: list[Future[R]] = [pool.submit(send, item) for item in items[:window]]
        try:
            for index, item in enumerate(items):
                result = futures[index].result()
                if index + window < len(items):
                    futures.append(pool.submit(send, items[index + window]))
                yield item, result
        finally:
            for future in futures:
                future.cancel()
