"""A run against the reference in a background server, seeded with a few fixtures of each kind: what the engine
tests compare across workers and drawing modes (the report, and every body the server received, in order)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.reference import deviations
from conformance.reference.app import create_app
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store
from tests.conftest import Recorder

PROJECT = "p-seeded"


class InFlightMeter:
    """An ASGI wrapper that counts the requests the app is answering at once (one event loop: no lock needed)."""

    def __init__(self) -> None:
        self.app: Any = None
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


def judge(
    tmp_path: Path,
    workers: int,
    variants: tuple[str, ...] = (),
    meter: InFlightMeter | None = None,
    faults: tuple[str, ...] = (),
    **flags: Any,
) -> tuple[dict[str, Any], Recorder, dict[str, list[str]]]:
    """Judge a freshly seeded reference (4 restartable and 3 non-restartable tasks, seed 5, 40 examples unless
    ``flags`` say otherwise), with the ``faults`` and ``variants`` named: the report, the recorder of bodies
    received, and the fixtures."""
    store, fixtures = seed_store(restartable=4, not_restartable=3, seed=11)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(fixtures))
    recorder = Recorder(
        create_app(store, projects=[PROJECT], behaviour=deviations.build(faults=faults, variants=variants))
    )
    app: Any = recorder
    if meter is not None:
        meter.app = recorder
        app = meter
    with BackgroundServer(app) as server:
        settings = resolve(
            {
                "base_url": server.base_url,
                "project_id": PROJECT,
                "fixtures": str(path),
                "seed": 5,
                "max_examples": 40,
                "workers": workers,
                "report_dir": str(tmp_path / "report"),
                **flags,
            },
            env={},
        )
        report = execute(settings, progress=lambda _: None).report
    return report, recorder, fixtures
