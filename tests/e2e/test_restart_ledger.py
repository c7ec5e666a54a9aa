"""The restart counts of references in other processes reach the test suite, and its check fails a test whose run
asked one of them to restart a task twice (conformance/reference/restart_ledger.py, tests/conftest.py).

Each kind of reference is asked twice on purpose here: ``serve`` (killed, not stopped, before the counts are read),
the embedded run's child, and the run's in-process fallback; and a pytest session holding the suite's own conftest
fails the test that does it without saying so. The tests that ask twice are ``asks_again``: the counts they read
are the session's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.contract import ENDPOINT
from conformance.reference.embedded import EmbeddedReference, embedded
from conformance.reference.process import ReferenceProcess
from conformance.wire.signing import sign
from tests.conftest import PROJECT_ROOT, clean_env
from tests.restart_counts import LedgerWatch

pytestmark = pytest.mark.e2e

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
PATH = ENDPOINT.replace("{project_id}", PROJECT)
SERVE = (
    sys.executable,
    "-m",
    "conformance",
    "serve",
    "--port",
    "0",
    "--auth",
    "none",
    "--seed",
    "4",
    "--restartable",
    "2",
)
#: Seconds `serve` may take to listen and write its fixtures file.
STARTUP_S = 60.0


def start_serve(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str, list[str]]:
    """``dcs-conformance serve`` without authentication on a free port: the process, its URL, its restartable
    tasks."""
    fixtures = tmp_path / "fixtures.json"
    serve = subprocess.Popen(
        [*SERVE, "--project-id", PROJECT, "--fixtures-out", str(fixtures)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert serve.stdout is not None
    deadline = time.monotonic() + STARTUP_S
    line = ""
    while "listening on" not in line and time.monotonic() < deadline:
        line = serve.stdout.readline()
        if not line:
            break
    assert "listening on" in line, "serve did not start"
    url = line.rsplit(" ", 1)[1].strip()
    return serve, url, json.loads(fixtures.read_text())["restartable"]


@pytest.fixture
def killed_after() -> Iterator[list[subprocess.Popen[str]]]:
    """The processes a test started, killed (SIGKILL: no chance to write anything at exit) and reaped at its end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.asks_again  # on purpose: the session's counts must show it
def test_a_serve_process_asked_twice_is_caught_even_when_killed(
    tmp_path: Path, restart_ledgers: LedgerWatch, killed_after: list[subprocess.Popen[str]]
) -> None:
    watch = restart_ledgers
    watch.asked_again()  # what came before this test is not this test's
    serve, url, (task, other) = start_serve(tmp_path, clean_env())
    killed_after.append(serve)
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as client:
        first = client.post(PATH, json={"migration_tasks": [task, other]})
        second = client.post(PATH, json={"migration_tasks": [task, task]})
    assert [item["result"] for item in first.json()["migration_tasks"]] == ["success", "success"]
    assert second.json()["migration_tasks"][0]["result"] == "failed", "it is already restarting"
    serve.kill()
    serve.wait(timeout=10)
    (again,) = watch.asked_again()
    assert (again.who, again.pid, again.calls) == ("dcs-conformance serve", serve.pid, {task: 2})
    assert watch.asked_again() == [], "each call is reported once, at the first look after it"


def ask_signed(served: EmbeddedReference, task: str, times: int) -> None:
    """``times`` calls naming ``task``, each signed with the reference's own AK/SK, each answered 200."""
    body = json.dumps({"migration_tasks": [task]}).encode()
    ak, sk = served.credentials.ak, served.credentials.sk
    assert ak is not None and sk is not None
    with httpx.Client(timeout=10, trust_env=False) as client:
        for _ in range(times):
            headers = sign("POST", served.base_url + PATH, {"Content-Type": "application/json"}, body, ak, sk)
            assert client.post(served.base_url + PATH, content=body, headers=headers).status_code == 200


@pytest.mark.asks_again  # on purpose: the session's counts must show it
def test_the_embedded_runs_reference_child_asked_twice_is_caught(restart_ledgers: LedgerWatch) -> None:
    restart_ledgers.asked_again()
    with ReferenceProcess() as reference:
        served = reference.start(PROJECT, seed=6, restartable=1, not_restartable=None)
        (task,) = served.fixtures["restartable"]
        ask_signed(served, task, 2)
        pid = reference.pid
    (again,) = restart_ledgers.asked_again()
    assert (again.who, again.pid, again.calls) == ("the embedded run's reference (child.py)", pid, {task: 2})


@pytest.mark.asks_again  # on purpose: both checks would fail it
def test_the_in_process_fallback_of_a_run_keeps_a_ledger_too(restart_ledgers: LedgerWatch) -> None:
    """A run whose reference child cannot start serves it in its own process, which may be a test's subprocess."""
    restart_ledgers.asked_again()
    with embedded(PROJECT, seed=7, restartable=1, not_restartable=None) as served:
        (task,) = served.fixtures["restartable"]
        ask_signed(served, task, 2)
    (again,) = restart_ledgers.asked_again()
    assert (again.who, again.pid, again.calls) == (
        "the embedded reference in its run's process",
        os.getpid(),
        {task: 2},
    )


ASKS_TWICE = """
import json, subprocess, sys

import httpx
import pytest

from tests.e2e.test_restart_ledger import PATH, start_serve


def ask_twice(tmp_path):
    serve, url, (task, _) = start_serve(tmp_path, dict(__import__("os").environ))
    try:
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as client:
            for _ in range(2):
                client.post(PATH, json={"migration_tasks": [task]})
    finally:
        serve.kill()
        serve.wait(timeout=10)
    return task


def test_unmarked(tmp_path):
    print("TASK", ask_twice(tmp_path))


@pytest.mark.asks_again
def test_marked(tmp_path):
    ask_twice(tmp_path)


def test_once_only(tmp_path):
    pass
"""


#: The inner session: serial, quiet, its errors summed up, the tests' prints shown, ``asks_again`` not registered.
INNER_PYTEST = (
    *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rE", "-s"),
    *("-W", "ignore::pytest.PytestUnknownMarkWarning"),
)


def test_the_suites_check_fails_a_test_whose_subprocess_reference_was_asked_twice(tmp_path: Path) -> None:
    """A pytest session with the suite's own conftest: the test that asks twice without saying so errors in its
    teardown, naming the task and the reference; the one marked ``asks_again`` passes, and so does a test run
    after them, to which the earlier calls are never charged."""
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    (tmp_path / "test_inner.py").write_text(ASKS_TWICE)
    env = clean_env(PYTHONPATH=str(PROJECT_ROOT))
    env.pop("PYTEST_XDIST_WORKER", None)
    inner = subprocess.run(
        [*INNER_PYTEST, "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = inner.stdout
    assert inner.returncode == 1, out[-3000:] + inner.stderr[-3000:]
    assert "3 passed, 1 error" in out, out[-3000:]
    assert "ERROR at teardown of test_unmarked" in out, out[-3000:]
    task = next(line.split()[1] for line in out.splitlines() if line.startswith("TASK "))
    assert "dcs-conformance serve (pid " in out and f"{{'{task}': 2}}" in out, out[-3000:]
