"""Nothing a target or a report says can act as a GitHub workflow command: checked with the runner's own parser.

tests/gh_commands.py ports actions/runner's command parser (``::name::`` after leading white space, the legacy
``##[name]`` anywhere in a line, stop-commands, the culture-sensitive (ICU) searches that skip zero-width
characters, and the ordinal ones of an invariant-globalization runner). Every test here runs text through what the
suite prints and asks that parser, in both flavours, which commands the runner would act on: none but ours.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.reporters.ci_summary import annotation, publish, report_annotations, report_markdown
from conformance.support.redaction import Redactor
from conformance.support.terminal import (
    ZERO_WIDTH_JOINER,
    GuardedStream,
    WorkflowCommand,
    inert,
    inert_in_ci,
    workflow_command,
)
from tests.gh_commands import Command, neutralize, parse_line, parse_log

CULTURES = pytest.mark.parametrize("culture", [True, False], ids=["ICU runner", "invariant runner"])

#: What a hostile target answers: each line is a command the runner acts on, as printed.
HOSTILE = [
    "::error::forged",
    "  ::error title=forged::indented",
    "\u00a0\u3000::warning::behind non-ASCII white space",
    "the key ##[stop-commands]tok was unexpected",
    "'##[add-mask]secret' in a quoted repr",
    "##[set-output name=x]1",
    "###[error]three hashes",
    "x\r::error::after a carriage return",
    "::stop-commands::tok",
    "::ERROR::upper case",
    "::notice::n",
    "##[group]g",
    "::add-matcher::m.json",
]
#: Characters around which the runner's search behaves specially: ignorable (joiners, spaces, controls), a
#: Prepend character, a combining mark, white space .NET trims, a surrogate half.
TRICKY = ":#[]%,= \t\u00a0\u2028\u200b\u200c\u200d\u2060\ufeff\u0600\u0308\u034f\x00\x07\ud83d"


def commands(text: str, culture: bool) -> list[Command]:
    return parse_log(text, culture_sensitive=culture, allow_unsecure_stop_tokens=True)


@CULTURES
def test_each_hostile_line_is_a_command_as_it_is_and_none_once_inert(culture: bool) -> None:
    for line in HOSTILE:
        assert commands(line, culture), f"the port should find a command in {line!r}"
        assert commands(inert(line), culture) == [], line
    log = "\n".join([*HOSTILE, "::tok::", ":::error::three colons"])
    assert [c.name for c in commands(log, culture)][:2] == ["error", "error"]
    assert commands(inert(log), culture) == []


@CULTURES
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from([*TRICKY, *"::##[error]stop-commands add-mask x"]), max_size=40))
def test_no_text_made_inert_holds_a_command(culture: bool, text: str) -> None:
    assert commands(inert(text), culture) == []
    assert inert(inert(text)) == inert(text), "idempotent"


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from([*TRICKY, *"::##[x"]), max_size=30))
def test_inert_is_the_neutralisation_the_port_recommends(text: str) -> None:
    assert inert(text) == neutralize(text)


def test_inert_only_adds_joiners_between_colons_and_before_brackets() -> None:
    assert inert("http://[::1]:8080/ #[x] a:b") == f"http://[:{ZERO_WIDTH_JOINER}:1]:8080/ #{ZERO_WIDTH_JOINER}[x] a:b"
    assert inert(":::").count(ZERO_WIDTH_JOINER) == 2
    assert inert_in_ci("::error::x", {}) == "::error::x"
    assert inert_in_ci("::error::x", {"GITHUB_ACTIONS": "true"}) == inert("::error::x")


@settings(max_examples=300, deadline=None)
@given(
    title=st.text(alphabet=st.sampled_from([*TRICKY, *"BR-REQ 009(MUST)::##[]"]), min_size=1, max_size=30),
    message=st.text(alphabet=st.sampled_from([*TRICKY, "\r", "\n", *"message::##[stop-commands]"]), max_size=40),
)
def test_a_command_of_ours_is_read_back_with_exactly_its_title_and_message(title: str, message: str) -> None:
    title = "T" + title  # the runner trims white space before the property list and drops a leading '='
    line = workflow_command("error", {"title": title}, message)
    parsed = parse_line(line)
    assert parsed is not None and parsed.name == "error"
    # A zero-width space after a property list ending in a non-ASCII character, before such a message.
    sent_title = title + ("\u200b" if not title[-1].isascii() else "")
    sent_message = ("\u200b" if message and not message[0].isascii() else "") + message
    assert parsed.properties["title"] == sent_title.rstrip(" \t\u00a0\u2028")  # .NET's Trim(), which we cannot undo
    assert parsed.data == sent_message
    assert [c.name for c in parse_log(line)] == ["error"]


def test_a_command_needs_a_name_and_properties_of_letters() -> None:
    with pytest.raises(ValueError, match="command name"):
        workflow_command("error title=x", {}, "")
    with pytest.raises(ValueError, match="property"):
        workflow_command("error", {"ti:tle": "x"}, "")
    assert workflow_command("warning", {"title": ""}, "m") == "::warning::m", "an empty property is left out"


def guarded_stream(sink: io.StringIO, secrets: list[str] | None = None) -> GuardedStream:
    return GuardedStream(sink, Redactor(secrets or []), neutralise=True)  # type: ignore[arg-type]


@CULTURES
def test_in_github_actions_the_guarded_stream_makes_every_line_inert_but_our_commands(culture: bool) -> None:
    sink = io.StringIO()
    stream = guarded_stream(sink, ["tok-secret-123"])
    for line in HOSTILE:
        stream.write(f"FAIL BR-REQ-007 MUST  -- {line}\n")
    stream.write(":")  # a command split across two writes, and across a flush
    stream.flush()
    stream.write(":error::split\n#")
    stream.write("#[stop-commands]split\n")
    ours = workflow_command("error", {"title": "BR-REQ-007 (MUST)"}, "echoed tok-secret-123 ##[x]")
    stream.write("no newline yet")
    stream.write_command(ours)
    stream.flush()
    found = commands(sink.getvalue(), culture)
    assert [(c.name, c.properties, c.data) for c in found] == [
        ("error", {"title": "BR-REQ-007 (MUST)"}, "echoed [REDACTED] ##[x]")
    ]
    assert "no newline yet\n::error" in sink.getvalue(), "a command of ours starts a line of its own"


def test_only_a_workflow_command_takes_the_trusted_path() -> None:
    stream = guarded_stream(io.StringIO())
    with pytest.raises(TypeError):
        stream.write_command("::error::forged")  # type: ignore[arg-type]


def test_outside_github_actions_the_guarded_stream_leaves_colons_alone() -> None:
    sink = io.StringIO()
    GuardedStream(sink, Redactor(), neutralise=False).write("http://[::1]:80 ::x\n")
    assert sink.getvalue() == "http://[::1]:80 ::x\n"


# ---------------------------------------------------------------------------------------------------------------
# CI summaries from a report a target (or whoever wrote the report) filled with commands.

FORGED = "X\n::error title=forged::code\r##[stop-commands]tok"


def hostile_report() -> dict[str, Any]:
    evidence = [{"explanation": f"the key {FORGED} ##[add-mask]x", "request": None}]
    return {
        "verdict": "incomplete\n::error::verdict",
        "verdict_reason": f"reason {FORGED}",
        "suite_version": "0.1.0\n# forged heading",
        "seed": "1 | injected | cell",
        "target": {"base_url": "http://t\n::error::url", "project_id": "p`code`"},
        "counts": {"total": "<b>1</b>|", "passed": 0, "failed": 1, "warning": 0, "skipped": 1, "error": 0},
        "requirements": [
            {
                "id": "BR-REQ-007\n::error::id",
                "level": "MUST",
                "title": "t ##[stop-commands]t",
                "status": "failed",
                "reason": FORGED,
                "evidence": evidence,
            },
            {
                "id": "BR-REQ-014",
                "level": "MUST",
                "title": "s",
                "status": "skipped",
                "reason": FORGED,
                "needs": ["fixtures`|", "[x](javascript:alert(1))"],
                "evidence": [],
            },
        ],
    }


@CULTURES
def test_annotations_from_a_hostile_report_are_exactly_ours_and_say_what_it_said(culture: bool) -> None:
    report = {**hostile_report(), "verdict": "incomplete"}
    lines = report_annotations(report, "name::\n##[x]")  # type: ignore[arg-type]
    assert all(isinstance(line, WorkflowCommand) for line in lines)
    found = commands("\n".join(lines), culture)
    assert [c.name for c in found] == ["error", "error"]
    assert found[0].properties["title"].startswith("name::")
    assert "##[stop-commands]" in found[0].data, "shown as data, never acted on"


@CULTURES
def test_publish_prints_only_our_annotations_through_the_guarded_stdout(culture: bool) -> None:
    sink = io.StringIO()
    stream = guarded_stream(sink)
    report = {**hostile_report(), "verdict": "incomplete"}
    stream.write(f"{report['verdict_reason']}\n")  # what the run printed before
    env = {"GITHUB_ACTIONS": "true"}
    publish("", [*report_annotations(report), "::error::not made by workflow_command"], env=env, out=stream)  # type: ignore[arg-type, list-item]
    found = commands(sink.getvalue(), culture)
    assert [c.name for c in found] == ["error", "error"]
    assert all(c.properties["title"].startswith(("BR-REQ-007", "dcs-conformance")) for c in found)


def test_publish_to_pytests_terminal_writes_our_annotations_and_makes_anything_else_inert() -> None:
    out = io.StringIO()
    publish("", [annotation("error", "t", "m"), "::error::forged"], env={"GITHUB_ACTIONS": "true"}, out=out)  # type: ignore[list-item]
    assert [c.data for c in commands(out.getvalue(), True)] == ["m"]


def test_the_step_summary_escapes_every_value_it_takes_from_a_report() -> None:
    markdown = report_markdown(hostile_report())  # type: ignore[arg-type]
    lines = markdown.splitlines()
    headings = [line for line in lines if line.startswith("#")]
    assert headings == [lines[0], "### Failed", "### MUST requirements not exercised"], "our headings only"
    assert lines[0].startswith("## ") and "\n" not in lines[0] and "::error::verdict" in lines[0]
    table = [line for line in lines if line.startswith("|")]
    for row in table:
        assert row.replace("\\|", "").count("|") == 4, row
    assert "<b>" not in markdown and "<img" not in markdown and "&lt;b&gt;" in markdown
    assert "](" not in markdown.replace("\\](", ""), "no link"
    assert "`code`" not in markdown
    assert all(line.count("`") % 2 == 0 for line in lines), "every code span closed on its line"
