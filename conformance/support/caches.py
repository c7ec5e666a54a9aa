"""Where the suite's caches go: never the working directory, whichever way the suite is started (the command, the
pytest plugin), so that a run leaves nothing beside the user's own files (a CI checkout, say) but the reports it was
asked for."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def keep_hypothesis_out_of_the_working_directory() -> None:
    """Hypothesis keeps caches (its Unicode tables) in ``.hypothesis/`` under the current directory; a run must not
    leave files beside the user's own (a CI checkout, say). They go to the user's cache directory instead, unless
    HYPOTHESIS_STORAGE_DIRECTORY says where. Set before hypothesis is imported, which reads it when first needed."""
    try:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # no home directory to be found
        cache = tempfile.gettempdir()
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(cache) / "dcs-conformance" / "hypothesis"))
