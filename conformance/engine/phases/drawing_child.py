"""A child process that draws a phase's cases on another core while this process sends and judges them.

Drawing a case costs the interpreter one to ten milliseconds, and this interpreter also sends every request and
judges every answer: drawing them elsewhere lets both go on at once. A child draws knowing only the seed and how
many cases to draw; one that serves (below) also sees the answers it is asked to judge, as the run's client received
them (their headers redacted). None knows a credential, and none sends anything (every request leaves through the
run's one client, in this process). Both ends of the pipe are here:

- the child, ``python -m MODULE``, reads its request (one JSON line) on stdin and writes each case as one line on
  stdout as soon as it is drawn, then a line ``null`` (serve_lines);
- DrawingChild starts it and reads the cases as they come. If the child cannot be started, dies, stalls or writes
  anything its ``parse`` refuses, it draws the cases in this process instead (the same cases: same seed, same
  drawing), from the first it has not read yet, and says so on stderr.

A child started ``serving`` also answers questions while it draws, and after: each question is a frame on its stdin
(``ask``), each answer a line on its stdout starting with ``!`` (``answer``), in the order asked. Its stdin then
stays open until the run ends. Such a child starts even when the drawing cache holds the cases: it draws nothing,
and only answers (the schemathesis child judges schemathesis's checks this way, st_check_lane.py). With nothing to
draw it starts only when ``begin`` is called (the run calls it once the target has answered a batch) or when it is
first asked: a run against a target that never gets that far (it never answers, refuses every credential) does not
pay for a child that would only have waited, about a second of CPU to import what it judges with.

The child imports what this process imports (its ``sys.path``) and draws without local constants, as this process
does (determinism.py), so both draw the same sequence. It runs in a session of its own, so that a Ctrl-C on the
terminal reaches only this process, which kills it when the run ends (``close``); if this process dies first, the
child's next line fails on the closed pipe and it ends too. Its stderr goes to a file, whose last line is shown
only when it failed.
"""

from __future__ import annotations

import json
import os
import queue
import selectors
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any, BinaryIO, ClassVar, Generic, TypeVar

from conformance.support.child_process import CHILD_ENV_PREFIXES, child_environment, start_child
from conformance.support.errors import ChildFailed
from conformance.support.terminal import one_line

if TYPE_CHECKING:
    from conformance.engine.phases.drawing_cache import DrawingCache

T = TypeVar("T")

#: Seconds without a case after which the child counts as stalled. It starts in well under a second and then draws
#: a case every few milliseconds; drawing everything here instead takes a few seconds.
STALL_S = 10.0
_END = b"null"
#: How an answer's line starts (a case's line never does: base64 or JSON).
ANSWER = b"!"
#: How a question's frame starts: its length, then its bytes.
_FRAME = struct.Struct(">I")
#: A drawing child keeps what hypothesis reads of the environment too (support.child_process keeps no credential).
ENV_PREFIXES = (*CHILD_ENV_PREFIXES, "HYPOTHESIS_")
#: The variables by which hypothesis tells a CI machine (hypothesis/_settings.py, _CI_VARS): there it loads its "ci"
#: profile, and schemathesis then applies its settings otherwise, so a child that did not see them would draw other
#: cases than this process for the same seed. Flags and build numbers, never a credential.
CI_DETECTION = frozenset(
    {
        "CI",
        "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI",
        "TF_BUILD",
        "bamboo.buildKey",
        "BUILDKITE",
        "CIRCLECI",
        "CIRRUS_CI",
        "CODEBUILD_BUILD_ID",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
        "HEROKU_TEST_RUN_ID",
        "TEAMCITY_VERSION",
    }
)


def _shown(line: bytes) -> str:
    """The start of a line that is not a case, for the message that says so."""
    return repr(line[:60].decode("utf-8", "replace") + ("..." if len(line) > 60 else ""))


