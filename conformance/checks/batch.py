"""Batch semantics, the heart of the suite: one 200 answer carries a result for every requested task.

Order is never required; duplicates may be answered once or once per occurrence; success items should carry no
error. Fixture-aware checks compare each item with what the fixtures promise; metamorphic checks compare two
answers about tasks whose state cannot change between calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence, Set
from typing import Any, Literal, cast

from conformance.checks.responses import json_text_problem
from conformance.checks.rules import Rule, covers
from conformance.contract import MAX_BATCH
from conformance.judging.results import NOT_JSON, TOO_DEEP, Detail, Exchange, Finding, Seen

RESULTS = ("success", "failed")
#: The most task IDs a finding's detail lists per kind (missing, foreign, repeated); ``left_out`` counts the rest.
#: More than a body the evidence keeps whole can name (MAX_BODY_CHARS: a few hundred items), so the per-ID view
#: flags every row it shows; a target answering 50,000 foreign items is not copied 50,000 times into evidence.
MAX_DETAIL_IDS = 1000
DOCUMENTED_ITEM_FIELDS = frozenset({"result", "task_id", "error_code", "error_msg"})

SHAPE = Rule("BR-REQ-007")
RESULT_VALUES = Rule("BR-REQ-008")
NONE_MISSING = Rule("BR-REQ-009")
NONE_FOREIGN = Rule("BR-REQ-010")
NONE_REPEATED = Rule("BR-REQ-011")
FAILED_EXPLAINED = Rule("BR-REQ-012")
SUCCESS_WITHOUT_ERROR = Rule("BR-REQ-013")
RESTARTABLE_SUCCEEDS = Rule("BR-REQ-014")
NOT_RESTARTABLE_FAILS = Rule("BR-REQ-015")
FULL_BATCH = Rule("BR-REQ-016")
SAME_OUTCOMES = Rule("BR-REQ-017")


def result_items(ex: Exchange) -> list[dict[str, Any]] | None:
    """The well-formed items of a 200 answer (objects with string task_id and result), or None if the body is not
    even the documented wrapper."""
    indexed = ex.derived(_indexed_items)
    return None if indexed is None else [item for _, item in indexed]


def _indexed_items(ex: Exchange) -> tuple[tuple[int, dict[str, Any]], ...] | None:
    """result_items with each item's index in $.migration_tasks; every check of an answer reads them, so they are
    picked out once per exchange (``Exchange.derived``)."""
    body = ex.response_json
    if not isinstance(body, dict) or not isinstance(body.get("migration_tasks"), list):
        return None
    # One comprehension, no call per item: an answer may carry tens of thousands of them.
    return tuple(
        [
            (index, item)
            for index, item in enumerate(body["migration_tasks"])
            if isinstance(item, dict) and isinstance(item.get("task_id"), str) and isinstance(item.get("result"), str)
        ]
    )


def _where(index: int) -> str:
    """An item's place, for messages: written only when a message is, since most items hold every rule."""
    return f"$.migration_tasks[{index}]"


@covers(SHAPE)
def check_shape(ex: Exchange) -> list[Finding | Seen]:
    body = ex.response_json
    if body is TOO_DEEP:
        return [SHAPE.unjudged(f"the 200 body is {ex.body_problem}")]
    if body is NOT_JSON:
        return [SHAPE.violated(f"the 200 body is not JSON ({ex.body_problem})")]
    text_problem = json_text_problem(ex.response_body)
    if text_problem is not None:
        return [SHAPE.violated(f"the 200 body parses only leniently: {text_problem}")]
    if not isinstance(body, dict):
        return [SHAPE.violated(f"the 200 body is a JSON {type(body).__name__}, not an object")]
    if "migration_tasks" not in body:
        keys = ", ".join(sorted(body)) or "none"
        return [SHAPE.violated(f"the 200 body has no 'migration_tasks' (keys: {keys})")]
    tasks = body["migration_tasks"]
    if not isinstance(tasks, list):
        return [SHAPE.violated(f"$.migration_tasks is {type(tasks).__name__}, not an array")]
    results: list[Finding | Seen] = [Seen("OBS-008", f"$.{key}") for key in body if key != "migration_tasks"]
    for index, item in enumerate(tasks):
        # The test _shape_problem makes, inline: an answer may carry tens of thousands of items.
        if not (
            isinstance(item, dict) and isinstance(item.get("task_id"), str) and isinstance(item.get("result"), str)
        ) and (problem := _shape_problem(index, item)):
            return [*results, SHAPE.violated(problem)]
        if not DOCUMENTED_ITEM_FIELDS.issuperset(item):
            results.extend(
                Seen("OBS-008", f"$.migration_tasks[].{key}") for key in item if key not in DOCUMENTED_ITEM_FIELDS
            )
    return [*results, SHAPE.held()]


