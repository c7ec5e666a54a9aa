"""The overview of many targets: which exit code and verdict stand for them all, names, the matrix, the page."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.runner import EXIT_CODES
from conformance.reporters import overview


def report(verdict: str, statuses: dict[str, str], **target: Any) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "suite_version": "0.1.0",
        "spec_sha256": "abc",
        "seed": 1,
        "target": {"base_url": "https://dcs.example.com", "project_id": "p1", **target},
        "counts": {"passed": 1, "total": 1},
        "requirements": [
            {"id": rid, "level": "MUST", "title": f"title {rid}", "status": status} for rid, status in statuses.items()
        ],
    }


def write_report(directory: Path, document: dict[str, Any]) -> Path:
    directory.mkdir(parents=True)
    (directory / "report.json").write_text(json.dumps(document))
    return directory


def test_verdict_exit_codes_are_the_runners() -> None:
    runners = {str(verdict): code for verdict, code in EXIT_CODES.items()}
    assert runners == overview.VERDICT_EXIT_CODES


@pytest.mark.parametrize(
    ("codes", "worst"),
    [
        ([0, 0], 0),
        ([0, 4, 1], 1),
        ([4, 2, 0], 4),
        ([2, 0], 2),
        ([1, 3, 4], 3),
        ([3, 130], 130),
        ([], 0),
    ],
)
def test_the_worst_exit_code_stands_for_all_targets(codes: list[int], worst: int) -> None:
    assert overview.worst_exit_code(codes) == worst


def test_the_worst_verdict_follows_the_same_order() -> None:
    assert overview.worst_verdict(["conformant", "incomplete", "non-conformant"]) == "non-conformant"
    assert overview.worst_verdict(["conformant", "conformant-with-warnings"]) == "conformant-with-warnings"
    assert overview.worst_verdict(["conformant", overview.NOT_RUN]) == overview.NOT_RUN
    assert overview.worst_verdict(["error", "non-conformant"]) == "error"


def test_same_named_directories_are_told_apart_by_their_parents(tmp_path: Path) -> None:
    dirs = [tmp_path / "cn-north-4" / "report", tmp_path / "ap-1" / "report", tmp_path / "single"]
    assert overview.names_for(dirs) == ["cn-north-4/report", "ap-1/report", "single"]


def test_a_directory_given_twice_or_without_a_report_is_refused(tmp_path: Path) -> None:
    good = write_report(tmp_path / "a", report("conformant", {"BR-REQ-001": "passed"}))
    with pytest.raises(overview.OverviewError, match="given twice"):
        overview.read_report_dirs([good, tmp_path / "a"])
    with pytest.raises(overview.OverviewError, match=r"holds no report\.json"):
        overview.read_report_dirs([tmp_path / "missing"])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "report.json").write_text('{"verdict": "conformant"}')
    with pytest.raises(overview.OverviewError, match="not a dcs-conformance report"):
        overview.read_report_dirs([tmp_path / "bad"])


def test_the_summary_is_a_targets_by_requirements_matrix_with_the_worst_verdict(tmp_path: Path) -> None:
    a = write_report(tmp_path / "a", report("conformant", {"BR-REQ-001": "passed", "BR-REQ-009": "passed"}))
    b = write_report(tmp_path / "b", report("non-conformant", {"BR-REQ-001": "passed", "BR-REQ-009": "failed"}))
    targets = [*overview.read_report_dirs([a, b])]
    targets.append(overview.TargetReport("c", tmp_path / "c", None, 2, "fixtures file not found"))
    summary = overview.build(targets, tmp_path)
    assert summary["verdict"] == "non-conformant" and summary["exit_code"] == 1
    assert [t["name"] for t in summary["targets"]] == ["a", "b", "c"]
    assert [t["report_dir"] for t in summary["targets"]] == ["a", "b", "c"]
    assert summary["targets"][2]["verdict"] == overview.NOT_RUN
    assert summary["targets"][2]["error"] == "fixtures file not found"
    assert summary["requirements"] == [
        {"id": "BR-REQ-001", "level": "MUST", "title": "title BR-REQ-001", "statuses": {"a": "passed", "b": "passed"}},
        {"id": "BR-REQ-009", "level": "MUST", "title": "title BR-REQ-009", "statuses": {"a": "passed", "b": "failed"}},
    ]
    assert summary["notes"] == []


def test_reports_judged_against_different_contracts_are_noted(tmp_path: Path) -> None:
    older = {**report("conformant", {}), "spec_sha256": "old"}
    a = write_report(tmp_path / "a", report("conformant", {}))
    b = write_report(tmp_path / "b", older)
    summary = overview.build(overview.read_report_dirs([a, b]), tmp_path)
    assert any("different contracts" in note for note in summary["notes"])


def test_the_page_escapes_what_targets_report_and_links_each_cell_to_its_report(tmp_path: Path) -> None:
    hostile = report("non-conformant", {"BR-REQ-009": "failed"}, base_url="https://x/<script>alert(1)</script>")
    a = write_report(tmp_path / "javascript:alert(1)", hostile)
    summary = overview.build(overview.read_report_dirs([a]), tmp_path)
    page = overview.render(summary)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'href="javascript%3Aalert%281%29/index.html#row-req-BR-REQ-009"' in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in html.unescape(page)
    written = overview.write(summary, tmp_path / "overview")
    assert [path.name for path in written] == ["summary.json", "index.html"]


def test_a_lone_surrogate_a_target_reported_is_written_as_strict_json_and_a_valid_page(tmp_path: Path) -> None:
    """report.json keeps a target's lone surrogate as a \\udXXX escape; read back, it must not break the overview."""
    odd = write_report(tmp_path / "odd", report("error", {"BR-REQ-009": "failed"}, base_url="https://x/\ud800"))
    summary = overview.build(overview.read_report_dirs([odd]), tmp_path)
    summary_json, index_html = overview.write(summary, tmp_path / "overview")
    json.loads(summary_json.read_bytes().decode("utf-8"))
    index_html.read_bytes().decode("utf-8")


def test_the_why_column_states_a_diagnosis_once(tmp_path: Path) -> None:
    """An incomplete run's reason begins with its diagnosis: the page says it once, then what the reason adds."""
    diagnosis = "the credentials were rejected: every well-formed request was answered 401"
    incomplete = {
        **report("incomplete", {"BR-REQ-003": "skipped"}),
        "diagnosis": [diagnosis],
        "verdict_reason": f"{diagnosis}; 7 MUST requirement(s) not exercised: BR-REQ-003",
    }
    summary = overview.build(overview.read_report_dirs([write_report(tmp_path / "staging", incomplete)]), tmp_path)
    page = html.unescape(overview.render(summary))
    assert page.count(diagnosis) == 1
    assert '<p>7 MUST requirement(s) not exercised: <span class="req-id">BR-REQ-003</span></p>' in page
