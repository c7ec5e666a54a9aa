"""A nightly job with a fixed fixtures file: the second run finds the fixtures used up by the first, and says so
instead of blaming the target (incomplete, exit 4, a diagnosis naming used-up fixtures); fixtures of another project
are diagnosed as tasks the target does not know."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.reference.app import create_app
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store

pytestmark = pytest.mark.e2e
PROJECT = "p-nightly"


def nightly(base_url: str, fixtures: Path, directory: Path) -> tuple[dict[str, Any], int]:
    settings = resolve(
        {
            "base_url": base_url,
            "project_id": PROJECT,
            "fixtures": str(fixtures),
            "seed": 7,
            "max_examples": 20,
            "workers": 1,
            "report_dir": str(directory),
        },
        env={},
    )
    outcome = execute(settings, progress=lambda _: None)
    return outcome.report, outcome.exit_code


def br_req_014(report: dict[str, Any]) -> dict[str, Any]:
    return next(item for item in report["requirements"] if item["id"] == "BR-REQ-014")


@pytest.mark.asks_again  # the second run names tasks the first restarted
@pytest.mark.parametrize("restartable", [1, 4])
def test_the_second_run_with_the_same_fixtures_is_incomplete_and_says_they_are_used_up(
    tmp_path: Path, restartable: int
) -> None:
    store, fixtures = seed_store(restartable=restartable, not_restartable=2, seed=3)
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(fixtures))
    with BackgroundServer(create_app(store, projects=[PROJECT])) as server:
        first, first_exit = nightly(server.base_url, path, tmp_path / "first")
        second, second_exit = nightly(server.base_url, path, tmp_path / "second")
    assert (first["verdict"], first_exit) == ("conformant", 0)
    assert (second["verdict"], second_exit) == ("incomplete", 4)
    assert "look used up" in second["diagnosis"][0]
    assert br_req_014(second)["status"] == "skipped"
    assert br_req_014(second)["reason"] == second["diagnosis"][0]


def test_fixtures_naming_tasks_the_target_does_not_know_are_diagnosed(tmp_path: Path) -> None:
    store, fixtures = seed_store(restartable=2, not_restartable=2, seed=3)
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps({**fixtures, "restartable": [str(uuid.uuid4()) for _ in range(2)]}))
    with BackgroundServer(create_app(store, projects=[PROJECT])) as server:
        report, exit_code = nightly(server.base_url, path, tmp_path / "report")
    assert (report["verdict"], exit_code) == ("incomplete", 4)
    assert "does not know" in report["diagnosis"][0]
