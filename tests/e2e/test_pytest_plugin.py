"""The pytest plugin, driven with pytester: one item per catalogue requirement, the user's own checks through the
run's guarded client, CI summaries, usage mistakes, and nothing at all when none of its options is given.

Each full run of the suite costs a few seconds, so every run here proves several things at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.reference.faults import FAULTS
from tests import ci_targets

pytest_plugins = ("pytester",)
#: Many runs of one seed: their schemathesis cases are drawn once a session (the drawing cache, tests/conftest.py).
pytestmark = pytest.mark.e2e

CANARY = "canary-token-5f1d2e9a7c"
PROJECT = "p-plugin"
#: Small, reproducible runs: the machine has two cores.
FAST = ("-p", "no:schemathesis", "--dcs-max-examples", "10", "--dcs-seed", "1")
REQUIREMENTS = 23


def outcomes(recorder: pytest.HookRecorder) -> dict[str, pytest.TestReport]:
    """The call-phase report (or the setup report of a skip) of every item, by node ID."""
    reports: dict[str, pytest.TestReport] = {}
    for report in recorder.getreports("pytest_runtest_logreport"):
        if report.when == "call" or (report.when == "setup" and not report.passed):
            reports[report.nodeid] = report
    return reports


def suite_items(reports: dict[str, pytest.TestReport]) -> dict[str, pytest.TestReport]:
    return {nodeid.split("::", 1)[1]: report for nodeid, report in reports.items() if nodeid.startswith("dcs-")}


USER_CHECKS = """
import uuid

import pytest

from conformance.engine.guard import GuardRefusal


def test_dcs_target_is_the_resolved_settings(dcs_target):
    assert dcs_target.embedded and dcs_target.seed == 1


def test_own_check_goes_through_the_runs_guarded_client(dcs_client, dcs_run):
    # The same client the suite used: its request counter goes on from the run's.
    assert dcs_client.sent == dcs_run.report["stats"]["requests"]
    exchange = dcs_client.post_json({"migration_tasks": [dcs_client.guard.mint()]}, label="my check")
    assert exchange.status == 200
    assert exchange.response_json["migration_tasks"][0]["result"] == "failed"
    assert dcs_client.sent == dcs_run.report["stats"]["requests"] + 1
    # Redaction: the signature never reaches a recorded exchange.
    headers = {name.lower(): value for name, value in exchange.request_headers.items()}
    assert headers["authorization"] == "[REDACTED]"
    # The guard: a task ID nobody gave the run is never sent.
    with pytest.raises(GuardRefusal):
        dcs_client.post_json({"migration_tasks": [str(uuid.uuid4())]})
    assert dcs_client.sent == dcs_run.report["stats"]["requests"] + 1
