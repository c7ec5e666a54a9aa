"""CI summaries from report dictionaries: the markdown digest, GitHub annotations, and where they are written."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from conformance.reporters.ci_summary import (
    annotation,
    overview_markdown,
    publish,
    report_annotations,
    report_markdown,
    unwritable,
)

CANARY = "canary-secret-93b1f0"


def requirement(rid: str, level: str, status: str, reason: str = "", explanation: str = "") -> dict[str, Any]:
    evidence = [{"seq": 7, "label": "batch", "explanation": explanation}] if explanation else []
    return {
        "id": rid,
        "level": level,
        "title": f"title of {rid}",
        "status": status,
        "reason": reason,
        "needs": ["fixtures"] if status == "skipped" else [],
        "evidence": evidence,
    }


def report(**overrides: Any) -> dict[str, Any]:
    base = {
        "verdict": "non-conformant",
        "verdict_reason": None,
        "diagnosis": [],
        "error": None,
        "suite_version": "0.1.0",
        "seed": 5,
        "target": {"base_url": "https://dcs.example.com", "project_id": "p1", "faults": [], "variants": []},
        "counts": {"passed": 1, "failed": 1, "warning": 1, "skipped": 2, "error": 0, "total": 5},
        "requirements": [
            requirement("BR-REQ-001", "MUST", "passed", "held"),
            requirement(
                "BR-REQ-009", "MUST", "failed", "2 of 9 checks violated it", "task 'a' requested, not answered"
            ),
            requirement("BR-REQ-021", "SHOULD", "warning", "1 of 4 checks violated it", "no X-Request-Id header"),
            requirement("BR-REQ-014", "MUST", "skipped", "no fixtures: no restartable task is known"),
            requirement("BR-REQ-013", "SHOULD", "skipped", "no success answer to judge"),
        ],
    }
    return {**base, **overrides}


def test_markdown_names_the_verdict_failures_warnings_skipped_musts_and_where_the_reports_are() -> None:
    text = report_markdown(report(), "reports/20260101T000000Z")
    assert "DCS conformance: non-conformant" in text
    assert "`https://dcs.example.com`" in text and "seed 5" in text
    failed = next(line for line in text.splitlines() if "BR-REQ-009" in line)
    assert "2 of 9 checks violated it: task 'a' requested, not answered" in failed
    warned = next(line for line in text.splitlines() if "BR-REQ-021" in line)
    assert "no X-Request-Id header" in warned
    skipped = next(line for line in text.splitlines() if "BR-REQ-014" in line)
    assert "no fixtures" in skipped and "needs: fixtures" in skipped
    # Only skipped MUSTs are listed; passed requirements are counted, not listed.
    assert "BR-REQ-013" not in text and "BR-REQ-001" not in text
    assert "reports/20260101T000000Z/" in text


def test_untrusted_text_cannot_break_out_of_its_table_cell_or_inject_markup() -> None:
    hostile = "x | y <img src=https://evil.example/p.png> `code` [link](https://evil.example)\nsecond line"
    text = report_markdown(report(requirements=[requirement("BR-REQ-009", "MUST", "failed", "r", hostile)]))
    line = next(line for line in text.splitlines() if "BR-REQ-009" in line)
    assert "<img" not in line and "&lt;img" in line
    assert "x \\| y" in line
    assert "`code`" not in line  # no code span
    assert "[link](" not in line and "\\[link\\]" in line  # no link
    assert "second line" in line  # one line: newlines folded


def test_annotations_are_errors_for_failed_musts_and_warnings_for_shoulds() -> None:
    lines = report_annotations(report())
    assert lines == [
        "::error title=BR-REQ-009 (MUST) title of BR-REQ-009::"
        "2 of 9 checks violated it: task 'a' requested, not answered",
        "::warning title=BR-REQ-021 (SHOULD) title of BR-REQ-021::1 of 4 checks violated it: no X-Request-Id header",
    ]


def test_an_incomplete_run_gets_an_error_annotation_that_says_why() -> None:
    lines = report_annotations(
        report(verdict="incomplete", verdict_reason="the credentials were rejected", requirements=[]), "cn-north-4"
    )
    assert lines == ["::error title=cn-north-4%3A dcs-conformance%3A incomplete::the credentials were rejected"]


@pytest.mark.parametrize(
    "beyond", ["", "; 2 MUST requirement(s) not exercised: BR-REQ-014, BR-REQ-015"], ids=["reason-is-it", "reason-adds"]
)
def test_the_digest_states_each_diagnosis_once(beyond: str) -> None:
    """An incomplete run's reason begins with its first diagnosis (engine.runner): the digest says it once, as the
    page does, and what the reason adds after it still."""
    first, second = "every restartable fixture came back failed", "every answer was 404"
    digest = report_markdown(
        report(verdict="incomplete", verdict_reason=first + beyond, diagnosis=[first, second]), "reports/x"
    )
    assert digest.count(first) == 1, digest
    assert digest.count(second) == 1, digest
    if beyond:
        assert "2 MUST requirement(s) not exercised: BR-REQ-014, BR-REQ-015" in digest
    else:
        assert "**incomplete:**" not in digest, "a reason that is the diagnosis alone adds nothing to show"


def test_a_reason_that_is_no_diagnosis_is_shown_whole() -> None:
    digest = report_markdown(report(verdict="error", verdict_reason="interrupted (SIGTERM) after 12 requests"))
    assert "> **error:** interrupted (SIGTERM) after 12 requests" in digest


def test_annotation_escapes_newlines_percent_and_property_separators() -> None:
    assert annotation("error", "a: b, c", "50%\r\nnext") == "::error title=a%3A b%2C c::50%25%0D%0Anext"


def test_publish_appends_to_the_step_summary_prints_annotations_and_masks_every_known_secret(tmp_path: Path) -> None:
    step, md = tmp_path / "step.md", tmp_path / "summary.md"
    step.write_text("earlier step\n")
    leaky = report(requirements=[requirement("BR-REQ-009", "MUST", "failed", "r", f"echoed token {CANARY}")])
    out = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(step), "GITHUB_ACTIONS": "true", "DCS_AUTH_TOKEN": CANARY}
    problems = publish(report_markdown(leaky), report_annotations(leaky), summary_md=md, env=env, out=out)
    assert problems == []
    assert step.read_text().startswith("earlier step\n")  # appended, never replaced
    assert "BR-REQ-009" in step.read_text() and md.read_text() in step.read_text()
    assert out.getvalue().startswith("::error title=BR-REQ-009")
    for text in (step.read_text(), md.read_text(), out.getvalue()):
        assert CANARY not in text
        assert "[REDACTED]" in text


def test_a_secret_the_run_knew_of_is_masked_even_when_no_variable_holds_it(tmp_path: Path) -> None:
    md = tmp_path / "summary.md"
    leaky = report(verdict_reason=f"rejected {CANARY}")
    publish(report_markdown(leaky), [], summary_md=md, env={}, secrets=[CANARY])
    assert CANARY not in md.read_text()


def test_outside_github_nothing_is_printed_and_no_step_summary_written(tmp_path: Path) -> None:
    out = io.StringIO()
    assert publish("# x", ["::error::x"], env={}, out=out) == []
    assert out.getvalue() == ""


def test_a_step_summary_that_cannot_be_written_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "no-such-dir" / "step.md")}
    problems = publish("# x", [], env=env)
    assert len(problems) == 1 and "GITHUB_STEP_SUMMARY" in problems[0]


def test_unwritable_summary_paths_are_named_before_a_run(tmp_path: Path) -> None:
    assert unwritable(tmp_path / "summary.md") is None
    assert unwritable(tmp_path / "reports" / "run" / "summary.md") is None  # created with the reports
    assert unwritable(tmp_path) == "is a directory"
    (tmp_path / "file").write_text("")
    assert unwritable(tmp_path / "file" / "summary.md") == f"{tmp_path / 'file'} is not a directory"


def test_overview_markdown_has_a_line_per_target_and_each_failing_requirement() -> None:
    summary = {
        "verdict": "non-conformant",
        "targets": [
            {"name": "cn-north-4", "verdict": "conformant", "base_url": "https://a", "counts": {"failed": 0}},
            {"name": "ap-1", "verdict": "non-conformant", "base_url": "https://b", "counts": {"failed": 1}},
            {"name": "eu-1", "verdict": "not run", "base_url": None, "counts": {}, "verdict_reason": "no fixtures"},
        ],
        "requirements": [
            {
                "id": "BR-REQ-009",
                "level": "MUST",
                "title": "t9",
                "statuses": {"cn-north-4": "passed", "ap-1": "failed"},
            },
            {
                "id": "BR-REQ-001",
                "level": "MUST",
                "title": "t1",
                "statuses": {"cn-north-4": "passed", "ap-1": "passed"},
            },
        ],
    }
    text = overview_markdown(summary, "reports/run")
    assert "non-conformant (3 targets)" in text
    assert "**cn-north-4**" in text and "**ap-1**" in text and "**eu-1**" in text and "no fixtures" in text
    assert "**BR-REQ-009** (MUST) t9: ap-1 ❌" in text
    assert "BR-REQ-001" not in text
    assert "reports/run/index.html" in text
