"""`serve --list-faults` says, for every fault, what it breaks and the fewest fixtures with which its bug can show
(its ``min_fixtures``: what the kill matrix expects), so that a user with a staging-sized project knows which faults
a run against it could catch at all; `--list-variants` lists every variant once."""

from __future__ import annotations

import pytest

from conformance.cli.main import main
from conformance.reference.faults import FAULTS
from conformance.reference.variants import VARIANTS


def listed(flag: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """The listing's lines, by the deviation each names first."""
    assert main(["serve", flag]) == 0
    lines = capsys.readouterr().out.splitlines()
    return {line.split()[0]: line for line in lines}


def test_every_fault_is_listed_with_what_it_breaks_and_the_fixtures_its_bug_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = listed("--list-faults", capsys)
    assert set(lines) == set(FAULTS)
    for name, mod in FAULTS.items():
        assert f"[breaks {', '.join(mod.breaks)}]" in lines[name], name
        restartable, not_restartable = mod.min_fixtures
        wanted = (
            f"[shows with {restartable}+{not_restartable} fixtures (restartable+non-restartable)]"
            if any(mod.min_fixtures)
            else "[shows with no fixtures]"
        )
        assert lines[name].endswith(wanted), name


def test_the_listing_tells_a_fault_needing_three_restartable_tasks_from_one_needing_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = listed("--list-faults", capsys)
    assert "[shows with 3+1 fixtures (restartable+non-restartable)]" in lines["restart-quota-2"]
    assert "[shows with 2+1 fixtures (restartable+non-restartable)]" in lines["first-restartable-only"]
    assert "[shows with no fixtures]" in lines["401-without-body"]


def test_variants_are_listed_once_each_without_a_fixture_count(capsys: pytest.CaptureFixture[str]) -> None:
    lines = listed("--list-variants", capsys)
    assert set(lines) == set(VARIANTS)
    assert not any("fixtures" in line for line in lines.values())
