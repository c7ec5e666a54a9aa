"""app.run.execute: a run's result becomes report.json (with its format number) and the other files; a bug of
ours ends as an "error" verdict whose traceback reaches stderr, redacted."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.engine import plan
from conformance.report.model import REPORT_FORMAT

TOKEN = "MIIC+tok/EN=canary-7a6b5c"


class CrashingScenarios:
    """Stands in for the scenarios: fails at once with the token in its message, as a library might."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def run_all(self) -> None:
        raise RuntimeError(f"boom while sending X-Auth-Token: {TOKEN}")


def test_a_bug_of_ours_is_an_error_verdict_with_the_traceback_on_stderr_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(plan, "Scenarios", CrashingScenarios)
    flags = {"base_url": "http://127.0.0.1:9", "project_id": "p", "auth_token": TOKEN, "report_dir": str(tmp_path)}
    outcome = execute(resolve(flags, env={}), progress=lambda _: None)
    err = capsys.readouterr().err
    assert outcome.exit_code == 3
    assert outcome.report["verdict"] == "error"
    assert outcome.report["error"] == "harness fault: RuntimeError: boom while sending X-Auth-Token: [REDACTED]"
    assert "Traceback (most recent call last)" in err and "run_all" in err
    assert "[REDACTED]" in err and TOKEN not in err
    written = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert written["report_format"] == REPORT_FORMAT == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.html", "junit.xml", "report.json"]


class SwallowingScenarios(CrashingScenarios):
    """A phase in which a library swallows the interrupt, as hypothesis may when a signal lands in an example."""

    def run_all(self) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        except BaseException:
            pass


def test_a_signal_a_library_swallowed_still_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "Scenarios", SwallowingScenarios)
    # One worker: the phases run one after the other, so the later ones must not start at all.
    flags = {"base_url": "http://127.0.0.1:9", "project_id": "p", "report_dir": str(tmp_path), "workers": 1}
    outcome = execute(resolve(flags, env={}), progress=lambda _: None)
    assert outcome.exit_code == 143
    assert outcome.report["error"] == "interrupted (SIGTERM) after 0 requests"
    assert outcome.report["stats"]["aimed_cases"] == 0  # no later phase was started
