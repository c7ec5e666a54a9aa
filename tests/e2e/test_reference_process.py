"""The embedded run's reference in a process of its own (conformance.reference.process): it answers on another
core, never outlives the run, however the run ends, and what it prints is redacted like everything else."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conformance.app.run import execute
from conformance.app.target import open_target
from conformance.config.settings import resolve
from conformance.contract import ENDPOINT
from conformance.reference import process
from conformance.reference.process import ReferenceProcess

pytestmark = pytest.mark.e2e

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
#: Seconds a dead parent's reference may take to notice and stop listening.
GONE_WITHIN_S = 10.0


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def gone(pid: int) -> bool:
    """Whether the process has exited and been reaped (no zombie left behind)."""
    return not Path(f"/proc/{pid}").exists()


def wait_until(condition: object, within: float = GONE_WITHIN_S) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_the_reference_serves_from_another_process_and_is_reaped_when_closed() -> None:
    with ReferenceProcess() as reference:
        served = reference.start(PROJECT, seed=3, restartable=2, not_restartable=None)
        assert reference.pid is not None and reference.pid != os.getpid()
        task = served.fixtures["restartable"][0]
        with httpx.Client(base_url=served.base_url, timeout=10, trust_env=False) as client:
            answer = client.post(ENDPOINT.replace("{project_id}", PROJECT), json={"migration_tasks": [task]})
        assert answer.status_code == 401, "it demands the run's own credentials"
        port = int(served.base_url.rsplit(":", 1)[1])
    assert gone(reference.pid) and not listening(port)


def test_the_reference_seeds_the_same_tasks_as_the_in_process_one(tmp_path: Path) -> None:
    """A rerun (or `serve --seed`) finds the very tasks a run's report names, wherever the reference ran."""
    settings = resolve({"seed": 5, "report_dir": str(tmp_path)}, env={})
    with open_target(settings, 5) as child, open_target(settings, 5, in_process=True) as here:
        assert child.fixtures == here.fixtures and child.base_url != here.base_url
        assert child.credentials != here.credentials, "each reference has credentials of its own"


def test_a_reference_started_but_not_used_ends_with_the_block() -> None:
    with ReferenceProcess() as reference:
        pid = reference.pid
    assert pid is not None and gone(pid)


def test_an_exception_in_the_run_kills_and_reaps_the_reference(tmp_path: Path) -> None:
    settings = resolve({"seed": 1, "report_dir": str(tmp_path)}, env={})
    with pytest.raises(RuntimeError, match="the run broke"), open_target(settings, 1) as target:
        port = int(target.base_url.rsplit(":", 1)[1])
        assert listening(port)
        raise RuntimeError("the run broke")
    assert not listening(port)


PARENT = """
import json, sys, time
from conformance.reference.process import ReferenceProcess
reference = ReferenceProcess()
served = reference.start("p", seed=1, restartable=1, not_restartable=None)
print(json.dumps({"pid": reference.pid, "url": served.base_url}), flush=True)
time.sleep(120)
"""


def test_the_reference_stops_when_the_run_dies_without_a_word() -> None:
    """SIGKILL leaves the run no chance to stop it: the reference sees its stdin close and ends by itself."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        started = json.loads(parent.stdout.readline())
        port = int(started["url"].rsplit(":", 1)[1])
        assert listening(port)
    finally:
        parent.kill()
        parent.wait()
    assert wait_until(lambda: not listening(port)), "the reference outlived the run"


def test_ctrl_c_stops_the_run_and_reaps_its_reference(tmp_path: Path) -> None:
    """A Ctrl-C reaches the run only (the reference has a session of its own); the run stops it on its way out."""
    command = [str(Path(sys.executable).with_name("dcs-conformance")), "run", "--max-examples", "5000"]
    run = subprocess.Popen(
        [*command, "--report-dir", str(tmp_path)], cwd=tmp_path, stderr=subprocess.PIPE, text=True, errors="replace"
    )
    try:
        assert run.stderr is not None
        while "scenario:" not in run.stderr.readline():  # sending: the reference listens
            assert run.poll() is None
        children = [int(pid) for pid in Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()]
        assert children, "the reference runs in a child process"
        run.send_signal(signal.SIGINT)
        run.communicate(timeout=60)
    finally:
        run.kill()
        run.wait()
    assert run.returncode == 130
    assert all(gone(child) for child in children)


def test_what_the_reference_prints_is_shown_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(process, "MODULE", "tests.talking_reference")
    with ReferenceProcess() as reference:
        served = reference.start(PROJECT, seed=1, restartable=1, not_restartable=None)
    err = capsys.readouterr().err
    assert "the embedded reference said: boom: key [REDACTED], encoded [REDACTED]" in err
    assert served.credentials.sk and served.credentials.sk not in err


def test_a_reference_that_cannot_start_is_run_in_this_process_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(process, "MODULE", "conformance.no_such_module")
    settings = resolve({"seed": 1, "max_examples": 5, "report_dir": str(tmp_path)}, env={})
    outcome = execute(settings, progress=lambda _: None)
    err = capsys.readouterr().err
    assert "could not run in a process of its own (it exited with status 1" in err
    assert "running it in this process instead" in err
    assert outcome.report["verdict"] == "conformant"


def test_the_reference_holds_no_credential_of_the_run_s_environment_and_its_own_only_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its own credentials come in its order, on a pipe: neither they nor the environment's show in
    /proc/<pid>/environ or its command line."""
    secrets = {"DCS_AUTH_TOKEN": "MIIC+reference-canary", "HTTPS_PROXY": "http://user:proxy-canary@127.0.0.1:3128"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    with ReferenceProcess() as reference:
        served = reference.start(PROJECT, seed=1, restartable=1, not_restartable=None)
        shown = (
            Path(f"/proc/{reference.pid}/environ").read_bytes() + Path(f"/proc/{reference.pid}/cmdline").read_bytes()
        )
    own = [value for value in served.credentials.secrets() if value]
    assert own and not any(value.encode() in shown for value in [*secrets.values(), *own])
    assert b"PYTHONPATH=" in shown
