"""The schemathesis phases' cases, drawn by a child process on another core while this process sends and judges.

Schemathesis costs the run's interpreter 5-13 ms a case to draw (more than sending and judging it), about 1.5 s of
the embedded default run's 136 cases. A child started with the run (drawing_child.py) draws them while the
scenarios and the aimed phase run, so the generated phase sends its first case at once and finds most of the others
drawn. It reads ``{"seed": S, "examples": N}`` and draws from the OpenAPI document as it is, with the documentation's
example task IDs; whoever sends a case puts the run's minted IDs in their place (``case_of``), so the child needs
nothing but the seed. This process draws the same way when no child draws (``drawn_here``), so the same seed sends
the same requests either way.

A case crosses the pipe as a base64 line of a pickle in two parts: what sending and our own checks read (its body,
media type, phase and mode), in plain values that need no schemathesis to read (``read_drawn``), and its record (its
pickled fields and schemathesis's metadata), which only schemathesis's checks read (``read_record``). Nothing but
plain values is unpickled from the first part, and nothing but classes of schemathesis's generation metadata from
the second: the line comes from our own child, and even so nothing else it could name is ever called.

Nothing here imports schemathesis until a case is drawn or a record read: the run starts the child first, and a run
whose child also judges schemathesis's checks (st_check_lane.py) never loads schemathesis in its own process.
"""

from __future__ import annotations

import base64
import binascii
import io
import pickle
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.engine.determinism import without_local_constants
from conformance.engine.phases.drawing_child import DrawingChild
from conformance.support.errors import LibrarySendRefused

if TYPE_CHECKING:
    import schemathesis
    from schemathesis.schemas import APIOperation

    from conformance.engine.phases.drawing_cache import DrawingCache

#: The child that draws the cases (and may judge their checks).
MODULE = "conformance.engine.phases.st_child"
#: Fuzzing examples from which a child draws the cases. Always: even 5 examples come with some 40 cases of the
#: examples and coverage phases (0.2-0.5 s to draw here), and the child, about 0.8 s of CPU to start, runs on the
#: other core while the scenarios and the aimed phase run first.
CHILD_DRAWING_FROM = 1
#: The fields of a case that cross the pipe: all that sending and judging it read (its method, path, and the
#: operation it belongs to are this process's own).
FIELDS = ("method", "path_parameters", "headers", "cookies", "query", "body", "media_type", "multipart_content_types")
#: The modules whose classes a record may hold: schemathesis's generation metadata, and the containers it uses.
_CLASSES_FROM = frozenset(
    {
        "schemathesis.core",
        "schemathesis.core.mutations",
        "schemathesis.core.parameters",
        "schemathesis.generation.meta",
        "schemathesis.generation.modes",
    }
)
_CLASSES = frozenset({("collections", "OrderedDict"), ("requests.structures", "CaseInsensitiveDict")})


