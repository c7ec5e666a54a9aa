"""Reading the restart ledgers that references in other processes keep (conformance/reference/restart_ledger.py):
which restarted tasks more than one call named since the last look.

tests/conftest.py points every reference the session starts (``serve`` subprocesses, the embedded run's child,
those of a ``dcs-conformance run`` or a pytest subprocess) at one directory, and looks after every test. A ledger is
rewritten whole on each change, so a file here is always complete, even one a killed reference left; ``.*.tmp``
names are the writer's temporaries and are skipped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class AskedAgain:
    """Restarted tasks a reference was asked to restart by more than one call: task ID -> calls."""

    who: str
    pid: int
    calls: dict[str, int]

    def __str__(self) -> str:
        return f"{self.who} (pid {self.pid}): {self.calls}"


@dataclass
class LedgerWatch:
    """The ledgers of one directory, and what was seen of each at the last look."""

    directory: Path
    _stamps: dict[str, tuple[int, int]] = field(default_factory=dict)
    _calls: dict[str, dict[str, int]] = field(default_factory=dict)

    def asked_again(self) -> list[AskedAgain]:
        """The tasks named by a second (third...) call since the last look, per reference; reads only the files
        that changed since then."""
        found = []
        with os.scandir(self.directory) as entries:
            changed = [
                entry
                for entry in entries
                if entry.name.startswith("restarts-")
                and entry.name.endswith(".json")
                and self._stamps.get(entry.name) != (entry.stat().st_ino, entry.stat().st_mtime_ns)
            ]
        for entry in changed:
            stat = entry.stat()
            document = json.loads(Path(entry.path).read_text(encoding="utf-8"))
            before = self._calls.get(entry.name, {})
            calls: dict[str, int] = document["calls"]
            again = {task: n for task, n in calls.items() if n > 1 and n > before.get(task, 0)}
            if again:
                found.append(AskedAgain(document["who"], document["pid"], again))
            self._calls[entry.name] = calls
            self._stamps[entry.name] = (stat.st_ino, stat.st_mtime_ns)
        return found

    def totals(self) -> tuple[int, int]:
        """How many ledgers (reference stores) the looks so far read, and how many restarted tasks they hold."""
        return len(self._calls), sum(len(calls) for calls in self._calls.values())
