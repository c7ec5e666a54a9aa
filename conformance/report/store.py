"""The report directory: which files the suite owns there, claiming it before a run, reading a report back.

A directory reused for another run must not keep the previous run's files: a badge.svg saying "conformant" next to
a non-conformant report.json is a false certificate. So before a run the suite removes the files it owns, and
refuses (a usage error) a directory holding anything else, since that is not ours to delete or to mix with.

Reading back: ``load_report`` is the one reader of a report.json, for every command that reads one (``report``,
``verify``, ``compare``, ``summarize`` and the overview of ``run --config``): it reads the file, parses it (jsontext)
and checks it is a dcs-conformance report, naming in one line why not (ReportError), never with a traceback. A report
directory may come from anywhere: its report.json is read as support.files.read_regular reads a file handed to us
(a regular file of at most MAX_REPORT_BYTES, never through a link leading out of the directory). What it
checks follows what the reader reads: the report page and ``verify`` rely on every part in REPORT_SCHEMA; ``compare``
and the overview read reports of other runs (other suite versions, CI jobs elsewhere) by their keys, and need only a
verdict, the requirements and observations by ID and, if there is one, a well-formed trace.
"""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from conformance.config.settings import SettingsError
from conformance.report.model import Report
from conformance.support.errors import ReportError as ReportError
from conformance.support.files import read_regular, temporary_of
from conformance.support.jsontext import loads

REPORT_FILE = "report.json"
#: A report.json of a real run is a few MiB (bodies are folded at 16 Ki characters, 3 pieces of evidence per
#: requirement); a larger one is not read at all.
MAX_REPORT_BYTES = 128 * 1024 * 1024
#: Every file a run may write into its directory (certify.py's bundle files and sums among them).
#: An empty file that keeps a directory in git (the repository's reports/ has one): never the suite's, never in the way.
KEEP_FILE = ".gitkeep"
OWNED_FILES = ("report.json", "junit.xml", "index.html", "badge.svg", "SHA256SUMS", "SHA256SUMS.sig")
#: Left behind by an interrupted atomic write (files.write_atomically): ``.<name>.<random>.tmp``, or this fixed name.
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
        "fixture_plan": {
            "type": ["object", "null"],
            "required": ["restartable", "not_restartable", "spent"],
            "properties": {
                "restartable": _COUNT,
                "not_restartable": _COUNT,
                "spent": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["scenario", "label", "index", "batch_size"],
                        "properties": {
                            "scenario": _STRING,
                            "label": _STRING,
                            "index": _COUNT,
                            "batch_size": _COUNT,
                        },
                    },
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
        if entry.name == KEEP_FILE and entry.is_file() and not entry.is_symlink() and not entry.stat().st_size:
            continue  # the empty placeholder a repository keeps an empty reports/ directory with: left alone
        ours = entry.name in OWNED_FILES or temporary_of(entry.name) in OWNED_FILES
        if ours and entry.is_file() and not entry.is_symlink():
            owned.append(entry)
            continue
        what = "a link" if entry.is_symlink() else "a directory" if entry.is_dir() else "a file"
        raise SettingsError(
            f"the report directory {directory} already holds {what} the suite did not write ({entry.name!r}); "
            "give --report-dir an empty or new directory"
        )
    for entry in owned:
        try:
            entry.unlink()
        except OSError as exc:
            raise SettingsError(f"cannot clear {entry} from an earlier run: {exc.strerror or exc}") from None


def report_file(path: Path) -> Path:
    """The report.json a path names: a report directory's, or the path itself."""
    return path / REPORT_FILE if path.is_dir() else path


def load_report(path: Path, *, or_file: bool = False, loosely: bool = False) -> Report:
    """The report.json of the report directory ``path`` (or, ``or_file``, ``path`` itself when it is a file), or
    ReportError saying why it cannot be used.

    Checked against REPORT_SCHEMA, or, ``loosely``, only for what readers of other runs' reports read (see the
    module docstring): a report read loosely may lack any other part, and its reader must read it with ``get``."""
    file = report_file(path) if or_file else path / REPORT_FILE
    try:
        # The file of a directory is read within it; a file named itself, as the user's links say.
        raw = read_regular(file, MAX_REPORT_BYTES, inside=None if file == path else path)
    except FileNotFoundError:
        advice = (
            f"give a report directory or its {REPORT_FILE}"
            if or_file
            else "give the directory a run wrote its reports to"
        )
        where = f"{path} does not exist" if file == path else f"{path} holds no {REPORT_FILE}"
        raise ReportError(f"{where}: {advice}") from None
    except OSError as exc:
        more = ", more than any run writes" if exc.errno == errno.EFBIG else ""
        raise ReportError(f"cannot read {file}: {exc.strerror or exc}{more}") from None
    try:
        document = loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ReportError(f"{file} is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise ReportError(f"{file} is not valid JSON: {str(exc)[:120]}") from None
    problem = _loose_problem(document) if loosely else _schema_problem(document)
    if problem:
        raise ReportError(f"{file} {problem}")
    # The parser's document, checked above: from here on it is typed as what it was checked to be.
    report: Report = document
    return report


def _schema_problem(document: Any) -> str | None:
    """Where the document departs from REPORT_SCHEMA, or None."""
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(document))
    if error is None:
        return None
    where = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    return f"is not a dcs-conformance report: at {where}, {error.message[:160]}"


def _loose_problem(document: Any) -> str | None:
    """What makes another run's report unusable to the readers that read it by its keys (compare, the overview):
    a hand-edited or truncated file, or not a report at all; None if it is usable."""
    if (
        not isinstance(document, dict)
        or "verdict" not in document
        or not isinstance(document.get("requirements"), list)
    ):
        return "is not a dcs-conformance report (no verdict or no requirements list)"
    problem = _shape_problem(document)
    return f"is not a well-formed dcs-conformance report: {problem}" if problem else None


def _shape_problem(report: dict[str, Any]) -> str | None:
    for name, key in (("requirements", "id"), ("observations", "id")):
        items = report.get(name, [])
        if not isinstance(items, list) or not all(isinstance(item, dict) and key in item for item in items):
            return f"'{name}' must be a list of objects with an '{key}'"
    trace = report.get("trace")
    if trace is None:
        return None
    if not isinstance(trace, dict):
        return "'trace' must be an object"
    scenarios, generated, roles = trace.get("scenarios", []), trace.get("generated", []), trace.get("roles", {})
    if not isinstance(scenarios, list) or not all(_is_entry(entry) for entry in scenarios):
        return "'trace.scenarios' must be a list of objects with a string 'key'"
    if not isinstance(generated, list) or not all(_is_summary(summary) for summary in generated):
        return "'trace.generated' must be a list of objects with 'label', 'count', 'statuses' and 'error_codes'"
    if not isinstance(roles, dict) or not all(isinstance(role, dict) for role in roles.values()):
        return "'trace.roles' must map each role to an object"
    return None


def _is_entry(entry: object) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
        return False
    items, codes = entry.get("items"), entry.get("item_codes", {})
    return (items is None or (isinstance(items, dict) and all(isinstance(v, dict) for v in items.values()))) and (
        isinstance(codes, dict) and all(isinstance(v, list) for v in codes.values())
    )


def _is_summary(summary: object) -> bool:
    return (
        isinstance(summary, dict)
        and isinstance(summary.get("label"), str)
        and isinstance(summary.get("statuses"), dict)
        and isinstance(summary.get("error_codes"), dict)
        and "count" in summary
    )
