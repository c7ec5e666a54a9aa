"""What is printed and what is written start from redacted data: the terminal guard, the last pass over a report,
and the report directory a run claims."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from conformance.config.settings import SettingsError
from conformance.engine.client import Credentials
from conformance.report.sanitize import scrub
from conformance.report.store import claim
from conformance.support.redaction import Redactor
from conformance.support.terminal import GuardedStream, guarded, one_line

TOKEN = "MIIC+tok/EN=terminal-canary"


def test_target_text_is_printed_on_one_line_with_escapes_visible() -> None:
    assert one_line("key\n\nverdict: conformant\r\x1b[31m\u202e\ud800") == (
        "key\\n\\nverdict: conformant\\r\\x1b[31m\\u202e\\ud800"
    )
    assert one_line("plain text, é and 迁移") == "plain text, é and 迁移"


def test_guarded_stream_redacts_a_secret_split_across_writes_and_escapes_controls() -> None:
    sink = io.StringIO()
    stream = GuardedStream(sink, Redactor([TOKEN]))
    stream.write("token: " + TOKEN[:6])
    stream.write(TOKEN[6:] + " \x1b[2J\n")
    stream.writelines(["http://user:pw@host/ ok\n"])
    assert sink.getvalue() == "token: [REDACTED] \\x1b[2J\nhttp://***@host/ ok\n"


def test_guarded_stream_survives_text_the_terminal_cannot_encode() -> None:
    raw = io.BytesIO()
    ascii_terminal = io.TextIOWrapper(raw, encoding="ascii")
    stream = GuardedStream(ascii_terminal, Redactor())
    stream.write("task 迁移\n")
    stream.flush()
    assert raw.getvalue() == b"task \\u8fc1\\u79fb\n"


def test_guarded_restores_the_streams_and_learns_secrets_late(capsys: pytest.CaptureFixture[str]) -> None:
    before = sys.stdout
    with guarded() as terminal:
        terminal.learn([TOKEN])
        print(f"the token is {TOKEN}")
    assert sys.stdout is before
    assert capsys.readouterr().out == "the token is [REDACTED]\n"


def test_scrub_redacts_error_texts_commands_and_userinfo_anywhere_in_a_report() -> None:
    report = {
        "error": f"harness fault: LocalProtocolError: Illegal header value b'{TOKEN}\\r'",
        "command": "dcs-conformance run --base-url http://ops:s3cr3t-pw@gw.example",
        "target": {"base_url": "http://ops:s3cr3t-pw@gw.example"},
        "requirements": [{"evidence": [{"explanation": f"echoed {TOKEN.encode().hex()}"}], TOKEN: 1}],
    }
    scrubbed = scrub(report, Credentials(token=TOKEN), "http://ops:s3cr3t-pw@gw.example")
    text = repr(scrubbed)
    assert TOKEN not in text and "s3cr3t-pw" not in text and TOKEN.encode().hex() not in text
    assert scrubbed["target"]["base_url"] == "http://***@gw.example"
    assert scrubbed["error"] == "harness fault: LocalProtocolError: Illegal header value b'[REDACTED]\\r'"


def test_claiming_a_report_directory_clears_a_previous_runs_files_only(tmp_path: Path) -> None:
    for name in ("report.json", "junit.xml", "index.html", "badge.svg", "SHA256SUMS", ".index.html.tmp"):
        (tmp_path / name).write_text("old")
    claim(tmp_path)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "badge.svg").write_text("old")
    (tmp_path / "README").write_text("not ours")
    with pytest.raises(SettingsError, match="'README'"):
        claim(tmp_path)
    assert (tmp_path / "badge.svg").exists(), "nothing is deleted when the directory is refused"
    claim(tmp_path / "not-yet-created")


def test_claiming_leaves_an_empty_gitkeep_alone_but_not_a_file_of_that_name_with_content(tmp_path: Path) -> None:
    """A repository keeps its empty reports/ directory with a .gitkeep: a run may write there (as a targets file's
    runs do); a .gitkeep holding something is somebody's file like any other."""
    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / "report.json").write_text("old")
    claim(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == [".gitkeep"]
    (tmp_path / ".gitkeep").write_text("notes")
    with pytest.raises(SettingsError, match=r"'\.gitkeep'"):
        claim(tmp_path)
