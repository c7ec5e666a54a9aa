"""Every user mistake, in every command, ends with exit 2 and one clear line on stderr: no traceback, no usage
block, no secret, and nothing sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.cli.main import build_parser, main

TOKEN = "MIIC+tok/EN=canary-0f9e8d"
TARGET = ["--base-url", "http://127.0.0.1:9", "--project-id", "p"]


def minimal_report() -> dict[str, object]:
    return {
        "verdict": "conformant",
        "suite_version": "0",
        "spec_sha256": "0" * 64,
        "target": {"base_url": "http://t"},
        "started_at": "2024-01-01T00:00:00Z",
        "duration_s": 1.0,
        "counts": {"total": 0, "passed": 0, "failed": 0, "warning": 0, "skipped": 0, "error": 0},
        "requirements": [],
        "observations": [],
    }


def write(path: str, content: bytes | str | dict | list) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict | list):
            target.write_text(json.dumps(content))
        else:
            target.write_bytes(content.encode() if isinstance(content, str) else content)

    return setup


def mkdir(path: str) -> Callable[[Path], None]:
    return lambda root: (root / path).mkdir(parents=True)


def nothing(root: Path) -> None:
    return None


UUID = "0f0e0d0c-aaaa-4bbb-8ccc-111111111111"
CASES: dict[str, tuple[list[str], dict[str, str], Callable[[Path], None], str]] = {
    "IPv6 base URL without ]": (["run", "--base-url", "http://[::1", "--project-id", "p"], {}, nothing, "not a valid"),
    "port abc": (["run", "--base-url", "http://h:abc", "--project-id", "p"], {}, nothing, "not a valid URL"),
    "port 99999": (["run", "--base-url", "http://h:99999", "--project-id", "p"], {}, nothing, "not a valid URL"),
    "base URL without a scheme shows what was typed": (
        ["run", "--base-url", "dcs.example.com", "--project-id", "p"],
        {},
        nothing,
        "needs a scheme: got 'dcs.example.com'; did you mean 'https://dcs.example.com'",
    ),
    "host and port without a scheme": (
        ["run", "--base-url", "127.0.0.1:18081", "--project-id", "p"],
        {},
        nothing,
        "got '127.0.0.1:18081'",
    ),
    "schemeless base URL hides only its userinfo": (
        ["run", "--base-url", "user:pw@dcs.example.com", "--project-id", "p"],
        {},
        nothing,
        "got '[REDACTED]@dcs.example.com'",
    ),
    "an abbreviated flag": (["run", "--base-ur", "http://x", "--project-id", "p"], {}, nothing, "--base-ur"),
    "timeout nan": (["run", "--timeout", "nan"], {}, nothing, "--timeout must be a finite number"),
    "timeout inf": (["run", "--timeout", "inf"], {}, nothing, "--timeout must be a finite number"),
    "rate limit 1e-300": (["run", "--rate-limit", "1e-300"], {}, nothing, "--rate-limit must be at least"),
    "rate limit nan": (["run", "--rate-limit", "nan"], {}, nothing, "--rate-limit must be a finite number"),
    "max examples abc": (["run", "--max-examples", "abc"], {}, nothing, "invalid int value: 'abc'"),
    "unknown command": (["restart-everything"], {}, nothing, "invalid choice"),
    "config not UTF-8": (["run", "--config", "c.toml"], {}, write("c.toml", b"seed = 1 # \xff\n"), "not UTF-8"),
    "config keys beside the table": (
        ["run", "--config", "c.toml"],
        {},
        write("c.toml", "seed = 1\n[dcs-conformance]\nmax_examples = 2\n"),
        "'seed' is outside the [dcs-conformance] table",
    ),
    "config unknown key": (["run", "--config", "c.toml"], {}, write("c.toml", "colour = 1\n"), "unknown setting"),
    "config is a directory": (["run", "--config", "d"], {}, mkdir("d"), "cannot read config file"),
    "fixtures misspelled key": (
        ["run", *TARGET, "--fixtures", "f.json"],
        {},
        write("f.json", {"restartables": [UUID]}),
        "unknown key 'restartables'",
    ),
    "fixtures overlap in another case": (
        ["run", *TARGET, "--fixtures", "f.json"],
        {},
        write("f.json", {"restartable": [UUID], "not_restartable": [UUID.upper()]}),
        "both restartable and not restartable",
    ),
    "fixtures is a directory": (["run", *TARGET, "--fixtures", "d"], {}, mkdir("d"), "cannot read fixtures file"),
    "token ending in CR": (["run", *TARGET], {"DCS_AUTH_TOKEN": TOKEN + "\r"}, nothing, "ends with a carriage return"),
    "access key ending in CR": (
        ["run", *TARGET],
        {"CLOUD_SDK_AK": TOKEN + "\r", "CLOUD_SDK_SK": "sk-0123456789"},
        nothing,
        "the access key (CLOUD_SDK_AK) ends with a carriage return",
    ),
    "read-only token with an escape": (
        ["run", *TARGET, "--auth-token", "tok-ok", "--readonly-token", TOKEN + "\x1b"],
        {},
        nothing,
        "the read-only token (--readonly-token or DCS_READONLY_TOKEN) ends with an escape character",
    ),
    "report dir whose index.html is a directory": (
        ["run", "--report-dir", "r"],
        {},
        mkdir("r/index.html"),
        "already holds a directory the suite did not write ('index.html')",
    ),
    "report dir holding someone else's file": (
        ["run", "--report-dir", "r"],
        {},
        write("r/notes.txt", "mine"),
        "already holds a file the suite did not write ('notes.txt')",
    ),
    "serve port abc": (["serve", "--port", "abc"], {}, nothing, "not a port number"),
    "serve on every interface without authentication": (
        ["serve", "--host", "0.0.0.0", "--port", "0"],
        {},
        nothing,
        "--host 0.0.0.0 is not a loopback address, and with --auth none anyone who can reach it",
    ),
    "serve on an IPv6 wildcard without authentication": (
        ["serve", "--host", "::", "--port", "0"],
        {},
        nothing,
        "--allow-unauthenticated",
    ),
    "serve port 99999": (["serve", "--port", "99999"], {}, nothing, "port out of range"),
    "serve token ending in CR": (["serve", "--auth", "token", "--token", TOKEN + "\r"], {}, nothing, "carriage"),
    "serve key with a space": (
        ["serve", "--auth", "aksk", "--ak", "AK 1", "--sk", "sk"],
        {},
        nothing,
        "--ak (CLOUD_SDK_AK) contains a space",
    ),
    "report of a list": (["report", "r"], {}, write("r/report.json", [1, 2]), "is not a dcs-conformance report"),
    "report missing fields": (["report", "r"], {}, write("r/report.json", {"verdict": "x"}), "required property"),
    "report with a wrongly typed requirement": (
        ["report", "r"],
        {},
        write("r/report.json", {**minimal_report(), "requirements": [{"id": 1}]}),
        "at $.requirements[0]",
    ),
    "report not JSON": (["report", "r"], {}, write("r/report.json", "{"), "is not valid JSON"),
    "report not UTF-8": (["report", "r"], {}, write("r/report.json", b"\xff"), "is not UTF-8"),
    "report whose index.html is a directory": (
        ["report", "r"],
        {},
        lambda root: (write("r/report.json", minimal_report())(root), mkdir("r/index.html")(root)),
        "cannot write r/index.html",
    ),
    "report of a directory without a report": (["report", "r"], {}, mkdir("r"), "holds no report.json"),
    "verify of a list": (["verify", "r"], {}, write("r/report.json", [1]), "is not a dcs-conformance report"),
    "verify of a report that is not JSON": (["verify", "r"], {}, write("r/report.json", "nan"), "not valid JSON"),
}


@pytest.mark.parametrize(("argv", "env", "setup", "fragment"), CASES.values(), ids=CASES.keys())
def test_user_mistakes_exit_2_with_one_line_and_no_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    setup: Callable[[Path], None],
    fragment: str,
) -> None:
    for name in ("DCS_BASE_URL", "DCS_PROJECT_ID", "DCS_AUTH_TOKEN", "CLOUD_SDK_AK", "CLOUD_SDK_SK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert fragment in lines[0]
    assert lines[0].startswith("dcs-conformance")
    assert TOKEN not in captured.err


@pytest.mark.parametrize("flag", ["--restartable", "--not-restartable"])
def test_serve_seeds_zero_tasks_of_a_kind_but_not_a_negative_number(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert getattr(build_parser().parse_args(["serve", flag, "0"]), flag[2:].replace("-", "_")) == 0
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["serve", flag, "-1"])
    assert exit_.value.code == 2
    assert "must not be negative: -1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.0.2.7", False),
        ("fd00::1", False),
    ],
)
def test_serve_knows_which_addresses_serve_this_machine_only(host: str, loopback: bool) -> None:
    from conformance.cli.serve import is_loopback

    assert is_loopback(host) is loopback


def test_a_reader_that_went_away_ends_the_listing_quietly_with_the_shells_sigpipe_code() -> None:
    """``serve --list-faults | head -1``: the reader closes the pipe, which is no bug of ours to report."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "conformance", "serve", "--list-faults"],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 141, done.stderr
    assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr, done.stderr


def test_a_broken_pipe_of_our_own_while_stdout_is_read_is_a_bug_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Exit 141 is only for a reader that went away; any other broken pipe is reported as the bug it is."""
    from conformance.reference import deviations

    def broken(kind: str) -> list[str]:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(deviations, "listing", broken)
    assert main(["serve", "--list-faults"]) == 3
    err = capfd.readouterr().err
    assert "Traceback" in err and "internal error: a bug in the suite" in err
