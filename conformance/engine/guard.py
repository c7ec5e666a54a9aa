"""The ID guard: the one rule that keeps a run from restarting real tasks it was not given.

A request may name a task only if the run minted its ID (a random UUID nobody else can hold) or the fixtures file
lists it; anything else shaped like a task ID (a UUID, with or without hyphens) anywhere in the body is refused,
even in a body Python cannot parse, since a more lenient server might still read it. A server reads decoded
strings, so the body is scanned three ways: raw, with JSON escapes resolved, and string by string as parsed (so
``"1111111\\u00312222-..."`` is the UUID it decodes to); a body without a backslash holds no escape, and its
raw scan finds all there is (see ``_scan``). Restartable fixtures may be sent once per run, since only their first
restart is promised to succeed. IDs are compared ignoring case (and a UUID's hyphens), as a server might.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from conformance.contract.task_ids import TASK_ID_SHAPE, task_key
from conformance.support.errors import GuardRefusal as GuardRefusal
from conformance.support.jsontext import loads, strings

UNKNOWN = "unknown"
NOT_RESTARTABLE = "not restartable"


class IdGuard:
    def __init__(
        self, restartable: Iterable[str] = (), not_restartable: Iterable[str] = (), rng: random.Random | None = None
    ) -> None:
        self.restartable = frozenset(task_key(task) for task in restartable)
        self.not_restartable = frozenset(task_key(task) for task in not_restartable)
        self._minted: set[str] = set()
        self._spent: set[str] = set()
        self._rng = rng or random.Random()

    def mint(self) -> str:
        """A fresh random UUID that names no real task; reproducible from the run's seed."""
        return self._mint_from(self._rng)

    def minter(self, rng: random.Random) -> Callable[[], str]:
        """Mint from a random stream of one's own: phases that run side by side each get the same IDs from the same
        seed, whichever of them mints first."""
        return lambda: self._mint_from(rng)

    def _mint_from(self, rng: random.Random) -> str:
        task_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self._minted.add(task_key(task_id))
        return task_id

    def is_minted(self, task_id: str) -> bool:
        """Whether this run minted the ID: the trace reports such IDs by role ("unknown"), never by value."""
        return task_key(task_id) in self._minted

    def stable_role(self, task_id: str) -> str | None:
        """Whether no reading of ``task_id`` can name a task that restarts, for judging a 200 that reports it: UNKNOWN
        when it names an ID this run minted (no task), NOT_RESTARTABLE when a non-restartable fixture, in any of the
        spellings a lenient server might fold together (case, a UUID's hyphens, surrounding whitespace); None for a
        restartable fixture or any other string."""
        key = task_key(task_id.strip())
        if key in self._minted:
            return UNKNOWN
        if key in self.not_restartable and key not in self.restartable:
            return NOT_RESTARTABLE
        return None

    def _allowed(self, key: str) -> bool:
        if key in self._minted or key in self.not_restartable:
            return True
        return key in self.restartable and key not in self._spent

    def admit(self, body: bytes | None) -> list[str]:
        """Raise GuardRefusal if the body names a task it must not; mark restartable fixtures as spent and return
        them (a request naming one must never be sent twice)."""
        if not body:
            return []
        text = body.decode("utf-8", errors="replace")
        shaped, named = _scan(text, whole_strings=bool(self.restartable))
        unsafe = [task for task in shaped if not self._allowed(task_key(task))]
        unsafe += [task for task in named if task_key(task) in self.restartable and not self._allowed(task_key(task))]
        if unsafe:
            raise GuardRefusal(
                f"refused to send task ID {_shorten(unsafe[0])}: it is neither minted by this run nor an unused fixture"
            )
        spent = sorted({task_key(task) for task in (*shaped, *named) if task_key(task) in self.restartable})
        self._spent.update(spent)
        return spent


def _scan(text: str, *, whole_strings: bool) -> tuple[list[str], list[str]]:
    """The task-shaped stretches of every view of the body (raw first), and its strings as parsed.

    A body without a backslash holds no escape: resolving escapes leaves it as it is, and each parsed string is the
    stretch between two quotes (which no task ID can span), so the rest of the full scan only repeats what its raw
    scan found first: the same IDs are refused (the first one named in the refusal) and spent. The strings are then
    needed only to spot a restartable fixture that is not shaped like a UUID (``whole_strings``): without such
    fixtures the body is not even parsed."""
    if "\\" in text:
        return _full_scan(text)
    return TASK_ID_SHAPE.findall(text), _decoded_strings(text) if whole_strings else []


def _full_scan(text: str) -> tuple[list[str], list[str]]:
    """The raw body, the body with JSON escapes resolved, and each parsed string, scanned one after the other."""
    named = _decoded_strings(text)
    return [task for view in (text, _unescape(text), *named) for task in TASK_ID_SHAPE.findall(view)], named


def _decoded_strings(text: str) -> list[str]:
    """Every string of a parseable body as a server decodes it (escapes resolved), keys and duplicates included."""
    try:
        # Lenient: a server that reads NaN, or nests deeper than the checks parse, still reads these strings.
        document: Any = loads(text, lenient=True, object_pairs_hook=list)
    except (ValueError, RecursionError):
        return []
    return list(strings(document))


_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(.)", re.DOTALL)


def _unescape(text: str) -> str:
    """JSON-style escapes resolved, for bodies too broken to parse that a lenient server might still read."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), text)


def _shorten(task_id: str, limit: int = 60) -> str:
    return repr(task_id) if len(task_id) <= limit else repr(task_id[:limit]) + f"... ({len(task_id)} characters)"
