"""Property-based phases: schemathesis generates requests from the OpenAPI document; our client sends them.

Schemathesis runs its examples, coverage and fuzzing phases in positive and negative modes. Each case's body goes
through the run's one client (guard, budget, rate limit, auth), then both schemathesis's built-in checks and our
own judge the answer. Generated headers are ignored: authentication belongs to the client, and the auth phase
tests missing or wrong credentials on purpose.

Schemathesis's checks may be judged by the drawing child (st_check_lane.py): their findings then come a few cases
later, and each case's findings, ours and schemathesis's, are recorded together and in the order drawn all the same.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from conformance.checks.batch import check_batch, observe_padded_over_limit
from conformance.checks.refusals import check_refused
from conformance.checks.responses import check_response
from conformance.contract import ENDPOINT, MAX_BATCH, load_spec
from conformance.engine.client import TargetClient, encode_json
from conformance.engine.determinism import without_local_constants
from conformance.engine.guard import GuardRefusal
from conformance.engine.parallel import in_order, send_drawn
from conformance.engine.phases.st_check_lane import Checks, Ticket, checks_for
from conformance.engine.phases.st_draw import (
    CaseDrawing,
    Drawn,
    draw_records,
    read_drawn,
    schemathesis_examples,
    with_ids,
)
from conformance.engine.stats import GeneratedStats
from conformance.judging.results import Exchange, Finding, Judgements, Seen


def minted_examples(spec: dict[str, Any], mint: Callable[[], str]) -> dict[str, str]:
    """Each task ID the documentation's request examples name, with the ID minted to send in its place: the
    examples and coverage phases never send an ID the run did not create (st_draw.case_of puts them in)."""
    body = spec["paths"][ENDPOINT]["post"]["requestBody"]["content"]["application/json"]
    documented = [task for example in body.get("examples", {}).values() for task in example["value"]["migration_tasks"]]
    return {task: mint() for task in dict.fromkeys(documented)}


def run_generated(
    client: TargetClient,
    ledger: Judgements,
    ids: Mapping[str, str],
    *,
    seed: int,
    max_examples: int,
    stats: GeneratedStats,
    workers: int = 1,
    progress: Callable[[str], None] = lambda _: None,
    drawing: CaseDrawing | None = None,
) -> None:
    """Draw the phases' cases (with the run's IDs in place of the documented ones: ``ids``, see minted_examples),
    send them (``workers`` at a time) and judge each answer in the order drawn; ``stats`` is filled as answers are
    judged, so it stays true when the run stops early.

    With ``drawing`` (st_draw.cases_ahead's, for the same seed and examples), a child process draws them, and they
    are sent as they come; without, they are drawn here (see send_drawn). Either way the same seed sends the same
    requests: the child and this process draw the same records, read back the same way."""
    examples = schemathesis_examples(max_examples)
    if drawing is not None and (drawing.seed, drawing.examples) != (seed, examples):
        raise ValueError("the child draws another sequence than this phase's")
    validator = jsonschema.Draft202012Validator(
        load_spec()["components"]["schemas"]["BatchRestartOnlineMigrationTasksBody"]
    )
    checks = checks_for(drawing, examples)

    def planned(drawn: Drawn) -> _Planned:
        body, requested, defect = _body_of(drawn, ids, validator)
        return _Planned(drawn, body, requested, defect, padded=defect is PADDED)

    def send(plan: _Planned) -> Exchange | None:
        json_body = _is_json(plan.drawn.media_type)
        label = (
            f"generated ({plan.drawn.phase}, {plan.drawn.mode})"
            if json_body
            else (f"generated ({plan.drawn.phase}, {plan.drawn.mode}, {plan.drawn.media_type})")
        )
        try:
            if json_body:
                return client.post(plan.body, label=label)
            return client.post(plan.body, content_type=plan.drawn.media_type, label=label)
        except GuardRefusal:
            # Generated garbage that happens to look like a task ID is never sent; the case is simply dropped.
            return None

    waiting: deque[tuple[_Planned, Exchange | None, Ticket | None]] = deque()

    def judge(plan: _Planned, exchange: Exchange | None) -> None:
        waiting.append((plan, exchange, _submit(checks, plan, ids, exchange)))
        while len(waiting) > checks.lag:
            _judge_planned(ledger, stats, *waiting.popleft(), progress)

    try:
        if drawing is not None:
            sent: Iterator[_Planned] = map(planned, drawing.items())
            for plan, exchange in in_order(send, sent, workers):
                judge(plan, exchange)
            return

        def draw(emit: Callable[[_Planned], None]) -> None:
            with without_local_constants():
                draw_records(seed, examples, lambda data: emit(planned(read_drawn(data))))

        send_drawn(draw, send, judge, workers, round_trip_ms=client.round_trip_ms)
    finally:
        # What was answered is judged, even when the run stops here (its budget spent, the target gone, SIGINT).
        while waiting:
            _judge_planned(ledger, stats, *waiting.popleft(), progress)


def _submit(checks: Checks, plan: _Planned, ids: Mapping[str, str], exchange: Exchange | None) -> Ticket | None:
    """Schemathesis's checks of an answer judge_generated runs them on (a judgeable answer of a JSON case), as a
    ticket for their findings; None for any other."""
    if exchange is None or not exchange.judgeable or not _is_json(plan.drawn.media_type):
        return None
    return checks.submit(plan.drawn, ids, exchange, negative=plan.defect is not None and not plan.padded)


def _judge_planned(
    ledger: Judgements,
    stats: GeneratedStats,
    plan: _Planned,
    exchange: Exchange | None,
    schemathesis_findings: Ticket | None,
    progress: Callable[[str], None],
) -> None:
    if exchange is None:
        stats.refused_by_guard += 1
        return
    stats.cases += 1
    stats.by_phase[plan.drawn.phase] = stats.by_phase.get(plan.drawn.phase, 0) + 1
    if stats.cases % 50 == 0:
        progress(f"generated: {stats.cases} cases sent")
    if _is_json(plan.drawn.media_type):
        found = schemathesis_findings() if schemathesis_findings is not None else []
        judge_generated(ledger, exchange, plan.requested, plan.defect, found, padded=plan.padded)
    else:
        # Another media type than the documented one: the contract says nothing of it, so only the rules
        # that hold for any response are judged.
        ledger.record(check_response(exchange), exchange)


@dataclass
class _Planned:
    """One generated case, drawn without looking at any answer (so the same seed plans the same cases for any
    number of workers), with what judging its answer needs."""

    drawn: Drawn
    body: bytes
    requested: list[str]
    defect: str | None
    #: More than 50 entries naming at most 50 distinct tasks: invalid for the OpenAPI document's maxItems, but the
    #: documentation says "at most 50 tasks", not how duplicates count (OBS-002).
    padded: bool = False


#: The defect _body_of gives a body whose only fault against the schema is a list padded over maxItems with
#: duplicates: no defect the documentation names.
PADDED = "more than 50 entries naming at most 50 distinct tasks"


def _body_of(
    drawn: Drawn, ids: Mapping[str, str], validator: jsonschema.Draft202012Validator
) -> tuple[bytes, list[str], str | None]:
    """The bytes to send (with the run's IDs in place of the documented ones), the task IDs they request, and what
    makes them invalid (None for a valid request)."""
    if not drawn.has_body:
        return b"", [], "empty body"
    body = with_ids(drawn.body, ids)
    if isinstance(body, bytes):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return body, [], "body is not JSON"
        encoded = body
    else:
        document = body
        encoded = encode_json(body)
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.path))
    if not errors:
        return encoded, document["migration_tasks"], None
    if all(error.validator == "maxItems" for error in errors) and len(set(document["migration_tasks"])) <= MAX_BATCH:
        return encoded, document["migration_tasks"], PADDED
    error = errors[0]
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
    return encoded, [], f"schema-invalid body ({where}: {error.message[:120]})"


def _is_json(media_type: str | None) -> bool:
    return media_type is None or media_type.split(";")[0].strip().lower() in ("application/json", "")


def judge_generated(
    ledger: Judgements,
    exchange: Exchange,
    requested: list[str],
    defect: str | None,
    schemathesis_findings: Sequence[Finding | Seen],
    *,
    padded: bool = False,
) -> None:
    """Our checks and schemathesis's (``schemathesis_findings``, judged with ``negative`` for an invalid request that
    is not padded: see _submit) on one generated case's answer. An invalid request must be refused; a padded one
    (see PADDED) may be accepted or refused, is only seen, and schemathesis's negative_data_rejection, which would
    call its acceptance a failure, is not run on it."""
    results: list[Finding | Seen] = [*check_response(exchange)]
    if padded:
        results += observe_padded_over_limit(exchange)
        results += check_batch(requested, exchange)
    elif defect is not None:
        results += check_refused(exchange, defect)
    else:
        ledger.valid_request_answered(exchange)
        if exchange.judgeable:
            results.append(Seen("OBS-011", f"status {exchange.status}"))
        results += check_batch(requested, exchange)
    if exchange.judgeable:
        results += schemathesis_findings
    ledger.record(results, exchange)
