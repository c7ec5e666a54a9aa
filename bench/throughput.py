"""Throughput and latency figures, side by side in one go: figures only, it never passes or fails.

1. the raw ceiling: a plain httpx keep-alive loop posting valid batches to the reference server;
2. the schemathesis CLI on the same spec and target (`--continue-on-failure`), its cases as it reports them;
3. `dcs-conformance run --max-examples N` against the same target: checked requests per second inside the run;
4. wall time to a verdict, default run, against the reference with `serve --latency-ms 100`, with 1, 4 and 16 (the
   default for a remote target) workers;
5. wall time of the embedded default run (`dcs-conformance run`).

The reference runs in a child process (`dcs-conformance serve`), as a vendor's server would; our figures come from
the run's own report.json (requests and duration).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "batch-restart.yaml"
PROJECT = "p-bench"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def reference(*extra: str) -> Iterator[str]:
    """`dcs-conformance serve` in a child process; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "dcs-conformance"), "serve", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.post(f"{base}/v2/{PROJECT}/migration-tasks/batch-restart", content=b"{}", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("the reference server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def raw_loop(base: str, seconds: float) -> float:
    """Requests per second of a plain keep-alive loop posting a valid batch of 3 unknown IDs."""
    body = json.dumps({"migration_tasks": [f"00000000-0000-4000-8000-00000000000{n}" for n in range(3)]}).encode()
    url = f"{base}/v2/{PROJECT}/migration-tasks/batch-restart"
    headers = {"Content-Type": "application/json;charset=utf-8"}
    sent = 0
    with httpx.Client() as client:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            client.post(url, content=body, headers=headers).raise_for_status()
            sent += 1
        return sent / (time.perf_counter() - started)


def schemathesis_cli(base: str, examples: int, workdir: Path) -> tuple[float, int]:
    """Cases per second of the schemathesis CLI, as its own summary counts them ("N generated")."""
    command = [
        str(BIN / "schemathesis"),
        "run",
        str(SPEC),
        "--url",
        base,
        "--continue-on-failure",
        "--max-examples",
        str(examples),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    found = re.search(r"(\d+) generated", result.stdout)
    return wall, int(found.group(1)) if found else 0


def our_run(base: str | None, workdir: Path, *flags: str) -> tuple[float, dict]:
    """Wall time of `dcs-conformance run`, and its report."""
    report_dir = workdir / f"report-{time.monotonic_ns()}"
    command = [str(BIN / "dcs-conformance"), "run", "--seed", "1", "--report-dir", str(report_dir), "--quiet"]
    if base:
        command += ["--base-url", base, "--project-id", PROJECT]
    started = time.perf_counter()
    subprocess.run([*command, *flags], cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    return wall, json.loads((report_dir / "report.json").read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=1000, help="examples for the throughput runs")
    parser.add_argument("--raw-seconds", type=float, default=5.0, help="how long the raw loop runs")
    parser.add_argument("--skip-schemathesis", action="store_true", help="leave out the schemathesis CLI")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with reference() as base:
            raw = raw_loop(base, args.raw_seconds)
            print(f"raw httpx keep-alive loop:           {raw:8.1f} requests/s")
            wall, report = our_run(base, workdir, "--max-examples", str(args.max_examples), "--workers", "1")
            ours = report["stats"]["requests"] / report["duration_s"]
            print(
                f"dcs-conformance run (1 worker):      {ours:8.1f} checked requests/s "
                f"({report['stats']['requests']} requests in {report['duration_s']:.1f} s, {wall:.1f} s wall; "
                f"{ours / raw:.2f} of the raw loop)"
            )
            wall4, report4 = our_run(base, workdir, "--max-examples", str(args.max_examples), "--workers", "4")
            ours4 = report4["stats"]["requests"] / report4["duration_s"]
            print(
                f"dcs-conformance run (4 workers):     {ours4:8.1f} checked requests/s "
                f"({report4['stats']['requests']} requests in {report4['duration_s']:.1f} s, {wall4:.1f} s wall; "
                f"{ours4 / raw:.2f} of the raw loop)"
            )
            if not args.skip_schemathesis and shutil.which(str(BIN / "schemathesis")):
                st_wall, st_cases = schemathesis_cli(base, args.max_examples, workdir)
                st_rate = st_cases / st_wall if st_wall else 0.0
                ratio = f"{max(ours, ours4) / st_rate:.1f}x" if st_rate else "n/a"
                print(
                    f"schemathesis CLI:                    {st_rate:8.1f} cases/s ({st_cases} cases in "
                    f"{st_wall:.1f} s wall); dcs-conformance is {ratio}"
                )
        with reference("--latency-ms", "100") as slow:
            for workers in ("1", "4", "16"):
                wall, report = our_run(slow, workdir, "--workers", workers)
                print(
                    f"default run, --latency-ms 100, {workers} worker(s): {wall:6.1f} s wall to a verdict "
                    f"({report['stats']['requests']} requests, verdict {report['verdict']})"
                )
        wall, report = our_run(None, workdir)
        print(f"embedded default run:                {wall:8.1f} s wall ({report['stats']['requests']} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
