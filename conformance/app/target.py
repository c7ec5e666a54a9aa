"""The target a run judges: the given base URL, or the reference server started in-process.

Opened here, above the engine, so that the engine never imports the reference server: a run against a remote target
loads neither uvicorn nor starlette.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.config import fixtures_file
from conformance.config.settings import RunSettings, SettingsError
from conformance.engine.phases.scenarios import Fixtures
from conformance.engine.runner import Target
from conformance.support.errors import TargetNotOpened


def load_fixtures(path: Path) -> Fixtures:
    """The fixtures file, read and checked as the settings checked it (it may have changed since)."""
    try:
        return Fixtures(*fixtures_file.read(path))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


@contextmanager
def open_target(settings: RunSettings, seed: int) -> Iterator[Target]:
    """The target to judge: the given base URL, or the reference server started in-process with its own fixtures
    and AK/SK credentials (a read-only pair too), stopped when the run ends."""
    if not settings.embedded:
        fixtures = load_fixtures(settings.fixtures) if settings.fixtures else None
        yield Target(settings.base_url or "", settings.project_id, settings.credentials, fixtures, embedded=False)
        return
    from conformance.reference.embedded import embedded
    from conformance.reference.server import ServerStartError

    try:
        with embedded(
            settings.project_id,
            seed=seed,
            restartable=settings.embedded_restartable,
            not_restartable=settings.embedded_not_restartable,
            faults=settings.faults,
            variants=settings.variants,
        ) as reference:
            fixtures = Fixtures.load(reference.fixtures)
            yield Target(reference.base_url, settings.project_id, reference.credentials, fixtures, embedded=True)
    except ServerStartError as exc:
        raise TargetNotOpened(f"the embedded reference server could not start: {exc}") from None
