"""Tests for tests/gh_commands.py, the port of the GitHub runner's command parser that the output-guard tests use as
their oracle: each rule of the runner's parser, and the neutralisation guarantees.

Why so many small cases: every test pins one line of the C# code (or one ICU behaviour) that
an injection proof depends on, so a regression names the rule it broke. (When the port was made, its ICU model was
also checked against the real libicu 72, running .NET's own search algorithms, on some 310,000 random strings; that
tool is not part of this repository.)
"""

from __future__ import annotations

import random

import pytest

import tests.gh_commands as g
from tests.gh_commands import Command, escape_data, escape_property, format_command, neutralize, parse_line, parse_log

ZWJ = "\u200d"
MODES = [True, False]  # culture_sensitive: ICU runner as shipped / DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1


def names(cmds: list[Command]) -> list[str]:
    """Command names only, for compact assertions."""
    return [c.name for c in cmds]


# --- TryParseV2: "::name k=v,k=v::data" -------------------------------------------------------


@pytest.mark.parametrize("culture", MODES)
def test_v2_basic(culture: bool) -> None:
    cmd = parse_line("::warning::something broke", culture_sensitive=culture)
    assert cmd == Command("warning", {}, "something broke", "::")


@pytest.mark.parametrize("culture", MODES)
def test_v2_properties_and_unescaping(culture: bool) -> None:
    cmd = parse_line("::error file=a.py,line=3,title=T%3A x%2C y::boom%0Aline2%25", culture_sensitive=culture)
    assert cmd is not None
    assert cmd.properties == {"file": "a.py", "line": "3", "title": "T: x, y"}
    assert cmd.data == "boom\nline2%"


@pytest.mark.parametrize("culture", MODES)
def test_v2_name_is_case_insensitive_and_kept_as_written(culture: bool) -> None:
    cmd = parse_line("::WaRnInG::x", culture_sensitive=culture)
    assert cmd is not None and cmd.name == "WaRnInG"


@pytest.mark.parametrize("culture", MODES)
def test_v2_unregistered_name_is_not_a_command(culture: bool) -> None:
    assert parse_line("::foo::x", culture_sensitive=culture) is None
    assert parse_line("::::x", culture_sensitive=culture) is None
    assert parse_line("::warning", culture_sensitive=culture) is None  # no second "::"


@pytest.mark.parametrize("culture", MODES)
def test_v2_leading_dotnet_whitespace_is_trimmed(culture: bool) -> None:
    for ws in (" ", "\t", "  \t ", "\u00a0", "\u3000", "\u2028", "\x0b\x0c", "\x85"):
        assert parse_line(ws + "::debug::x", culture_sensitive=culture) is not None, repr(ws)
    # U+001C..U+001F are str.isspace() in Python but not char.IsWhiteSpace in .NET
    assert parse_line("\x1c::debug::x", culture_sensitive=culture) is None
    assert parse_line("\ufeff::debug::x", culture_sensitive=culture) is None  # BOM is not white space


@pytest.mark.parametrize("culture", MODES)
def test_v2_double_colon_not_at_line_start(culture: bool) -> None:
    assert parse_line("echo ::warning::x", culture_sensitive=culture) is None
    assert parse_line("x::warning::y", culture_sensitive=culture) is None
    assert parse_log("see ::set-output name=a::b and ::add-mask::c", culture_sensitive=culture) == []


@pytest.mark.parametrize("culture", MODES)
def test_v2_properties_split_like_dotnet(culture: bool) -> None:
    # Split(',', RemoveEmptyEntries) then Split('=', 2, RemoveEmptyEntries), pair.Length == 2 only
    cmd = parse_line("::warning  a=1,,b=x=y,c=,=d=e,f==g,h::data", culture_sensitive=culture)
    assert cmd is not None
    assert cmd.properties == {"a": "1", "b": "x=y", "d": "e", "f": "g"}


@pytest.mark.parametrize("culture", MODES)
def test_v2_property_keys_merge_case_insensitively(culture: bool) -> None:
    cmd = parse_line("::warning Title=a,title=b::x", culture_sensitive=culture)
    assert cmd is not None and cmd.properties == {"Title": "b"}


@pytest.mark.parametrize("culture", MODES)
def test_v2_property_list_is_trimmed_but_keys_are_not(culture: bool) -> None:
    cmd = parse_line("::warning   title=a b  , file=c   ::x", culture_sensitive=culture)
    assert cmd is not None
    assert cmd.properties == {"title": "a b  ", " file": "c"}


@pytest.mark.parametrize("culture", MODES)
def test_v2_data_keeps_trailing_space_and_double_colons(culture: bool) -> None:
    cmd = parse_line("::debug::a::b  ", culture_sensitive=culture)
    assert cmd is not None and cmd.data == "a::b  "


