"""Whether a child process draws the schemathesis cases or this one does changes how fast a run ends, never what it
sends: the same seed sends the same requests in the same order (the same requests at any --workers), a child that
dies halfway is taken over, and a run that stops early leaves no child behind. Nor does replaying a child's cases
from the drawing cache: it sends what a child's drawing sends, starts no child, and an entry that is not a child's
output is taken over too. The aimed phase draws its plans in this process (plain seeded drawing, microseconds a
plan), and shrinks what fails to the smallest batch.

Every test starts with an empty drawing cache of its own (the session's would hand it what other tests drew)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.engine.phases import st_draw
from conformance.engine.phases.st_draw import CaseDrawing
from tests.conftest import children
from tests.drawings import noted_drawings, own_drawing_cache
from tests.seeded_reference import judge

pytestmark = pytest.mark.e2e

PROJECT = "p-child"
NO_FIXTURES = {"embedded_restartable": 0, "embedded_not_restartable": 0}


@pytest.fixture(autouse=True)
def cache_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return own_drawing_cache(tmp_path, monkeypatch)


@pytest.fixture
def drawing_cases(monkeypatch: pytest.MonkeyPatch) -> list[CaseDrawing]:
    return noted_drawings(monkeypatch)


def children_draw(monkeypatch: pytest.MonkeyPatch, *, schemathesis: bool) -> None:
    """Whether the runs that follow have a child process draw their schemathesis cases."""
    monkeypatch.setattr(st_draw, "CHILD_DRAWING_FROM", 1 if schemathesis else 10**9)


def sent(tmp_path: Path, workers: int = 1, variants: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[bytes]]:
    """A run against a freshly seeded reference: its report, and every body the reference received, in order."""
    report, recorder, _ = judge(tmp_path, workers, variants, max_examples=60)
    return report, recorder.bodies


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """What a run with one worker and the default drawing (a schemathesis child) sends: made once."""
    return sent(tmp_path_factory.mktemp("one-worker"))[1]


def assert_sent_alike(bodies: list[bytes], expected: list[bytes], workers: int) -> None:
    """The same requests: in the same order with one worker, some of them at once with more."""
    if workers == 1:
        assert bodies == expected
    else:
        assert Counter(bodies) == Counter(expected), "the same requests, some of them sent at once"


def fake_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Start the child through a shell script; $PYTHON is the real interpreter, "$@" its arguments."""
    path = tmp_path / "python"
    path.write_text(f'#!/bin/sh\nPYTHON="{sys.executable}"\n{script}\n', encoding="utf-8")
    path.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(path))


@pytest.mark.parametrize("workers", [1, 4, 16])
def test_the_same_seed_sends_the_same_requests_at_any_workers_with_and_without_the_child_processes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    drawing_cases: list[CaseDrawing],
    workers: int,
) -> None:
    children_draw(monkeypatch, schemathesis=False)
    here, sent_here = sent(tmp_path / "here")
    assert not drawing_cases, "everything is drawn here"
    children_draw(monkeypatch, schemathesis=True)
    there, sent_there = sent(tmp_path / "children", workers=workers)
    assert len(drawing_cases) == 1 and not drawing_cases[0].replayed
    assert_sent_alike(sent_there, sent_here, workers)
    assert capfd.readouterr().err == "", "nothing of the children reaches the terminal"
    assert here["verdict"] == there["verdict"] == "conformant"
    assert here["stats"]["generated_by_phase"] == there["stats"]["generated_by_phase"]
    assert sum(there["stats"]["generated_by_phase"].values()) > 60, "the schemathesis phases sent their cases"


