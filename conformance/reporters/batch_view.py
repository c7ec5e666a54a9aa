"""The per-ID view of a batch answer on the report page: each requested ID against what came back for it.

The view lays out what was sent and answered; which IDs are missing, foreign or repeated is what check_coverage
concluded, and which task came back with the wrong outcome (and in what role) is what the outcome checks concluded,
both read from the finding's ``detail`` (never worked out again here); each requested ID's role (restartable,
non-restartable, unknown: minted by the run, other) is the one the run's plan gave it, read from the evidence's
``roles``; an item's result is judged by the same RESULTS the check uses.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from conformance.checks.batch import RESULTS
from conformance.report.model import Detail
from conformance.reporters.html_model import BatchRow, BatchView
from conformance.reporters.html_text import visible
from conformance.support.jsontext import dumps_readable, loads

#: Per-ID problems about which IDs came back, as opposed to what came back for them.
STRUCTURAL = ("missing", "foreign", "duplicated")
#: Task IDs can be 1 KiB long (an edge case the suite sends on purpose); the per-ID table shortens them.
ID_DISPLAY_CHARS = 96
#: An answered ID the request never named has no role in the plan: it is foreign to the batch.
FOREIGN_ROLE = "foreign"
#: A UUID (36 characters, quoted) breaks only at its hyphens; a longer ID may break anywhere rather than widen the page.
LONG_ID_CHARS = 40


def batch_view(
    request_body: Any, response_body: Any, detail: Detail | None = None, roles: object = None
) -> BatchView | None:
    """Each requested ID (in request order, with how often it was requested) against the items answered for it,
    with its role in the run (``roles``: the evidence's, read defensively) and the coverage problems ``detail``
    names.

    Only for a request body of the form {"migration_tasks": [strings]} answered by a body whose migration_tasks is
    a list (both read as the checks read them: jsontext, numbers of any length); anything else is not a batch
    answer to compare."""
    requested = _requested_ids(request_body)
    if requested is None or not isinstance(response_body, str):
        return None
    try:
        answer = loads(response_body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("migration_tasks"), list):
        return None

    wanted = Counter(requested)
    answered: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    malformed: list[str] = []
    for index, item in enumerate(answer["migration_tasks"]):
        if isinstance(item, dict) and isinstance(item.get("task_id"), str):
            answered.setdefault(item["task_id"], []).append((index, item))
        else:
            malformed.append(f"$.migration_tasks[{index}] is {dumps_readable(item, indent=None)[:120]}")

    found = detail or {}
    coverage = {
        "missing": set(found.get("missing", ())),
        "foreign": set(found.get("foreign", ())),
        "duplicated": set(found.get("repeated", ())),
    }
    known_roles = roles if isinstance(roles, dict) else {}
    rows: list[BatchRow] = []
    first_seen = {task: requested.index(task) + 1 for task in wanted}
    for task in [*wanted, *(task for task in answered if task not in wanted)]:
        flagged = [css for css, ids in coverage.items() if task in ids]
        outcome = None
        if task == found.get("task") and "expected" in found:
            # The finding's own task: its outcome is what the check found wrong, whatever the row looks like.
            named = found.get("role", "requested")
            outcome = f"came back {found.get('actual', '?')}; a {named} task must come back {found['expected']}"
        role = str(known_roles.get(task, "")) if task in wanted else FOREIGN_ROLE
        rows.append(
            _batch_row(task, first_seen.get(task), wanted[task], answered.get(task, []), flagged, outcome, role)
        )

    def tally(css: str) -> int:
        return sum(1 for row in rows if any(problem == css for problem, _ in row.problems))

    highlights = [
        f"{css}: {row.task_id}"
        + (f" (requested at #{row.order})" if row.order else f" (answered at [{row.positions[0]}])")
        for row in rows
        for css, _ in row.problems
        if css in STRUCTURAL
    ]

    return BatchView(
        rows=rows,
        requested=len(requested),
        distinct=len(wanted),
        items=len(answer["migration_tasks"]),
        missing=tally("missing"),
        foreign=tally("foreign"),
        duplicated=tally("duplicated"),
        unexpected=tally("unexpected") + tally("outcome"),
        malformed=malformed,
        highlights=highlights,
    )


def _requested_ids(body: Any) -> list[str] | None:
    if not isinstance(body, str):
        return None
    try:
        request = loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(request, dict):
        return None
    tasks = request.get("migration_tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(task, str) for task in tasks):
        return None
    return tasks


def _batch_row(
    task: str,
    order: int | None,
    requested: int,
    items: list[tuple[int, dict[str, Any]]],
    flagged: list[str],
    outcome: str | None = None,
    role: str = "",
) -> BatchRow:
    results = [
        dumps_readable(item.get("result"), indent=None) if not isinstance(item.get("result"), str) else item["result"]
        for _, item in items
    ]
    codes = [str(item["error_code"]) for _, item in items if item.get("error_code") is not None]
    words = {
        "foreign": "answered, never requested",
        "missing": "requested, not answered",
        "duplicated": f"answered {len(items)}× for {requested}× requested",
    }
    problems = [(css, words[css]) for css in STRUCTURAL if css in flagged]
    if any(item.get("result") not in RESULTS for _, item in items):
        problems.append(("unexpected", "result is not success or failed"))
    if outcome is not None:
        problems.append(("outcome", outcome))
    full = dumps_readable(task, indent=None)
    shown_id = full if len(full) <= ID_DISPLAY_CHARS else f"{full[:ID_DISPLAY_CHARS]}… ({len(task)} characters)"
    return BatchRow(
        task_id=visible(shown_id),
        full_id=visible(full),
        long_id=len(full) > LONG_ID_CHARS,
        role=visible(role),
        order=order,
        requested=requested,
        answered=len(items),
        results=[visible(result) for result in results],
        error_codes=[visible(code) for code in codes],
        positions=[index for index, _ in items],
        problems=problems,
    )
