"""How many requests a run keeps in flight at once, whichever phase and thread sends them.

--workers is the most a run ever has in flight (phases that run side by side share it). A target that throttles
(429 or 503) is asking for less: each throttled answer halves the limit, down to one request at a time, and it
grows back by one after as many answers in a row as the limit, none of them throttled, up to --workers again. A
staging gateway that throttles gets fewer requests at once rather than the same number of resends.

Requests sent ``in_background`` (the property lane's, beside the scenarios: engine.overlap) take a free place only
when no other request waits for one. The scenarios are chains of requests that each wait for the one before, and
they decide when the run ends; the property phases have hundreds of independent requests that fill whatever places
the scenarios leave idle. Without the precedence, a scenario's next request queued behind the lane's and waited
several round trips for each place (measured: 28 round trips for a default run's scenarios, 16 of them their own).
Which requests a run sends does not depend on it, only when each goes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: Set in the context of the sends that yield their turn (see the module docstring).
_background: ContextVar[bool] = ContextVar("in_flight_background", default=False)


@contextmanager
def in_background() -> Iterator[None]:
    """Requests sent in this block, and by threads that run in a copy of its context (engine.parallel's workers),
    wait for a place while any other request waits for one."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


class InFlight:
    """A gate each send passes through (``with gate:``); ``answered`` tells it how the target took the request."""

    def __init__(self, most: int) -> None:
        if most < 1:
            raise ValueError(f"at least one request must be allowed in flight, not {most}")
        self.most = most
        self.limit = most
        self._active = 0
        self._calm = 0
        self._lock = threading.Lock()
        self._foreground = threading.Condition(self._lock)
        self._background = threading.Condition(self._lock)
        self._waiting_foreground = 0
        self._waiting_background = 0

    @property
    def waiting(self) -> tuple[int, int]:
        """How many requests wait for a place: (others, in the background)."""
        with self._lock:
            return self._waiting_foreground, self._waiting_background

    def __enter__(self) -> InFlight:
        background = _background.get()
        with self._lock:
            if background:
                self._waiting_background += 1
                while self._active >= self.limit or self._waiting_foreground:
                    self._background.wait()
                self._waiting_background -= 1
            else:
                self._waiting_foreground += 1
                while self._active >= self.limit:
                    self._foreground.wait()
                self._waiting_foreground -= 1
            self._active += 1
            self._wake()  # a place may be left (the limit grew meanwhile): the next waiter takes it
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._active -= 1
            self._wake()

    def answered(self, *, throttled: bool) -> None:
        with self._lock:
            if throttled:
                self.limit = max(1, self.limit // 2)
                self._calm = 0
                return
            self._calm += 1
            if self._calm >= self.limit and self.limit < self.most:
                self.limit += 1
                self._calm = 0
                self._wake()

    def _wake(self) -> None:
        """Hand a free place to one waiter, a foreground one first (holding the lock)."""
        if self._active >= self.limit:
            return
        if self._waiting_foreground:
            self._foreground.notify()
        else:
            self._background.notify()
