"""JSON in and out: any valid body parses (long integers included), and report.json is always strict JSON."""

from __future__ import annotations

import json
import math

import pytest

from conformance.judging.results import NOT_JSON, TOO_DEEP
from conformance.support.jsontext import (
    MAX_DEPTH,
    MAX_DIGITS,
    LongInt,
    NotJson,
    TooDeep,
    _nesting,
    dumps_readable,
    dumps_strict,
    loads,
    strings,
)
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


# -- strict JSON, and depth --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", "-Infinity", '{"migration_tasks": [], "p": NaN}'])
def test_nan_and_infinity_are_not_json(text: str) -> None:
    """json.loads reads them; RFC 8259 has no such literals, and no other parser a client uses reads them."""
    with pytest.raises(NotJson, match="is not a JSON value: RFC 8259 has no NaN or Infinity"):
        loads(text)
    answer = exchange(200, content=text.encode())
    assert answer.response_json is NOT_JSON
    assert "RFC 8259" in answer.body_problem
    assert loads(text, lenient=True) is not None, "the guard still reads what a lenient server reads"


def test_a_number_too_large_for_a_float_is_still_json() -> None:
    assert loads("[1e400]") == [math.inf]


@pytest.mark.parametrize(
    "text",
    ["[" * 2000 + "]" * 2000, '{"a":' * 600 + "1" + "}" * 600, '{"m": [' + "[ " * 1000 + "] " * 1000 + "]}"],
    ids=["arrays", "objects", "spaced"],
)
def test_a_valid_body_nested_deeper_than_the_limit_is_too_deep_never_not_json(text: str) -> None:
    with pytest.raises(TooDeep) as deep:
        loads(text)
    assert deep.value.depth > MAX_DEPTH
    assert str(deep.value).startswith(f"valid JSON nested {deep.value.depth} levels deep, deeper than the suite parses")
    answer = exchange(200, content=text.encode())
    assert answer.response_json is TOO_DEEP
    assert answer.body_problem == str(deep.value)


@pytest.mark.parametrize(
    "text",
    ["[" * 2000 + "]" * 1999, "[" * 600 + '"]]]' + "]" * 600, "[" * 600 + "1," + "]" * 600, "[" * 600 + "}" * 600],
    ids=["unclosed", "unterminated-string", "trailing-comma", "wrong-closer"],
)
def test_a_deep_body_that_is_not_json_is_not_json(text: str) -> None:
    with pytest.raises(NotJson):
        loads(text)
    assert exchange(200, content=text.encode()).response_json is NOT_JSON


@pytest.mark.parametrize(
    "text",
    ['["' + "[" * 600 + '"]', '["\\"' + "{" * 600 + '", "' + "]" * 600 + '"]', '{"' + "[" * 600 + '": []}'],
    ids=["in-a-string", "after-an-escaped-quote", "in-a-key"],
)
def test_brackets_inside_strings_are_no_nesting(text: str) -> None:
    assert loads(text)


def test_closing_brackets_inside_a_string_hide_no_depth() -> None:
    text = '{"k": "' + "]" * 600 + '", "v": ' + "[" * 600 + "]" * 600 + "}"
    with pytest.raises(TooDeep) as deep:
        loads(text)
    assert deep.value.depth == 601


def test_a_body_at_the_limit_parses_in_any_thread() -> None:
    """The limit, not the caller's stack, decides: json.loads alone gives up at a depth that depends on it."""
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    results: list[object] = []

    def nested(levels: int) -> None:
        if levels:
            nested(levels - 1)
        else:
            results.append(loads(text))

    nested(300)
    assert results and isinstance(results[0], list)
    with pytest.raises(TooDeep):
        loads("[" + text + "]")


@pytest.mark.parametrize(
    "text",
    ['{"a": [1, {"b": "c\\"[["}], "d": true}', "[01]", "[1,]", '{"a" 1}', '["\x01"]', "[-]", '{"a":1,}', "[1 2]", ""],
)
def test_the_reading_without_recursion_agrees_with_json_loads(text: str) -> None:
    """_nesting is the grammar json.loads reads (strict), on bodies small enough for both."""
    try:
        json.loads(text)
        valid = True
    except ValueError:
        valid = False
    try:
        _nesting(text)
        agrees = valid
    except NotJson:
        agrees = not valid
    assert agrees
