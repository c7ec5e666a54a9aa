"""``verify BUNDLE --rerun``: judge the target again with the certificate's seed and options, and compare the two
runs requirement by requirement (report.compare), so that a platform team can check that a vendor's mock still
behaves as it did when it was certified.

The rerun's settings are the bundle's (seed, every option, and for an embedded run its faults, variants and seeded
tasks) with the target the user names (base URL, project, fixtures, credentials, TLS), all resolved and checked by
``config.settings.resolve`` exactly as a run's are, before anything is sent. Its reports go to a directory of their
own, never into the bundle.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.app.run import execute
from conformance.config import table
from conformance.config.reproducer import reproducer
from conformance.config.settings import RunSettings, resolve
from conformance.report.compare import compare
from conformance.report.model import Report

#: What the user gives to name the target of a rerun (the flags of ``run`` that say what is judged and how to
#: reach it); everything else comes from the bundle.
TARGET_FLAGS = tuple(setting.name for setting in table.rerun_targets())
#: The bundle's options a rerun takes over, as report.json records them under ``options``.
OPTIONS = tuple(setting.name for setting in table.SETTINGS if setting.reported)
#: The embedded reference's seeded tasks are recorded only in the reproducing command (when not the default).
EMBEDDED_COUNTS = ("embedded_restartable", "embedded_not_restartable")


@dataclass(frozen=True)
class Difference:
    requirement: str
    level: str
    certified: str
    now: str
    reason: str


@dataclass(frozen=True)
class Rerun:
    report: Report
    report_dir: Path
    exit_code: int
    differences: list[Difference]


def rerun_settings(
    report: Report, flags: Mapping[str, Any], report_dir: Path, env: Mapping[str, str] | None = None
) -> RunSettings:
    """The settings of a rerun of ``report``'s run against the target ``flags`` name (SettingsError for a mistake)."""
    from conformance.reference.embedded import check_deviations

    options: dict[str, Any] = dict(report.get("options") or {})
    target: dict[str, Any] = dict(report.get("target") or {})
    merged: dict[str, Any] = {key: flags.get(key) for key in TARGET_FLAGS}
    merged.update({key: options.get(key) for key in OPTIONS})
    merged["strict"] = merged["strict"] or None
    merged["certify"] = merged["certify"] or None
    merged["seed"] = int(report["seed"])
    merged["report_dir"] = str(report_dir)
    env = os.environ if env is None else env
    embedded = not (flags.get("base_url") or env.get(table.get("base_url").env or ""))
    if embedded:  # the embedded reference, as the bundle had it
        merged["fault"] = list(dict.fromkeys([*(target.get("faults") or []), *(flags.get("fault") or [])]))
        merged["variant"] = list(dict.fromkeys([*(target.get("variants") or []), *(flags.get("variant") or [])]))
        for key in EMBEDDED_COUNTS:
            if merged[key] is None:
                merged[key] = recorded_flag(str(report.get("command") or ""), "--" + key.replace("_", "-"))
    return resolve(merged, env, check_deviations=check_deviations)


def recorded_flag(command: str, flag: str) -> int | None:
    """The whole number that follows ``flag`` in a reproducing command, or None."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for here, word in enumerate(words[:-1]):
        if word == flag and words[here + 1].isdigit():
            return int(words[here + 1])
    return None


def rerun(
    certified: Report, settings: RunSettings, *, bundle_name: str, progress: Callable[[str], None] | None = None
) -> Rerun:
    """Judge the target again (app.run.execute) and compare every requirement's status with the certificate's."""
    say = progress or (lambda message: print(message, file=sys.stderr, flush=True))
    outcome = execute(settings, command=reproducer(settings), progress=say)
    comparison = compare(
        dict(certified), dict(outcome.report), base_name=bundle_name, candidate_name=str(outcome.report_dir)
    )
    differences = [
        Difference(
            requirement=str(row["id"]),
            level=str(row["level"]),
            certified=str(row["base"]),
            now=str(row["candidate"]),
            reason=str(row["candidate_reason"] or ""),
        )
        for row in comparison["requirements"]["rows"]
        if not row["same"]
    ]
    return Rerun(
        report=outcome.report, report_dir=outcome.report_dir, exit_code=outcome.exit_code, differences=differences
    )
