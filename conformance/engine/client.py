"""The one HTTP client every request of a run passes through.

It owns what must hold for the whole run, property-based phases included: the ID guard, the request budget, the
rate limit, how many requests are in flight at once (engine.in_flight), authentication (token or AK/SK signatures
made exactly as the vendor SDK makes them) and redaction of everything it records.

It also decides what one request's outcome is, whatever the target does: a complete answer; or an exchange without
a complete answer (timeout, reset, not HTTP, a body over the cap), which is evidence like any other; or, for 429
and 503, a wait as Retry-After asks and a resend. A request is sent again only when it certainly did not reach the
target (connect error), or once on a fresh connection when a reused keep-alive connection failed before any answer;
never when it names a restartable fixture (that one goes once, throttled or not, on a connection of its own). The
run stops only when the target stopped answering: several requests in a row without an answer, and then no answer
to the plainest request either (a probe naming one minted ID), so that a target that never answers one kind of
request (large batches, say) is judged, not abandoned.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import httpx

from conformance.config.credentials import Credentials, near_miss_tokens
from conformance.config.settings import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_S
from conformance.contract import ENDPOINT
from conformance.engine import watchdog
from conformance.engine.guard import IdGuard
from conformance.engine.in_flight import InFlight
from conformance.engine.memory_budget import BUDGET_RESPONSES, MemoryBudget, tame_allocator
from conformance.engine.request_order import Outcome, RequestOrder
from conformance.engine.setup_gate import SetupGate
from conformance.judging.results import Exchange
from conformance.support.errors import BudgetExhausted as BudgetExhausted
from conformance.support.errors import Halted as Halted
from conformance.support.errors import TargetStopped as TargetStopped
from conformance.support.errors import TargetThrottling as TargetThrottling
from conformance.support.errors import TargetUnreachable as TargetUnreachable
from conformance.support.errors import TransportFailure as TransportFailure
from conformance.support.redaction import Redactor, proxy_secrets, userinfo_secrets
from conformance.wire import keepalive, signing, tls

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
#: The target may have stopped answering: after this many requests in a row without a complete answer, a probe
#: decides (no answer to it either ends the run).
STOP_AFTER_UNANSWERED = 5
PROBE_LABEL = "probe: does the target still answer the plainest request?"
#: This many requests in a row still throttled after every resend end the run as incomplete.
STOP_AFTER_THROTTLED = 5
THROTTLE_RESENDS = 3
RETRY_AFTER_CAP_S = 30.0
#: All the throttling waits of a run together, whichever workers wait: once spent, a throttled answer is final.
THROTTLE_WAIT_BUDGET_S = 60.0
CONNECT_RETRIES = 2
THROTTLE_STATUSES = frozenset({429, 503})
#: Answers that end with their head (RFC 9110 15.3.5, 15.4.5): their connection is never reused (engine.watchdog).
NO_BODY_STATUSES = frozenset({204, 304})
#: How much each new answer moves the smoothed round trip.
ROUND_TRIP_WEIGHT = 0.2
#: What an Auth.OTHER_BODY request's signature is made for instead of its own body.
OTHER_SIGNED_BODY = b'{"migration_tasks": ["00000000-0000-4000-8000-000000000000"]}'


def encode_json(document: Any) -> bytes:
    """UTF-8 JSON as the SDK's users would send it; strings UTF-8 cannot carry (lone surrogates) are escaped."""
    try:
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document).encode("ascii")


class Auth(Enum):
    """How one request authenticates: normally, or in one of the ways the auth checks need."""

    DEFAULT = "default"
    NONE = "none"
    WRONG_TOKEN = "wrong token"
    NEAR_MISS_TOKEN = "token whose last character differs from the real one"
    TRUNCATED_TOKEN = "token one character shorter than the real one"
    UNKNOWN_KEY = "signature by an unknown access key"
    WRONG_SECRET = "signature made with a wrong secret key"
    TAMPERED_BODY = "body changed after signing"
    OTHER_BODY = "signature made for another body"
    STALE_DATE = "signature dated 20 minutes ago"
    READONLY = "credential without dcs:migrationTask:modify"


