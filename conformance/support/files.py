"""The one way the suite writes a file: whole or not at all, and never through a link someone planted.

Every file a command writes (report.json, junit.xml, index.html, the certification bundle, a comparison, an
overview, a markdown summary, the fixtures ``serve`` hands out) goes through ``write_atomically``: the data goes to a
new temporary file beside the target, created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` under a random name (so no
file and no link of that name can be there first: a planted one makes the open fail, and another name is drawn),
then ``os.replace`` renames it over the target, which replaces a link there rather than following it. A link at the
target's own name is refused before anything is written, so a directory someone handed us (``report DIR`` of a
report directory from elsewhere) cannot make the suite write outside it.

Commands that write several files into one directory call ``refuse_links`` first, naming every file they will
write, so a refused directory is left exactly as it was.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from conformance.support.errors import LinkRefused as LinkRefused

#: A temporary of ours: ``.<name>.<16 hex digits>.tmp`` (and ``.<name>.tmp``, the fixed name earlier builds used).
_TEMPORARY = re.compile(r"\.(?P<name>.+?)(?:\.[0-9a-f]{16})?\.tmp")
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: Names drawn before giving up: each draw fails only if a file of that random name is already there.
_ATTEMPTS = 16


def temporary_name(name: str) -> str:
    """A fresh temporary name for ``name``, in the same directory."""
    return f".{name}.{secrets.token_hex(8)}.tmp"


def temporary_of(name: str) -> str | None:
    """The file a temporary of ours was for (``.index.html.0123456789abcdef.tmp`` -> ``index.html``), or None."""
    match = _TEMPORARY.fullmatch(name)
    return match.group("name") if match else None


def refuse_links(directory: Path, names: Iterable[str]) -> None:
    """Raise LinkRefused if any of ``names`` in ``directory`` is a symbolic link (the directory itself may be one:
    the user named it, as ``reports/latest``)."""
    for name in names:
        if (directory / name).is_symlink():
            raise LinkRefused(directory / name)


def write_atomically(path: Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` whole: a reader sees the old file or the new one, never half.
    Raises LinkRefused if ``path`` is a symbolic link, OSError if it cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        raise LinkRefused(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp, descriptor = _create_temporary(path)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
        # rename(2) replaces whatever has the name by then, a link included, and never follows it.
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _create_temporary(path: Path) -> tuple[Path, int]:
    """A new file beside ``path``, opened for writing; never an existing file or a link (O_EXCL, O_NOFOLLOW)."""
    for _ in range(_ATTEMPTS):
        tmp = path.with_name(temporary_name(path.name))
        try:
            return tmp, os.open(tmp, _FLAGS, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no free temporary name beside it after {_ATTEMPTS} tries", str(path))
