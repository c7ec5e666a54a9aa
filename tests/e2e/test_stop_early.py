"""A wrong setup costs a few requests, not a run's worth: a wrong token or a base URL with one path segment too many
stops after the first 10 requests of the run's own, at any number of workers, with the diagnosis it always had; so
does a target that answers 400 to everything, a request without credentials included. A target that refuses with
400 only what it may refuse is never stopped."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store

pytestmark = pytest.mark.e2e
TOKEN = "the-right-token-0123456789"


def judge(tmp_path: Path, base_url: str, token: str, workers: int) -> tuple[dict[str, Any], int]:
    flags = {
        "base_url": base_url,
        "project_id": "p1",
        "auth_token": token,
        "seed": 3,
        "workers": workers,
        "report_dir": str(tmp_path / "report"),
    }
    outcome = execute(resolve(flags, env={}), progress=lambda _: None)
    return outcome.report, outcome.exit_code


@pytest.mark.parametrize("workers", [1, 16])
@pytest.mark.parametrize(
    ("suffix", "token", "diagnosis"),
    [
        ("", "a-wrong-token-0123456789", "the credentials were rejected"),
        ("/v2", TOKEN, "was answered 404: check --base-url"),
    ],
    ids=["wrong token", "a path prefix too many"],
)
def test_a_refused_setup_stops_after_a_few_requests_with_its_diagnosis(
    tmp_path: Path, workers: int, suffix: str, token: str, diagnosis: str
) -> None:
    store, _ = seed_store(restartable=2, not_restartable=2, seed=1)
    app = create_app(store, AuthPolicy(mode=AuthMode.TOKEN, token=TOKEN), projects=["p1"])
    with BackgroundServer(app) as server:
        report, exit_code = judge(tmp_path, server.base_url + suffix, token, workers)
    assert (report["verdict"], exit_code) == ("incomplete", 4)
    assert report["stats"]["requests"] <= 20
    assert diagnosis in report["diagnosis"][0]
    skipped = [item for item in report["requirements"] if item["status"] == "skipped"]
    assert any("the run stopped early, after" in item["reason"] for item in skipped)


def test_a_right_setup_is_not_stopped(tmp_path: Path) -> None:
    store, _ = seed_store(restartable=2, not_restartable=2, seed=1)
    app = create_app(store, AuthPolicy(mode=AuthMode.TOKEN, token=TOKEN), projects=["p1"])
    with BackgroundServer(app) as server:
        report, exit_code = judge(tmp_path, server.base_url, TOKEN, 16)
    assert exit_code == 0, report["verdict_reason"]
    assert report["stats"]["requests"] > 100
    assert not any("stopped early" in item["reason"] for item in report["requirements"])


@contextmanager
def refusing_400(*, unless_unauthenticated: bool) -> Iterator[str]:
    """A target that answers 400 to every request (a path prefix in front of another API, a proxy answering for
    it); with ``unless_unauthenticated``, 401 to a request without credentials, as a target that checks the
    credentials first and then refuses every batch of IDs it does not know, as a whole, with 400 (OBS-004)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = 401 if unless_unauthenticated and not self.headers.get("X-Auth-Token") else 400
            body = json.dumps({"error_code": "DCS.4000", "error_msg": "refused"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Request-Id", "r-1")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("workers", [1, 16])
def test_a_target_that_refuses_everything_with_400_stops_after_a_few_requests(tmp_path: Path, workers: int) -> None:
    with refusing_400(unless_unauthenticated=False) as base_url:
        report, exit_code = judge(tmp_path, base_url, TOKEN, workers)
    assert (report["verdict"], exit_code) == ("incomplete", 4)
    assert report["stats"]["requests"] <= 20
    assert report["diagnosis"][0].startswith(
        "the requests do not reach the API as sent: every one of the 10 requests sent with the run's credentials was "
        "answered 400, and so was one without credentials, which the API answers 401; check --base-url"
    )
    skipped = [item for item in report["requirements"] if item["status"] == "skipped"]
    assert any(
        f"the run stopped early, after {report['stats']['requests']} requests" in item["reason"] for item in skipped
    )
    assert not any(item["status"] == "failed" for item in report["requirements"]), "diagnosis before blame"


def test_a_target_that_refuses_unknown_ids_with_400_after_checking_credentials_is_never_stopped(
    tmp_path: Path,
) -> None:
    """Without fixtures every batch of the run's own names IDs the target does not know, and it may refuse them as
    a whole with 400: the run asks one question without credentials, is answered 401, and judges everything."""
    with refusing_400(unless_unauthenticated=True) as base_url:
        report, _ = judge(tmp_path, base_url, TOKEN, 16)
    assert report["stats"]["requests"] > 100
    assert not any("stopped early" in item["reason"] for item in report["requirements"])
    assert "the requests do not reach the API" not in " ".join(report["diagnosis"])
