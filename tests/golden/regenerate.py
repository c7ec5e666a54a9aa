"""Write the golden report.json files the HTML tests read: real runs against the embedded reference.

    .venv/bin/python tests/golden/regenerate.py

Run it when report.json changes on purpose, and review the diff: these files are what the report page is proven
against, so a change in them is a change users see.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.support.jsontext import dumps_strict

HERE = Path(__file__).parent
RUNS = {"conformant": [], "non-conformant": ["drop-in-large-batches"]}


def main() -> int:
    for name, faults in RUNS.items():
        with tempfile.TemporaryDirectory() as directory:
            flags = {"seed": 3, "max_examples": 20, "report_dir": directory, "fault": faults}
            outcome = execute(
                resolve(flags, env={}),
                command="dcs-conformance run --seed 3 --max-examples 20",
                progress=lambda _: None,
            )
        path = HERE / f"report-{name}.json"
        # As report.json is written (strict JSON: a lone surrogate an edge-case task ID decodes to is escaped).
        path.write_text(dumps_strict(outcome.report, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