"""


def test_every_item_passes_against_the_embedded_reference_and_users_checks_share_its_client(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_mine=USER_CHECKS)
    report_dir = tmp_path / "report"
    recorder = pytester.inline_run(*FAST, "--dcs-embedded", "--dcs-report-dir", str(report_dir))
    reports = outcomes(recorder)
    items = suite_items(reports)
    assert len(items) == REQUIREMENTS + 1  # one per requirement, and the run's completeness
    assert {name for name, report in items.items() if not report.passed} == set()
    assert reports["test_mine.py::test_own_check_goes_through_the_runs_guarded_client"].passed
    assert reports["test_mine.py::test_dcs_target_is_the_resolved_settings"].passed
    assert recorder.ret == 0
    # The report directory is written as the CLI writes it.
    assert {"report.json", "junit.xml", "index.html"} <= {path.name for path in report_dir.iterdir()}
    assert json.loads((report_dir / "report.json").read_text())["verdict"] == "conformant"


def test_the_broken_requirements_fail_with_their_evidence_and_github_is_told(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    report_dir = tmp_path / "report"
    result = pytester.runpytest_inprocess(
        *FAST, "--dcs-embedded", "--dcs-fault", "drop-last-item", "--dcs-report-dir", str(report_dir)
    )
    report = json.loads((report_dir / "report.json").read_text())
    failed_in_report = {item["id"] for item in report["requirements"] if item["status"] == "failed"}
    assert set(FAULTS["drop-last-item"].breaks) <= failed_in_report
    outcome = result.parseoutcomes()
    assert outcome["failed"] == len(failed_in_report)
    assert outcome["passed"] == REQUIREMENTS + 1 - len(failed_in_report)
    assert result.ret == 1
    text = result.stdout.str()
    for requirement in failed_in_report:
        assert f"FAILED dcs-conformance::{requirement}" in text
    # The failure message is the report's finding: its reason, and the explanation of the evidence.
    broken = next(item for item in report["requirements"] if item["id"] == "BR-REQ-009")
    assert broken["reason"] in text
    assert broken["evidence"][0]["explanation"] in text
    assert "Traceback" not in text
    # GitHub: an ::error annotation per failed MUST, and the summary appended to the step summary.
    for requirement in failed_in_report:
        assert f"::error title=BR-REQ-{requirement[-3:]} (MUST)" in text
    summary = step_summary.read_text()
    assert "non-conformant" in summary
    assert "BR-REQ-009" in summary
    assert str(report_dir) in summary


@pytest.fixture
def token_reference() -> Iterator[str]:
    """A separately started reference that demands CANARY as its token, echoes it back and omits X-Request-Id."""
    with ci_targets.token_reference(CANARY, PROJECT) as base_url:
        yield base_url


def test_skips_carry_reasons_should_violations_warn_and_no_secret_reaches_any_output(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token_reference: str
) -> None:
    # A user's test that fails showing the settings: pytest prints fixture values, never the credential.
    pytester.makepyfile(
        test_mine="def test_fails_showing_the_settings(dcs_target):\n    assert dcs_target.credentials.token is None\n"
    )
    step_summary, summary_md = tmp_path / "step-summary.md", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("DCS_AUTH_TOKEN", CANARY)  # the token comes from the environment, as in CI
    monkeypatch.delenv("DCS_BASE_URL", raising=False)
    report_dir = tmp_path / "report"
    result = pytester.runpytest_inprocess(
        *FAST,
        "--dcs-base-url",
        token_reference,
        "--dcs-project-id",
        PROJECT,
        "--dcs-report-dir",
        str(report_dir),
        "--dcs-summary-md",
        str(summary_md),
    )
    recorder = result.reprec  # type: ignore[attr-defined]
    items = suite_items(outcomes(recorder))
    skipped = {name: report for name, report in items.items() if report.skipped}
    # Without fixtures and a read-only credential, these MUSTs are skipped, saying what they need; every skip says why.
    assert {"BR-REQ-014", "BR-REQ-020"} <= set(skipped)
    assert all(report.longrepr[2].removeprefix("Skipped: ").strip() for report in skipped.values())
    assert "fixtures" in skipped["BR-REQ-014"].longrepr[2]
    assert "readonly-credentials" in skipped["BR-REQ-020"].longrepr[2]
    # The missing X-Request-Id is a SHOULD violation: the item passes, with a warning carrying the finding.
    assert items["BR-REQ-021"].passed
    assert {name for name, report in items.items() if report.failed} == set()
    warned = [w for w in recorder.getcalls("pytest_warning_recorded") if "BR-REQ-021" in str(w.warning_message.message)]
    assert warned and type(warned[0].warning_message.message).__name__ == "DcsShouldViolation"
    assert result.ret == 1  # only the user's own failing test
    assert "dcs_target = RunSettings(" in result.stdout.str() and "token='[REDACTED]'" in result.stdout.str()

    # Every output: the step summary, the --summary-md file, the annotations and the rest of the terminal.
    captured = result.stdout.str() + result.stderr.str()
    outputs = {
        "step summary": step_summary.read_text(),
        "--dcs-summary-md": summary_md.read_text(),
        **{path.name: path.read_text() for path in report_dir.iterdir() if path.is_file()},
    }
    assert "::warning title=BR-REQ-021 (SHOULD)" in captured
    assert outputs["step summary"] == outputs["--dcs-summary-md"]
    assert "BR-REQ-021" in outputs["--dcs-summary-md"] and "BR-REQ-014" in outputs["--dcs-summary-md"]
    for name, text in outputs.items():
        assert CANARY not in text, name
    assert CANARY not in captured


def test_strict_turns_a_should_violation_into_a_failed_item(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token_reference: str
) -> None:
    monkeypatch.setenv("DCS_AUTH_TOKEN", CANARY)
    result = pytester.runpytest_inprocess(
        *FAST,
        "--dcs-base-url",
        token_reference,
        "--dcs-project-id",
        PROJECT,
        "--dcs-strict",
        "--dcs-report-dir",
        str(tmp_path / "report"),
        "-k",
        "BR-REQ-021 or completeness",
    )
    result.assert_outcomes(failed=1, passed=1, deselected=REQUIREMENTS - 1)
    result.stdout.fnmatch_lines(["FAILED dcs-conformance::BR-REQ-021*"])
    assert CANARY not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--dcs-project-id", "p1"], "no target: give --dcs-base-url"),
        (["--dcs-base-url", "ftp://x", "--dcs-project-id", "p1"], "--dcs-base-url must be an http(s) URL"),
        (["--dcs-embedded", "--dcs-base-url", "http://127.0.0.1:9"], "drop --dcs-base-url"),
        (["--dcs-embedded", "--dcs-fault", "no-such-fault"], "unknown fault 'no-such-fault'"),
        (["--dcs-base-url", "http://127.0.0.1:9", "--dcs-project-id", "p", "--dcs-fixtures", "nope.json"], "nope.json"),
    ],
)
def test_a_mistake_in_the_options_ends_the_session_with_one_line_before_anything_runs(
    pytester: pytest.Pytester, args: list[str], fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DCS_BASE_URL", raising=False)
    result = pytester.runpytest_inprocess("-p", "no:schemathesis", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: dcs-conformance: ") and fragment in errors[0]
    assert not (pytester.path / "reports").exists()


INERT_CHECK = """
import sys