class DrawingChild(Generic[T]):
    """The cases a child process started at once draws for ``request``; read them with ``items``, and ``close``
    when the run ends (the child is then killed if it still runs, and reaped). ``close`` may come from another
    thread than the one reading (a run stopped while its property phases run beside the scenarios): the reading
    then ends, without drawing anything here. Subclasses name the child's module, what one line may hold, how a
    line is read back (``parse``) and how this process draws the same cases (``drawn_here``).

    With a ``cache`` (drawing_cache.py), the lines an earlier child wrote for the same request, environment and
    code are read instead, and no child starts (``replayed``) unless it is ``serving``, and then only at ``begin``
    (see the module's docstring); a child's complete output is kept there for the next run."""

    module: ClassVar[str]
    #: What the child draws, for the message shown when it fails: "the aimed cases".
    what: ClassVar[str]
    #: One case, for the message shown when the child writes something else: "a plan".
    one: ClassVar[str] = "a case"
    #: Bytes a line may hold: a child writing without end must not fill this process's memory.
    max_line: ClassVar[int]

    def __init__(self, request: Mapping[str, Any], cache: DrawingCache | None = None, *, serving: bool = False) -> None:
        self._buffer = bytearray()
        self._cases: deque[bytes] = deque()
        self._answers: deque[bytes] = deque()
        self.serving = serving
        self._selector = selectors.DefaultSelector()
        self._stderr: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._failure: str | None = None
        self._closed = False
        self._reading = threading.Lock()  # held while the pipe is read; close() lets go of it only outside
        self._starting = threading.Lock()  # held while the child starts; close() waits for it
        self._request = request
        self._begun = False
        self._cache, self._key = cache, ""
        #: The lines read from the cache instead of a child's pipe (None: a child draws).
        self._replayed: list[bytes] | None = None
        if cache is not None:
            self._key = cache.key(self.module, request, child_environment(os.environ, ENV_PREFIXES, CI_DETECTION))
            self._replayed = cache.lines(self._key)
            if cache.refused is not None:
                print(
                    f"dcs-conformance: not using the drawing cache {cache.directory}: {cache.refused}; drawing afresh",
                    file=sys.stderr,
                    flush=True,
                )
        if self._replayed is None:
            self.begin()

    def begin(self) -> None:
        """Start the child now unless it has started, the drawing was closed, or it has nothing to do (replayed,
        not serving). A child that draws starts as the drawing is made; one that only answers, here: from any
        thread, once (``ask`` calls it too)."""
        if self._begun:
            return  # the run calls it at every 2xx answer: once started, without taking the lock
        with self._starting:
            if self._begun or self._closed or (self._replayed is not None and not self.serving):
                return
            self._begun = True
            try:
                self._process, self._stderr = start_child(self.module, ENV_PREFIXES, CI_DETECTION)
                assert self._process.stdin is not None and self._process.stdout is not None
                self._selector.register(self._process.stdout, selectors.EVENT_READ)
            except (OSError, ValueError) as exc:
                self._failure = f"it could not be started: {exc}"
                return
            asked = {**self._request, "draw": self._replayed is None, "serve": self.serving}
            try:
                self._write(json.dumps(asked).encode() + b"\n")
                if not self.serving:
                    self._process.stdin.close()
            except OSError:
                pass  # it died at once: reading finds out how

    def parse(self, line: bytes) -> T:
        """One case read back from the child's line; ValueError unless it is one the drawing can give."""
        raise NotImplementedError

    def drawn_here(self) -> list[T]:
        """Every case the child draws, drawn in this process."""
        raise NotImplementedError

    def items(self) -> Iterator[T]:
        """Every case in the order drawn: the child's as they come, then, if it failed, the rest drawn here."""
        read = 0
        try:
            for item in self._from_child():
                yield item
                read += 1
            return
        except ChildFailed as exc:
            failure = str(exc)
        if self._closed:
            return
        self._stop()
        how = "replaying {} from the drawing cache" if self.replayed else "drawing {} in a child process"
        print(
            # Its last error line may quote an answer a serving child judged: the target's text, shown as such.
            f"dcs-conformance: {how.format(self.what)} failed ({one_line(failure)}); "
            "drawing them in this process instead",
            file=sys.stderr,
            flush=True,
        )
        yield from self.drawn_here()[read:]

    @property
    def replayed(self) -> bool:
        """Whether the cases come from the drawing cache rather than from a child."""
        return self._replayed is not None

    def _from_child(self) -> Iterator[T]:
        if self._replayed is not None:
            yield from self._from_cache(self._replayed)
            return
        if self._failure is not None:
            raise ChildFailed(self._failure)
        kept: list[bytes] = []
        while (line := self._next(self._cases)) != _END:
            try:
                item = self.parse(line)
            except (ValueError, RecursionError):
                raise ChildFailed(f"it wrote {_shown(line)} where {self.one} was expected") from None
            if self._cache is not None:
                kept.append(line)
            yield item
        if not self.serving:
            self._reap()
        if self._cache is not None:
            self._cache.keep(self._key, kept)

    def _from_cache(self, lines: list[bytes]) -> Iterator[T]:
        """The cache entry's cases, each parsed as a child's line; an entry holding anything else is deleted."""
        assert self._cache is not None
        for line in lines:
            if self._closed:
                return
            try:
                item = self.parse(line)
            except (ValueError, RecursionError):
                self._cache.forget(self._key)
                raise ChildFailed(f"its entry holds {_shown(line)} where {self.one} was expected") from None
            yield item

    def ask(self, question: bytes) -> None:
        """Send the serving child one question; its answer comes, in turn, from ``answer``. ChildFailed if it
        cannot be asked."""
        self.begin()
        if self._process is None or not self.serving or self._closed:
            raise ChildFailed(self._failure or "no child answers questions")
        try:
            self._write(_FRAME.pack(len(question)) + question)
        except (OSError, ValueError) as exc:
            raise ChildFailed(f"it cannot be asked: {exc}") from None

    def answer(self) -> bytes:
        """The answer to the oldest question not yet answered, without its ``!``, waiting at most STALL_S for
        each line of the child's; ChildFailed if it will not come. Cases the child writes meanwhile are kept for
        ``items``."""
        if self._process is None:
            raise ChildFailed(self._failure or "no child answers questions")
        return self._next(self._answers)[len(ANSWER) :]

    def _write(self, data: bytes) -> None:
        assert self._process is not None and self._process.stdin is not None
        view = memoryview(data)
        while view:
            view = view[self._process.stdin.write(view) or 0 :]

    def _next(self, wanted: deque[bytes]) -> bytes:
        """The next line of one kind (``_cases`` or ``_answers``), the other kind read meanwhile kept for later."""
        with self._reading:
            while not wanted:
                line = self._line()
                (self._answers if line.startswith(ANSWER) else self._cases).append(line)
            return wanted.popleft()

    def _line(self) -> bytes:
        """The next line the child wrote, waiting at most STALL_S for it (holding ``_reading``)."""
        while (end := self._buffer.find(b"\n")) < 0:
            self._buffer += self._chunk()
            if self._buffer.find(b"\n") < 0 and len(self._buffer) > self.max_line:
                raise ChildFailed(f"it wrote a line of more than {self.max_line} bytes where {self.one} was expected")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return line

    def _chunk(self) -> bytes:
        """What the child wrote since the last read (holding ``_reading``)."""
        assert self._process is not None and self._process.stdout is not None
        if self._closed:
            raise ChildFailed("the run closed it")
        try:
            ready = self._selector.select(STALL_S)
            chunk = os.read(self._process.stdout.fileno(), 1 << 16) if ready else None
        except OSError as exc:
            raise ChildFailed(f"its output cannot be read: {exc}") from None
        if chunk is None:
            raise ChildFailed(f"it drew nothing for {STALL_S:g} s")
        if not chunk:
            raise ChildFailed(self._exit())
        return chunk

    def _exit(self) -> str:
        """How the child ended, having closed its output without finishing: its exit status and last error line."""
        code = self._reap()
        assert self._stderr is not None
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().decode("utf-8", "replace").splitlines() if line.strip()]
        ended = "it closed its output but did not exit" if code is None else f"it exited with status {code}"
        return ended + (f": {lines[-1][:200]}" if lines else "")

    def _reap(self) -> int | None:
        """Wait for the child, which has finished writing, to exit; kill it if it lingers. Its exit status."""
        assert self._process is not None
        try:
            return self._process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self._stop()
            return None

    def _stop(self) -> None:
        """Kill the child if it still runs, and reap it: it never outlives the run nor lingers as a zombie."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()

    def close(self) -> None:
        """Stop the child (see _stop), then, once no thread reads its pipe (the child's end closed with it, so a
        reader wakes up at once), let go of the pipe and of the stderr file."""
        with self._starting:
            self._closed = True
        self._stop()
        with self._reading:
            self._selector.close()
            if self._process is not None and self._process.stdout is not None:
                self._process.stdout.close()
            if self._process is not None and self._process.stdin is not None:
                self._process.stdin.close()
            if self._stderr is not None:
                self._stderr.close()


#: How a child answers the questions of one request: ``answering(request)`` (called as serving starts, so that it
#: can prepare while the drawing goes on) gives the function from a question to its answer.
Answering = Callable[[dict[str, Any]], Callable[[bytes], bytes]]


def serve_lines(
    draw: Callable[[dict[str, Any], Callable[[bytes], None]], None], answering: Answering | None = None
) -> None:
    """The child's side: ``draw(request, emit)`` with the request read on stdin (unless it says ``"draw": false``),
    each line it emits written on stdout, then the end line. A request that says ``"serve": true`` is answered too:
    each question read on stdin, while drawing and after, gets the line ``!`` + ``answering(request)(question)``.

    The lines go out from a thread of their own, through a queue without bound: drawing never waits for this
    process's reader, which reads only once its phase begins, so a child started with the run has drawn
    everything by then. What it holds meanwhile is the phase's cases, a few kilobytes each."""
    stdin = sys.stdin.buffer
    request = json.loads(stdin.readline())
    lines: queue.Queue[bytes | None] = queue.Queue()
    out = sys.stdout.buffer

    def write() -> None:
        try:
            while (line := lines.get()) is not None:
                out.write(line + b"\n")
                out.flush()
        except OSError:
            os._exit(1)  # the reader is gone (the run ended): nobody wants the rest

    writer = threading.Thread(target=write, name="write", daemon=True)
    writer.start()
    server = None
    if request.get("serve") and answering is not None:
        server = threading.Thread(target=_serve, args=(request, stdin, answering, lines.put), name="serve", daemon=True)
        server.start()
    if request.get("draw", True):
        draw(request, lines.put)  # an exception ends the child before the end line: the reader takes over
    lines.put(_END)
    if server is not None:
        server.join()  # until this process closes stdin
    lines.put(None)
    writer.join()


def _serve(request: dict[str, Any], stdin: BinaryIO, answering: Answering, emit: Callable[[bytes], None]) -> None:
    """Answer each question read on stdin, in order, until it ends; an answer that fails ends the child (the
    reader then judges in its own process)."""
    try:
        answer = answering(request)
        while len(head := stdin.read(_FRAME.size)) == _FRAME.size:
            (size,) = _FRAME.unpack(head)
            question = stdin.read(size)
            if len(question) != size:
                return
            emit(ANSWER + answer(question))
    except Exception as exc:  # reported like any failure of the child: on its stderr, then exit
        print(f"answering failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
