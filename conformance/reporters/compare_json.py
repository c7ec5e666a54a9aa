"""compare.json: the complete, machine-readable comparison; compare.html and the terminal view show the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.support.files import write_atomically
from conformance.support.jsontext import dumps_strict

FILENAME = "compare.json"


def write(comparison: dict[str, Any], directory: Path) -> Path:
    """Write compare.json atomically: CI jobs read it as soon as the command ends."""
    return write_atomically(directory / FILENAME, dumps_strict(comparison) + "\n")
