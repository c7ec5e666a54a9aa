"""Rules: how a check names the requirement it judges, and the registry of which check may judge which.

A module of its own so that every check module imports it, and the package's ``covered_requirements`` imports the
check modules, without an import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, Unpack

from conformance.judging.results import Detail, Finding

F = TypeVar("F", bound=Callable[..., object])

COVERAGE: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Rule:
    """One catalogue requirement as the checks judge it: the finding factory bound to its ID."""

    requirement: str
    #: Every held finding of the rule is this one: findings are frozen values, and a check of a batch of 50
    #: holds several rules per item.
    _held: Finding = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_held", Finding(self.requirement, True))

    def held(self) -> Finding:
        return self._held

    def violated(self, message: str, **detail: Unpack[Detail]) -> Finding:
        """``detail`` is the structured part of the message (missing, foreign, repeated IDs; expected and actual
        outcome), for views that would otherwise re-derive it."""
        return Finding(self.requirement, False, message, detail)

    def unjudged(self, why: str) -> Finding:
        """This answer cannot be judged on the rule (a body nested deeper than the suite parses): no check counts,
        and ``why`` is the skip reason if nothing else judged the requirement."""
        return Finding(self.requirement, True, why, unjudged=True)

    def judged(self, ok: bool, message: str = "", **detail: Unpack[Detail]) -> Finding:
        """Held when ``ok``, else violated with ``message`` and ``detail`` (which are ignored when it held)."""
        return self.held() if ok else self.violated(message, **detail)


def covers(*rules: Rule) -> Callable[[F], F]:
    """Declare the rules a check may judge; a check emits findings of these requirements only."""

    def register(func: F) -> F:
        name = f"{func.__module__}.{func.__qualname__}"
        if name in COVERAGE:
            raise ValueError(f"two checks are registered as {name}: give one of them another name")
        COVERAGE[name] = tuple(rule.requirement for rule in rules)
        return func

    return register
