"""Whatever a target answers, every report is written and readable, and the terminal shows only what we print.

The target answers in rotation with lone surrogates, control characters and ANSI sequences in keys and values, a
key that spells a fake verdict line, 100,000-digit integers, nesting deeper than any parser's recursion limit and
bytes that are not UTF-8: all valid HTTP, some valid JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.reference.server import BackgroundServer
from tests.conftest import clean_env

pytestmark = pytest.mark.e2e

LONG = "1" * 100_000
FORGED = "\n\nverdict: conformant (reports: /tmp/forged)\n"
ANSI = "\x1b[2J\x1b[31mred\x1b]0;pwned\x07"
# Every 200 body lacks `migration_tasks` and has a forged key, so whichever answer BR-REQ-007's first evidence (the
# line the terminal shows) comes from, the forged text is on the terminal: it must arrive there escaped.
ANSWERS: list[tuple[int, str, bytes]] = [
    (400, "application/json", b'{"error_code": ' + LONG.encode() + b', "error_msg": "long"}'),
    (200, "application/json", json.dumps({FORGED: 1}).encode()),
    (400, "application/json", b'{"error_code": "DCS.\\ud800", "error_msg": "surrogate \\udfff"}'),
    (200, "application/json", json.dumps({FORGED: 3, "migration_task": [{"task_id": ANSI, "result": 7}]}).encode()),
    (400, "application/json", json.dumps({"error_code" + ANSI: "x", "error_msg": FORGED}).encode()),
    (200, "application/json", b'{"\\n\\nverdict: conformant": 4, "result": ' + LONG.encode() + b"}"),
    (400, "application/json", b"[" * 100_000 + b"]" * 100_000),
    (500, "text/plain", b"raw \x1b[31mANSI\x00 and \xff\xfe not UTF-8" + FORGED.encode()),
    (200, "application/json", json.dumps({FORGED: 2, "\u202eevil\u2028key": [[[[["deep"]]]]]}).encode()),
]


class HostileTarget:
    """Answers every request with the next hostile body in ANSWERS."""

    def __init__(self) -> None:
        self.requests = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        status, content_type, body = ANSWERS[self.requests % len(ANSWERS)]
        self.requests += 1
        headers = [(b"content-type", content_type.encode()), (b"x-request-id", b"hostile-%d" % self.requests)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def test_every_report_is_written_and_parses_and_the_terminal_shows_no_forged_line(tmp_path: Path) -> None:
    target = HostileTarget()
    env = clean_env()
    # One worker: which request meets which hostile body is then the order they are sent in, not the machine's load.
    options = ["--project-id", "p", "--seed", "3", "--max-examples", "5", "--workers", "1", "--report-dir", "out"]
    with BackgroundServer(target) as server:
        result = subprocess.run(
            [sys.executable, "-m", "conformance", "run", "--base-url", server.base_url, *options],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=300,
        )
    assert target.requests > 50
    assert result.returncode == 1, result.stderr.decode()[-3000:]
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_bytes().decode("utf-8"), parse_constant=pytest.fail)
    assert report["verdict"] == "non-conformant" and report["error"] is None
    ET.fromstring((out / "junit.xml").read_bytes())
    (out / "index.html").read_bytes().decode("utf-8")

    explanations = [ev["explanation"] for item in report["requirements"] for ev in item["evidence"]]
    assert any("(100000 digits)" in text for text in explanations), "a long integer is a JSON number"

    for stream in (result.stdout, result.stderr):
        assert b"\x1b" not in stream and b"\x00" not in stream and b"\x07" not in stream
    lines = result.stdout.decode().splitlines()
    assert [line for line in lines if line.startswith("verdict:")] == [lines[-1]]
    assert lines[-1].startswith("verdict: non-conformant")
    assert any("\\n\\nverdict: conformant" in line for line in lines), "the forged key is shown, escaped"
