"""Checks: pure functions from what was sent and received to findings about catalogue requirements.

A check module names each requirement it judges once, as a ``Rule``; every finding is made by a rule, so a
requirement ID is written in one place. Every check declares the rules it may use with ``@covers``; the catalogue
tests use that registry to prove each MUST requirement has at least one check and that a check emits only what it
declares. Checks never send requests and never format reports.
"""

from __future__ import annotations

from conformance.checks.rules import COVERAGE


def covered_requirements() -> set[str]:
    """Every requirement ID some check can judge (imports all check modules first)."""
    from conformance.checks import auth, batch, refusals, responses  # noqa: F401

    return {req for ids in COVERAGE.values() for req in ids}
