"""The aimed strategy draws what batch bugs need: every size of the documented range and the boundaries around it,
IDs only from pools that may be replayed, and duplicates; and it shrinks towards plain minted IDs."""

from __future__ import annotations

import uuid
from collections import Counter

from hypothesis import HealthCheck, find, given, settings

from conformance.engine.phases.aimed import MINTED_POOL
from conformance.engine.phases.aimed_plans import BOUNDARY_SIZES, Plan, assemble, edge_ids, plans

MINTED = [str(uuid.UUID(int=n, version=4)) for n in range(1, MINTED_POOL + 1)]
KNOWN = ["5e3a2f10-0b7c-4c1e-9d2a-6f8e1b4c7a90", "7599c3ed-d0d3-4fb9-9273-653160302023"]
ODD = edge_ids(MINTED[0])


def batch(plan: Plan) -> list[str]:
    return assemble(plan, MINTED, KNOWN, ODD)


DRAWS = settings(max_examples=400, database=None, derandomize=True, suppress_health_check=list(HealthCheck))


def draw_many() -> list[list[str]]:
    drawn: list[list[str]] = []

    @DRAWS
    @given(plans())
    def collect(plan: Plan) -> None:
        drawn.append(batch(plan))

    collect()
    return drawn


def test_every_id_comes_from_a_replayable_pool() -> None:
    for ids in draw_many():
        assert set(ids) <= set(MINTED) | set(KNOWN) | set(ODD)


def test_every_boundary_size_is_drawn_and_sizes_spread_over_the_range() -> None:
    drawn = draw_many()
    sizes = Counter(len(set(ids)) for ids in drawn)
    assert set(BOUNDARY_SIZES) <= set(sizes)
    assert sum(count for size, count in sizes.items() if 21 <= size <= 51) >= len(drawn) // 3
    assert any(len(ids) > len(set(ids)) for ids in drawn), "duplicates at random positions"
    assert any(set(ids) & set(KNOWN) for ids in drawn) and any(set(ids) & set(ODD) for ids in drawn)


def test_the_smallest_batch_is_plain_minted_ids() -> None:
    """Shrinking goes towards fresh minted IDs, so a reproducer names no fixture unless the bug needs one."""
    found = find(plans(), lambda plan: len(set(batch(plan))) >= 21, settings=settings(database=None, max_examples=400))
    assert batch(found) == MINTED[:21]
