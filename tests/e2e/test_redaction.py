"""Credentials never leave the client: a run with canary credentials against an auth-enforcing reference server
writes none of them to any file or to the terminal."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store
from tests.conftest import clean_env
from tests.hostile import HostileServer

pytestmark = pytest.mark.e2e

TOKEN = "canary-token-7c3e9d41f0"
READONLY_TOKEN = "canary-readonly-5b2a8e66c1"
AK = "CANARYAK3F9D2B7E41"
SK = "canary-secret-key-a8d4f1c9e2b7"
READONLY_AK = "CANARYROAK9E1C4D"
READONLY_SK = "canary-readonly-secret-0f6b3a"


def every_byte_written(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


@pytest.mark.parametrize("mode", ["token", "aksk"])
def test_no_credential_appears_in_reports_or_terminal_output(tmp_path: Path, mode: str) -> None:
    store, _ = seed_store(seed=5)
    if mode == "token":
        policy = AuthPolicy(mode=AuthMode.TOKEN, token=TOKEN, readonly_token=READONLY_TOKEN)
        env_creds = {"DCS_AUTH_TOKEN": TOKEN}
        flags = ["--readonly-token", READONLY_TOKEN]
        canaries = [TOKEN, READONLY_TOKEN]
    else:
        policy = AuthPolicy(mode=AuthMode.AKSK, keys={AK: SK}, readonly_keys={READONLY_AK: READONLY_SK})
        env_creds = {"CLOUD_SDK_AK": AK, "CLOUD_SDK_SK": SK}
        flags = ["--readonly-ak", READONLY_AK, "--readonly-sk", READONLY_SK]
        canaries = [AK, SK, READONLY_AK, READONLY_SK]
    env = clean_env(**env_creds)
    with BackgroundServer(create_app(store, policy)) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "conformance",
                "run",
                "--base-url",
                server.base_url,
                "--project-id",
                "p",
                "--seed",
                "6",
                "--max-examples",
                "20",
                "--certify",
                "--report-dir",
                "out",
                *flags,
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=300,
        )
    assert result.returncode in (0, 4), result.stdout.decode() + result.stderr.decode()
    written = every_byte_written(tmp_path / "out")
    assert b"[REDACTED]" in written, "the credential headers should be visible as redacted"
    for canary in canaries:
        for blob, where in ((written, "report files"), (result.stdout, "stdout"), (result.stderr, "stderr")):
            assert canary.encode() not in blob, f"{canary} leaked into {where}"
    report = (tmp_path / "out" / "report.json").read_text()
    assert '"BR-REQ-020"' in report and '"passed"' in report


PROXY_USER, PROXY_PASSWORD = "proxyuser-7e1d", "proxy-pass-canary-4b9c"


def test_a_proxy_that_echoes_its_request_headers_gets_no_userinfo_into_any_file_or_output(tmp_path: Path) -> None:
    """HTTP_PROXY=http://user:pw@proxy: httpx sends the proxy ``Proxy-Authorization: Basic base64(user:pw)``, and a
    proxy that echoes what it was sent (here into every body and an X-Echo header) hands it back on every answer."""
    userinfo = f"{PROXY_USER}:{PROXY_PASSWORD}"
    basic = base64.b64encode(userinfo.encode()).decode()
    with HostileServer("echo-headers") as proxy:
        port = proxy.base_url.rsplit(":", 1)[1]
        env = clean_env("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_", "https_", "all_", "no_")
        env |= {"HTTP_PROXY": f"http://{userinfo}@127.0.0.1:{port}", "GITHUB_ACTIONS": "true"}
        env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "step-summary.md")
        result = subprocess.run(
            [
                *(sys.executable, "-m", "conformance", "run", "--base-url", "http://dcs.proxied.invalid"),
                *("--project-id", "p", "--seed", "3", "--max-examples", "5", "--max-requests", "60"),
                *("--report-dir", "out", "--summary-md", "summary.md"),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=120,
        )
        heads = proxy.heads
    assert heads and all(head.get("proxy-authorization") == f"Basic {basic}" for head in heads), "sent to the proxy"
    assert result.returncode in (0, 1, 4), result.stdout.decode() + result.stderr.decode()
    written = every_byte_written(tmp_path)
    assert b"echo" in (tmp_path / "out" / "report.json").read_bytes(), "the echoes were recorded, redacted"
    for canary in (userinfo, PROXY_USER, PROXY_PASSWORD, basic, basic.rstrip("=")):
        for blob, where in ((written, "files"), (result.stdout, "stdout"), (result.stderr, "stderr")):
            assert canary.encode() not in blob, f"{canary} leaked into {where}"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["transport"]["proxy"] == f"http://***@127.0.0.1:{port}"
