"""An answer of the schemathesis child is read back as nothing but findings, and a question carries the whole
exchange the child judges: made again from it, it is the same exchange, with the same views of its body."""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest

from conformance.engine.phases.st_check_lane import carried, read_findings
from conformance.judging.results import Exchange, Finding, Seen


def test_the_exchange_a_question_carries_is_made_again_as_it_was() -> None:
    sent = Exchange(
        method="POST",
        url="http://target.test/v2/p/migration-tasks/batch-restart",
        request_headers={"content-type": "application/json"},
        request_body=b'{"migration_tasks": ["a"]}',
        status=200,
        response_headers={"content-type": "application/json"},
        response_body=b'{"migration_tasks": [{"task_id": "a", "result": "success"}]}',
        elapsed_ms=3.5,
        label="generated (fuzzing, positive)",
        seq=42,
        at_s=1.25,
        failure="body over the cap",
        throttled=True,
        earlier_failure="no answer: RemoteProtocolError",
    )
    defaults = Exchange("GET", "", {}, None, 0, {}, b"")
    unset = [
        field.name
        for field in dataclasses.fields(Exchange)
        if field.init and getattr(sent, field.name) == getattr(defaults, field.name)
    ]
    assert unset == [], "every field differs from its default, so that one left out is missed"
    assert sent.response_json  # a view derived before the question is made: never part of it
    again = Exchange(**pickle.loads(pickle.dumps(carried(sent))))
    assert again == sent
    assert again.response_json == sent.response_json


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
