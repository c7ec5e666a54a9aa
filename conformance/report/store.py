"""The report directory: which files the suite owns there, claiming it before a run, reading a report back.

A directory reused for another run must not keep the previous run's files: a badge.svg saying "conformant" next to
a non-conformant report.json is a false certificate. So before a run the suite removes the files it owns, and
refuses (a usage error) a directory holding anything else, since that is not ours to delete or to mix with.

Reading back (``report``, ``verify``): report.json must be a dcs-conformance report in the shape the reporters
read; anything else is named in one line, never met with a traceback.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import jsonschema

from conformance.config.settings import SettingsError
from conformance.report.model import Report
from conformance.support.jsontext import loads

REPORT_FILE = "report.json"
#: Every file a run may write into its directory (certify.py's bundle files and sums among them).
OWNED_FILES = ("report.json", "junit.xml", "index.html", "badge.svg", "SHA256SUMS", "SHA256SUMS.sig")
#: Left behind by an interrupted atomic write (files.write_atomically).
OWNED_TEMPORARY = tuple(f".{name}.tmp" for name in OWNED_FILES)

_STRING = {"type": "string"}
_COUNT = {"type": "integer", "minimum": 0}
_EXCHANGE = {
    "type": "object",
    "properties": {
        "label": _STRING,
        "explanation": _STRING,
        "request": {
            "type": "object",
            "properties": {
                "method": _STRING,
                "url": _STRING,
                "headers": {"type": "object", "additionalProperties": _STRING},
                "body": {"type": ["string", "null"]},
            },
        },
        "response": {
            "type": "object",
            "properties": {
                "status": {"type": ["integer", "null"]},
                "headers": {"type": "object", "additionalProperties": _STRING},
                "body": {"type": ["string", "null"]},
                "elapsed_ms": {"type": ["number", "null"]},
            },
        },
    },
}
#: The parts of report.json the reporters and verify read, with the types they rely on.
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "verdict",
        "suite_version",
        "spec_sha256",
        "target",
        "started_at",
        "duration_s",
        "counts",
        "requirements",
        "observations",
    ],
    "properties": {
        "verdict": _STRING,
        "error": {"type": ["string", "null"]},
        "suite_version": _STRING,
        "spec_sha256": _STRING,
        "catalogue_sha256": _STRING,
        "seed": {"type": ["integer", "string"]},
        "target": {"type": "object", "required": ["base_url"], "properties": {"base_url": _STRING}},
        "options": {"type": "object"},
        "command": _STRING,
        "started_at": _STRING,
        "duration_s": {"type": "number"},
        "stats": {"type": "object"},
        "counts": {
            "type": "object",
            "required": ["total", "passed", "failed", "warning", "skipped", "error"],
            "additionalProperties": _COUNT,
        },
        "requirements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "level", "title", "status", "reason", "evidence"],
                "properties": {
                    "id": _STRING,
                    "level": _STRING,
                    "title": _STRING,
                    "statement": _STRING,
                    "status": {"enum": ["passed", "failed", "warning", "skipped", "error"]},
                    "reason": _STRING,
                    "checks": _COUNT,
                    "violations": _COUNT,
                    "sources": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"cite": _STRING, "quote": _STRING}},
                    },
                    "evidence": {"type": "array", "items": _EXCHANGE},
                },
            },
        },
        "observations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": _STRING,
                    "seen": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"value": _STRING, "count": _COUNT}},
                    },
                    "evidence": {"type": "array", "items": _EXCHANGE},
                },
            },
        },
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(REPORT_SCHEMA)


def default_report_dir(root: Path = Path("reports")) -> Path:
    """reports/<UTC timestamp>/, with a suffix when a run of the same second already took it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = root / stamp
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = root / f"{stamp}-{suffix}"
    return candidate


def point_latest(report_dir: Path) -> str | None:
    """Keep reports/latest pointing at the newest run (a relative symlink, replaced atomically); say why not when
    it cannot be replaced."""
    latest = report_dir.parent / "latest"
    tmp = report_dir.parent / f".latest.{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        if latest.exists() and not latest.is_symlink():
            return f"{latest} is not a symlink, so it was left alone; the reports are in {report_dir}"
        tmp.symlink_to(report_dir.name, target_is_directory=True)
        tmp.replace(latest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return f"could not point {latest} at {report_dir}: {exc.strerror or exc}"
    return None


def claim(directory: Path) -> None:
    """Make ``directory`` ready for a run's files: remove what an earlier run left, or raise SettingsError if it
    holds anything the suite did not write."""
    if not directory.is_dir():
        return
    owned: list[Path] = []
    for entry in sorted(directory.iterdir()):
        if entry.name in OWNED_FILES + OWNED_TEMPORARY and entry.is_file() and not entry.is_symlink():
            owned.append(entry)
            continue
        what = "a directory" if entry.is_dir() else "a link" if entry.is_symlink() else "a file"
        raise SettingsError(
            f"the report directory {directory} already holds {what} the suite did not write ({entry.name!r}); "
            "give --report-dir an empty or new directory"
        )
    for entry in owned:
        try:
            entry.unlink()
        except OSError as exc:
            raise SettingsError(f"cannot clear {entry} from an earlier run: {exc.strerror or exc}") from None


def load_report(directory: Path) -> Report:
    """The report.json of a report directory, or ValueError with one line saying why it cannot be used."""
    path = directory / REPORT_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{directory} holds no {REPORT_FILE}: give the directory a run wrote its reports to") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        report = loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path} is not valid JSON: {str(exc)[:120]}") from None
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(report))
    if error is not None:
        where = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        raise ValueError(f"{path} is not a dcs-conformance report: at {where}, {error.message[:160]}")
    return cast(Report, report)
