"""Are the fixtures still what the fixtures file says? Diagnose before blaming the target for BR-REQ-014.

A restartable task restarted by one run is migrating for a while afterwards, so the same fixtures file used the next
night names tasks that are no longer restartable; a fixtures file of another project names tasks this target does
not know. Either way every restartable fixture comes back ``failed``, and the run would call a conforming target
non-conformant. Such a target answers those fixtures exactly as it answers, in the same run, a task it cannot
restart (a non-restartable fixture) or a task that does not exist (an ID the run minted): the same error code and
the same message (task IDs in it masked), or a refusal that names the status of a migration under way (MIGRATING:
the task is running since the last run restarted it). That likeness, for every restartable fixture, is what this
module looks for; it pins no vendor's error code. A target that restarts some fixtures and fails others, or that reports
a task it cannot restart as restarted, is judged as usual; so is one that fails a task whose state cannot change
(a non-restartable fixture, a minted ID) with one error code in one batch and another in the next: it answers by the
company a task keeps, not by the task (an unknown ID that poisons its batch, a stop after the first failure, an
error that bleeds into the next item), and a restartable fixture failing among such company is no sign it is used
up. Only the error code is compared there: a message may carry a request ID or a time.

It cannot tell a used-up fixture from a target that wrongly answers a restartable task as it answers a
non-restartable one: both look the same from outside. The run then says so and ends incomplete (run again with
fresh fixtures), never conformant.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from conformance.contract.task_ids import task_key
from conformance.judging.results import Exchange, RequirementResult, Status
from conformance.judging.trace import mask_ids

#: The requirement a used-up fixture would fail, and so the one left unjudged when the fixtures look used up.
RESTARTABLE_SUCCEEDS = "BR-REQ-014"
#: The documented task statuses of a migration under way (FACTS.md, "Migration tasks"): what a task restarted by an
#: earlier run is in, and what a target refusing to restart it names. A target's error code alone says too little:
#: the documented state-error code is also what a target that fails a whole batch might answer.
IN_PROGRESS = re.compile(r"\b(?:MIGRATING|FULLMIGRATING|INCRMIGEATING|INCRMIGRATING|RUNNING)\b")

Failure = tuple[str, str]


def _failure(item: dict[str, Any]) -> Failure:
    """A failed item's error code and message, with task IDs masked: a message naming the task ("task X is
    migrating") is the same failure for every task."""
    code, message = item.get("error_code"), item.get("error_msg")
    return (str(code), mask_ids(str(message), limit=None))


@dataclass
class FixtureHealth:
    """Watches every exchange of a run (``Ledger.watch``): how each restartable fixture was answered, and how the
    target fails a non-restartable fixture and a minted ID."""

    restartable: Collection[str]
    not_restartable: Collection[str]
    is_minted: Callable[[str], bool]
    #: Per restartable fixture (by task key): every result it was answered with.
    answers: dict[str, list[tuple[str, Failure | None]]] = field(default_factory=dict)
    not_restartable_failures: set[Failure] = field(default_factory=set)
    unknown_failures: set[Failure] = field(default_factory=set)
    #: A non-restartable fixture or a minted ID was reported restarted: the target mixes outcomes up, and a failed
    #: restartable fixture is then no sign of used-up fixtures.
    unusable_succeeded: bool = False
    #: Per non-restartable fixture or minted ID, by the ID exactly as answered (another spelling of a task, which
    #: the target may read as no task, is another ID here): every error code it was failed with.
    stable_codes: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._restartable = {task_key(task) for task in self.restartable}
        self._not_restartable = {task_key(task) for task in self.not_restartable}

    def see(self, exchange: Exchange) -> None:
        if not self._restartable or not exchange.judgeable or exchange.status != 200:
            return
        body = exchange.response_json
        items = body.get("migration_tasks") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return
        for item in items:
            if not isinstance(item, dict) or not isinstance(task_id := item.get("task_id"), str):
                continue
            failed = item.get("result") == "failed"
            key = task_key(task_id)
            if key in self._restartable:
                self.answers.setdefault(key, []).append((str(item.get("result")), _failure(item) if failed else None))
            elif key in self._not_restartable or self.is_minted(task_id):
                if not failed:
                    self.unusable_succeeded = True
                    continue
                self.stable_codes.setdefault(task_id, set()).add(str(item.get("error_code")))
                if key in self._not_restartable:
                    self.not_restartable_failures.add(_failure(item))
                else:
                    self.unknown_failures.add(_failure(item))

    def used_up(self) -> str | None:
        """Why the restartable fixtures look unusable, when every one answered came back failed the way a task the
        target cannot restart, or does not know, comes back; None when any was restarted, one failed otherwise, or
        the target reported a task it cannot restart as restarted or failed one with error codes that depend on its
        batch."""
        outcomes = [outcome for answers in self.answers.values() for outcome in answers]
        if (
            not outcomes
            or self.unusable_succeeded
            or any(len(codes) > 1 for codes in self.stable_codes.values())
            or any(result != "failed" or failure is None for result, failure in outcomes)
        ):
            return None
        failures = {failure for _, failure in outcomes if failure is not None}
        migrating = {failure for failure in failures if IN_PROGRESS.search(failure[1])}
        if failures <= self.unknown_failures:
            cause = (
                "exactly as the target answers task IDs that do not exist: the fixtures name tasks it does not "
                "know (a wrong --project-id, or a fixtures file of another project?)"
            )
        elif failures <= self.unknown_failures | self.not_restartable_failures | migrating:
            cause = (
                "exactly as the target answers tasks that cannot be restarted: the fixtures look used up (an "
                "earlier run restarted them and they are still migrating) or are no longer restartable; give "
                "fresh restartable tasks"
            )
        else:
            return None
        count = len(self.answers)
        every = f"every one of the {count} restartable fixtures" if count > 1 else "the one restartable fixture"
        return f"{every} came back failed, {cause}"


def leave_unjudged(requirements: Sequence[RequirementResult], requirement: str, why: str) -> list[RequirementResult]:
    """The requirement results with ``requirement`` skipped for ``why`` if it failed: a failure the fixtures
    explain is no verdict on the target. Its evidence stays, for whoever wants to look."""
    return [
        replace(item, status=Status.SKIPPED, reason=why)
        if item.id == requirement and item.status == Status.FAILED
        else item
        for item in requirements
    ]
