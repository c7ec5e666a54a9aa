"""Hooks that let the reference server deviate on purpose: faults (which break a requirement) and variants
(different choices the documentation allows).

Each deviation is a small ``Mod`` overriding one or more hooks; the server folds every active mod over each hook
in turn. With no mod active, every hook is the identity and the server is the faithful reference.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from conformance.reference.auth import same_secret
from conformance.reference.store import Outcome, TaskStore


def parse_leniently(body: bytes) -> Any:
    """The body as JSON, or None: deviations peek at a body before the strict parser judges it."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


class Crash(Exception):
    """A deliberate internal error: the server answers it as an unhandled failure (500)."""


@dataclass
class Batch:
    """What one valid request asked for, with what mods may need to decide."""

    requested: list[str]
    store: TaskStore
    rng: random.Random
    #: The request names a project the server does not serve, and a mod answers for it (see Mod.serves_project).
    foreign_project: bool = False


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


class Mod:
    """One deviation. ``breaks`` names the requirement IDs a fault violates; variants break nothing."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    breaks: ClassVar[tuple[str, ...]] = ()
    #: SHOULD requirements a variant departs from on purpose (a legitimate choice the suite warns about): the kill
    #: matrix certifies it with warnings on these and nothing else.
    warns: ClassVar[tuple[str, ...]] = ()
    #: The deviation is about IAM tokens: an embedded run that judges it authenticates with a token, not AK/SK.
    token_auth: ClassVar[bool] = False
    #: Idle keep-alive connections are closed after this many seconds instead of the server's default (a setting of
    #: the HTTP server, read before it starts: see deviations.keep_alive).
    idle_close_s: ClassVar[float | None] = None
    #: Every answer announces that idle time: ``Keep-Alive: timeout=N``.
    announces_idle_close: ClassVar[bool] = False
    #: The fewest (restartable, non-restartable) fixtures with which a fault's bug can show at all: a bug about a
    #: call restarting three tasks cannot show to a project that has two. The kill matrix (bench/killrate) expects
    #: a fault killed at every fixture set this size or larger, and says "cannot show" below it.
    min_fixtures: ClassVar[tuple[int, int]] = (0, 0)

    def bypass_auth(self, headers: Mapping[str, str]) -> bool:
        return False

    def token_matches(self, given: str, expected: str, matches: bool) -> bool:
        """Whether a token the request carries is ``expected``; ``matches`` is what a full comparison says."""
        return matches

    def serves_project(self, project_id: str) -> bool:
        """Answer a request for a project the server does not serve (whose tasks it does not hold) instead of 404."""
        return False

    def tolerate(self, status: int) -> bool:
        """Let a request through that auth would refuse with ``status``."""
        return False

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        return parse(body)

    def admit(self, batch: Batch) -> None:
        """Refuse a parsed batch before anything is restarted (raise Denied)."""

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        return outcomes

    def document(self, batch: Batch, document: dict[str, Any]) -> Any:
        return document

    def encoded(self, batch: Batch, content: bytes) -> bytes:
        """The 200 body's bytes, once the document is written as JSON."""
        return content

    def status(self, batch: Batch, outcomes: list[Outcome], status: int) -> int:
        return status

    def content_type(self, status: int, content_type: str) -> str:
        return content_type

    def error(self, answer: ErrorAnswer, code: str, message: str) -> ErrorAnswer:
        return answer

    def delay(self) -> float:
        return 0.0

    def cut_short(self, batch: Batch) -> bool:
        """Close the connection halfway through the answer to ``batch``, so it is never complete."""
        return False


def register(registry: dict[str, type[Mod]], kind: str, cls: type[Mod], *, breaks: bool) -> type[Mod]:
    """Add a fault or a variant to its registry, refusing at import what would otherwise be overwritten silently:
    two deviations under one name (serve --fault NAME would judge only one of them), a nameless one, a fault that
    breaks nothing or a variant that breaks something."""
    if not cls.name or not cls.summary:
        raise TypeError(f"the {kind} {cls.__name__} needs a name and a summary")
    if bool(cls.breaks) != breaks:
        rule = "must name the requirements it breaks" if breaks else "breaks nothing (a variant is legitimate)"
        raise TypeError(f"the {kind} {cls.name!r} ({cls.__name__}): a {kind} {rule}")
    if cls.name in registry:
        raise ValueError(f"two {kind}s are named {cls.name!r}: {registry[cls.name].__name__} and {cls.__name__}")
    registry[cls.name] = cls
    return cls


class Behaviour:
    """The active mods, folded over each hook in the order given."""

    def __init__(self, mods: list[Mod] | None = None, seed: int | None = None) -> None:
        self.mods = list(mods or [])
        self.rng = random.Random(seed)

    def __bool__(self) -> bool:
        return bool(self.mods)

    def bypass_auth(self, headers: Mapping[str, str]) -> bool:
        return any(mod.bypass_auth(headers) for mod in self.mods)

    def token_matches(self, given: str, expected: str) -> bool:
        matches = same_secret(given, expected)
        for mod in self.mods:
            matches = mod.token_matches(given, expected, matches)
        return matches

    def serves_project(self, project_id: str) -> bool:
        return any(mod.serves_project(project_id) for mod in self.mods)

    def tolerate(self, status: int) -> bool:
        return any(mod.tolerate(status) for mod in self.mods)

    def parse(self, body: bytes, parse: Callable[[bytes], list[str]]) -> list[str]:
        for mod in reversed(self.mods):
            parse = _bind(mod, parse)
        return parse(body)

    def admit(self, batch: Batch) -> None:
        for mod in self.mods:
            mod.admit(batch)

    def outcomes(self, batch: Batch, outcomes: list[Outcome]) -> list[Outcome]:
        for mod in self.mods:
            outcomes = mod.outcomes(batch, outcomes)
        return outcomes

    def document(self, batch: Batch, document: dict[str, Any]) -> Any:
        for mod in self.mods:
            document = mod.document(batch, document)
        return document

    def encoded(self, batch: Batch, content: bytes) -> bytes:
        for mod in self.mods:
            content = mod.encoded(batch, content)
        return content

    def status(self, batch: Batch, outcomes: list[Outcome]) -> int:
        status = 200
        for mod in self.mods:
            status = mod.status(batch, outcomes, status)
        return status

    def content_type(self, status: int, content_type: str = "application/json") -> str:
        for mod in self.mods:
            content_type = mod.content_type(status, content_type)
        return content_type

    def error(self, answer: ErrorAnswer, code: str, message: str) -> ErrorAnswer:
        for mod in self.mods:
            answer = mod.error(answer, code, message)
        return answer

    def delay(self) -> float:
        return sum(mod.delay() for mod in self.mods)

    def cut_short(self, batch: Batch) -> bool:
        return any(mod.cut_short(batch) for mod in self.mods)


def _bind(mod: Mod, inner: Callable[[bytes], list[str]]) -> Callable[[bytes], list[str]]:
    return lambda body: mod.parse(body, inner)
