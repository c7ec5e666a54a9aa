"""A loopback HTTP/1.1 target that misbehaves on purpose, for end-to-end tests of the suite.

The reference server is too well-mannered to show how the suite copes with real-world targets: mocks that never
answer some bodies, gateways that reset connections or throttle, bodies that never end or are far too large. This
server is written on raw sockets rather than uvicorn because those faults need byte-level control of the wire.

Every misbehaviour is bounded: a handler that holds, drips or streams gives up after ``hold_s`` seconds and closes
without completing, and ``stop()`` releases every handler at once, so a test can never hang on this helper.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from conformance.app.run import RunOutcome, execute
from conformance.config.settings import resolve

MODES: tuple[str, ...] = (
    "ok",
    "hang-on-invalid-json",
    "hang-after",
    "reset-once",
    "reset-always",
    "drip",
    "endless-chunked",
    "huge-body",
    "gzip-bomb",
    "throttle-429",
    "status-400",
    "status-401",
    "status-500",
    "echo-headers",
    "inject-commands",
    "location-on-200",
    "redirect-bad-location",
    "many-cookies",
    "nan-body",
    "deep-body",
    "broken-framing",
    "drip-headers",
    "endless-1xx",
    "huge-valid",
    "short-body",
    "204-with-body",
    "foreign-items",
    "throttle-forever",
    "throttle-far-date",
)
#: Location values that are not URLs httpx can parse (each raised there once: InvalidURL, an IDNA error, an invalid
#: port), and two it parses into nonsense; the modes answer them in rotation.
BAD_LOCATIONS = (
    "javascript:alert(1)",
    "mailto:ops@example.com",
    "http://xn--a.-.example/",
    "http://[::1/",
    "no-slash-relative",
)
COOKIES = 2000
DEEP_LEVELS = 2000
#: GitHub workflow commands and line breaks, as a target that wants to command a CI runner would answer them: the
#: legacy form anywhere in a line (stop-commands silences every annotation after it), the :: form after a line break.
FORGED = "X\n::error title=forged::error code\r##[set-output name=forged]1\n::stop-commands::tok2"
FORGED_KEY = "##[stop-commands]tok"

MAX_BATCH = 50
#: A valid 200 body just under the suite's default --max-response-bytes (8 MiB).
HUGE_VALID_BYTES = 8 * 1024 * 1024 - 64 * 1024
#: Items for tasks nobody asked about, added to every valid answer of "foreign-items".
FOREIGN_ITEMS = 50_000
#: Retry-After of "throttle-forever": about 31 years, as seconds.
FOREVER_S = "1e9"
HUGE_BODY_BYTES = 50 * 1024 * 1024
BOMB_SEGMENT_BYTES = 1024 * 1024
BOMB_SEGMENTS = 500  # 500 MiB of spaces once decompressed
CONTENT_TYPE = "application/json;charset=utf-8"
PATH = re.compile(r"/v2/[^/]+/migration-tasks/batch-restart")

# Short socket timeouts keep every blocking call interruptible: each loop re-checks stop() and its deadline.
_POLL_S = 0.05
_STOP_BUDGET_S = 0.8
_MAX_HEAD_BYTES = 64 * 1024
_MAX_BODY_BYTES = 8 * 1024 * 1024
_KEEPALIVE_IDLE_S = 30.0
_SEND_SLICE = 64 * 1024
_ENDLESS_CHUNK = b"%x\r\n%s\r\n" % (_SEND_SLICE, b" " * _SEND_SLICE)

_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("DCS.4800", "Invalid request."),
    401: ("DCS.1001", "The token is invalid or expired."),
    429: ("APIGW.0308", "The throttling threshold has been reached."),
    500: ("DCS.5000", "Internal service error."),
}


class _BadFraming(Exception):
    """The bytes on the wire are not an HTTP/1.1 request we can delimit, so the connection cannot continue."""


@dataclass(frozen=True)
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


@dataclass(frozen=True)
class _Answer:
    status: int
    payload: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


def _error(status: int, code: str, message: str) -> _Answer:
    return _Answer(status, {"error_code": code, "error_msg": message, "error_ext_msg": None})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _load_json(raw: bytes) -> Any:
    """Parse strictly: Python's json would otherwise accept NaN and Infinity, which no other JSON parser does."""
    return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)


