"""One deadline per request, kept on the wire: --timeout bounds the whole exchange, not each read.

httpx's timeouts are per read: a target that drips its headers a byte at a time, or sends ``100 Continue`` (or any
1xx) for ever, never lets one read wait long enough to time out, and httpcore's loop skips interim answers without
counting them. So every network stream the client's connection pools open is wrapped: each read and write may wait
only for what is left of the current request's deadline, and past it raises a read (or write) timeout, whatever
the target is sending. The deadline belongs to the thread that sends (one request at a time per thread), so
requests of other workers, and the judging thread, never share it.

The clock counts time on the wire: the time the sending thread spent waiting inside the network's reads and writes,
from the moment the request is sent. Time the thread spends between reads (parsing, or waiting for the interpreter
while the run judges other answers on another thread) is the run's doing, not the target's, and does not count; nor
does waiting for room in the run's memory budget (engine.memory_budget). A target that keeps bytes coming as fast
as they can be read (1xx answers with no pause) would then never run out of wire time, so the wall clock bounds
every request too, at WALL_FACTOR times --timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from conformance.wire import keepalive

_current = threading.local()
#: However the time was spent, no request lasts longer than this many --timeout on the wall clock.
WALL_FACTOR = 2.0


class Deadline:
    """What is left of one request's --timeout, and what arrived meanwhile."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + WALL_FACTOR * seconds
        self._paused_at: float | None = None
        #: Seconds spent waiting inside reads and writes.
        self.waited = 0.0
        #: Bytes read from the network for this request (head, interim answers and body, before decoding).
        self.received = 0
        #: The stream this request was read from, once it read.
        self.stream: _BoundedStream | None = None

    @property
    def expired(self) -> bool:
        """Nothing is left: a read or write that timed out now timed out because of the deadline."""
        return self.left() <= 0

    def left(self) -> float:
        wall = self._ends - (self._paused_at if self._paused_at is not None else self._clock())
        return min(self.seconds - self.waited, wall)

    @contextmanager
    def on_the_wire(self) -> Iterator[None]:
        """Time in this block (one read or write) counts against the request."""
        started = self._clock()
        try:
            yield
        finally:
            self.waited += self._clock() - started

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Time in this block does not count: the run, not the target, is what waits."""
        self._paused_at = self._clock()
        try:
            yield
        finally:
            self._ends += self._clock() - self._paused_at
            self._paused_at = None

    def retire_connection(self) -> None:
        """Never reuse the connection this request was answered on: a 204 or 304 has no body, whatever the target
        sent after its head, and those bytes would be read as the next request's answer."""
        if self.stream is not None:
            self.stream.retired = True

    def bound(self, timeout: float | None, kind: type[Exception]) -> float:
        """The timeout one read or write may wait: what is left of the deadline, or ``kind`` raised when nothing is."""
        left = self.left()
        if left <= 0:
            raise kind(f"the request was not over after {self.seconds:g} s (--timeout)")
        return left if timeout is None else min(timeout, left)


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Bound every read and write of the enclosed request, on this thread, by ``seconds`` in all."""
    bound = Deadline(seconds)
    previous = getattr(_current, "deadline", None)
    _current.deadline = bound
    try:
        yield bound
    finally:
        _current.deadline = previous


def _active() -> Deadline | None:
    return getattr(_current, "deadline", None)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        #: The pool must not reuse it: it is reported readable, which httpcore takes for a connection the server
        #: closed, and it opens a fresh one instead.
        self.retired = False

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bound = _active()
        if bound is None:
            return self._stream.read(max_bytes, timeout)
        bound.stream = self
        limit = bound.bound(timeout, httpcore.ReadTimeout)
        with bound.on_the_wire():
            data = self._stream.read(max_bytes, limit)
        bound.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        bound = _active()
        if bound is None:
            self._stream.write(buffer, timeout)
            return
        limit = bound.bound(timeout, httpcore.WriteTimeout)
        with bound.on_the_wire():
            self._stream.write(buffer, limit)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _BoundedStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self.retired:
            return True
        return self._stream.get_extra_info(info)


class _BoundedBackend(keepalive.StreamBackend):
    def wrap(self, stream: httpcore.NetworkStream) -> httpcore.NetworkStream:
        return _BoundedStream(stream)


def watch(client: httpx.Client) -> httpx.Client:
    """``client`` with every connection pool it owns (its own, a proxy's) opening bounded streams. A transport that
    has no httpcore pool (a test's mock) is left as it is: it has no wire."""
    for transport in (client._transport, *client._mounts.values()):  # httpx exposes no other hook
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not keepalive.wraps(backend, _BoundedBackend):
            pool._network_backend = _BoundedBackend(backend)  # type: ignore[union-attr]
    return client
