"""On a terminal each phase's progress is one line rewritten in place, from its first case to its last, never the
"N cases sent" (or "scenario: ...") lines a CI log gets: `dcs-conformance run --max-examples 1000` under a
pseudo-terminal that, like many, never said how wide it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terminal import on_a_terminal

pytestmark = pytest.mark.e2e

#: One redraw of a phase's progress line: the stage, its bar, and cases sent (scenarios done) / planned.
REDRAW = re.compile(r"\r(scenarios|aimed|generated) \[[#-]{20}\] (\d+)/~?(\d+) (?:cases|scenarios) \(")


def test_every_phase_shows_one_progress_line_rewritten_in_place_from_its_first_case(tmp_path: Path) -> None:
    code, output = on_a_terminal(tmp_path, "--max-examples", "1000", seed="1", timeout=300, COLUMNS="")
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
