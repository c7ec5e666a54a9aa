"""Where schemathesis's checks are judged, by the drawing child or in the run's own process, changes how fast a run
ends, never what it judges: the same verdict, requirements, evidence and observations, at any --workers, whether the
child draws the cases or they are replayed from the drawing cache. A child that dies while it answers is taken over,
and a command-line run that finds nothing to shrink loads neither schemathesis nor hypothesis in its own process.

The runs judge a reference with faults that schemathesis's own checks find (a 200 declared text/plain, a missing
field accepted), so that the findings compared include failures, not only passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.phases import drawing_child, st_check_lane, st_draw
from conformance.engine.phases.st_draw import CaseDrawing
from conformance.judging.results import Finding, Seen
from tests.conftest import children
from tests.drawings import noted_drawings, own_drawing_cache
from tests.hostile import HostileServer, judge_hostile
from tests.seeded_reference import judge

pytestmark = pytest.mark.e2e

FAULTS = ("content-type-text", "accept-missing-field")
#: What differs from one run to the next whatever judged it: clocks, the server's port, its request IDs and dates.
VOLATILE = frozenset({"elapsed_ms", "at_s", "seconds", "duration_s", "started_at", "url", "headers"})


@pytest.fixture(autouse=True)
def cache_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return own_drawing_cache(tmp_path, monkeypatch)


@pytest.fixture
def drawings(monkeypatch: pytest.MonkeyPatch) -> list[CaseDrawing]:
    return noted_drawings(monkeypatch)


@pytest.fixture
def findings(monkeypatch: pytest.MonkeyPatch) -> list[Finding | Seen]:
    """Every finding of schemathesis's checks the runs of a test judge, in order, wherever they were judged."""
    found: list[Finding | Seen] = []
    here, from_child = st_check_lane.HereChecks.judge, st_check_lane.read_findings

    def judged_here(*args: Any, **kwargs: Any) -> list[Finding | Seen]:
        found.extend(result := here(*args, **kwargs))
        return result

    def read_from_child(line: bytes) -> list[Finding | Seen]:
        found.extend(result := from_child(line))
        return result

    monkeypatch.setattr(st_check_lane.HereChecks, "judge", judged_here)
    monkeypatch.setattr(st_check_lane, "read_findings", read_from_child)
    return found


def judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, in_child: bool, **flags: Any) -> dict[str, Any]:
    """What a run against the faulty reference judged, what differs from run to run left out; schemathesis's checks
    judged by the child or here."""
    monkeypatch.setattr(st_draw, "checks_in_child", lambda: in_child)
    workers = flags.pop("workers", 1)
    report, _, _ = judge(tmp_path, workers, faults=FAULTS, max_examples=60, **flags)
    kept = {key: report[key] for key in ("verdict", "verdict_reason", "counts", "requirements", "observations")}
    # With more workers the scenarios' requests go out in another order from run to run: their numbers differ.
    return _without(kept, VOLATILE | ({"seq"} if workers > 1 else set()))


def taken(found: list[Finding | Seen]) -> list[Finding | Seen]:
    """The findings noted so far, and none kept for the next run."""
    taken, found[:] = list(found), []
    return taken


def _without(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {key: _without(item, keys) for key, item in value.items() if key not in keys}
    if isinstance(value, list):
        return [_without(item, keys) for item in value]
    return value


@pytest.mark.parametrize("workers", [1, 4])
def test_the_child_judges_schemathesiss_checks_as_this_process_does_drawn_or_replayed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    drawings: list[CaseDrawing],
    findings: list[Finding | Seen],
    workers: int,
) -> None:
    here = judged(tmp_path / "here", monkeypatch, in_child=False, workers=workers)
    found_here = taken(findings)
    replayed = judged(tmp_path / "replayed", monkeypatch, in_child=True, workers=workers)
    found_replayed = taken(findings)
    drawn = judged(tmp_path / "drawn", monkeypatch, in_child=True, workers=workers, no_cache=True)
    assert [(drawing.serving, drawing.replayed) for drawing in drawings] == [
        (False, False),
        (True, True),
        (True, False),
    ]
    failed = {item.requirement for item in found_here if isinstance(item, Finding) and not item.ok}
    assert {"BR-REQ-001", "BR-REQ-005"} <= failed, "schemathesis's checks found the faults"
    assert found_replayed == found_here, "the same findings, case by case"
    assert taken(findings) == found_here
    assert here["verdict"] == "non-conformant"
    assert replayed == here
    assert drawn == here
    assert capfd.readouterr().err == "", "nothing of the child reaches the terminal"


