"""What the tests of the schemathesis child share: a drawing cache of the test's own, and the drawings its runs
start, noted as they start."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.engine.phases import drawing_cache, st_draw
from conformance.engine.phases.st_draw import CaseDrawing
from tests.conftest import DRAWING_CACHE_ENV


def own_drawing_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's drawing cache, empty when it starts (the session's would hand it what other tests drew)."""
    monkeypatch.setenv(DRAWING_CACHE_ENV, str(tmp_path / "drawn"))
    monkeypatch.setattr(drawing_cache, "default_directory", lambda: tmp_path / "drawn")
    return tmp_path / "drawn"


def noted_drawings(monkeypatch: pytest.MonkeyPatch) -> list[CaseDrawing]:
    """Every schemathesis drawing the runs that follow start (a child, or a replay from the drawing cache)."""
    drawings: list[CaseDrawing] = []

    class Noted(CaseDrawing):
        def __init__(
            self, seed: int, examples: int, cache: drawing_cache.DrawingCache | None = None, *, checks: bool = False
        ) -> None:
            super().__init__(seed, examples, cache, checks=checks)
            drawings.append(self)

    monkeypatch.setattr(st_draw, "CaseDrawing", Noted)
    return drawings
