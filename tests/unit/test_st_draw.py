"""A child process draws the schemathesis phases' cases exactly as this process would, and a line it writes is read
back as nothing but plain values and a record of a case's fields and schemathesis's metadata, whatever it holds."""

from __future__ import annotations

import base64
import os
import pickle
import re
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.phases import st_draw
from conformance.engine.phases.st_draw import (
    CaseDrawing,
    Drawn,
    case_of,
    drawn_here,
    operation,
    read_drawn,
    read_record,
    with_ids,
)
from tests.conftest import children

DOCUMENTED = "091434c0-d6d7-47c6-9e14-17cc9502b27b"
MINTED = "5e3a2f10-0b7c-4c1e-9d2a-6f8e1b4c7a90"
EXAMPLES = 5


def bodies(cases: list[Drawn]) -> list[tuple[str, str | None, str]]:
    """What a run sends of each drawn case, and how schemathesis's checks see it."""
    drawn_for = operation(EXAMPLES)
    checked = [case_of(drawn_for, read_record(drawn.record), {DOCUMENTED: MINTED}) for drawn in cases]
    return [(_plain(repr(case.body)), case.media_type, _plain(repr(case.meta))) for case in checked]


def _plain(shown: str) -> str:
    """A repr without what differs from one drawing (or process) to the next and is never sent nor judged: how
    long drawing took, object addresses, and the hash() values the metadata tracks its containers by."""
    return re.sub(r"time=[-+.e\d]+|0x[0-9a-f]+|_hashes=\{[^}]*\}", "", shown)


def drawn_by_child(seed: int) -> list[dict[str, Any]]:
    drawing = CaseDrawing(seed, EXAMPLES)
    try:
        return list(drawing.items())
    finally:
        drawing.close()


@pytest.mark.parametrize("seed", [1, 20261203])
def test_the_child_draws_the_very_cases_this_process_draws(seed: int, capfd: pytest.CaptureFixture[str]) -> None:
    before = children()
    here = bodies(drawn_here(seed, EXAMPLES))
    there = bodies(drawn_by_child(seed))
    assert there == here
    assert len({body for body, _, _ in here}) > 20, "the examples, coverage and fuzzing phases, not a constant"
    assert capfd.readouterr().err == "", "a child that succeeded says nothing on the terminal"
    assert not children() - before, "the child that finished is reaped"


def test_what_a_run_sends_of_a_drawn_case_is_what_schemathesis_checks_of_its_record() -> None:
    """The plain part of a drawn case (read without schemathesis) and its record describe the very same case."""
    drawn_for = operation(EXAMPLES)
    cases = drawn_here(2, EXAMPLES)
    for drawn in cases:
        case = case_of(drawn_for, read_record(drawn.record), {DOCUMENTED: MINTED})
        assert drawn.has_body == (type(case.body).__name__ != "NotSet")
        if drawn.has_body:
            assert with_ids(drawn.body, {DOCUMENTED: MINTED}) == case.body
        assert (drawn.media_type, drawn.phase, drawn.mode) == (
            case.media_type,
            case.meta.phase.name.value,
            case.meta.generation.mode.value,
        )
    assert {drawn.mode for drawn in cases} == {"positive", "negative"}
    assert not all(drawn.has_body for drawn in cases), "a case without a body is drawn too"


def test_the_documented_example_ids_are_replaced_by_the_runs_own() -> None:
    sent = [body for body, _, _ in bodies(drawn_here(1, EXAMPLES))]
    assert any(MINTED in body for body in sent)
    assert not any(DOCUMENTED in body for body in sent)


def test_a_child_that_dies_halfway_is_taken_over_from_the_first_case_it_did_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "python"
    script.write_text(f'#!/bin/sh\n"{sys.executable}" "$@" | head -n 7\nexit 3\n', encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(script))
    assert bodies(drawn_by_child(4)) == bodies(drawn_here(4, EXAMPLES))
    err = capfd.readouterr().err
    assert "drawing the schemathesis cases in a child process failed" in err and "status 3" in err


class Called(Exception):
    pass


def _refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        read_record(data)


def test_a_record_naming_a_callable_is_refused_without_calling_it() -> None:
    """A pickle that would run a command when loaded: refused before anything is called."""

    class Runs:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo owned > /dev/null",))

    _refused(pickle.dumps(Runs()))
    _refused(pickle.dumps({"body": Runs()}))


@pytest.mark.parametrize(
    "data",
    [b"", b"not a pickle", pickle.dumps([1, 2]), pickle.dumps({"body": 1}), pickle.dumps(OrderedDict(a=1))],
    ids=["empty", "garbage", "a list", "other keys", "a container alone"],
)
def test_anything_but_a_record_is_refused(data: bytes) -> None:
    _refused(data)


def test_a_drawn_case_naming_any_class_is_refused_without_calling_it() -> None:
    """The part of a line read without schemathesis holds plain values only: even a class schemathesis's record may
    hold is refused there."""
    plain = pickle.loads(base64.b64decode(_line_of(drawn_here(1, 1)[0])))
    assert read_drawn(pickle.dumps(plain)).record == plain["record"]
    for tampered in ({**plain, "body": OrderedDict(a=1)}, {**plain, "phase": Path("/")}, {**plain, "record": "x"}):
        with pytest.raises(ValueError):
            read_drawn(pickle.dumps(tampered))
    with pytest.raises(ValueError):
        read_drawn(pickle.dumps({**plain, "extra": 1}))


def _line_of(drawn: Drawn) -> bytes:
    fields = {name: getattr(drawn, name) for name in ("body", "has_body", "media_type", "phase", "mode", "record")}
    return base64.b64encode(pickle.dumps(fields))


def test_a_record_of_another_class_than_the_metadata_is_refused() -> None:
    record = dict(read_record(drawn_here(1, 1)[0].record))
    _refused(pickle.dumps({**record, "meta": Path("/")}))
    _refused(pickle.dumps({**record, "method": 3}))
    assert read_record(pickle.dumps(record))["meta"] == record["meta"], "the record itself is read back"


@pytest.mark.parametrize("line", [b"not base64!", base64.b64encode(b"not a pickle")])
def test_a_line_that_is_no_record_is_refused(line: bytes) -> None:
    drawing = CaseDrawing.__new__(CaseDrawing)
    with pytest.raises(ValueError):
        drawing.parse(line)


def test_a_run_with_no_examples_starts_no_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(st_draw, "CHILD_DRAWING_FROM", 10)
    with st_draw.cases_ahead(1, 9) as drawing:
        assert drawing is None
