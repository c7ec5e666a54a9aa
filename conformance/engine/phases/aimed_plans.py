"""What the aimed phase draws: a plan per batch (the few choices hypothesis makes), and the batch built from it.

Hypothesis draws only the plan: a size, a mix of pools, a number of duplicates and a seed for the positions. The
batch is then built from the plan and the run's pools of IDs by plain Python. So a process that knows nothing but
the run's seed draws the very plans this one would (aimed_draw.py draws them in a child process while this
one sends), and the IDs, which the run mints as it goes, are filled in by whoever sends. This module imports
hypothesis and the contract, nothing else of the suite: a child that draws pays for no more.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import hypothesis
from hypothesis import strategies as st

from conformance.contract import MAX_BATCH

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
    """One batch as hypothesis drew it; ``assemble`` turns it into the IDs sent."""

    size: int
    mix: int
    duplicates: int
    positions: int

    @classmethod
    def parse(cls, value: object) -> Plan:
        """A plan read back from JSON, or ValueError unless it is one that ``plans`` can draw: whatever another
        process wrote, nothing out of range reaches ``assemble``."""
        if not (isinstance(value, list) and len(value) == len(cls._fields) and all(type(n) is int for n in value)):
            raise ValueError(f"not a plan: {value!r}")
        plan = cls(*value)
        if not (
            0 <= plan.size <= MAX_BATCH + 1
            and 0 <= plan.mix < MIXES
            and plan.duplicates in DUPLICATES
            and 0 <= plan.positions < POSITION_SEEDS
        ):
            raise ValueError(f"a plan out of range: {value!r}")
        return plan


def plans() -> st.SearchStrategy[Plan]:
    """Sizes over 0-51 with the boundaries drawn often, a mix of pools, duplicates, and a seed for the positions.

    A handful of draws per batch, not one per ID: generation stays cheap at 50 IDs, and shrinking still goes where a
    reader wants it: the smallest size, then a plain batch of minted IDs."""

    @st.composite
    def plan(draw: Callable[..., Any]) -> Plan:
        # Plain sizes first: shrinking prefers the first branch, and there it can reach any size, not only a boundary.
        size = draw(st.one_of(st.integers(0, MAX_BATCH + 1), st.sampled_from(BOUNDARY_SIZES)))
        mix = draw(st.integers(0, MIXES - 1))
        duplicates = draw(st.sampled_from(DUPLICATES))  # drawn whatever the size: shrinking keeps its place
        return Plan(size, mix, duplicates, draw(st.integers(0, POSITION_SEEDS - 1)))

    return plan()


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


def given_plans(test: Callable[[Plan], None], seed: int, examples: int, *, shrink: bool) -> Callable[[], None]:
    """``test`` over the plans hypothesis draws for this seed, ready to run; with ``shrink``, what fails is shrunk.

    The one hypothesis configuration of the phase, for drawing and for shrinking, in this process or another: the
    shrinking pass relies on replaying exactly the sequence the drawing drew. Run it inside
    determinism.without_local_constants, or the sequence depends on the modules imported."""
    phases = [hypothesis.Phase.generate, hypothesis.Phase.shrink] if shrink else [hypothesis.Phase.generate]

    def case(plan: Plan) -> None:
        test(plan)

    return hypothesis.seed(seed)(
        hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=phases,
            report_multiple_bugs=True,
            verbosity=hypothesis.Verbosity.quiet,
        )(hypothesis.given(plans())(case))
    )


def draw_plans(seed: int, count: int, emit: Callable[[Plan], None]) -> None:
    """Draw this seed's ``count`` plans, handing each to ``emit`` as soon as it is drawn."""
    given_plans(emit, seed, count, shrink=False)()
