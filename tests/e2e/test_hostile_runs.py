"""Truthful verdicts against targets nobody on the project wrote: each hostile mode ends in the verdict that tells
the truth, with the evidence, within a bound, and with every report file written and readable."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.app.run import RunOutcome
from tests.hostile import BAD_LOCATIONS, HostileServer
from tests.hostile import judge_hostile as judge

#: Many runs of one seed: their schemathesis cases are drawn once a session (the drawing cache, tests/conftest.py).
pytestmark = pytest.mark.e2e


def assert_reports_written(outcome: RunOutcome) -> dict[str, Any]:
    """Every report file exists and parses; report.json is strict JSON and agrees with the run's verdict."""
    directory = outcome.report_dir
    report = json.loads((directory / "report.json").read_text(encoding="utf-8"), parse_constant=_refuse)
    ET.parse(directory / "junit.xml")
    page = (directory / "index.html").read_text(encoding="utf-8")
    assert report["verdict"] in page
    assert report["verdict"] == outcome.report["verdict"]
    return report


def _refuse(name: str) -> None:
    raise AssertionError(f"report.json holds {name}, which is not JSON")


def status(report: dict[str, Any], requirement: str) -> str:
    return next(item["status"] for item in report["requirements"] if item["id"] == requirement)


def evidence(report: dict[str, Any], requirement: str) -> list[dict[str, Any]]:
    return next(item["evidence"] for item in report["requirements"] if item["id"] == requirement)


def test_a_well_behaved_minimal_implementation_is_conformant_without_fixtures(tmp_path: Path) -> None:
    with HostileServer("ok") as server:
        outcome, took = judge(server, tmp_path)
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("conformant", 0), report["verdict_reason"]
    assert status(report, "BR-REQ-016") == "passed", "the batch of 50 is judged with minted IDs, no fixture needed"
    assert took < 60


@pytest.mark.parametrize("workers", [1, 4], ids=["one worker", "four workers (the default for a remote target)"])
def test_a_mock_that_never_answers_bodies_it_cannot_parse_is_non_conformant_and_fully_judged(
    tmp_path: Path, workers: int
) -> None:
    """What Prism does: the run goes on past every unanswered body and names BR-REQ-001."""
    with HostileServer("hang-on-invalid-json", hold_s=5) as server:
        outcome, took = judge(server, tmp_path, workers=workers)
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("non-conformant", 1), report["verdict_reason"]
    assert status(report, "BR-REQ-001") == "failed"
    assert status(report, "BR-REQ-023") == "failed"
    unanswered = evidence(report, "BR-REQ-001")[0]
    assert unanswered["response"]["status"] is None
    assert "no answer: ReadTimeout" in unanswered["response"]["failure"]
    assert "no answer" in (outcome.report_dir / "index.html").read_text(encoding="utf-8")
    exercised = [item for item in report["requirements"] if item["status"] != "skipped"]
    assert len(exercised) >= 18, "everything else was still judged"
    assert took < 90


def test_a_target_that_stops_answering_ends_in_error_naming_the_last_answered_request(tmp_path: Path) -> None:
    with HostileServer("hang-after", after=30, hold_s=5) as server:
        outcome, took = judge(server, tmp_path)
        received = server.requests
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("error", 3)
    assert "the target stopped answering after request #30" in report["error"]
    assert "nor did a probe naming one minted ID" in report["error"]
    assert report["stats"]["requests"] == received == 36, "five requests without an answer, then the probe"
    assert status(report, "BR-REQ-001") == "passed", "what was judged before the target stopped is kept"
    assert took < 30


def test_a_crash_that_resets_one_reused_connection_is_observed_and_the_run_goes_on(tmp_path: Path) -> None:
    """A reused connection reset before any answer looks exactly like the race of an idle close (a request written
    into a connection the target had just closed is never read, RFC 9112 §9.3.1): observed, resent, and the resend
    judged; never held against the target."""
    with HostileServer("reset-once", after=5) as server:
        outcome, took = judge(server, tmp_path)
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("conformant", 0)
    assert report["error"] is None
    [dropped] = [entry for entry in report["observations"] if entry["id"] == "OBS-013"]
    assert [seen["value"].split(":")[0] for seen in dropped["seen"]] == ["request #5"]
    assert report["stats"]["generated_cases"] > 0, "the run went on to the end"
    assert took < 60


def test_a_target_that_resets_every_connection_stops_the_run(tmp_path: Path) -> None:
    with HostileServer("reset-always") as server:
        outcome, took = judge(server, tmp_path)
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("error", 3)
    assert "could not be reached" in report["error"] or "stopped answering" in report["error"]
    assert took < 30


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("drip", "not complete after 1 s (--timeout)"),
        ("endless-chunked", "exceeds 8388608 bytes"),
        ("huge-body", "exceeds 8388608 bytes"),
        ("gzip-bomb", "after decompression"),
    ],
)
def test_an_answer_that_never_ends_or_is_too_large_is_a_finding_never_a_hang(
    tmp_path: Path, mode: str, expected: str
) -> None:
    with HostileServer(mode, drip_interval_s=0.3, hold_s=10) as server:
        outcome, took = judge(server, tmp_path)
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("error", 3)
    assert report["error"].startswith("the target sent answers but never a complete one: "), "it was reached"
    assert status(report, "BR-REQ-023") == "failed"
    assert expected in evidence(report, "BR-REQ-023")[0]["explanation"]
    assert report["stats"]["requests"] == 6, "five requests without a complete answer, then the probe"
    assert took < 30


