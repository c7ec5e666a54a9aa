"""JSON in and out: any valid body parses (long integers included), and report.json is always strict JSON."""

from __future__ import annotations

import json
import math

import pytest

from conformance.judging.results import NOT_JSON
from conformance.support.jsontext import MAX_DIGITS, LongInt, dumps_readable, dumps_strict, loads, strings
from tests.conftest import exchange


def test_a_100000_digit_integer_is_a_json_number_with_its_exact_value() -> None:
    body = '{"error_code": ' + "7" * 100_000 + ', "error_msg": -' + "1" * 5000 + "}"
    parsed = exchange(400, content=body.encode()).response_json
    assert parsed is not NOT_JSON
    assert isinstance(parsed["error_code"], int)
    assert parsed["error_code"] % 1000 == 777
    assert parsed["error_msg"] < 0


def test_a_long_integer_prints_abbreviated_so_messages_quoting_it_never_fail() -> None:
    number = loads("1" * 10_000)
    assert isinstance(number, LongInt)
    assert repr(number) == "11111111111111111111...(10000 digits)"
    assert f"{number!r}" == str(number)


def test_pathologically_long_numbers_and_broken_text_are_not_parsed() -> None:
    with pytest.raises(ValueError):
        loads("9" * (MAX_DIGITS + 1))
    assert exchange(400, content=b'{"a": ').response_json is NOT_JSON


def test_strings_walks_keys_and_values_at_any_depth() -> None:
    document = loads('{"k": [{"deep": ["v"]}]}')
    assert sorted(strings(document)) == ["deep", "k", "v"]
    nested: object = "bottom"
    for _ in range(5000):
        nested = [nested]
    assert list(strings(nested)) == ["bottom"]


def test_report_json_is_strict_whatever_it_carries() -> None:
    text = dumps_strict(
        {"nan": math.nan, "inf": -math.inf, "surrogate": "x\ud800y", "control": "\x1b[31m", "long": loads("5" * 5000)}
    )
    strict = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in strict JSON"))
    assert strict == {"nan": None, "inf": None, "surrogate": "x\ud800y", "control": "\x1b[31m", "long": "5" * 5000}
    text.encode("utf-8")  # no lone surrogate left raw
    assert "\\ud800" in text


def test_a_body_written_back_for_a_reader_keeps_every_digit_of_its_numbers() -> None:
    """What the report page shows: the body as the target sent it, not report.json's strict form (no digits as
    strings), and exactly json.dumps's text for a body without long integers."""
    body = '{"n": [' + "4" * 5000 + ", -" + "2" * 4200 + ', 3], "s": "\u00e9\ud800"}'
    text = dumps_readable(loads(body), indent=None)
    assert text == '{"n": [' + "4" * 5000 + ", -" + "2" * 4200 + ', 3], "s": "é\\ud800"}'
    ordinary = {"a": [1, 2.5, None, True], "b": "x"}
    assert dumps_readable(ordinary) == json.dumps(ordinary, indent=2)