@dataclass
class _Attempt:
    """What one send produced, before it becomes an Exchange."""

    request_headers: dict[str, str]
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    failure: str | None = None
    fresh_connection: bool = False
    #: No byte of an answer arrived because the connection failed (not because the target was slow).
    dropped: bool = False
    #: The whole request had been sent when the connection failed: the target had it and did not answer.
    request_sent: bool = False
    connect_error: str | None = None
    elapsed_ms: float = 0.0
    #: Bytes of an answer arrived (a status line, or something that is not HTTP), complete or not.
    heard: bool = False


class _NoCookies(httpx.Cookies):
    """The cookies of a client that keeps none: the suite never sends a cookie back, and parsing thousands of
    Set-Cookie headers into a jar (which every later request then copies) cost seconds per answer; even into a jar
    that keeps nothing, httpx first wraps every answer and its request for the standard library's jar (about 5% of
    the CPU of a run against the embedded reference). Nothing is extracted here, so nothing is wrapped or kept.
    Set-Cookie stays in the evidence."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _Http(httpx.Client):
    """httpx's client without its redirect handling: the suite never follows a redirect, and httpx parses a 3xx
    answer's Location into the next request even so, raising (InvalidURL, an IDNA error) on a value that is not a
    URL: ``javascript:``, a malformed host. The header is the target's data, recorded as sent and judged, never a
    crash; so each request is sent exactly once, as by ``_send_single_request``, and nothing reads Location.
    Its connections are reused only as ``keep_alive`` allows (conformance.wire.keepalive)."""

    def __init__(self, keep_alive: keepalive.IdlePolicy, **kwargs: Any) -> None:
        self._keep_alive = keep_alive
        super().__init__(**kwargs)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise AttributeError("the suite's HTTP client keeps no cookies")

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.BaseTransport:
        return keepalive.tracked(super()._init_transport(*args, **kwargs), self._keep_alive)

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.BaseTransport:
        return keepalive.tracked(super()._init_proxy_transport(*args, **kwargs), self._keep_alive)

    def _send_handling_redirects(
        self, request: httpx.Request, follow_redirects: bool, history: list[httpx.Response]
    ) -> httpx.Response:
        for hook in self._event_hooks["request"]:
            hook(request)
        response = self._send_single_request(request)
        try:
            for hook in self._event_hooks["response"]:
                hook(response)
        except BaseException:
            response.close()
            raise
        return response


class TargetClient:
    def __init__(
        self,
        base_url: str,
        project_id: str,
        *,
        credentials: Credentials | None = None,
        guard: IdGuard | None = None,
        rate_limit: float | None = None,
        max_requests: int | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.BaseTransport | None = None,
        sleep: Any = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        ssl_context: ssl.SSLContext | None = None,
        trust_env: bool = True,
        max_in_flight: int | None = None,
        setup_gate: SetupGate | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self.credentials = credentials or Credentials()
        self.guard = guard or IdGuard()
        self.redactor = Redactor(
            [
                *self.credentials.secrets(),
                *userinfo_secrets(base_url),
                *(proxy_secrets(os.environ) if trust_env else ()),
            ]
        )
        self.max_requests = max_requests
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.sent = 0
        #: The last request number handed out (Exchange.seq); apart from ``sent``, which refunds lower.
        self._numbered = 0
        self.unanswered = 0
        self.throttled = 0
        self.last_answered = 0
        #: How long the target takes to answer, smoothed over the recent answers (ms); 0 before the first.
        self.round_trip_ms = 0.0
        self._unanswered_in_a_row = 0
        self._throttled_in_a_row = 0
        #: The rules counting outcomes in a row count them in the order the requests were issued.
        self._order = RequestOrder()
        self.throttle_wait_left_s = THROTTLE_WAIT_BUDGET_S
        #: The response bytes all workers together read at once (engine.memory_budget).
        self.memory = MemoryBudget(BUDGET_RESPONSES * max_response_bytes)
        tame_allocator()
        #: Some answer's bytes arrived, complete or not: the target was reached, whatever else it did.
        self._heard = False
        self._halt: BaseException | None = None
        self._first_claimed = False
        self._first_settled = threading.Event()
        #: Requests in flight at once, whichever phase sends them (--workers), fewer while the target throttles.
        self.in_flight = InFlight(max_in_flight) if max_in_flight else None
        #: Stops the run after its first requests are all refused 401/403/404 (engine/setup_gate.py).
        self.setup_gate = setup_gate
        #: The probes sent so far (see _confirm_stopped), until the run takes them to record on its own thread.
        self._probes: list[Exchange] = []
        self._probe_due = False
        self._probing = False
        self._interval = 1.0 / rate_limit if rate_limit else 0.0
        self._next_slot = 0.0
        self._lock = threading.Lock()
        self._t0 = time.perf_counter()
        self._sleep = sleep
        self._clock = clock
        self._transport = transport
        self._ssl_context = ssl_context
        # Built once: loading the CA store costs 0.1-0.2 s of CPU, and a resend on a fresh connection needs it.
        self._verify = ssl_context if ssl_context is not None else default_tls_context(self.base_url, trust_env)
        self._trust_env = trust_env
        #: How long a connection may idle and be reused, as the target announced or was seen closing them.
        self.keep_alive = keepalive.IdlePolicy()
        self._http = self._new_http()

    def _new_http(self) -> httpx.Client:
        return watchdog.watch(
            _Http(
                self.keep_alive,
                timeout=self.timeout,
                transport=self._transport,
                follow_redirects=False,
                verify=self._verify,
                trust_env=self._trust_env,
            )
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TargetClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, project_id: str | None = None) -> str:
        project = quote(project_id if project_id is not None else self.project_id, safe="")
        return self.base_url + ENDPOINT.replace("{project_id}", project)

    def post_json(self, document: Any, **kwargs: Any) -> Exchange:
        return self.post(encode_json(document), **kwargs)

    def post(
        self,
        body: bytes | None,
        *,
        auth: Auth = Auth.DEFAULT,
        project_id: str | None = None,
        content_type: str | None = JSON_CONTENT_TYPE,
        label: str = "",
    ) -> Exchange:
        """Send one POST to the endpoint, after the guard, the budget and the rate limit allow it, and return its
        one outcome (see the module docstring)."""
        # The run's first request goes alone, whichever thread sends it: a target that cannot be reached (a refused
        # TLS handshake or proxy tunnel) is tried once, not once per phase or worker.
        with self._lock:
            first, self._first_claimed = not self._first_claimed, True
        if not first:
            self._first_settled.wait()
        gate = self.setup_gate if auth is Auth.DEFAULT and project_id in (None, self.project_id) else None
        try:
            if gate is not None:
                gate.enter()
            try:
                return self._post(
                    body, auth=auth, project_id=project_id, content_type=content_type, label=label, gate=gate
                )
            except BaseException:
                if gate is not None:
                    gate.abandon()  # no answer to settle: its place goes to the next request
                raise
        finally:
            if first:
                self._first_settled.set()

    def _post(
        self,
        body: bytes | None,
        *,
        auth: Auth,
        project_id: str | None,
        content_type: str | None,
        label: str,
        gate: SetupGate | None,
    ) -> Exchange:
        with self._lock:
            number = self._order.issue()
        outcome: Outcome | None = None
        try:
            exchange = self._send(body, auth, project_id, content_type, label, gate)
            outcome = _outcome(exchange)
        finally:
            self._count(number, outcome)
        if self._probe_due:
            self._confirm_stopped()
        return exchange

    def _send(
        self,
        body: bytes | None,
        auth: Auth,
        project_id: str | None,
        content_type: str | None,
        label: str,
        gate: SetupGate | None,
    ) -> Exchange:
        if self._halt is not None:
            raise self._halt
        spent = self.guard.admit(body)
        url = self.url(project_id)
        headers: dict[str, str] = {}
        if content_type:
            headers["Content-Type"] = content_type
        headers, body = self._authenticate(url, headers, body or b"", auth, project_id)
        earlier: str | None = None
        throttles = 0
        connect_failures = 0
        fresh: httpx.Client | None = None
        while True:
            with self.in_flight or nullcontext():
                seq = self._take_slot()
                if spent:  # a restartable task never goes into a connection the target may just have closed
                    fresh = fresh or self._new_http()
                try:
                    attempt = self._attempt(fresh or self._http, url, headers, body)
                finally:
                    if fresh is not None:
                        fresh.close()
                        fresh = None
            if self.in_flight is not None and attempt.failure is None and attempt.connect_error is None:
                self.in_flight.answered(throttled=attempt.status in THROTTLE_STATUSES)
            if attempt.connect_error is not None:
                # It never reached the target: it may be sent again, and it does not count against the budget.
                self._refund(seq)
                connect_failures += 1
                if connect_failures > CONNECT_RETRIES:
                    stopped = self._stopped(f"{attempt.connect_error} (tried {connect_failures} times)")
                    with self._lock:  # every other worker stops at once instead of retrying on its own
                        self._halt = self._halt or stopped
                    raise stopped
                self._sleep(0.5 * connect_failures)
                continue
            if attempt.dropped and not attempt.fresh_connection and not spent and earlier is None:
                when = "after the whole request was sent" if attempt.request_sent else "while the request was sent"
                idle = self.keep_alive.last_idle_s()
                idled = f" (idle {idle * 1000:.1f} ms before it)" if idle is not None else ""
                earlier = f"request #{seq}: {attempt.failure} on a reused keep-alive connection{idled}, {when}"
                fresh = self._new_http()  # this one request only: other threads keep using the shared pool
                continue
            resend = throttles < THROTTLE_RESENDS and not spent  # a request naming a restartable task goes once
            if attempt.failure is None and attempt.status in THROTTLE_STATUSES and resend:
                wait = self._throttle_wait(retry_after(attempt.headers.get("retry-after"), throttles + 1))
                if wait is not None:
                    throttles += 1
                    self._sleep(wait)
                    continue
            break
        throttled = attempt.failure is None and attempt.status in THROTTLE_STATUSES
        exchange = Exchange(
            method="POST",
            url=self.redactor.text(url),
            request_headers=self.redactor.headers(attempt.request_headers),
            request_body=self.redactor.data(body),
            status=attempt.status,
            response_headers=self.redactor.headers(attempt.headers),
            response_body=self.redactor.data(attempt.body) or b"",
            elapsed_ms=attempt.elapsed_ms,
            label=label,
            seq=seq,
            at_s=round(time.perf_counter() - self._t0, 3),
            failure=self.redactor.text(attempt.failure) if attempt.failure else None,
            throttled=throttled,
            earlier_failure=earlier,
        )
        with self._lock:
            self._heard = self._heard or attempt.heard or exchange.complete
        if gate is not None and (rejected := gate.settle(exchange)) is not None:
            with self._lock:  # the next request of any thread raises it; this answer is still judged
                self._halt = self._halt or rejected
        return exchange

    def _throttle_wait(self, wanted: float) -> float | None:
        """The wait before resending a throttled request, taken from the run's THROTTLE_WAIT_BUDGET_S; None when
        that budget is spent (the throttled answer is then final)."""
        with self._lock:
            if wanted > 0 and self.throttle_wait_left_s <= 0:
                return None
            wait = min(wanted, self.throttle_wait_left_s)
            self.throttle_wait_left_s -= wait
            return wait

    def _confirm_stopped(self) -> None:
        """Ask the plainest question (one minted ID, which restarts nothing) before calling the target stopped. An
        answer means the target still answers: the requests it left unanswered are findings (BR-REQ-023) and the
        run goes on. One thread probes at a time; the others carry on meanwhile."""
        with self._lock:
            if not self._probe_due or self._probing:
                return
            self._probe_due, self._probing = False, True
        try:
            probe = self.post_json({"migration_tasks": [self.guard.mint()]}, label=PROBE_LABEL)
        except BudgetExhausted:
            with self._lock:
                self._halt = self._halt or self._stopped(
                    f"{self._unanswered_in_a_row} requests in a row got no complete answer, and no request was left "
                    "in the budget to ask whether it still answers"
                )
            return
        except (TargetUnreachable, TargetThrottling):
            # Already kept as the halt: the next request raises it; this one's exchange is still returned and judged.
            return
        finally:
            with self._lock:
                self._probing = False
        with self._lock:
            self._probes.append(probe)

    def halt(self, why: str) -> None:
        """Refuse every request from now on (each raises Halted): the run is over, whichever thread still sends."""
        with self._lock:
            self._halt = self._halt or Halted(why)
        self._first_settled.set()
        if self.setup_gate is not None:
            self.setup_gate.close()

    def take_probes(self) -> list[Exchange]:
        """The probes sent since the last call: the run records them where it judges, never on a sending thread."""
        with self._lock:
            taken, self._probes = self._probes, []
        return taken

    def _count(self, number: int, outcome: Outcome | None) -> None:
        """Keep the tallies that decide when the target has stopped answering or throttles everything, in the order
        the requests were issued (engine.request_order); None for a request abandoned without an outcome."""
        with self._lock:
            for due in self._order.settle(number, outcome):
                self._tally(due)

    def _tally(self, exchange: Outcome) -> None:
        if exchange.throttled:
            self.throttled += 1
            self._throttled_in_a_row += 1
            if self._throttled_in_a_row >= STOP_AFTER_THROTTLED:
                self._halt = TargetThrottling(
                    f"the target throttled {self._throttled_in_a_row} requests in a row (status {exchange.status}) "
                    f"even after {THROTTLE_RESENDS} resends each, waiting as Retry-After asked"
                )
        else:
            self._throttled_in_a_row = 0
        if exchange.complete:
            self._unanswered_in_a_row = 0
            self._probe_due = False  # the target answered meanwhile: nothing to ask
            self.last_answered = max(self.last_answered, exchange.seq)
            previous = self.round_trip_ms or exchange.elapsed_ms
            self.round_trip_ms = previous + ROUND_TRIP_WEIGHT * (exchange.elapsed_ms - previous)
            return
        self.unanswered += 1
        self._unanswered_in_a_row += 1
        if self._unanswered_in_a_row < STOP_AFTER_UNANSWERED:
            return
        if exchange.label == PROBE_LABEL:
            self._halt = self._stopped(
                f"{self._unanswered_in_a_row - 1} requests in a row got no complete answer, nor did a probe naming "
                f"one minted ID (the last: {exchange.failure})"
            )
        elif not self._probing:
            self._probe_due = True

    def _stopped(self, why: str) -> TargetUnreachable:
        if not self.last_answered and self._heard:
            return TargetStopped(f"the target sent answers but never a complete one: {why}")
        if not self.last_answered:
            return TargetUnreachable(f"{why} on POST {self.redactor.text(self.url())}")
        return TargetStopped(f"the target stopped answering after request #{self.last_answered}: {why}")

    def _attempt(self, http: httpx.Client, url: str, headers: dict[str, str], body: bytes) -> _Attempt:
        """One send, bounded as a whole by the timeout and the body cap; never raises for the target's doing."""
        events: list[str] = []
        request = http.build_request(
            "POST",
            _parsed_url(url),
            headers=headers,
            content=body,
            extensions={"trace": lambda name, _: events.append(name)},
        )
        attempt = _Attempt(request_headers=_plain_headers(request.headers))
        started = time.perf_counter()
        with watchdog.deadline(self.timeout) as wire:
            self._exchange(http, request, attempt, events, wire)
        attempt.fresh_connection = any(name.startswith("connection.connect_tcp") for name in events)
        attempt.request_sent = "http11.send_request_body.complete" in events
        attempt.elapsed_ms = (time.perf_counter() - started) * 1000
        return attempt

    def _exchange(
        self, http: httpx.Client, request: httpx.Request, attempt: _Attempt, events: list[str], wire: watchdog.Deadline
    ) -> None:
        try:
            response = http.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._end_on_transport_failure(exc, events)
            attempt.connect_error = f"{type(exc).__name__}: {str(exc) or 'no connection'}"
            return
        except httpx.TimeoutException as exc:
            attempt.failure = f"no answer: {type(exc).__name__} after {_seconds(self.timeout)}"
            if wire.expired and wire.received:
                attempt.heard = True
                attempt.failure = (
                    f"no answer: {wire.received} byte(s) arrived in {_seconds(self.timeout)} (--timeout), never a "
                    "complete head (headers too slow, or interim 1xx answers only)"
                )
        except httpx.RemoteProtocolError as exc:
            self._end_on_transport_failure(exc, events)
            attempt.failure = f"no answer: {_protocol_error(exc)}"
            attempt.dropped = "disconnected" in str(exc)
            attempt.heard = not attempt.dropped  # something arrived, and it was not HTTP
        except httpx.TransportError as exc:
            self._end_on_transport_failure(exc, events)
            attempt.failure = f"no answer: {type(exc).__name__}: {str(exc) or 'connection failed'}"
            attempt.dropped = isinstance(exc, httpx.NetworkError)
        except httpx.DecodingError as exc:
            attempt.failure = f"the body cannot be decoded as its Content-Encoding says: {exc}"
        else:
            try:
                attempt.heard = True
                attempt.status = response.status_code
                attempt.headers = _plain_headers(response.headers)
                self.keep_alive.announced(attempt.headers.get("keep-alive"))
                if attempt.status in NO_BODY_STATUSES:
                    wire.retire_connection()
                with wire.paused():
                    ticket = self.memory.reserve(_expected_size(response, self.max_response_bytes))
                try:
                    attempt.body, attempt.failure = self._read_body(response, wire)
                finally:
                    self.memory.release(ticket)
            finally:
                response.close()

    def _end_on_transport_failure(self, exc: httpx.TransportError, events: list[str]) -> None:
        """A refused TLS handshake or proxy tunnel ends the run now, with its cause (see conformance.wire.tls). A
        connection dropped right after its handshake, before the target ever answered, counts when the server asked
        for a client certificate: that is how TLS 1.3 servers often refuse one."""
        host = httpx.URL(self.base_url).netloc.decode("ascii", "replace")
        dropped = any(name.endswith("start_tls.complete") for name in events) and not self.last_answered
        cause = tls.failure_cause(exc, self._ssl_context, host, dropped_after_handshake=dropped)
        if cause is None:
            return
        if not dropped:
            self._refund()  # the request never reached the target
        self._halt = TransportFailure(cause)
        raise self._halt

    def _read_body(self, response: httpx.Response, wire: watchdog.Deadline) -> tuple[bytes, str | None]:
        """The decoded body, up to the cap and the deadline; the reason when either stopped the reading."""
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    return b"".join(chunks), (
                        f"the body exceeds {self.max_response_bytes} bytes (--max-response-bytes, after "
                        "decompression); reading stopped there"
                    )
                chunks.append(chunk)
                if wire.left() <= 0:
                    return b"".join(chunks), self._late(size)
        except httpx.TimeoutException as exc:
            if wire.expired:
                return b"".join(chunks), self._late(size)
            return b"".join(chunks), f"the body stopped arriving: {type(exc).__name__} after {size} bytes"
        except httpx.DecodingError as exc:
            return b"".join(chunks), f"the body cannot be decoded as its Content-Encoding says: {exc}"
        except httpx.RemoteProtocolError as exc:
            # The head was HTTP; the body's framing (Content-Length, chunks) was not kept.
            return b"".join(chunks), f"the answer broke HTTP framing after {size} bytes of the body: {exc}"
        except httpx.TransportError as exc:
            return b"".join(chunks), f"the body is cut short: {type(exc).__name__}: {exc} after {size} bytes"
        return b"".join(chunks), None

    def _late(self, size: int) -> str:
        timeout = _seconds(self.timeout)
        return f"the response was not complete after {timeout} (--timeout): {size} bytes of the body had arrived"

    def _take_slot(self) -> int:
        with self._lock:
            if self.max_requests is not None and self.sent >= self.max_requests:
                raise BudgetExhausted(f"the request budget of {self.max_requests} is spent")
            self.sent += 1
            self._numbered += 1
            seq = self._numbered
            now = self._clock()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._interval
        if wait > 0:
            self._sleep(wait)
        return seq

    def _refund(self, seq: int | None = None) -> None:
        """Give back the budget of attempt ``seq``, which never reached the target. Its number goes back only while
        no request has taken a later one: numbers stay unique and in the order requests went out (the judging
        records an exchange once by its number), without holes when nothing overtook the attempt. None: the run
        ends with this attempt, its number is not handed out again."""
        with self._lock:
            self.sent -= 1
            if seq is not None and self._numbered == seq:
                self._numbered -= 1

    def _authenticate(
        self, url: str, headers: dict[str, str], body: bytes, auth: Auth, project_id: str | None
    ) -> tuple[dict[str, str], bytes]:
        creds = self.credentials
        if auth is Auth.READONLY and creds.readonly_configured:
            if creds.readonly_token:
                return {**headers, "X-Auth-Token": creds.readonly_token}, body
            return self._sign(url, headers, body, creds.readonly_ak or "", creds.readonly_sk or "", project_id), body
        if auth is Auth.NONE or not creds.configured:
            return headers, body
        if creds.token:
            token = creds.token
            if auth is Auth.WRONG_TOKEN:
                token = secrets.token_hex(32)
            elif auth in (Auth.NEAR_MISS_TOKEN, Auth.TRUNCATED_TOKEN):
                changed, truncated = near_miss_tokens(creds.token)
                token = changed if auth is Auth.NEAR_MISS_TOKEN else truncated
            return {**headers, "X-Auth-Token": token}, body
        ak, sk = creds.ak or "", creds.sk or ""
        if auth is Auth.UNKNOWN_KEY:
            ak = secrets.token_hex(10).upper()
        elif auth is Auth.WRONG_SECRET:
            sk = secrets.token_hex(20)
        when = time.time() - 20 * 60 if auth is Auth.STALE_DATE else None
        # A body of the same shape, never sent: a signature valid for it must not let this body through. (The
        # tampered body adds a space only, which a server that hashes the body stripped would not notice.)
        signed_body = OTHER_SIGNED_BODY if auth is Auth.OTHER_BODY else body
        signed = self._sign(url, headers, signed_body, ak, sk, project_id, when)
        if auth is Auth.TAMPERED_BODY:
            body = body + b" "
        return signed, body

    def _sign(
        self,
        url: str,
        headers: dict[str, str],
        body: bytes,
        ak: str,
        sk: str,
        project_id: str | None,
        when: float | None = None,
    ) -> dict[str, str]:
        headers = {**headers, "X-Project-Id": project_id if project_id is not None else self.project_id}
        now = datetime.fromtimestamp(when, UTC) if when is not None else None
        return signing.sign("POST", url, headers, body, ak, sk, now=now)


