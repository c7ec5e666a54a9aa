"""The smallest drawing child (engine/phases/drawing_child.py), for its tests: it draws ``count`` numbers from
random.Random(seed), one JSON line each, as the schemathesis child draws its cases. Run as
``python -m tests.counting_child`` by CountingChild."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any, ClassVar

from conformance.engine.phases.drawing_child import DrawingChild, serve_lines

#: Numbers are drawn below this.
LIMIT = 2**32


def numbers(seed: int, count: int) -> list[int]:
    """The numbers the child draws for the seed, drawn in this process."""
    rng = random.Random(seed)
    return [rng.randrange(LIMIT) for _ in range(count)]


class CountingChild(DrawingChild[int]):
    """``count`` numbers for ``seed``, drawn by a child process started at once."""

    module: ClassVar[str] = "tests.counting_child"
    what: ClassVar[str] = "the numbers"
    one: ClassVar[str] = "a number"
    max_line: ClassVar[int] = 1024

    def __init__(self, seed: int, count: int) -> None:
        self.seed = seed
        self.count = count
        super().__init__({"seed": seed, "count": count})

    def parse(self, line: bytes) -> int:
        value = json.loads(line)
        if type(value) is not int or not 0 <= value < LIMIT:
            raise ValueError(f"not a number it draws: {value!r}")
        return value

    def drawn_here(self) -> list[int]:
        return numbers(self.seed, self.count)


def _draw(asked: dict[str, Any], emit: Callable[[bytes], None]) -> None:
    rng = random.Random(asked["seed"])
    for _ in range(asked["count"]):
        emit(json.dumps(rng.randrange(LIMIT)).encode())


if __name__ == "__main__":
    serve_lines(_draw)
