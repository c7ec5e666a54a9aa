"""The kill matrix as figures: every fault must be caught, every legitimate variant certified, at every fixture set.

Runs at each --sizes fixture set (restartable+non-restartable tasks seeded into the embedded reference, or
"default", the reference's own 100+48). Prints one line per fault and variant (size, expected verdict, verdict,
failed requirements, requests sent, seconds and the request number of the first MUST failure), then the totals of
each size. A fault whose bug cannot show with that many tasks (its ``min_fixtures``: a quota of 2 restarts per call
needs 3 restartable tasks in one call) is not run there and is listed as such. At the default size variants run with
every --seeds, elsewhere with the first. Seconds depend on the machine's load; the request number does not. Figures
only: it never passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.reference.behaviour import Mod
from conformance.reference.faults import FAULTS
from conformance.reference.variants import VARIANTS
from conformance.support.caches import keep_hypothesis_out_of_the_working_directory

#: The fixture sets the matrix runs at unless told: staging-sized ones, and the reference's own.
SIZES = "1+1,2+1,3+2,6+2,default"
DEFAULT = "default"
#: What the embedded reference seeds when no size is given (reference/store.seed_store's defaults).
DEFAULT_FIXTURES = (100, 48)


def parse_size(text: str) -> tuple[int, int] | None:
    """ "R+N" as (R, N); "default" as None (the reference's own fixture set)."""
    if text == DEFAULT:
        return None
    restartable, _, not_restartable = text.partition("+")
    return int(restartable), int(not_restartable)


def can_show(mod: type[Mod], size: tuple[int, int] | None) -> bool:
    """Whether the fault's bug can show with ``size`` fixtures (its declared ``min_fixtures``)."""
    have = size or DEFAULT_FIXTURES
    return all(got >= needed for got, needed in zip(have, mod.min_fixtures, strict=True))


def judge(
    tmp: Path,
    seed: int,
    max_examples: int,
    size: tuple[int, int] | None,
    fault: str | None = None,
    variant: str | None = None,
) -> dict[str, Any]:
    flags: dict[str, object] = {
        "seed": seed,
        "max_examples": max_examples,
        "report_dir": str(tmp / f"{fault or variant}-{seed}-{size}"),
        "fault": [fault] if fault else None,
        "variant": [variant] if variant else None,
    }
    if size is not None:
        flags["embedded_restartable"], flags["embedded_not_restartable"] = size
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
    parser.add_argument(
        "--sizes", default=SIZES, help=f"fixture sets, restartable+non-restartable or {DEFAULT} (default: {SIZES})"
    )
    parser.add_argument(
        "--variant-sizes", default=SIZES, help="the sizes at which the variants run too (default: every size)"
    )
    args = parser.parse_args()
    totals = [run_size(args, text) for text in args.sizes.split(",")]
    print()
    for line in totals:
        print(line)
    return 0


def run_size(args: argparse.Namespace, text: str) -> str:
    """The matrix at one fixture set: a line per fault and variant, and the size's totals (also returned)."""
    size = parse_size(text)

    killed = missed = passed = wrongly_failed = 0
    detections: list[tuple[float, str]] = []
    first_requests: list[int] = []
    latest: tuple[int, str] = (0, "-")
    cannot: list[str] = []
    print(
        f"{'size':<8}{'kind':<8}{'name':<28}{'seed':>5}  {'expected':<16}{'verdict':<26}{'req':>5}{'to 1st':>8}"
        f"{'1st req':>8}  failed"
    )
    with tempfile.TemporaryDirectory() as tmp:
        kinds = (("fault", FAULTS), ("variant", VARIANTS))
        for kind, registry in kinds if text in args.variant_sizes.split(",") else kinds[:1]:
            seeds = args.seeds[: args.fault_seeds] if kind == "fault" or size is not None else args.seeds
            for name, mod in sorted(registry.items()):
                if args.only and name not in args.only:
                    continue
                if kind == "fault" and not can_show(mod, size):
                    cannot.append(f"{name} (needs {'+'.join(map(str, mod.min_fixtures))})")
                    print(f"{text:<8}{kind:<8}{name:<28}{'-':>5}  cannot show with {text} fixtures", flush=True)
                    continue
                for seed in seeds:
                    result = judge(Path(tmp), seed, args.max_examples, size, **{kind: name})
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
                        f"{text:<8}{kind:<8}{name:<28}{seed:>5}  {expected:<16}{report['verdict']:<26}"
                        f"{report['stats']['requests']:>5}{to_first:>8}{first_request:>8}  "
                        f"{','.join(failed) or '-'}{mark}",
                        flush=True,
                    )
    median = statistics.median(seconds for seconds, _ in detections) if detections else float("nan")
    median_request = statistics.median(first_requests) if first_requests else float("nan")
    slowest = sorted(detections, reverse=True)[:3]
    print(
        f"{text}: slowest detections: "
        + ", ".join(f"{name} {seconds:.2f}s" for seconds, name in slowest)
        + f"; latest first detection: request #{latest[0]} ({latest[1]})"
    )
    return (
        f"{text}: faults killed: {killed}/{killed + missed}"
        + (f" ({len(cannot)} cannot show: {', '.join(cannot)})" if cannot else "")
        + f"; variants passed: {passed}/{passed + wrongly_failed}; "
        f"median seconds to first detection: {median:.2f} (request #{median_request:.0f})"
    )


if __name__ == "__main__":
    sys.exit(main())
