"""Throughput and wall-time figures, side by side in one go, each against the goal it has: figures only, it never
passes or fails.

1. the raw ceiling: a plain httpx keep-alive loop posting valid batches to the reference server;
2. `dcs-conformance run --max-examples N` against the same target, 1 and 4 workers, and 1 with `--no-cache`:
   checked requests per second inside the run (goal: at least half the raw loop's rate);
3. the schemathesis CLI on the same spec and target (`--continue-on-failure`), its cases as it reports them;
4. the embedded default run (`dcs-conformance run --quiet --seed 1`), whole process, wall and CPU (the reference's
   process included), median of 5 after a warm-up (goal: 1.5 s): its schemathesis cases replayed from the drawing
   cache (the warm-up drew them), and drawn afresh by the drawing child (`--no-cache`); beside it the same run with
   its reference in the run's own process, as it was before it had one of its own;
5. `--help` and a usage error (`run --base-url htp://x`), whole process, median of 5 after a warm-up (goal: 0.2 s);
6. the default run against the reference with `serve --latency-ms 100`, default workers, median of 3 (goal: 4 s).

The reference runs in a child process (`dcs-conformance serve`), as a vendor's server would; our figures come from
the run's own report.json (requests and duration). The runs keep their drawing cache in a temporary directory of
their own (never the user's): the throughput runs replay what a first, untimed run drew (each is also shown with
`--no-cache`). Wall times on a shared machine vary with its load, printed first and last: CPU times vary much less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "batch-restart.yaml"
PROJECT = "p-bench"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


def raw_loop(base: str, seconds: float) -> tuple[float, float]:
    """Requests per second of a plain keep-alive loop posting a valid batch of 3 unknown IDs, and its CPU seconds a
    request (this process's)."""
    body = json.dumps({"migration_tasks": [f"00000000-0000-4000-8000-00000000000{n}" for n in range(3)]}).encode()
    url = f"{base}/v2/{PROJECT}/migration-tasks/batch-restart"
    headers = {"Content-Type": "application/json;charset=utf-8"}
    sent = 0
    with httpx.Client() as client:
        cpu = time.process_time()
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            client.post(url, content=body, headers=headers).raise_for_status()
            sent += 1
        return sent / (time.perf_counter() - started), (time.process_time() - cpu) / sent


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


def our_run(base: str | None, workdir: Path, *flags: str) -> tuple[float, dict[str, Any], float]:
    """Wall time of `dcs-conformance run`, its report, and its CPU seconds (user + system: the run's process and
    its drawing child, imports and report writing included)."""
    report_dir = workdir / f"report-{time.monotonic_ns()}"
    command = [str(BIN / "dcs-conformance"), "run", "--seed", "1", "--report-dir", str(report_dir), "--quiet"]
    if base:
        command += ["--base-url", base, "--project-id", PROJECT]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*command, *flags], cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, json.loads((report_dir / "report.json").read_text(encoding="utf-8")), cpu


#: The embedded run with its reference in the run's own process (open_target's in_process mode), for comparison.
IN_PROCESS_RUN = """
import contextlib, functools, sys
from conformance.app import target
from conformance.cli import main, run
target.open_target = functools.partial(target.open_target, in_process=True)
run.reference_started_early = lambda args: contextlib.nullcontext()
sys.exit(main.main(sys.argv[1:]))
"""