def test_a_child_that_dies_while_it_answers_is_taken_over_with_the_same_findings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    drawings: list[CaseDrawing],
    findings: list[Finding | Seen],
) -> None:
    here = judged(tmp_path / "here", monkeypatch, in_child=False)
    found_here = taken(findings)
    before = children()
    script = tmp_path / "python"
    # The child's output ends after its end line and 20 answers: the cases are replayed from the cache.
    script.write_text(f'#!/bin/sh\n"{sys.executable}" "$@" | head -n 21\n', encoding="utf-8")
    script.chmod(0o755)
    real_start = drawing_child.start_child

    def start_dying(*args: Any) -> Any:
        with monkeypatch.context() as patched:  # only to start it: the cache's key names the real interpreter
            patched.setattr(sys, "executable", str(script))
            return real_start(*args)

    monkeypatch.setattr(drawing_child, "start_child", start_dying)
    taken_over = judged(tmp_path / "taken-over", monkeypatch, in_child=True)
    assert drawings[1].serving and drawings[1].replayed
    assert taken_over == here
    assert taken(findings) == found_here, "20 cases judged by the child, the others here: the same findings"
    err = capfd.readouterr().err
    assert err.count("judging schemathesis's checks in the drawing child failed") == 1, err
    assert "judging them in this process instead" in err and "Traceback" not in err
    assert not children() - before, "the child is reaped"


def test_a_command_line_run_loads_neither_schemathesis_nor_hypothesis_in_its_own_process(tmp_path: Path) -> None:
    """The embedded run of the command line: its child draws the cases and judges schemathesis's checks, and
    hypothesis would only shrink a failing aimed batch."""
    program = (
        "import sys\n"
        "from conformance.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('schemathesis', 'hypothesis')))\n"
        "sys.exit(code)\n"
    )
    report_dir = tmp_path / "report"
    command = [sys.executable, "-c", program, "run", "--quiet", "--seed", "3", "--max-examples", "30"]
    result = subprocess.run(
        [*command, "--report-dir", str(report_dir), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "conformant"
    assert report["stats"]["generated_cases"] > 30, "the generated phase ran, its checks judged by the child"


def test_a_replayed_run_starts_its_judging_child_only_once_the_target_has_answered_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drawings: list[CaseDrawing]
) -> None:
    """A child that only judges starts with the target's first complete 2xx answer, not with the run: a run against
    a target that resets every request never pays for it. One whose target answers only 500 starts it when its
    generated phase first asks; one whose target answers, before that. Either way the child judges every case."""
    answers: list[bytes] = []
    read_findings = st_check_lane.read_findings
    monkeypatch.setattr(st_check_lane, "read_findings", lambda line: read_findings(answers.append(line) or line))
    asked: list[bytes] = []
    real_ask = drawing_child.DrawingChild.ask

    def noted_ask(drawing: CaseDrawing, question: bytes) -> None:
        asked.append(question)
        real_ask(drawing, question)

    monkeypatch.setattr(drawing_child.DrawingChild, "ask", noted_ask)
    #: How many questions had been asked as each child started.
    started: list[int] = []
    real_start = drawing_child.start_child

    def noted_start(module: str, *args: Any) -> Any:
        assert module == st_draw.MODULE
        started.append(len(asked))
        return real_start(module, *args)

    monkeypatch.setattr(drawing_child, "start_child", noted_start)
    monkeypatch.setattr(st_draw, "checks_in_child", lambda: False)
    with HostileServer("ok") as server:
        assert judge_hostile(server, tmp_path / "drawn")[0].report["verdict"] == "conformant"
    assert started == [0], "the cases were drawn by a child, and kept in the cache"
    monkeypatch.setattr(st_draw, "checks_in_child", lambda: True)
    for mode, verdict, starts in (
        ("reset-always", "error", []),
        ("status-500", "non-conformant", [1]),
        ("ok", "conformant", [0]),
    ):
        started.clear()
        asked.clear()
        answers.clear()
        with HostileServer(mode) as server:
            report = judge_hostile(server, tmp_path / mode)[0].report
        assert report["verdict"] == verdict, mode
        assert drawings[-1].serving and drawings[-1].replayed
        assert started == starts, mode
        assert len(answers) == len(asked) == (report["stats"]["generated_cases"] if starts else 0), mode
    assert answers, "the child judged"