def schemathesis_examples(max_examples: int) -> int:
    """The fuzzing budget of the schemathesis phases for a run's --max-examples: all of it up to 100, then a tenth
    of the rest, since schemathesis generation costs tens of milliseconds a case and the aimed phase (which gets
    the whole --max-examples) finds batch bugs with a fraction of that."""
    return min(max_examples, 100 + max_examples // 10)


def refuse_to_send(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """The application schemathesis would send to on its own (some checks re-send control requests): it refuses,
    so nothing can bypass the guard, the budget, the rate limit and the timeout."""
    raise LibrarySendRefused(f"schemathesis tried to send {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}")


def operation(examples: int) -> APIOperation[Any, Any, Any, Any]:
    """The batch-restart operation as schemathesis generates it: positive and negative modes, ``examples`` fuzzing
    examples, and no way to send anything on its own (refuse_to_send). Its checks judge by the documented responses
    alone, never by where the case was sent: the same operation judges the answers of any target."""
    import schemathesis
    from schemathesis import GenerationMode

    from conformance.contract import ENDPOINT, load_spec
    from conformance.engine.phases.st_checks import schemathesis_config

    schema = schemathesis.openapi.from_dict(load_spec(), config=schemathesis_config())
    schema.app = refuse_to_send
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=examples)
    return schema[ENDPOINT]["POST"]


@dataclass(frozen=True)
class Drawn:
    """One drawn case as a run sends it and our own checks judge it, read without schemathesis; ``record`` (see
    read_record) is the case itself, for schemathesis's checks."""

    #: The body, with the documentation's example IDs still in it (see case_of); None when ``has_body`` is false.
    body: Any
    has_body: bool
    media_type: str | None
    #: Schemathesis's phase ("examples", "coverage", "fuzzing") and generation mode ("positive", "negative").
    phase: str
    mode: str
    record: bytes


_DRAWN_KEYS = frozenset({"body", "has_body", "media_type", "phase", "mode", "record"})


def draw_records(
    seed: int,
    examples: int,
    emit: Callable[[bytes], None],
    drawn_from: APIOperation[Any, Any, Any, Any] | None = None,
) -> None:
    """Draw this seed's cases (the examples, coverage and fuzzing phases, ``examples`` fuzzing examples), handing
    each to ``emit`` as soon as it is drawn, pickled as read_drawn reads it; from ``drawn_from`` (``operation``'s
    for ``examples``), or from one built here. Run it inside determinism.without_local_constants, or the cases
    depend on the modules imported."""
    import hypothesis
    from schemathesis.core import NotSet
    from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

    if drawn_from is None:
        drawn_from = operation(examples)

    def test(case: schemathesis.Case[Any]) -> None:
        fields = {name: getattr(case, name) for name in FIELDS}
        record = pickle.dumps({**fields, "meta": case.meta}, protocol=pickle.HIGHEST_PROTOCOL)
        has_body = not isinstance(case.body, NotSet)
        drawn = {
            "body": case.body if has_body else None,
            "has_body": has_body,
            # The media type of the case case_of makes again from the record (a throwaway case, so that nothing of
            # the drawn one changes). That one always has a body object: even a case drawn without a body holds a
            # copy of NotSet there, not schemathesis's own, and so gets the operation's default media type too.
            "media_type": drawn_from.schema.make_case(
                operation=drawn_from, body=b"", media_type=case.media_type
            ).media_type,
            "phase": case.meta.phase.name.value if case.meta else "unknown",
            "mode": case.meta.generation.mode.value if case.meta else "unknown",
            "record": record,
        }
        emit(pickle.dumps(drawn, protocol=pickle.HIGHEST_PROTOCOL))

    create_test(
        operation=drawn_from,
        test_func=test,
        config=HypothesisTestConfig(
            project=drawn_from.schema.config,
            modes=[HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING],
            settings=hypothesis.settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=list(hypothesis.HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            ),
            seed=seed,
        ),
    )()


class _PlainOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise ValueError(f"a drawn case holds plain values only, not {module}.{name}")


def read_drawn(data: bytes) -> Drawn:
    """A case as draw_records wrote it, or ValueError: plain values only (no class is ever looked up), and its
    record as bytes, unread."""
    try:
        drawn = _PlainOnly(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, ImportError, IndexError) as exc:
        raise ValueError(f"not a drawn case: {exc}") from None
    if not (isinstance(drawn, dict) and set(drawn) == _DRAWN_KEYS):
        raise ValueError("not a drawn case")
    if not (isinstance(drawn["record"], bytes) and isinstance(drawn["has_body"], bool)):
        raise ValueError("not a drawn case")
    if not (drawn["media_type"] is None or isinstance(drawn["media_type"], str)):
        raise ValueError("not a drawn case")
    if not (isinstance(drawn["phase"], str) and isinstance(drawn["mode"], str)):
        raise ValueError("not a drawn case")
    return Drawn(**drawn)


class _MetadataOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module in _CLASSES_FROM or (module, name) in _CLASSES:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise ValueError(f"a record may not hold {module}.{name}")


def read_record(data: bytes) -> dict[str, Any]:
    """A record as draw_records wrote it, or ValueError: nothing but its fields, and schemathesis's metadata."""
    from schemathesis.generation.meta import CaseMetadata

    try:
        record = _MetadataOnly(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, ImportError, IndexError) as exc:
        raise ValueError(f"not a record: {exc}") from None
    if not (isinstance(record, dict) and set(record) == {*FIELDS, "meta"}):
        raise ValueError("not a record")
    if not (isinstance(record["meta"], CaseMetadata) and isinstance(record["method"], str)):
        raise ValueError("not a record")
    if not (record["media_type"] is None or isinstance(record["media_type"], str)):
        raise ValueError("not a record")
    return record


def case_of(
    drawn_for: APIOperation[Any, Any, Any, Any], record: Mapping[str, Any], ids: Mapping[str, str]
) -> schemathesis.Case[Any]:
    """The case a record stands for, as ``drawn_for``'s, with each documented example ID named in its body
    replaced by the run's own (``ids``: see generated.minted_examples)."""
    fields = {name: record[name] for name in FIELDS}
    meta = record["meta"]
    # The metadata remembers its containers by their hash() (to notice a case edited after it was drawn, whose
    # negative mode it would then work out again): hashes of another process (of its own PYTHONHASHSEED), and of
    # a body without the run's IDs. Forgotten, they are taken again from the case as sent, as for a case drawn
    # with the run's IDs in it.
    meta._last_validated_hashes.clear()
    meta._initial_hashes.clear()
    return drawn_for.Case(**{**fields, "body": with_ids(fields["body"], ids)}, _meta=meta)


def with_ids(value: Any, ids: Mapping[str, str]) -> Any:
    """``value`` (a body, or any part of one) with each documented example ID it names replaced by the run's own."""
    if isinstance(value, str):
        for documented, minted in ids.items():
            value = value.replace(documented, minted)
        return value
    if isinstance(value, bytes):
        for documented, minted in ids.items():
            value = value.replace(documented.encode(), minted.encode())
        return value
    if isinstance(value, list):
        return [with_ids(item, ids) for item in value]
    if isinstance(value, dict):
        return {with_ids(key, ids): with_ids(item, ids) for key, item in value.items()}
    return value


def drawn_here(seed: int, examples: int) -> list[Drawn]:
    """The cases a child draws for the seed, drawn in this process (and read back as a child's are)."""
    cases: list[Drawn] = []
    with without_local_constants():
        draw_records(seed, examples, lambda data: cases.append(read_drawn(data)))
    return cases


class CaseDrawing(DrawingChild[Drawn]):
    """``seed``'s cases with ``examples`` fuzzing examples, drawn by a child process started at once or replayed
    from the drawing cache (see DrawingChild). With ``checks``, the child (started even when the cache holds the
    cases) also judges schemathesis's checks of their answers (st_check_lane.py)."""

    module = MODULE
    what = "the schemathesis cases"
    one = "a case"
    #: A record takes 1-4 kB; a fuzzed body can be much larger, never this large.
    max_line = 1 << 24

    def __init__(self, seed: int, examples: int, cache: DrawingCache | None = None, *, checks: bool = False) -> None:
        self.seed = seed
        self.examples = examples
        super().__init__({"seed": seed, "examples": examples}, cache, serving=checks)

    def parse(self, line: bytes) -> Drawn:
        try:
            data = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise ValueError("not base64") from None
        return read_drawn(data)

    def drawn_here(self) -> list[Drawn]:
        return drawn_here(self.seed, self.examples)


def checks_in_child() -> bool:
    """Whether the child should judge schemathesis's checks: when this process has not loaded schemathesis (a
    command-line run), loading it here would cost the run about 0.4 s of CPU before its generated phase, on the core
    that sends and judges everything else; a process that has it loaded (the pytest plugin, a test) checks here,
    and no child starts only to check cases the drawing cache holds. Either way the checks judge the same."""
    return "schemathesis" not in sys.modules


@contextmanager
def cases_ahead(seed: int, examples: int, cache: DrawingCache | None = None) -> Iterator[CaseDrawing | None]:
    """The generated phase's cases, drawn from now on by a child process while the run goes on (from
    CHILD_DRAWING_FROM examples), or read from ``cache`` when a child drew them before; None otherwise. The child
    also judges schemathesis's checks when checks_in_child says so. Enter it as early as the run can; leaving it
    stops the child if it still runs."""
    if examples < CHILD_DRAWING_FROM:
        yield None
        return
    drawing = CaseDrawing(seed, examples, cache, checks=checks_in_child())
    try:
        yield drawing
    finally:
        drawing.close()
