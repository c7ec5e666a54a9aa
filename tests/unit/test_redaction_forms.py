"""Redaction knows every form a reflected secret takes: URL-encoded, JSON-escaped, HTML-escaped, base64 at any
alignment, hex in either case; and userinfo in URLs is masked."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest

from conformance.redaction import MASK, Redactor, mask_userinfo, userinfo_secrets

TOKEN = 'MIIC+tok/EN=="\\ space'


def base64_views(secret: bytes) -> list[str]:
    """The secret base64-encoded inside longer strings, at each of the three alignments, both alphabets."""
    views = []
    for prefix in (b"", b"a", b"ab"):
        for suffix in (b"", b"z", b"zz"):
            views.append(base64.b64encode(prefix + secret + suffix).decode())
            views.append(base64.urlsafe_b64encode(prefix + secret + suffix).decode())
    return views


FORMS = {
    "exact": TOKEN,
    "quote": quote(TOKEN, safe=""),
    "quote keeping slashes": quote(TOKEN),
    "quote_plus": quote_plus(TOKEN),
    "lower-case percent hex": "".join(f"%{b:02x}" for b in TOKEN.encode()),
    "JSON-escaped": json.dumps(TOKEN)[1:-1],
    "JSON-escaped slashes": json.dumps(TOKEN)[1:-1].replace("/", "\\/"),
    "JSON unicode escapes": "".join(f"\\u{ord(c):04x}" for c in TOKEN),
    "HTML-escaped": html.escape(TOKEN),
    "hex": TOKEN.encode().hex(),
    "HEX": TOKEN.encode().hex().upper(),
    "bytes repr": repr(TOKEN.encode())[2:-1],
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_every_encoding_of_a_secret_inside_text_is_redacted(form: str) -> None:
    redacted = Redactor([TOKEN]).text(f"echo: <{form}> end")
    assert form not in redacted
    assert MASK in redacted
    assert redacted.startswith("echo: <") and redacted.endswith("> end")


@pytest.mark.parametrize("encoded", base64_views(TOKEN.encode()))
def test_base64_of_a_secret_is_redacted_at_every_alignment_in_both_alphabets(encoded: str) -> None:
    redacted = Redactor([TOKEN]).data(encoded.encode())
    assert redacted is not None and MASK.encode() in redacted
    # What survives are the few characters that also depend on the neighbouring bytes.
    assert len(redacted.replace(MASK.encode(), b"").rstrip(b"=")) <= 8


def test_bytes_and_headers_are_redacted_like_text() -> None:
    redactor = Redactor([TOKEN])
    body = json.dumps({"echo": {"x-auth-token": TOKEN}}).encode()
    assert TOKEN.encode() not in (redactor.data(body) or b"")
    assert json.loads(redactor.data(body) or b"")["echo"]["x-auth-token"] == MASK
    headers = redactor.headers({"X-Auth-Token": TOKEN, "X-Echo": quote(TOKEN), "Proxy-Authorization": "Basic x"})
    assert headers == {"X-Auth-Token": MASK, "X-Echo": MASK, "Proxy-Authorization": MASK}


def test_redaction_leaves_other_text_and_short_secrets_alone() -> None:
    redactor = Redactor(["abc", None, ""])
    assert redactor.text("abc abc") == "abc abc"
    assert Redactor([TOKEN]).text("nothing secret here, 0123456789abcdef") == "nothing secret here, 0123456789abcdef"


def test_lone_surrogates_and_non_utf8_bytes_survive_redaction() -> None:
    redactor = Redactor([TOKEN])
    assert redactor.text("\ud800" + TOKEN) == "\ud800" + MASK
    assert redactor.data(b"\xff" + TOKEN.encode()) == b"\xff" + MASK.encode()


def test_userinfo_in_any_url_is_masked() -> None:
    assert mask_userinfo("GET http://user:pw@host:8080/x and https://tok@h2/") == (
        "GET http://***@host:8080/x and https://***@h2/"
    )
    assert mask_userinfo("mail me at someone@example.com") == "mail me at someone@example.com"
    assert Redactor().text("http://u:p%40ss@h") == "http://***@h"


def test_userinfo_parts_are_secrets_raw_and_decoded() -> None:
    assert set(userinfo_secrets("http://us%65r:p%40ss@host/")) == {
        "us%65r:p%40ss",
        "user:p@ss",
        "us%65r",
        "user",
        "p%40ss",
        "p@ss",
    }
    assert userinfo_secrets("http://host/") == []
    assert userinfo_secrets("http://[::1") == []
    basic = base64.b64encode(b"user:p@ss-word").decode()
    assert basic not in Redactor(userinfo_secrets("http://user:p%40ss-word@h")).text(f"Basic {basic}")
