"""The overview of many targets: summary.json (a targets x requirements matrix) and index.html.

Built from report dictionaries (report.json) alone, so ``run --config`` with many targets and ``summarize`` over
report directories that CI matrix jobs produced elsewhere give the same overview. When targets disagree, one exit
code stands for them all, the worst in this order: interrupted (130, 143) > error (3) > non-conformant (1) >
incomplete (4) > a target whose settings were unusable (2) > conformant (0).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from conformance import __version__
from conformance.report.model import Report
from conformance.report.store import ReportError, load_report
from conformance.support.errors import OverviewError as OverviewError
from conformance.support.files import write_atomically
from conformance.support.jsontext import dumps_strict
from conformance.support.terminal import printable

SUMMARY_FILE = "summary.json"
INDEX_FILE = "index.html"
TEMPLATE = "overview.html.j2"
STYLESHEET = "overview.css"

#: The run's exit code for each verdict (the runner's EXIT_CODES, without importing the engine).
VERDICT_EXIT_CODES = {"conformant": 0, "conformant-with-warnings": 0, "non-conformant": 1, "error": 3, "incomplete": 4}
#: A target that produced no report (its settings were unusable when its run started, or its process died).
NOT_RUN = "not run"
#: Worst first: the exit code that stands for many targets.
EXIT_ORDER = (130, 143, 3, 1, 4, 2, 0)
#: Worst first: the verdict that stands for many targets, in the same order as the exit codes.
VERDICT_ORDER = ("error", "non-conformant", "incomplete", NOT_RUN, "conformant-with-warnings", "conformant")
STATUS_MARKS = {"passed": "✓", "failed": "✗", "warning": "!", "skipped": "–", "error": "!"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class TargetReport:
    """One target's outcome: its report directory, and the report it holds (None when it produced none)."""

    name: str
    directory: Path
    report: Report | None
    #: The process's exit code when known (``run --config``); otherwise the verdict's.
    exit_code: int | None = None
    #: Why there is no report.
    problem: str | None = None

    @property
    def verdict(self) -> str:
        return str(self.report.get("verdict", "error")) if self.report is not None else NOT_RUN

    @property
    def code(self) -> int:
        if self.exit_code is not None:
            return self.exit_code
        return VERDICT_EXIT_CODES.get(self.verdict, 3) if self.report is not None else 2


def worst_exit_code(codes: Iterable[int]) -> int:
    """The exit code that stands for many targets (see the module docstring); 0 for none."""
    ranked = sorted(codes, key=lambda code: EXIT_ORDER.index(code) if code in EXIT_ORDER else 2)
    return ranked[0] if ranked else 0


def worst_verdict(verdicts: Iterable[str]) -> str:
    ranked = sorted(verdicts, key=lambda v: VERDICT_ORDER.index(v) if v in VERDICT_ORDER else 0)
    return ranked[0] if ranked else NOT_RUN


# ---------------------------------------------------------------------------------------------------------------
# Reading report directories.


def read_report_dir(directory: Path, name: str) -> TargetReport:
    """The report in ``directory``, read as report.store.load_report reads other runs' reports: loosely, by its keys
    (a CI job elsewhere may have run another suite version)."""
    try:
        return TargetReport(name, directory, load_report(directory, loosely=True))
    except ReportError as exc:
        raise OverviewError(str(exc)) from None


def names_for(directories: list[Path]) -> list[str]:
    """Each directory's name, or as many trailing path parts as it takes to tell same-named ones apart."""
    resolved = [directory.resolve() for directory in directories]
    if len(set(resolved)) != len(resolved):
        twice = next(str(d) for d, r in zip(directories, resolved, strict=True) if resolved.count(r) > 1)
        raise OverviewError(f"{twice} is given twice")
    parts = [path.parts for path in resolved]
    depth = [1] * len(parts)
    while True:
        names = ["/".join(p[-d:]) for p, d in zip(parts, depth, strict=True)]
        clashing = {name for name in names if names.count(name) > 1}
        if not clashing:
            return names
        for index, name in enumerate(names):
            if name in clashing and depth[index] < len(parts[index]):
                depth[index] += 1


def read_report_dirs(directories: list[Path]) -> list[TargetReport]:
    """The reports of directories produced elsewhere (a CI matrix's jobs), named after their directories."""
    return [read_report_dir(d, name) for d, name in zip(directories, names_for(directories), strict=True)]


# ---------------------------------------------------------------------------------------------------------------
# The summary.


