"""conformance.contract.task_ids: the task-ID shape the guard, the fixtures check and the trace share.

The shape spells out both cases of the hex digits instead of asking for Unicode case-insensitive matching (the
cheaper scan); these tests prove the two patterns match exactly the same text.
"""

from __future__ import annotations

import re
import sys

from hypothesis import given
from hypothesis import strategies as st

from conformance.contract.task_ids import TASK_ID_SHAPE, task_key

CASELESS_SHAPE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)


def test_a_hex_digit_of_either_case_is_the_only_character_a_caseless_hex_digit_matches() -> None:
    # Made here, not as the module is imported: every pytest-xdist worker imports every test module.
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))
    caseless = re.compile("[0-9a-f]", re.IGNORECASE).findall(every_character)
    spelled_out = re.compile("[0-9a-fA-F]").findall(every_character)
    assert caseless == spelled_out == list("0123456789ABCDEFabcdef")


def test_the_shape_has_no_other_character_that_case_could_change() -> None:
    assert TASK_ID_SHAPE.flags & re.IGNORECASE == 0
    assert TASK_ID_SHAPE.pattern.replace("[0-9a-fA-F]", "[0-9a-f]") == CASELESS_SHAPE.pattern


#: Hex digits of both cases and hyphens, among characters whose case folds in unusual ways (Kelvin sign, long s,
#: dotless i).
ID_TEXT = st.text(alphabet=st.sampled_from('0123456789abcdefABCDEF-xX"\\ \u212a\u017f\u0131'), max_size=120)


@given(ID_TEXT)
def test_the_shape_finds_what_the_caseless_shape_finds(text: str) -> None:
    assert TASK_ID_SHAPE.findall(text) == CASELESS_SHAPE.findall(text)
    assert bool(TASK_ID_SHAPE.fullmatch(text)) == bool(CASELESS_SHAPE.fullmatch(text))


def test_task_key_ignores_case_and_a_uuids_hyphens() -> None:
    assert task_key("091434C0-D6D7-47C6-9E14-17CC9502B27B") == "091434c0d6d747c69e1417cc9502b27b"
    assert task_key("Task-A") == "task-a"
