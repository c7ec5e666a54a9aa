"""JSON in and out, safe against whatever a target sends.

Reading: a 100,000-digit integer is valid JSON, but CPython refuses to convert more than 4300 digits and
``json.loads`` then raises as if the body were not JSON. Long integers are converted piecewise instead (exactly,
up to MAX_DIGITS; beyond that the body is treated as unparseable, a guard against pathological sizes) and print
abbreviated, so a check that quotes one cannot fail either. Reading is strict (RFC 8259): ``NaN``, ``Infinity`` and
``-Infinity``, which ``json.loads`` accepts, are not JSON (NotJson). A body nested deeper than MAX_DEPTH is not
called invalid either: it raises TooDeep (with its depth, read once more without recursion), whether ``json.loads``
parsed it or gave up with RecursionError, at a depth that depends on how deep the caller's stack already is; the
limit makes the answer the same in any thread.

Writing: report.json must be strict JSON that any parser reads: no NaN or Infinity, lone surrogates (which UTF-8
cannot carry) written as ``\\udXXX`` escapes, and integers too long to print written as strings. A body shown to a
reader (the report page) is written back as the target sent it instead, its long integers as their digits.

This is the one JSON parser for what a target sends, wherever it is read: the checks, the trace and the report page
must agree on what is JSON.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any

from conformance.support.errors import NotJson as NotJson
from conformance.support.errors import TooDeep as TooDeep

#: CPython's default limit on int <-> str conversions (sys.get_int_max_str_digits); we stay below it.
SAFE_DIGITS = 4000
#: Longer integers are not converted at all (about 0.1 s at this size).
MAX_DIGITS = 200_000
#: The deepest nesting parsed (arrays and objects); a deeper valid body raises TooDeep. Well below what CPython's
#: recursive parser reaches from any stack the suite runs on, and deeper than any answer of this API nests (3).
MAX_DEPTH = 512

_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: What _deeper_than reads: a text without its escapes, only its quotes and brackets, the brackets as pairs.
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_NOT_QUOTE_OR_BRACKET = bytes(set(range(256)) - set(b'"[]{}'))
_PAIRS = bytes.maketrans(b"[{]}", b"(())")
_CLOSERS = str.maketrans({"[": "]", "{": "}", " ": None, "\t": None, "\n": None, "\r": None})
_BARE = str.maketrans(dict.fromkeys(" \t\n\r"))
#: A run of openings: arrays, and at most one object at its end (an object's next token is a key).
_OPENINGS = re.compile(r"\[[\[ \t\n\r]*(?:\{[ \t\n\r]*)?|\{[ \t\n\r]*")
_CLOSINGS = re.compile(r"[\]}][\]} \t\n\r]*")
#: RFC 8259's grammar, piece by piece, for the reading without recursion.
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"')
_SCALAR = re.compile(
    r'"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"'
    r"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null"
)


class LongInt(int):
    """A JSON integer beyond CPython's conversion limit: the exact value, shown abbreviated."""

    digits: str

    def __new__(cls, digits: str) -> LongInt:
        number = super().__new__(cls, _convert(digits.lstrip("-")) * (-1 if digits.startswith("-") else 1))
        number.digits = digits
        return number

    def __repr__(self) -> str:
        return f"{self.digits[:20]}...({len(self.digits.lstrip('-'))} digits)"

    __str__ = __repr__


@cache
def _power_of_ten(exponent: int) -> int:
    power: int = 10**exponent
    return power


def _convert(digits: str) -> int:
    """Digits to int without the conversion limit: split in halves until each part is small enough."""
    if len(digits) <= SAFE_DIGITS:
        return int(digits)
    half = len(digits) // 2
    return _convert(digits[:half]) * _power_of_ten(len(digits) - half) + _convert(digits[half:])


def _parse_int(text: str) -> int:
    if len(text) <= SAFE_DIGITS:
        return int(text)
    if len(text) > MAX_DIGITS:
        raise ValueError(f"a JSON number of {len(text)} digits is longer than the suite parses ({MAX_DIGITS})")
    return LongInt(text)


def loads(data: str | bytes, *, lenient: bool = False, **options: Any) -> Any:
    """``json.loads`` (with its ``options``) that reads integers of any length (up to MAX_DIGITS), strictly: NotJson
    (a ValueError) for text that is not JSON, ``NaN`` and ``Infinity`` included; TooDeep (a ValueError too) for valid
    JSON nested deeper than MAX_DEPTH.

    ``lenient`` reads as ``json.loads`` does instead (``NaN`` accepted, as deep as the stack allows, ValueError or
    RecursionError for the rest): for the ID guard, which must see every string a lenient server would read."""
    if lenient:
        return json.loads(data, parse_int=_parse_int, **options)
    try:
        text = data.decode(json.detect_encoding(data), "surrogatepass") if isinstance(data, bytes | bytearray) else data
        document = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant, **options)
        if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(text, MAX_DEPTH):
            depth = _nesting(text)
            raise TooDeep(depth, limit=MAX_DEPTH)
        return document
    except RecursionError:
        # The caller's stack was already deep: the text is valid JSON all the same (or NotJson raises here).
        depth = _nesting(text)
        raise TooDeep(depth, limit=min(MAX_DEPTH, depth - 1)) from None
    except (NotJson, TooDeep):
        raise
    except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError, a number too long to parse
        raise NotJson(str(exc)) from exc


