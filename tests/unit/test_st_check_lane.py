"""An answer of the schemathesis child is read back as nothing but findings, and a question carries the whole
exchange the child judges."""

from __future__ import annotations

import dataclasses
import json

import pytest

from conformance.engine.phases.st_check_lane import EXCHANGE_FIELDS, read_findings
from conformance.judging.results import Exchange, Finding, Seen


def test_a_question_carries_every_field_an_exchange_is_made_of() -> None:
    made_of = {field.name for field in dataclasses.fields(Exchange) if field.init}
    assert set(EXCHANGE_FIELDS) == made_of


def test_an_answer_is_read_back_as_its_findings() -> None:
    line = json.dumps(
        [
            ["finding", "BR-REQ-005", False, "schemathesis content_type_conformance: Undocumented Content-Type", False],
            ["finding", "BR-REQ-007", True, "", True],
            ["seen", "OBS-011", "status 200"],
        ]
    ).encode()
    assert read_findings(line) == [
        Finding("BR-REQ-005", False, "schemathesis content_type_conformance: Undocumented Content-Type"),
        Finding("BR-REQ-007", True, "", unjudged=True),
        Seen("OBS-011", "status 200"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json",
        b'{"finding": 1}',
        b'[["finding", "BR-REQ-005", "no", "", false]]',
        b'[["finding", "BR-REQ-005", false, "", false, "extra"]]',
        b'[["seen", "OBS-011", 200]]',
        b'[["other", "BR-REQ-005"]]',
        json.dumps([["finding", "BR-REQ-005", False, "x" * 20_000, False]]).encode(),
        b"[" * 100_000,
    ],
    ids=["empty", "garbage", "no list", "ok not a bool", "extra", "value not a string", "other kind", "huge", "deep"],
)
def test_anything_but_findings_is_refused(line: bytes) -> None:
    with pytest.raises(ValueError):
        read_findings(line)
