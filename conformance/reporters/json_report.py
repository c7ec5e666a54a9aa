"""report.json: the complete, machine-readable record of a run; every other reporter reads only this.

Written as strict JSON whatever the target sent (see jsontext.dumps_strict): any parser must be able to read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.files import write_atomically
from conformance.jsontext import dumps_strict

FILENAME = "report.json"


def write(report: dict[str, Any], directory: Path) -> Path:
    return write_atomically(directory / FILENAME, dumps_strict(report) + "\n")


def read(directory: Path) -> dict[str, Any]:
    return json.loads((directory / FILENAME).read_text(encoding="utf-8"))