# --- TryParse (legacy): "##[name k=v;k=v]data" -----------------------------------------------


@pytest.mark.parametrize("culture", MODES)
def test_legacy_basic_and_mid_line(culture: bool) -> None:
    assert parse_line("##[warning]x", culture_sensitive=culture) == Command("warning", {}, "x", "##[")
    assert parse_line("build output ##[error]boom", culture_sensitive=culture) == Command("error", {}, "boom", "##[")
    assert parse_line("   ##[group]G", culture_sensitive=culture) == Command("group", {}, "G", "##[")


@pytest.mark.parametrize("culture", MODES)
def test_legacy_properties_and_escapes(culture: bool) -> None:
    cmd = parse_line("##[set-output name=a%3Bb;x=1]v%5D%3B%0D%25", culture_sensitive=culture)
    assert cmd is not None
    assert cmd.properties == {"name": "a;b", "x": "1"}
    assert cmd.data == "v];\r%"


@pytest.mark.parametrize("culture", MODES)
def test_legacy_only_first_prefix_is_examined(culture: bool) -> None:
    assert parse_line("##[nope] then ##[warning]x", culture_sensitive=culture) is None
    assert parse_line("##[warning", culture_sensitive=culture) is None  # no ']'


@pytest.mark.parametrize("culture", MODES)
def test_legacy_fallback_when_v2_fails(culture: bool) -> None:
    # TryParseV2 fails ("::x" is not registered), then TryParse finds ##[ anywhere
    cmd = parse_line("::x:: ##[debug]y", culture_sensitive=culture)
    assert cmd == Command("debug", {}, "y", "##[")


def test_registered_set_is_the_same_for_both_forms() -> None:
    for name in g.REGISTERED_COMMANDS:
        assert parse_line(f"::{name}::v") is not None, name
        assert parse_line(f"x ##[{name}]v") is not None, name
    assert parse_line("::internal-set-repo-path::p") is None
    assert parse_line("##[internal-set-repo-path]p", plugin_internal_commands=True) is not None


# --- line splitting -----------------------------------------------------------------------------


def test_split_lines_like_streamreader() -> None:
    assert g.split_lines("a\r\nb\n\nc\rd\n") == ["a", "b", "", "c", "d"]
    assert g.split_lines("a\u2028b\x85c\x0bd\x0ce") == ["a\u2028b\x85c\x0bd\x0ce"]
    assert g.split_lines("") == []


@pytest.mark.parametrize("culture", MODES)
def test_carriage_return_starts_a_new_line(culture: bool) -> None:
    assert names(parse_log("progress 50%\r::warning::x", culture_sensitive=culture)) == ["warning"]
    assert parse_log("a\u2028::warning::x", culture_sensitive=culture) == []


def test_decode_like_runner() -> None:
    assert g.decode_like_runner(b"\xef\xbb\xbf::debug::x") == "::debug::x"
    assert g.decode_like_runner(b"::debug::\xff") == "::debug::\ufffd"
    assert g.decode_like_runner("::debug::é".encode("utf-16")) == "::debug::é"


# --- stop-commands / resume ------------------------------------------------------------------------


@pytest.mark.parametrize("culture", MODES)
def test_stop_commands_suspends_until_token(culture: bool) -> None:
    log = (
        "::warning::before\n"
        "::stop-commands::tok123456\n"
        "::set-output name=a::b\n"
        "##[add-mask]secret\n"
        "::TOK123456X::not the token\n"
        "::Tok123456::\n"
        "::warning::after"
    )
    cmds = parse_log(log, culture_sensitive=culture)
    assert names(cmds) == ["warning", "stop-commands", "Tok123456", "warning"]
    assert cmds[1].data == "tok123456"
    assert [c.line for c in cmds] == [1, 2, 6, 7]


@pytest.mark.parametrize("culture", MODES)
def test_resume_token_in_legacy_form_and_token_unregistered_after(culture: bool) -> None:
    log = "::stop-commands::abcdefgh\n::debug::x\nsome text ##[abcdefgh]\n::abcdefgh::\n::debug::y"
    assert names(parse_log(log, culture_sensitive=culture)) == ["stop-commands", "abcdefgh", "debug"]


@pytest.mark.parametrize("token", ["", "warning", "STOP-COMMANDS", "pause-logging"])
def test_invalid_stop_token_fails_the_step(token: str) -> None:
    with pytest.raises(g.StopTokenRejected) as info:
        parse_log(f"::debug::x\n::stop-commands::{token}\n::debug::y")
    assert names(info.value.commands) == ["debug"] and info.value.line == 2


def test_unsecure_stop_token_equal_to_a_command_unregisters_it_on_resume() -> None:
    log = "::stop-commands::warning\n::debug::hidden\n::warning::resume\n::warning::gone\n::debug::ok"
    assert names(parse_log(log, allow_unsecure_stop_tokens=True)) == ["stop-commands", "warning", "debug"]


