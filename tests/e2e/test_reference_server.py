"""The reference server over real HTTP on loopback, and the ``dcs-conformance serve`` command that runs it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from conformance.contract import ENDPOINT, MAX_BATCH, load_spec
from conformance.reference import child
from conformance.reference.app import MAX_BODY_BYTES, create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.embedded import embedded
from conformance.reference.process import ReferenceProcess, ReferenceServerFailed
from conformance.reference.server import BackgroundServer, ServerStartError
from conformance.reference.store import MigrationTask, MigrationType, Status, TaskStore
from conformance.wire.signing import sign

pytestmark = pytest.mark.e2e

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
PATH = ENDPOINT.replace("{project_id}", PROJECT)
TOKEN = "token-with-modify-permission"
READONLY_TOKEN = "token-without-modify-permission"
AK, SK = "HPUAREFERENCEAK00001", "reference-secret-key-0123456789abcdefghij"
RO_AK, RO_SK = "HPUAREADONLYAK000001", "readonly-secret-key-0123456789abcdefghij"
SPEC_URI = "urn:dcs-conformance:batch-restart"
CLEAN_ENV = {
    key: value
    for key, value in os.environ.items()
    if key not in {"DCS_AUTH_TOKEN", "CLOUD_SDK_AK", "CLOUD_SDK_SK"} and not key.lower().endswith("_proxy")
}


# --- helpers ----------------------------------------------------------------------------------------------------------


def schema(name: str) -> Draft202012Validator:
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(load_spec()))
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/components/schemas/{name}"}, registry=registry)


OK_SCHEMA = schema("BatchRestartOnlineMigrationTasksResponse")
ERROR_SCHEMA = schema("ErrorBody")


def add_tasks(
    store: TaskStore,
    count: int = 1,
    status: Status = Status.TERMINATED,
    api_version: str = "v2",
    kind: MigrationType = MigrationType.ONLINE,
) -> list[str]:
    """Fresh tasks in a shared store, so tests never depend on each other's restarts."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for task_id in ids:
        store.add(MigrationTask(task_id, kind, api_version, status))
    return ids


