"""Redaction knows every form a reflected secret takes: URL-encoded, JSON-escaped, HTML-escaped, base64 at any
alignment, hex in either case; and userinfo in URLs is masked."""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from collections.abc import Callable
from unittest import mock
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.support import redaction
from conformance.support.redaction import (
    _ESCAPE_MARKS,
    MASK,
    Redactor,
    _byte,
    encoded_forms,
    mask_signatures,
    mask_userinfo,
    proxy_secrets,
    userinfo_secrets,
)

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


# -- the quick test before the full pattern -----------------------------------------------------------------------
#
# Most bodies skip the full pattern: it runs only where a byte of a secret may be escaped (an escape begins at a mark:
# % \ & +) or where a plain form of a secret is. These tests prove the skipped bodies are exactly those the full
# pattern would have left alone.

SECRETS = [
    TOKEN,
    "HPUAEXAMPLEAK0000001",
    "9f86d081884c7d65",
    "pässwörd",
]
MARKS = tuple(mark.decode() for mark in _ESCAPE_MARKS)


@functools.cache
def written(value: int, fold: bool) -> st.SearchStrategy[bytes]:
    """Every way the full pattern accepts one byte of a form to be written."""
    return st.from_regex(re.compile(_byte(value, fold)), fullmatch=True)


@given(st.integers(0, 255), st.booleans(), st.data())
def test_every_way_to_write_a_byte_but_itself_begins_with_a_mark(value: int, fold: bool, data: st.DataObject) -> None:
    shown = data.draw(written(value, fold))
    itself = bytes([value])
    plain = {itself, itself.lower(), itself.upper()} if fold else {itself}
    assert shown in plain or shown.startswith(_ESCAPE_MARKS)


@st.composite
def reflected(draw: st.DrawFn, secret: str) -> bytes:
    """One form of the secret with each byte written in any way the full pattern accepts."""
    form, fold = draw(st.sampled_from(encoded_forms(secret.encode())))
    return b"".join(draw(written(value, fold)) for value in form)