def test_a_schemathesis_child_that_dies_halfway_is_taken_over_and_the_run_sends_the_same_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], drawing_cases: list[CaseDrawing]
) -> None:
    children_draw(monkeypatch, schemathesis=False)
    _, sent_here = sent(tmp_path / "here")
    children_draw(monkeypatch, schemathesis=True)
    fake_python(tmp_path, monkeypatch, '"$PYTHON" "$@" | head -n 30')
    report, sent_there = sent(tmp_path / "child")
    assert len(drawing_cases) == 1
    assert sent_there == sent_here
    assert report["verdict"] == "conformant"
    err = capfd.readouterr().err
    assert "drawing the schemathesis cases in a child process failed" in err and "Traceback" not in err
    assert not list(cache_entries(tmp_path)), "a child's output is kept only when it is whole"


def cache_entries(tmp_path: Path) -> list[Path]:
    """The entries this test's drawing cache holds."""
    folder = tmp_path / "drawn"
    return sorted(path for path in folder.iterdir() if not path.name.startswith(".")) if folder.is_dir() else []


@pytest.mark.parametrize("workers", [1, 4])
def test_a_run_replaying_the_cached_cases_sends_what_the_child_drew_and_starts_no_child(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    drawing_cases: list[CaseDrawing],
    workers: int,
) -> None:
    from conformance.engine.phases import drawing_child

    started: list[str] = []
    real_start = drawing_child.start_child
    monkeypatch.setattr(
        drawing_child, "start_child", lambda module, *rest: started.append(module) or real_start(module, *rest)
    )
    drawn_report, drawn = sent(tmp_path / "drawn-run", workers=workers)
    assert started == [st_draw.MODULE] and len(cache_entries(tmp_path)) == 1, "the child drew, its output was kept"
    replayed_report, replayed = sent(tmp_path / "replayed-run", workers=workers)
    assert started == [st_draw.MODULE], "no child for the replay"
    assert [drawing.replayed for drawing in drawing_cases] == [False, True]
    assert_sent_alike(replayed, drawn, workers)
    assert replayed_report["stats"]["generated_by_phase"] == drawn_report["stats"]["generated_by_phase"]
    assert replayed_report["verdict"] == drawn_report["verdict"] == "conformant"
    assert capfd.readouterr().err == ""
    monkeypatch.setattr(st_draw, "CHILD_DRAWING_FROM", 10**9)
    _, here = sent(tmp_path / "here-run", workers=workers)
    assert Counter(here) == Counter(drawn), "and what this process draws itself"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda data: data.replace(b"\n", b"\nAAAA\n", 2), id="a-line-added"),
        pytest.param(lambda data: data[: len(data) // 2], id="torn"),
        pytest.param(lambda data: data.replace(data.split(b"\n")[-2], b"0" * 64), id="digest-replaced"),
    ],
)
def test_a_cache_entry_that_is_not_a_childs_whole_output_is_deleted_and_the_run_sends_the_same_requests(
    tmp_path: Path, drawing_cases: list[CaseDrawing], tamper: Any
) -> None:
    _, drawn = sent(tmp_path / "drawn-run")
    (entry,) = cache_entries(tmp_path)
    whole = entry.read_bytes()
    entry.write_bytes(tamper(whole))
    _, again = sent(tmp_path / "again")
    assert again == drawn
    assert [drawing.replayed for drawing in drawing_cases] == [False, False], "the entry was not used"
    (kept,) = cache_entries(tmp_path)
    # A child's pickles are not byte for byte those of another (its sets hash by its own PYTHONHASHSEED).
    assert kept.read_bytes().splitlines()[0] == whole.splitlines()[0], "a child drew again, kept under the same key"
    assert len(kept.read_bytes().splitlines()) == len(whole.splitlines())