def assert_json(response: httpx.Response) -> Any:
    assert response.headers["content-type"].split(";")[0].strip() == "application/json"
    assert response.headers.get("x-request-id")
    return response.json()


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The documented error body: string error_code and error_msg, error_ext_msg present and null."""
    assert response.status_code == status, response.text
    body = assert_json(response)
    assert list(ERROR_SCHEMA.iter_errors(body)) == []
    assert body["error_code"] and body["error_msg"]
    assert "error_ext_msg" in body and body["error_ext_msg"] is None
    return body


def assert_ok(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = assert_json(response)
    assert list(OK_SCHEMA.iter_errors(body)) == []
    return body["migration_tasks"]


def restart(client: httpx.Client, ids: list[str], **kwargs: Any) -> httpx.Response:
    return client.post(PATH, json={"migration_tasks": ids}, **kwargs)


class Running:
    def __init__(self, server: BackgroundServer, store: TaskStore) -> None:
        self.server = server
        self.store = store
        self.client = httpx.Client(base_url=server.base_url, timeout=10, trust_env=False)


@pytest.fixture(scope="module")
def open_server() -> Iterator[Running]:
    store = TaskStore()
    with BackgroundServer(create_app(store)) as server:
        running = Running(server, store)
        with running.client:
            yield running


@pytest.fixture(scope="module")
def token_server() -> Iterator[Running]:
    store = TaskStore()
    policy = AuthPolicy(mode=AuthMode.TOKEN, token=TOKEN, readonly_token=READONLY_TOKEN)
    with BackgroundServer(create_app(store, policy)) as server:
        running = Running(server, store)
        with running.client:
            yield running


@pytest.fixture(scope="module")
def aksk_server() -> Iterator[Running]:
    store = TaskStore()
    policy = AuthPolicy(mode=AuthMode.AKSK, keys={AK: SK}, readonly_keys={RO_AK: RO_SK})
    with BackgroundServer(create_app(store, policy)) as server:
        running = Running(server, store)
        with running.client:
            yield running


# --- the happy path ---------------------------------------------------------------------------------------------------


def test_mixed_batch_gets_200_json_with_a_correct_result_per_item(open_server: Running) -> None:
    store = open_server.store
    (ok_terminated,) = add_tasks(store, status=Status.TERMINATED)
    (ok_failed,) = add_tasks(store, status=Status.FAILED)
    (v1,) = add_tasks(store, api_version="v1")
    (running,) = add_tasks(store, status=Status.RUNNING)
    (backup,) = add_tasks(store, kind=MigrationType.BACKUP_IMPORT)
    unknown = str(uuid.uuid4())
    requested = [v1, ok_terminated, unknown, running, ok_failed, backup]

    items = assert_ok(restart(open_server.client, requested))

    by_id = {item["task_id"]: item for item in items}
    assert len(items) == len(by_id) == len(requested)
    assert set(by_id) == set(requested)
    assert by_id[ok_terminated] == {"result": "success", "task_id": ok_terminated}
    assert by_id[ok_failed] == {"result": "success", "task_id": ok_failed}
    assert by_id[v1] == {"result": "failed", "task_id": v1, "error_code": "dcs.41.0001", "error_msg": "task not v2"}
    for failed in (unknown, running, backup):
        assert by_id[failed]["result"] == "failed"
        assert by_id[failed]["error_code"] and by_id[failed]["error_msg"]
    assert by_id[running]["error_code"] == by_id[backup]["error_code"] == "DCS.4957"
    assert store.get(ok_terminated).status is Status.MIGRATING
    assert store.get(running).status is Status.RUNNING


def test_duplicate_ids_are_answered_once_each(open_server: Running) -> None:
    a, b = add_tasks(open_server.store, 2)
    items = assert_ok(restart(open_server.client, [a, b, a, b, a]))
    assert Counter(item["task_id"] for item in items) == {a: 1, b: 1}
    assert {item["result"] for item in items} == {"success"}


def test_batch_of_50_is_accepted_with_a_result_for_each(open_server: Running) -> None:
    ids = add_tasks(open_server.store, MAX_BATCH)
    items = assert_ok(restart(open_server.client, ids))
    assert sorted(item["task_id"] for item in items) == sorted(ids)
    assert {item["result"] for item in items} == {"success"}


def test_every_response_200_400_404_405_carries_a_distinct_request_id(open_server: Running) -> None:
    client = open_server.client
    responses = [
        restart(client, add_tasks(open_server.store)),
        client.post(PATH, content=b"not json"),
        client.post("/v2/nowhere"),
        client.get(PATH),
    ]
    assert [r.status_code for r in responses] == [200, 400, 404, 405]
    request_ids = [r.headers.get("x-request-id") for r in responses]
    assert all(request_ids)
    assert len(set(request_ids)) == len(request_ids)


# --- invalid requests -------------------------------------------------------------------------------------------------


INVALID_BODIES = {
    "empty body": b"",
    "whitespace only": b"  \r\n ",
    "not json": b"migration_tasks=a,b",
    "truncated json": b'{"migration_tasks": ["a"',
    "non-utf8 bytes": b'{"migration_tasks": ["\xff\xfe"]}',
    "json array at top level": b'["091434c0-d6d7-47c6-9e14-17cc9502b27b"]',
    "json string at top level": b'"migration_tasks"',
    "missing field": b'{"tasks": ["091434c0-d6d7-47c6-9e14-17cc9502b27b"]}',
    "migration_tasks is a string": b'{"migration_tasks": "091434c0-d6d7-47c6-9e14-17cc9502b27b"}',
    "migration_tasks is null": b'{"migration_tasks": null}',
    "migration_tasks is an object": b'{"migration_tasks": {"id": "x"}}',
    "non-string item": b'{"migration_tasks": ["091434c0-d6d7-47c6-9e14-17cc9502b27b", 42]}',
    "null item": b'{"migration_tasks": [null]}',
    "object item": b'{"migration_tasks": [{"task_id": "x"}]}',
    "null among valid IDs": b'{"migration_tasks": ["091434c0-d6d7-47c6-9e14-17cc9502b27b", null]}',
    "nested array among valid IDs": b'{"migration_tasks": ["091434c0-d6d7-47c6-9e14-17cc9502b27b", ["x"]]}',
    "json followed by other bytes": b'{"migration_tasks": ["091434c0-d6d7-47c6-9e14-17cc9502b27b"]} xyz',
    "two json documents": b'{"migration_tasks": ["a"]}{"migration_tasks": ["b"]}',
    "byte order mark before the json": b'\xef\xbb\xbf{"migration_tasks": ["091434c0-d6d7-47c6-9e14-17cc9502b27b"]}',
    "51 items": json.dumps({"migration_tasks": [str(uuid.UUID(int=i)) for i in range(MAX_BATCH + 1)]}).encode(),
    "empty list": b'{"migration_tasks": []}',
    "deeply nested arrays": b"[" * 100_000,
    "deeply nested objects": b'{"migration_tasks": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
}


@pytest.mark.parametrize("body", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_request_gets_400_with_the_error_body(open_server: Running, body: bytes) -> None:
    response = open_server.client.post(PATH, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400)


def test_body_over_1_mib_gets_4xx_and_the_server_still_answers_afterwards(open_server: Running) -> None:
    client = open_server.client
    huge = b'{"migration_tasks": ["' + b"a" * (MAX_BODY_BYTES + 1) + b'"]}'
    response = client.post(PATH, content=huge, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)
    assert_ok(restart(client, add_tasks(open_server.store)))
    with httpx.Client(base_url=open_server.server.base_url, timeout=10, trust_env=False) as fresh:
        assert_ok(restart(fresh, add_tasks(open_server.store)))


def test_invalid_request_restarts_nothing(open_server: Running) -> None:
    ids = add_tasks(open_server.store, MAX_BATCH + 1)
    assert_error(restart(open_server.client, ids), 400)
    assert all(open_server.store.get(task_id).status is Status.TERMINATED for task_id in ids)


def test_task_id_with_lone_surrogate_escape_is_not_answered_with_a_5xx(open_server: Running) -> None:
    # "\ud800" is valid JSON syntax (RFC 8259 grammar); client input must never cause a 5xx (BR-REQ-003)
    for body in (b'{"migration_tasks": ["\\ud800"]}', b'{"migration_tasks": ["a\\udfff-b"]}'):
        with httpx.Client(base_url=open_server.server.base_url, timeout=10, trust_env=False) as client:
            response = client.post(PATH, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code < 500, response.text
            assert_json(response)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_body_with_non_json_constant_gets_400(open_server: Running, constant: bytes) -> None:
    # NaN and Infinity are Python extensions, not JSON (RFC 8259): such a body is "not JSON" (BR-REQ-001)
    (task_id,) = add_tasks(open_server.store)
    body = b'{"migration_tasks": ["' + task_id.encode() + b'"], "weight": ' + constant + b"}"
    assert_error(open_server.client.post(PATH, content=body, headers={"Content-Type": "application/json"}), 400)
    assert open_server.store.get(task_id).status is Status.TERMINATED


def test_unexpected_internal_error_is_answered_500_with_json_error_body_and_request_id() -> None:
    class BrokenStore(TaskStore):
        def restart_batch(self, task_ids: Any) -> Any:
            raise RuntimeError("simulated defect")

    with (
        BackgroundServer(create_app(BrokenStore())) as server,
        httpx.Client(base_url=server.base_url, timeout=10, trust_env=False) as client,
    ):
        assert_error(restart(client, ["any"]), 500)


# --- routing ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_gets_405_with_json_error_body(open_server: Running, method: str) -> None:
    response = open_server.client.request(method, PATH)
    assert_error(response, 405)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v2",
        f"/v2/{PROJECT}/migration-tasks",
        f"/v1/{PROJECT}/migration-tasks/batch-restart",
        f"/v2/{PROJECT}/migration-task/batch-restart",
        f"/v2/{PROJECT}/migration-tasks/batch-restart/extra",
    ],
)
def test_unknown_path_gets_404_json(open_server: Running, path: str) -> None:
    assert_error(open_server.client.post(path, json={"migration_tasks": ["x"]}), 404)


def test_endpoint_path_with_trailing_slash_gets_a_documented_json_answer_not_a_redirect(open_server: Running) -> None:
    # The contract documents 200/400/401/403/404/500 only (BR-REQ-022): the path is either served or unknown (404).
    response = open_server.client.post(PATH + "/", json={"migration_tasks": [str(uuid.uuid4())]})
    assert response.status_code in (200, 404), f"{response.status_code} {response.headers}"
    if response.status_code == 404:
        assert_error(response, 404)
    else:
        assert_ok(response)


def test_project_restriction_gives_404_for_other_projects_and_200_for_served_ones() -> None:
    store = TaskStore()
    with (
        BackgroundServer(create_app(store, projects=["p1"])) as server,
        httpx.Client(base_url=server.base_url, timeout=10, trust_env=False) as client,
    ):
        other = client.post(ENDPOINT.replace("{project_id}", "p2"), json={"migration_tasks": add_tasks(store)})
        assert_error(other, 404)
        served = client.post(ENDPOINT.replace("{project_id}", "p1"), json={"migration_tasks": add_tasks(store)})
        assert [item["result"] for item in assert_ok(served)] == ["success"]


# --- token authentication ---------------------------------------------------------------------------------------------


def test_token_auth_missing_token_gets_401(token_server: Running) -> None:
    (task_id,) = add_tasks(token_server.store)
    assert_error(restart(token_server.client, [task_id]), 401)
    assert token_server.store.get(task_id).status is Status.TERMINATED


def test_token_auth_wrong_token_gets_401(token_server: Running) -> None:
    (task_id,) = add_tasks(token_server.store)
    assert_error(restart(token_server.client, [task_id], headers={"X-Auth-Token": TOKEN + "x"}), 401)
    assert_error(restart(token_server.client, [task_id], headers={"X-Auth-Token": ""}), 401)
    assert token_server.store.get(task_id).status is Status.TERMINATED


@pytest.mark.parametrize("token", [TOKEN[:-1], TOKEN[:-1] + "X", TOKEN[:16]], ids=["cut", "last-changed", "first-16"])
def test_token_auth_near_miss_of_the_token_gets_401(token_server: Running, token: str) -> None:
    (task_id,) = add_tasks(token_server.store)
    assert_error(restart(token_server.client, [task_id], headers={"X-Auth-Token": token}), 401)
    assert token_server.store.get(task_id).status is Status.TERMINATED


def test_an_embedded_reference_judging_a_token_fault_authenticates_with_tokens() -> None:
    with embedded("p", seed=1, restartable=1, not_restartable=1, faults=["prefix-token"]) as reference:
        assert reference.credentials.token and reference.credentials.readonly_token
        assert not reference.credentials.ak
        with httpx.Client(base_url=reference.base_url, timeout=10, trust_env=False) as client:
            path = ENDPOINT.replace("{project_id}", "p")
            near_miss = reference.credentials.token[:-1]
            answer = client.post(path, json={"migration_tasks": ["x"]}, headers={"X-Auth-Token": near_miss})
            assert answer.status_code == 200, "the fault lets a near miss through"
            wrong = client.post(path, json={"migration_tasks": ["x"]}, headers={"X-Auth-Token": "w" * 64})
            assert_error(wrong, 401)
    with embedded("p", seed=1, restartable=1, not_restartable=1) as reference:
        assert reference.credentials.ak and not reference.credentials.token


def test_token_auth_readonly_token_gets_403(token_server: Running) -> None:
    (task_id,) = add_tasks(token_server.store)
    assert_error(restart(token_server.client, [task_id], headers={"X-Auth-Token": READONLY_TOKEN}), 403)
    assert token_server.store.get(task_id).status is Status.TERMINATED


def test_token_auth_right_token_gets_200(token_server: Running) -> None:
    (task_id,) = add_tasks(token_server.store)
    items = assert_ok(restart(token_server.client, [task_id], headers={"X-Auth-Token": TOKEN}))
    assert items == [{"result": "success", "task_id": task_id}]


# --- AK/SK authentication ---------------------------------------------------------------------------------------------


def signed_post(running: Running, ids: list[str], ak: str, sk: str) -> httpx.Response:
    body = json.dumps({"migration_tasks": ids}).encode()
    url = running.server.base_url + PATH
    headers = {"Content-Type": "application/json;charset=utf-8", "X-Project-Id": PROJECT}
    headers = sign("POST", url, headers, body, ak, sk)
    return running.client.post(PATH, content=body, headers=headers)


def test_aksk_auth_request_signed_with_the_right_key_is_accepted(aksk_server: Running) -> None:
    (task_id,) = add_tasks(aksk_server.store)
    items = assert_ok(signed_post(aksk_server, [task_id], AK, SK))
    assert items == [{"result": "success", "task_id": task_id}]


def test_aksk_auth_unsigned_request_gets_401(aksk_server: Running) -> None:
    (task_id,) = add_tasks(aksk_server.store)
    assert_error(restart(aksk_server.client, [task_id]), 401)
    assert aksk_server.store.get(task_id).status is Status.TERMINATED


def test_aksk_auth_wrong_secret_key_gets_401(aksk_server: Running) -> None:
    (task_id,) = add_tasks(aksk_server.store)
    assert_error(signed_post(aksk_server, [task_id], AK, SK + "x"), 401)
    assert_error(signed_post(aksk_server, [task_id], "HPUAUNKNOWNAK0000001", SK), 401)
    assert aksk_server.store.get(task_id).status is Status.TERMINATED


def test_aksk_auth_tampered_body_gets_401(aksk_server: Running) -> None:
    (task_id,) = add_tasks(aksk_server.store)
    body = json.dumps({"migration_tasks": [task_id]}).encode()
    headers = sign("POST", aksk_server.server.base_url + PATH, {"Content-Type": "application/json"}, body, AK, SK)
    other = json.dumps({"migration_tasks": add_tasks(aksk_server.store)}).encode()
    assert_error(aksk_server.client.post(PATH, content=other, headers=headers), 401)


def test_aksk_auth_readonly_key_gets_403(aksk_server: Running) -> None:
    (task_id,) = add_tasks(aksk_server.store)
    assert_error(signed_post(aksk_server, [task_id], RO_AK, RO_SK), 403)
    assert aksk_server.store.get(task_id).status is Status.TERMINATED


# --- concurrency ------------------------------------------------------------------------------------------------------


@pytest.mark.asks_again  # two batches name the same tasks at once: each restarts once in total
def test_two_overlapping_concurrent_batches_restart_each_task_once_in_total(open_server: Running) -> None:
    ids = add_tasks(open_server.store, 40)
    batches = [ids[:30], ids[10:][::-1]]  # overlap on ids[10:30], in opposite orders
    barrier = threading.Barrier(len(batches))
    answers: list[list[dict[str, Any]]] = [[] for _ in batches]

    def post(index: int) -> None:
        with httpx.Client(base_url=open_server.server.base_url, timeout=10, trust_env=False) as client:
            barrier.wait()
            answers[index] = assert_ok(restart(client, batches[index]))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert [len(items) for items in answers] == [30, 30]
    successes = Counter(item["task_id"] for items in answers for item in items if item["result"] == "success")
    assert successes == Counter({task_id: 1 for task_id in ids})


# --- the CLI ----------------------------------------------------------------------------------------------------------


def serve(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance", "serve", *args]


def test_cli_serve_prints_its_url_serves_the_fixtures_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    fixtures_file = tmp_path / "f.json"
    process = subprocess.Popen(
        serve("--port", "0", "--fixtures-out", str(fixtures_file)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=CLEAN_ENV,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=20)
        url = first.split()[-1]
        assert url.startswith("http://127.0.0.1:"), first
        while "Ctrl-C" not in lines.get(timeout=10):  # the banner ends once the SIGTERM handler is about to be set
            pass
        fixtures = json.loads(fixtures_file.read_text(encoding="utf-8"))
        assert set(fixtures) == {"restartable", "not_restartable"}
        batch = fixtures["restartable"][:3] + fixtures["not_restartable"][:3]
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as client:
            items = assert_ok(restart(client, batch))
        results = {item["task_id"]: item["result"] for item in items}
        assert results == {**dict.fromkeys(batch[:3], "success"), **dict.fromkeys(batch[3:], "failed")}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, process.stderr.read()


@pytest.mark.parametrize(
    "auth",
    [["--allow-unauthenticated"], ["--auth", "token", "--token", "serve-token-0123"]],
    ids=["unauthenticated, allowed", "token"],
)
def test_cli_serve_beyond_loopback_warns_on_stderr_and_serves(auth: list[str]) -> None:
    process = subprocess.Popen(
        serve("--host", "0.0.0.0", "--port", "0", *auth),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=CLEAN_ENV,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        warning = process.stderr.readline()
        assert warning.startswith("dcs-conformance serve: warning: 0.0.0.0 is not a loopback address"), warning
        assert ("without authentication" in warning) is (auth == ["--allow-unauthenticated"])
        assert "listening on http://0.0.0.0:" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0


def test_cli_serve_token_auth_without_a_token_exits_2_with_one_line_and_no_traceback() -> None:
    done = subprocess.run(
        serve("--auth", "token", "--port", "0"), capture_output=True, text=True, env=CLEAN_ENV, timeout=30
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("dcs-conformance serve: error:")
    assert "token" in done.stderr


def test_cli_serve_unwritable_fixtures_out_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    done = subprocess.run(
        serve("--port", "0", "--fixtures-out", str(blocker / "f.json")),
        capture_output=True,
        text=True,
        env=CLEAN_ENV,
        timeout=30,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("dcs-conformance serve: error:")


def test_cli_serve_on_a_busy_port_prints_only_our_one_line_and_exits_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(serve("--port", str(port)), capture_output=True, text=True, env=CLEAN_ENV, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"dcs-conformance serve: error: cannot serve on 127.0.0.1:{port}: address already in use; "
        "give another --port, or --port 0 for any free one"
    ]
    assert done.stdout == ""


def test_the_server_sends_its_answers_without_waiting_for_a_delayed_ack() -> None:
    """Every connection it accepts has TCP_NODELAY, as uvicorn's own sockets have: without it a keep-alive answer
    waits for the client's delayed ACK (about 40 ms a request: a default embedded run took 15 s instead of 3)."""
    server = BackgroundServer(create_app(TaskStore([]))).start()
    try:
        with socket.create_connection((server.host, server.port)) as client:
            client.sendall(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.recv(1024).startswith(b"HTTP/1.1 ")
            accepted = [
                connection.transport.get_extra_info("socket")
                for connection in server._server.server_state.connections  # uvicorn's own record of them
            ]
            assert accepted, "the connection is still open"
            assert all(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in accepted)
    finally:
        server.stop()


def test_stopping_the_server_lets_an_answer_in_flight_finish_and_then_closes_the_port() -> None:
    """Stopped at once when told (reference/server.py's _PromptServer), yet still gracefully: a request it is
    answering when ``stop`` comes gets its whole answer, and nothing listens on the port afterwards."""
    started = threading.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await asyncio.sleep(0.3)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
        await send({"type": "http.response.body", "body": b"done"})

    server = BackgroundServer(slow).start()
    answers: queue.Queue[httpx.Response | BaseException] = queue.Queue()

    def ask() -> None:
        try:
            answers.put(httpx.get(server.base_url + "/", timeout=10))
        except BaseException as exc:  # handed to the test
            answers.put(exc)

    threading.Thread(target=ask, daemon=True).start()
    assert started.wait(10)
    server.stop()
    answer = answers.get(timeout=10)
    assert isinstance(answer, httpx.Response) and (answer.status_code, answer.text) == (200, "done")
    with pytest.raises(ConnectionRefusedError), socket.create_connection((server.host, server.port), timeout=5):
        pass


def test_a_background_server_that_cannot_bind_says_why_in_one_sentence(capfd: pytest.CaptureFixture[str]) -> None:
    """The embedded run's server too: the cause is the exception's message, and uvicorn prints nothing."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServerStartError, match=r"^address already in use$") as raised:
            BackgroundServer(create_app(TaskStore([])), port=port).start()
    assert raised.value.errno == errno.EADDRINUSE
    assert capfd.readouterr() == ("", "")


def serve_in_a_child_here() -> None:
    """What the reference process's start does with the line its child writes, the child served here (with this
    process's patches): raises as the run's own start would."""
    order = {
        "project_id": "p",
        "seed": 1,
        "restartable": 1,
        "not_restartable": 1,
        "faults": [],
        "variants": [],
        "credentials": {"ak": "AK", "sk": "SK", "readonly_ak": "RAK", "readonly_sk": "RSK"},
    }
    written = io.StringIO()
    with contextlib.redirect_stdout(written):
        child.serve(order)
    answer = json.loads(written.getvalue())
    assert set(answer) == {"error"}, "a child whose server cannot start says why, in its one line"
    raise ReferenceServerFailed(answer["error"])


def test_an_embedded_run_whose_server_cannot_start_says_so_in_one_line_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Not "a bug in the suite" with a traceback: the run was not completed (3), nothing was sent, no report."""
    from conformance.cli.main import main

    def cannot_bind(_: BackgroundServer) -> socket.socket:
        raise ServerStartError("address already in use", errno.EADDRINUSE)

    monkeypatch.setattr(BackgroundServer, "_bind", cannot_bind)
    monkeypatch.setattr(ReferenceProcess, "start", lambda *_, **__: serve_in_a_child_here())
    code = main(["run", "--seed", "1", "--max-examples", "1", "--quiet", "--report-dir", str(tmp_path / "report")])
    out, err = capfd.readouterr()
    assert code == 3
    assert err.splitlines() == [
        "dcs-conformance run: the embedded reference server could not start: address already in use"
    ]
    assert out == ""
    assert not (tmp_path / "report" / "report.json").exists()


def test_cli_serve_help_mentions_every_option() -> None:
    done = subprocess.run(serve("--help"), capture_output=True, text=True, env=CLEAN_ENV, timeout=30)
    assert done.returncode == 0
    from conformance.cli.main import build_parser

    (commands,) = (action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    declared = {
        name for action in commands.choices["serve"]._actions for name in action.option_strings if name.startswith("--")
    }
    expected = {
        "--host",
        "--port",
        "--auth",
        "--token",
        "--readonly-token",
        "--ak",
        "--sk",
        "--readonly-ak",
        "--readonly-sk",
        "--project-id",
        "--fixtures-out",
        "--allow-unauthenticated",
        "--restartable",
        "--seed",
        "--help",
    }
    assert expected <= declared
    assert sorted(o for o in declared if not re.search(rf"(?<![\w-]){o}(?![\w-])", done.stdout)) == []
