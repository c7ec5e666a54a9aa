"""What a task ID looks like and when two spellings name the same task: shared by the ID guard, the fixtures
file check and the trace, which must all agree."""

from __future__ import annotations

import re
from functools import lru_cache

TASK_ID_SHAPE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)


@lru_cache(maxsize=1 << 16)
def task_key(task_id: str) -> str:
    """What makes two spellings of an ID the same task for a lenient server: case, and a UUID's hyphens. Cached:
    the guard asks it for every ID of every request, several times."""
    return task_id.replace("-", "").lower() if TASK_ID_SHAPE.fullmatch(task_id) else task_id.lower()
