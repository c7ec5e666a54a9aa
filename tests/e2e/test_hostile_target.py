"""The hostile target misbehaves exactly as each mode declares, so tests built on it fail for the suite's reasons."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hostile import (
    BAD_LOCATIONS,
    BOMB_SEGMENT_BYTES,
    BOMB_SEGMENTS,
    CONTENT_TYPE,
    COOKIES,
    DEEP_LEVELS,
    HUGE_BODY_BYTES,
    MODES,
    HostileServer,
    gzip_bomb,
)

pytestmark = pytest.mark.e2e

PATH = "/v2/0a1b2c3d4e5f60718293a4b5c6d7e8f9/migration-tasks/batch-restart"
Serve = Callable[..., HostileServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[HostileServer] = []

    def start(mode: str = "ok", **options: Any) -> HostileServer:
        server = HostileServer(mode, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def client(server: HostileServer, timeout: float = 1.0) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=timeout, trust_env=False)


def raw_request(body: bytes, *, method: str = "POST", path: str = PATH, extra: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n".encode()
    return head + extra + b"\r\n" + body


def connect(server: HostileServer, timeout: float = 1.0) -> socket.socket:
    port = int(server.base_url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, str]:
    """Everything the server sends until it closes; the end is "eof", "reset" or "open" (still open at ``within``)."""
    received = bytearray()
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            data = sock.recv(1 << 20)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return bytes(received), "reset"
        if not data:
            return bytes(received), "eof"
        received += data
    return bytes(received), "open"


def wait_for_requests(server: HostileServer, count: int, within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while server.requests < count:
        assert time.monotonic() < deadline, f"the server saw {server.requests} requests, expected {count}"
        time.sleep(0.01)


def assert_error_body(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == CONTENT_TYPE
    assert response.headers["x-request-id"]
    assert int(response.headers["content-length"]) == len(response.content)
    body = response.json()
    assert body["error_code"] == code
    assert isinstance(body["error_msg"], str) and body["error_msg"]
    assert body["error_ext_msg"] is None


# --- the baseline -----------------------------------------------------------------------------------------------------


def test_every_mode_has_a_bounded_end_to_end_run_and_unknown_modes_are_refused() -> None:
    """Each mode the hostile target declares is judged end to end: in tests/e2e/test_hostile_runs.py and
    test_hostile_bounds.py, or, for the modes that attack what the suite writes rather than its verdict, in
    test_redaction.py and test_workflow_commands.py."""
    files = ("test_hostile_runs.py", "test_hostile_bounds.py", "test_redaction.py", "test_workflow_commands.py")
    runs = "".join(
        (Path(__file__).parent / name).read_text(encoding="utf-8")
        for name in files
        if (Path(__file__).parent / name).exists()
    )
    assert [mode for mode in MODES if f'"{mode}"' not in runs] == []
    with pytest.raises(ValueError, match="unknown mode"):
        HostileServer("flaky")


def test_ok_answers_each_distinct_id_once_in_request_order(serve: Serve) -> None:
    server = serve()
    with client(server) as http:
        first = http.post(PATH, json={"migration_tasks": ["b", "a", "b", "ü"]})
        second = http.post(PATH, json={"migration_tasks": []})
    assert first.status_code == 200
    assert first.headers["content-type"] == CONTENT_TYPE
    assert int(first.headers["content-length"]) == len(first.content)
    assert [item["task_id"] for item in first.json()["migration_tasks"]] == ["b", "a", "ü"]
    for item in first.json()["migration_tasks"]:
        assert item == {**item, "result": "failed", "error_code": "DCS.4070", "error_msg": "The task does not exist."}
    assert second.status_code == 200 and second.json() == {"migration_tasks": []}
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert server.requests == 2
    assert [json.loads(body) for body in server.bodies] == [
        {"migration_tasks": ["b", "a", "b", "ü"]},
        {"migration_tasks": []},
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe{}",
        b'{"migration_tasks": [NaN]}',
        b'{"migration_tasks": ["a"], "x": Infinity}',
        b'["a"]',
        b'{"tasks": ["a"]}',
        b'{"migration_tasks": "a"}',
        b'{"migration_tasks": ["a", 1]}',
        json.dumps({"migration_tasks": [f"t{i}" for i in range(51)]}).encode(),
    ],
    ids=["empty", "not-json", "not-utf8", "nan", "infinity", "array", "no-field", "string", "number-item", "51"],
)
def test_ok_refuses_invalid_bodies_with_the_error_body(serve: Serve, body: bytes) -> None:
    with client(serve()) as http:
        assert_error_body(http.post(PATH, content=body), 400, "DCS.4800")


def test_ok_accepts_fifty_ids(serve: Serve) -> None:
    ids = [f"t{i}" for i in range(50)]
    with client(serve()) as http:
        response = http.post(PATH, json={"migration_tasks": ids})
    assert response.status_code == 200
    assert [item["task_id"] for item in response.json()["migration_tasks"]] == ids


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PATH),
        ("POST", "/v2//migration-tasks/batch-restart"),
        ("POST", "/v2/a/b/migration-tasks/batch-restart"),
        ("POST", "/v2/p1/migration-tasks/batch-restart/extra"),
    ],
)
def test_ok_answers_other_routes_404(serve: Serve, method: str, path: str) -> None:
    with client(serve()) as http:
        assert_error_body(http.request(method, path, json={"migration_tasks": []}), 404, "DCS.4001")


def test_ok_keeps_connections_alive_until_asked_to_close(serve: Serve) -> None:
    server = serve()
    with connect(server) as sock:
        sock.sendall(raw_request(b'{"migration_tasks": ["a"]}') + raw_request(b"", extra=b"Connection: close\r\n"))
        received, end = read_until_closed(sock, within=2.0)
    assert end == "eof"
    assert received.count(b"HTTP/1.1 ") == 2
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"HTTP/1.1 400 Bad Request\r\n" in received and b"Connection: close\r\n" in received
    assert server.requests == 2


def test_ok_refuses_chunked_request_bodies(serve: Serve) -> None:
    server = serve()
    with connect(server) as sock:
        sock.sendall(
            f"POST {PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n".encode()
        )
        received, end = read_until_closed(sock, within=2.0)
    assert received.startswith(b"HTTP/1.1 400 ") and end == "eof"
    assert json.loads(received.split(b"\r\n\r\n", 1)[1])["error_code"] == "DCS.4800"
    assert server.requests == 1


def test_requests_are_counted_exactly_under_concurrency(serve: Serve) -> None:
    server = serve()

    def burst(worker: int) -> None:
        with client(server, timeout=5.0) as http:
            for n in range(5):
                assert http.post(PATH, json={"migration_tasks": [f"{worker}-{n}"]}).status_code == 200

    threads = [threading.Thread(target=burst, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert server.requests == 40
    assert len(server.bodies) == 40


# --- the modes --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [b"", b"{not json", b"\xff", b'{"migration_tasks": [NaN]}'], ids=["empty", "not-json", "not-utf8", "nan"]
)
def test_hang_on_invalid_json_never_answers_unparseable_bodies(serve: Serve, body: bytes) -> None:
    server = serve("hang-on-invalid-json", hold_s=2.0)
    with client(server, timeout=0.5) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post(PATH, content=body)
        assert http.post(PATH, json={"migration_tasks": ["a"]}).status_code == 200
        assert_error_body(http.post(PATH, json={"tasks": []}), 400, "DCS.4800")
    assert server.requests == 3


def test_hang_on_invalid_json_gives_up_after_hold_s(serve: Serve) -> None:
    server = serve("hang-on-invalid-json", hold_s=0.5)
    with connect(server) as sock:
        sock.sendall(raw_request(b"nope"))
        started = time.monotonic()
        received, end = read_until_closed(sock, within=2.0)
    assert (received, end) == (b"", "eof")
    assert 0.4 < time.monotonic() - started < 1.5


def test_hang_after_holds_every_request_past_the_threshold(serve: Serve) -> None:
    server = serve("hang-after", after=2, hold_s=2.0)
    with client(server, timeout=0.5) as http:
        assert http.post(PATH, json={"migration_tasks": ["a"]}).status_code == 200
        assert http.post(PATH, json={"migration_tasks": ["b"]}).status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            http.post(PATH, json={"migration_tasks": ["c"]})
    assert server.requests == 3


def test_reset_once_resets_only_the_chosen_request(serve: Serve) -> None:
    server = serve("reset-once", after=2)
    with client(server) as http:
        assert http.post(PATH, json={"migration_tasks": ["a"]}).status_code == 200
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            http.post(PATH, json={"migration_tasks": ["b"]})
        assert http.post(PATH, json={"migration_tasks": ["c"]}).status_code == 200
    assert server.requests == 3


def test_reset_always_sends_part_of_the_head_then_rst(serve: Serve) -> None:
    server = serve("reset-always")
    for _ in range(2):
        with connect(server) as sock:
            sock.sendall(raw_request(b'{"migration_tasks": ["a"]}'))
            received, end = read_until_closed(sock, within=2.0)
        assert end == "reset"
        assert received.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\n\r\n" not in received
    with client(server) as http, pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.post(PATH, json={"migration_tasks": ["a"]})
    assert server.requests == 3


def test_drip_sends_the_head_at_once_and_the_body_a_byte_at_a_time(serve: Serve) -> None:
    server = serve("drip", drip_interval_s=0.3, hold_s=5.0)
    with client(server) as http:
        started = time.monotonic()
        with http.stream("POST", PATH, json={"migration_tasks": ["a"]}) as response:
            head_after = time.monotonic() - started
            first = bytearray()
            for chunk in response.iter_raw():
                first += chunk
                if len(first) >= 3:
                    break
            three_after = time.monotonic() - started
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 100
    assert head_after < 0.25
    assert bytes(first) == b'{"m'
    assert three_after >= 0.85


def test_drip_gives_up_after_hold_s(serve: Serve) -> None:
    server = serve("drip", drip_interval_s=0.05, hold_s=0.5)
    started = time.monotonic()
    with client(server) as http, pytest.raises(httpx.RemoteProtocolError):
        http.post(PATH, json={"migration_tasks": ["a"]})
    assert time.monotonic() - started < 1.5


def test_endless_chunked_keeps_streaming(serve: Serve) -> None:
    server = serve("endless-chunked", hold_s=5.0)
    received = 0
    with client(server) as http, http.stream("POST", PATH, json={"migration_tasks": ["a"]}) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.headers["content-type"] == CONTENT_TYPE
        assert "content-length" not in response.headers
        for chunk in response.iter_raw():
            assert not chunk.strip()
            received += len(chunk)
            if received > 4 * 1024 * 1024:
                break
    assert received > 4 * 1024 * 1024
    assert server.requests == 1


def test_endless_chunked_gives_up_after_hold_s_without_finishing(serve: Serve) -> None:
    server = serve("endless-chunked", hold_s=0.5)
    with connect(server) as sock:
        sock.sendall(raw_request(b"{}"))
        time.sleep(0.8)  # not reading: the server blocks on a full socket until hold_s passes
        received, end = read_until_closed(sock, within=3.0)
    assert end == "eof"
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert not received.endswith(b"\r\n0\r\n\r\n")


def test_huge_body_sends_fifty_megabytes_of_valid_json(serve: Serve) -> None:
    server = serve("huge-body")
    body = bytearray()
    with client(server, timeout=5.0) as http, http.stream("POST", PATH, json={"migration_tasks": ["a"]}) as response:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == HUGE_BODY_BYTES == 50 * 1024 * 1024
        for chunk in response.iter_raw():
            body += chunk
    assert len(body) == HUGE_BODY_BYTES
    document = json.loads(body)
    assert [item["task_id"] for item in document["migration_tasks"]] == ["a"]
    assert len(document["padding"]) > 50_000_000


def test_gzip_bomb_is_small_on_the_wire_and_inflates_to_500_mib(serve: Serve) -> None:
    server = serve("gzip-bomb")
    with client(server, timeout=5.0) as http, http.stream("POST", PATH, json={"migration_tasks": ["a"]}) as response:
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-type"] == CONTENT_TYPE
        length = int(response.headers["content-length"])
        head = next(response.iter_raw(64 * 1024))
    assert 100_000 < length < 1_000_000
    assert length == len(gzip_bomb())
    assert head[:2] == b"\x1f\x8b"
    inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4 * 1024 * 1024)
    assert len(inflated) == 4 * 1024 * 1024 and not inflated.strip(b" ")
    isize = struct.unpack("<I", gzip_bomb()[-4:])[0]
    assert isize == BOMB_SEGMENT_BYTES * BOMB_SEGMENTS == 500 * 1024 * 1024


def test_throttle_429_answers_everything_with_retry_after(serve: Serve) -> None:
    server = serve("throttle-429", retry_after="7")
    with client(server) as http:
        for body in ({"migration_tasks": ["a"]}, {"tasks": 1}):
            response = http.post(PATH, json=body)
            assert_error_body(response, 429, "APIGW.0308")
            assert response.headers["retry-after"] == "7"
    assert server.requests == 2


@pytest.mark.parametrize(("status", "code"), [(400, "DCS.4800"), (401, "DCS.1001"), (500, "DCS.5000")])
def test_status_modes_answer_everything_with_that_status(serve: Serve, status: int, code: str) -> None:
    server = serve(f"status-{status}")
    with client(server) as http:
        first = http.post(PATH, json={"migration_tasks": ["a"]})
        second = http.post(PATH, content=b"garbage")
    assert_error_body(first, status, code)
    assert_error_body(second, status, code)
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert server.requests == 2


@pytest.mark.parametrize(
    ("mode", "body"),
    [("hang-after", b"{}"), ("hang-on-invalid-json", b"x"), ("drip", b"{}"), ("endless-chunked", b"{}")],
)
def test_stop_is_prompt_while_a_handler_is_busy(mode: str, body: bytes) -> None:
    server = HostileServer(mode, after=0, hold_s=20.0, drip_interval_s=5.0).start()
    try:
        with connect(server) as sock:
            sock.sendall(raw_request(body))
            wait_for_requests(server, 1)
            time.sleep(0.1)
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 1.0
            _, end = read_until_closed(sock, within=2.0)
            assert end in {"eof", "reset"}
    finally:
        server.stop()


@pytest.mark.parametrize("mode", ["location-on-200", "redirect-bad-location"])
def test_location_modes_answer_a_location_that_is_not_a_url_on_200s_and_302s(serve: Serve, mode: str) -> None:
    server = serve(mode)
    statuses, locations = [], []
    with connect(server) as sock:
        for _ in range(6):
            sock.sendall(raw_request(b'{"migration_tasks": ["a"]}'))
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(65536)
            lines = head.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
            length = int(next(line.split(": ", 1)[1] for line in lines if line.startswith("Content-Length")))
            rest = head.split(b"\r\n\r\n", 1)[1]
            while len(rest) < length:
                rest += sock.recv(65536)
            statuses.append(int(lines[0].split()[1]))
            locations += [line.split(": ", 1)[1] for line in lines if line.startswith("Location: ")]
    assert len(locations) == 6 and set(locations) <= set(BAD_LOCATIONS)
    assert statuses == ([200] * 6 if mode == "location-on-200" else [200, 200, 302, 200, 200, 302])


def test_many_cookies_answers_the_baseline_with_thousands_of_set_cookie_headers(serve: Serve) -> None:
    with client(serve("many-cookies")) as http:
        response = http.post(PATH, json={"migration_tasks": ["a"]})
    assert response.status_code == 200 and response.json()["migration_tasks"][0]["task_id"] == "a"
    assert len(response.headers.get_list("set-cookie")) == COOKIES


@pytest.mark.parametrize("mode", ["nan-body", "deep-body"])
def test_nan_and_deep_bodies_add_one_field_to_every_200(serve: Serve, mode: str) -> None:
    with client(serve(mode)) as http:
        response = http.post(PATH, json={"migration_tasks": ["a"]})
        refused = http.post(PATH, content=b"{")
    text = response.content.decode()
    assert response.status_code == 200 and text.startswith('{"migration_tasks": [{"result": "failed"')
    expected = "NaN" if mode == "nan-body" else "[" * DEEP_LEVELS + "]" * DEEP_LEVELS
    assert text.endswith(f', "extra": {expected}}}')
    assert refused.status_code == 400 and refused.json()["error_code"] == "DCS.4800", "errors are left as they are"


def test_broken_framing_sends_a_head_and_n_bytes_then_no_valid_chunk(serve: Serve) -> None:
    server = serve("broken-framing", broken_after_bytes=10)
    with client(server) as http, pytest.raises(httpx.RemoteProtocolError):
        http.post(PATH, json={"migration_tasks": ["a"]})
    with connect(server) as sock:
        sock.sendall(raw_request(b'{"migration_tasks": ["a"]}'))
        received, end = read_until_closed(sock, within=2.0)
    assert end == "eof"
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and b"Transfer-Encoding: chunked\r\n" in received
    assert received.endswith(b'\r\n\r\na\r\n{"migratio\r\nzz\r\nnot a chunk\r\n')
