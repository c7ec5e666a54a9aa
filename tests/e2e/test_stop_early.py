"""A wrong setup costs a few requests, not a run's worth: a wrong token or a base URL with one path segment too many
stops after the first 10 requests of the run's own, at any number of workers, with the diagnosis it always had."""

from __future__ import annotations

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
