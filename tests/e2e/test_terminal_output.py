"""What `dcs-conformance run` prints, read as a person reads it: in a CI log (pipes), on a terminal (a
pseudo-terminal), under NO_COLOR, and against a target that answers a 1 KiB task ID.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.reference.server import BackgroundServer
from tests.terminal import command, on_a_terminal, terminal_env

pytestmark = pytest.mark.e2e

ESC = "\x1b"
LONG_ID = "x0350354b-" + "9e1f" * 254 + "-end00042"  # 1 KiB, like the one a third-party mock answered


async def long_id_target(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A mock that answers every request 200 with one task nobody asked for, whose ID is 1 KiB long."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = json.dumps(
        {"migration_tasks": [{"task_id": LONG_ID, "result": "failed", "error_code": "DCS.4800", "error_msg": "no"}]}
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def mock_with_long_ids() -> Iterator[BackgroundServer]:
    with BackgroundServer(long_id_target) as server:
        yield server


def test_a_long_id_in_a_failure_is_shortened_on_the_terminal_and_whole_in_report_json(
    tmp_path: Path, mock_with_long_ids: BackgroundServer
) -> None:
    result = subprocess.run(
        command(tmp_path, "--base-url", mock_with_long_ids.base_url, "--project-id", "p1", "--max-examples", "5"),
        env=terminal_env(),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert LONG_ID not in result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("FAIL BR-REQ-010")]
    assert f"'{LONG_ID[:12]}...{LONG_ID[-8:]}' ({len(LONG_ID)} chars)" in line
    assert len(line) < 300
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    [foreign] = [item for item in report["requirements"] if item["id"] == "BR-REQ-010"]
    assert LONG_ID in foreign["evidence"][0]["explanation"]


def test_in_a_ci_log_the_output_is_plain_lines_without_escape_sequences(tmp_path: Path) -> None:
    result = subprocess.run(
        command(tmp_path, "--max-examples", "60"), env=terminal_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert ESC not in output
    assert "\r" not in output
    assert "generated: 50 cases sent" in result.stderr  # the plain progress lines, as before
    assert "verdict: conformant" in result.stdout


def test_on_a_terminal_a_live_progress_line_and_colour(tmp_path: Path) -> None:
    code, output = on_a_terminal(tmp_path, "--max-examples", "5")
    assert code == 0, output
    assert "\rgenerated [" in output
    assert "cases (" in output and " requests, " in output and " failing" in output
    assert "generated: 50 cases sent" not in output  # the live line replaces the plain ones
    assert "\x1b[32mPASS\x1b[0m BR-REQ-001" in output
    assert "verdict: \x1b[1;32mconformant\x1b[0m" in output


def test_no_color_on_a_terminal_keeps_the_progress_line_but_writes_no_escape_sequence(tmp_path: Path) -> None:
    code, output = on_a_terminal(tmp_path, "--max-examples", "5", NO_COLOR="1")
    assert code == 0, output
    assert ESC not in output
    assert "\rgenerated [" in output
    assert "PASS BR-REQ-001" in output