def test_a_cache_entry_whose_lines_are_no_cases_is_taken_over_and_the_run_sends_the_same_requests(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], drawing_cases: list[CaseDrawing]
) -> None:
    """An entry with a right digest but a line that is no case (a pickle naming os.system, say): parsed as a
    child's line, refused, deleted, and the cases drawn here from that line on."""
    import base64
    import hashlib
    import pickle

    _, drawn = sent(tmp_path / "drawn-run")
    (entry,) = cache_entries(tmp_path)
    header, *lines, _digest = entry.read_bytes().split(b"\n")[:-1]
    lines[5] = base64.b64encode(pickle.dumps(__import__("os").system))
    body = b"".join(line + b"\n" for line in lines)
    entry.write_bytes(header + b"\n" + body + hashlib.sha256(body).hexdigest().encode() + b"\n")
    _, again = sent(tmp_path / "again")
    assert again == drawn
    assert drawing_cases[1].replayed
    err = capfd.readouterr().err
    assert "replaying the schemathesis cases from the drawing cache failed" in err and "Traceback" not in err
    assert not cache_entries(tmp_path), "the entry was deleted"


def test_the_same_seed_sends_the_same_requests_when_the_phases_run_beside_the_scenarios(
    tmp_path: Path, drawing_cases: list[CaseDrawing], one_worker: list[bytes]
) -> None:
    """Against a slow target with four workers the aimed and generated phases run on a thread of their own, beside
    the scenarios, and read the child's cases there."""
    there, sent_there = sent(tmp_path / "beside", workers=4, variants=("latency",))
    assert len(drawing_cases) == 1
    assert Counter(sent_there) == Counter(one_worker)
    assert there["verdict"] == "conformant"


@pytest.mark.parametrize(("fault", "smallest"), [("drop-in-large-batches", 21), ("truncate-at-25", 26)])
def test_size_bugs_found_by_the_aimed_phase_are_shrunk_to_the_smallest_batch(
    tmp_path: Path, fault: str, smallest: int
) -> None:
    settings = resolve(
        {"seed": 1, "max_examples": 50, "fault": [fault], "report_dir": str(tmp_path / "report"), **NO_FIXTURES},
        env={},
    )
    report = execute(settings, progress=lambda _: None).report
    assert report["stats"]["shrunk_reproducers"] == {"BR-REQ-009": smallest}
    first = next(item for item in report["requirements"] if item["id"] == "BR-REQ-009")["evidence"][0]
    assert first["explanation"].startswith(f"shrunk reproducer: the smallest batch that loses an item has {smallest}")


def test_a_run_stopped_by_its_budget_while_the_child_draws_leaves_no_child_behind(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], drawing_cases: list[CaseDrawing]
) -> None:
    before = children()
    settings = resolve(
        {"seed": 1, "max_examples": 20000, "max_requests": 70, "report_dir": str(tmp_path / "report"), **NO_FIXTURES},
        env={},
    )
    report = execute(settings, progress=lambda _: None).report
    assert len(drawing_cases) == 1, "the schemathesis child was drawing (2,100 examples take it about a minute)"
    assert report["stats"]["requests"] == 70
    assert not children() - before, "neither running nor a zombie"
    assert "child process failed" not in capfd.readouterr().err


def test_the_command_starts_the_schemathesis_child_before_the_run_and_the_run_reads_that_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drawing_cases: list[CaseDrawing]
) -> None:
    """`run` starts the child as soon as its settings hold up, before it loads what a run needs; the generated phase
    reads that child's cases and starts no other."""
    import conformance.app.run as app_run
    from conformance.cli.main import main

    order: list[str] = []
    execute_for_real = app_run.execute

    def execute_noted(*args: Any, **kwargs: Any) -> Any:
        order.append(f"execute with {len(drawing_cases)} child(ren) started")
        return execute_for_real(*args, **kwargs)

    monkeypatch.setattr(app_run, "execute", execute_noted)
    report_dir = tmp_path / "report"
    code = main(["run", "--quiet", "--seed", "1", "--max-examples", "5", "--report-dir", str(report_dir)])
    assert code == 0
    assert order == ["execute with 1 child(ren) started"]
    assert len(drawing_cases) == 1, "the run read the command's child"
    assert (report_dir / "report.json").is_file()
