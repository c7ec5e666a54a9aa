"""The same seed draws the same cases whatever local modules happen to be imported (hypothesis would otherwise mix
their literals into what it draws; see conformance/engine/determinism.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import hypothesis
from hypothesis import strategies as st

from conformance.engine.determinism import without_local_constants

SEED = 20261129


def drawn(examples: int = 400) -> list[str]:
    """What hypothesis draws for this seed: strings, where constants show up first."""
    seen: list[str] = []

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(st.text(max_size=30))
    def record(value: str) -> None:
        seen.append(value)

    record()
    return seen


def import_module_full_of_literals(directory: Path, name: str, marker: str) -> None:
    """A new local module (outside site-packages, not a test file), whose short string literals hypothesis would
    collect (it skips strings over 20 characters)."""
    literals = "\n".join(f"LITERAL_{index} = '{marker}{index}'" for index in range(300))
    (directory / f"{name}.py").write_text(literals + "\n", encoding="utf-8")
    sys.path.insert(0, str(directory))
    try:
        importlib.import_module(name)
    finally:
        sys.path.remove(str(directory))


def test_importing_a_local_module_does_not_change_what_a_seed_draws(tmp_path: Path) -> None:
    with without_local_constants():
        before = drawn()
    import_module_full_of_literals(tmp_path, "fresh_literals_for_determinism", "guarded~")
    with without_local_constants():
        after = drawn()
    assert before == after
    assert not any("guarded~" in value for value in after)


def test_without_the_guard_hypothesis_draws_the_literals_of_local_modules(tmp_path: Path) -> None:
    """The control: the guard above is what keeps the draws apart from the modules imported."""
    import_module_full_of_literals(tmp_path, "fresh_literals_unguarded", "unguarded~")
    assert any("unguarded~" in value for value in drawn(2000))
