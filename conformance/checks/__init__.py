"""Checks: pure functions from what was sent and received to findings about catalogue requirements.

A check module names each requirement it judges once, as a ``Rule``; every finding is made by a rule, so a
requirement ID is written in one place. Every check declares the rules it may use with ``@covers``; the catalogue
tests use that registry to prove each MUST requirement has at least one check and that a check emits only what it
declares. Checks never send requests and never format reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from conformance.results import Finding

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

    def violated(self, message: str, **detail: Any) -> Finding:
        """``detail`` is the structured part of the message (missing, foreign, repeated IDs; expected and actual
        outcome), for views that would otherwise re-derive it."""
        return Finding(self.requirement, False, message, detail)

    def judged(self, ok: bool, message: str = "", **detail: Any) -> Finding:
        """Held when ``ok``, else violated with ``message`` and ``detail`` (which are ignored when it held)."""
        return self.held() if ok else self.violated(message, **detail)


def covers(*rules: Rule) -> Callable[[F], F]:
    """Declare the rules a check may judge; a check emits findings of these requirements only."""

    def register(func: F) -> F:
        COVERAGE[f"{func.__module__}.{func.__qualname__}"] = tuple(rule.requirement for rule in rules)
        return func

    return register


def covered_requirements() -> set[str]:
    """Every requirement ID some check can judge (imports all check modules first)."""
    from conformance.checks import auth, batch, refusals, responses  # noqa: F401

    return {req for ids in COVERAGE.values() for req in ids}
