"""Schemathesis's checks of the generated phase's answers: judged by the drawing child, or in this process.

Schemathesis's checks need schemathesis, which costs this process about 0.4 s of CPU to load and about a
millisecond a check, on the one core that already sends every request and judges every answer with our own checks.
The drawing child (st_draw.py) has it loaded anyway: when it serves (st_draw.checks_in_child), each answer is sent to
it as a question while this process goes on sending the next cases, and its findings are awaited ``LAG`` cases
later, so that both cores work. The findings are recorded in the order the cases were drawn, exactly as if they had
been judged here: the child runs the very function this process would (st_checks.run_schemathesis_checks) on the
same case and the same exchange.

A question holds the case's record, the run's minted IDs for the documented ones, and the exchange as the run's
client received it (its headers already redacted: never a credential). An answer is a line of JSON: a list of
findings, each read back strictly (``read_findings``). If the child cannot be asked, dies, stalls or answers anything
else, the checks are judged in this process from that case on (the same findings), and stderr says so once.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from conformance.engine.phases.st_draw import Drawn, case_of, operation, read_record
from conformance.judging.results import Exchange, Finding, Seen
from conformance.support import jsontext
from conformance.support.errors import ChildFailed
from conformance.support.terminal import one_line

if TYPE_CHECKING:
    from schemathesis.schemas import APIOperation

    from conformance.engine.phases.st_draw import CaseDrawing

#: Cases sent after one before its findings are awaited: the child judges one in about a millisecond, about what
#: sending one costs, so a few in hand keep this process from waiting for it.
LAG = 4
#: The fields an exchange is made of (what is derived from them, its parsed body, is derived again).
_EXCHANGE_FIELDS = tuple(field.name for field in dataclasses.fields(Exchange) if field.init)
#: Longer than any message of st_checks (schemathesis's own is cut to 300 characters, st_checks._short).
_MAX_MESSAGE = 10_000

Findings = list[Finding | Seen]
#: The findings of one submitted case, awaited when called.
Ticket = Callable[[], Findings]


class Checks(Protocol):
    """Where schemathesis's checks of the generated phase are judged."""

    #: Cases to send after a submitted one before its ticket is called.
    lag: int

    def submit(self, drawn: Drawn, ids: Mapping[str, str], exchange: Exchange, *, negative: bool) -> Ticket: ...


class HereChecks:
    """Schemathesis's checks judged in this process, schemathesis loaded for the first of them."""

    lag = 0

    def __init__(self, examples: int) -> None:
        self._examples = examples
        self._operation: APIOperation[Any, Any, Any, Any] | None = None

    def judge(self, drawn: Drawn, ids: Mapping[str, str], exchange: Exchange, *, negative: bool) -> Findings:
        from conformance.engine.phases.st_checks import run_schemathesis_checks

        if self._operation is None:
            self._operation = operation(self._examples)
        case = case_of(self._operation, read_record(drawn.record), ids)
        return run_schemathesis_checks(case, exchange, negative=negative)

    def submit(self, drawn: Drawn, ids: Mapping[str, str], exchange: Exchange, *, negative: bool) -> Ticket:
        findings = self.judge(drawn, ids, exchange, negative=negative)
        return lambda: findings


class ChildChecks:
    """Schemathesis's checks judged by the serving drawing child (see the module's docstring); ``here`` judges them
    once the child has failed."""

    lag = LAG

    def __init__(self, drawing: CaseDrawing, here: HereChecks) -> None:
        self._drawing = drawing
        self._here = here
        self._failure: str | None = None

    def submit(self, drawn: Drawn, ids: Mapping[str, str], exchange: Exchange, *, negative: bool) -> Ticket:
        asked = self._failure is None and self._ask(drawn, ids, exchange, negative)

        def ticket() -> Findings:
            if asked and self._failure is None:
                try:
                    return read_findings(self._drawing.answer())
                except (ChildFailed, ValueError) as exc:
                    self._fail(str(exc))
            return self._here.judge(drawn, ids, exchange, negative=negative)

        return ticket

    def _ask(self, drawn: Drawn, ids: Mapping[str, str], exchange: Exchange, negative: bool) -> bool:
        question = {
            "record": drawn.record,
            "ids": dict(ids),
            "exchange": carried(exchange),
            "negative": negative,
        }
        try:
            self._drawing.ask(pickle.dumps(question, protocol=pickle.HIGHEST_PROTOCOL))
        except ChildFailed as exc:
            self._fail(str(exc))
            return False
        return True

    def _fail(self, why: str) -> None:
        self._failure = why
        print(
            # The child's last error line may quote an answer it judged: the target's text, shown as such.
            f"dcs-conformance: judging schemathesis's checks in the drawing child failed ({one_line(why)}); "
            "judging them in this process instead",
            file=sys.stderr,
            flush=True,
        )


def carried(exchange: Exchange) -> dict[str, Any]:
    """What a question carries of an exchange: every field it is made of (``Exchange(**carried(exchange))`` makes
    it again, the views of its body derived anew)."""
    return {name: getattr(exchange, name) for name in _EXCHANGE_FIELDS}


def checks_for(drawing: CaseDrawing | None, examples: int) -> Checks:
    """The drawing child's checks when it serves, this process's otherwise."""
    here = HereChecks(examples)
    if drawing is not None and drawing.serving:
        return ChildChecks(drawing, here)
    return here


def read_findings(line: bytes) -> Findings:
    """The findings an answer holds, or ValueError: a JSON list of ["finding", requirement, ok, message, unjudged]
    and ["seen", observation, value] entries, nothing else."""
    try:
        entries = jsontext.loads(line)
    except ValueError:
        raise ValueError("an answer that is not JSON") from None
    if not isinstance(entries, list):
        raise ValueError("an answer that is no list of findings")
    findings: Findings = []
    for entry in entries:
        match entry:
            case ["finding", str(requirement), bool(ok), str(message), bool(unjudged)] if len(message) <= _MAX_MESSAGE:
                findings.append(Finding(requirement, ok, message, unjudged=unjudged))
            case ["seen", str(observation), str(value)] if len(value) <= _MAX_MESSAGE:
                findings.append(Seen(observation, value))
            case _:
                raise ValueError("an answer holding something else than findings")
    return findings


def _entry(found: Finding | Seen) -> list[Any]:
    if isinstance(found, Seen):
        return ["seen", found.observation, found.value]
    if found.detail:
        raise ValueError("a schemathesis finding with details, which an answer cannot carry")
    return ["finding", found.requirement, found.ok, found.message, found.unjudged]


def answerer(judged_by: APIOperation[Any, Any, Any, Any]) -> Callable[[bytes], bytes]:
    """The child's side (st_child.py): for each question, the findings of schemathesis's checks as a line of JSON,
    judged with ``judged_by``. Questions come from the process that started the child, and only from it."""
    from conformance.engine.phases.st_checks import run_schemathesis_checks

    def answer(question: bytes) -> bytes:
        asked = pickle.loads(question)  # written by our parent, through the pipe it made
        case = case_of(judged_by, read_record(asked["record"]), asked["ids"])
        findings = run_schemathesis_checks(case, Exchange(**asked["exchange"]), negative=asked["negative"])
        return json.dumps([_entry(found) for found in findings]).encode()

    return answer
