"""The schemathesis child (``python -m conformance.engine.phases.st_child``): it draws a run's schemathesis cases
(st_draw.py) and, when the run asks it to serve, judges schemathesis's checks of their answers (st_check_lane.py),
on another core than the run's, through drawing_child.serve_lines."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from conformance.engine.determinism import without_local_constants
from conformance.engine.phases.drawing_child import serve_lines
from conformance.engine.phases.st_check_lane import answerer
from conformance.engine.phases.st_draw import draw_records, operation

if TYPE_CHECKING:
    from schemathesis.schemas import APIOperation

#: The child's one operation, built by whichever of its drawing and its checks needs it first: building one costs
#: about 0.3 s of CPU, and one child draws and checks for one request.
_operation: list[APIOperation[Any, Any, Any, Any]] = []
_building = threading.Lock()


def child_operation(examples: int) -> APIOperation[Any, Any, Any, Any]:
    """The child's operation, for the ``examples`` of its request."""
    with _building:
        if not _operation:
            _operation.append(operation(examples))
        return _operation[0]


def draw(asked: dict[str, Any], emit: Callable[[bytes], None]) -> None:
    """Draw the cases asked for, each emitted as a base64 line the moment it exists."""
    drawn_from = child_operation(asked["examples"])
    with without_local_constants():
        draw_records(asked["seed"], asked["examples"], lambda data: emit(base64.b64encode(data)), drawn_from)


def answering(asked: dict[str, Any]) -> Callable[[bytes], bytes]:
    """The operation built at once, while the run's first phases go on; then each question's answer."""
    return answerer(child_operation(asked["examples"]))


def main() -> None:
    serve_lines(draw, answering)


if __name__ == "__main__":
    from conformance.support.collector import collected_for_one_job

    with collected_for_one_job():
        main()
