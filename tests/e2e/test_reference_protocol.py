"""The reference server keeps its contract below the app too: requests uvicorn cannot parse get the documented
JSON error with an X-Request-Id, idle and slow clients cannot hold a connection, and a body the AK/SK signature
does not cover is never acted on."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from conformance.contract import ENDPOINT
from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import Status, seed_store
from conformance.wire.signing import sign

pytestmark = pytest.mark.e2e

PATH = ENDPOINT.replace("{project_id}", "p1")
AK, SK = "PROTOCOLTESTAK000001", "protocol-test-secret-key-0123456789"
SHORT = 0.5  # the deadlines under test, in seconds; the socket waits up to 10 s for them to act


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    store, _ = seed_store(seed=1)
    with BackgroundServer(create_app(store, body_timeout=SHORT), head_timeout=SHORT) as running:
        yield running


def exchange(server: BackgroundServer, raw: bytes) -> bytes:
    """Send raw bytes, then read until the server closes the connection."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        if raw:
            sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def documented_error(answer: bytes) -> dict[str, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    assert lines[0].startswith("HTTP/1.1 400 "), lines[0]
    assert headers["content-type"] == "application/json"
    assert len(headers["x-request-id"]) == 32
    document = json.loads(body)
    assert set(document) == {"error_code", "error_msg", "error_ext_msg"}
    return document


def request(body: bytes, *extra: str, length: int | None = None, host: str = "127.0.0.1") -> bytes:
    head = [
        f"POST {PATH} HTTP/1.1",
        f"Host: {host}",
        f"Content-Length: {len(body) if length is None else length}",
        *extra,
    ]
    if not any(line.lower().startswith("content-type:") for line in extra):
        head.append("Content-Type: application/json")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_oversized_headers_get_the_documented_error_with_a_request_id(server: BackgroundServer) -> None:
    # Larger than one read, so the server sees an incomplete head beyond h11's 16 KiB limit.
    answer = exchange(server, request(b"{}", "X-Padding: " + "a" * 300_000))
    assert documented_error(answer)["error_code"] == "DCS.4000"


@pytest.mark.parametrize("length", ["abc", "-1", "1, 2"])
def test_a_bad_content_length_gets_the_documented_error(server: BackgroundServer, length: str) -> None:
    raw = request(b"{}").replace(b"Content-Length: 2", f"Content-Length: {length}".encode())
    assert documented_error(exchange(server, raw))["error_msg"].startswith("Invalid HTTP request")


def test_a_broken_request_line_gets_the_documented_error(server: BackgroundServer) -> None:
    documented_error(exchange(server, b"GARBAGE\r\n\r\n"))


def test_a_partial_request_head_is_answered_and_closed_after_the_deadline(server: BackgroundServer) -> None:
    answer = exchange(server, f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode())
    assert "not complete within" in documented_error(answer)["error_msg"]


def test_a_silent_connection_is_closed_after_the_deadline(server: BackgroundServer) -> None:
    assert exchange(server, b"") == b""


def test_a_body_that_stops_arriving_is_answered_and_closed(server: BackgroundServer) -> None:
    answer = exchange(server, request(b'{"migration_tasks": [', length=100))
    assert "body was not complete" in documented_error(answer)["error_msg"]


def test_an_unsigned_payload_is_refused_and_nothing_is_restarted() -> None:
    store, fixtures = seed_store(seed=2)
    task = fixtures["restartable"][0]
    policy = AuthPolicy(mode=AuthMode.AKSK, keys={AK: SK})
    with BackgroundServer(create_app(store, policy)) as running:
        body = json.dumps({"migration_tasks": [task]}).encode()
        url = f"{running.base_url}{PATH}"
        headers = sign("POST", url, {"Content-Type": "text/plain"}, body, AK, SK, now=datetime.now(UTC))
        assert headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
        extra = [f"{name}: {value}" for name, value in headers.items() if name != "Host"]
        answer = exchange(running, request(body, *extra, "Connection: close", host=headers["Host"]))
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 401 ")
    assert b"UNSIGNED-PAYLOAD" in rest
    assert store.get(task).status is not Status.MIGRATING
