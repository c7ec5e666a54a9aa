"""A cancelled CI job (SIGINT, SIGTERM) stops the sending but never loses the run: every report file is written
with verdict error and what was judged so far, reports/latest points at it, and the exit code says which signal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import children, clean_env
from tests.hostile import HostileServer

pytestmark = pytest.mark.e2e


def start_run(base_url: str, cwd: Path, workers: str = "1", *flags: str) -> subprocess.Popen[str]:
    env = clean_env()
    command = [sys.executable, "-m", "conformance", "run", "--base-url", base_url, "--project-id", "p", "--seed", "1"]
    return subprocess.Popen(
        [*command, "--workers", workers, *flags],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the run never reached the point to interrupt"
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_and_every_report_is_written(tmp_path: Path, signum: int, exit_code: int) -> None:
    with HostileServer("hang-after", after=12, hold_s=60) as server:
        run = start_run(server.base_url, tmp_path)
        wait_for(lambda: server.requests > 12)  # the run now waits (up to 30 s) for an answer that never comes
        run.send_signal(signum)
        stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    latest = tmp_path / "reports" / "latest"
    report = json.loads((latest / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "error"
    assert report["error"] == f"interrupted ({signal.Signals(signum).name}) after 13 requests"
    assert report["stats"]["requests"] == 13
    assert any(item["status"] == "passed" for item in report["requirements"]), "what was judged before is kept"
    ET.parse(latest / "junit.xml")
    assert "interrupted" in (latest / "index.html").read_text(encoding="utf-8")
    assert "verdict: error" in stdout


def test_a_real_directory_named_latest_is_left_alone_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "reports" / "latest").mkdir(parents=True)
    with HostileServer("hang-after", after=12, hold_s=60) as server:
        run = start_run(server.base_url, tmp_path)
        wait_for(lambda: server.requests > 12)
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=30)
    assert run.returncode == 130
    assert "latest is not a symlink" in stderr
    written = [path for path in (tmp_path / "reports").iterdir() if path.name != "latest"]
    assert len(written) == 1 and (written[0] / "report.json").is_file()
    assert not any((tmp_path / "reports" / "latest").iterdir())


def test_requests_in_flight_never_hold_an_interrupted_run_back(tmp_path: Path) -> None:
    """Four workers wait on a target that holds every request for a minute: the reports are written at once."""
    with HostileServer("hang-after", after=12, hold_s=60) as server:
        run = start_run(server.base_url, tmp_path, workers="4")
        wait_for(lambda: server.requests > 12)
        run.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = run.communicate(timeout=30)
        took = time.monotonic() - started
    assert run.returncode == 130, stderr
    assert took < 15
    report = json.loads((tmp_path / "reports" / "latest" / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "error" and report["error"].startswith("interrupted (SIGINT)")


def test_an_interrupted_run_leaves_no_drawing_child_behind(tmp_path: Path) -> None:
    """A child process draws the schemathesis phases' cases (100,000 examples: still drawing when the signal comes);
    the signal that ends the run ends it too, and nothing of it reaches the terminal."""
    with HostileServer("hang-after", after=100, hold_s=60) as server:
        run = start_run(server.base_url, tmp_path, "4", "--max-examples", "100000")
        wait_for(lambda: server.requests > 100)  # inside the aimed phase, while the child draws
        drawing = children(run.pid)
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=30)
    assert run.returncode == 130, stderr
    assert len(drawing) == 1
    assert not any(Path(f"/proc/{pid}").exists() for pid in drawing)
    assert "Traceback" not in stderr and "child process" not in stderr
