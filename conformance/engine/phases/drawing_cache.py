"""A drawing child's output kept on disk, replayed by the next run that would start the very same child.

A drawing child (drawing_child.py) writes what its request (the seed, how many cases), its environment and the code
it imports say, nothing else: the same three draw the same lines in any process (tests/e2e/test_child_drawing.py).
So the lines one child wrote, kept under a key of all three, are the lines the next such child would write: a run
that finds them starts no child (about 1.4 s of CPU: importing schemathesis and hypothesis, then drawing) and reads
them as it reads a child's, each through the same ``parse``. ``--seed`` sends the same requests either way.

The key covers the request, the child's environment (what support.child_process hands it: no credential, ever), the
Python, what each entry of the child's path holds (its modules, packages and distributions: their metadata names
carry their versions), and every file of the suite's own package and contract (their sizes and modification
times). It cannot see a library edited in place under site-packages, nor a plain directory on the path that would
become a namespace package: ``--no-cache`` then.

Only files this user could have written are trusted, and even they give no more than a child could:

- the directory is created private (0700) and used only while it is a directory of this user's (not a link) that
  no one else may write to; otherwise the run draws afresh and says why;
- an entry is opened without following a link, as a regular file of this user's, of at most MAX_ENTRY bytes; its
  first line names its key and its last line is the SHA-256 of the lines between, so a torn or edited entry is
  noticed (and deleted) before anything is sent; each line is then parsed as a child's (st_draw.read_record: the
  case's fields and schemathesis's metadata classes, nothing else);
- an entry is written whole (support.files.write_atomically) and only from a child's complete output; at most KEEP
  entries stay, the least recently used go.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.support.files import read_regular, write_atomically

#: Bumped whenever an entry's layout changes: an entry of another format is another key.
FORMAT = 1
#: A default run's entry is about 250 kB, one of --max-examples 10000 a few MB.
MAX_ENTRY = 64 << 20
KEEP = 32
_MAGIC = b"dcs-conformance drawn cases"
_DISTRIBUTIONS = (".dist-info", ".egg-info", ".egg-link", ".pth")
#: hypothesis reads only its Unicode tables from its storage directory, which hold the same whatever their place.
_NOT_KEYED = frozenset({"HYPOTHESIS_STORAGE_DIRECTORY"})


def default_directory() -> Path:
    """Where entries go unless the run's cache_dir setting says: beside hypothesis's own tables, in the user's cache
    directory (support/caches.py)."""
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # no home directory to be found
        base = tempfile.gettempdir()
    return Path(base) / "dcs-conformance" / "drawn"


def chosen(directory: str | None, *, off: bool) -> DrawingCache | None:
    """The cache a run replays from and keeps in (its cache_dir and no_cache settings): none when it is off."""
    return None if off else DrawingCache(Path(directory).expanduser() if directory else default_directory())


class DrawingCache:
    """The entries of one directory. Every method is quiet about a file it cannot use (it draws afresh instead),
    except that ``refused`` says once why the whole directory is not used."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.refused: str | None = None

    def key(self, module: str, request: Mapping[str, Any], environment: Mapping[str, str]) -> str:
        """The key of a child of ``module`` started with this environment and asked ``request``."""
        kept = sorted((name, value) for name, value in environment.items() if name not in _NOT_KEYED)
        # The path itself is keyed by what it holds (_importable).
        kept = [(name, value) for name, value in kept if name != "PYTHONPATH"]
        inputs = {
            "format": FORMAT,
            "module": module,
            "request": dict(request),
            "environment": kept,
            "python": [sys.executable, sys.version],
            "importable": _importable(),
            "code": _code_stamp(),
        }
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()

    def lines(self, key: str) -> list[bytes] | None:
        """The lines kept for ``key``, or None (none kept, or the entry is not one to trust: then it is deleted)."""
        if not self._usable(create=False):
            return None
        path = self.directory / key
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                return None  # a link or another's file, never ours: left alone
            data = read_regular(path, MAX_ENTRY, inside=self.directory)
        except OSError:
            return None
        lines = _entry_lines(data, key)
        if lines is None:
            self.forget(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: the last to go
        return lines

    def keep(self, key: str, lines: Sequence[bytes]) -> None:
        """Keep a child's complete output (its case lines, without the end line) under ``key``."""
        if not self._usable(create=True):
            return
        body = b"".join(line + b"\n" for line in lines)
        entry = b"%s %d %s\n%s%s\n" % (_MAGIC, FORMAT, key.encode(), body, hashlib.sha256(body).hexdigest().encode())
        if len(entry) > MAX_ENTRY:
            return
        try:
            write_atomically(self.directory / key, entry)
        except OSError:
            return
        self._trim()

    def forget(self, key: str) -> None:
        """Delete the entry of ``key`` (one that could not be used)."""
        with contextlib.suppress(OSError):
            (self.directory / key).unlink(missing_ok=True)

    def _usable(self, *, create: bool) -> bool:
        """Whether the directory is this user's own and no one else may write to it (created, private, if asked)."""
        if self.refused is not None:
            return False
        try:
            if create:
                with contextlib.suppress(FileExistsError):  # a file or a link there: lstat tells which
                    self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.lstat(self.directory)
        except FileNotFoundError:
            return False
        except OSError as exc:
            self.refused = f"it cannot be used: {exc.strerror or exc}"
            return False
        if stat.S_ISLNK(info.st_mode):
            self.refused = "it is a symbolic link"
        elif not stat.S_ISDIR(info.st_mode):
            self.refused = "it is not a directory"
        elif info.st_uid != os.getuid():
            self.refused = "it belongs to another user"
        elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            self.refused = "others may write to it"
        return self.refused is None

    def _trim(self) -> None:
        """Drop the least recently used entries beyond KEEP (temporaries of a write that died, whatever their age,
        are another process's business: write_atomically names them ``.*.tmp``, never a key)."""
        try:
            entries = [entry for entry in os.scandir(self.directory) if _is_key(entry.name)]
            entries.sort(key=lambda entry: entry.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
        except OSError:
            return
        for entry in entries[KEEP:]:
            self.forget(entry.name)


def _entry_lines(data: bytes, key: str) -> list[bytes] | None:
    """The case lines of an entry written by ``keep`` for ``key``; None if it is anything else."""
    header, _, rest = data.partition(b"\n")
    if header != b"%s %d %s" % (_MAGIC, FORMAT, key.encode()) or len(rest) < 65 or not rest.endswith(b"\n"):
        return None
    body, digest = rest[:-65], rest[-65:-1]
    if (body and not body.endswith(b"\n")) or digest != hashlib.sha256(body).hexdigest().encode():
        return None
    return body.split(b"\n")[:-1]


def _is_key(name: str) -> bool:
    return len(name) == 64 and all(char in "0123456789abcdef" for char in name)


def _importable() -> list[str]:
    """What the child can import from each entry of its path (this process's sys.path), besides the standard library
    (its Python's version is keyed): the distributions of a directory that has any (their metadata directories
    name their versions), otherwise its modules and packages. A directory holding none (the working directory of
    ``python -m conformance``, full of reports) changes nothing the child imports."""
    found: list[str] = []
    for entry in sys.path:
        where = os.path.abspath(entry or ".")
        if where.startswith(sys.base_prefix) and "-packages" not in where:
            continue
        try:
            with os.scandir(where) as listing:
                items = list(listing)
        except OSError:
            if os.path.isfile(where):  # a zip archive on the path
                found.append(f"{where}:<archive>")
            continue
        names = [item.name for item in items if item.name.endswith(_DISTRIBUTIONS)]
        if not names:
            names = [item.name for item in items if _is_module(item)]
        found += (f"{where}:{name}" for name in sorted(names))
    return found


def _is_module(item: os.DirEntry[str]) -> bool:
    if item.name.endswith((".py", ".pyc", ".so", ".pyd")):
        return True
    try:
        return item.is_dir() and os.path.exists(os.path.join(item.path, "__init__.py"))
    except OSError:
        return False


def _code_stamp() -> list[tuple[str, int, int]]:
    """Every file of the suite's package and of its contract, with its size and modification time."""
    from conformance.contract import contract_dir

    package = Path(__file__).resolve().parents[2]
    stamped: list[tuple[str, int, int]] = []
    for root in (package, contract_dir()):
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(name for name in dirs if name != "__pycache__")
            for name in sorted(files):
                if name.endswith(".pyc"):
                    continue
                path = os.path.join(folder, name)
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                stamped.append((path, info.st_size, info.st_mtime_ns))
    return stamped