def _shape_problem(index: int, item: object) -> str | None:
    """How one item breaks the documented shape (the first thing wrong with it), or None."""
    if not isinstance(item, dict):
        return f"{_where(index)} is {type(item).__name__}, not an object"
    for key in ("task_id", "result"):
        if key not in item:
            return f"{_where(index)} has no {key!r}"
        if not isinstance(item[key], str):
            return f"{_where(index)}.{key} is {type(item[key]).__name__} {item[key]!r}, not a string"
    return None


@covers(RESULT_VALUES, FAILED_EXPLAINED, SUCCESS_WITHOUT_ERROR)
def check_items(ex: Exchange) -> list[Finding]:
    """Each item's result is success or failed; failed items explain themselves; success items carry no error."""
    indexed = ex.derived(_indexed_items)
    if indexed is None:
        return _unjudged(ex, RESULT_VALUES, FAILED_EXPLAINED, SUCCESS_WITHOUT_ERROR)
    findings: list[Finding] = []
    valued, clean = RESULT_VALUES.held(), SUCCESS_WITHOUT_ERROR.held()
    for index, item in indexed:
        result = item["result"]
        if result == "success" and item.get("error_code") is None and item.get("error_msg") is None:
            findings += (valued, clean)  # the common case, without a call: an answer may carry thousands of items
        elif result not in RESULTS:
            findings.append(RESULT_VALUES.violated(f"{_where(index)}.result is {result!r}, not 'success' or 'failed'"))
        else:
            findings.append(valued)
            findings.append(
                _failed_explained(index, item) if result == "failed" else _success_without_error(index, item)
            )
    return findings


def _failed_explained(index: int, item: dict[str, Any]) -> Finding:
    """BR-REQ-012 on one failed item: it says why, in a non-empty error_code and error_msg."""
    for key in ("error_code", "error_msg"):
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            shown = "missing" if key not in item else f"{value!r}"
            return FAILED_EXPLAINED.violated(
                f"{_where(index)} is 'failed' (task {item['task_id']!r}) but {key} is {shown}, not a non-empty string"
            )
    return FAILED_EXPLAINED.held()


def _success_without_error(index: int, item: dict[str, Any]) -> Finding:
    """BR-REQ-013 on one success item: it carries no error_code or error_msg (null counts as none)."""
    extra = [key for key in ("error_code", "error_msg") if item.get(key) is not None]
    if not extra:
        return SUCCESS_WITHOUT_ERROR.held()
    return SUCCESS_WITHOUT_ERROR.violated(f"{_where(index)} is 'success' but carries {' and '.join(extra)}")


@covers(NONE_MISSING, NONE_FOREIGN, NONE_REPEATED)
def check_coverage(requested: Sequence[str], ex: Exchange) -> list[Finding | Seen]:
    """Answered IDs against requested IDs, as multisets: nothing dropped, nothing invented, nothing repeated."""
    items = result_items(ex)
    if items is None:
        return [*_unjudged(ex, NONE_MISSING, NONE_FOREIGN, NONE_REPEATED)]
    wanted = Counter(requested)
    answered = Counter([item["task_id"] for item in items])
    missing = [task for task in wanted if task not in answered]
    foreign = [task for task in answered if task not in wanted]
    repeated = [task for task, n in answered.items() if task in wanted and n not in {1, wanted[task]}]
    findings: list[Finding | Seen] = [
        NONE_MISSING.judged(
            not missing,
            _listing("requested but not answered", missing, len(wanted)),
            **_listed("missing", missing),
        ),
        NONE_FOREIGN.judged(
            not foreign,
            _listing("answered but never requested", foreign, len(wanted)),
            **_listed("foreign", foreign),
        ),
        NONE_REPEATED.judged(
            not repeated,
            _repeats(repeated, answered, wanted),
            **_listed("repeated", repeated),
        ),
    ]
    duplicated = [task for task, n in wanted.items() if n > 1 and task in answered]
    if duplicated:
        per_occurrence = all(answered[task] == wanted[task] for task in duplicated)
        once = all(answered[task] == 1 for task in duplicated)
        value = "answered once per occurrence" if per_occurrence else "answered once per ID" if once else "mixed"
        findings.append(Seen("OBS-002", value))
    if not missing and not foreign and len(items) == len(requested) and len(requested) > 1:
        in_order = [item["task_id"] for item in items] == list(requested)
        findings.append(Seen("OBS-001", "request order kept" if in_order else "answered in another order"))
    return findings


