"""A run-wide budget for the response bytes held in memory, so that 16 workers hold no more than a few answers.

--max-response-bytes caps one answer; without a budget for the run, 16 workers reading answers near that cap at
once (and the answers read ahead of the judging) hold 16 or 32 of them, and a parsed body costs several times its
bytes. Two rules bound it, both in bytes of the body (a parsed item needs at least a few bytes of JSON, so bounding
bytes bounds the items parsed from them):

- Reading: a worker reserves what it is about to read (its Content-Length, or --max-response-bytes when the length
  is not announced) before the body's first byte, and gives it back once the body is read. The reservation waits
  while the run's other readers hold the budget; a reader alone never waits, so the reading always goes on.
  The wait is the run's doing: it is not counted against the request's --timeout (engine.watchdog).
- Holding: the answers started but not yet judged (see engine.parallel) are a ``Backlog``: a worker starts its next
  request only while that many answers, each as large as the largest one seen so far, stay within the budget,
  unless the request is the next one to be judged (which is therefore always sent). A phase's first request goes
  alone, so the sizes are known before any worker starts. Only the last few answers judged stay parsed, whoever
  keeps the others (judging.results.PARSED_EXCHANGES).

The budget is ``BUDGET_RESPONSES`` times --max-response-bytes.

What the budget bounds is what Python holds; glibc's allocator would still keep, per worker thread, an arena full
of freed body chunks (measured: 16 workers reading valid 8 MiB bodies peaked at 740 MB RSS with 260 MB ever live).
``tame_allocator`` caps the arenas at two and serves every block of 256 KiB or more straight from the system, so
that a body's memory goes back to it when the body is dropped (the same run peaked at 330 MB).
"""

from __future__ import annotations

import ctypes
import itertools
import sys
import threading
from collections.abc import Callable
from typing import Any

#: How many answers near --max-response-bytes the run holds at once, at any number of workers.
BUDGET_RESPONSES = 2
#: glibc's mallopt parameters (malloc.h), and the values tame_allocator sets.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_MMAP_THRESHOLD_BYTES = 256 * 1024
_ARENAS = 2


def tame_allocator() -> None:
    """Make freed response bodies go back to the system (glibc only; elsewhere nothing to do). Called before the
    worker threads start: an arena, once made for a thread, stays."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    mallopt(_M_ARENA_MAX, _ARENAS)
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


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
    """The answers started and not yet judged in one ``parallel.in_order`` run, and the largest body seen in it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pending = 0
        self.largest = 0
        self._changed = threading.Condition()

    def wait_room(self, next_to_judge: Callable[[], bool], stopped: Callable[[], bool]) -> None:
        """Return when a worker may start its request, counted as pending: at once for the next one to be judged
        (``next_to_judge()``, asked again after each judgement), else when one more answer as large as the largest
        seen so far fits in the limit beside those pending."""
        with self._changed:
            while (self.pending + 1) * self.largest > self.limit and not next_to_judge() and not stopped():
                self._changed.wait(timeout=0.1)
            self.pending += 1

    def answered(self, size: int) -> None:
        with self._changed:
            self.largest = max(self.largest, size)

    def judged(self) -> None:
        with self._changed:
            self.pending -= 1
            self._changed.notify_all()


def body_size(result: Any) -> int:
    """The response bytes an answer holds (an Exchange's body; nothing for what is not an answer)."""
    body = getattr(result, "response_body", None)
    return len(body) if isinstance(body, bytes) else 0
