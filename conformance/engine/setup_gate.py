"""Stop early when the setup is wrong: a run whose first requests are all refused as unauthorised or not found, or
all refused 400 even where a conforming target never says 400, stops after a few, instead of sending hundreds of
doomed requests to staging.

An expired token, a wrong --project-id or a base URL with one path segment too many make every request of the run's
own (its credentials, its project) come back 401, 403 or 404, whatever it asks. A conforming target never answers
such a request that way, so once the first ``SETUP_PROBES`` of them have all come back refused, the run stops with
the diagnosis it would have reached after all of them.

A wrong path prefix in front of another API, a proxy or gateway that answers for the target, or a body mangled on
the way make every request come back 400 instead. A 400 alone proves nothing: a conforming target refuses malformed
bodies with 400, and may refuse unknown task IDs as a whole (OBS-004) with it too, so no request of the run's own
counts as one it must accept. So once the first ``SETUP_PROBES`` of them have all come back 400, the gate asks one
question whose answer is never 400 from a conforming target: a well-formed batch of minted IDs without credentials,
which BR-REQ-018 says is answered 401 (a target that does not enforce authentication answers it as the others). A 400
to it too stops the run; any other answer opens the gate for good. The question is asked only when the run has
credentials (without, it would be the same request again).

Until one request is answered otherwise, at most ``SETUP_PROBES`` are out at once, so however many workers a run has,
a refused setup costs only that many requests (plus the question, and the few of other kinds, such as the
authentication checks, which are never held back). An answer of any other status, or a mix of 400s and refusals,
opens the gate for good; a request that got no answer gives its place to the next.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from conformance.judging.results import Exchange
from conformance.support.errors import ConformanceError
from conformance.support.errors import SetupRejected as SetupRejected

#: How many requests of the run's own must all be refused before the run stops (or, all 400, asks its question).
SETUP_PROBES = 10
#: What a wrong setup answers to every request: the credentials refused (401, 403) or the URL unknown (404).
REFUSED_SETUP = frozenset({401, 403, 404})
#: What a target answers to everything when the requests do not reach the API as sent.
BAD_REQUEST = 400
#: The label of the question asked when every request was answered 400.
UNAUTHENTICATED_LABEL = "setup check: a batch of minted IDs without credentials, after every request was answered 400"


class SetupGate:
    """Passed before every request of the run's own (``enter``) and told how each was answered (``settle``).
    ``ask_unauthenticated`` sends the question a conforming target never answers 400 (None: the run has no
    credentials, and a 400 opens the gate as any other answer does)."""

    def __init__(self, probes: int = SETUP_PROBES, ask_unauthenticated: Callable[[], Exchange] | None = None) -> None:
        self._probes = probes
        self._ask = ask_unauthenticated
        self._open = False
        self._closed = False
        self._asking = False
        self._out = 0
        self.refusals: Counter[str] = Counter()
        self._bad_requests = 0
        #: The question asked, once asked: the run judges it (it is an exchange like any other).
        self.asked: Exchange | None = None
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
        ask = False
        with self._changed:
            if self._open or self._closed:
                return None
            if not exchange.judgeable:
                self._out -= 1  # no answer says nothing about the setup: the next request may go in its place
            elif exchange.status in REFUSED_SETUP and not self._bad_requests:
                self.refusals[str(exchange.status)] += 1
                if sum(self.refusals.values()) < self._probes:
                    return None
                return self._stop(SetupRejected(Counter(self.refusals)))
            elif exchange.status == BAD_REQUEST and self._ask is not None and not self.refusals:
                self._bad_requests += 1
                if self._bad_requests < self._probes or self._asking:
                    return None
                self._asking = True
                ask = True
            else:
                self._open = True
            if not ask:
                self._changed.notify_all()
                return None
        return self._ask_unauthenticated()

    def _ask_unauthenticated(self) -> SetupRejected | None:
        """Every request so far was answered 400: ask the question (outside the lock: it is sent like any other
        request) and stop only if it is answered 400 too."""
        assert self._ask is not None
        try:
            asked = self._ask()
        except ConformanceError:
            asked = None  # not sent, or no answer (budget, a target gone): no evidence, so no stop
        with self._changed:
            self.asked = asked
            if self._open or self._closed:
                return None
            if asked is not None and asked.judgeable and asked.status == BAD_REQUEST:
                return self._stop(SetupRejected(Counter({str(BAD_REQUEST): self._bad_requests}), unauthenticated=400))
            self._open = True
            self._changed.notify_all()
            return None

    def _stop(self, rejected: SetupRejected) -> SetupRejected:
        self._closed = True
        self._changed.notify_all()
        return rejected

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
