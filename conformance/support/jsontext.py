"""JSON in and out, safe against whatever a target sends.

Reading: a 100,000-digit integer is valid JSON, but CPython refuses to convert more than 4300 digits and
``json.loads`` then raises as if the body were not JSON. Long integers are converted piecewise instead (exactly,
up to MAX_DIGITS; beyond that the body is treated as unparseable, a guard against pathological sizes) and print
abbreviated, so a check that quotes one cannot fail either.

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

#: CPython's default limit on int <-> str conversions (sys.get_int_max_str_digits); we stay below it.
SAFE_DIGITS = 4000
#: Longer integers are not converted at all (about 0.1 s at this size).
MAX_DIGITS = 200_000

_SURROGATE = re.compile(r"[\ud800-\udfff]")


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


def loads(data: str | bytes, **options: Any) -> Any:
    """``json.loads`` (with its ``options``) that reads integers of any length (up to MAX_DIGITS); raises
    ValueError or RecursionError exactly where json.loads would for text that is not JSON."""
    return json.loads(data, parse_int=_parse_int, **options)


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
