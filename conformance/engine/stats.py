"""What the phases count as they go: read by the live progress line and by the report.

Kept apart from the phases themselves so that the run can hold its counters before it imports hypothesis and
schemathesis (the scenarios start sending while those load).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AimedStats:
    cases: int = 0
    shrink_requests: int = 0
    reproducers: dict[str, int] = field(default_factory=dict)


@dataclass
class GeneratedStats:
    cases: int = 0
    by_phase: dict[str, int] = field(default_factory=dict)
    refused_by_guard: int = 0


@dataclass
class ScenarioStats:
    """The hand-written scenarios: how many there are, how many are done, which one runs (for the live line)."""

    total: int = 0
    done: int = 0
    current: str = "starting"
