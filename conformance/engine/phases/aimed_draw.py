"""The aimed phase's plans drawn by a child process, on another core, while this process sends and judges.

Drawing a plan costs the interpreter about a millisecond; a child (drawing_child.py) draws them elsewhere. It reads
``{"seed": S, "count": N}`` and writes each plan as a JSON line ``[size, mix, duplicates, positions]``; the plans it
draws are filled with the run's IDs by whoever sends them, so it needs nothing but the seed.

Nothing here imports hypothesis until a plan is read or drawn: the run starts the child before it loads hypothesis.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from conformance.engine.determinism import without_local_constants
from conformance.engine.phases.drawing_child import DrawingChild, serve_lines

if TYPE_CHECKING:
    from conformance.engine.phases.aimed_plans import Plan

MODULE = "conformance.engine.phases.aimed_draw"
#: Drawn cases from which a child draws them (drawing_ahead). Drawing costs the run's interpreter about 1 ms a case;
#: a child costs it almost nothing, but takes about 0.3 s of CPU to start (a Python importing hypothesis) and then
#: draws on whatever core is free, so it pays only well above that. Measured (fresh runs, 2 cores, load 1-3 from
#: other work): at 200 cases a run gains 0.05-0.25 s, within the noise; from 400 it gains 0.2-0.9 s with 4 workers
#: and embedded, and breaks even with 1 worker against a target in its own process (which then needs the second
#: core too), gaining from 800 on.
CHILD_DRAWING_FROM = 400


def drawn_count(max_examples: int) -> int:
    """How many plans the aimed phase draws for ``max_examples`` cases: all but its fixed first case, when there is
    room for it (see aimed.run_aimed)."""
    return max_examples - 1 if max_examples > 1 else max_examples


@contextmanager
def drawing_ahead(seed: int, max_examples: int) -> Iterator[ChildDrawing | None]:
    """The aimed phase's plans, drawn from now on by a child process while the run goes on, when there are enough of
    them to pay for it (CHILD_DRAWING_FROM); None otherwise. Enter it as early as the run can, so that the child's
    start overlaps whatever runs before the phase; leaving it stops the child if it still runs."""
    count = drawn_count(max_examples)
    if count < CHILD_DRAWING_FROM:
        yield None
        return
    drawing = ChildDrawing(seed, count)
    try:
        yield drawing
    finally:
        drawing.close()


class ChildDrawing(DrawingChild["Plan"]):
    """``count`` plans for ``seed``, drawn by a child process started at once (see DrawingChild)."""

    module = MODULE
    what = "the aimed cases"
    one = "a plan"
    #: A plan takes some 30 bytes.
    max_line = 1024

    def __init__(self, seed: int, count: int) -> None:
        self.seed = seed
        self.count = count
        super().__init__({"seed": seed, "count": count})

    def plans(self) -> Iterator[Plan]:
        """Every plan in the order drawn: the child's as they come, then, if it failed, the rest drawn here."""
        return self.items()

    def parse(self, line: bytes) -> Plan:
        from conformance.engine.phases.aimed_plans import Plan

        return Plan.parse(json.loads(line))

    def drawn_here(self) -> list[Plan]:
        return _drawn_here(self.seed, self.count)


def _drawn_here(seed: int, count: int) -> list[Plan]:
    """The plans as the child draws them, drawn in this process."""
    from conformance.engine.phases.aimed_plans import draw_plans

    plans: list[Plan] = []
    with without_local_constants():
        draw_plans(seed, count, plans.append)
    return plans


def _draw(asked: dict[str, Any], emit: Callable[[bytes], None]) -> None:
    from conformance.engine.phases.aimed_plans import draw_plans

    with without_local_constants():
        draw_plans(asked["seed"], asked["count"], lambda plan: emit(json.dumps(plan).encode()))


def main() -> None:
    """The child: draw the plans asked for on stdin, writing each as a JSON line on stdout the moment it exists."""
    serve_lines(_draw)


if __name__ == "__main__":
    main()
