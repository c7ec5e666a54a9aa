"""The ID guard: the one rule that keeps a run from restarting real tasks it was not given.

A request may name a task ID only if the run minted it (a random UUID nobody else can hold), the fixtures file
lists it, or it does not look like a task ID at all (generated garbage). Restartable fixtures may be sent once per
run, since only the first restart is promised to succeed.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterable
from typing import Any

TASK_ID_SHAPE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)


class GuardRefusal(Exception):
    """The guard refused to send a request; the run treats this as a harness fault, never as a target failure."""


class IdGuard:
    def __init__(
        self, restartable: Iterable[str] = (), not_restartable: Iterable[str] = (), rng: random.Random | None = None
    ) -> None:
        self.restartable = frozenset(restartable)
        self.not_restartable = frozenset(not_restartable)
        self._minted: set[str] = set()
        self._spent: set[str] = set()
        self._rng = rng or random.Random()

    def mint(self) -> str:
        """A fresh random UUID that names no real task; reproducible from the run's seed."""
        task_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        self._minted.add(task_id)
        return task_id

    def adopt(self, task_id: str) -> str:
        """Declare an ID minted elsewhere by the run (e.g. rewritten examples)."""
        self._minted.add(task_id)
        return task_id

    def is_safe(self, task_id: str) -> bool:
        if task_id in self._minted or task_id in self.not_restartable:
            return True
        if task_id in self.restartable:
            return task_id not in self._spent
        return not TASK_ID_SHAPE.search(task_id)

    def admit(self, body: bytes | None) -> None:
        """Raise GuardRefusal if the body names a task it must not; mark restartable fixtures as spent."""
        ids = _task_ids(body)
        unsafe = [task for task in ids if not self.is_safe(task)]
        if unsafe:
            raise GuardRefusal(
                f"refused to send task ID {_shorten(unsafe[0])}: it is neither minted by this run nor an unused fixture"
            )
        self._spent.update(task for task in ids if task in self.restartable)


def _task_ids(body: bytes | None) -> list[str]:
    """The string IDs a server could read from the body; a body no server can parse names no task."""
    if not body:
        return []
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):
        return []
    if not isinstance(document, dict) or not isinstance(document.get("migration_tasks"), list):
        return []
    return [task for task in document["migration_tasks"] if isinstance(task, str)]


def _shorten(task_id: str, limit: int = 60) -> str:
    return repr(task_id) if len(task_id) <= limit else repr(task_id[:limit]) + f"... ({len(task_id)} characters)"