def bodies(secret: str) -> st.SearchStrategy[bytes]:
    """Text around secrets: reflected or plain, whole or cut short, among JSON escapes and other marks."""
    noise = st.lists(st.sampled_from([*MARKS, '"', "\\u0000", "\\n", "x", "é", "%2", "&#", "0"]), max_size=6)
    pieces = st.one_of(
        reflected(secret),
        reflected(secret).map(lambda shown: shown[: len(shown) // 2]),
        st.sampled_from([secret.encode(), secret.encode().hex().upper().encode()]),
        noise.map(lambda parts: "".join(parts).encode()),
    )
    # Past redaction._ONE_SEARCH_BELOW or not: a short text is searched with one pattern, a long one form by form.
    padding = st.sampled_from([b"", b"y" * 200])
    return st.tuples(padding, st.lists(pieces, max_size=6).map(b"".join)).map(b"".join)


@given(st.sampled_from(SECRETS).flatmap(lambda secret: st.tuples(st.just(secret), bodies(secret))))
def test_what_skips_the_full_pattern_is_what_the_full_pattern_leaves_alone(case: tuple[str, bytes]) -> None:
    secret, body = case
    redactor = Redactor([secret])
    with mock.patch.object(Redactor, "_may_hold_a_secret", lambda self, raw: True):
        expected = redactor.data(body), redactor.text(body.decode("utf-8", "replace"))
    assert (redactor.data(body), redactor.text(body.decode("utf-8", "replace"))) == expected


def test_a_body_whose_only_escapes_are_none_of_a_secret_skips_the_full_pattern() -> None:
    redactor = Redactor(["HPUAEXAMPLEAK0000001"])
    body = json.dumps({"migration_tasks": ['"\\x', "\ud800", "a+b", "50%", "&"]}).encode()
    with mock.patch.object(redaction, "_pattern", mock.Mock(side_effect=AssertionError("full pattern"))):
        assert redactor.data(body) == body


def test_the_full_pattern_is_compiled_only_once_a_text_may_hold_a_secret_and_once_per_set_of_secrets() -> None:
    """Compiling it takes about a quarter of a second: a run whose target never reflects a secret never pays it."""
    secrets = ["HPUAEXAMPLEAK0000002", "a-secret-key-of-the-pattern-test"]
    redaction._pattern.cache_clear()
    redactor = Redactor(secrets)
    assert redactor.text("nothing secret here") == "nothing secret here" and redaction._pattern.cache_info().misses == 0
    assert Redactor([]).text("%2B HPUAEXAMPLEAK0000002") == "%2B HPUAEXAMPLEAK0000002"
    assert redaction._pattern.cache_info().misses == 0, "no secret set: nothing to compile"
    assert redactor.text("x HPUAEXAMPLEAK0000002 y") == f"x {MASK} y"
    assert Redactor(reversed(secrets)).data(b"a-secret-key-of-the-pattern-test") == MASK.encode()
    assert redaction._pattern.cache_info().misses == 1


#: Ways to escape one byte, each as a reflecting target would write it.
ONE_BYTE_ESCAPES: dict[str, Callable[[int], str]] = {
    "percent": lambda b: f"%{b:02X}",
    "percent encoded again": lambda b: f"%25{b:02x}",
    "JSON unicode escape": lambda b: f"\\u{b:04x}",
    "JSON unicode escape inside JSON": lambda b: f"\\\\u{b:04X}",
    "repr hex escape": lambda b: f"\\x{b:02x}",
    "HTML decimal": lambda b: f"&#{b};",
    "HTML hex": lambda b: f"&#x{b:X};",
    "JSON or repr short escape": lambda b: "\\" + {"/": "/", '"': '"', "\\": "\\", "\n": "n"}.get(chr(b), chr(b)),
    "quote_plus": lambda b: "+" if b == 0x20 else chr(b),
    "HTML named": lambda b: html.escape(chr(b)),
}


@pytest.mark.parametrize("secret", [TOKEN, 'open "sesame"/42 now'], ids=["with marks", "without marks"])
@pytest.mark.parametrize("escape", ONE_BYTE_ESCAPES.values(), ids=ONE_BYTE_ESCAPES.keys())
def test_a_secret_with_one_byte_escaped_is_redacted_as_by_the_full_pattern(
    secret: str, escape: Callable[[int], str]
) -> None:
    redactor = Redactor([secret])
    masked = 0
    for at, value in enumerate(secret.encode()):
        shown = f"<{secret[:at]}{escape(value)}{secret[at + 1 :]}>"
        with mock.patch.object(Redactor, "_may_hold_a_secret", lambda self, raw: True):
            expected = redactor.text(shown)
        assert redactor.text(shown) == expected
        masked += expected == f"<{MASK}>"
    assert masked  # the escape is one the full pattern knows, for some byte at least


def test_the_userinfo_of_every_proxy_variable_is_a_secret_and_no_proxy_is_not() -> None:
    env = {
        "HTTPS_PROXY": "http://ci-user:s3cret%40pw@proxy.corp:3128",
        "http_proxy": "http://other:pw-two@10.0.0.1:8080",
        "FTP_PROXY": "http://ftpuser:ftp-pw@proxy",
        "NO_PROXY": "http://not:a-proxy@host",
        "PATH": "http://path:not-a-proxy@x",
        "ALL_PROXY": "socks5://proxy.corp:1080",
    }
    found = proxy_secrets(env)
    assert {"ci-user:s3cret%40pw", "ci-user:s3cret@pw", "s3cret@pw", "other:pw-two", "ftpuser:ftp-pw"} <= set(found)
    assert not {"not:a-proxy", "path:not-a-proxy"} & set(found)
    basic = base64.b64encode(b"ci-user:s3cret@pw").decode()
    echoed = f"proxy-authorization: Basic {basic}; via http://ci-user:s3cret%40pw@proxy.corp:3128"
    redacted = Redactor(found).text(echoed)
    assert basic not in redacted and "s3cret" not in redacted
    assert redacted.startswith(f"proxy-authorization: Basic {MASK}") and redacted.endswith("http://***@proxy.corp:3128")


SIGNATURE = "9f" * 32


@pytest.mark.parametrize(
    "reflected",
    [
        f"SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-sdk-date, Signature={SIGNATURE}",
        json.dumps({"authorization": f"SDK-HMAC-SHA256 Access=AK, Signature={SIGNATURE}"}),
        json.dumps({"Signature": SIGNATURE.upper()}),
        json.dumps(json.dumps({"signature": SIGNATURE})),
        quote(f"Signature={SIGNATURE}"),
        html.escape(f'signature="{SIGNATURE}"'),
        f"Signature&#61;{SIGNATURE}",
        json.dumps(f"Signature={SIGNATURE}", ensure_ascii=True).replace("=", "\\u003d"),
    ],
    ids=["header", "json", "json key, upper case", "json in json", "url-encoded", "html", "html entity", "\\u003d"],
)
def test_a_reflected_request_signature_is_masked_in_any_escaping(reflected: str) -> None:
    redacted = Redactor().text(f"the gateway said: {reflected}")
    assert SIGNATURE not in redacted.lower() and MASK in redacted
    assert Redactor().data(reflected.encode()) == redacted.removeprefix("the gateway said: ").encode()


def test_only_a_whole_signature_after_its_name_is_masked() -> None:
    assert mask_signatures(f"sha256 {SIGNATURE}".encode()) == f"sha256 {SIGNATURE}".encode()
    assert mask_signatures(f"Signature={SIGNATURE}0".encode()) == f"Signature={SIGNATURE}0".encode()
    assert mask_signatures(f"Signature={SIGNATURE[:40]}".encode()) == f"Signature={SIGNATURE[:40]}".encode()
