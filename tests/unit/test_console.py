"""conformance.app.console: long values shortened to one line, colour only on a terminal and never under NO_COLOR, and
a progress line rewritten in place only on a terminal.

Streams are injected (a StringIO that says it is, or is not, a TTY); the progress line's ticker is given an interval
far longer than any test, so what is written is decided by the calls alone, never by timing.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest

from conformance.app.console import (
    QUOTED_LIMIT,
    Console,
    Style,
    colour_wanted,
    render_progress,
    shorten,
    shorten_values,
)
from conformance.contract import load_catalogue
from conformance.engine.client import TargetClient
from conformance.engine.progress import PRE_FUZZING_CASES, Progress, generated_progress
from conformance.engine.stats import GeneratedStats
from conformance.judging.results import Finding, Ledger

LONG_ID = "x0350354b-" + "7f3a" * 250 + "-tail9876"
ESC = "\x1b"


class FakeStream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def progress(**overrides: Any) -> Progress:
    values: dict[str, Any] = {
        "cases": 120,
        "planned": 5036,
        "estimated": False,
        "requests": 180,
        "failing": 2,
        "elapsed_s": 75.0,
        "phase": "fuzzing",
    }
    return Progress(**{**values, **overrides})


# -- shortening ---------------------------------------------------------------------------------------------------


def test_a_long_quoted_id_is_shortened_to_its_ends_with_its_length() -> None:
    line = shorten_values(f"answered but never requested: {LONG_ID!r}")
    assert line == f"answered but never requested: '{LONG_ID[:12]}...{LONG_ID[-8:]}' ({len(LONG_ID)} chars)"


def test_the_length_counts_the_characters_not_their_escapes() -> None:
    value = "\x00" * 50
    assert shorten_values(f"task {value!r} was reported success").endswith("(50 chars) was reported success")


def test_short_values_uuids_urls_and_prose_are_left_as_they_are() -> None:
    line = (
        "task '091434c0-d6d7-47c6-9e14-17cc9502b27b' failed; the target's answer \"ok\" on "
        "https://dcs.example.com/v2/0605767a3300d5762fb7c0186d8c1f5b/migration-tasks/batch-restart"
    )
    assert shorten_values(line) == line


def test_a_long_unquoted_token_is_shortened_too() -> None:
    assert shorten_values("body " + "z" * 100 + " end") == "body zzzzzzzzzzzz...zzzzzzzz (100 chars) end"


def test_every_long_value_of_a_list_is_shortened() -> None:
    line = shorten_values(repr([LONG_ID, "b" * (QUOTED_LIMIT + 1), "short"]))
    assert LONG_ID not in line
    assert line.count("...") == 2
    assert "'short'" in line


def test_shorten_keeps_values_that_are_already_short() -> None:
    assert shorten("abc") == "abc"


# -- colour -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tty", "env", "wanted"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"TERM": "dumb"}, False),
        (True, {"NO_COLOR": ""}, True),
    ],
    ids=["terminal", "pipe", "NO_COLOR", "dumb terminal", "empty NO_COLOR"],
)
def test_colour_only_on_a_terminal_and_never_under_no_color(tty: bool, env: dict[str, str], wanted: bool) -> None:
    assert colour_wanted(FakeStream(tty), env) is wanted


def test_style_off_leaves_text_untouched_and_on_paints_it() -> None:
    assert Style(False).status("failed", "FAIL") == "FAIL"
    assert Style(True).status("failed", "FAIL") == "\x1b[1;31mFAIL\x1b[0m"
    assert Style(True).message("WARNING: --insecure").startswith(ESC)
    assert Style(True).message("scenario: refusals") == "scenario: refusals"


# -- the progress line --------------------------------------------------------------------------------------------


def test_the_progress_line_shows_cases_planned_requests_failures_and_elapsed() -> None:
    line = render_progress(progress(), width=200)
    assert line == (
        "generated [--------------------] 120/5036 cases (fuzzing), 180 requests, 2 failing, 1:15"
    )  # fmt: skip
    assert "~136" in render_progress(progress(cases=30, planned=136, estimated=True, phase="coverage"), 200)
    assert "[##########----------]" in render_progress(progress(cases=50, planned=100), 200)


def test_the_aimed_phase_gets_the_same_live_line_under_its_own_name() -> None:
    aimed = dataclasses.replace(progress(cases=40, planned=1000, phase="batches"), stage="aimed")
    assert render_progress(aimed, 200).startswith("aimed [--------------------] 40/1000 cases (batches), ")


def test_the_progress_line_never_wraps() -> None:
    assert len(render_progress(progress(), width=40)) == 39


def test_a_failing_count_is_red_only_when_colour_is_on() -> None:
    assert "\x1b[1;31m2 failing\x1b[0m" in render_progress(progress(), 200, Style(True))
    assert ESC not in render_progress(progress(), 200, Style(False))


def console(tty: bool, colour: bool = False) -> tuple[Console, FakeStream]:
    stream = FakeStream(tty)
    return Console(stream, live=tty, style=Style(colour), width=lambda: 100, interval_s=3600), stream


def test_on_a_terminal_the_progress_line_is_rewritten_in_place_and_erased_at_the_end() -> None:
    shown, stream = console(tty=True)
    with shown.watch(lambda: progress()) as live:
        assert live is not None, "it shows the line, and can redraw it at once"
        shown.redraw()
        shown.say("stopping early: the request budget of 5 is spent")
    output = stream.getvalue()
    assert output.startswith("\rgenerated [")
    assert output.count("\rgenerated [") == 3  # drawn, redrawn, drawn again under the message
    assert "\nstopping early" not in output  # the message starts on the erased progress line...
    assert "\rstopping early: the request budget of 5 is spent\n" in output  # ...and ends with a newline
    assert output.endswith(" \r")  # the progress line is wiped when the phase ends
    assert ESC not in output


def test_the_scenarios_get_a_live_line_counting_scenarios_done_and_naming_the_one_running() -> None:
    scenarios = progress(cases=5, planned=13, phase="lone task", stage="scenarios", unit="scenarios")
    assert render_progress(scenarios, 200).startswith("scenarios [#######-------------] 5/13 scenarios (lone task), ")


def test_phases_running_at_once_share_the_one_live_line_and_each_leaves_it_when_it_ends() -> None:
    shown, stream = console(tty=True)
    scenarios = progress(cases=5, planned=13, phase="lone task", stage="scenarios", unit="scenarios")
    with shown.watch(lambda: scenarios):
        with shown.watch(lambda: dataclasses.replace(progress(), stage="aimed")):
            shown.redraw()
        both, after = stream.getvalue(), len(stream.getvalue())
        shown.redraw()
    assert "\rscenarios [" in both and " | aimed [" in both, "one line: the older phase first"
    assert "\n" not in stream.getvalue(), "never a second line"
    alone = stream.getvalue()[after:]
    assert "\rscenarios [" in alone and "aimed [" not in alone, "the line the aimed phase left is the scenarios' alone"
    assert all(len(line) <= 100 for line in stream.getvalue().split("\r")), "together no wider than the terminal"


def test_off_a_terminal_there_is_no_progress_line_and_messages_are_plain_lines() -> None:
    shown, stream = console(tty=False)
    with shown.watch(lambda: progress()) as live:
        assert live is None
        shown.say(f"generated: 50 cases sent, one of them {LONG_ID!r}")
    assert (
        stream.getvalue() == f"generated: 50 cases sent, one of them '{LONG_ID[:12]}...{LONG_ID[-8:]}' (1019 chars)\n"
    )


def test_console_for_a_pipe_or_under_no_color_writes_no_escape_sequence() -> None:
    for stream, env in ((FakeStream(False), {}), (FakeStream(True), {"NO_COLOR": "1"})):
        shown = Console.for_stream(stream, env)
        with shown.watch(lambda: progress()):
            shown.say("WARNING: --insecure: the target's TLS certificate was NOT verified")
        assert ESC not in stream.getvalue()
        assert "WARNING" in stream.getvalue()


# -- the engine's progress view -----------------------------------------------------------------------------------


def test_the_plan_is_an_estimate_until_fuzzing_starts_then_exact() -> None:
    stats = GeneratedStats()
    ledger = Ledger(load_catalogue())
    with TargetClient("http://target.test", "p") as client:
        read = generated_progress(stats, client, ledger, max_examples=100, started=10.0, clock=lambda: 12.5)
        first = read()
        assert (first.cases, first.planned, first.estimated, first.phase) == (
            0,
            PRE_FUZZING_CASES + 100,
            True,
            "starting",
        )
        assert first.elapsed_s == 2.5
        stats.cases, stats.by_phase = 40, {"examples": 1, "coverage": 39}
        assert (read().planned, read().estimated, read().phase) == (140, True, "coverage")
        stats.cases, stats.by_phase = 45, {"examples": 1, "coverage": 39, "fuzzing": 5}
        assert (read().planned, read().estimated, read().phase) == (140, False, "fuzzing")
        ledger.record([Finding("BR-REQ-009", False, "missing"), Finding("BR-REQ-010", True)])
        assert read().failing == 1
