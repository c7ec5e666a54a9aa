"""The fixtures file: ``{"restartable": [ids], "not_restartable": [ids]}``, validated before anything is sent.

IDs are compared as the ID guard compares them (ignoring case, and a UUID's hyphens), because a lenient server
does: a task listed as restartable and again, spelled differently, as not restartable would otherwise be sent as
a non-restartable task again and again. A misspelled key would silently mean "no fixtures", so unknown keys are
refused.
"""

from __future__ import annotations

from pathlib import Path

from conformance.contract.task_ids import task_key
from conformance.support.jsontext import loads

KEYS = ("restartable", "not_restartable")


def _shown(task_id: str) -> str:
    return repr(task_id) if len(task_id) <= 80 else repr(task_id[:80]) + "..."


def validate(document: object) -> tuple[list[str], list[str]]:
    """(restartable, not_restartable) with spellings of the same task merged, or ValueError saying what is wrong."""
    if not isinstance(document, dict):
        raise ValueError('the fixtures file must hold a JSON object: {"restartable": [...], "not_restartable": [...]}')
    unknown = [key for key in document if key not in KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in the fixtures file (known: {', '.join(KEYS)})")
    lists: dict[str, dict[str, str]] = {}
    for key in KEYS:
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise ValueError(f"'{key}' in the fixtures file must be a list of non-empty strings")
        lists[key] = {}
        for item in value:
            lists[key].setdefault(task_key(item), item)
    for normalised, restartable in lists["restartable"].items():
        other = lists["not_restartable"].get(normalised)
        if other is not None:
            spelled = "" if other == restartable else f" (spelled {_shown(other)})"
            raise ValueError(
                f"task {_shown(restartable)} is listed as both restartable and not restartable{spelled}; "
                "IDs are compared ignoring case and hyphens"
            )
    return list(lists["restartable"].values()), list(lists["not_restartable"].values())


def read(path: Path) -> tuple[list[str], list[str]]:
    """Read and validate a fixtures file; ValueError with one line naming the file and the problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"fixtures file not found: {path}") from None
    except OSError as exc:
        raise ValueError(f"cannot read fixtures file {path}: {exc.strerror or exc}") from None
    try:
        document = loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"fixtures file {path} is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"fixtures file {path} is not JSON: {str(exc)[:120]}") from None
    try:
        return validate(document)
    except ValueError as exc:
        raise ValueError(f"fixtures file {path}: {exc}") from None