def test_notice_needs_enhanced_annotations_but_the_check_is_case_sensitive() -> None:
    assert parse_log("::notice::x", enhanced_annotations=False) == []
    assert names(parse_log("::NOTICE::x", enhanced_annotations=False)) == ["NOTICE"]
    assert names(parse_log("::notice::x")) == ["notice"]


def test_add_mask_is_a_command_and_suspended_while_stopped() -> None:
    assert parse_log("::add-mask::s3cr3t") == [Command("add-mask", {}, "s3cr3t", "::", 1)]
    assert names(parse_log("::stop-commands::zzzzzzzz\n::add-mask::s\n::zzzzzzzz::")) == ["stop-commands", "zzzzzzzz"]


# --- ICU (culture-sensitive) behaviour ------------------------------------------------------------


def test_icu_finds_double_colon_through_ignorable_characters() -> None:
    assert g._culture_index_of("a:" + ZWJ + ":b", "::") == 1
    assert g._culture_index_of("a:\x00:b", "::") == 1
    assert g._culture_index_of("a:\u00ad:b", "::") == 1
    assert g._culture_index_of("a:\u0308:b", "::") == -1  # combining mark has a weight
    assert g._culture_index_of("::\u0308", "::") == -1  # glued mark: no grapheme boundary
    assert g._culture_index_of("\u0600::", "::") == -1  # after Prepend: no grapheme boundary
    assert g._culture_starts_with(ZWJ + "::", "::")


def test_icu_separator_may_be_a_zwj_split_colon_pair() -> None:
    assert parse_line("::warning:" + ZWJ + ":x") == Command("warning", {}, ":x", "::")
    assert parse_line("::warning:" + ZWJ + ":x", culture_sensitive=False) is None


def test_icu_first_legacy_match_can_mask_a_later_real_one() -> None:
    line = "#" + ZWJ + "#[x] ##[warning]y"
    assert parse_line(line) is None
    assert parse_line(line, culture_sensitive=False) == Command("warning", {}, "y", "##[")


def test_substring_offsets_are_utf16_units() -> None:
    cmd = parse_line("::warning:\U000e0001:x")  # U+E0001 is ignorable and two UTF-16 units
    assert cmd is not None and cmd.data == "\udc01:x"  # Substring(endIndex + 2) splits the pair


def test_zwj_between_colons_breaks_a_command_in_both_modes() -> None:
    for culture in MODES:
        assert parse_line(":" + ZWJ + ":warning::x", culture_sensitive=culture) is None
        assert parse_line(ZWJ + "::warning::x", culture_sensitive=culture) is None
        assert parse_line("##" + ZWJ + "[warning]x", culture_sensitive=culture) is None
        assert parse_line("#" + ZWJ + "#[warning]x", culture_sensitive=culture) is None


# --- escaping (@actions/core command.ts) ----------------------------------------------------------


def test_escape_functions_match_toolkit() -> None:
    assert escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"
    assert escape_data("%0A") == "%250A"


def _random_text(rng: random.Random, n: int) -> str:
    alphabet = "ab %:,=;]\r\n#[" + ZWJ + "\u0308\u0600\U0001f600" + "0ADC25"
    return "".join(rng.choice(alphabet) for _ in range(n))


@pytest.mark.parametrize("culture", MODES)
def test_escape_round_trip(culture: bool) -> None:
    rng = random.Random(7)
    for _ in range(300):
        s = _random_text(rng, rng.randint(0, 20))
        cmd = parse_line("::debug::" + escape_data(s), culture_sensitive=culture)
        if culture and s[:1] == "\u0308":  # glued to our '::' - ICU rejects the separator (fails closed)
            assert cmd is None
        else:
            assert cmd is not None and cmd.data == s, repr(s)
        cmd = parse_line(format_command("debug", {}, s), culture_sensitive=culture)
        assert cmd is not None and cmd.data.removeprefix("\u200b") == s, repr(s)
        value = s.strip(" \r\n").lstrip("=")
        cmd = parse_line(f"::debug k={escape_property(value)}::x", culture_sensitive=culture)
        expected = {"k": value} if value else {}
        if culture and value and value[-1] == "\u0600":  # Prepend before our '::': see format_command
            continue
        assert cmd is not None and cmd.properties == expected, repr(value)


def test_property_escaping_limits_of_the_toolkit_format() -> None:
    cmd = parse_line("::warning k=" + escape_property("=x ") + "::m")
    assert cmd is not None and cmd.properties == {"k": "x"}  # leading '=' and trailing space are lost


# --- neutralisation -----------------------------------------------------------------------------------


