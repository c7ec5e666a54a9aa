"""Starting one of the suite's own child processes (a drawing child, the embedded reference) the one safe way.

A child gets none of this process's secrets: its environment keeps what Python, the locale (and, for a drawing
child, hypothesis) read, never a credential (DCS_AUTH_TOKEN, CLOUD_SDK_AK and CLOUD_SDK_SK, the variables a targets
file names, a proxy URL with its userinfo), so no dump of its memory or /proc/<pid>/environ can show one. It imports
this very copy of the suite (this process's sys.path, and ``-P``: not the working directory first, which may hold
another copy), runs in a session of its own (a Ctrl-C on the terminal reaches only this process, which stops it),
and writes its stderr to a file its owner shows, redacted, when it ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import IO

CHILD_ENV_NAMES = frozenset({"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT"})
CHILD_ENV_PREFIXES = ("PYTHON", "LC_")


def child_environment(
    env: Mapping[str, str], prefixes: tuple[str, ...] = CHILD_ENV_PREFIXES, names: frozenset[str] = frozenset()
) -> dict[str, str]:
    """``env`` reduced to CHILD_ENV_NAMES, ``names`` and the names starting with ``prefixes``, with this process's
    sys.path as its PYTHONPATH."""
    wanted = CHILD_ENV_NAMES | names
    kept = {name: value for name, value in env.items() if name in wanted or name.startswith(prefixes)}
    return {**kept, "PYTHONPATH": os.pathsep.join(map(str, sys.path))}


def start_child(
    module: str, prefixes: tuple[str, ...] = CHILD_ENV_PREFIXES, names: frozenset[str] = frozenset()
) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """``python -P -m module`` with pipes on stdin and stdout and its stderr in a temporary file (the caller closes
    both); OSError or ValueError if it cannot be started."""
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it, with the child)
    try:
        process = subprocess.Popen(
            [sys.executable, "-P", "-m", module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            bufsize=0,
            env=child_environment(os.environ, prefixes, names),
            start_new_session=True,
        )
    except BaseException:
        stderr.close()
        raise
    return process, stderr
