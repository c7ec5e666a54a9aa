"""Hand-written scenarios: the requests the property-based phases cannot aim well on their own.

Each scenario decides what to send, sends it through the run's client and records what the checks conclude. What
the run does not provide (fixtures, credentials) is said once, up front: the catalogue's ``needs`` decide which
requirements that skips and why, and the scenarios that need it send nothing.
"""

from __future__ import annotations

import codecs
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from conformance.checks.auth import check_forbidden, check_unauthenticated, check_wrong_credentials
from conformance.checks.batch import (
    check_answer,
    check_batch,
    check_fixture_outcomes,
    check_full_batch,
    check_same_outcomes,
    observe_padded_over_limit,
)
from conformance.checks.refusals import check_refused
from conformance.checks.responses import check_response
from conformance.config import fixtures_file
from conformance.contract import MAX_BATCH, Catalogue
from conformance.engine.client import Auth, TargetClient, encode_json
from conformance.engine.fixture_plan import (
    LARGE_MOST,
    LARGE_PLACES,
    MIXED_PLACES,
    Allotment,
    Spent,
    allot,
    place,
    spent_in,
)
from conformance.engine.guard import NOT_RESTARTABLE, UNKNOWN
from conformance.engine.parallel import in_order
from conformance.engine.stats import ScenarioStats
from conformance.judging.results import Exchange, Finding, Ledger, Seen

# Mixed batches with fixtures, (restartable, non-restartable, unknown) in growing sizes up to 30 tasks (the batch of
# the documented maximum, 50, is full_batch's). The restartable tasks each gets are the fixture plan's
# (engine/fixture_plan.py): the batch of 50 is served first; a batch whose share is smaller keeps its size with
# other tasks.
MIXED_BATCHES: tuple[tuple[int, int, int], ...] = ((1, 1, 0), (1, 1, 1), (2, 2, 1), (4, 4, 2), (8, 6, 6), (12, 12, 6))
# Batch sizes judged with or without fixtures, around the places where implementations break (the batch of 50 is
# judged by full_batch).
BATCH_SIZES: tuple[int, ...] = (1, 2, 20, 21, 25, 49)
FIXTURES = "fixtures"
CREDENTIALS = "credentials"
READONLY_CREDENTIALS = "readonly-credentials"


@dataclass
class Fixtures:
    restartable: list[str]
    not_restartable: list[str]

    @classmethod
    def load(cls, document: object) -> Fixtures:
        """Validate the fixtures file's shape: {"restartable": [ids], "not_restartable": [ids]}."""
        restartable, not_restartable = fixtures_file.validate(document)
        return cls(restartable, not_restartable)


class ConfiguredCredentials(Protocol):
    """What the scenarios ask of the run's credentials: whether each kind was given."""

    @property
    def configured(self) -> bool: ...

    @property
    def readonly_configured(self) -> bool: ...


def unmet_needs(catalogue: Catalogue, fixtures: Fixtures | None, credentials: ConfiguredCredentials) -> dict[str, str]:
    """What this run does not provide, each with the reason its requirements are skipped: the catalogue's, or a
    narrower one when a fixtures file lacks a task of one kind (a mixed batch needs both)."""
    unmet: dict[str, str] = {}
    if not fixtures:
        unmet[FIXTURES] = catalogue.needs[FIXTURES]
    elif not fixtures.restartable:
        unmet[FIXTURES] = "needs at least 1 restartable fixture"
    elif not fixtures.not_restartable:
        unmet[FIXTURES] = "needs at least 1 non-restartable fixture"
    if not credentials.configured:
        unmet[CREDENTIALS] = catalogue.needs[CREDENTIALS]
    if not credentials.readonly_configured:
        unmet[READONLY_CREDENTIALS] = catalogue.needs[READONLY_CREDENTIALS]
    return unmet


