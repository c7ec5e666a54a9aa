"""On a terminal each phase's progress is one line rewritten in place, from its first case to its last, never the
"N cases sent" (or "scenario: ...") lines a CI log gets: `dcs-conformance run --max-examples 1000` under a
pseudo-terminal that, like many, never said how wide it is."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.e2e

#: One redraw of a phase's progress line: the stage, its bar, and cases sent (scenarios done) / planned.
REDRAW = re.compile(r"\r(scenarios|aimed|generated) \[[#-]{20}\] (\d+)/~?(\d+) (?:cases|scenarios) \(")


def on_an_unsized_terminal(tmp_path: Path, *args: str) -> tuple[int, str]:
    """The CLI with stdout and stderr on a fresh pseudo-terminal (0 columns, 0 rows, as nobody sized it)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--seed", "1", "--report-dir", str(tmp_path / "r"), *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env=clean_env("NO_COLOR", "TERM", "COLUMNS", TERM="xterm"),
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
    return process.wait(timeout=300), output.decode("utf-8", "replace")


def test_every_phase_shows_one_progress_line_rewritten_in_place_from_its_first_case(tmp_path: Path) -> None:
    code, output = on_an_unsized_terminal(tmp_path, "--max-examples", "1000")
    assert code == 0, output[-2000:]
    assert "cases sent" not in output, "no CI-style progress lines on a terminal"
    assert "scenario: " not in output, "the scenarios are counted on their live line, not named line by line"
    lines = output.replace("\r\n", "\n").split("\n")
    for stage, planned in (("scenarios", 13), ("aimed", 1000), ("generated", 200)):
        holding = [line for line in lines if f"\r{stage} [" in line]
        assert len(holding) == 1, f"the {stage} phase's progress stays on one line: {len(holding)} lines hold it"
        counts = [int(sent) for name, sent, _ in REDRAW.findall(holding[0]) if name == stage]
        assert len(counts) >= 2, f"the {stage} line is redrawn in place"
        assert counts == sorted(counts), "it only goes forward"
        assert any(0 < sent < planned for sent in counts), f"the {stage} line moves while the cases are sent"
    assert "verdict: " in output
