"""The same seed draws the same cases, in any process.

Hypothesis mixes into the data it draws the literals it finds in the source of "local" modules: any module not
installed under site-packages that happens to be imported. Which modules those are depends on how the suite was
installed (an editable install makes the suite's own modules local; a wheel does not) and on which of them were
imported before a case was drawn (lazy imports, the pytest plugin, a second run in the same process). So one
``--seed`` would send different cases from one process to the next. The suite's own literals are no better test
data than any other, so the property-based phases draw without local constants (hypothesis's global ones stay).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def without_local_constants() -> Iterator[None]:
    """While the block runs, hypothesis finds no local constants. Hypothesis offers no setting for this, so its
    provider's lookup is replaced for the duration; a hypothesis without the feature is left alone."""
    providers: Any = importlib.import_module("hypothesis.internal.conjecture.providers")
    lookup = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    constants_type = getattr(providers, "Constants", None)
    if lookup is None or cache is None or constants_type is None:
        yield
        return
    none = constants_type()
    providers._get_local_constants = lambda: none
    cache.clear()  # pools computed with local constants before the block
    try:
        yield
    finally:
        providers._get_local_constants = lookup
        cache.clear()
