"""The kill matrix as figures: every fault must be caught, every legitimate variant certified.

Prints one line per fault and variant (expected verdict, verdict, failed requirements, requests sent, seconds and
the request number of the first MUST failure), then the totals. Seconds depend on the machine's load; the request
number does not. Figures only: it never passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.reference.faults import FAULTS
from conformance.reference.variants import VARIANTS
from conformance.support.caches import keep_hypothesis_out_of_the_working_directory


def judge(tmp: Path, seed: int, max_examples: int, fault: str | None = None, variant: str | None = None) -> dict:
    flags = {
        "seed": seed,
        "max_examples": max_examples,
        "report_dir": str(tmp / f"{fault or variant}-{seed}"),
        "fault": [fault] if fault else None,
        "variant": [variant] if variant else None,
    }
    started = time.perf_counter()
    report = execute(resolve(flags, env={}), progress=lambda _: None).report
    failed = sorted(item["id"] for item in report["requirements"] if item["status"] == "failed")
    return {"report": report, "failed": failed, "wall": time.perf_counter() - started}


def main() -> int:
    keep_hypothesis_out_of_the_working_directory()  # as the CLI does: the runs here call execute directly
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds for each variant (and fault)")
    parser.add_argument("--fault-seeds", type=int, default=1, help="how many of the seeds each fault runs with")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--only", nargs="*", help="run only these faults/variants")
    args = parser.parse_args()

    killed = missed = passed = wrongly_failed = 0
    detections: list[tuple[float, str]] = []
    first_requests: list[int] = []
    latest: tuple[int, str] = (0, "-")
    print(
        f"{'kind':<8}{'name':<28}{'seed':>5}  {'expected':<16}{'verdict':<26}{'req':>5}{'to 1st':>8}{'1st req':>8}"
        "  failed"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for kind, registry in (("fault", FAULTS), ("variant", VARIANTS)):
            seeds = args.seeds[: args.fault_seeds] if kind == "fault" else args.seeds
            for name, mod in sorted(registry.items()):
                if args.only and name not in args.only:
                    continue
                for seed in seeds:
                    result = judge(Path(tmp), seed, args.max_examples, **{kind: name})
                    report, failed = result["report"], result["failed"]
                    first = report["stats"]["first_must_failure"]
                    if kind == "fault":
                        ok = report["verdict"] == "non-conformant" and bool(set(mod.breaks) & set(failed))
                        killed += ok
                        missed += not ok
                        if first:
                            detections.append((first["seconds"], name))
                            first_requests.append(first["request"])
                            latest = max(latest, (first["request"], name))
                    else:
                        ok = report["verdict"] in ("conformant", "conformant-with-warnings")
                        passed += ok
                        wrongly_failed += not ok
                    expected = "non-conformant" if kind == "fault" else "conformant"
                    to_first = f"{first['seconds']:.2f}s" if first else "-"
                    first_request = f"#{first['request']}" if first else "-"
                    mark = "" if ok else "  <-- UNEXPECTED"
                    print(
                        f"{kind:<8}{name:<28}{seed:>5}  {expected:<16}{report['verdict']:<26}"
                        f"{report['stats']['requests']:>5}{to_first:>8}{first_request:>8}  "
                        f"{','.join(failed) or '-'}{mark}",
                        flush=True,
                    )
    median = statistics.median(seconds for seconds, _ in detections) if detections else float("nan")
    median_request = statistics.median(first_requests) if first_requests else float("nan")
    print()
    print(
        f"faults killed: {killed}/{killed + missed}; variants passed: {passed}/{passed + wrongly_failed}; "
        f"median seconds to first detection: {median:.2f} (request #{median_request:.0f})"
    )
    slowest = sorted(detections, reverse=True)[:3]
    print("slowest detections: " + ", ".join(f"{name} {seconds:.2f}s" for seconds, name in slowest))
    print(f"latest first detection: request #{latest[0]} ({latest[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