def _parseable(raw: bytes) -> bool:
    try:
        _load_json(raw)
    except ValueError:
        return False
    return True


def _baseline_answer(method: str, target: str, body: bytes) -> _Answer:
    """The minimal correct answer, so that each mode's sabotage is the only thing that differs from conformance."""
    path = urlsplit(target).path if "://" in target else target.split("?", 1)[0]
    if method != "POST" or not PATH.fullmatch(path):
        return _error(404, "DCS.4001", "The requested URL does not exist.")
    try:
        doc = _load_json(body)
    except ValueError as exc:
        return _error(400, "DCS.4800", f"The request body is not a UTF-8 JSON document: {exc}")
    if not isinstance(doc, dict):
        return _error(400, "DCS.4800", "Invalid request body: a JSON object is expected.")
    if "migration_tasks" not in doc:
        return _error(400, "DCS.4800", "Invalid migration_tasks in the request: the field is mandatory.")
    tasks = doc["migration_tasks"]
    if not isinstance(tasks, list) or not all(isinstance(task, str) for task in tasks):
        return _error(400, "DCS.4800", "Invalid migration_tasks in the request: an array of strings is expected.")
    if len(tasks) > MAX_BATCH:
        return _error(400, "DCS.4800", f"Invalid migration_tasks in the request: at most {MAX_BATCH} tasks per call.")
    items = [
        {"result": "failed", "task_id": task, "error_code": "DCS.4070", "error_msg": "The task does not exist."}
        for task in dict.fromkeys(tasks)
    ]
    return _Answer(200, {"migration_tasks": items})


def _injecting(answer: _Answer, number: int) -> _Answer:
    """The answer with workflow commands in its keys, its values and a header: every third batch a 200 body without
    migration_tasks (BR-REQ-007 prints its keys), the others with a forged error_code on every item and a foreign
    item; errors with a forged error_code and error_msg."""
    if answer.status == 200 and number % 3 == 0:
        return _Answer(200, {FORGED_KEY: "::error::forged", "::warning::key\n##[add-mask]x": [FORGED]})
    if answer.status == 200:
        items = [
            {**item, "error_code": FORGED, FORGED_KEY: "::error::forged\n::warning::w"}
            for item in answer.payload["migration_tasks"]
        ]
        items.append({"task_id": "::error::foreign\n##[stop-commands]id", "result": "failed", "error_code": FORGED})
        return _Answer(200, {"migration_tasks": items}, (("X-Forged", "::error::header ##[stop-commands]h"),))
    return replace(answer, payload={**answer.payload, "error_code": FORGED, "error_msg": "::error::e\n" + FORGED})


