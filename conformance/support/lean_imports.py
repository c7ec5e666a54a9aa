"""What a process the suite starts for one job does not import: httpx's own command-line client.

httpx imports its command-line client (``httpx._main``) whenever rich and click are installed, as schemathesis
installs them: rich, click and pygments, about 0.06 s of CPU in every command that sends (a tenth of a run's
imports), for a client no command of ours ever runs. A None in ``sys.modules`` makes that import fail as if they
were missing, and httpx then keeps its stub ``httpx.main``, which only says so if called.

Only for a process the suite itself starts (``cli.main.entry``): a caller of ``main`` or of the engine (a test, the
pytest plugin, a program of the user's) imports httpx as it always has.
"""

from __future__ import annotations

import sys

HTTPX_COMMAND_LINE = "httpx._main"


def without_httpx_command_line() -> None:
    """Keep httpx's command-line client out of this process, unless httpx is loaded already (then it is too)."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault(HTTPX_COMMAND_LINE, None)  # type: ignore[arg-type]
