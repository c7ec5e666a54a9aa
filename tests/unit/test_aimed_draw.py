"""A child process draws the aimed phase's plans exactly as this process would, and whatever becomes of it (never
started, dead halfway, garbage, stalled) the reader still gets every plan of the seed, in order; closing never
leaves it running."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from conformance.engine.determinism import without_local_constants
from conformance.engine.phases import drawing_child
from conformance.engine.phases.aimed_draw import ChildDrawing
from conformance.engine.phases.aimed_plans import Plan, assemble, draw_plans, edge_ids
from tests.conftest import children

MINTED = [str(uuid.UUID(int=n, version=4)) for n in range(1, 121)]
KNOWN = ["5e3a2f10-0b7c-4c1e-9d2a-6f8e1b4c7a90", "7599c3ed-d0d3-4fb9-9273-653160302023"]
ODD = edge_ids(str(uuid.UUID(int=999, version=4)))
COUNT = 100


def drawn_here(seed: int, count: int = COUNT) -> list[Plan]:
    """The plans this process draws for the seed, as the aimed phase draws them (inside the runner's guard)."""
    plans: list[Plan] = []
    with without_local_constants():
        draw_plans(seed, count, plans.append)
    return plans


def drawn_by_child(seed: int, count: int = COUNT) -> list[Plan]:
    drawing = ChildDrawing(seed, count)
    try:
        return list(drawing.plans())
    finally:
        drawing.close()


def fake_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Start the child through ``script`` (a shell script; $PYTHON is the real interpreter, "$@" its arguments)."""
    path = tmp_path / "python"
    path.write_text(f'#!/bin/sh\nPYTHON="{sys.executable}"\n{script}\n', encoding="utf-8")
    path.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(path))


@pytest.mark.parametrize("seed", [1, 20261129])
def test_the_child_draws_the_very_batches_this_process_draws(seed: int, capfd: pytest.CaptureFixture[str]) -> None:
    here = [assemble(plan, MINTED, KNOWN, ODD) for plan in drawn_here(seed)]
    there = [assemble(plan, MINTED, KNOWN, ODD) for plan in drawn_by_child(seed)]
    assert there == here
    assert len({tuple(ids) for ids in here}) > COUNT // 2, "a real sequence, not a constant"
    assert capfd.readouterr().err == "", "a child that succeeded says nothing on the terminal"


def test_a_child_that_cannot_start_leaves_every_plan_to_this_process(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    assert drawn_by_child(3) == drawn_here(3)
    assert "could not be started" in capfd.readouterr().err


def test_a_child_that_dies_halfway_is_taken_over_from_the_first_plan_it_did_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_python(tmp_path, monkeypatch, '"$PYTHON" "$@" | head -n 7\nexit 3')
    assert drawn_by_child(4) == drawn_here(4)
    err = capfd.readouterr().err
    assert "it exited with status 3" in err and "drawing them in this process instead" in err


@pytest.mark.parametrize("garbage", ["not json", "[1, 2, 3]", "[99, 0, 0, 0]"])
def test_a_child_that_writes_anything_but_a_plan_is_taken_over_at_that_line(
    garbage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_python(tmp_path, monkeypatch, f'"$PYTHON" "$@" | sed \'5s/.*/{garbage}/\'')
    assert drawn_by_child(5) == drawn_here(5)
    assert f"it wrote {garbage!r} where a plan was expected" in capfd.readouterr().err


def test_a_child_that_writes_without_end_is_taken_over_without_filling_the_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_python(tmp_path, monkeypatch, "exec yes '[0, 0, 0, 0' | tr -d '\\n'")
    assert drawn_by_child(6) == drawn_here(6)
    assert "it wrote a line of more than 1024 bytes" in capfd.readouterr().err


def test_a_stalled_child_is_killed_and_this_process_draws_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(drawing_child, "STALL_S", 0.5)
    fake_python(tmp_path, monkeypatch, "exec sleep 60")
    before = children()  # other tests may leave processes of their own (a browser)
    started = time.monotonic()
    assert drawn_by_child(6) == drawn_here(6)
    assert time.monotonic() - started < 30
    assert "it drew nothing for 0.5 s" in capfd.readouterr().err
    assert not children() - before, "neither running nor a zombie"


def test_closing_from_another_thread_ends_the_reading_there_without_drawing_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A run stopped by the main thread while its property phases, on a thread of their own, wait for a plan."""
    fake_python(tmp_path, monkeypatch, "exec sleep 60")
    before = children()  # other tests may leave processes of their own (a browser)
    drawing = ChildDrawing(9, COUNT)
    read: list[Plan] = []
    reader = threading.Thread(target=lambda: read.extend(drawing.plans()))
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
    drawing = ChildDrawing(7, 10**7)
    plans = drawing.plans()
    assert next(plans) == Plan(0, 0, 0, 0), "hypothesis draws the simplest plan first"
    assert children() - before, "the child is still drawing"
    drawing.close()
    assert not children() - before, "neither running nor a zombie"


def test_a_child_that_finished_is_reaped_once_its_plans_are_read() -> None:
    before = children()
    drawing = ChildDrawing(8, 5)
    assert list(drawing.plans()) == drawn_here(8, 5)
    assert not children() - before
    drawing.close()


@pytest.mark.parametrize("value", [[0, 0, 0, 0], [51, 3, 2, 2**32 - 1]], ids=["smallest", "largest"])
def test_a_plan_in_range_is_read_back_as_drawn(value: list[int]) -> None:
    assert Plan.parse(value) == Plan(*value)


@pytest.mark.parametrize(
    "value", [None, [0, 0, 0], [52, 0, 0, 0], [0, 4, 0, 0], [0, 0, 3, 0], [0, 0, 0, 2**32], [0.0, 0, 0, 0]]
)
def test_a_plan_that_could_not_have_been_drawn_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        Plan.parse(value)


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
    drawing = ChildDrawing(7, 10**7)  # never read to the end: still drawing when it is closed
    try:
        assert drawing._process is not None
        assert next(drawing.plans()) == Plan(0, 0, 0, 0), "it draws without them"
        # Read once it has drawn: until its exec, a forked child still shows the parent's environment.
        environ = Path(f"/proc/{drawing._process.pid}/environ").read_bytes()
    finally:
        drawing.close()
    names = {entry.partition(b"=")[0].decode() for entry in environ.split(b"\0") if entry}
    assert not names & set(secrets), names
    assert not any(value.encode() in environ for value in secrets.values())
    assert {"PYTHONPATH", "PYTHONHASHSEED", "PATH"} <= names
