"""Never reuse a keep-alive connection the target may already have closed.

A server may close an idle keep-alive connection whenever it likes (RFC 9112 §9.6). A request written into a
connection the server closed a moment before is never read: the client sees a reset or the end of the stream, no
byte of an answer, and cannot tell it from a request the server read and dropped (RFC 9112 §9.3.1). Real clients
avoid the race by not reusing a connection that idled longer than the server keeps one, as the server announces
(``Keep-Alive: timeout=N``) or as the client saw it close them. ``IdlePolicy`` keeps that knowledge for one run and
``tracked`` applies it where httpcore decides whether an idle connection may carry the next request
(``HTTP11Connection.has_expired`` asks the stream whether it is readable, the sign of a server-side close): a
connection idle longer than the policy allows answers that it is, so the pool drops it and opens a fresh one.
"""

from __future__ import annotations

import math
import threading
import time
import typing

import httpcore
import httpx

#: Without a word from the target, a connection idle this long is not reused: below the idle timeouts of common
#: servers (gunicorn 2 s; Apache, Node.js and uvicorn 5 s; nginx 75 s), whose clock starts before the client's.
DEFAULT_MAX_IDLE_S = 1.0
#: A connection is reused only while it has idled less than this share of what the target keeps one (announced, or
#: the shortest idle after which it was seen closed): the target's clock started first, and the close takes a
#: moment to arrive.
MARGIN = 0.5


class IdlePolicy:
    """How long a connection to the target may idle and still be reused, learnt over one run (thread-safe)."""

    def __init__(self, default_s: float = DEFAULT_MAX_IDLE_S) -> None:
        self._default_s = default_s
        self.announced_s: float | None = None
        #: The shortest idle after which a reused connection was found closed, with no byte of an answer.
        self.closed_after_s: float | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def max_idle_s(self) -> float:
        """The longest idle a reused connection may have had."""
        limit = self._default_s
        for kept in (self.announced_s, self.closed_after_s):
            if kept is not None:
                limit = min(limit, kept * MARGIN)
        return limit

    def reusable(self, idle_s: float) -> bool:
        return idle_s < self.max_idle_s()

    def announced(self, value: str | None) -> None:
        """Take a ``Keep-Alive`` header's ``timeout=N`` (seconds the target keeps an idle connection) into account;
        a value that is not a number of seconds is the target's data and changes nothing."""
        seconds = keep_alive_timeout(value)
        if seconds is not None:
            with self._lock:
                self.announced_s = seconds if self.announced_s is None else min(self.announced_s, seconds)

    def closed(self, idle_s: float) -> None:
        """A connection that had idled ``idle_s`` was found closed by the target."""
        with self._lock:
            self.closed_after_s = idle_s if self.closed_after_s is None else min(self.closed_after_s, idle_s)

    def started(self, idle_s: float | None) -> None:
        """The calling thread wrote a request on a connection that had idled ``idle_s`` (None: a fresh one)."""
        self._local.idle_s = idle_s

    def last_idle_s(self) -> float | None:
        """How long the connection of the calling thread's latest request had idled before it (None: fresh)."""
        idle: float | None = getattr(self._local, "idle_s", None)
        return idle


def keep_alive_timeout(value: str | None) -> float | None:
    """The seconds of a ``Keep-Alive: timeout=N, max=M`` header (RFC 2068 §19.7.1.1), or None."""
    for part in (value or "").split(","):
        name, _, number = part.partition("=")
        if name.strip().lower() != "timeout":
            continue
        try:
            seconds = float(number.strip().strip('"'))
        except ValueError:
            return None
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    return None


def tracked(transport: httpx.BaseTransport, policy: IdlePolicy) -> httpx.BaseTransport:
    """The transport, its connections watched and their reuse decided by ``policy``; a transport without an
    httpcore pool (a test's mock) is returned as it is, and one already watched is not watched twice. httpcore
    takes a network backend only when its pool is built, and httpx builds the pool itself: the backend is swapped
    in before the pool opens any connection."""
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool) and not wraps(pool._network_backend, _Backend):
        pool._network_backend = _Backend(pool._network_backend, policy)
    return transport


def wraps(backend: object, kind: type) -> bool:
    """Whether ``backend``, or a backend it wraps (``inner``, as the suite's wrappers name it), is a ``kind``: a
    transport several clients share is wrapped once, whatever wrapped it since."""
    while backend is not None:
        if isinstance(backend, kind):
            return True
        backend = getattr(backend, "inner", None)
    return False


class StreamBackend(httpcore.NetworkBackend):
    """A network backend that opens its ``inner`` backend's streams wrapped by ``wrap``: how the suite watches the
    wire (this module's idle tracking, engine.watchdog's deadline) without a backend of its own per concern."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def wrap(self, stream: httpcore.NetworkStream) -> httpcore.NetworkStream:
        raise NotImplementedError

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        return self.wrap(self.inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[typing.Any] | None = None
    ) -> httpcore.NetworkStream:
        return self.wrap(self.inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _Backend(StreamBackend):
    def __init__(self, inner: httpcore.NetworkBackend, policy: IdlePolicy) -> None:
        super().__init__(inner)
        self._policy = policy

    def wrap(self, stream: httpcore.NetworkStream) -> httpcore.NetworkStream:
        return _Stream(stream, self._policy)


class _Stream(httpcore.NetworkStream):
    """A connection's stream that knows how long it has idled since the end of its last answer."""

    def __init__(self, inner: httpcore.NetworkStream, policy: IdlePolicy) -> None:
        self._inner = inner
        self._policy = policy
        #: When the latest byte of an answer arrived; None before the first answer.
        self._heard_at: float | None = None
        #: A request was written and no byte of its answer has arrived yet.
        self._waiting = False
        #: How long the connection had idled before the request in flight; None on its first request.
        self._idle_s: float | None = None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            data = self._inner.read(max_bytes, timeout)
        except httpcore.ReadError:
            self._closed_unanswered()
            raise
        if not data:
            self._closed_unanswered()
        else:
            self._waiting = False
            self._heard_at = time.monotonic()
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not self._waiting:
            # A new request: its head is the first write after an answer (or on a fresh connection).
            self._waiting = True
            self._idle_s = None if self._heard_at is None else time.monotonic() - self._heard_at
            self._policy.started(self._idle_s)
        try:
            self._inner.write(buffer, timeout)
        except httpcore.WriteError:
            self._closed_unanswered()
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: typing.Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._policy)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable" and not self._waiting and self._heard_at is not None:
            # Asked by the pool of an idle connection, before it carries another request.
            idle = time.monotonic() - self._heard_at
            if not self._policy.reusable(idle):
                return True
            readable = self._inner.get_extra_info(info)
            if readable:
                self._policy.closed(idle)  # the target closed it (or sent something unasked) while it idled
            return readable
        return self._inner.get_extra_info(info)

    def _closed_unanswered(self) -> None:
        if self._waiting and self._idle_s is not None:
            self._policy.closed(self._idle_s)