def retry_after(value: str | None, attempt: int) -> float:
    """Seconds to wait before resending a throttled request: as Retry-After says (seconds or an HTTP date), else
    1, 2, 4... seconds; never more than RETRY_AFTER_CAP_S."""
    wait: float | None = None
    if value:
        text = value.strip()
        try:
            wait = float(text)
        except ValueError:
            try:
                wait = (parsedate_to_datetime(text) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError, IndexError, OverflowError):
                wait = None
        if wait is not None and not math.isfinite(wait):
            wait = None
    if wait is None:
        wait = float(2 ** (attempt - 1))
    return min(max(wait, 0.0), RETRY_AFTER_CAP_S)


def default_tls_context(base_url: str, trust_env: bool) -> ssl.SSLContext:
    """What verifies the target's certificate when the run gave no context of its own. A plain-HTTP target never
    takes a TLS handshake with it (a proxy's own TLS uses the proxy's context, httpcore.HTTPProxy), so it gets a
    context that trusts no certificate at all, which would refuse any handshake rather than accept one, instead of
    loading the CA store every run for nothing."""
    if httpx.URL(base_url).scheme == "http":
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with no CA: fails closed
    return httpx.create_ssl_context(trust_env=trust_env)


@lru_cache(maxsize=64)
def _parsed_url(url: str) -> httpx.URL:
    """The URL as httpx would parse it for each request: a run sends thousands of requests to a handful of URLs,
    and parsing one costs more than building the rest of the request."""
    return httpx.URL(url)


def _plain_headers(headers: httpx.Headers) -> dict[str, str]:
    """What ``dict(headers)`` gives for the header names HTTP allows (ASCII tokens; h11 refuses any other):
    lower-case names in order of first appearance, a repeated header's values joined with ", "; read in one pass
    instead of looking every name up again among all the headers."""
    return dict(headers.items())


def _outcome(exchange: Exchange) -> Outcome:
    return Outcome(
        seq=exchange.seq,
        label=exchange.label,
        complete=exchange.complete,
        throttled=exchange.throttled,
        status=exchange.status,
        failure=exchange.failure,
        elapsed_ms=exchange.elapsed_ms,
    )


def _expected_size(response: httpx.Response, cap: int) -> int:
    """The bytes the body will hold once read, for the memory budget: its Content-Length when it announces one and
    is not compressed, else the cap (decompressed bytes are counted against it)."""
    length = response.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and "content-encoding" not in response.headers:
        return min(int(length), cap + 1)
    return cap + 1


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _protocol_error(exc: httpx.RemoteProtocolError) -> str:
    text = str(exc) or "protocol error"
    if "disconnected" in text:
        return "the connection was closed before a response arrived"
    return f"the answer is not valid HTTP ({text})"
