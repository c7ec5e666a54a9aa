"""`dcs-conformance run` on a pseudo-terminal, as a person at a terminal sees it: the one runner of the end-to-end
tests that read what the CLI draws there (tests/e2e/test_terminal_output.py, tests/e2e/test_tty_progress.py)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import clean_env


def terminal_env(**extra: str) -> dict[str, str]:
    return clean_env("NO_COLOR", "TERM", "COLUMNS", **extra)


def command(tmp_path: Path, *args: str, seed: str = "3") -> list[str]:
    return [sys.executable, "-m", "conformance", "run", "--seed", seed, "--report-dir", str(tmp_path / "r"), *args]


def on_a_terminal(tmp_path: Path, *args: str, seed: str = "3", timeout: float = 120, **env: str) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal, as a person at a terminal sees it (``COLUMNS``
    as ``env`` says: 120 unless given; an empty value leaves the terminal unsized, as many are)."""
    controller, terminal = pty.openpty()
    env = {"TERM": "xterm", "COLUMNS": "120", **env}
    if not env["COLUMNS"]:
        del env["COLUMNS"]
    process = subprocess.Popen(
        command(tmp_path, *args, seed=seed),
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env=terminal_env(**env),
        cwd=tmp_path,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end closed: the process has exited
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(timeout=timeout), output.decode("utf-8", "replace")
