"""The one way the suite writes a file (whole or not at all, never through a link someone planted), and reads one
someone handed it (a regular file, bounded).

Every file a command writes (report.json, junit.xml, index.html, the certification bundle, a comparison, an
overview, a markdown summary, the fixtures ``serve`` hands out) goes through ``write_atomically``: the data goes to a
new temporary file beside the target, created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` under a random name (so no
file and no link of that name can be there first: a planted one makes the open fail, and another name is drawn),
then ``os.replace`` renames it over the target, which replaces a link there rather than following it. A link at the
target's own name is refused before anything is written, so a directory someone handed us (``report DIR`` of a
report directory from elsewhere) cannot make the suite write outside it.

Commands that write several files into one directory call ``refuse_links`` first, naming every file they will
write, so a refused directory is left exactly as it was.

Reading a file someone handed us (the report.json of a report directory from elsewhere) goes through
``read_regular``: a regular file only (a FIFO would hold the command for ever, a device such as /dev/zero would
fill the memory), no larger than its reader's limit, opened without blocking. In a directory someone handed us, a
link is followed only while it leads to a file of that directory: one leading out of it (to /etc/shadow, to a
file of ours) would put that file into a page we write. A file the user names on the command line is read through
their links, as any command-line tool reads it.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from conformance.support.errors import LinkRefused as LinkRefused

#: A temporary of ours: ``.<name>.<16 hex digits>.tmp`` (and ``.<name>.tmp``, the fixed name earlier builds used).
_TEMPORARY = re.compile(r"\.(?P<name>.+?)(?:\.[0-9a-f]{16})?\.tmp")
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: Opening to read never waits on a FIFO (O_NONBLOCK): the FIFO is then refused as not a regular file.
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
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


def read_regular(path: Path, limit: int, *, inside: Path | None = None) -> bytes:
    """The whole of the regular file ``path``; OSError, its strerror one line saying why, when it is another kind
    of file or holds more than ``limit`` bytes. ``inside``: the directory someone handed us that holds ``path``, which
    a link of it may not lead out of (the directory itself may be a link: the user named it)."""
    target, flags = path, _READ_FLAGS
    if inside is not None:
        target = path.resolve()
        if not target.is_relative_to(inside.resolve()):
            raise OSError(
                errno.ELOOP, f"it is a symbolic link leading out of {inside}, which is never followed", str(path)
            )
        flags |= getattr(os, "O_NOFOLLOW", 0)  # resolved: a link there now was put there since
    with os.fdopen(os.open(target, flags), "rb", buffering=0) as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"it is {_kind(info.st_mode)}, not a regular file", str(path))
        data = b"" if info.st_size > limit else handle.read(limit + 1)
    if info.st_size > limit or len(data) > limit:
        raise OSError(errno.EFBIG, f"it holds more than {limit} bytes", str(path))
    return data


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"
