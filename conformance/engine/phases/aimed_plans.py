"""What the aimed phase draws: a plan per batch (a size, a mix of pools, a number of duplicates, a seed for the
positions), and the batch built from it.

The plans are drawn by plain Python from a random.Random seeded with the run's seed (``draw_plans``): a few
microseconds a plan, the same plans in any process and whatever was imported before, so no process draws them
ahead of the sending and none pays for hypothesis to draw them. Hypothesis is kept for what it does better, shrinking
a failing plan (``shrinking_plans``): its strategy for plans (``plans``) starts from the failing plans the drawing
found and shrinks them towards the smallest batch of plain minted IDs. The batch is built from a plan and the run's
pools of IDs by plain Python (``assemble``), so whoever sends it fills in the IDs the run minted. This module
imports hypothesis only once a plan is shrunk, and nothing else of the suite than the contract.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from conformance.contract import MAX_BATCH

if TYPE_CHECKING:
    from hypothesis import strategies as st

#: Sizes where batch implementations break: empty, one, two, a page of 20 and one past it, 25, the maximum and
#: one past it (which must be refused).
BOUNDARY_SIZES = (0, 1, 2, 20, 21, 25, 49, 50, MAX_BATCH + 1)
#: Which pools besides the minted IDs a batch draws from: bit 1 the non-restartable fixtures, bit 2 the odd strings.
MIXES = 4
#: How many IDs are named a second time: mostly none.
DUPLICATES = (0, 0, 1, 2)
#: The positions' random stream is seeded from 0 to this, exclusive.
POSITION_SEEDS = 2**32
LONG_ID_CHARS = 1024


class Plan(NamedTuple):
    """One batch as drawn; ``assemble`` turns it into the IDs sent."""

    size: int
    mix: int
    duplicates: int
    positions: int


def plans() -> st.SearchStrategy[Plan]:
    """Hypothesis's strategy for the plans draw_plans draws, for shrinking: sizes over 0-51, a mix of pools,
    duplicates, and a seed for the positions.

    A handful of choices per batch, not one per ID: shrinking goes where a reader wants it, the smallest size, then a
    plain batch of minted IDs (``choices`` is the sequence of choices that stands for a given plan)."""
    from hypothesis import strategies as st

    @st.composite
    def plan(draw: Callable[..., Any]) -> Plan:
        # Plain sizes first: shrinking prefers the first branch, and there it can reach any size, not only a boundary.
        size = draw(st.one_of(st.integers(0, MAX_BATCH + 1), st.sampled_from(BOUNDARY_SIZES)))
        mix = draw(st.integers(0, MIXES - 1))
        duplicates = draw(st.sampled_from(DUPLICATES))  # drawn whatever the size: shrinking keeps its place
        return Plan(size, mix, duplicates, draw(st.integers(0, POSITION_SEEDS - 1)))

    return plan()


def choices(plan: Plan) -> tuple[int, ...]:
    """The choices ``plans()`` makes to draw ``plan``: its first branch (any size), the size, the mix, the index of
    its number of duplicates, the seed of its positions. Hypothesis replays them to start shrinking from ``plan``."""
    return (0, plan.size, plan.mix, DUPLICATES.index(plan.duplicates), plan.positions)


def assemble(plan: Plan, minted: Sequence[str], not_restartable: Sequence[str], odd: Sequence[str]) -> list[str]:
    """The batch a plan stands for, from pools that may be replayed: each position holds a fresh minted ID (so IDs
    are distinct by construction), a non-restartable fixture or an odd string; then duplicates at random positions.
    ``minted`` must hold more IDs than a batch has."""
    rng = random.Random(plan.positions)
    fresh = iter(minted)
    pools = [pool for bit, pool in ((1, not_restartable), (2, odd)) if plan.mix & bit and pool]
    ids: list[str] = []
    for _ in range(plan.size):
        pool = pools[rng.randrange(len(pools))] if pools and rng.random() < 0.3 else None
        task = rng.choice(pool) if pool else None
        ids.append(task if task is not None and task not in ids else next(fresh))
    for _ in range(plan.duplicates if 0 < plan.size < MAX_BATCH else 0):
        ids.insert(rng.randrange(len(ids) + 1), rng.choice(ids))
    return ids


def edge_ids(base: str) -> list[str]:
    """Odd but legal strings: any answer but a 5xx is allowed for them, and a 200 must still answer them whole."""
    return [
        "",
        "   ",
        ("x" + base) * (LONG_ID_CHARS // (len(base) + 1) + 1),
        "迁移任务-é-" + base,
        '"\\' + base,
        "\ud800" + base,
        f"  {base}  ",
    ]


def draw_plans(seed: int, count: int) -> Iterator[Plan]:
    """This seed's ``count`` plans, each drawn when it is asked for (a run of 100,000 cases holds none ahead).

    First every boundary size once, in an order the seed shuffles, so that a bug at a boundary shows in the first
    few batches; then sizes over the whole range half the time and a boundary the other half. Mixes, duplicates and
    the positions' seed are drawn evenly. Plain random.Random: the same plans in any process."""
    rng = random.Random(seed)
    first = list(BOUNDARY_SIZES)
    rng.shuffle(first)
    for number in range(count):
        if number < len(first):
            size = first[number]
        elif rng.random() < 0.5:
            size = rng.randint(0, MAX_BATCH + 1)
        else:
            size = rng.choice(BOUNDARY_SIZES)
        yield Plan(size, rng.randrange(MIXES), rng.choice(DUPLICATES), rng.randrange(POSITION_SEEDS))


def shrinking_plans(test: Callable[[Plan], None], seed: int, failing: Sequence[Plan]) -> Callable[[], None]:
    """``test`` ready to run hypothesis's shrinker from the ``failing`` plans (what the drawing found failing): it
    replays each of them, then shrinks what still fails (``test`` raising), each distinct failure on its own, and
    raises what the smallest cases raise. Hypothesis draws nothing new but the shrinking candidates; its randomness
    comes from the run's seed, so the same failures shrink the same way in any process."""
    import hypothesis
    from hypothesis.database import ExampleDatabase, choices_to_bytes

    class FailingPlans(ExampleDatabase):
        """The failing plans, where hypothesis looks for cases that failed before (the secondary corpus: a case in
        the primary one that still fails is taken as shrunk already); nothing it saves is kept."""

        def __init__(self, entries: list[bytes]) -> None:
            super().__init__()
            self.entries = entries

        def fetch(self, key: bytes) -> Iterator[bytes]:
            return iter(self.entries if key.endswith(b".secondary") else ())

        def save(self, key: bytes, value: bytes) -> None:
            pass

        def delete(self, key: bytes, value: bytes) -> None:
            pass

    def case(plan: Plan) -> None:
        test(plan)

    # settings outside seed: seed() turns the database off, and the database is how the failing plans get in.
    return hypothesis.settings(
        max_examples=max(1, len(failing)),
        deadline=None,
        database=FailingPlans([choices_to_bytes(choices(plan)) for plan in failing]),
        derandomize=False,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.reuse, hypothesis.Phase.shrink],
        report_multiple_bugs=True,
        verbosity=hypothesis.Verbosity.quiet,
    )(hypothesis.seed(seed)(hypothesis.given(plans())(case)))
