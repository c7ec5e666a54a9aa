"""Lines for the end of the terminal summary (the loud skips, Chromium's start-up time), kept where the tests ran
and printed where the summary is: the same process in a serial run; under pytest-xdist a worker runs the tests and
the controller prints the summary, so tests/conftest.py carries each worker's lines over when it finishes."""

from __future__ import annotations

#: (text, loud) in the order they were first added; a loud line is printed as a yellow ``!!!`` separator.
LINES: list[tuple[str, bool]] = []


def add(text: str, *, loud: bool = False) -> bool:
    """Keep ``text`` for the summary; False when it is kept already (a skip message is shown once, not per test)."""
    if (text, loud) in LINES:
        return False
    LINES.append((text, loud))
    return True