def test_nothing_heavy_was_imported_and_nothing_was_added(request):
    # httpx may be there: the respx plugin imports it. Nothing of ours but the plugin, its options and the settings
    # table they are read from (both standard library only), nothing it would need.
    light = {"conformance.pytest_plugin", "conformance.pytest_plugin.options"}
    light |= {"conformance.config", "conformance.config.table"}
    assert [name for name in sys.modules if name.startswith("conformance.") and name not in light] == []
    assert [name for name in ("schemathesis", "yaml", "jinja2", "uvicorn", "starlette") if name in sys.modules] == []
    assert request.config.pluginmanager.has_plugin("dcs_batch_restart_conformance")
    assert all(item.nodeid.startswith("test_inert.py::") for item in request.session.items)


def test_the_fixtures_skip_with_the_reason(dcs_client):
    raise AssertionError("unreachable: dcs_client skips when the plugin is off")
"""


def test_the_plugin_is_inert_without_its_options(pytester: pytest.Pytester) -> None:
    """A separate interpreter, since this one imported the engine long ago; schemathesis's plugin is kept out
    because it imports schemathesis itself."""
    pytester.makepyfile(test_inert=INERT_CHECK)
    result = pytester.runpytest_subprocess("-p", "no:schemathesis", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*dcs-conformance is off in this session: give --dcs-base-url*"])
    assert not (pytester.path / "reports").exists()


def test_an_embedded_session_in_an_empty_directory_leaves_only_the_reports_it_was_asked_for(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``.hypothesis/`` beside the user's files: the plugin sends hypothesis's caches where the command does."""
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(pytester.path.parent / "cache"))
    before = set(os.listdir(pytester.path))
    result = pytester.runpytest_subprocess("--dcs-embedded", "--dcs-max-examples", "5", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()[-2000:]
    pytesters_own = {"stdout", "stderr"}  # and its runpytest-* directories: pytester's, not the plugin's
    added = {
        name for name in set(os.listdir(pytester.path)) - before - pytesters_own if not name.startswith("runpytest")
    }
    assert added == {"reports"}
