"""What the dcs-conformance pytest plugin costs a pytest session that does not use it, as figures.

The plugin loads in every pytest session of an environment that installs dcs-batch-restart-conformance (its
``pytest11`` entry point). Without a --dcs-* option it must stay inert: import nothing but pytest and the standard
library, add its options and fixtures, and do nothing else. This prints:

- the import time of ``conformance.pytest_plugin`` in a pytest session (``python -X importtime``): all the plugin
  adds before its hooks, which only register options and fixtures;
- the CPU and wall time of a small pytest session (one trivial test), the plugin on and off
  (``-p no:dcs_batch_restart_conformance``), alternated so that machine noise falls on both sides, as medians and
  differences;
- the same difference with the schemathesis plugin loaded too, for scale (it is not ours to trim).

Figures only: it never passes or fails. The promise (< 50 ms) is checked by eye; ``tests/e2e/test_pytest_plugin.py``
proves the plugin imports nothing heavy and adds nothing when inert.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST_FILE = "def test_nothing():\n    assert True\n"


def import_time_us() -> int:
    """Cumulative import time of the plugin module once pytest is loaded (as in a session), in µs."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest; import conformance.pytest_plugin"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+conformance\.pytest_plugin$", line)
        if match:
            return int(match.group(1))
    raise RuntimeError("conformance.pytest_plugin is missing from -X importtime's output")


def session_seconds(workdir: Path, *extra: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one pytest session in a child process. CPU time is the
    steadier figure on a shared machine: waiting for a core does not count."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=workdir,
        capture_output=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired(workdir: Path, rounds: int, *common: str) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds with the plugin and without it, the two sessions of each round back to back."""
    runs: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
    for _ in range(rounds):
        runs["on"].append(session_seconds(workdir, *common))
        runs["off"].append(session_seconds(workdir, *common, "-p", "no:dcs_batch_restart_conformance"))
    return {
        key: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for key, values in runs.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="sessions with and without the plugin (default 15)")
    args = parser.parse_args()
    bytecode = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    load = os.getloadavg()[0]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load:.1f}, PYTHONDONTWRITEBYTECODE={bytecode!r}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "test_nothing.py").write_text(TEST_FILE)
        imports = [import_time_us() for _ in range(5)]
        print(f"import conformance.pytest_plugin after pytest: median {statistics.median(imports) / 1000:.2f} ms (5)")
        for label, common in (
            ("session, schemathesis plugin off", ("-p", "no:schemathesis")),
            ("session, schemathesis plugin on ", ()),
        ):
            medians = paired(workdir, args.rounds, *common)
            (wall_on, cpu_on), (wall_off, cpu_off) = medians["on"], medians["off"]
            print(
                f"{label}: CPU {cpu_on * 1000:.0f} ms with the plugin, {cpu_off * 1000:.0f} ms without "
                f"({(cpu_on - cpu_off) * 1000:+.0f} ms); wall {wall_on * 1000:.0f} / {wall_off * 1000:.0f} ms "
                f"({(wall_on - wall_off) * 1000:+.0f} ms); medians of {args.rounds}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
