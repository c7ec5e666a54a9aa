"""The scenario trace: a compact record of what the target answered to every hand-written scenario, so that two
runs (two implementations, two deployments of staging, two fixtures files) can be compared exchange by exchange.

Each scenario exchange is kept under its stable label ("invalid: body is not JSON", "mixed batch: 2+2+1"; a label
sent twice gets an occurrence number) with its status, its error code, and for 200 answers what happened to each
*role* of task rather than to each ID: task IDs differ between runs (minted at random, or from another fixtures
file), so only roles compare, and no task ID ever enters the trace. Generated cases vary with the seed by nature;
they are summarised by phase and mode (statuses and error codes seen, with counts).

The trace watches the ledger (``Ledger.watch``), which sees every exchange of a run, so no send site has to know
about it. It reads only exchanges, which the client has already redacted, and keeps no body and no header.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from typing import Any

from conformance.contract.task_ids import TASK_ID_SHAPE, task_key
from conformance.judging.results import Exchange
from conformance.support.jsontext import dumps_strict, loads

#: Bumped when the meaning of a trace entry changes: traces of different formats are not compared.
TRACE_FORMAT = 1

RESTARTABLE = "restartable"
NOT_RESTARTABLE = "non-restartable"
UNKNOWN = "unknown"  # an ID the run minted: it names no task
OTHER = "other"  # any other string: the edge IDs ("", 1 KiB, non-ASCII...), generated strings
FOREIGN = "foreign"  # an answered ID that the request never named
ROLES = (RESTARTABLE, NOT_RESTARTABLE, UNKNOWN, OTHER, FOREIGN)

#: Which non-restartable fixtures a batch draws is random, and they fail for different reasons (v1 task, wrong
#: state, backup import), so the error codes one batch gets for them depend on the seed. Their codes are kept for
#: the whole run (``roles``), not per exchange, so that two runs of one implementation always agree exchange by
#: exchange.
RUN_LEVEL_CODES_ONLY = frozenset({NOT_RESTARTABLE})

GENERATED_PREFIX = "generated ("
AIMED_PREFIX = "aimed: "
#: Error codes and result values come from the target: bounded, and anything shaped like a task ID is masked.
MAX_TEXT = 80
MASKED_ID = "<task-id>"

RoleOf = Callable[[str], str]


def role_function(
    restartable: Collection[str], not_restartable: Collection[str], is_minted: Callable[[str], bool]
) -> RoleOf:
    """The role of a task ID in this run, from the fixtures and the ID guard's minted set; a fixture is recognised
    however it is spelled (case, a UUID's hyphens), as the guard and the fixtures file compare IDs (task_key)."""
    fixtures = {task_key(task): RESTARTABLE for task in restartable}
    fixtures.update({task_key(task): NOT_RESTARTABLE for task in not_restartable})

    def role_of(task_id: str) -> str:
        role = fixtures.get(task_key(task_id))
        if role is not None:
            return role
        return UNKNOWN if is_minted(task_id) else OTHER

    return role_of


def mask_ids(text: str, limit: int | None = MAX_TEXT) -> str:
    """Text as the trace may keep it: every task ID masked, and (for what the target wrote) cut to ``limit``."""
    text = TASK_ID_SHAPE.sub(MASKED_ID, text)
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


class Trace:
    """Collects the trace of one run; ``see`` is the ledger watcher, ``to_dict`` the part of report.json."""

    def __init__(self, role_of: RoleOf) -> None:
        self._role_of = role_of
        self._occurrences: Counter[str] = Counter()
        self._scenarios: list[dict[str, Any]] = []
        self._generated: dict[str, dict[str, Any]] = {}
        self._role_items: dict[str, Counter[str]] = {}
        self._role_codes: dict[str, Counter[str]] = {}

    def see(self, exchange: Exchange) -> None:
        """Take one exchange into the trace (the ledger shows each exchange once)."""
        label = mask_ids(exchange.label or "unlabelled", limit=None)  # our own words: kept whole, keys stay unique
        if label.startswith(AIMED_PREFIX):
            # Aimed batches are drawn by hypothesis: their sizes change with the seed, so they are summarised.
            self._see_generated(f"{GENERATED_PREFIX}aimed)", exchange)
        elif label.startswith(GENERATED_PREFIX):
            self._see_generated(label, exchange)
        else:
            self._scenarios.append(self._entry(label, exchange))

    def to_dict(self) -> dict[str, Any]:
        """The trace as report.json keeps it: scenario entries in the order sent, per-role codes for the whole
        run, generated summaries."""
        return {
            "format": TRACE_FORMAT,
            "scenarios": self._scenarios,
            "roles": {
                role: {
                    "items": dict(self._role_items[role]),
                    "error_codes": dict(self._role_codes.get(role, Counter()).most_common()),
                }
                for role in ROLES
                if role in self._role_items
            },
            "generated": list(self._generated.values()),
        }

    # -- scenarios -----------------------------------------------------------------------------------------------

    def _entry(self, label: str, exchange: Exchange) -> dict[str, Any]:
        # Set by the client: a request the target throttled says nothing about its behaviour. It is keyed apart and
        # takes no occurrence number, so that the answer to a request sent again still meets its counterpart.
        throttled = bool(getattr(exchange, "throttled", False))
        counter = f"{label} (throttled)" if throttled else label
        self._occurrences[counter] += 1
        occurrence = self._occurrences[counter]
        entry: dict[str, Any] = {
            "key": counter if occurrence == 1 else f"{counter} (#{occurrence})",
            "label": label,
            "occurrence": occurrence,
            "status": exchange.status,
            "error_code": error_code(exchange),
        }
        if throttled:
            entry["throttled"] = True
        # Set by the client: a request that got no complete answer (timeout, connection cut).
        if getattr(exchange, "failure", None):
            entry["failure"] = "no complete answer"
        if exchange.status == 200:
            entry.update(self._items(exchange))
        return entry

    def _items(self, exchange: Exchange) -> dict[str, Any]:
        """What a 200 answer said about each role: results counted, error codes listed."""
        body = exchange.response_json
        if not isinstance(body, dict) or not isinstance(body.get("migration_tasks"), list):
            return {"items": None}
        requested = _requested(exchange.request_body)
        # Counted by (role, text) first, then folded per role: an answer may carry tens of thousands of items, with
        # a few roles, results and codes, each masked once.
        results: Counter[tuple[str, str]] = Counter()
        item_codes: Counter[tuple[str, str]] = Counter()
        masked: dict[str, str] = {}
        malformed = 0
        for item in body["migration_tasks"]:
            if not (isinstance(item, dict) and isinstance(item.get("task_id"), str)):
                malformed += 1
                continue
            task = item["task_id"]
            role = FOREIGN if requested is not None and task not in requested else self._role_of(task)
            said = item.get("result")
            results[role, _masked(said, masked) if isinstance(said, str) else "(no result)"] += 1
            if item.get("error_code") is not None:
                item_codes[role, _text(item["error_code"], masked)] += 1
        items: dict[str, Counter[str]] = {}
        for (role, result), count in results.items():
            items.setdefault(role, Counter())[result] += count
            self._role_items.setdefault(role, Counter())[result] += count
        codes: dict[str, set[str]] = {}
        for (role, code), count in item_codes.items():
            self._role_codes.setdefault(role, Counter())[code] += count
            if role not in RUN_LEVEL_CODES_ONLY:
                codes.setdefault(role, set()).add(code)
        entry: dict[str, Any] = {
            "items": {role: dict(sorted(items[role].items())) for role in ROLES if role in items},
            "item_codes": {role: sorted(codes[role]) for role in ROLES if role in codes},
        }
        if malformed:
            entry["malformed_items"] = malformed
        return entry

    # -- generated cases -----------------------------------------------------------------------------------------

    def _see_generated(self, label: str, exchange: Exchange) -> None:
        summary = self._generated.get(label)
        if summary is None:
            parts = [part.strip() for part in label[len(GENERATED_PREFIX) :].removesuffix(")").split(",", 2)]
            summary = self._generated[label] = {
                "label": label,
                "phase": parts[0],
                "mode": parts[1] if len(parts) > 1 else None,
                "media_type": parts[2] if len(parts) > 2 else None,
                "count": 0,
                "statuses": {},
                "error_codes": {},
            }
        summary["count"] += 1
        _bump(summary["statuses"], str(exchange.status))
        code = error_code(exchange)
        if code is not None:
            _bump(summary["error_codes"], code)
        if getattr(exchange, "failure", None):
            summary["failures"] = summary.get("failures", 0) + 1
        if getattr(exchange, "throttled", False):
            summary["throttled"] = summary.get("throttled", 0) + 1


def error_code(exchange: Exchange) -> str | None:
    """The error code of a refusal (the body's top-level error_code), as the trace keeps it."""
    if exchange.status < 300:
        return None
    body = exchange.response_json
    if not isinstance(body, dict) or body.get("error_code") is None:
        return None
    return _text(body["error_code"])


def _text(value: Any, masked: dict[str, str] | None = None) -> str:
    """Any JSON value as text, whatever the target put there (a 100,000-digit number included)."""
    return _masked(value if isinstance(value, str) else dumps_strict(value, indent=None), masked)


def _masked(text: str, masked: dict[str, str] | None) -> str:
    """mask_ids(text), looked up in ``masked`` (the texts one answer already masked) when given."""
    if masked is None:
        return mask_ids(text)
    if text not in masked:
        masked[text] = mask_ids(text)
    return masked[text]


def _requested(body: bytes | None) -> set[str] | None:
    """The IDs a batch request named, or None when the body is not a batch of strings (items then keep their
    own role: nothing can be called foreign)."""
    try:
        document = loads(body or b"")
    except (ValueError, RecursionError):
        return None
    tasks = document.get("migration_tasks") if isinstance(document, dict) else None
    if not isinstance(tasks, list):
        return None
    return {task for task in tasks if isinstance(task, str)}


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1
