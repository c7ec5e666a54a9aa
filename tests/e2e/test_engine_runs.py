"""End-to-end runs of the engine against real servers on loopback: the reference, and deliberately broken ones."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store
from tests.conftest import Recorder, clean_env

pytestmark = pytest.mark.e2e

PROJECT = "p-e2e"


def run(tmp_path: Path, **flags: Any):
    settings = resolve({"report_dir": str(tmp_path / "report"), "max_examples": 30, **flags}, env={})
    return execute(settings, progress=lambda _: None)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {item["id"]: item["status"] for item in report["requirements"]}


def failed(report: dict[str, Any]) -> set[str]:
    return {item["id"] for item in report["requirements"] if item["status"] == "failed"}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_embedded_reference_is_conformant_with_every_requirement_passed(tmp_path: Path, seed: int) -> None:
    outcome = run(tmp_path, seed=seed)
    assert outcome.exit_code == 0
    assert outcome.report["verdict"] == "conformant"
    assert set(statuses(outcome.report).values()) == {"passed"}
    assert outcome.report["stats"]["generated_cases"] > 0
    assert (outcome.report_dir / "report.json").is_file()
    assert (outcome.report_dir / "junit.xml").is_file()


def sent_bodies(tmp_path: Path, seed: int, **flags: Any) -> list[bytes]:
    """Every request body a run sent to a freshly seeded reference, in order, as the server received them."""
    store, fixtures = seed_store(restartable=6, not_restartable=4, seed=3)
    tmp_path.mkdir(parents=True)
    (tmp_path / "fixtures.json").write_text(json.dumps(fixtures))
    recorder = Recorder(create_app(store, projects=[PROJECT]))
    with BackgroundServer(recorder) as server:
        run(
            tmp_path,
            seed=seed,
            base_url=server.base_url,
            project_id=PROJECT,
            fixtures=str(tmp_path / "fixtures.json"),
            workers=1,
            **flags,
        )
    return recorder.bodies


def test_same_seed_sends_the_same_generated_cases(tmp_path: Path) -> None:
    """Each run's drawing child draws (no drawing cache), and a run replaying the cache sends the same again."""
    first = sent_bodies(tmp_path / "a", seed=7, no_cache=True)
    assert first == sent_bodies(tmp_path / "b", seed=7, no_cache=True)
    assert first != sent_bodies(tmp_path / "c", seed=8, no_cache=True)
    assert first == sent_bodies(tmp_path / "d", seed=7, cache_dir=str(tmp_path / "drawn"))
    assert first == sent_bodies(tmp_path / "e", seed=7, cache_dir=str(tmp_path / "drawn"))


def test_report_json_has_the_promised_fields_and_no_secret(tmp_path: Path) -> None:
    report = run(tmp_path, seed=11).report
    for key in (
        "verdict",
        "suite_version",
        "spec_sha256",
        "seed",
        "target",
        "started_at",
        "duration_s",
        "requirements",
        "observations",
        "counts",
    ):
        assert key in report
    assert set(report["target"]) >= {"base_url", "project_id"}
    for item in report["requirements"]:
        assert set(item) >= {"id", "level", "title", "status", "reason", "evidence"}
    assert report["counts"]["total"] == len(report["requirements"])


@pytest.fixture
def reference(tmp_path: Path):
    store, fixtures = seed_store(seed=3)
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(fixtures))
    with BackgroundServer(create_app(store, projects=[PROJECT])) as server:
        yield server, path


def test_separately_started_reference_is_certified_with_fixtures(tmp_path: Path, reference) -> None:
    server, fixtures = reference
    outcome = run(tmp_path, base_url=server.base_url, project_id=PROJECT, fixtures=str(fixtures), seed=5)
    by_id = statuses(outcome.report)
    assert outcome.report["verdict"] == "conformant", outcome.report["requirements"]
    assert {req for req, status in by_id.items() if status == "skipped"} == {"BR-REQ-018", "BR-REQ-019", "BR-REQ-020"}


def test_without_fixtures_only_the_restartable_requirement_is_skipped_with_a_reason(tmp_path: Path, reference) -> None:
    """Unknown IDs answered per item let minted IDs fill every batch size, the batch of 50 included."""
    server, _ = reference
    report = run(tmp_path, base_url=server.base_url, project_id=PROJECT, seed=5).report
    skipped = {item["id"]: item["reason"] for item in report["requirements"] if item["status"] == "skipped"}
    assert "BR-REQ-014" in skipped
    assert "fixtures" in skipped["BR-REQ-014"]
    assert statuses(report)["BR-REQ-015"] == statuses(report)["BR-REQ-016"] == "passed"
    assert report["verdict"] == "conformant"


def test_certify_without_fixtures_is_incomplete(tmp_path: Path, reference) -> None:
    server, _ = reference
    outcome = run(tmp_path, base_url=server.base_url, project_id=PROJECT, seed=5, certify=True)
    assert outcome.report["verdict"] == "incomplete"
    assert outcome.exit_code == 4


