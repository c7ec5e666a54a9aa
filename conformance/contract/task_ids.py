"""What a task ID looks like and when two spellings name the same task: shared by the ID guard, the fixtures
file check and the trace, which must all agree."""

from __future__ import annotations

import re
from functools import lru_cache

#: A hex digit of either case, spelled out rather than with re.IGNORECASE: case-insensitive matching makes every
#: scan of a body about 2.5 times slower, and no character but A-F matches a-f case-insensitively
#: (tests/unit/test_task_ids.py checks every code point).
_HEX = "[0-9a-fA-F]"
TASK_ID_SHAPE = re.compile(f"{_HEX}{{8}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{12}}")


@lru_cache(maxsize=1 << 16)
def task_key(task_id: str) -> str:
    """What makes two spellings of an ID the same task for a lenient server: case, and a UUID's hyphens. Cached:
    the guard asks it for every ID of every request, several times."""
    return task_id.replace("-", "").lower() if TASK_ID_SHAPE.fullmatch(task_id) else task_id.lower()
