"""report.json: the complete, machine-readable record of a run; every other reporter reads only this.

Written as strict JSON whatever the target sent (see jsontext.dumps_strict): any parser must be able to read it.
Read back by report.store.load_report, the one reader.
"""

from __future__ import annotations

from pathlib import Path

from conformance.report.model import Report
from conformance.support.files import write_atomically
from conformance.support.jsontext import dumps_strict

FILENAME = "report.json"


def write(report: Report, directory: Path) -> Path:
    return write_atomically(directory / FILENAME, dumps_strict(report) + "\n")
