"""Canary credentials never leave the process, in any form, even when the target reflects every request back.

The target here is an echo server, as some gateways' error pages are: it answers 200, 400, 401 and 502 (HTML)
with the request's headers and body in it exact, JSON-escaped, URL-encoded, HTML-escaped, base64 (both alphabets,
each alignment) and hex, and in response headers too. The canaries hold ``+/="\\`` as real IAM tokens do. Every
byte the run writes, and its stdout and stderr, are then searched by an independent decoder: every view of the text
(JSON-unescaped once and twice, HTML-unescaped, URL-decoded) and every base64 or hex run in it, decoded at every
offset.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import pytest

from conformance.reference.server import BackgroundServer
from tests.conftest import clean_env

pytestmark = pytest.mark.e2e

TOKEN = 'MIIC+tok/EN="\\canary-token-7c3e9d41=='
READONLY_TOKEN = 'MIIR+ro/tok="\\canary-readonly-5b2a8e=='
AK = 'CANARY+AK/="\\3F9D2B'
SK = 'canary+secret/key="\\a8d4f1c9e2b7=='
READONLY_AK = 'CANARY+RO/="\\9E1C4D'
READONLY_SK = 'canary+ro/secret="\\0f6b3a=='
USER, PASSWORD = "canary-user", 'p+ss/w0rd="\\9d'


class EchoTarget:
    """An ASGI app that reflects each request in many encodings, with a status chosen by the request count."""

    def __init__(self) -> None:
        self.requests = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.requests += 1
        raw = b"\n".join(name + b": " + value for name, value in scope["headers"]) + b"\n\n" + body
        text = raw.decode("latin-1")
        echo = {
            "text": text,
            "slashes": json.dumps(text).replace("/", "\\/"),
            "quote": quote(raw, safe=""),
            "quote_keeping_slashes": quote(raw),
            "quote_plus": quote_plus(raw),
            "hex": raw.hex(),
            "HEX": raw.hex().upper(),
            **{f"base64_{n}": base64.b64encode(b"#" * n + raw).decode() for n in range(3)},
            **{f"base64url_{n}": base64.urlsafe_b64encode(b"#" * n + raw).decode() for n in range(3)},
        }
        headers = [
            (b"x-request-id", b"echo-%d" % self.requests),
            (b"x-echo-quoted", quote(raw, safe="").encode()[:6000]),
            (b"x-echo-base64", base64.b64encode(raw)[:6000]),
        ]
        authenticated = any(name in (b"x-auth-token", b"authorization") for name, _ in scope["headers"])
        kind = self.requests % 4
        if not authenticated:
            status, document = 401, {"error_code": "DCS.1003", "error_msg": text, "echo": echo}
        elif kind == 0:
            status, document = 400, {"error_code": "DCS.4800", "error_msg": text, "echo": echo}
        elif kind == 1:
            try:
                requested = list(json.loads(body).get("migration_tasks") or [])
            except (ValueError, AttributeError, TypeError):
                requested = []
            items = [
                {"task_id": task, "result": "failed", "error_code": "DCS.4957", "error_msg": text}
                for task in requested
                if isinstance(task, str)
            ]
            status, document = 200, {"migration_tasks": items, "echo": echo}
        elif kind == 2:
            status, document = 400, {"error_code": "DCS.4800", "error_msg": html.escape(text), "echo": echo}
        else:
            page = f"<html><body><h1>502 Bad Gateway</h1><pre>{html.escape(text)}</pre></body></html>".encode()
            headers.append((b"content-type", b"text/html"))
            await send({"type": "http.response.start", "status": 502, "headers": headers})
            await send({"type": "http.response.body", "body": page})
            return
        headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(document).encode()})


# -- an independent oracle: decode everything that could hide a canary ---------------------------------------------

_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(.)", re.DOTALL)
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_\-]{8,}")
_HEX_RUN = re.compile(rb"[0-9a-fA-F]{8,}")
_SHORT = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def json_unescape(text: str) -> str:
    return _JSON_ESCAPE.sub(
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else _SHORT.get(m.group(2), m.group(2)), text
    )


def views(blob: bytes) -> tuple[list[bytes], list[bytes]]:
    """The blob as it would read after each decoding a reader (or a browser) might apply: (views in which base64
    and hex runs are looked for, URL-decoded views)."""
    text = blob.decode("utf-8", "replace")
    texts = {text, html.unescape(text)}
    texts |= {json_unescape(t) for t in texts}
    texts |= {json_unescape(t) for t in texts}
    decoded = {decode(t) for t in texts for decode in (unquote, unquote_plus)}
    return [t.encode("utf-8", "surrogatepass") for t in texts], [t.encode("utf-8", "surrogatepass") for t in decoded]


def decoded_runs(view: bytes) -> list[bytes]:
    """Every base64 (both alphabets) and hex run in the view, decoded at every offset."""
    out = []
    for run in _BASE64_RUN.findall(view):
        standard = run.replace(b"-", b"+").replace(b"_", b"/")
        for start in range(4):
            chunk = standard[start:]
            chunk = chunk[:-1] if len(chunk) % 4 == 1 else chunk + b"=" * (-len(chunk) % 4)
            with contextlib.suppress(binascii.Error):
                out.append(base64.b64decode(chunk, validate=True))
    for run in _HEX_RUN.findall(view):
        for start in range(2):
            chunk = run[start:]
            out.append(bytes.fromhex(chunk[: len(chunk) - len(chunk) % 2].decode()))
    return out


def leaks(blob: bytes, canaries: list[str]) -> list[str]:
    """The canaries found in the blob in any form."""
    encoded_views, url_decoded = views(blob)
    haystacks = [*encoded_views, *url_decoded, *(run for view in encoded_views for run in decoded_runs(view))]
    return sorted(
        {canary for canary, haystack in itertools.product(canaries, haystacks) if canary.encode() in haystack}
    )


def test_the_oracle_finds_each_form_the_echo_target_produces() -> None:
    """The oracle must see every encoding the target uses, or the real test would prove nothing."""
    raw = f"x-auth-token: {TOKEN}\n".encode()
    for blob in (
        raw,
        json.dumps(raw.decode()).encode(),
        json.dumps(json.dumps(raw.decode())).encode(),
        quote(raw, safe="").encode(),
        quote_plus(raw).encode(),
        html.escape(raw.decode()).encode(),
        raw.hex().upper().encode(),
        *(base64.b64encode(b"#" * n + raw) for n in range(3)),
        *(base64.urlsafe_b64encode(b"#" * n + raw) for n in range(3)),
    ):
        assert leaks(b"<" + blob + b">", [TOKEN]) == [TOKEN], blob


# -- the runs --------------------------------------------------------------------------------------------------------


def every_byte_written(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def run_cli(tmp_path: Path, base_url: str, flags: list[str], env_creds: dict[str, str]) -> subprocess.CompletedProcess:
    env = clean_env(**env_creds)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--base-url",
            base_url,
            "--project-id",
            "p",
            "--seed",
            "6",
            "--max-examples",
            "5",
            "--report-dir",
            "out",
            *flags,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("mode", "canaries"),
    [
        ("token and userinfo", [TOKEN, READONLY_TOKEN, PASSWORD, f"{USER}:{PASSWORD}", USER]),
        ("aksk", [AK, SK, READONLY_AK, READONLY_SK]),
    ],
)
def test_no_canary_in_any_form_reaches_a_file_or_the_terminal(tmp_path: Path, mode: str, canaries: list[str]) -> None:
    echo = EchoTarget()
    with BackgroundServer(echo) as server:
        if mode == "aksk":
            base_url = server.base_url
            env = {"CLOUD_SDK_AK": AK, "CLOUD_SDK_SK": SK}
            flags = ["--readonly-ak", READONLY_AK, "--readonly-sk", READONLY_SK]
        else:
            base_url = server.base_url.replace("http://", f"http://{USER}:{quote(PASSWORD, safe='')}@")
            env = {"DCS_AUTH_TOKEN": TOKEN}
            flags = ["--readonly-token", READONLY_TOKEN]
        result = run_cli(tmp_path, base_url, flags, env)
    assert result.returncode == 1, result.stderr.decode()[-2000:]
    assert echo.requests > 50, "the echo target should have reflected the whole run"
    written = every_byte_written(tmp_path / "out")
    assert {path.name for path in (tmp_path / "out").iterdir()} == {"report.json", "junit.xml", "index.html"}
    assert b"[REDACTED]" in written, "reflected credentials should be visible as redacted"
    for blob, where in ((written, "report files"), (result.stdout, "stdout"), (result.stderr, "stderr")):
        assert leaks(blob, canaries) == [], f"leaked into {where}"
    if mode != "aksk":
        report = json.loads((tmp_path / "out" / "report.json").read_text())
        assert report["target"]["base_url"].startswith("http://***@127.0.0.1:")
        assert "--base-url 'http://***@127.0.0.1:" in report["command"], "masked, then quoted for the shell"
        assert b"http://***@127.0.0.1:" in result.stderr