def _relative(directory: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(directory.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive
        return directory.resolve().as_posix()


def _target_entry(target: TargetReport, overview_dir: Path) -> dict[str, Any]:
    # Reports from other runs are read loosely (read_report_dir): any part may be missing.
    report: dict[str, Any] = dict(target.report or {})
    facts: dict[str, Any] = dict(report.get("target") or {})
    return {
        "name": target.name,
        "report_dir": _relative(target.directory, overview_dir),
        "verdict": target.verdict,
        "exit_code": target.code,
        "verdict_reason": report.get("verdict_reason") or target.problem,
        "error": report.get("error") or target.problem,
        "diagnosis": list(report.get("diagnosis") or []),
        "base_url": facts.get("base_url"),
        "project_id": facts.get("project_id"),
        "embedded": facts.get("embedded"),
        "faults": list(facts.get("faults") or []),
        "variants": list(facts.get("variants") or []),
        "seed": report.get("seed"),
        "suite_version": report.get("suite_version"),
        "spec_sha256": report.get("spec_sha256"),
        "started_at": report.get("started_at"),
        "duration_s": report.get("duration_s"),
        "counts": report.get("counts") or {},
    }


def build(targets: list[TargetReport], overview_dir: Path) -> dict[str, Any]:
    """The overview dictionary written to summary.json: every target's verdict and facts, and for every
    requirement any target judged, its status per target (a target without a report has none)."""
    rows: dict[str, dict[str, Any]] = {}
    for target in targets:
        for item in target.report["requirements"] if target.report else []:
            row = rows.setdefault(
                item["id"], {"id": item["id"], "level": item.get("level"), "title": item.get("title"), "statuses": {}}
            )
            row["statuses"][target.name] = item.get("status")
    notes = []
    for key, what in (
        ("spec_sha256", "different contracts (spec_sha256)"),
        ("suite_version", "different suite versions"),
    ):
        values = {str(t.report.get(key)) for t in targets if t.report is not None}
        if len(values) > 1:
            notes.append(f"the targets were judged against {what}: {', '.join(sorted(values))}")
    return {
        "kind": "dcs-conformance overview",
        "suite_version": __version__,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verdict": worst_verdict(t.verdict for t in targets),
        "exit_code": worst_exit_code(t.code for t in targets),
        "exit_order": "interrupted (130, 143) > error (3) > non-conformant (1) > incomplete (4) > not run (2) > 0",
        "notes": notes,
        "targets": [_target_entry(target, overview_dir) for target in targets],
        "requirements": list(rows.values()),
    }


def write(summary: dict[str, Any], overview_dir: Path) -> list[Path]:
    """summary.json and index.html into the overview directory, each written whole or not at all."""
    return [
        write_atomically(overview_dir / SUMMARY_FILE, dumps_strict(summary) + "\n"),
        write_atomically(overview_dir / INDEX_FILE, render(summary)),
    ]


def text_lines(summary: dict[str, Any]) -> list[str]:
    """The overview for a terminal: one line per target (its values from reports, so escaped onto that line)."""
    summary = cast(dict[str, Any], printable(summary))
    width = max([len(t["name"]) for t in summary["targets"]] + [6])
    lines = []
    for target in summary["targets"]:
        counts = target["counts"]
        tally = (
            f"{counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed, {counts.get('warning', 0)} warning, "
            f"{counts.get('skipped', 0)} skipped"
            if counts
            else (target["error"] or "no report")
        )
        lines.append(f"{target['name']:<{width}}  {target['verdict']:<25} exit {target['exit_code']}  {tally}")
    return lines


# ---------------------------------------------------------------------------------------------------------------
# index.html: self-contained, escaped, and allowed to load nothing (as the per-target report page).


def render(summary: dict[str, Any]) -> str:
    """The overview page: the verdict for all targets, a row per target, and the requirement matrix whose cells
    link to each target's own report."""
    from markupsafe import Markup

    from conformance.reporters import page
    from conformance.reporters.html_text import beyond_diagnosis

    env = page.environment()
    css = page.asset(STYLESHEET)
    columns = [t["name"] for t in summary["targets"]]
    # Quoted: a directory name becomes a relative URL path, never a scheme (no ':' survives).
    links = {t["name"]: quote(f"{t['report_dir']}/{INDEX_FILE}") for t in summary["targets"]}
    # The reason of an incomplete run begins with its first diagnosis: "why" states the diagnosis once.
    why = {
        t["name"]: beyond_diagnosis(str(t.get("verdict_reason") or ""), [str(m) for m in t.get("diagnosis") or []])
        for t in summary["targets"]
    }
    rows = [
        {
            **row,
            "cells": [
                {"status": row["statuses"].get(name), "mark": STATUS_MARKS.get(row["statuses"].get(name) or "", "")}
                for name in columns
            ],
        }
        for row in summary["requirements"]
    ]
    html = env.get_template(TEMPLATE).render(
        css=Markup(css),
        csp=page.content_security_policy(css),
        summary=summary,
        columns=columns,
        links=links,
        rows=rows,
        why=why,
    )
    return page.utf8_safe(html)
