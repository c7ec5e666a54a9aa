"""How many requests a run keeps in flight at once, whichever phase and thread sends them.

--workers is the most a run ever has in flight (phases that run side by side share it). A target that throttles
(429 or 503) is asking for less: each throttled answer halves the limit, down to one request at a time, and it
grows back by one after as many answers in a row as the limit, none of them throttled, up to --workers again. A
staging gateway that throttles gets fewer requests at once rather than the same number of resends.
"""

from __future__ import annotations

import threading


class InFlight:
    """A gate each send passes through (``with gate:``); ``answered`` tells it how the target took the request."""

    def __init__(self, most: int) -> None:
        if most < 1:
            raise ValueError(f"at least one request must be allowed in flight, not {most}")
        self.most = most
        self.limit = most
        self._active = 0
        self._calm = 0
        self._changed = threading.Condition()

    def __enter__(self) -> InFlight:
        with self._changed:
            while self._active >= self.limit:
                self._changed.wait()
            self._active += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._changed:
            self._active -= 1
            self._changed.notify()

    def answered(self, *, throttled: bool) -> None:
        with self._changed:
            if throttled:
                self.limit = max(1, self.limit // 2)
                self._calm = 0
                return
            self._calm += 1
            if self._calm >= self.limit and self.limit < self.most:
                self.limit += 1
                self._calm = 0
                self._changed.notify()