def _encode(payload: dict[str, Any]) -> bytes:
    """UTF-8 JSON; an ID holding a lone surrogate (legal as a JSON escape) cannot be UTF-8, so it is echoed escaped."""
    try:
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(payload).encode("ascii")


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _standard_headers(*more: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Content-Type", CONTENT_TYPE), ("X-Request-Id", uuid.uuid4().hex), *more]


_bomb_lock = threading.Lock()
_bomb: bytes | None = None


def gzip_bomb() -> bytes:
    """About 0.5 MB of gzip that inflates to 500 MiB of spaces, built in well under a second and cached.

    Compressing 500 MiB takes seconds, but after a full flush deflate restarts from an empty window, so every 1 MiB
    segment of spaces compresses to the same bytes: one segment is compressed and repeated, and only the CRC runs over
    the whole. It stays a single gzip member, because decoders that stop after the first member (httpx does) would
    otherwise see a small body.
    """
    global _bomb
    with _bomb_lock:
        if _bomb is None:
            segment = b" " * BOMB_SEGMENT_BYTES
            deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
            first = deflate.compress(segment) + deflate.flush(zlib.Z_FULL_FLUSH)
            repeat = deflate.compress(segment) + deflate.flush(zlib.Z_FULL_FLUSH)
            end = deflate.flush(zlib.Z_FINISH)
            crc = 0
            for _ in range(BOMB_SEGMENTS):
                crc = zlib.crc32(segment, crc)
            size = BOMB_SEGMENT_BYTES * BOMB_SEGMENTS
            header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, no mtime, best compression, unix
            trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
            _bomb = header + first + repeat * (BOMB_SEGMENTS - 1) + end + trailer
        return _bomb


class HostileServer:
    """An HTTP/1.1 server on 127.0.0.1 that implements the endpoint correctly except where ``mode`` sabotages it."""

    def __init__(
        self,
        mode: str = "ok",
        *,
        after: int = 3,
        hold_s: float = 20.0,
        drip_interval_s: float = 0.5,
        retry_after: str = "0",
        broken_after_bytes: int = 16,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
        self.mode = mode
        self.after = after
        self.hold_s = hold_s
        self.drip_interval_s = drip_interval_s
        self.retry_after = retry_after
        self.broken_after_bytes = broken_after_bytes
        self.base_url = ""
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests = 0
        #: "reset-once" has reset its one request.
        self._reset_done = False
        self._bodies: list[bytes] = []
        self._heads: list[dict[str, str]] = []
        self._connections: set[socket.socket] = set()
        self._handlers: set[threading.Thread] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    # --- public ------------------------------------------------------------------------------------------------------

    @property
    def requests(self) -> int:
        """Requests whose head arrived (malformed ones included), counted before any answer is written."""
        with self._lock:
            return self._requests

    @property
    def bodies(self) -> list[bytes]:
        """A snapshot, so a caller iterating it cannot race the handlers appending to it."""
        with self._lock:
            return list(self._bodies)

    @property
    def heads(self) -> list[dict[str, str]]:
        """The headers of every well-framed request (names lower-cased), in arrival order."""
        with self._lock:
            return list(self._heads)

    def start(self) -> HostileServer:
        if self._listener is not None:
            raise RuntimeError("the hostile server was already started")
        if self.mode == "gzip-bomb":
            gzip_bomb()  # built before the first request: a run's --timeout is not for the server's preparations
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(_POLL_S)
        self._listener = listener
        self.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"hostile-{self.mode}-accept", daemon=True)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Shut every connection down at once: shutdown() wakes a blocked handler, which then closes its socket."""
        deadline = time.monotonic() + _STOP_BUDGET_S
        self._stopping.set()
        with self._lock:
            connections = list(self._connections)
            handlers = list(self._handlers)
        if self._listener is not None:
            _quietly(self._listener.shutdown, socket.SHUT_RDWR)
        for conn in connections:
            _quietly(conn.shutdown, socket.SHUT_RDWR)
        for thread in [self._acceptor, *handlers]:
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftovers = list(self._connections)
        for conn in leftovers:  # a handler that missed the budget: take its socket away
            _quietly(conn.close)
        if self._listener is not None:
            _quietly(self._listener.close)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- connections -------------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if self._stopping.is_set():
                    conn.close()
                    return
                thread = threading.Thread(target=self._serve, args=(conn,), name=f"hostile-{self.mode}", daemon=True)
                self._connections.add(conn)
                self._handlers.add(thread)
                thread.start()  # under the lock, so stop() never joins a thread that has not started

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        reused = False
        try:
            conn.settimeout(_POLL_S)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not self._stopping.is_set():
                try:
                    request = self._read_request(conn, buffer)
                except _BadFraming as exc:
                    self._record(b"")
                    self._write(conn, _error(400, "DCS.4800", str(exc)), keep_alive=False)
                    return
                if request is None:
                    return
                number = self._record(request.body)
                if not self._respond(conn, request, number, reused=reused) or not request.keep_alive:
                    return
                reused = True
        except OSError:
            return
        finally:
            with self._lock:
                self._connections.discard(conn)
                self._handlers.discard(threading.current_thread())
            _quietly(conn.close)

    def _record(self, body: bytes) -> int:
        with self._lock:
            self._requests += 1
            self._bodies.append(body)
            return self._requests

    def _recv(self, conn: socket.socket, deadline: float) -> bytes | None:
        """Up to 64 KiB; b"" when the peer closed, None when stopping, past the deadline or on a socket error."""
        while not self._stopping.is_set() and time.monotonic() < deadline:
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return None
        return None

    def _send(self, conn: socket.socket, data: bytes | memoryview, deadline: float) -> bool:
        """Send everything unless stopping, the deadline passes or the peer goes away; True if all was sent."""
        view = memoryview(data)
        while view:
            if self._stopping.is_set() or time.monotonic() > deadline:
                return False
            try:
                sent = conn.send(view[:_SEND_SLICE])
            except TimeoutError:
                continue
            except OSError:  # BrokenPipe, ConnectionReset: the client left, which is its right
                return False
            view = view[sent:]
        return True

    def _read_request(self, conn: socket.socket, buffer: bytearray) -> _Request | None:
        deadline = time.monotonic() + max(_KEEPALIVE_IDLE_S, self.hold_s)
        while True:
            while buffer[:2] == b"\r\n":  # RFC 9112 2.2: ignore empty lines before a request line
                del buffer[:2]
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buffer) > _MAX_HEAD_BYTES:
                raise _BadFraming("The request head is too large.")
            data = self._recv(conn, deadline)
            if not data:
                return None
            buffer += data
        head = bytes(buffer[:end]).decode("latin-1")
        del buffer[: end + 4]
        request_line, *header_lines = head.split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[0] or not parts[1] or not parts[2].startswith("HTTP/1."):
            raise _BadFraming("The request line is malformed.")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip() or line[0] in " \t":
                raise _BadFraming("A request header is malformed.")
            key, value = name.lower(), value.strip(" \t")
            if key == "content-length" and headers.get(key, value) != value:
                raise _BadFraming("Conflicting Content-Length headers.")
            headers[key] = f"{headers[key]}, {value}" if key in headers and key != "content-length" else value
        if "transfer-encoding" in headers:
            raise _BadFraming("Chunked request bodies are not supported; send Content-Length.")
        length_text = headers.get("content-length", "0")
        if not length_text.isdigit() or not length_text.isascii():
            raise _BadFraming("The Content-Length header is invalid.")
        length = int(length_text)
        if length > _MAX_BODY_BYTES:
            raise _BadFraming(f"The request body is larger than {_MAX_BODY_BYTES} bytes.")
        if length and headers.get("expect", "").lower() == "100-continue":
            self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n", time.monotonic() + self.hold_s)
        while len(buffer) < length:
            data = self._recv(conn, deadline)
            if not data:
                return None
            buffer += data
        body = bytes(buffer[:length])
        del buffer[:length]
        tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
        keep_alive = "keep-alive" in tokens if version == "HTTP/1.0" else "close" not in tokens
        return _Request(method, target, headers, body, keep_alive)

    # --- answers -----------------------------------------------------------------------------------------------------

    def _respond(self, conn: socket.socket, request: _Request, number: int, *, reused: bool) -> bool:
        """Answer per mode; False when the connection must not carry another request. ``reused``: the connection
        carried a request before this one."""
        answer = _baseline_answer(request.method, request.target, request.body)
        mode = self.mode
        with self._lock:
            self._heads.append(dict(request.headers))
        if mode == "inject-commands":
            answer = _injecting(answer, number)
        if mode == "echo-headers":
            # A proxy or gateway that echoes what it was sent (its error pages, a debugging header).
            echoed = "; ".join(f"{name}: {value}" for name, value in request.headers.items())
            answer = replace(
                answer,
                payload={**answer.payload, "echo": echoed},
                headers=(*answer.headers, ("X-Echo", echoed)),
            )
        if mode == "hang-on-invalid-json" and answer.status != 404 and not _parseable(request.body):
            return self._hold(conn)
        if mode == "hang-after" and number > self.after:
            return self._hold(conn)
        if mode == "reset-always" or (mode == "reset-once" and number >= self.after and self._reset_first(reused)):
            return self._reset(conn, answer)
        if mode == "drip":
            return self._drip(conn, answer, request.keep_alive)
        if mode == "endless-chunked":
            return self._endless(conn)
        if mode == "huge-body":
            return self._huge(conn, answer, request.keep_alive)
        if mode == "gzip-bomb":
            return self._gzip_bomb(conn, request.keep_alive)
        if mode in ("location-on-200", "redirect-bad-location"):
            location = ("Location", BAD_LOCATIONS[number % len(BAD_LOCATIONS)])
            if mode == "redirect-bad-location" and number % 3 == 0:
                answer = _Answer(302, {})
            answer = replace(answer, headers=(*answer.headers, location))
        if mode == "many-cookies":
            cookies = tuple(("Set-Cookie", f"session{n}={number}-{n}; Path=/; HttpOnly") for n in range(COOKIES))
            answer = replace(answer, headers=(*answer.headers, *cookies))
        if mode in ("nan-body", "deep-body") and answer.status == 200:
            return self._write_raw(conn, answer, request.keep_alive, _with_field(answer.payload, mode))
        if mode == "broken-framing":
            return self._broken_framing(conn, answer)
        if mode == "drip-headers":
            return self._drip_head(conn, answer, request.keep_alive)
        if mode == "endless-1xx":
            return self._endless_interim(conn)
        if mode == "huge-valid" and answer.status == 200:
            return self._huge(conn, answer, request.keep_alive, HUGE_VALID_BYTES)
        if mode == "short-body":
            return self._short_body(conn, answer)
        if mode == "204-with-body" and answer.status == 200:
            answer = replace(answer, status=204)
        if mode == "foreign-items" and answer.status == 200:
            return self._write_raw(conn, answer, request.keep_alive, _with_foreign_items(answer.payload))
        if mode in ("throttle-429", "throttle-forever", "throttle-far-date"):
            answer = replace(_error(429, *_STATUS_ERRORS[429]), headers=(("Retry-After", self._retry_after()),))
        elif mode.startswith("status-"):
            status = int(mode.removeprefix("status-"))
            answer = _error(status, *_STATUS_ERRORS[status])
        return self._write(conn, answer, request.keep_alive, head_only=request.method == "HEAD")

    def _retry_after(self) -> str:
        if self.mode == "throttle-forever":
            return FOREVER_S
        if self.mode == "throttle-far-date":
            return formatdate(time.time() + 20 * 365 * 86400, usegmt=True)
        return self.retry_after

    def _drip_head(self, conn: socket.socket, answer: _Answer, keep_alive: bool) -> bool:
        """The head a byte every ``drip_interval_s``: no read ever waits a whole --timeout, the head never ends."""
        deadline = time.monotonic() + self.hold_s
        body = _encode(answer.payload)
        headers = _standard_headers(("Content-Length", str(len(body))), _connection(keep_alive))
        head = _head(answer.status, headers)
        for index in range(len(head)):
            if self._stopping.wait(self.drip_interval_s) or time.monotonic() > deadline:
                return False
            if not self._send(conn, head[index : index + 1], deadline):
                return False
        return self._send(conn, body, deadline) and keep_alive

    def _endless_interim(self, conn: socket.socket) -> bool:
        """``102 Processing`` every ``drip_interval_s`` until hold_s: interim answers that never become an answer."""
        deadline = time.monotonic() + self.hold_s
        while not self._stopping.wait(self.drip_interval_s):
            if not self._send(conn, b"HTTP/1.1 102 Processing\r\n\r\n", deadline):
                return False
        return False

    def _short_body(self, conn: socket.socket, answer: _Answer) -> bool:
        """A head announcing the whole body, half of it, and the connection closed."""
        body = _encode(answer.payload)
        headers = _standard_headers(("Content-Length", str(len(body))), _connection(False))
        self._send(conn, _head(answer.status, headers) + body[: len(body) // 2], time.monotonic() + self.hold_s)
        return False

    def _write(self, conn: socket.socket, answer: _Answer, keep_alive: bool, *, head_only: bool = False) -> bool:
        body = _encode(answer.payload)
        headers = _standard_headers(("Content-Length", str(len(body))), *answer.headers, _connection(keep_alive))
        data = _head(answer.status, headers) + (b"" if head_only else body)
        return self._send(conn, data, time.monotonic() + self.hold_s) and keep_alive

    def _write_raw(self, conn: socket.socket, answer: _Answer, keep_alive: bool, body: bytes) -> bool:
        headers = _standard_headers(("Content-Length", str(len(body))), *answer.headers, _connection(keep_alive))
        return self._send(conn, _head(answer.status, headers) + body, time.monotonic() + self.hold_s) and keep_alive

    def _broken_framing(self, conn: socket.socket, answer: _Answer) -> bool:
        """A valid head and the first ``broken_after_bytes`` of the body as a chunk, then a chunk size that is not
        hexadecimal, and the connection closed: bytes arrived, but never a complete answer."""
        body = _encode(answer.payload)[: self.broken_after_bytes]
        head = _head(answer.status, _standard_headers(("Transfer-Encoding", "chunked"), _connection(False)))
        data = head + b"%x\r\n%s\r\n" % (len(body), body) + b"zz\r\nnot a chunk\r\n"
        self._send(conn, data, time.monotonic() + self.hold_s)
        return False

    def _hold(self, conn: socket.socket) -> bool:
        """Say nothing until hold_s passes, stop() is called or the client gives up; whatever it sends is ignored."""
        deadline = time.monotonic() + self.hold_s
        while self._recv(conn, deadline):
            pass
        return False

    def _reset_first(self, reused: bool) -> bool:
        """Whether "reset-once" resets this request: the first from its ``after``-th on that comes on a reused
        connection (a crash there is the race of an idle close to any client; on a fresh one, the target's failure,
        and which connection carries a request depends on the machine's load)."""
        with self._lock:
            if self._reset_done or not reused:
                return False
            self._reset_done = True
            return True

    def _reset(self, conn: socket.socket, answer: _Answer) -> bool:
        """Begin the answer, then abort with RST (SO_LINGER 0), as a crashing proxy or a killed worker would."""
        body = _encode(answer.payload)
        head = _head(answer.status, _standard_headers(("Content-Length", str(len(body)))))
        partial = head[: head.index(b"\r\n") + 2 + len("Content-Type: application/")]
        self._send(conn, partial, time.monotonic() + self.hold_s)
        self._stopping.wait(0.02)  # let the partial head reach the peer before the RST overtakes it
        _quietly(conn.setsockopt, socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        _quietly(conn.close)
        return False

    def _drip(self, conn: socket.socket, answer: _Answer, keep_alive: bool) -> bool:
        deadline = time.monotonic() + self.hold_s
        body = _encode(answer.payload)
        headers = _standard_headers(("Content-Length", str(len(body))), _connection(keep_alive))
        if not self._send(conn, _head(answer.status, headers), deadline):
            return False
        for index in range(len(body)):
            if self._stopping.wait(self.drip_interval_s) or time.monotonic() > deadline:
                return False
            if not self._send(conn, body[index : index + 1], deadline):
                return False
        return keep_alive

    def _endless(self, conn: socket.socket) -> bool:
        deadline = time.monotonic() + self.hold_s
        head = _head(200, _standard_headers(("Transfer-Encoding", "chunked")))
        if self._send(conn, head, deadline):
            while self._send(conn, _ENDLESS_CHUNK, deadline):
                pass
        return False

    def _huge(self, conn: socket.socket, answer: _Answer, keep_alive: bool, size: int = HUGE_BODY_BYTES) -> bool:
        deadline = time.monotonic() + self.hold_s
        headers = _standard_headers(("Content-Length", str(size)), _connection(keep_alive))
        if not self._send(conn, _head(answer.status, headers), deadline):
            return False
        for piece in _padded(answer.payload, size):
            if not self._send(conn, piece, deadline):
                return False
        return keep_alive

    def _gzip_bomb(self, conn: socket.socket, keep_alive: bool) -> bool:
        bomb = gzip_bomb()
        headers = _standard_headers(
            ("Content-Encoding", "gzip"), ("Content-Length", str(len(bomb))), _connection(keep_alive)
        )
        return self._send(conn, _head(200, headers) + bomb, time.monotonic() + self.hold_s) and keep_alive


def _with_field(payload: dict[str, Any], mode: str) -> bytes:
    """The 200 body with one more field: ``NaN`` (which json.dumps writes, and no JSON parser may read), or arrays
    nested DEEP_LEVELS deep (valid JSON, deeper than json.dumps can write)."""
    value = b"NaN" if mode == "nan-body" else b"[" * DEEP_LEVELS + b"]" * DEEP_LEVELS
    return _encode(payload)[:-1] + b', "extra": ' + value + b"}"


_foreign_lock = threading.Lock()
_foreign: bytes | None = None


def _with_foreign_items(payload: dict[str, Any]) -> bytes:
    """The 200 body with FOREIGN_ITEMS more items, for tasks nobody asked about (built once: the same every time)."""
    global _foreign
    with _foreign_lock:
        if _foreign is None:
            items = [
                {"result": "success", "task_id": str(uuid.UUID(int=n + 1, version=4)), "error_code": None}
                for n in range(FOREIGN_ITEMS)
            ]
            _foreign = _encode({"items": items})[len(b'{"items": [') : -2]
    encoded = _encode(payload)
    if not payload["migration_tasks"]:
        return encoded[: -len(b"]}")] + _foreign + b"]}"
    return encoded[: -len(b"]}")] + b", " + _foreign + b"]}"


def _padded(payload: dict[str, Any], total: int) -> Iterator[bytes]:
    """The payload with a "padding" string making it exactly ``total`` bytes, streamed so it is never all in memory."""
    encoded = _encode(payload)
    prefix = encoded[:-1] + (b', "padding": "' if payload else b'"padding": "')
    suffix = b'"}'
    remaining = total - len(prefix) - len(suffix)
    if remaining < 0:
        raise ValueError("the payload is larger than the padded total")
    yield prefix
    filler = b"x" * _SEND_SLICE
    while remaining > 0:
        piece = filler[: min(remaining, _SEND_SLICE)]
        remaining -= len(piece)
        yield piece
    yield suffix


def _connection(keep_alive: bool) -> tuple[str, str]:
    return ("Connection", "keep-alive" if keep_alive else "close")


def _quietly(action: Callable[..., object], *args: Any) -> None:
    """For socket calls on a connection the peer or stop() may already have torn down."""
    with contextlib.suppress(OSError):
        action(*args)


#: The project every judged hostile run names.
PROJECT = "p-hostile"


def judge_hostile(server: HostileServer, tmp_path: Path, **flags: Any) -> tuple[RunOutcome, float]:
    """A run of this process against ``server`` (seed 1, 10 examples, a 1 s timeout, one worker unless ``flags``
    say otherwise), its reports in ``tmp_path / "report"``: the outcome, and how many seconds it took."""
    settings = resolve(
        {
            "base_url": server.base_url,
            "project_id": PROJECT,
            "report_dir": str(tmp_path / "report"),
            "seed": 1,
            "max_examples": 10,
            "timeout": 1.0,
            "workers": 1,  # one request at a time: exact counts (tests/e2e/test_workers.py covers concurrency)
            **flags,
        },
        env={},
    )
    started = time.monotonic()
    outcome = execute(settings, progress=lambda _: None)
    return outcome, time.monotonic() - started
