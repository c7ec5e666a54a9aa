"""The target a run judges: the given base URL, or the reference server started in a process of its own.

Opened here, above the engine, so that the engine never imports the reference server: a run against a remote target
loads neither uvicorn nor starlette (nor this package's reference), and an embedded run loads them only in its
reference's process.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.config import fixtures_file
from conformance.config.settings import RunSettings, SettingsError
from conformance.engine.phases.scenarios import Fixtures
from conformance.engine.runner import Target
from conformance.support.errors import TargetNotOpened

if TYPE_CHECKING:
    from conformance.reference.embedded import EmbeddedReference
    from conformance.reference.process import ReferenceProcess


def load_fixtures(path: Path) -> Fixtures:
    """The fixtures file, read and checked as the settings checked it (it may have changed since)."""
    try:
        return Fixtures(*fixtures_file.read(path))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


@contextmanager
def open_target(
    settings: RunSettings, seed: int, *, started: ReferenceProcess | None = None, in_process: bool = False
) -> Iterator[Target]:
    """The target to judge: the given base URL, or the reference server with its own fixtures and AK/SK
    credentials (a read-only pair too), stopped when the run ends.

    The reference runs in a child process (``started``: one the caller started early, see reference.process, which
    is closed here in any case), so that it answers on the other core; in this process with ``in_process``, or
    when no child can be started (said on stderr)."""
    with ExitStack() as stack:
        if started is not None:
            stack.callback(started.close)
        if not settings.embedded:
            fixtures = load_fixtures(settings.fixtures) if settings.fixtures else None
            yield Target(settings.base_url or "", settings.project_id, settings.credentials, fixtures, embedded=False)
            return
        reference = stack.enter_context(_reference(settings, seed, started, in_process))
        fixtures = Fixtures.load(reference.fixtures)
        yield Target(reference.base_url, settings.project_id, reference.credentials, fixtures, embedded=True)


@contextmanager
def _reference(
    settings: RunSettings, seed: int, started: ReferenceProcess | None, in_process: bool
) -> Iterator[EmbeddedReference]:
    """The embedded reference, running until the block ends."""
    from conformance.reference.embedded import embedded
    from conformance.reference.process import ReferenceProcess, ReferenceServerFailed, ReferenceStartError

    project, restartable, not_restartable = (
        settings.project_id,
        settings.embedded_restartable,
        settings.embedded_not_restartable,
    )
    deviations = {"faults": settings.faults, "variants": settings.variants}
    if not in_process:
        with started or ReferenceProcess() as process:
            try:
                reference = process.start(
                    project, seed=seed, restartable=restartable, not_restartable=not_restartable, **deviations
                )
            except ReferenceServerFailed as exc:
                raise TargetNotOpened(f"the embedded reference server could not start: {exc}") from None
            except ReferenceStartError as exc:
                problem = str(exc)
            else:
                yield reference
                return
        print(
            f"dcs-conformance: the embedded reference could not run in a process of its own ({problem}); "
            "running it in this process instead",
            file=sys.stderr,
            flush=True,
        )
    from conformance.reference.server import ServerStartError

    try:
        with embedded(
            project, seed=seed, restartable=restartable, not_restartable=not_restartable, **deviations
        ) as ref:
            yield ref
    except ServerStartError as exc:
        raise TargetNotOpened(f"the embedded reference server could not start: {exc}") from None