def observe_padded_over_limit(ex: Exchange) -> list[Seen]:
    """OBS-002 for a batch of more than 50 entries naming at most 50 distinct tasks: the documentation says "at
    most 50 tasks", not how duplicates count, so accepting it and refusing it are both only seen."""
    if not ex.judgeable:
        return []
    answered = "accepted (200)" if ex.status == 200 else f"refused with status {ex.status}"
    return [Seen("OBS-002", f"more than {MAX_BATCH} entries naming at most {MAX_BATCH} tasks: {answered}")]


def _unjudged(ex: Exchange, *rules: Rule) -> list[Finding]:
    """For an answer whose body is nested deeper than the suite parses: the rules it cannot be judged on, and why."""
    if ex.response_json is not TOO_DEEP:
        return []
    return [rule.unjudged(f"the 200 body is {ex.body_problem}") for rule in rules]


def _listed(kind: Literal["missing", "foreign", "repeated"], ids: list[str]) -> Detail:
    """The detail listing ``ids`` as ``kind``: the first MAX_DETAIL_IDS, and in ``left_out`` how many more."""
    detail = cast(Detail, {kind: ids[:MAX_DETAIL_IDS]})
    if len(ids) > MAX_DETAIL_IDS:
        detail["left_out"] = {kind: len(ids) - MAX_DETAIL_IDS}
    return detail


def _listing(what: str, ids: list[str], total: int) -> str:
    if not ids:
        return ""
    shown = ", ".join(repr(task) for task in ids[:5]) + (" ..." if len(ids) > 5 else "")
    kept = f" (the evidence lists the first {MAX_DETAIL_IDS})" if len(ids) > MAX_DETAIL_IDS else ""
    return f"{len(ids)} task ID(s) {what} (of {total} distinct requested): {shown}{kept}"


def _repeats(repeated: list[str], answered: Counter[str], wanted: Counter[str]) -> str:
    if not repeated:
        return ""
    task = repeated[0]
    return f"task {task!r} requested {wanted[task]} time(s) but answered {answered[task]} times" + (
        f" (and {len(repeated) - 1} more)" if len(repeated) > 1 else ""
    )


def check_answer(ex: Exchange) -> list[Finding | Seen]:
    """What any 200 answer must be, whatever was requested (an invalid request wrongly accepted included): the
    documented shape, and each item's result and error fields."""
    if ex.status != 200 or not ex.complete:
        return []
    return [*check_shape(ex), *check_items(ex)]


def check_batch(requested: Sequence[str], ex: Exchange) -> list[Finding | Seen]:
    """The per-item oracle for any 200 answer to a batch of string IDs."""
    if ex.status != 200 or not ex.complete:
        return []
    return [*check_answer(ex), *check_coverage(requested, ex)]


def outcomes_by_id(ex: Exchange) -> dict[str, set[str]]:
    """The results each task ID received in one answer (a set, since duplicates may be answered per occurrence)."""
    return {task: set(got) for task, got in ex.derived(_outcomes).items()}


def _outcomes(ex: Exchange) -> Mapping[str, Set[str]]:
    """outcomes_by_id, computed once per exchange for the checks, which only read it. The sets are frozen and
    shared: an answer of 50,000 items has a handful of distinct outcomes, not 50,000."""
    outcomes: dict[str, frozenset[str]] = {}
    single: dict[str, frozenset[str]] = {}
    shared: dict[frozenset[str], frozenset[str]] = {}
    for _, item in ex.derived(_indexed_items) or ():
        task, result = item["task_id"], item["result"]
        got = outcomes.get(task)
        if got is None:
            outcomes[task] = single.get(result) or single.setdefault(result, frozenset((result,)))
        elif result not in got:
            more = got | {result}
            outcomes[task] = shared.setdefault(more, more)
    return outcomes


@covers(RESTARTABLE_SUCCEEDS, NOT_RESTARTABLE_FAILS)
def check_fixture_outcomes(
    ex: Exchange, restartable: Collection[str], not_restartable: Collection[str], unknown: Collection[str]
) -> list[Finding]:
    """In a batch whose tasks the fixtures describe, each item must come back as promised. Only a batch holding a
    restartable task exercises BR-REQ-014 as a whole; without one, a refusal is judged elsewhere."""
    if not ex.complete:
        message = f"a mixed batch got no complete answer: {ex.failure}"
        return [RESTARTABLE_SUCCEEDS.violated(message)] if restartable else []
    if ex.status == 200 and ex.response_json is TOO_DEEP:
        return (
            [RESTARTABLE_SUCCEEDS.unjudged(f"the answer to a mixed batch is {ex.body_problem}")] if restartable else []
        )
    if ex.status != 200 or ex.derived(_indexed_items) is None:
        message = f"a mixed batch was answered {ex.status}, not 200 with per-item results"
        return [RESTARTABLE_SUCCEEDS.violated(message)] if restartable else []
    outcomes = ex.derived(_outcomes)
    findings = [_restarted(task, got) for task in restartable if (got := outcomes.get(task)) is not None]
    findings += _never_success(outcomes, not_restartable, "non-restartable task {!r}", "non-restartable")
    findings += _never_success(outcomes, unknown, "unknown task {!r}", "unknown")
    return findings