def _refuse_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON value: RFC 8259 has no NaN or Infinity")


def _deeper_than(text: str, limit: int) -> bool:
    """Whether a valid JSON text (json.loads read it) nests arrays and objects more than ``limit`` deep, in C
    passes only (a regex match per string, or a walk of the parsed values, costs as much as the parse itself on a
    body of 250,000 strings).

    In valid JSON, a quote inside a string is escaped: once the escapes are gone, keep only quotes and brackets.
    Where no string holds a bracket, every run of quotes is even (each string an adjacent pair), and removing the
    pairs leaves the brackets outside strings; a quote left over means some string holds a bracket, and the text is
    then split on its quotes instead. Of the brackets left, each pass removes every innermost pair: the depth is the
    number of passes that empty them."""
    if "\\" in text:
        text = _ESCAPE.sub("", text)
    outside = text.encode("utf-8", "surrogatepass").translate(None, _NOT_QUOTE_OR_BRACKET).replace(b'""', b"")
    if b'"' in outside:
        outside = "".join(text.split('"')[::2]).encode("utf-8", "surrogatepass").translate(None, _NOT_QUOTE_OR_BRACKET)
    brackets = outside.translate(_PAIRS)
    for _ in range(limit):
        brackets = brackets.replace(b"()", b"")
        if not brackets:
            return False
    return True


def _nesting(text: str) -> int:
    """How deep a JSON text nests, read by RFC 8259's grammar without recursion; NotJson where it is not JSON. Runs
    of brackets are taken a run at a time, so that a body of nothing but brackets is read in C, not per byte."""
    closers: list[str] = []
    deepest = 0
    pos = _skip(text, 0)
    expecting = "value"
    while True:
        if expecting == "value":
            opened = _OPENINGS.match(text, pos)
            if opened is not None:
                closers.extend(opened.group().translate(_CLOSERS))
                deepest = max(deepest, len(closers))
                pos = opened.end()
                if closers[-1] == "}":
                    expecting = "key" if text[pos : pos + 1] != "}" else "more"
                elif text[pos : pos + 1] == "]":
                    expecting = "more"
                continue
            scalar = _SCALAR.match(text, pos)
            if scalar is None or not scalar.group():
                raise NotJson(f"Expecting value: char {pos}")
            pos, expecting = _skip(text, scalar.end()), "more"
        elif expecting == "key":
            key = _STRING.match(text, pos)
            if key is None:
                raise NotJson(f"Expecting property name enclosed in double quotes: char {pos}")
            pos = _skip(text, key.end())
            if text[pos : pos + 1] != ":":
                raise NotJson(f"Expecting ':' delimiter: char {pos}")
            pos, expecting = _skip(text, pos + 1), "value"
        elif (closed := _CLOSINGS.match(text, pos)) is not None:
            run = closed.group().translate(_BARE)
            if len(run) > len(closers) or "".join(reversed(closers[-len(run) :])) != run:
                raise NotJson(f"Unexpected {run[0]!r}: char {pos}")
            del closers[-len(run) :]
            pos = closed.end()
        elif not closers:
            if pos != len(text):
                raise NotJson(f"Extra data: char {pos}")
            return deepest
        elif text[pos : pos + 1] == ",":
            pos, expecting = _skip(text, pos + 1), "key" if closers[-1] == "}" else "value"
        else:
            raise NotJson(f"Expecting ',' delimiter: char {pos}")


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def strings(document: Any) -> Iterator[str]:
    """Every string in a parsed document, object keys included, however deep (no recursion)."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)


def _strict(value: Any) -> Any:
    """A copy that json.dumps can write as strict JSON."""
    if isinstance(value, dict):
        return {str(key): _strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, LongInt):
        return value.digits
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * SAFE_DIGITS:
        return f"<an integer of {value.bit_length()} bits>"
    return value


def dumps_strict(document: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text (RFC 8259) for any document built by the suite, whatever strings it carries."""
    text = json.dumps(_strict(document), indent=indent, ensure_ascii=False, allow_nan=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps_readable(document: Any, *, indent: int | None = 2) -> str:
    """JSON text for a reader (the report page): non-ASCII kept, every integer written with all its digits (which
    json.dumps refuses past CPython's conversion limit), lone surrogates written as ``\\udXXX`` escapes."""
    try:
        text = json.dumps(document, indent=indent, ensure_ascii=False)
    except ValueError:  # an integer too long for int.__repr__: only a LongInt is, in a parsed document
        text = _dumps_with_long_integers(document, indent)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _dumps_with_long_integers(document: Any, indent: int | None) -> str:
    """json.dumps, each LongInt written as its digits: it is written as a string first (a fresh random marker,
    which no body can have guessed), then that string is replaced by the digits."""
    marker = f"long-integer-{uuid.uuid4().hex}-"
    digits: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [swap(item) for item in value]
        if isinstance(value, LongInt):
            digits.append(value.digits)
            return f"{marker}{len(digits) - 1}"
        return value

    text = json.dumps(swap(document), indent=indent, ensure_ascii=False)
    return re.sub(f'"{marker}(\\d+)"', lambda m: digits[int(m.group(1))], text)
