"""The plan of a run: the runner walks engine/plan.py's PLAN, so a phase is added or reordered there alone, and the
phases judged beside the scenarios reach the ledger in the plan's order."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from conformance.contract import load_catalogue
from conformance.engine.plan import PLAN, PhaseRun, imports_ahead
from conformance.engine.runner import run_plan
from conformance.judging.results import Finding, Judgements, Ledger
from tests.conftest import exchange


@dataclass
class Recording:
    """A phase that judges one finding of its own requirement and notes that it ran."""

    name: str
    beside: bool
    requirement: str
    ran: list[str]

    def run(self, run: PhaseRun, judged: Judgements) -> None:
        self.ran.append(self.name)
        judged.record([Finding(self.requirement, False, self.name)], exchange(seq=len(self.ran)))


class QuietClient:
    def halt(self, reason: str) -> None:
        raise AssertionError(f"nothing should stop this run: {reason}")


def phases(ran: list[str]) -> list[Recording]:
    return [
        Recording("first-lane", True, "BR-REQ-011", ran),
        Recording("scenarios", False, "BR-REQ-011", ran),
        Recording("second-lane", True, "BR-REQ-011", ran),
    ]


def evidence(ledger: Ledger) -> list[str]:
    results = {item.id: item for item in ledger.requirement_results()}
    return [item.explanation for item in results["BR-REQ-011"].evidence]


def test_the_runner_runs_the_phases_of_its_plan_in_order() -> None:
    ran: list[str] = []
    ledger = Ledger(load_catalogue())
    shared = cast(PhaseRun, None)
    run_plan(phases(ran), shared, ledger, [], beside=False)
    assert ran == ["first-lane", "scenarios", "second-lane"]
    assert evidence(ledger) == ["first-lane", "scenarios", "second-lane"]


def test_beside_the_scenarios_the_lane_phases_keep_their_order_and_are_judged_after_the_scenarios() -> None:
    ran: list[str] = []
    ledger = Ledger(load_catalogue())
    shared = cast(Any, type("Shared", (), {"client": QuietClient()})())
    run_plan(phases(ran), shared, ledger, [], beside=True)
    assert ran.index("first-lane") < ran.index("second-lane")
    assert evidence(ledger) == ["scenarios", "first-lane", "second-lane"]


def test_the_plan_is_scenarios_then_the_aimed_then_the_generated_phases() -> None:
    assert [(phase.name, phase.beside) for phase in PLAN] == [
        ("scenarios", False),
        ("aimed", True),
        ("generated", True),
    ]


def test_the_imports_ahead_are_done_when_their_block_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that ends early (the target refused its first request) must not end its process while the thread
    still imports: finalization with an import running can crash the interpreter."""
    (tmp_path / "slow_to_import_for_the_plan.py").write_text("import time\ntime.sleep(0.3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RuntimeError, match="the run ended early"), imports_ahead(["slow_to_import_for_the_plan"]):
        raise RuntimeError("the run ended early")
    assert "slow_to_import_for_the_plan" in sys.modules
    assert not [thread for thread in threading.enumerate() if thread.name == "import-ahead"]
    del sys.modules["slow_to_import_for_the_plan"]


def test_nothing_to_import_ahead_starts_no_thread() -> None:
    with imports_ahead(()):
        assert not [thread for thread in threading.enumerate() if thread.name == "import-ahead"]
