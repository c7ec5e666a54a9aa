"""Where the restartable fixtures go. Each restarts once per run (a restarted task is no longer restartable), so
which batch gets which task decides what a staging-sized project can reveal.

The batch of 50 is served first, and sent first (the run's second request, right after the first batch of minted IDs
tells whether unknown IDs are answered per item), so what it reveals is found early. Its first restartable task sits in
the middle (the 4th place, after three tasks that fail), its second last, its third second, all among non-restartable
and unknown IDs. So one restartable task already meets a large batch, a middle place and failures before it (bugs that
stop after a failure, let one item's error bleed into the next, or let an unknown ID poison the batch); two already
share one call, and three exceed a quota of two restarts a call. Only what is left goes to the smaller mixed batches,
each wanting a few; the first restartable task of each sits last, in the middle, then first. A target that does not
answer unknown IDs per item may leave no batch of 50: then the largest mixed batch is served first, in its place.

Pure functions of counts and a random stream: the scenarios build the batches, the unit tests prove the places.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: The place of a middle task: the 4th, with three failing tasks before it (a position bug at index 3, a loop that
#: stops or carries state after a failure, shows there), and far from either end of a large batch.
MIDDLE_INDEX = 3
#: Restartable tasks the large batch gets before any smaller batch gets one: middle, last, second place.
LARGE_FIRST = 3
#: With plenty of fixtures, the large batch holds up to this many, and at most a third of them.
LARGE_MOST = 10

Where = Literal["first", "second", "middle", "last"]
#: Where the large batch's restartable tasks go, in order; more than these go to random free places.
LARGE_PLACES: tuple[Where, ...] = ("middle", "last", "second")
#: Where the first restartable task of the n-th smaller mixed batch goes (its others go to random free places).
MIXED_PLACES: tuple[Where, ...] = ("last", "middle", "first")


@dataclass(frozen=True)
class Allotment:
    """How many restartable tasks each batch gets: the large one (the batch of 50, or the largest mixed batch when
    there is none) and each smaller mixed batch, in order."""

    large: int
    mixed: tuple[int, ...]


def allot(restartable: int, mixed_wanted: Sequence[int], *, full_batch: bool) -> Allotment:
    """Share ``restartable`` tasks: the large batch first (at least ``LARGE_FIRST`` while they last, up to a third
    of them and ``LARGE_MOST``), then each smaller batch its wanted count while any are left. Without a batch of 50
    the last (largest) mixed batch is the large one: it gets the large share and what it wants."""
    large = min(restartable, max(LARGE_FIRST, min(LARGE_MOST, restartable // 3)))
    left = restartable - large
    wanted = list(mixed_wanted) if full_batch else list(mixed_wanted[:-1])
    mixed: list[int] = []
    for count in wanted:
        mixed.append(min(count, left))
        left -= mixed[-1]
    if not full_batch and mixed_wanted:
        extra = min(left, max(0, mixed_wanted[-1] - large))
        return Allotment(0, (*mixed, large + extra))
    return Allotment(large, tuple(mixed))


def place(restartable: Sequence[str], others: Sequence[str], places: Sequence[Where], rng: random.Random) -> list[str]:
    """A batch of ``others`` in a random order with each restartable task at its place: the n-th at ``places[n]``
    while there are places (a place already taken, or out of the batch, falls to the next free one), the rest at
    random free places."""
    size = len(restartable) + len(others)
    wanted = [_index(where, size) for where in places[: len(restartable)]]
    free = list(range(size))
    chosen: list[int] = []
    for index in wanted:
        spot = index if index in free else _nearest_free(index, free)
        free.remove(spot)
        chosen.append(spot)
    for _ in restartable[len(chosen) :]:
        spot = free[rng.randrange(len(free))]
        free.remove(spot)
        chosen.append(spot)
    shuffled = list(others)
    rng.shuffle(shuffled)
    batch: list[str | None] = [None] * size
    for task, spot in zip(restartable, chosen, strict=True):
        batch[spot] = task
    rest = iter(shuffled)
    return [task if task is not None else next(rest) for task in batch]


def _index(where: Where, size: int) -> int:
    """The index of a place in a batch of ``size``: the middle is the 4th place, or the centre of a smaller batch."""
    if where == "first":
        return 0
    if where == "second":
        return min(1, size - 1)
    if where == "last":
        return size - 1
    return min(MIDDLE_INDEX, size // 2)


def _nearest_free(index: int, free: Sequence[int]) -> int:
    return min(free, key=lambda spot: (abs(spot - index), spot))


@dataclass(frozen=True)
class Spent:
    """One restartable task as spent: in which scenario's batch, at which index (as in $.migration_tasks[i]) of a
    batch of how many tasks. The report lists these (report.json ``fixture_plan``, the page's section)."""

    scenario: str
    label: str
    index: int
    batch_size: int


def spent_in(scenario: str, label: str, batch: Sequence[str], restartable: Sequence[str]) -> list[Spent]:
    """Where each of ``restartable`` sits in ``batch``, as records for the report."""
    wanted = set(restartable)
    return [Spent(scenario, label, index, len(batch)) for index, task in enumerate(batch) if task in wanted]


@dataclass(frozen=True)
class FixturePlan:
    """How a run spent its fixtures: how many of each kind it was given, and where each restartable one went."""

    restartable: int
    not_restartable: int
    spent: Sequence[Spent]