def test_a_target_that_only_throttles_is_incomplete_not_conformant(tmp_path: Path) -> None:
    with HostileServer("throttle-429", retry_after="0") as server:
        outcome, took = judge(server, tmp_path)
        received = server.requests
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("incomplete", 4)
    assert "throttled" in report["verdict_reason"]
    assert report["stats"]["throttled"] == 5
    assert received == report["stats"]["requests"] == 20, "each request was sent once and resent three times"
    assert took < 30


def test_a_stub_that_answers_400_to_everything_is_incomplete_and_says_why(tmp_path: Path) -> None:
    with HostileServer("status-400") as server:
        outcome, _ = judge(server, tmp_path)
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("incomplete", 4)
    assert report["diagnosis"] and "refuses every valid batch" in report["diagnosis"][0]
    assert "BR-REQ-007" in report["verdict_reason"]
    assert report["diagnosis"][0] in (outcome.report_dir / "index.html").read_text(encoding="utf-8")


def test_rejected_credentials_are_diagnosed_and_the_run_is_incomplete(tmp_path: Path) -> None:
    with HostileServer("status-401") as server:
        outcome, _ = judge(server, tmp_path, auth_token="expired-token-value")
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("incomplete", 4)
    assert report["diagnosis"][0].startswith("the credentials were rejected")
    assert report["verdict_reason"].startswith("the credentials were rejected")


def test_a_target_that_fails_everything_with_500_is_non_conformant_and_sends_nothing_behind_the_client(
    tmp_path: Path,
) -> None:
    with HostileServer("status-500") as server:
        outcome, _ = judge(server, tmp_path, max_requests=60)
        received = server.requests
    report = assert_reports_written(outcome)
    assert (report["verdict"], outcome.exit_code) == ("non-conformant", 1)
    assert status(report, "BR-REQ-003") == "failed"
    assert received == report["stats"]["requests"] == 60, "no request bypassed the client or its budget"


DEEP = "valid JSON nested 2001 levels deep, deeper than the suite parses (512 levels)"
NAN = "the 200 body is not JSON (NaN is not a JSON value: RFC 8259 has no NaN or Infinity)"
FRAMING = "the answer broke HTTP framing after 16 bytes of the body: illegal chunk header"
#: Each mode of issue 21: the verdict it deserves, at any number of workers.
MALFORMED: dict[str, str] = {
    "location-on-200": "conformant",
    "redirect-bad-location": "non-conformant",
    "many-cookies": "conformant",
    "nan-body": "non-conformant",
    "deep-body": "incomplete",
    "broken-framing": "error",
}


@pytest.mark.parametrize("mode", list(MALFORMED))
def test_a_malformed_answer_is_data_judged_as_what_it_is(tmp_path: Path, mode: str) -> None:
    """A Location that is no URL, thousands of Set-Cookie headers, NaN, a body deeper than the parser goes, framing
    broken part-way: each is judged as what it is, never a harness fault, with every report written (the same
    verdict at 16 workers is test_hostile_bounds.py's)."""
    with HostileServer(mode, hold_s=5) as server:
        outcome, took = judge(server, tmp_path)
    report = assert_reports_written(outcome)
    assert report["verdict"] == MALFORMED[mode], (report["verdict_reason"], report["error"])
    assert "harness fault" not in (report["error"] or "") and "Traceback" not in json.dumps(report)
    assert took < 60
    if mode in ("location-on-200", "many-cookies"):
        assert outcome.exit_code == 0
    if mode == "redirect-bad-location":
        assert status(report, "BR-REQ-022") == "warning"
        assert "status 302 is not among" in evidence(report, "BR-REQ-022")[0]["explanation"]
        located = [ev["response"]["headers"].get("location") for ev in evidence(report, "BR-REQ-022")]
        assert all(value in BAD_LOCATIONS for value in located), "the Location is kept as the target sent it"
    if mode == "many-cookies":
        assert report["stats"]["requests"] >= 50 and took < 30, "thousands of cookies per answer cost nothing"
    if mode == "nan-body":
        assert status(report, "BR-REQ-007") == "failed"
        assert any(NAN in ev["explanation"] for ev in evidence(report, "BR-REQ-007"))
    if mode == "deep-body":
        assert outcome.exit_code == 4
        for requirement in ("BR-REQ-007", "BR-REQ-009", "BR-REQ-016"):
            assert status(report, requirement) == "skipped"
            assert DEEP in next(item["reason"] for item in report["requirements"] if item["id"] == requirement)
        judged = [item["reason"] for item in report["requirements"]]
        judged += [ev["explanation"] for item in report["requirements"] for ev in item["evidence"]]
        assert not [text for text in judged if "not JSON" in text], "a valid body is never called invalid"
        seen = next(item["seen"] for item in report["observations"] if item["id"] == "OBS-016")
        assert seen and DEEP in seen[0]["value"]
    if mode == "broken-framing":
        assert outcome.exit_code == 3
        assert report["error"].startswith("the target sent answers but never a complete one: ")
        assert FRAMING in report["error"] and "could not be reached" not in report["error"]
        assert FRAMING in evidence(report, "BR-REQ-023")[0]["explanation"]
