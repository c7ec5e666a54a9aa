"""conformance.engine.guard: the fast path is the full scan, only cheaper.

A body without a backslash is scanned raw only (and parsed only when a restartable fixture might hide in it as a
whole string); these tests prove the guard then refuses the same bodies, naming the same ID, and spends the same
fixtures as it does when every body gets the full scan. The guard's rules themselves are tested through the client
in test_client.py.
"""

from __future__ import annotations

import json
import random
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.engine import guard as guard_module
from conformance.engine.guard import GuardRefusal, IdGuard

RESTARTABLE = ["7599c3ed-d0d3-4fb9-9273-653160302023", "task-A"]
NOT_RESTARTABLE = ["5e3a2f10-0b7c-4c1e-9d2a-6f8e1b4c7a90", "task-B"]
UNKNOWN = "091434c0-d6d7-47c6-9e14-17cc9502b27b"
SEED = 7


def minted() -> list[str]:
    """The IDs a guard built with SEED mints first (see guards)."""
    probe = IdGuard(rng=random.Random(SEED))
    return [probe.mint(), probe.mint()]


def spellings(task: str) -> list[str]:
    """How a lenient server may still read the task: any case, without hyphens, inside a longer string."""
    return [task, task.upper(), task.replace("-", ""), f"x{task}y"]


def escaped(task: str) -> str:
    """The task with one character written as a JSON escape, where it leaves nothing task-shaped in the raw text."""
    at = min(7, len(task) - 1)
    return f"{task[:at]}\\u{ord(task[at]):04x}{task[at + 1 :]}"


TASKS = [*RESTARTABLE, *NOT_RESTARTABLE, UNKNOWN, *minted()]
IDS = [spelled for task in TASKS for spelled in spellings(task)]
ESCAPED_IDS = [escaped(spelled) for spelled in IDS]
#: Pieces of JSON, and of broken JSON, that bodies are made of.
PIECES = ['{"migration_tasks": [', "]}", '"', ",", ":", "\\", "\\/", "\\u0031", "\\n", "[", "]", "{", "}", "-", "1"]


def json_bodies() -> st.SearchStrategy[str]:
    """Documents holding the IDs as keys, values or parts of them, written with or without escapes."""
    strings = st.one_of(st.sampled_from(IDS), st.text(max_size=8))
    documents = st.recursive(
        strings | st.integers(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
        max_leaves=12,
    )
    return st.tuples(documents, st.booleans()).map(lambda pair: json.dumps(pair[0], ensure_ascii=pair[1]))


def raw_bodies() -> st.SearchStrategy[str]:
    """Text that may not parse: IDs (escaped or not) among pieces of JSON and hex-looking noise."""
    noise = st.text(alphabet='0123456789abcdefABCDEF-"\\u ', max_size=12)
    pieces = st.one_of(st.sampled_from(IDS), st.sampled_from(ESCAPED_IDS), st.sampled_from(PIECES), noise)
    return st.lists(pieces, max_size=12).map("".join)


BODIES = st.one_of(json_bodies(), raw_bodies()).map(lambda text: text.encode("utf-8", "surrogatepass"))


def guards(with_restartable: bool) -> IdGuard:
    return IdGuard(RESTARTABLE if with_restartable else (), NOT_RESTARTABLE, rng=random.Random(SEED))


def outcome(guard: IdGuard, bodies: list[bytes]) -> list[object]:
    """What the guard does with each body in turn: the fixtures it spends, or the refusal's message."""
    seen: list[object] = []
    for body in bodies:
        try:
            seen.append(guard.admit(body))
        except GuardRefusal as refusal:
            seen.append(str(refusal))
    return seen


def full_scan_only(text: str, *, whole_strings: bool) -> tuple[list[str], list[str]]:
    """The guard as it was before the fast path: every body scanned every way."""
    return guard_module._full_scan(text)


@given(st.lists(BODIES, min_size=1, max_size=4), st.booleans())
def test_the_guard_admits_refuses_and_spends_exactly_as_with_the_full_scan(
    bodies: list[bytes], with_restartable: bool
) -> None:
    fast = guards(with_restartable)
    full = guards(with_restartable)
    assert [fast.mint(), fast.mint()] == [full.mint(), full.mint()] == minted()
    with mock.patch.object(guard_module, "_scan", full_scan_only):
        expected = outcome(full, bodies)
    assert outcome(fast, bodies) == expected


@given(BODIES.map(lambda body: body.decode("utf-8", "replace").replace("\\", "")))
def test_without_a_backslash_the_full_scan_only_repeats_the_raw_scan(text: str) -> None:
    shaped, named = guard_module._scan(text, whole_strings=True)
    full_shaped, full_named = guard_module._full_scan(text)
    assert full_shaped[: len(shaped)] == shaped
    assert set(full_shaped) == set(shaped)
    assert named == full_named


def test_without_restartable_fixtures_a_body_without_a_backslash_is_not_parsed() -> None:
    guard = guards(with_restartable=False)
    body = json.dumps({"migration_tasks": [guard.mint(), guard.mint()]}).encode()
    with mock.patch.object(guard_module, "loads", side_effect=AssertionError("parsed")):
        assert guard.admit(body) == []


def test_a_task_id_behind_an_escape_is_still_refused() -> None:
    body = b'{"migration_tasks": ["' + escaped(UNKNOWN).encode() + b'"]}'
    with pytest.raises(GuardRefusal, match=UNKNOWN):
        guards(with_restartable=False).admit(body)


# -- stable_role: which IDs no reading can turn into a task that restarts ------------------------------------------


@pytest.mark.parametrize("spell", [str, str.upper, lambda task: task.replace("-", ""), lambda task: f"  {task}\t"])
def test_minted_and_non_restartable_ids_keep_their_role_in_any_spelling_a_lenient_server_folds(spell) -> None:
    guard = IdGuard(RESTARTABLE, NOT_RESTARTABLE, rng=random.Random(SEED))
    task = guard.mint()
    assert guard.stable_role(spell(task)) == guard_module.UNKNOWN
    assert guard.stable_role(spell(NOT_RESTARTABLE[0])) == guard_module.NOT_RESTARTABLE


@pytest.mark.parametrize("task_id", [*RESTARTABLE, RESTARTABLE[0].upper(), UNKNOWN, "", "   ", "../x"])
def test_restartable_fixtures_and_ids_the_run_knows_nothing_of_have_no_stable_role(task_id: str) -> None:
    guard = IdGuard(RESTARTABLE, NOT_RESTARTABLE, rng=random.Random(SEED))
    guard.mint()
    assert guard.stable_role(task_id) is None


def test_a_task_listed_both_ways_counts_as_restartable() -> None:
    guard = IdGuard(["task-C"], ["task-C"])
    assert guard.stable_role("task-C") is None