def timed(command: list[str], workdir: Path, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds (user + system, children included) of ``runs`` runs after a warm-up."""
    walls, cpus = [], []
    for attempt in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if attempt:  # the first run warms the caches
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def row(figure: str, measured: str, goal: str = "", ratio: str = "") -> None:
    print(f"| {figure} | {measured} | {goal} | {ratio} |", flush=True)


def against(value: float, goal: float, *, at_least: bool = False) -> str:
    """``value`` as a fraction of ``goal``, and whether it meets it."""
    met = value >= goal if at_least else value <= goal
    return f"{value / goal:.2f} of the goal: {'met' if met else 'not met'}"


def load() -> str:
    return "load average " + " ".join(f"{figure:.1f}" for figure in os.getloadavg())


def startup_rows(cli: str, workdir: Path, runs: int) -> None:
    """The figures of a whole process: the embedded default run (its reference in its own process, then in the
    run's), `--help` and a usage error; each the median wall and CPU (every process of the command) of ``runs``."""
    embedded = [cli, "run", "--quiet", "--seed", "1", "--report-dir", str(workdir / "embedded")]
    wall, cpu = timed(embedded, workdir, runs)
    row(
        "embedded default run (`run --quiet --seed 1`), reference in its own process",
        f"{wall:.2f} s wall, {cpu:.2f} s CPU",
        "<= 1.5 s",
        against(wall, 1.5),
    )
    wall, cpu = timed([*embedded, "--no-cache"], workdir, runs)
    row("the same, `--no-cache` (the drawing child draws every time)", f"{wall:.2f} s wall, {cpu:.2f} s CPU")
    here = [sys.executable, "-c", IN_PROCESS_RUN, *embedded[1:]]
    wall, cpu = timed(here, workdir, runs)
    row("the same, reference in the run's process", f"{wall:.2f} s wall, {cpu:.2f} s CPU")
    for name, command in (
        ("`--help`", [cli, "--help"]),
        ("a usage error (`run --base-url htp://x`)", [cli, "run", "--base-url", "htp://x"]),
    ):
        wall, cpu = timed(command, workdir, runs)
        row(name, f"{wall:.2f} s wall, {cpu:.2f} s CPU", "<= 0.2 s", against(wall, 0.2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=1000, help="examples for the throughput runs")
    parser.add_argument("--raw-seconds", type=float, default=5.0, help="how long the raw loop runs")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (after a warm-up) for each wall time")
    parser.add_argument("--skip-schemathesis", action="store_true", help="leave out the schemathesis CLI")
    parser.add_argument(
        "--startup-only", action="store_true", help="only the embedded run, --help and the usage error (4 and 5)"
    )
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; {load()}")
    print("| figure | measured | goal | against the goal |")
    print("|---|---|---|---|")
    cli = str(BIN / "dcs-conformance")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.environ["DCS_CONFORMANCE_CACHE_DIR"] = str(workdir / "drawn")
        if args.startup_only:
            startup_rows(cli, workdir, args.runs)
            print(f"after: {load()}")
            return 0
        with reference() as base:
            raw, raw_cpu = raw_loop(base, args.raw_seconds)
            row("raw httpx keep-alive loop", f"{raw:.0f} requests/s, {raw_cpu * 1000:.2f} ms CPU a request")
            examples = ("--max-examples", str(args.max_examples))
            our_run(base, workdir, *examples)  # draws the cases the runs below replay
            for flags in (("--workers", "1"), ("--workers", "4"), ("--workers", "1", "--no-cache")):
                wall, report, cpu = our_run(base, workdir, *examples, *flags)
                requests = report["stats"]["requests"]
                ours = requests / report["duration_s"]
                row(
                    f"checked requests/s, `--max-examples {args.max_examples} {' '.join(flags)}`",
                    f"{ours:.0f} ({requests} requests in {report['duration_s']:.1f} s, {wall:.1f} s wall, "
                    f"{cpu * 1000 / requests:.2f} ms CPU a request): {ours / raw:.2f} of the raw loop",
                    ">= 0.5 of the raw loop (so >= 300/s once it reaches 600/s)",
                    against(ours / raw, 0.5, at_least=True),
                )
            if not args.skip_schemathesis and shutil.which(str(BIN / "schemathesis")):
                st_wall, st_cases = schemathesis_cli(base, args.max_examples, workdir)
                st_rate = st_cases / st_wall if st_wall else 0.0
                row("schemathesis CLI, same spec and target", f"{st_rate:.1f} cases/s ({st_cases} in {st_wall:.1f} s)")
        startup_rows(cli, workdir, args.runs)
        with reference("--latency-ms", "100") as slow:
            runs = [our_run(slow, workdir) for _ in range(3)]
            walls, report = [wall for wall, _, _ in runs], runs[-1][1]
            row(
                "default run against `serve --latency-ms 100`, default workers",
                f"{statistics.median(walls):.2f} s wall, {statistics.median(cpu for _, _, cpu in runs):.2f} s CPU, "
                f"median of 3 ({report['stats']['requests']} requests, {report['verdict']})",
                "<= 4 s",
                against(statistics.median(walls), 4.0),
            )
    print(f"after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
