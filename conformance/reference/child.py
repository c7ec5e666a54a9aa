"""The embedded run's reference, in a process of its own: ``python -m conformance.reference.child``.

Started by process.py before the run has loaded its generators, it imports the reference at once (uvicorn, starlette,
the app: what it needs, nothing of the client side), then reads its order, one JSON line on stdin::

    {"project_id": P, "seed": S, "restartable": N, "not_restartable": M|null, "faults": [...], "variants": [...],
     "credentials": {"ak": ..., "sk": ..., "readonly_ak": ..., ...}}

seeds its tasks, serves on 127.0.0.1 (a free port) and writes ``{"port": PORT, "fixtures": {...}}`` as one line on
stdout (``{"error": WHY}`` if its server cannot start). It then serves until its stdin closes: when the run ends,
and also when the run dies, however it dies, since the run holds the only other end of that pipe. End of input
before any order (the run judged another target after all) ends it at once. It ignores SIGINT: a Ctrl-C is the
run's to handle, which then stops it.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any


def serve(order: dict[str, Any]) -> None:
    """Serve as ``order`` says until stdin closes."""
    from conformance.config.credentials import Credentials
    from conformance.reference import restart_ledger
    from conformance.reference.embedded import assemble, policy_for, server_for
    from conformance.reference.server import ServerStartError

    app, fixtures = assemble(
        policy_for(Credentials(**order["credentials"])),
        [order["project_id"]],
        restartable=order["restartable"],
        not_restartable=order["not_restartable"],
        seed=order["seed"],
        faults=order["faults"],
        variants=order["variants"],
        ledger=restart_ledger.from_environment("the embedded run's reference (child.py)"),
    )
    server = server_for(app, order["faults"], order["variants"])
    try:
        server.start()
    except ServerStartError as exc:  # said in its one line: the run says it, and does not try again
        sys.stdout.write(json.dumps({"error": str(exc)}) + "\n")
        sys.stdout.flush()
        return
    try:
        sys.stdout.write(json.dumps({"port": server.port, "fixtures": fixtures}) + "\n")
        sys.stdout.flush()
        while sys.stdin.buffer.read(1 << 16):
            pass  # nothing more is ever sent: this only waits for the end
    finally:
        server.stop()


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # What serving needs, loaded while the run is still loading its own modules.
    import conformance.reference.app
    import conformance.reference.server
    import conformance.reference.store  # noqa: F401

    line = sys.stdin.buffer.readline()
    if not line.strip():
        return 0
    serve(json.loads(line))
    return 0


if __name__ == "__main__":
    from conformance.support.collector import collected_for_one_job

    with collected_for_one_job():
        sys.exit(main())
