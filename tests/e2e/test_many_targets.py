"""Many targets in one verdict: run --config with [[targets]] judges each in its own process and writes an overview;
summarize builds the same overview from report directories; the CLI's CI summaries never carry a credential."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.cli.main import main
from tests import ci_targets

pytestmark = pytest.mark.e2e

CANARY = "canary-token-0b7e44c1d2"
PROJECT = "p-ci"

TWO_TARGETS = """
[dcs-conformance]
max_examples = 10
seed = 1

[[targets]]
name = "reference"

[[targets]]
name = "reference-with-fault"
fault = ["drop-last-item"]
"""


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """An overview without what depends on when and from where it was built."""
    return {
        **{key: value for key, value in summary.items() if key != "generated_at"},
        "targets": [{k: v for k, v in target.items() if k != "report_dir"} for target in summary["targets"]],
    }


def test_two_targets_from_one_config_make_two_report_directories_an_overview_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    step_summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    config = tmp_path / "targets.toml"
    config.write_text(TWO_TARGETS)
    run_dir = tmp_path / "run"

    assert main(["run", "--config", str(config), "--report-dir", str(run_dir), "--quiet"]) == 1

    out = capsys.readouterr().out
    assert "judging 2 targets" not in out and "reference: exit 0" not in out, "--quiet: no per-target progress"
    for name in ("reference", "reference-with-fault"):
        assert {"report.json", "junit.xml", "index.html"} <= {path.name for path in (run_dir / name).iterdir()}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [(t["name"], t["verdict"], t["exit_code"]) for t in summary["targets"]] == [
        ("reference", "conformant", 0),
        ("reference-with-fault", "non-conformant", 1),
    ]
    assert (summary["verdict"], summary["exit_code"]) == ("non-conformant", 1)
    matrix = {row["id"]: row["statuses"] for row in summary["requirements"]}
    assert len(matrix) == 23
    assert matrix["BR-REQ-009"] == {"reference": "passed", "reference-with-fault": "failed"}
    assert all(statuses["reference"] == "passed" for statuses in matrix.values())
    page = (run_dir / "index.html").read_text()
    assert 'href="reference-with-fault/index.html#row-req-BR-REQ-009"' in page
    # CI: one annotation per failed MUST, named after its target, and the overview in the step summary.
    assert "::error title=reference-with-fault%3A BR-REQ-009 (MUST)" in out
    assert "reference%3A" not in out.replace("reference-with-fault%3A", "")
    assert "**reference-with-fault**" in step_summary.read_text()
    assert out.strip().splitlines()[-1].startswith("verdict: non-conformant  (2 targets, exit 1")

    # The same overview, from the report directories alone (as a CI matrix's summarize job builds it).
    overview_dir = tmp_path / "overview"
    args = ["summarize", str(run_dir / "reference"), str(run_dir / "reference-with-fault"), "--out", str(overview_dir)]
    assert main(args) == 1
    rebuilt = json.loads((overview_dir / "summary.json").read_text())
    assert comparable(rebuilt) == comparable(summary)
    assert [t["report_dir"] for t in rebuilt["targets"]] == ["../run/reference", "../run/reference-with-fault"]
    assert (overview_dir / "index.html").is_file()


def test_a_run_publishes_its_summary_and_annotations_and_no_output_carries_the_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The target echoes the token in a header and in every error message; the canary must appear nowhere."""
    step_summary, summary_md, report_dir = tmp_path / "step.md", tmp_path / "summary.md", tmp_path / "report"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("DCS_AUTH_TOKEN", CANARY)
    with ci_targets.token_reference(CANARY, PROJECT) as base_url:
        code = main(
            [
                "run",
                *("--base-url", base_url, "--project-id", PROJECT, "--max-examples", "10", "--seed", "1"),
                *("--report-dir", str(report_dir), "--summary-md", str(summary_md)),
            ]
        )
    captured = capsys.readouterr()
    assert code == 0  # conformant with a warning: the missing X-Request-Id
    assert "::warning title=BR-REQ-021 (SHOULD)" in captured.out
    assert "BR-REQ-021" in step_summary.read_text()
    assert summary_md.read_text() == step_summary.read_text()
    outputs = {"stdout": captured.out, "stderr": captured.err, "step summary": step_summary.read_text()}
    outputs |= {path.name: path.read_text() for path in report_dir.iterdir()}
    assert "x-seen-token" in outputs["report.json"]  # the echo was recorded...
    for name, text in outputs.items():
        assert CANARY not in text, name  # ...and masked everywhere


THREE_LONG_TARGETS = """
[dcs-conformance]
max_examples = 400
seed = 2

[[targets]]
name = "a"

[[targets]]
name = "b"

[[targets]]
name = "c"
"""


def test_a_cancelled_job_stops_every_target_skips_the_queued_ones_and_still_writes_the_overview(
    tmp_path: Path,
) -> None:
    """CI cancels a job with SIGTERM to the command alone: it passes it on to the targets being judged, which write
    their reports; a target not started yet is not started; the overview says so and the exit code is 143."""
    config = tmp_path / "targets.toml"
    config.write_text(THREE_LONG_TARGETS)
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "conformance", "run", "--config", str(config), "--report-dir", str(run_dir)]
    command += ["--jobs", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    started: set[str] = set()
    assert process.stderr is not None
    for line in process.stderr:  # both workers are judging once each has said so
        if line.startswith(("[a] dcs-conformance", "[b] dcs-conformance")):
            started.add(line[1])
        if started == {"a", "b"}:
            break
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 143
    summary = json.loads((run_dir / "summary.json").read_text())
    outcomes = {t["name"]: (t["verdict"], t["exit_code"], t["error"]) for t in summary["targets"]}
    # (A target interrupted while its run was still opening the target has no report: "not run", 143.)
    assert {outcomes["a"][1], outcomes["b"][1]} == {143}
    assert "interrupted (SIGTERM)" in outcomes["a"][2] and "interrupted (SIGTERM)" in outcomes["b"][2]
    assert outcomes["c"] == ("not run", 143, "interrupted before this target started")
    assert summary["exit_code"] == 143
    assert not (run_dir / "c").exists()
    assert "Traceback" not in out
