"""A drawing child (engine/phases/drawing_child.py), whatever becomes of it (never started, dead halfway, garbage,
stalled), still gets its reader every case of the seed, in order, and closing never leaves it running. Tested with
the smallest child there is (tests/counting_child.py), which draws numbers as the schemathesis child draws cases."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from conformance.engine.phases import drawing_child
from tests.conftest import children
from tests.counting_child import CountingChild, numbers

COUNT = 100


def drawn_by_child(seed: int, count: int = COUNT) -> list[int]:
    drawing = CountingChild(seed, count)
    try:
        return list(drawing.items())
    finally:
        drawing.close()


def fake_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Start the child through ``script`` (a shell script; $PYTHON is the real interpreter, "$@" its arguments)."""
    path = tmp_path / "python"
    path.write_text(f'#!/bin/sh\nPYTHON="{sys.executable}"\n{script}\n', encoding="utf-8")
    path.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(path))


def test_the_child_draws_the_very_cases_this_process_draws(capfd: pytest.CaptureFixture[str]) -> None:
    assert drawn_by_child(1) == numbers(1, COUNT)
    assert len(set(numbers(1, COUNT))) > COUNT // 2, "a real sequence, not a constant"
    assert capfd.readouterr().err == "", "a child that succeeded says nothing on the terminal"


def test_a_child_that_cannot_start_leaves_every_case_to_this_process(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    assert drawn_by_child(3) == numbers(3, COUNT)
    assert "could not be started" in capfd.readouterr().err


def test_a_child_that_dies_halfway_is_taken_over_from_the_first_case_it_did_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_python(tmp_path, monkeypatch, '"$PYTHON" "$@" | head -n 7\nexit 3')
    assert drawn_by_child(4) == numbers(4, COUNT)
    err = capfd.readouterr().err
    assert "it exited with status 3" in err and "drawing them in this process instead" in err


@pytest.mark.parametrize("garbage", ["not json", "[1, 2, 3]", "-1"])
def test_a_child_that_writes_anything_but_a_case_is_taken_over_at_that_line(
    garbage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_python(tmp_path, monkeypatch, f'"$PYTHON" "$@" | sed \'5s/.*/{garbage}/\'')
    assert drawn_by_child(5) == numbers(5, COUNT)
    assert f"it wrote {garbage!r} where a number was expected" in capfd.readouterr().err


def test_a_child_that_writes_without_end_is_taken_over_without_filling_the_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_python(tmp_path, monkeypatch, "exec yes '1' | tr -d '\\n'")
    assert drawn_by_child(6) == numbers(6, COUNT)
    assert "it wrote a line of more than 1024 bytes" in capfd.readouterr().err


def test_a_stalled_child_is_killed_and_this_process_draws_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(drawing_child, "STALL_S", 0.5)
    fake_python(tmp_path, monkeypatch, "exec sleep 60")
    before = children()  # other tests may leave processes of their own (a browser)
    started = time.monotonic()
    assert drawn_by_child(6) == numbers(6, COUNT)
    assert time.monotonic() - started < 30
    assert "it drew nothing for 0.5 s" in capfd.readouterr().err
    assert not children() - before, "neither running nor a zombie"


def test_closing_from_another_thread_ends_the_reading_there_without_drawing_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A run stopped by the main thread while its property phases, on a thread of their own, wait for a case."""
    fake_python(tmp_path, monkeypatch, "exec sleep 60")
    before = children()  # other tests may leave processes of their own (a browser)
    drawing = CountingChild(9, COUNT)
    read: list[int] = []
    reader = threading.Thread(target=lambda: read.extend(drawing.items()))
    reader.start()
    time.sleep(0.3)
    drawing.close()
    reader.join(timeout=5)
    assert not reader.is_alive()
    assert read == []
    assert capfd.readouterr().err == ""
    assert not children() - before, "neither running nor a zombie"


def test_closing_kills_a_child_still_drawing_and_reaps_it() -> None:
    before = children()
    drawing = CountingChild(7, 10**7)
    assert next(drawing.items()) == numbers(7, 1)[0]
    assert children() - before, "the child is still drawing"
    drawing.close()
    assert not children() - before, "neither running nor a zombie"


def test_a_child_that_finished_is_reaped_once_its_cases_are_read() -> None:
    before = children()
    drawing = CountingChild(8, 5)
    assert list(drawing.items()) == numbers(8, 5)
    assert not children() - before
    drawing.close()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc/<pid>/environ (Linux)")
def test_the_child_holds_no_credential_in_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "DCS_AUTH_TOKEN": "MIIC+child-token-canary",
        "CLOUD_SDK_AK": "AKCHILDCANARY0001",
        "CLOUD_SDK_SK": "sk-child-canary-0002",
        "DCS_TOKEN_CN4": "MIIC+a-targets-file-names-this",
        "HTTPS_PROXY": "http://proxyuser:proxy-pass-canary@127.0.0.1:3128",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    drawing = CountingChild(7, 10**7)  # never read to the end: still drawing when it is closed
    try:
        assert drawing._process is not None
        assert next(drawing.items()) == numbers(7, 1)[0], "it draws without them"
        # Read once it has drawn: until its exec, a forked child still shows the parent's environment.
        environ = Path(f"/proc/{drawing._process.pid}/environ").read_bytes()
    finally:
        drawing.close()
    names = {entry.partition(b"=")[0].decode() for entry in environ.split(b"\0") if entry}
    assert not names & set(secrets), names
    assert not any(value.encode() in environ for value in secrets.values())
    assert {"PYTHONPATH", "PYTHONHASHSEED", "PATH"} <= names
