"""Checks: pure functions from what was sent and received to findings about catalogue requirements.

Every check declares the requirement IDs it can judge with ``@covers``; the catalogue test uses that registry to
prove each MUST requirement has at least one check. Checks never send requests and never format reports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

COVERAGE: dict[str, tuple[str, ...]] = {}


def covers(*requirement_ids: str) -> Callable[[F], F]:
    def register(func: F) -> F:
        COVERAGE[f"{func.__module__}.{func.__qualname__}"] = requirement_ids
        return func

    return register


def covered_requirements() -> set[str]:
    """Every requirement ID some check can judge (imports all check modules first)."""
    from conformance.checks import auth, batch, refusals, responses  # noqa: F401

    return {req for ids in COVERAGE.values() for req in ids}
