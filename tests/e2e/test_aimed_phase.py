"""The aimed phase finds size bugs without any fixture and shows the smallest failing request first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve

#: Many runs of one seed: their schemathesis cases are drawn once a session (the drawing cache, tests/conftest.py).
pytestmark = pytest.mark.e2e

NO_FIXTURES = {"embedded_restartable": 0, "embedded_not_restartable": 0}


def judge(tmp_path: Path, **flags: Any) -> dict[str, Any]:
    settings = resolve({"seed": 1, "max_examples": 50, "report_dir": str(tmp_path / "report"), **flags}, env={})
    return execute(settings, progress=lambda _: None).report


def requirement(report: dict[str, Any], req_id: str) -> dict[str, Any]:
    return next(item for item in report["requirements"] if item["id"] == req_id)


@pytest.mark.parametrize(("fault", "smallest"), [("drop-in-large-batches", 21), ("truncate-at-25", 26)])
def test_size_bugs_are_killed_with_minted_ids_only_and_shrunk_to_the_smallest_batch(
    tmp_path: Path, fault: str, smallest: int
) -> None:
    report = judge(tmp_path, fault=[fault], **NO_FIXTURES)
    assert report["verdict"] == "non-conformant"
    assert report["stats"]["shrunk_reproducers"] == {"BR-REQ-009": smallest}
    first = requirement(report, "BR-REQ-009")["evidence"][0]
    assert first["shrunk"] is True
    assert first["explanation"].startswith(
        f"shrunk reproducer: the smallest batch that loses an item has {smallest} IDs"
    )
    assert first["label"] == f"aimed: batch of {smallest} IDs"
    assert len(first["detail"]["missing"]) == 1, "the reproducer names the lost ID, for the report's per-ID view"


def test_the_reference_passes_the_aimed_phase_without_a_reproducer(tmp_path: Path) -> None:
    report = judge(tmp_path, **NO_FIXTURES)
    assert report["verdict"] == "conformant"
    assert report["stats"]["aimed_cases"] == 50
    assert report["stats"]["shrunk_reproducers"] == {}


def test_the_request_budget_holds_inside_the_aimed_phase(tmp_path: Path) -> None:
    report = judge(tmp_path, fault=["drop-last-item"], max_requests=70, **NO_FIXTURES)
    assert report["stats"]["requests"] == 70
    assert report["verdict"] == "non-conformant"
