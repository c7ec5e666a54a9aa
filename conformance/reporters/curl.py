"""The curl command that sends a recorded request again, for the report page."""

from __future__ import annotations

import shlex

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


def curl_command(
    method: str, url: str, headers: dict[str, str], body: str | None, truncated_chars: int = 0
) -> tuple[str, list[str]]:
    """A shell command that sends the recorded request again, and notes on what the reader must supply.

    Hop-by-hop headers are left to curl; masked credentials become placeholders (a shell variable for tokens, a
    reminder to sign for AK/SK, since a signature covers X-Sdk-Date and cannot be replayed anyway). A body that
    report.json cut (``truncated_chars`` left out) is sent as far as it was kept, and a note says so."""
    lines = [f"curl -sS -i -X {shlex.quote(method or 'GET')} {shlex.quote(url)}"]
    notes: list[str] = []
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in HOP_BY_HOP:
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
