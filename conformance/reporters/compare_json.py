"""compare.json: the complete, machine-readable comparison; compare.html and the terminal view show the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.files import write_atomically

FILENAME = "compare.json"


def write(comparison: dict[str, Any], directory: Path) -> Path:
    """Write compare.json atomically: CI jobs read it as soon as the command ends."""
    return write_atomically(directory / FILENAME, json.dumps(comparison, indent=2, ensure_ascii=False) + "\n")