class Scenarios:
    def __init__(
        self,
        client: TargetClient,
        ledger: Ledger,
        rng: random.Random,
        fixtures: Fixtures | None,
        progress: Callable[[str], None] = lambda _: None,
        workers: int = 1,
        spent: list[Spent] | None = None,
        stats: ScenarioStats | None = None,
    ) -> None:
        self.client = client
        self.stats = stats or ScenarioStats()
        self.workers = workers
        self.ledger = ledger
        self.rng = rng
        self.fixtures = fixtures
        self.progress = progress
        self.unknown_per_item: bool | None = None
        self._restartable_pool = list(fixtures.restartable) if fixtures else []
        rng.shuffle(self._restartable_pool)
        self._allotment: Allotment | None = None
        #: Where each restartable task went (the report's fixture plan), in the order sent.
        self.spent: list[Spent] = spent if spent is not None else []
        self.unmet: Mapping[str, str] = unmet_needs(ledger.catalogue, fixtures, client.credentials)

    def run_all(self) -> None:
        self.ledger.skip_unmet(self.unmet)
        # The order of the requests is the order in which a bug shows: the first answer to a well-formed batch, and
        # the batch of 50 (where the fixture plan puts the restartable tasks that reveal most), come first, so a
        # target's wrong answers are found by its first requests; the invalid requests and the rest follow.
        scenarios = (
            self.unknown_ids,
            self.full_batch,
            self.refusals,
            self.edge_ids,
            self.duplicates,
            self.empty_list,
            self.byte_order_mark,
            self.unknown_project,
            self.metamorphic,
            self.lone_task,
            self.fixture_batches,
            self.batch_sizes,
            self.authentication,
        )
        self.stats.total = len(scenarios)
        for scenario in scenarios:
            self.stats.current = scenario.__name__.replace("_", " ")
            self.progress(f"scenario: {self.stats.current}")
            scenario()
            self.stats.done += 1

    # -- helpers -------------------------------------------------------------------------------------------------

    def send_batch(self, task_ids: list[str], label: str, **kwargs: Any) -> Exchange:
        return self.send_batches([(task_ids, label, kwargs)])[0]

    def send_each(self, requests: list[tuple[bytes | None, str, dict[str, Any]]]) -> list[Exchange]:
        """Independent requests, ``workers`` at a time; each answer is judged by the rules for any response, in the
        order planned, so the evidence does not depend on how many were in flight."""
        exchanges = []
        for _, exchange in in_order(self._post, requests, self.workers):
            self.ledger.record(check_response(exchange), exchange)
            exchanges.append(exchange)
        return exchanges

    def send_batches(self, batches: list[tuple[list[str], str, dict[str, Any]]]) -> list[Exchange]:
        """Independent batches, sent like send_each; each 200 answer also goes through the batch oracle, whatever
        the scenario, the project or the credentials of the request."""
        requests = [(encode_json({"migration_tasks": ids}), label, kwargs) for ids, label, kwargs in batches]
        exchanges = []
        for (ids, _, kwargs), (_, exchange) in zip(batches, in_order(self._post, requests, self.workers), strict=True):
            self.ledger.record(check_response(exchange), exchange)
            self.ledger.record(self.oracle(ids, exchange), exchange)
            if not kwargs:
                self.ledger.valid_request_answered(exchange)
            exchanges.append(exchange)
        return exchanges

    def oracle(self, ids: Sequence[str], exchange: Exchange) -> list[Finding | Seen]:
        """The batch oracle for one answer to ``ids``: every ID answered once as it was sent, nothing foreign, and no
        ID that can name only a task of this run's minting or a non-restartable fixture reported restarted (whether
        known or unknown to the target, under this project or another, it cannot have been). Restartable fixtures
        are judged by the scenarios that send them, which know what a mixed batch promises."""
        return [*check_batch(ids, exchange), *self.never_restarted(ids, exchange)]

    def never_restarted(self, ids: Sequence[str], exchange: Exchange) -> list[Finding]:
        """BR-REQ-015 on each of ``ids`` that the ID guard knows cannot name a task that restarts."""
        roles = {task: self.client.guard.stable_role(task) for task in dict.fromkeys(ids)}
        unknown = [task for task, role in roles.items() if role == UNKNOWN]
        not_restartable = [task for task, role in roles.items() if role == NOT_RESTARTABLE]
        return check_fixture_outcomes(exchange, [], not_restartable, unknown)

    def _post(self, request: tuple[bytes | None, str, dict[str, Any]]) -> Exchange:
        body, label, kwargs = request
        return self.client.post(body, label=label, **kwargs)

    def record(self, results: Sequence[Finding | Seen], exchange: Exchange) -> None:
        self.ledger.record(results, exchange)

    def take_restartable(self, count: int) -> list[str]:
        """Restartable fixtures are promised to restart once: each is handed out at most once per run."""
        taken, self._restartable_pool = self._restartable_pool[:count], self._restartable_pool[count:]
        return taken

    def minted(self, count: int) -> list[str]:
        return [self.client.guard.mint() for _ in range(count)]

    # -- scenarios -----------------------------------------------------------------------------------------------

    def refusals(self) -> None:
        """Each kind of invalid request the documentation rules out, sent once."""
        ids = self.minted(MAX_BATCH + 1)
        more = self.minted(49)
        # Bodies that are not JSON alternate with JSON ones: a target that never answers one kind (some mock
        # servers hang on a body they cannot parse) must not look as if it had stopped answering altogether.
        invalid: list[tuple[str, bytes]] = [
            ("empty body", b""),
            ("migration_tasks is missing", encode_json({})),
            ("body is not JSON", b'{"migration_tasks": ["' + ids[0].encode() + b'"'),
            ("migration_tasks is misspelled", encode_json({"migration_task": [ids[0]]})),
            ("body is plain text", b"restart everything"),
            ("migration_tasks is a string", encode_json({"migration_tasks": ids[0]})),
            ("body is not UTF-8", b'{"migration_tasks": ["\xff\xfe"]}'),
            ("body is a JSON array", encode_json([ids[0]])),
            ("body is JSON null", b"null"),
            ("migration_tasks is null", encode_json({"migration_tasks": None})),
            ("migration_tasks is an object", encode_json({"migration_tasks": {"id": ids[0]}})),
            ("migration_tasks has a number", encode_json({"migration_tasks": [ids[0], 42]})),
            ("migration_tasks has null", encode_json({"migration_tasks": [None]})),
            ("migration_tasks has an object", encode_json({"migration_tasks": [{"task_id": ids[0]}]})),
            ("migration_tasks has a nested array", encode_json({"migration_tasks": [[ids[0]]]})),
            # Among valid IDs: a target that drops what is not a string ([id, null] read as [id]) refuses a lone
            # null only because the list it is left with is empty.
            ("migration_tasks has null among valid IDs", encode_json({"migration_tasks": [ids[0], None, ids[1]]})),
            # What a streaming decoder accepts: one JSON document, and bytes after it that are not JSON.
            ("body is JSON followed by other bytes", encode_json({"migration_tasks": [ids[0]]}) + b" xyz"),
            (
                "migration_tasks has an object among valid IDs",
                encode_json({"migration_tasks": [ids[0], {"task_id": ids[1]}, ids[2]]}),
            ),
            (
                "migration_tasks has a nested array among valid IDs",
                encode_json({"migration_tasks": [ids[0], [ids[1]], ids[2]]}),
            ),
            (f"{MAX_BATCH + 1} task IDs", encode_json({"migration_tasks": ids})),
            (f"{MAX_BATCH + 50} task IDs", encode_json({"migration_tasks": ids + more})),
        ]
        exchanges = self.send_each([(body, f"invalid: {what}", {}) for what, body in invalid])
        for (what, _), exchange in zip(invalid, exchanges, strict=True):
            self.record(check_refused(exchange, what), exchange)
            # Wrongly accepted, the answer is still an answer: its shape, and no minted ID reported restarted.
            self.record([*check_answer(exchange), *check_fixture_outcomes(exchange, [], [], ids + more)], exchange)

    def edge_ids(self) -> None:
        """Unusual IDs are not invalid requests: any answer but a 5xx is allowed, and a 200 must be a full answer."""
        base, other = self.minted(2)
        cases = {
            "empty string": "",
            "1 KiB long": (("x" + base) * (1024 // (len(base) + 1) + 1))[:1024],
            "non-ASCII": "迁移任务-é-" + base,
            "control characters": "\u0000\u0007\t\n" + base,
            "whitespace only": "   ",
            "surrounding whitespace": f"  {base}  ",
            "emoji": "🚀" + base,
            "path characters": "../" + base + "?x=1#",
            "quotes and backslashes": '"\\' + base,
            "lone surrogate escape": "\ud800" + base,
            # Another minted ID: a server that folds case and trims would read "  base  " and BASE as one task.
            # Answered, it must come back as sent (BR-REQ-009/010): a target that lower-cases IDs is caught here.
            "upper case": other.upper(),
        }
        mixed = list(cases.values()) + self.minted(3)
        batches: list[tuple[list[str], str, dict[str, Any]]] = [
            ([task_id], f"edge ID: {what}", {}) for what, task_id in cases.items()
        ]
        exchanges = self.send_batches([*batches, (mixed, "edge IDs mixed with minted IDs", {})])
        for what, exchange in zip(cases, exchanges, strict=False):
            if what == "1 KiB long":
                self.record([Seen("OBS-006", f"status {exchange.status}")], exchange)
            elif what == "non-ASCII":
                self.record([Seen("OBS-005", f"non-UUID IDs: status {exchange.status}")], exchange)

    def unknown_ids(self) -> None:
        self._probe_unknown_ids("unknown task IDs")

    def _probe_unknown_ids(self, label: str) -> None:
        """Learn whether the target answers unknown IDs per item, which decides what batches can be filled with."""
        minted = self.minted(3)
        exchange = self.send_batch(minted, label)
        if not exchange.judgeable:
            return
        self.unknown_per_item = exchange.status == 200
        value = "answered per item" if self.unknown_per_item else f"whole request answered {exchange.status}"
        self.record([Seen("OBS-004", value)], exchange)

    def duplicates(self) -> None:
        first, second = self.minted(2)
        exchange = self.send_batch([first, second, first, first], "duplicate task IDs")
        if exchange.status != 200:
            self.record([Seen("OBS-002", f"refused with status {exchange.status}")], exchange)
        # "At most 50 tasks": whether 51 entries naming 50 distinct tasks are too many is not documented. Accepted or
        # refused, it is only seen; accepted, the answer is judged like any other.
        distinct = self.minted(MAX_BATCH)
        padded = [*distinct, distinct[self.rng.randrange(MAX_BATCH)]]
        label = f"duplicate task IDs: {len(padded)} entries naming {MAX_BATCH} tasks"
        [exchange] = self.send_each([(encode_json({"migration_tasks": padded}), label, {})])
        self.record([*self.oracle(padded, exchange), *observe_padded_over_limit(exchange)], exchange)

    def empty_list(self) -> None:
        exchange = self.send_batch([], "empty task list")
        value = "accepted (200)" if exchange.status == 200 else f"refused with status {exchange.status}"
        self.record([Seen("OBS-003", value)], exchange)

    def byte_order_mark(self) -> None:
        """A well-formed body after a UTF-8 byte order mark: RFC 8259 lets a parser ignore the mark or refuse the
        text and the documentation says nothing, so either answer is only seen; accepted, it is judged whole."""
        ids = self.minted(2)
        body = codecs.BOM_UTF8 + encode_json({"migration_tasks": ids})
        [exchange] = self.send_each([(body, "byte order mark before the body", {})])
        self.record(self.oracle(ids, exchange), exchange)
        if exchange.judgeable:
            value = "accepted (200)" if exchange.status == 200 else f"refused with status {exchange.status}"
            self.record([Seen("OBS-015", value)], exchange)

    def unknown_project(self) -> None:
        project = "conformance-no-such-project-" + self.minted(1)[0].replace("-", "")
        exchange = self.send_batch(self.minted(1), "unknown project", project_id=project)
        self.record([Seen("OBS-009", f"status {exchange.status}")], exchange)

    def metamorphic(self) -> None:
        """Tasks whose state cannot change must get the same answer in any order and in any company."""
        stable_known = list(self.fixtures.not_restartable[:8]) if self.fixtures else []
        unknown = self.minted(8)
        batch = stable_known + unknown
        self.rng.shuffle(batch)
        original = self.send_batch(batch, "metamorphic: original batch")
        shuffled = batch[:]
        self.rng.shuffle(shuffled)
        middle_known, middle_unknown = len(stable_known) // 2, len(unknown) // 2
        relations = [
            ("reversed batch", list(reversed(batch)), batch),
            ("shuffled batch", shuffled, batch),
            ("half 1 of the batch", stable_known[:middle_known] + unknown[:middle_unknown], None),
            ("half 2 of the batch", stable_known[middle_known:] + unknown[middle_unknown:], None),
        ]
        exchanges = self.send_batches([(ids, f"metamorphic: {relation}", {}) for relation, ids, _ in relations])
        for (relation, ids, compared), exchange in zip(relations, exchanges, strict=True):
            self.record(check_same_outcomes(original, exchange, compared or ids, relation), exchange)

    def lone_task(self) -> None:
        """A non-restartable task alone: a batch of one must not take a path that skips the checks a larger batch
        makes. Then the same task in other spellings, each alone: whether the target reads them as that task is
        only seen (OBS-014); either way it cannot restart, and a 200 must name the ID as it was sent."""
        if self.fixtures is None or not self.fixtures.not_restartable:
            return
        task = self.rng.choice(self.fixtures.not_restartable)
        other_case = task.upper() if task.upper() != task else task.lower()
        spellings = [("in another case", other_case), ("with surrounding whitespace", f"  {task}  ")]
        spellings = [(how, spelled) for how, spelled in spellings if spelled != task]
        batches: list[tuple[list[str], str, dict[str, Any]]] = [([task], "a non-restartable task alone", {})]
        batches += [([spelled], f"a non-restartable task alone, {how}", {}) for how, spelled in spellings]
        exact, *others = self.send_batches(batches)
        for (how, spelled), exchange in zip(spellings, others, strict=True):
            if exchange.judgeable:
                self.record([Seen("OBS-014", f"{how}: {_spelling_answer(exact, task, exchange, spelled)}")], exchange)

    def allotment(self) -> Allotment:
        """The fixture plan's share of the restartable tasks, decided once: whether a batch of 50 can be built
        depends on how the target answered unknown IDs, which the scenarios before the mixed batches learnt."""
        if self._allotment is None:
            known = len(self.fixtures.not_restartable) if self.fixtures else 0
            restartable = len(self._restartable_pool)
            full = bool(self.unknown_per_item) or known + min(restartable, LARGE_MOST) >= MAX_BATCH
            self._allotment = allot(restartable, [wanted for wanted, _, _ in MIXED_BATCHES], full_batch=full)
        return self._allotment

    def fixture_batches(self) -> None:
        """Mixed batches in growing sizes and shuffled orders, each with the restartable tasks the fixture plan
        gives it (each restartable fixture is used once), the first of them at the plan's place."""
        if FIXTURES in self.unmet or self.fixtures is None:
            return
        shares = self.allotment().mixed
        largest = len(MIXED_BATCHES) - 1
        for index, (wanted, share) in enumerate(zip(MIXED_BATCHES, shares, strict=True)):
            chosen_r = self.take_restartable(share)
            size, unknown = sum(wanted), wanted[2]
            pool_n = self.fixtures.not_restartable
            chosen_n = self.rng.sample(pool_n, min(size - len(chosen_r) - unknown, len(pool_n)))
            chosen_u = self.minted(size - len(chosen_r) - len(chosen_n)) if self.unknown_per_item else []
            large = index == largest and not self.allotment().large
            places = LARGE_PLACES if large else MIXED_PLACES[index : index + 1]
            batch = place(chosen_r, chosen_n + chosen_u, places, self.rng)
            label = f"mixed batch: {len(chosen_r)}+{len(chosen_n)}+{len(chosen_u)}"
            self.spent += spent_in("mixed batches", label, batch, chosen_r)
            exchange = self.send_batch(batch, label)
            # The oracle judged the non-restartable and unknown tasks; what the batch promises of the others:
            self.record(check_fixture_outcomes(exchange, chosen_r, [], []), exchange)

    def batch_sizes(self) -> None:
        """Batches across the documented range, judged item by item: with minted IDs when the target answers
        unknown IDs per item (so no fixture is needed), else with the non-restartable fixtures there are."""
        known = list(self.fixtures.not_restartable) if self.fixtures else []
        planned: list[tuple[list[str], list[str], list[str]]] = []
        for size in BATCH_SIZES:
            if self.unknown_per_item:
                chosen_n = self.rng.sample(known, min(len(known), size // 2))
                chosen_u = self.minted(size - len(chosen_n))
            elif len(known) >= size:
                chosen_n, chosen_u = self.rng.sample(known, size), []
            else:
                break
            batch = chosen_n + chosen_u
            self.rng.shuffle(batch)
            planned.append((batch, chosen_n, chosen_u))
        batches: list[tuple[list[str], str, dict[str, Any]]] = [
            (batch, f"batch of {len(batch)} tasks: {len(n)}+{len(u)}", {}) for batch, n, u in planned
        ]
        # The batch oracle judges every task of these batches (none is restartable).
        self.send_batches(batches)

    def full_batch(self) -> None:
        """The documented maximum of 50: known tasks, filled up with minted IDs when the target answers unknown IDs
        per item; the fixture plan's restartable tasks at its places (the middle, last, second), so even one
        restartable task meets a large batch, among failures. Sent before the mixed batches, it leaves them their
        shares. Whether the target answers unknown IDs per item decides how it is filled: asked again here if the
        first question got no answer."""
        if self.unknown_per_item is None:
            self._probe_unknown_ids("unknown task IDs (asked again)")
        known_n = list(self.fixtures.not_restartable) if self.fixtures else []
        fixtures = FIXTURES not in self.unmet
        share = self.allotment().large if fixtures else 0
        if not self.unknown_per_item:
            share = max(share, MAX_BATCH - len(known_n)) if share else 0
        share = min(share, len(self._restartable_pool) - (sum(self.allotment().mixed) if fixtures else 0))
        available = share + min(len(known_n), MAX_BATCH - share)
        if not self.unknown_per_item and available < MAX_BATCH:
            # Not a catalogue need: whether this batch needs fixtures depends on how the target answered.
            self.ledger.skip(
                "BR-REQ-016",
                f"the target did not answer unknown task IDs per item, so the batch of {MAX_BATCH} needs "
                f"{MAX_BATCH} known tasks; {available} were left (each restartable fixture is used once)",
                needs=(FIXTURES,),
            )
            return
        chosen_r = self.take_restartable(share)
        chosen_n = self.rng.sample(known_n, min(len(known_n), MAX_BATCH - len(chosen_r)))
        chosen_u = self.minted(MAX_BATCH - len(chosen_r) - len(chosen_n))
        batch = place(chosen_r, chosen_n + chosen_u, LARGE_PLACES, self.rng)
        label = f"batch of {MAX_BATCH} tasks: {len(chosen_r)}+{len(chosen_n)}+{len(chosen_u)}"
        self.spent += spent_in("batch of 50", label, batch, chosen_r)
        exchange = self.send_batch(batch, label)
        self.record(check_full_batch(batch, exchange), exchange)
        self.record(check_fixture_outcomes(exchange, chosen_r, [], []), exchange)

    def authentication(self) -> None:
        """Requests the target must not trust; each carries only minted IDs, so a target that wrongly accepts
        one restarts nothing."""
        creds = self.client.credentials
        if CREDENTIALS not in self.unmet:
            # Near misses too: a target that compares only a prefix of the token, or verifies a signature against a
            # normalised body, accepts a random wrong credential's neighbour.
            wrong = (
                (Auth.WRONG_TOKEN, Auth.NEAR_MISS_TOKEN, Auth.TRUNCATED_TOKEN)
                if creds.token
                else (Auth.UNKNOWN_KEY, Auth.WRONG_SECRET, Auth.TAMPERED_BODY, Auth.OTHER_BODY, Auth.STALE_DATE)
            )
            batches = [(self.minted(2), "no credentials", {"auth": Auth.NONE})]
            batches += [(self.minted(2), f"wrong credentials: {how.value}", {"auth": how}) for how in wrong]
            unauthenticated, *wrongly = self.send_batches(batches)
            self.record(check_unauthenticated(unauthenticated, "a request without credentials"), unauthenticated)
            for how, exchange in zip(wrong, wrongly, strict=True):
                self.record(check_wrong_credentials(exchange, f"a request with a {how.value}"), exchange)
        if READONLY_CREDENTIALS in self.unmet:
            return
        exchange = self.send_batch(self.minted(2), "read-only credential", auth=Auth.READONLY)
        self.record(check_forbidden(exchange, "a request with a credential lacking the modify permission"), exchange)


def _spelling_answer(exact: Exchange, task: str, spelled_exchange: Exchange, spelled: str) -> str:
    """How the target answered a task in another spelling, beside its answer for the ID as listed: the same result
    and error code (it read both as one task), other ones (another task, or none), or a refusal."""
    if spelled_exchange.status != 200:
        return f"refused with status {spelled_exchange.status}"
    if exact.status != 200:
        return f"answered 200, the ID as listed {exact.status}"
    got, listed = _item_for(spelled_exchange, spelled), _item_for(exact, task)
    if got is None:
        return "not answered as it was sent"
    if got == listed:
        return "the result and error code of the ID as listed (the same task)"
    return "another result or error code than the ID as listed (another task, or none)"


def _item_for(exchange: Exchange, task_id: str) -> tuple[object, object] | None:
    """The result and error code answered for ``task_id`` as sent, or None."""
    body = exchange.response_json
    items = body.get("migration_tasks") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and item.get("task_id") == task_id:
            return item.get("result"), item.get("error_code")
    return None
