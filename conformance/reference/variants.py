"""Legitimate variants: choices the documentation leaves open. A correct suite must certify every one of them;
failing one would cost a vendor a certificate it deserved."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from conformance.contract import MAX_BATCH
from conformance.reference.auth import Denied
from conformance.reference.behaviour import Batch, ErrorAnswer, Mod, parse_leniently, register
from conformance.reference.store import Outcome

VARIANTS: dict[str, type[Mod]] = {}


def variant(cls: type[Mod]) -> type[Mod]:
    return register(VARIANTS, "variant", cls, breaks=False)


@variant
class ReversedOrder(Mod):
    name = "reversed-order"
    summary = "items are answered in the reverse of the request order"

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return list(reversed(outcomes))


@variant
class SortedOrder(Mod):
    name = "sorted-order"
    summary = "items are answered sorted by task ID"

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return sorted(outcomes, key=lambda outcome: outcome.task_id)


@variant
class ShuffledOrder(Mod):
    name = "shuffled-order"
    summary = "items are answered in a random order"

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        shuffled = list(outcomes)
        batch.rng.shuffle(shuffled)
        return shuffled


@variant
class SuccessFirst(Mod):
    name = "success-first"
    summary = "successes are answered before failures, as in the documentation's example"

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return sorted(outcomes, key=lambda outcome: outcome.result != "success")


@variant
class AdditiveFields(Mod):
    name = "additive-fields"
    summary = "the body and each item carry undocumented extra fields"

    def document(self, batch: Batch, document: dict[str, Any]) -> Any:
        items = [{**item, "instance_id": "inst-1", "task_name": "t"} for item in document["migration_tasks"]]
        return {**document, "migration_tasks": items, "count": len(items), "request_id": "r-1"}


@variant
class CharsetContentType(Mod):
    name = "charset-content-type"
    summary = "Content-Type carries a charset parameter: application/json;charset=UTF-8"

    def content_type(self, status: int, content_type: str) -> str:
        return "application/json;charset=UTF-8" if content_type == "application/json" else content_type


DEFAULT_LATENCY_MS = 20


class Latency(Mod):
    """A remote target's round trip; `serve --latency-ms N` sets it, the `latency` variant uses the default."""

    name = "latency"
    summary = f"every answer is delayed by {DEFAULT_LATENCY_MS} ms (serve --latency-ms N for another delay)"

    def __init__(self, milliseconds: float = DEFAULT_LATENCY_MS) -> None:
        self.seconds = milliseconds / 1000

    def delay(self) -> float:
        return self.seconds


variant(Latency)


@variant
class PerOccurrenceDuplicates(Mod):
    name = "per-occurrence-duplicates"
    summary = "an ID requested several times is answered once per occurrence (later ones fail: already restarting)"

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        first = {outcome.task_id: outcome for outcome in outcomes}
        answered: list[Outcome] = []
        seen: set[str] = set()
        for task in batch.requested:
            if task in seen:
                answered.append(Outcome(task, "failed", "DCS.4957", "The task is already being restarted."))
            else:
                answered.append(first[task])
                seen.add(task)
        return answered


@variant
class DuplicatesRejected(Mod):
    name = "duplicates-rejected"
    summary = "a batch naming a task twice is refused with 400"

    def admit(self, batch: Batch) -> None:
        if len(set(batch.requested)) != len(batch.requested):
            raise Denied(400, "DCS.4800", "Invalid migration_tasks in the request: duplicate task IDs.")


@variant
class EmptyListAccepted(Mod):
    name = "empty-list-accepted"
    summary = "an empty task list is answered 200 with an empty list"

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        document = parse_leniently(body)
        if isinstance(document, dict) and document.get("migration_tasks") == []:
            return []
        return parse(body)


@variant
class RefuseOver50With413(Mod):
    name = "refuse-over-50-with-413"
    summary = (
        "more than 50 task IDs are refused with 413 Payload Too Large instead of 400 (a SHOULD the suite warns on)"
    )
    warns = ("BR-REQ-002", "BR-REQ-022")

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        document = parse_leniently(body)
        tasks = document.get("migration_tasks") if isinstance(document, dict) else None
        if isinstance(tasks, list) and len(tasks) > MAX_BATCH:
            raise Denied(
                413, "DCS.4800", f"Invalid migration_tasks in the request: at most {MAX_BATCH} tasks per call."
            )
        return parse(body)


@variant
class DistinctLimit(Mod):
    name = "distinct-limit"
    summary = "the limit of 50 counts distinct tasks: 51 entries naming 50 tasks are processed, each task once"

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        document = parse_leniently(body)
        tasks = document.get("migration_tasks") if isinstance(document, dict) else None
        if (
            isinstance(tasks, list)
            and len(tasks) > MAX_BATCH
            and all(isinstance(task, str) for task in tasks)
            and len(set(tasks)) <= MAX_BATCH
        ):
            return tasks
        return parse(body)


@variant
class UnknownIdsRejected(Mod):
    name = "unknown-ids-rejected"
    summary = "a batch naming an unknown task is refused as a whole with 404"

    def admit(self, batch: Batch) -> None:
        if any(batch.store.get(task) is None for task in batch.requested):
            raise Denied(404, "DCS.4001", "The migration task does not exist.")


@variant
class DottedErrorCodes(Mod):
    name = "dotted-error-codes"
    summary = "errors use the dcs.NN.NNNN code format and omit error_ext_msg"

    def error(self, answer: ErrorAnswer, code: str, message: str) -> ErrorAnswer:
        digits = "".join(ch for ch in code if ch.isdigit()).rjust(4, "0")
        body = {"error_code": f"dcs.{digits[:2]}.{digits[2:].zfill(4)}", "error_msg": message}
        return replace(answer, body=json.dumps(body).encode())


@variant
class SuccessNullErrors(Mod):
    name = "success-null-errors"
    summary = "success items carry error_code and error_msg as null"

    def document(self, batch: Batch, document: dict[str, Any]) -> Any:
        items = [
            {**item, "error_code": None, "error_msg": None} if item["result"] == "success" else item
            for item in document["migration_tasks"]
        ]
        return {**document, "migration_tasks": items}


@variant
class IdleClose1s(Mod):
    name = "idle-close-1s"
    summary = "idle keep-alive connections are closed after 1 s, without a word (no Keep-Alive header)"
    idle_close_s = 1.0


@variant
class IdleClose1sAnnounced(Mod):
    name = "idle-close-1s-announced"
    summary = "idle keep-alive connections are closed after 1 s, as every answer announces (Keep-Alive: timeout=1)"
    idle_close_s = 1.0
    announces_idle_close = True


@variant
class IdleClose5ms(Mod):
    name = "idle-close-5ms"
    summary = "idle keep-alive connections are closed after 5 ms, without a word (a server may close one any time)"
    idle_close_s = 0.005
