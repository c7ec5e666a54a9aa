"""Stop early when the setup is wrong: a run whose first requests are all refused as unauthorised or not found stops
after a few, instead of sending hundreds of doomed requests to staging.

An expired token, a wrong --project-id or a base URL with one path segment too many make every request of the run's
own (its credentials, its project) come back 401, 403 or 404, whatever it asks. A conforming target never answers
such a request that way, so once the first ``SETUP_PROBES`` of them have all come back refused, the run stops with
the diagnosis it would have reached after all of them. Until one of them is answered otherwise, at most
``SETUP_PROBES`` are out at once, so however many workers a run has, a refused setup costs only that many requests
(plus the few of other kinds, such as the authentication checks, which are never held back). An answer of any
other status opens the gate for good; a request that got no answer gives its place to the next.
"""

from __future__ import annotations

import threading
from collections import Counter

from conformance.judging.results import Exchange
from conformance.support.errors import SetupRejected as SetupRejected

#: How many requests of the run's own must all be refused before the run stops.
SETUP_PROBES = 10
#: What a wrong setup answers to every request: the credentials refused (401, 403) or the URL unknown (404).
REFUSED_SETUP = frozenset({401, 403, 404})


class SetupGate:
    """Passed before every request of the run's own (``enter``) and told how each was answered (``settle``)."""

    def __init__(self, probes: int = SETUP_PROBES) -> None:
        self._probes = probes
        self._open = False
        self._closed = False
        self._out = 0
        self.refusals: Counter[str] = Counter()
        self._changed = threading.Condition()

    def enter(self) -> None:
        """Wait while ``probes`` requests are out and none has shown the setup works; return at once when the gate
        is open, or closed (the run is stopping: the caller raises the stop)."""
        with self._changed:
            while not self._open and not self._closed and self._out >= self._probes:
                self._changed.wait()
            if not self._open:
                self._out += 1

    def settle(self, exchange: Exchange) -> SetupRejected | None:
        """Note how one request of the run's own was answered; the stop, once ``probes`` of them were refused."""
        with self._changed:
            if self._open or self._closed:
                return None
            if not exchange.judgeable:
                self._out -= 1  # no answer says nothing about the setup: the next request may go in its place
            elif exchange.status in REFUSED_SETUP:
                self.refusals[str(exchange.status)] += 1
                if sum(self.refusals.values()) < self._probes:
                    return None
                self._closed = True
                self._changed.notify_all()
                return SetupRejected(Counter(self.refusals))
            else:
                self._open = True
            self._changed.notify_all()
            return None

    def abandon(self) -> None:
        """A request of the run's own ended without an answer to settle (the run is stopping, or the target cannot
        be reached): its place goes to the next."""
        with self._changed:
            if not self._open and not self._closed:
                self._out -= 1
                self._changed.notify_all()

    def close(self) -> None:
        """The run is stopping for another reason: nobody waits any more."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