ATTACKS = [
    "::{n}::pwn",
    "  ::{n} name=x::pwn",
    "\t::{n}::",
    "x ##[{n}]pwn",
    "##[{n} name=x;a=b]pwn",
    ":::{n}::pwn",
    "::{n}:\u200d:pwn",
    ":\u200d:{n}::pwn",
    "##\u200d[{n}]p",
    "#\u200d#[{n}]p",
    "a\r::{n}::b",
    "a\n##[{n}]b",
    "\u200d::{n}::p",
    "\x00::{n}::p",
    "###[{n}]p",
    "#\u200d##[{n}]p",
    "::{n}::a::b##[c]",
]


@pytest.mark.parametrize("culture", MODES)
def test_neutralized_attacks_are_not_commands(culture: bool) -> None:
    for name in [*g.REGISTERED_COMMANDS, "internal-set-repo-path", "WARNING"]:
        for attack in ATTACKS:
            text = attack.format(n=name)
            assert parse_log(neutralize(text), culture_sensitive=culture, plugin_internal_commands=True) == [], text
            # also behind a prefix the tool prints, and after a stop-commands the attacker guesses
            assert parse_log("lint: " + neutralize(text), culture_sensitive=culture) == []


@pytest.mark.parametrize("culture", MODES)
def test_neutralize_fuzz(culture: bool) -> None:
    rng = random.Random(11)
    pieces = [
        "::",
        ":",
        "##[",
        "#",
        "[",
        "]",
        " ",
        "\t",
        "\r",
        "\n",
        ZWJ,
        "\x00",
        "\u0308",
        "\u0600",
        "warning",
        "set-output",
        "add-mask",
        "stop-commands",
        " name=a",
        ",b=c",
        "x",
        "\u00a0",
        "\U000e0001",
    ]
    for _ in range(1500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        out = neutralize(text)
        assert out.replace(ZWJ, "") == text.replace(ZWJ, "")
        assert neutralize(out) == out
        assert "::" not in out and "#[" not in out
        assert parse_log(out, culture_sensitive=culture) == [], repr(text)


def test_neutralize_examples() -> None:
    assert neutralize("::warning::x") == ":\u200d:warning:\u200d:x"
    assert neutralize("a:::b ##[c]") == "a:\u200d:\u200d:b ##\u200d[c]"
    assert neutralize("C:\\path ## heading # [x]") == "C:\\path ## heading # [x]"


# --- format_command: our own commands with untrusted content --------------------------------------------


def test_unguarded_toolkit_line_lets_message_forge_properties_on_icu() -> None:
    evil = "\u0308,title=pwned,file=/etc/passwd,line=1:" + ZWJ + ":hi"
    naive = "::warning title=Lint::" + escape_data(evil)  # what @actions/core would print
    forged = parse_line(naive)
    assert forged is not None and forged.properties == {"title": "pwned", "file": "/etc/passwd", "line": "1"}
    assert parse_line(naive, culture_sensitive=False) == Command("warning", {"title": "Lint"}, evil, "::")
    safe = parse_line(format_command("warning", {"title": "Lint"}, evil))
    assert safe == Command("warning", {"title": "Lint"}, "\u200b" + evil, "::")


def test_prepend_at_end_of_property_is_guarded() -> None:
    naive = "::warning title=Lint\u0600::x,file=a :" + ZWJ + ":y"
    forged = parse_line(naive)
    assert forged is not None and forged.properties == {"title": "Lint\u0600::x", "file": "a"}
    safe = parse_line(format_command("warning", {"title": "Lint\u0600"}, "x,file=a :" + ZWJ + ":y"))
    assert safe is not None and safe.properties == {"title": "Lint\u0600\u200b"} and safe.data.endswith(":y")


@pytest.mark.parametrize("culture", MODES)
def test_format_command_fuzz(culture: bool) -> None:
    rng = random.Random(5)
    for _ in range(600):
        title = _random_text(rng, rng.randint(1, 10)).strip(" \r\n").lstrip("=")
        message = _random_text(rng, rng.randint(0, 16))
        line = format_command("error", {"title": title, "file": "src/a.py"}, message)
        cmds = parse_log(line, culture_sensitive=culture)
        assert len(cmds) == 1 and cmds[0].name == "error", repr(line)
        props = cmds[0].properties
        expected_title = {"title": title} if title else {}
        got_title = {k: v.removesuffix("\u200b") for k, v in props.items() if k == "title"}
        assert got_title == expected_title and props["file"] == "src/a.py", repr(line)
        assert cmds[0].data.removeprefix("\u200b") == message, repr(line)


def test_format_command_rejects_bad_names() -> None:
    for bad in ("", "a b", "a::b", "x,y"):
        with pytest.raises(ValueError):
            format_command(bad, {}, "m")
    with pytest.raises(ValueError):
        format_command("warning", {"a=b": "v"}, "m")
