"""report.json: the complete, machine-readable record of a run; every other reporter reads only this."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.files import write_atomically

FILENAME = "report.json"


def write(report: dict[str, Any], directory: Path) -> Path:
    return write_atomically(directory / FILENAME, json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def read(directory: Path) -> dict[str, Any]:
    return json.loads((directory / FILENAME).read_text(encoding="utf-8"))