# -- deliberately broken servers --------------------------------------------------------------------------------


class Rewriter:
    """ASGI wrapper around the reference app that rewrites 200 batch answers: (requested IDs, body) -> body."""

    def __init__(self, app, rewrite: Callable[[list[str], dict[str, Any]], tuple[int, dict[str, Any]]]) -> None:
        self.app = app
        self.rewrite = rewrite

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        start: dict[str, Any] = {}
        body_parts: list[bytes] = []

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body_parts.append(message.get("body", b""))

        await self.app(scope, replay, capture)
        status, body = start["status"], b"".join(body_parts)
        headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length",)]
        if status == 200:
            requested = json.loads(raw)["migration_tasks"]
            status, document = self.rewrite(requested, json.loads(body))
            body = json.dumps(document).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def drop_last(requested, document):
    document["migration_tasks"] = (
        document["migration_tasks"][:-1] if len(requested) > 3 else document["migration_tasks"]
    )
    return 200, document


def phantom(requested, document):
    document["migration_tasks"].append({"result": "failed", "task_id": "phantom", "error_code": "X", "error_msg": "x"})
    return 200, document


def reject_mixed(requested, document):
    results = {item["result"] for item in document["migration_tasks"]}
    if results == {"success", "failed"}:
        return 400, {"error_code": "DCS.4800", "error_msg": "mixed batch", "error_ext_msg": None}
    return 200, document


def capitals(requested, document):
    for item in document["migration_tasks"]:
        item["result"] = item["result"].upper()
    return 200, document


@pytest.mark.parametrize(
    ("rewrite", "broken"),
    [
        (drop_last, "BR-REQ-009"),
        (phantom, "BR-REQ-010"),
        (reject_mixed, "BR-REQ-014"),
        (capitals, "BR-REQ-008"),
    ],
    ids=["dropped item", "phantom ID", "400 for a mixed batch", "SUCCESS in capitals"],
)
def test_broken_server_is_non_conformant_naming_the_broken_requirement(tmp_path: Path, rewrite, broken: str) -> None:
    store, fixtures = seed_store(seed=9)
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(fixtures))
    with BackgroundServer(Rewriter(create_app(store), rewrite)) as server:
        outcome = run(tmp_path, base_url=server.base_url, project_id=PROJECT, fixtures=str(path), seed=1)
    assert outcome.exit_code == 1
    assert outcome.report["verdict"] == "non-conformant"
    assert broken in failed(outcome.report)
    evidence = next(item for item in outcome.report["requirements"] if item["id"] == broken)["evidence"]
    assert evidence and evidence[0]["explanation"]
    assert evidence[0]["response"]["status"] in (200, 400)


# -- the command line -------------------------------------------------------------------------------------------