def _restarted(task: str, got: Set[str]) -> Finding:
    """BR-REQ-014 on one restartable task the answer holds: it must come back success, and only success."""
    if got == {"success"}:
        return RESTARTABLE_SUCCEEDS.held()
    message = f"restartable task {task!r} came back {sorted(got)} in a mixed batch, not success"
    return RESTARTABLE_SUCCEEDS.violated(message, **_outcome("success", got, task, "restartable"))


def _never_success(
    outcomes: Mapping[str, Set[str]], tasks: Collection[str], described: str, role: str
) -> list[Finding]:
    """BR-REQ-015 on each of ``tasks`` the answer holds: none of them may come back success. The message is
    written only for a violation: a batch of 50 minted IDs holds the rule 50 times."""
    return [
        NOT_RESTARTABLE_FAILS.violated(
            f"{described.format(task)} was reported success", **_outcome("failed", got, task, role)
        )
        if "success" in got
        else NOT_RESTARTABLE_FAILS.held()
        for task in tasks
        if (got := outcomes.get(task)) is not None
    ]


@covers(NOT_RESTARTABLE_FAILS)
def check_unknown_outcomes(ex: Exchange, unknown: Collection[str]) -> list[Finding]:
    """IDs the run minted name no task: a target that answers them per item must never report one restarted."""
    if ex.status != 200 or not ex.complete or ex.derived(_indexed_items) is None:
        return []
    return _never_success(ex.derived(_outcomes), unknown, "unknown task {!r} (an ID that names no task)", "unknown")


@covers(FULL_BATCH)
def check_full_batch(requested: Sequence[str], ex: Exchange) -> list[Finding]:
    """The documented maximum must be usable: 50 IDs answered per item get 200 and a result for each."""
    if not ex.complete:
        return [FULL_BATCH.violated(f"a batch of {len(requested)} tasks got no complete answer: {ex.failure}")]
    if ex.status != 200:
        return [FULL_BATCH.violated(f"a batch of {len(requested)} tasks was answered {ex.status}")]
    if ex.response_json is TOO_DEEP:
        return [FULL_BATCH.unjudged(f"the answer to a batch of {len(requested)} tasks is {ex.body_problem}")]
    answered = ex.derived(_outcomes)
    missing = [task for task in dict.fromkeys(requested) if task not in answered]
    message = f"a batch of {len(requested)} tasks got results for only {len(answered)} of them"
    return [FULL_BATCH.judged(not missing, message, missing=missing)]


@covers(SAME_OUTCOMES)
def check_same_outcomes(first: Exchange, second: Exchange, task_ids: Collection[str], relation: str) -> list[Finding]:
    """Two answers about the same stable tasks must agree: same status, and the same result for each task."""
    if not (first.judgeable and second.judgeable):
        return []
    if first.status != second.status:
        message = f"{relation}: answered {second.status}, but the original batch was answered {first.status}"
        return [SAME_OUTCOMES.violated(message, expected=str(first.status), actual=str(second.status))]
    if first.status != 200:
        return [SAME_OUTCOMES.held()]
    if TOO_DEEP in (first.response_json, second.response_json):
        deep = first if first.response_json is TOO_DEEP else second
        return [SAME_OUTCOMES.unjudged(f"{relation}: an answer is {deep.body_problem}")]
    before, after = first.derived(_outcomes), second.derived(_outcomes)
    changed = [task for task in task_ids if task in before and task in after and before[task] != after[task]]
    if changed:
        task = changed[0]
        message = f"{relation}: task {task!r} changed from {sorted(before[task])} to {sorted(after[task])}"
        return [SAME_OUTCOMES.violated(message, expected=_shown(before[task]), actual=_shown(after[task]))]
    return [SAME_OUTCOMES.held()]


def _outcome(expected: str, got: Set[str], task: str, role: str) -> Detail:
    """The detail of a per-item outcome: which task, in what role, what the fixtures promised and what came back."""
    return {"expected": expected, "actual": _shown(got), "task": task, "role": role}


def _shown(outcomes: Set[str]) -> str:
    """One outcome as itself, several (a duplicate answered per occurrence) joined: "failed/success"."""
    return "/".join(sorted(outcomes))
