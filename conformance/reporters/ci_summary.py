"""CI summaries: a markdown digest of a run (or of an overview of many) and GitHub workflow annotations.

Platform teams read a CI job's verdict where the CI shows it: GitHub's step summary and annotations, a GitLab or
Jenkins page fed from a markdown file. Everything here is computed from report dictionaries (report.json) or the
overview's summary.json alone, and every secret the run knew of is masked once more before anything is written:
the reports hold none, but a summary goes to places a report never does.

Text from the target (explanations quote its answers) is untrusted: it is escaped for markdown tables and HTML,
and shortened to one line.
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from conformance.config.table import credential_variables
from conformance.report.model import Report, Requirement
from conformance.reporters.html_text import beyond_diagnosis
from conformance.reporters.text import evidence_summary, one_line
from conformance.support.redaction import Redactor, proxy_secrets
from conformance.support.terminal import GuardedStream, WorkflowCommand, inert, workflow_command

#: Environment variables that may hold a credential: masked in every summary even if a report somehow held one.
MARKS = {
    "conformant": "✅",
    "conformant-with-warnings": "⚠️",
    "non-conformant": "❌",
    "incomplete": "❔",
    "error": "💥",
    "not run": "⛔",
}


class Writer(Protocol):
    """Where annotations go: stdout, or pytest's terminal reporter (which writes to it in order)."""

    def write(self, text: str) -> Any: ...

    def flush(self) -> Any: ...


STATUS_MARKS = {"passed": "✅", "failed": "❌", "warning": "⚠️", "skipped": "⏭️", "error": "💥"}


# ---------------------------------------------------------------------------------------------------------------
# Markdown.


def cell(text: Any, limit: int = 200) -> str:
    """Untrusted text made safe for one markdown table cell: one line, HTML-escaped, pipes and backticks
    neutralised (so a target cannot close the cell, open a code span or inject markup)."""
    flat = html.escape(one_line(str(text), limit), quote=False).replace("\\", "\\\\")
    return flat.replace("|", "\\|").replace("`", "'").replace("[", "\\[").replace("]", "\\]")


def _target_line(report: Report) -> str:
    target: dict[str, Any] = dict(report.get("target") or {})
    parts = [f"`{cell(target.get('base_url', 'unknown target'), 120)}`"]
    if target.get("project_id"):
        parts.append(f"project `{cell(target['project_id'], 80)}`")
    for key in ("faults", "variants"):
        if target.get(key):
            parts.append(f"{key[:-1]} {', '.join(cell(name, 60) for name in target[key])}")
    parts.append(f"seed {cell(report.get('seed'), 40)}")
    parts.append(f"dcs-conformance {cell(report.get('suite_version', '?'), 40)}")
    return " · ".join(parts)


def _requirements_table(title: str, rows: list[Requirement], *, evidence: bool) -> list[str]:
    if not rows:
        return []
    header = "| Requirement | Level | Evidence |" if evidence else "| Requirement | Level | Why skipped |"
    lines = [f"### {title}", "", header, "|---|---|---|"]
    for item in rows:
        why = evidence_summary(item) if evidence else str(item.get("reason", ""))
        needs = (
            f" (needs: {cell(', '.join(map(str, item['needs'])), 120)})" if not evidence and item.get("needs") else ""
        )
        name = f"**{cell(item['id'], 40)}** {cell(item['title'], 120)}"
        lines.append(f"| {name} | {cell(item['level'], 20)} | {cell(why)}{needs} |")
    return [*lines, ""]


def report_markdown(report: Report, report_dir: str | None = None, *, heading: str = "##") -> str:
    """The markdown digest of one run: verdict, what failed and warned with one line of evidence each, the MUST
    requirements left unexercised and why, and where the reports are."""
    verdict = str(report.get("verdict", "error"))
    lines = [f"{heading} {MARKS.get(verdict, '')} DCS conformance: {cell(verdict, 40)}", "", _target_line(report), ""]
    diagnosis = [str(message) for message in report.get("diagnosis") or []]
    for message in diagnosis:
        lines += [f"> **diagnosis:** {cell(message, 400)}", ""]
    # The reason of an incomplete run begins with its first diagnosis: the digest states it once, as the page does.
    reason = beyond_diagnosis(str(report.get("verdict_reason") or ""), diagnosis)
    if reason:
        lines += [f"> **{cell(verdict, 40)}:** {cell(reason, 400)}", ""]
    counts = report.get("counts") or {}
    if counts:
        shown = [
            f"{cell(counts.get(status, 0), 20)} {status}"
            for status in ("passed", "failed", "warning", "skipped", "error")
        ]
        lines += [f"{cell(counts.get('total', 0), 20)} requirements: " + ", ".join(shown), ""]
    requirements = report.get("requirements") or []
    failed = [item for item in requirements if item.get("status") in ("failed", "error")]
    warned = [item for item in requirements if item.get("status") == "warning"]
    skipped = [item for item in requirements if item.get("status") == "skipped" and item.get("level") == "MUST"]
    lines += _requirements_table("Failed", failed, evidence=True)
    lines += _requirements_table("Warnings (SHOULD)", warned, evidence=True)
    lines += _requirements_table("MUST requirements not exercised", skipped, evidence=False)
    if report_dir:
        lines += [f"Reports: `{cell(report_dir, 300)}/` (index.html, report.json, junit.xml){_run_link()}", ""]
    return "\n".join(lines)


