"""report.json: the complete, machine-readable record of a run; every other reporter reads only this."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FILENAME = "report.json"


def write(report: dict[str, Any], directory: Path) -> Path:
    path = directory / FILENAME
    tmp = path.with_name(f".{FILENAME}.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read(directory: Path) -> dict[str, Any]:
    return json.loads((directory / FILENAME).read_text(encoding="utf-8"))
