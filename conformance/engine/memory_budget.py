"""A run-wide budget for the response bytes held in memory, so that 16 workers hold no more than a few answers.

--max-response-bytes caps one answer; without a budget for the run, 16 workers reading answers near that cap at
once (and the answers read ahead of the judging) hold 16 or 32 of them, and a parsed body costs several times its
bytes. Two rules bound it, both in bytes of the body (a parsed item needs at least a few bytes of JSON, so bounding
bytes bounds the items parsed from them):

- Reading: a worker reserves what it is about to read (its Content-Length, or --max-response-bytes when the length
  is not announced) before the body's first byte, and gives it back once the body is read. The reservation waits
  while the run's other readers hold the budget; a reader alone never waits, so the reading always goes on.
  The wait is the run's doing: it is not counted against the request's --timeout (engine.watchdog).
- Holding: answers already read but not yet judged (see engine.parallel) are ``Backlog``: a worker starts its next
  request only while the answers waiting for the judge hold less than the budget, unless that request is the next
  one to be judged (which is therefore always sent). Only the answer being judged is ever parsed.

The budget is ``BUDGET_RESPONSES`` times --max-response-bytes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

#: How many answers near --max-response-bytes the run holds at once, at any number of workers.
BUDGET_RESPONSES = 2


class MemoryBudget:
    """Bytes reserved by the bodies being read, across every worker of the run."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a memory budget holds at least one byte, not {limit}")
        self.limit = limit
        self.used = 0
        #: The most ever reserved at once (a reader alone may go over the limit).
        self.peak = 0
        self._holders: dict[int, int] = {}
        self._tickets = itertools.count()
        self._changed = threading.Condition()

    def reserve(self, size: int) -> int:
        """Hold ``size`` bytes for a body about to be read; waits while other readers hold the budget (a reader
        alone never waits). Returns the ticket to release."""
        with self._changed:
            ticket = next(self._tickets)
            while self._holders and self.used + size > self.limit:
                self._changed.wait()
            self._holders[ticket] = size
            self.used += size
            self.peak = max(self.peak, self.used)
        return ticket

    def release(self, ticket: int) -> None:
        with self._changed:
            self.used -= self._holders.pop(ticket)
            self._changed.notify_all()


class Backlog:
    """The bytes of the answers read and not yet judged, in one ``parallel.in_order`` run."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._changed = threading.Condition()

    def wait_room(self, next_to_judge: Callable[[], bool], stopped: Callable[[], bool]) -> None:
        """Return when a worker may start a request: at once for the next one to be judged (``next_to_judge()``,
        asked again after each judgement), else when the answers waiting for the judge hold less than the limit."""
        with self._changed:
            while self.held >= self.limit and not next_to_judge() and not stopped():
                self._changed.wait(timeout=0.1)

    def add(self, size: int) -> None:
        with self._changed:
            self.held += size

    def judged(self, size: int) -> None:
        with self._changed:
            self.held -= size
            self._changed.notify_all()


def body_size(result: Any) -> int:
    """The response bytes an answer holds (an Exchange's body; nothing for what is not an answer)."""
    body = getattr(result, "response_body", None)
    return len(body) if isinstance(body, bytes) else 0
