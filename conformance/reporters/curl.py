"""The curl command that sends a recorded request again, for the report page.

An embedded run's reference listened on a port that is gone, and signed with keys nobody else ever had: its
requests are replayed against ``dcs-conformance serve`` started as the run had it (the same seed, so the same
tasks; the same faults and variants; no authentication), on a port of its own.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.config import table
from conformance.judging.results import MAX_BODY_CHARS
from conformance.support.redaction import MASK

#: Headers curl computes itself, or that only describe the suite's own connection.
HOP_BY_HOP = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "keep-alive"})
#: What to send instead of a masked credential: a shell variable, expanded by the shell (hence double quotes).
TOKEN_PLACEHOLDERS = {
    "x-auth-token": ("X-Auth-Token", table.environment()["auth_token"]),
    "x-security-token": ("X-Security-Token", "DCS_SECURITY_TOKEN"),
    "x-subject-token": ("X-Subject-Token", "DCS_SUBJECT_TOKEN"),
}
AUTHORIZATION_PLACEHOLDER = "Authorization: <SDK-HMAC-SHA256 signature: sign with CLOUD_SDK_AK/CLOUD_SDK_SK>"
#: Where ``serve`` listens by default: the replay of an embedded run's request goes there.
SERVE_BASE = "http://127.0.0.1:18080"
#: The credentials an embedded run used, which only that run knew: ``serve`` replays without authentication.
EMBEDDED_AUTH = frozenset({"authorization", "x-sdk-date", "x-auth-token"})
#: The run's flags for the reference's seeded tasks, and serve's for the same.
SEEDED = {
    table.get("embedded_restartable").flag_name: "--restartable",
    table.get("embedded_not_restartable").flag_name: "--not-restartable",
}


@dataclass(frozen=True)
class Replay:
    """How an embedded run's requests are sent again: the serve command that stands in for its reference."""

    serve: str


def replay_for(report: Any) -> Replay | None:
    """For an embedded run's report, the ``serve`` command that seeds the very tasks its reference held; None for a
    remote target, whose own URL is replayed."""
    target = report.get("target") or {}
    seed = report.get("seed")
    if not target.get("embedded") or not isinstance(seed, int) or isinstance(seed, bool):
        return None  # a hand-edited report's seed is no command to print
    # serve takes the seed, the faults and the variants under the run's own flag names.
    parts = ["dcs-conformance", "serve", table.get("seed").flag_name, str(seed)]
    try:
        words = shlex.split(str(report.get("command") or ""))
    except ValueError:
        words = []
    for here, word in enumerate(words[:-1]):
        if word in SEEDED and words[here + 1].isdigit():
            parts += [SEEDED[word], words[here + 1]]
    for setting, names in (("fault", target.get("faults")), ("variant", target.get("variants"))):
        for name in names or []:
            parts += [table.get(setting).flag_name, str(name)]
    return Replay(shlex.join(parts))


def curl_command(
    method: str,
    url: str,
    headers: dict[str, str],
    body: str | None,
    truncated_chars: int = 0,
    replay: Replay | None = None,
) -> tuple[str, list[str]]:
    """A shell command that sends the recorded request again, and notes on what the reader must supply.

    Hop-by-hop headers are left to curl; masked credentials become placeholders (a shell variable for tokens, a
    reminder to sign for AK/SK, since a signature covers X-Sdk-Date and cannot be replayed anyway). A body that
    report.json cut (``truncated_chars`` left out) is sent as far as it was kept, and a note says so. With
    ``replay`` (an embedded run), the request goes to ``serve`` on its default port, without the run's credentials."""
    notes: list[str] = []
    if replay is not None:
        parts = urlsplit(url)
        url = SERVE_BASE + parts.path + (f"?{parts.query}" if parts.query else "")
        notes.append(f"The run judged its embedded reference: start it as the run had it first, {replay.serve}")
    lines = [f"curl -sS -i -X {shlex.quote(method or 'GET')} {shlex.quote(url)}"]
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in HOP_BY_HOP or (replay is not None and lowered in EMBEDDED_AUTH):
            continue
        if MASK not in value:
            lines.append(f"-H {shlex.quote(f'{name}: {value}')}")
        elif lowered in TOKEN_PLACEHOLDERS:
            canonical, variable = TOKEN_PLACEHOLDERS[lowered]
            lines.append(f'-H "{canonical}: ${variable}"')
            notes.append(f"Set {variable} to a valid token before running it.")
        elif lowered == "authorization":
            lines.append(f"-H {shlex.quote(AUTHORIZATION_PLACEHOLDER)}")
            notes.append(
                "The request was signed with AK/SK (SDK-HMAC-SHA256): sign it again with your CLOUD_SDK_AK and "
                "CLOUD_SDK_SK and a fresh X-Sdk-Date, e.g. with the official SDK's signer."
            )
        else:
            lines.append(f"-H {shlex.quote(f'{name}: <{name}, redacted in the report>')}")
            notes.append(f"Supply the {name} header; its value was redacted.")
    if body is not None:
        if truncated_chars:
            body = body[:MAX_BODY_CHARS]
            notes.append(f"The request body was cut in report.json ({truncated_chars} characters left out).")
        if "\x00" in body:
            notes.append("The body contains NUL characters, which a shell argument cannot carry.")
            body = body.replace("\x00", "")
        lines.append(f"--data-binary {shlex.quote(body)}")
    return " \\\n  ".join(lines), list(dict.fromkeys(notes))