def overview_markdown(summary: dict[str, Any], overview_dir: str | None = None) -> str:
    """The markdown digest of many targets: one line per target, then each target's failures and warnings."""
    verdict = str(summary.get("verdict", "error"))
    targets = summary.get("targets") or []
    lines = [f"## {MARKS.get(verdict, '')} DCS conformance: {cell(verdict, 40)} ({len(targets)} targets)", ""]
    lines += ["| Target | Verdict | Failed | Warnings | Skipped | Reason |", "|---|---|---|---|---|---|"]
    for target in targets:
        counts = target.get("counts") or {}
        lines.append(
            f"| **{cell(target['name'], 64)}** `{cell(target.get('base_url') or '', 100)}` "
            f"| {MARKS.get(target['verdict'], '')} {cell(target['verdict'], 40)} | {cell(counts.get('failed', 0), 20)} "
            f"| {cell(counts.get('warning', 0), 20)} | {cell(counts.get('skipped', 0), 20)} "
            f"| {cell(target.get('verdict_reason') or '')} |"
        )
    lines.append("")
    for note in summary.get("notes") or []:
        lines += [f"> **note:** {cell(note, 400)}", ""]
    for row in summary.get("requirements") or []:
        bad = {name: status for name, status in row["statuses"].items() if status in ("failed", "error", "warning")}
        if bad:
            where = ", ".join(f"{cell(name, 64)} {STATUS_MARKS.get(status, status)}" for name, status in bad.items())
            lines.append(f"- **{cell(row['id'], 40)}** ({cell(row['level'], 20)}) {cell(row['title'], 120)}: {where}")
    if overview_dir:
        lines += ["", f"Overview: `{cell(overview_dir, 300)}/index.html`, one report directory per target{_run_link()}"]
    return "\n".join(lines) + "\n"


def _run_link() -> str:
    """In GitHub Actions, a link to the run's page, where its artifacts (the uploaded reports) are listed."""
    server, repo, run = (os.environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run and run.isdigit() and server.startswith("https://"):
        return f"; artifacts: [this run]({html.escape(server)}/{html.escape(repo)}/actions/runs/{run})"
    return ""


# ---------------------------------------------------------------------------------------------------------------
# GitHub workflow annotations.


def annotation(kind: str, title: str, message: str) -> WorkflowCommand:
    """One workflow command, e.g. ``::error title=BR-REQ-009 (MUST)::...``, escaped as GitHub documents (see
    support.terminal.workflow_command: the one way a command of ours is made)."""
    return workflow_command(kind, {"title": title}, message)


def report_annotations(report: Report, name: str | None = None) -> list[WorkflowCommand]:
    """``::error`` per failed MUST requirement (and per requirement the run could not judge), ``::warning`` per
    violated SHOULD; one ``::error`` for a run that ended incomplete or in error, which no requirement shows."""
    prefix = f"{name}: " if name else ""
    out = []
    for item in report.get("requirements") or []:
        status, level = item.get("status"), item.get("level")
        title = one_line(f"{prefix}{item.get('id')} ({level})", 120) + " " + one_line(item.get("title", ""), 80)
        if status in ("failed", "warning") and level != "MUST":
            out.append(annotation("warning", title, evidence_summary(item)))
        elif status in ("failed", "error"):
            out.append(annotation("error", title, evidence_summary(item)))
    verdict = report.get("verdict")
    if verdict in ("incomplete", "error"):
        why = report.get("verdict_reason") or report.get("error") or verdict
        out.append(annotation("error", f"{prefix}dcs-conformance: {verdict}", one_line(str(why), 400)))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Publishing.


def known_secrets(env: Mapping[str, str], extra: Iterable[str | None] = ()) -> list[str]:
    """Every credential value the process knows of: the run's own, and those in the environment variables that
    carry credentials (including the ones a targets file names)."""
    values = [env.get(name) for name in credential_variables()]
    return [value for value in (*values, *extra, *proxy_secrets(env)) if value]


def unwritable(path: Path) -> str | None:
    """Why a summary file could not be written there (checked before a run, so a typo costs no run); None if it
    can. Missing directories are fine: they are created, as the report directory is."""
    if path.is_symlink():
        return "is a symbolic link, and the suite never writes through one"
    if path.is_dir():
        return "is a directory"
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a directory"
    if not os.access(ancestor, os.W_OK):
        return f"{ancestor} is not writable"
    return None


def publish(
    markdown: str,
    annotations: list[WorkflowCommand],
    *,
    summary_md: Path | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Iterable[str | None] = (),
    out: Writer | None = None,
) -> list[str]:
    """Write the markdown to ``summary_md`` (replaced) and, when GITHUB_STEP_SUMMARY is set, append it there; print
    the annotations when GITHUB_ACTIONS is true. Secrets are masked first. Returns warnings (a summary file that
    could not be written must not fail the run); a ``summary_md`` that cannot be written raises OSError."""
    env = os.environ if env is None else env
    redactor = Redactor(known_secrets(env, secrets))
    markdown = redactor.text(markdown)
    warnings: list[str] = []
    if summary_md is not None:
        from conformance.support.files import write_atomically

        write_atomically(summary_md, markdown)
    step_summary = env.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
        except OSError as exc:
            warnings.append(f"could not append to GITHUB_STEP_SUMMARY ({step_summary}): {exc.strerror or exc}")
    if env.get("GITHUB_ACTIONS") == "true" and annotations:
        stream = out or sys.stdout
        for command in annotations:
            redacted = redactor.text(command)
            if not isinstance(command, WorkflowCommand):  # not made by workflow_command: never acted on
                stream.write(inert(redacted) + "\n")
            elif isinstance(stream, GuardedStream):  # the CLI's stdout: the one way past its inert()
                stream.write_command(WorkflowCommand(redacted))
            else:  # pytest's terminal reporter
                stream.write(redacted + "\n")
        stream.flush()
    return warnings