def cli(*args: str, cwd: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(**extra_env)
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_embedded_run_writes_reports_and_points_latest_and_nothing_else_in_the_working_directory(
    tmp_path: Path,
) -> None:
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    result = cli("run", "--seed", "3", "--max-examples", "20", cwd=work, XDG_CACHE_HOME=str(cache))
    assert result.returncode == 0, result.stderr
    assert [path.name for path in work.iterdir()] == ["reports"], "hypothesis's caches stay out of the user's way"
    assert (cache / "dcs-conformance" / "hypothesis").is_dir()
    assert "verdict: conformant" in result.stdout
    assert "PASS BR-REQ-014" in result.stdout
    latest = work / "reports" / "latest"
    assert json.loads((latest / "report.json").read_text())["verdict"] == "conformant"
    assert (latest / "junit.xml").is_file()


def test_cli_refused_connection_exits_3_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli(
        "run", "--base-url", f"http://127.0.0.1:{port}", "--project-id", "p", "--report-dir", "r", cwd=tmp_path
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "could not be reached" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--base-url", "ftp://x"], "http(s) URL"),
        (["--base-url", "http://127.0.0.1:9"], "project ID"),
        (["--max-examples", "0"], "--max-examples"),
        (["--config", "missing.toml"], "config file not found"),
        (["--fixtures", "f.json"], "only for a --base-url"),
    ],
)
def test_cli_usage_errors_exit_2_without_traceback(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = cli("run", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


# -- safety against a live system -------------------------------------------------------------------------------


class CountingApp:
    """Counts the requests that reach the wrapped app, and remembers every task ID they name."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests = 0
        self.named: set[str] = set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.requests += 1

            async def spy():
                message = await receive()
                try:
                    tasks = json.loads(message.get("body", b"")).get("migration_tasks", [])
                    self.named.update(task for task in tasks if isinstance(task, str))
                except (ValueError, AttributeError, TypeError):
                    pass
                return message

            await self.app(scope, spy, send)
            return
        await self.app(scope, receive, send)


def test_run_never_names_a_real_task_missing_from_the_fixtures(tmp_path: Path) -> None:
    from conformance.reference.store import MigrationTask, MigrationType, Status

    store, fixtures = seed_store(seed=21)
    hidden = [
        MigrationTask(f"0000000{i}-aaaa-4bbb-8ccc-dddddddddddd", MigrationType.ONLINE, "v2", Status.TERMINATED)
        for i in range(3)
    ]
    for task in hidden:
        store.add(task)
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(fixtures))
    app = CountingApp(create_app(store))
    with BackgroundServer(app) as server:
        outcome = run(tmp_path, base_url=server.base_url, project_id=PROJECT, fixtures=str(path), seed=2)
    assert outcome.report["verdict"] == "conformant"
    assert all(store.get(task.task_id).status is Status.TERMINATED for task in hidden)
    assert not app.named & {task.task_id for task in hidden}
    restarted = [task for task in fixtures["restartable"] if store.get(task).status is Status.MIGRATING]
    assert restarted, "the run should have restarted some fixtures"


def test_request_budget_holds_for_the_whole_run_including_generated_phases(tmp_path: Path) -> None:
    store, _ = seed_store(seed=4)
    app = CountingApp(create_app(store))
    with BackgroundServer(app) as server:
        # About 51 scenario requests and 30 aimed cases come first: the budget runs out inside the generated phases.
        outcome = run(tmp_path, base_url=server.base_url, project_id=PROJECT, seed=2, max_requests=95)
    assert app.requests == 95
    assert outcome.report["stats"]["requests"] == 95
    assert 0 < outcome.report["stats"]["generated_cases"] < 95
    skipped = [item for item in outcome.report["requirements"] if item["status"] == "skipped"]
    assert any("budget" in item["reason"] for item in skipped)


class WithoutRequestId:
    """A reference server that drops X-Request-Id: a SHOULD violation only."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async def strip(message):
            if message["type"] == "http.response.start":
                message["headers"] = [(k, v) for k, v in message["headers"] if k.lower() != b"x-request-id"]
            await send(message)

        await self.app(scope, receive, strip)


def test_should_violations_warn_and_strict_turns_them_into_failures(tmp_path: Path) -> None:
    store, _ = seed_store(seed=8)
    with BackgroundServer(WithoutRequestId(create_app(store))) as server:
        lenient = run(tmp_path / "lenient", base_url=server.base_url, project_id=PROJECT, seed=1)
        strict = run(tmp_path / "strict", base_url=server.base_url, project_id=PROJECT, seed=2, strict=True)
    assert lenient.exit_code == 0
    assert lenient.report["verdict"] == "conformant-with-warnings"
    assert statuses(lenient.report)["BR-REQ-021"] == "warning"
    assert strict.exit_code == 1
    assert strict.report["verdict"] == "non-conformant"
    assert failed(strict.report) == {"BR-REQ-021"}


class TokenRecorder:
    """An ASGI wrapper that keeps the X-Auth-Token and the body of every request reaching the app."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: list[tuple[str, bytes]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = dict(scope["headers"]).get(b"x-auth-token", b"").decode()
        chunks: list[bytes] = []

        async def spy():
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                self.requests.append((token, b"".join(chunks)))
            return message

        await self.app(scope, spy, send)


def test_wrong_and_near_miss_tokens_are_refused_and_name_only_minted_ids(tmp_path: Path) -> None:
    """A target that wrongly accepts a near miss of the real token (a prefix compared, say) restarts nothing: those
    requests name only IDs the run minted, never a fixture."""
    token, readonly = "t0ken-with-modify-permission-0123456789", "t0ken-read-only-0123456789"
    store, fixtures = seed_store(restartable=3, not_restartable=2, seed=5)
    (tmp_path / "fixtures.json").write_text(json.dumps(fixtures))
    policy = AuthPolicy(mode=AuthMode.TOKEN, token=token, readonly_token=readonly)
    recorder = TokenRecorder(create_app(store, policy, [PROJECT]))
    with BackgroundServer(recorder) as server:
        outcome = run(
            tmp_path,
            seed=3,
            base_url=server.base_url,
            project_id=PROJECT,
            fixtures=str(tmp_path / "fixtures.json"),
            auth_token=token,
            readonly_token=readonly,
        )
    assert outcome.report["verdict"] == "conformant"
    wrong = [body for sent, body in recorder.requests if sent not in (token, readonly, "")]
    assert {token[:-1], token[:-1] + "0"} <= {sent for sent, _ in recorder.requests}
    assert len(wrong) == 3
    known = {*fixtures["restartable"], *fixtures["not_restartable"]}
    for body in wrong:
        assert not set(json.loads(body)["migration_tasks"]) & known
    assert token not in json.dumps(outcome.report) and token[:-1] not in json.dumps(outcome.report)
