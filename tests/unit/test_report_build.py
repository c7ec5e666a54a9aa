"""report.build, the one builder of report.json: the ledger's typed records in, report.json's shape out, every
dictionary in report.json's key order, checked by the one reader and redacted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.config.credentials import Credentials
from conformance.config.settings import RunSettings, resolve
from conformance.contract import load_catalogue
from conformance.engine.fixture_plan import FixturePlan, Spent
from conformance.judging.results import (
    MAX_BODY_CHARS,
    Finding,
    Ledger,
    ObservationResult,
    RequirementResult,
    Seen,
    Verdict,
)
from conformance.report.build import RunCounts, build_report, evidence, observation
from conformance.report.store import load_report
from conformance.reporters import json_report
from tests.conftest import exchange

TOKEN = "tok-0123456789-secret"


def test_evidence_keeps_report_json_s_key_order_with_folded_bodies_a_failure_a_detail_and_a_shrunk_case() -> None:
    ledger = Ledger(load_catalogue())
    long = b'"' + b"x" * (MAX_BODY_CHARS + 10) + b'"'
    cut = exchange(200, content=long, request=long, failure="the answer stopped after 5 bytes", seq=4, label="big")
    ledger.lead(Finding("BR-REQ-009", False, "1 missing", {"missing": ["a"]}), cut)
    [result] = [item for item in ledger.requirement_results() if item.id == "BR-REQ-009"]
    entry: Any = evidence(result.evidence[0])
    assert list(entry) == ["label", "seq", "request", "response", "explanation", "detail", "shrunk"]
    assert list(entry["request"]) == ["method", "url", "headers", "body", "body_truncated_chars"]
    assert list(entry["response"]) == ["status", "headers", "body", "body_truncated_chars", "elapsed_ms", "failure"]
    assert entry["request"]["body_truncated_chars"] == entry["response"]["body_truncated_chars"] == 12
    assert entry["response"]["body"].endswith("... [12 more characters folded]")
    assert (entry["detail"], entry["shrunk"], entry["seq"]) == ({"missing": ["a"]}, True, 4)


def test_evidence_names_the_role_of_every_task_its_request_named() -> None:
    """The ledger gives the evidence the run's roles (fixtures, minted IDs), so the per-ID view can show a role for
    every row; a duplicate is named once, what is not a string task ID has none, and an exchange the per-ID view
    cannot show (a refusal, a folded body) carries none."""
    ledger = Ledger(load_catalogue())
    roles = {"r": "restartable", "n": "non-restartable", "u": "unknown"}
    ledger.know_roles(lambda task: roles.get(task, "other"))
    sent = exchange(200, request={"migration_tasks": ["r", "n", "u", "r", "junk-1", 7]}, seq=3)
    ledger.record([Finding("BR-REQ-014", False, "restartable task 'r' came back failed")], sent)
    ledger.record([Seen("OBS-001", "request order kept")], sent)
    [result] = [item for item in ledger.requirement_results() if item.id == "BR-REQ-014"]
    expected = {"r": "restartable", "n": "non-restartable", "u": "unknown", "junk-1": "other"}
    assert evidence(result.evidence[0])["roles"] == expected
    [seen] = [item for item in ledger.observation_results() if item.id == "OBS-001"]
    assert evidence(seen.evidence[0])["roles"] == expected
    refused = exchange(400, request={"migration_tasks": ["r"]}, seq=4)
    big = b'{"migration_tasks": ["' + b"x" * MAX_BODY_CHARS + b'"]}'
    folded = exchange(200, request=big, seq=5)
    ledger.record([Finding("BR-REQ-003", False, "no per-ID view of a refusal")], refused)
    ledger.record([Finding("BR-REQ-003", False, "nor of a request the report folds")], folded)
    [judged] = [item for item in ledger.requirement_results() if item.id == "BR-REQ-003"]
    assert [list(evidence(record)) for record in judged.evidence] == [
        ["label", "seq", "request", "response", "explanation"]
    ] * 2


def test_evidence_without_an_exchange_is_its_explanation_and_an_observation_s_starts_with_its_value() -> None:
    ledger = Ledger(load_catalogue())
    ledger.record([Finding("BR-REQ-003", False, "no exchange involved")])
    ledger.record([Seen("OBS-001", "request order kept")], exchange(200, seq=9))
    [result] = [item for item in ledger.requirement_results() if item.id == "BR-REQ-003"]
    assert evidence(result.evidence[0]) == {"explanation": "no exchange involved"}
    [seen] = [item for item in ledger.observation_results() if item.id == "OBS-001"]
    written: Any = observation(seen)
    assert written["seen"] == [{"value": "request order kept", "count": 1}]
    assert list(written["evidence"][0]) == ["value", "label", "seq", "request", "response", "explanation"]
    assert written["evidence"][0]["explanation"] == ""
    assert "body_truncated_chars" not in written["evidence"][0]["response"]


@dataclass(frozen=True)
class Target:
    base_url: str = "https://dcs.example.com"
    project_id: str = "p1"
    credentials: Credentials = field(default_factory=lambda: Credentials(token=TOKEN))
    embedded: bool = False


@dataclass(frozen=True)
class Run:
    """A finished run as the builder reads it (engine.runner.RunResult has these fields)."""

    settings: RunSettings
    requirements: list[RequirementResult]
    observations: list[ObservationResult]
    stats: RunCounts
    target: Target = field(default_factory=Target)
    transport: dict[str, Any] = field(default_factory=lambda: {"tls": None, "proxy": None, "warning": None})
    started_at: datetime = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    duration_s: float = 1.5
    trace: dict[str, Any] = field(default_factory=lambda: {"format": 1, "scenarios": [], "generated": []})
    verdict: Verdict = Verdict.NON_CONFORMANT
    verdict_reason: str | None = None
    diagnosis: list[str] = field(default_factory=list)
    error: str | None = None
    fixture_plan: FixturePlan | None = None


def test_the_fixture_plan_goes_into_report_json_as_the_one_reader_accepts_it(tmp_path: Path) -> None:
    ledger = Ledger(load_catalogue())
    counts = RunCounts(1, 0, 0, 0, 0, {}, 0, {}, 0, None)
    settings = resolve({"base_url": "https://dcs.example.com", "project_id": "p1"}, env={})
    plan = FixturePlan(2, 1, [Spent("batch of 50", "batch of 50 tasks: 1+1+48", 3, 50)])
    run = Run(settings, ledger.requirement_results(), ledger.observation_results(), counts, fixture_plan=plan)
    report = build_report(run, "dcs-conformance run")
    json_report.write(report, tmp_path)
    assert load_report(tmp_path) == report
    assert report["fixture_plan"] == {
        "restartable": 2,
        "not_restartable": 1,
        "spent": [{"scenario": "batch of 50", "label": "batch of 50 tasks: 1+1+48", "index": 3, "batch_size": 50}],
    }


def test_a_run_becomes_a_report_the_one_reader_accepts_with_its_counts_and_first_failure_and_no_secret(
    tmp_path: Path,
) -> None:
    ledger = Ledger(load_catalogue())
    ledger.record([Finding("BR-REQ-009", False, f"echoed {TOKEN}", {"missing": ["a"]})], exchange(200, seq=3))
    ledger.record([Finding("BR-REQ-001", True)], exchange(400, seq=4))
    counts = RunCounts(4, 0, 0, 0, 0, {}, 0, {}, 0, ledger.first_failure)
    settings = resolve({"base_url": "https://dcs.example.com", "project_id": "p1", "auth_token": TOKEN}, env={})
    run = Run(settings, ledger.requirement_results(), ledger.observation_results(), counts)
    report = build_report(run, "dcs-conformance run --seed 1")
    json_report.write(report, tmp_path)
    assert load_report(tmp_path) == report
    assert report["verdict"] == "non-conformant" and report["target"]["auth"] == "token"
    assert report["counts"]["failed"] == 1 and report["counts"]["passed"] == 1
    assert report["counts"]["total"] == len(load_catalogue().requirements)
    assert report["stats"]["first_must_failure"] == {"requirement": "BR-REQ-009", "request": 3, "seconds": 0.0}
    statuses = {item["id"]: item["status"] for item in report["requirements"]}
    assert (statuses["BR-REQ-009"], statuses["BR-REQ-001"], statuses["BR-REQ-002"]) == ("failed", "passed", "skipped")
    [failed] = [item for item in report["requirements"] if item["id"] == "BR-REQ-009"]
    assert failed["evidence"][0]["detail"] == {"missing": ["a"]}
    assert TOKEN not in repr(report)  # redacted on the way out (sanitize.scrub)
