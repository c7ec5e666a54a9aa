"""Named faults: deliberate deviations of the reference server, each breaking at least one MUST requirement.

They are the suite's proof of power: ``bench/killrate`` and the kill-matrix test run the suite against each one
and expect a non-conformant verdict naming the broken requirement. Some are blatant, some subtle (only large
batches, only some positions, only mixed outcomes, only a few per cent of the time), as real bugs are.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from conformance.contract import MAX_BATCH
from conformance.reference.behaviour import Batch, Crash, ErrorAnswer, Mod, parse_leniently, register
from conformance.reference.store import Outcome

FAULTS: dict[str, type[Mod]] = {}
#: The fewest fixtures (restartable, non-restartable) of a mixed batch: one of each.
MIXED = (1, 1)


def fault(cls: type[Mod]) -> type[Mod]:
    return register(FAULTS, "fault", cls, breaks=True)


def _mixed(outcomes: list[Outcome]) -> bool:
    return {outcome.result for outcome in outcomes} == {"success", "failed"}


def _items(document: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = document["migration_tasks"]
    return items


# -- items dropped, duplicated, invented, reordered wrongly -------------------------------------------------------


@fault
class DropLastItem(Mod):
    name = "drop-last-item"
    summary = "the last result item is missing from every answer with more than one item"
    breaks = ("BR-REQ-009",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return outcomes[:-1] if len(outcomes) > 1 else outcomes


@fault
class DropInLargeBatches(Mod):
    name = "drop-in-large-batches"
    summary = "batches of more than 20 tasks lose their 21st item (subtle: size)"
    breaks = ("BR-REQ-009",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return outcomes[:20] + outcomes[21:] if len(outcomes) > 20 else outcomes


@fault
class TruncateAt25(Mod):
    name = "truncate-at-25"
    summary = "only the first 25 tasks of a batch are processed and answered"
    breaks = ("BR-REQ-009", "BR-REQ-016")

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        return parse(body)[:25]


@fault
class DropSometimes(Mod):
    name = "drop-sometimes"
    summary = "5% of answers silently lose one item (subtle: intermittent)"
    breaks = ("BR-REQ-009",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if outcomes and batch.rng.random() < 0.05:
            index = batch.rng.randrange(len(outcomes))
            return outcomes[:index] + outcomes[index + 1 :]
        return outcomes


@fault
class DuplicateItem(Mod):
    name = "duplicate-item"
    summary = "the first item of every answer is repeated"
    breaks = ("BR-REQ-011",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return outcomes[:1] + outcomes if outcomes else outcomes


@fault
class InventItem(Mod):
    name = "invent-item"
    summary = "every answer carries an extra item for a task nobody asked about"
    breaks = ("BR-REQ-010",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        ghost = Outcome("00000000-0000-4000-8000-000000000000", "failed", "DCS.4800", "no such migration task")
        return [*outcomes, ghost]


@fault
class TaskIdUpperCase(Mod):
    name = "task-id-upper-case"
    summary = "task IDs are answered upper-cased, so they no longer match the request"
    breaks = ("BR-REQ-009", "BR-REQ-010")

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return [replace(outcome, task_id=outcome.task_id.upper()) for outcome in outcomes]


@fault
class TaskIdLowerCase(Mod):
    name = "task-id-lower-case"
    summary = "task IDs are answered lower-cased (subtle: only IDs sent with upper case, which minted UUIDs have not)"
    breaks = ("BR-REQ-009", "BR-REQ-010")

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return [replace(outcome, task_id=outcome.task_id.lower()) for outcome in outcomes]


@fault
class DuplicateAnsweredThrice(Mod):
    name = "duplicate-answered-thrice"
    summary = "an ID requested twice is answered three times (subtle: duplicates only)"
    breaks = ("BR-REQ-011",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        repeated = {task for task in batch.requested if batch.requested.count(task) > 1}
        extra = [outcome for outcome in outcomes for _ in range(2) if outcome.task_id in repeated]
        return outcomes + extra


# -- answers never completed ------------------------------------------------------------------------------------


@fault
class CutShortOver40(Mod):
    name = "cut-short-over-40"
    summary = "answers to batches of more than 40 tasks stop halfway and the connection closes (subtle: size)"
    breaks = ("BR-REQ-023",)

    def cut_short(self, batch: Batch) -> bool:
        return len(batch.requested) > 40


# -- wrong outcomes ----------------------------------------------------------------------------------------------


@fault
class SwapOutcomesInMixed(Mod):
    name = "swap-outcomes-in-mixed"
    summary = "in a mixed batch, the first success and the first failure swap their results (subtle: mixed only)"
    breaks = ("BR-REQ-014", "BR-REQ-015")
    min_fixtures = MIXED

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if not _mixed(outcomes):
            return outcomes
        ok = next(i for i, outcome in enumerate(outcomes) if outcome.result == "success")
        bad = next(i for i, outcome in enumerate(outcomes) if outcome.result == "failed")
        swapped = list(outcomes)
        swapped[ok] = Outcome(outcomes[ok].task_id, "failed", outcomes[bad].error_code, outcomes[bad].error_msg)
        swapped[bad] = Outcome(outcomes[bad].task_id, "success")
        return swapped


@fault
class AllOrNothingFailed(Mod):
    name = "all-or-nothing-failed"
    summary = "a batch with any failure is answered all 'failed', although some tasks were restarted"
    breaks = ("BR-REQ-014",)
    min_fixtures = MIXED

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if not _mixed(outcomes):
            return outcomes
        return [
            outcome if outcome.result == "failed" else Outcome(outcome.task_id, "failed", "DCS.4957", "batch failed")
            for outcome in outcomes
        ]


@fault
class RejectMixedBatch(Mod):
    name = "reject-mixed-batch"
    summary = "a batch that mixes successes and failures is answered 400 as a whole"
    breaks = ("BR-REQ-014",)
    min_fixtures = MIXED

    def status(self, batch: Batch, outcomes: list[Outcome], status: int) -> int:
        return 400 if _mixed(outcomes) else status


@fault
class FailAtIndex3(Mod):
    name = "fail-at-position-3"
    summary = "the task at index 3 (the 4th item) of a batch is reported failed whatever happened (subtle: position)"
    breaks = ("BR-REQ-014",)
    min_fixtures = MIXED

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if len(outcomes) <= 3:
            return outcomes
        changed = list(outcomes)
        changed[3] = Outcome(outcomes[3].task_id, "failed", "DCS.5000", "internal error")
        return changed


def _restarts_refused(outcomes: list[Outcome], keep: int, code: str, message: str) -> list[Outcome]:
    """Every success after the first ``keep`` reported failed with ``code``: what a per-call limit does."""
    changed, kept = [], 0
    for outcome in outcomes:
        if outcome.result == "success":
            kept += 1
            if kept > keep:
                outcome = Outcome(outcome.task_id, "failed", code, message)
        changed.append(outcome)
    return changed


@fault
class RestartQuotaPerCall(Mod):
    name = "restart-quota-2"
    summary = (
        "only the first 2 restarts of a call succeed; the restartable tasks after them are reported failed "
        "(subtle: 3 restartable tasks in one call)"
    )
    breaks = ("BR-REQ-014",)
    min_fixtures = (3, 1)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return _restarts_refused(outcomes, 2, "DCS.4957", "Too many restarts in one call.")


@fault
class FirstRestartableOnly(Mod):
    name = "first-restartable-only"
    summary = (
        "only the first restartable task of a call is restarted; the others are reported failed (subtle: 2 "
        "restartable tasks in one call)"
    )
    breaks = ("BR-REQ-014",)
    min_fixtures = (2, 1)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return _restarts_refused(outcomes, 1, "DCS.4957", "The operation is not allowed in the task's current state.")


@fault
class BigBatchTimeout(Mod):
    name = "big-batch-timeout"
    summary = (
        "a batch of more than 30 tasks that restarts something takes a slow path whose gateway gives up: 504 "
        "(subtle: a restartable task in a large batch)"
    )
    breaks = ("BR-REQ-014", "BR-REQ-016")
    min_fixtures = MIXED

    def status(self, batch: Batch, outcomes: list[Outcome], status: int) -> int:
        large = len(batch.requested) > 30
        return 504 if large and any(outcome.result == "success" for outcome in outcomes) else status


@fault
class UnknownIdPoisonsBatch(Mod):
    name = "unknown-id-poisons-batch"
    summary = (
        "an ID that names no task makes every item of its batch fail, restartable tasks included (subtle: a "
        "restartable task among unknown IDs)"
    )
    breaks = ("BR-REQ-014",)
    min_fixtures = MIXED

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if all(batch.store.get(outcome.task_id) is not None for outcome in outcomes):
            return outcomes
        message = "Invalid migration_tasks: the batch names a task that does not exist."
        return [Outcome(outcome.task_id, "failed", "DCS.4800", message) for outcome in outcomes]


@fault
class StopAfterFirstFailure(Mod):
    name = "stop-after-first-failure"
    summary = (
        "processing stops at the first failed item: every later item is reported failed, unprocessed (subtle: a "
        "restartable task after a failure)"
    )
    breaks = ("BR-REQ-014",)
    min_fixtures = MIXED

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        first = next((i for i, outcome in enumerate(outcomes) if outcome.result == "failed"), len(outcomes))
        aborted = [Outcome(o.task_id, "failed", "DCS.5000", "Batch aborted.") for o in outcomes[first + 1 :]]
        return [*outcomes[: first + 1], *aborted]


@fault
class ErrorBleed(Mod):
    name = "error-bleed"
    summary = (
        "a failed item's error_code and error_msg are not cleared: the next item is answered with them, and a "
        "success right after a failure comes back failed (subtle: a restartable task after a failure)"
    )
    breaks = ("BR-REQ-014",)
    min_fixtures = MIXED

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        bled = list(outcomes)
        for index in range(1, len(outcomes)):
            before = outcomes[index - 1]
            if before.result == "failed":
                bled[index] = Outcome(outcomes[index].task_id, "failed", before.error_code, before.error_msg)
        return bled


@fault
class UnknownReportedSuccess(Mod):
    name = "unknown-reported-success"
    summary = "task IDs that name no task are reported 'success'"
    breaks = ("BR-REQ-015",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return [
            Outcome(outcome.task_id, "success") if batch.store.get(outcome.task_id) is None else outcome
            for outcome in outcomes
        ]


@fault
class LastItemAlwaysSuccess(Mod):
    name = "last-item-always-success"
    summary = "the last item of a batch of 3 or more is reported 'success' whatever its state (subtle: position)"
    breaks = ("BR-REQ-015",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if len(outcomes) < 3:
            return outcomes
        return [*outcomes[:-1], Outcome(outcomes[-1].task_id, "success")]


@fault
class LoneNonRestartableFastPath(Mod):
    name = "lone-non-restartable-fast-path"
    summary = (
        "a batch of one known task takes a fast path that checks no state: it is reported 'success' whatever it is "
        "(subtle: one-task batches of a non-restartable task only)"
    )
    breaks = ("BR-REQ-015",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if len(outcomes) == 1 and batch.store.get(outcomes[0].task_id) is not None:
            return [Outcome(outcomes[0].task_id, "success")]
        return outcomes


@fault
class UnknownProjectSuccess(Mod):
    name = "unknown-project-success"
    summary = "a request for a project the server does not hold is answered 200, every task reported 'success'"
    breaks = ("BR-REQ-015",)

    def serves_project(self, project_id: str) -> bool:
        return True

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if not batch.foreign_project:
            return outcomes
        return [Outcome(outcome.task_id, "success") for outcome in outcomes]


@fault
class OrderDependentOutcome(Mod):
    name = "order-dependent-outcome"
    summary = "in batches of 5 or more, a failed first item hides the error of the second (subtle: order)"
    breaks = ("BR-REQ-017",)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        if len(outcomes) >= 5 and outcomes[0].result == "failed" and outcomes[1].result == "failed":
            return [outcomes[0], Outcome(outcomes[1].task_id, "success"), *outcomes[2:]]
        return outcomes


# -- wrong item content ------------------------------------------------------------------------------------------


class _ItemFault(Mod):
    """Rewrites each item of a 200 answer."""

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        return item

    def document(self, batch: Batch, document: dict[str, Any]) -> Any:
        document["migration_tasks"] = [self.item(dict(item)) for item in _items(document)]
        return document


@fault
class ResultCapitalised(_ItemFault):
    name = "result-capitalised"
    summary = "results are spelled SUCCESS and FAILED"
    breaks = ("BR-REQ-008",)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "result": item["result"].upper()}


@fault
class ResultOkError(_ItemFault):
    name = "result-ok-error"
    summary = "results are spelled 'ok' and 'error'"
    breaks = ("BR-REQ-008",)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "result": "ok" if item["result"] == "success" else "error"}


@fault
class ResultBoolean(_ItemFault):
    name = "result-boolean"
    summary = "results are JSON booleans"
    breaks = ("BR-REQ-007",)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "result": item["result"] == "success"}


@fault
class TaskIdMissing(_ItemFault):
    name = "task-id-missing"
    summary = "items carry 'id' instead of 'task_id'"
    breaks = ("BR-REQ-007",)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        item["id"] = item.pop("task_id")
        return item


@fault
class FailedWithoutErrorCode(_ItemFault):
    name = "failed-without-error-code"
    summary = "failed items carry error_msg but no error_code"
    breaks = ("BR-REQ-012",)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        item.pop("error_code", None)
        return item


@fault
class FailedEmptyErrorMsg(_ItemFault):
    name = "failed-empty-error-msg"
    summary = "failed items carry an empty error_msg"
    breaks = ("BR-REQ-012",)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "error_msg": ""} if item["result"] == "failed" else item


@fault
class FailedNullErrors(_ItemFault):
    name = "failed-null-errors"
    summary = "failed items carry error_code and error_msg as null"
    breaks = ("BR-REQ-012",)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "error_code": None, "error_msg": None} if item["result"] == "failed" else item


# -- wrong wrapper, status or content type -----------------------------------------------------------------------


@fault
class WrapperRenamed(Mod):
    name = "wrapper-renamed"
    summary = "the 200 body names its list 'tasks' instead of 'migration_tasks'"
    breaks = ("BR-REQ-007",)

    def document(self, batch: Batch, document: dict[str, Any]) -> Any:
        return {"tasks": document["migration_tasks"]}


@fault
class WrapperMissing(Mod):
    name = "wrapper-missing"
    summary = "the 200 body is the bare list of items"
    breaks = ("BR-REQ-007",)

    def document(self, batch: Batch, document: dict[str, Any]) -> Any:
        return document["migration_tasks"]


@fault
class Status207ForMixed(Mod):
    name = "status-207-for-mixed"
    summary = "mixed batches are answered 207 Multi-Status"
    breaks = ("BR-REQ-006",)
    min_fixtures = MIXED

    def status(self, batch: Batch, outcomes: list[Outcome], status: int) -> int:
        return 207 if _mixed(outcomes) else status


@fault
class Status201(Mod):
    name = "status-201"
    summary = "accepted batches are answered 201 Created"
    breaks = ("BR-REQ-006",)

    def status(self, batch: Batch, outcomes: list[Outcome], status: int) -> int:
        return 201 if status == 200 else status


@fault
class BomBefore200Body(Mod):
    name = "bom-before-200-body"
    summary = (
        "200 bodies start with a UTF-8 byte order mark, which a lenient parser skips and the official SDK's parser "
        "refuses"
    )
    breaks = ("BR-REQ-007",)

    def encoded(self, batch: Batch, content: bytes) -> bytes:
        return codecs.BOM_UTF8 + content


@fault
class ContentTypeText(Mod):
    name = "content-type-text"
    summary = "200 answers are declared text/plain"
    breaks = ("BR-REQ-005",)

    def content_type(self, status: int, content_type: str) -> str:
        return "text/plain" if status == 200 else content_type


@fault
class ErrorContentTypeHtml(Mod):
    name = "error-content-type-html"
    summary = "error answers are declared text/html (subtle: errors only)"
    breaks = ("BR-REQ-005",)

    def content_type(self, status: int, content_type: str) -> str:
        return "text/html" if status >= 400 else content_type


# -- wrong error bodies ------------------------------------------------------------------------------------------


@fault
class ErrorBodyOtherShape(Mod):
    name = "error-body-other-shape"
    summary = "error bodies use 'code' and 'message' instead of error_code and error_msg"
    breaks = ("BR-REQ-004",)

    def error(self, answer: ErrorAnswer, code: str, message: str) -> ErrorAnswer:
        return replace(answer, body=json.dumps({"code": code, "message": message}).encode())


@fault
class ErrorCodeNumber(Mod):
    name = "error-code-number"
    summary = "error_code is a JSON number"
    breaks = ("BR-REQ-004",)

    def error(self, answer: ErrorAnswer, code: str, message: str) -> ErrorAnswer:
        digits = int("".join(ch for ch in code if ch.isdigit()) or 0)
        return replace(answer, body=json.dumps({"error_code": digits, "error_msg": message}).encode())


@fault
class ErrorBodyPlainText(Mod):
    name = "error-body-plain-text"
    summary = "error bodies are plain text"
    breaks = ("BR-REQ-004",)

    def error(self, answer: ErrorAnswer, code: str, message: str) -> ErrorAnswer:
        return replace(answer, body=f"{code}: {message}".encode(), content_type="text/plain")


# -- invalid requests accepted, or crashing the server ---------------------------------------------------------


@fault
class AcceptMissingField(Mod):
    name = "accept-missing-field"
    summary = "a JSON object without migration_tasks is answered 200 with an empty list"
    breaks = ("BR-REQ-001",)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        document = parse_leniently(body)
        if isinstance(document, dict) and "migration_tasks" not in document:
            return []
        return parse(body)


@fault
class AcceptOver50(Mod):
    name = "accept-over-50"
    summary = "batches of more than 50 tasks are accepted"
    breaks = ("BR-REQ-001",)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        document = parse_leniently(body)
        tasks = document.get("migration_tasks") if isinstance(document, dict) else None
        if isinstance(tasks, list) and len(tasks) > MAX_BATCH and all(isinstance(task, str) for task in tasks):
            return tasks
        return parse(body)


@fault
class AcceptNonStringItems(Mod):
    name = "accept-non-string-items"
    summary = "non-string task IDs are turned into strings and processed"
    breaks = ("BR-REQ-001",)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        document = parse_leniently(body)
        tasks = document.get("migration_tasks") if isinstance(document, dict) else None
        if isinstance(tasks, list) and 0 < len(tasks) <= MAX_BATCH and not all(isinstance(task, str) for task in tasks):
            return [task if isinstance(task, str) else json.dumps(task) for task in tasks]
        return parse(body)


@fault
class JsonPlusJunk(Mod):
    name = "json-plus-junk"
    summary = (
        "a JSON document followed by other bytes is read up to the end of the document, as a streaming decoder does"
    )
    breaks = ("BR-REQ-001",)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        try:
            text = body.decode("utf-8").lstrip()
            _, end = json.JSONDecoder().raw_decode(text)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return parse(body)
        return parse(text[:end].encode("utf-8"))


@fault
class NullItemsDropped(Mod):
    name = "null-items-dropped"
    summary = "null task IDs are dropped before the rest is processed: [id, null] is read as [id] (subtle: mixed only)"
    breaks = ("BR-REQ-001",)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        document = parse_leniently(body)
        tasks = document.get("migration_tasks") if isinstance(document, dict) else None
        if isinstance(tasks, list) and None in tasks:
            kept = {**document, "migration_tasks": [task for task in tasks if task is not None]}
            return parse(json.dumps(kept).encode())
        return parse(body)


@fault
class Crash500OnMalformedJson(Mod):
    name = "500-on-malformed-json"
    summary = "a body that is not JSON crashes the handler (500)"
    breaks = ("BR-REQ-003", "BR-REQ-001")

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        if body.strip() and parse_leniently(body) is None and body.strip() != b"null":
            raise Crash("JSON decode error")
        return parse(body)


@fault
class Crash500OnLongIds(Mod):
    name = "500-on-long-ids"
    summary = "task IDs longer than 512 characters crash the database lookup (500)"
    breaks = ("BR-REQ-003",)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        tasks = parse(body)
        if any(len(task) > 512 for task in tasks):
            raise Crash("value too long for column")
        return tasks


@fault
class Crash500OnNonAscii(Mod):
    name = "500-on-non-ascii"
    summary = "task IDs with non-ASCII characters crash the handler (500)"
    breaks = ("BR-REQ-003",)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        tasks = parse(body)
        if any(not task.isascii() for task in tasks):
            raise Crash("codec error")
        return tasks


@fault
class Crash500OnDuplicates(Mod):
    name = "500-on-duplicates"
    summary = "a batch naming a task twice crashes the handler (500)"
    breaks = ("BR-REQ-003",)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        tasks = parse(body)
        if len(set(tasks)) != len(tasks):
            raise Crash("duplicate key")
        return tasks


# -- authentication ----------------------------------------------------------------------------------------------


@fault
class AuthNotEnforced(Mod):
    name = "auth-not-enforced"
    summary = "requests are served without any credential check"
    breaks = ("BR-REQ-018", "BR-REQ-019")

    def bypass_auth(self, headers: Mapping[str, str]) -> bool:
        return True


@fault
class CredentialsNotVerified(Mod):
    name = "credentials-not-verified"
    summary = "any request carrying a token or a signature is trusted, right or wrong"
    breaks = ("BR-REQ-019",)

    def bypass_auth(self, headers: Mapping[str, str]) -> bool:
        return "x-auth-token" in headers or "authorization" in headers


@fault
class PrefixToken(Mod):
    name = "prefix-token"
    summary = (
        "only the first 16 characters of a token are compared, so near misses of the real one pass (subtle: "
        "token auth, which an embedded run then uses)"
    )
    breaks = ("BR-REQ-019",)
    token_auth = True

    def token_matches(self, given: str, expected: str, matches: bool) -> bool:
        return given[:16] == expected[:16]


@fault
class PermissionNotEnforced(Mod):
    name = "permission-not-enforced"
    summary = "credentials without dcs:migrationTask:modify may restart tasks"
    breaks = ("BR-REQ-020",)

    def tolerate(self, status: int) -> bool:
        return status == 403


@fault
class WrongCredentials403(Mod):
    name = "wrong-credentials-403"
    summary = "a wrong signature is answered 403 instead of 401"
    breaks = ("BR-REQ-019",)

    def error(self, answer: ErrorAnswer, code: str, message: str) -> ErrorAnswer:
        return replace(answer, status=403) if answer.status == 401 and code == "DCS.1001" else answer


@fault
class Unauthorized401WithoutBody(Mod):
    name = "401-without-body"
    summary = "401 answers have an empty body"
    breaks = ("BR-REQ-018", "BR-REQ-019")

    def error(self, answer: ErrorAnswer, code: str, message: str) -> ErrorAnswer:
        return replace(answer, body=b"") if answer.status == 401 else answer
