"""Sending many independent requests at once, judging them in order; drawing cases while they are sent.

A remote target is slow because of its round trip, not because of us: a few requests in flight hide that latency.
Only sending happens in worker threads, through the run's one client (whose guard, budget, rate limit and
redaction are safe under concurrency); every answer is handed back in the order the requests were planned and
judged on the calling thread, so the ledger, the evidence it keeps and the report are the same for any number of
workers.

Drawing property-based cases costs milliseconds each; against a slow target a Drawing draws them on a thread of its
own and hands each over as soon as it exists, so that the round trips overlap the drawing. The order of the cases is
the drawing's, whoever sends them.

The workers are daemon threads that run in a copy of the caller's context (engine.in_flight.in_background holds
for the property lane's workers too), fed a few requests ahead: when the run stops (budget spent, target gone,
SIGINT), the caller goes on at once to write its reports, and a worker still waiting for a hanging target never
holds the process back.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Generic, TypeVar

from conformance.config.settings import DEFAULT_MAX_RESPONSE_BYTES
from conformance.engine.memory_budget import BUDGET_RESPONSES, Backlog, body_size

T = TypeVar("T")
R = TypeVar("R")

_IDLE_POLL_S = 0.1
#: About what drawing one case costs: a worker waiting longer than this for each answer leaves room to draw.
OVERLAP_MS = 2.0
#: The response bytes answers read ahead of the judging may hold (see engine.memory_budget).
HOLD_BYTES = BUDGET_RESPONSES * DEFAULT_MAX_RESPONSE_BYTES


def in_order(
    send: Callable[[T], R], items: Iterable[T], workers: int, *, hold_bytes: int = HOLD_BYTES
) -> Iterator[tuple[T, R]]:
    """Each item with what ``send`` returned for it, in the order of ``items``. An exception raised by ``send``
    (the budget spent, the target gone) is raised here at that item's turn; items not yet started are not sent.
    ``items`` is read lazily, a few ahead of the answers, so it may be a drawing still in progress.

    Answers started ahead of the judging hold at most ``hold_bytes`` of response bodies, reckoned by the largest
    answer seen: past that, a worker starts only the next item to be judged (engine.memory_budget.Backlog)."""
    pending = iter(items)
    if workers <= 1:
        for item in pending:
            yield item, send(item)
        return
    # The first request goes alone: a target that cannot be reached (or refuses the TLS handshake) fails once, not
    # once per worker; and the size of its answer is known before the workers start.
    backlog = Backlog(hold_bytes)
    for item in pending:
        first = send(item)
        backlog.answered(body_size(first))
        yield item, first
        break
    jobs: queue.Queue[tuple[T, Future[R]]] = queue.Queue()
    stop = threading.Event()
    started = False
    window: deque[tuple[T, Future[R]]] = deque()

    def next_to_judge(future: Future[R]) -> bool:
        try:
            return window[0][1] is future
        except IndexError:
            return True

    def work() -> None:
        while not stop.is_set():
            try:
                item, future = jobs.get(timeout=_IDLE_POLL_S)
            except queue.Empty:
                continue
            backlog.wait_room(partial(next_to_judge, future), stop.is_set)
            if not future.set_running_or_notify_cancel():
                backlog.judged()  # cancelled: never judged
                continue
            try:
                result = send(item)
            except BaseException as exc:  # handed to the caller at this item's turn
                future.set_exception(exc)
            else:
                backlog.answered(body_size(result))
                future.set_result(result)

    def feed() -> bool:
        """Queue the next item; False when there is none."""
        for item in pending:
            job: tuple[T, Future[R]] = (item, Future())
            window.append(job)
            jobs.put(job)
            return True
        return False

    try:
        while len(window) < workers * 2 and feed():
            if not started:
                started = True
                for number in range(workers):
                    context = contextvars.copy_context()
                    threading.Thread(target=context.run, args=(work,), name=f"send-{number}", daemon=True).start()
        while window:
            item, future = window[0]
            result = future.result()
            window.popleft()
            feed()
            yield item, result
            backlog.judged()
    finally:
        stop.set()
        for _, future in window:
            future.cancel()


def send_drawn(
    draw: Callable[[Callable[[T], None]], None],
    send: Callable[[T], R],
    judge: Callable[[T, R], object],
    workers: int,
    first: Sequence[T] = (),
    *,
    round_trip_ms: float = 0.0,
) -> None:
    """Send ``first`` (before anything is drawn), then every case ``draw(emit)`` emits, ``workers`` at a time; judge
    each answer in the order the cases were drawn.

    The cases are drawn while they are sent (on a thread of their own, see Drawing) only when the target's round
    trip (``round_trip_ms``, as measured so far) leaves each worker waiting longer than drawing a case takes.
    Otherwise they are all drawn first: drawing and sending on two threads would compete for the one interpreter,
    and so would taking turns on one (measured: drawing inside hypothesis's test function, a case sent each time,
    is slower than drawing everything first)."""
    for item, result in in_order(send, first, workers):
        judge(item, result)
    if workers > 1 and round_trip_ms / workers > OVERLAP_MS:
        with Drawing(draw, ahead=2 * workers) as drawn:
            for item, result in in_order(send, drawn, workers):
                judge(item, result)
        return
    cases: list[T] = []
    draw(cases.append)
    for item, result in in_order(send, cases, workers):
        judge(item, result)


class _Stopped(BaseException):
    """Raised inside a drawing to end it at once (a BaseException, so that hypothesis does not take it for a
    failing case): nobody reads its cases any more."""


class Drawing(Generic[T]):
    """The cases ``draw(emit)`` emits, drawn on a thread of their own and read in the order drawn. An exception the
    drawing raises is raised to the reader after the cases drawn before it. ``close`` (or leaving a ``with`` block)
    stops a drawing nobody reads any more, and waits for it to end, so that no two drawings ever overlap.

    The drawing stays at most ``ahead`` cases ahead of its reader: drawing is work for the interpreter, and a thread
    drawing far ahead would slow down every request in flight (the embedded reference answers from this very
    interpreter), so the first answers would come later."""

    def __init__(self, draw: Callable[[Callable[[T], None]], None], ahead: int) -> None:
        self._cases: queue.Queue[tuple[bool, object]] = queue.Queue()
        self._room = threading.Semaphore(max(1, ahead))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(draw,), name="draw", daemon=True)

    def _emit(self, case: T) -> None:
        self._room.acquire()
        if self._stop.is_set():
            raise _Stopped
        self._cases.put((True, case))

    def _run(self, draw: Callable[[Callable[[T], None]], None]) -> None:
        try:
            draw(self._emit)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the reader after the cases drawn so far
            self._cases.put((False, exc))
            return
        self._cases.put((False, None))

    def __iter__(self) -> Iterator[T]:
        self._thread.start()  # when the first case is wanted: until then, whatever runs before has the interpreter
        while True:
            more, value = self._cases.get()
            if not more:
                if isinstance(value, BaseException):
                    raise value
                return
            self._room.release()
            yield value  # type: ignore[misc]

    def close(self) -> None:
        self._stop.set()
        self._room.release()  # a drawing waiting for room wakes up, and stops
        if self._thread.ident is not None:
            self._thread.join()

    def __enter__(self) -> Drawing[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
