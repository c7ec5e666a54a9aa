"""Secrets never leave the process: credential headers are masked, and every form a secret can take on its way back
to us is blotted out of text.

A target that reflects requests (echo servers, some gateways' error pages) hands the token back URL-encoded,
JSON-escaped, HTML-escaped, base64- or hex-encoded, inside a longer string. So each secret is matched in every such
form: the exact bytes, hex (either case), and base64 (standard and URL-safe, at each of the three alignments a secret
can have inside a longer encoded string); and within each of those, every character may arrive as itself or
escaped (``%2B``, ``\\u002b``, ``\\/``, ``\\x2b``, ``&#43;``...), so one pattern covers ``quote``, ``quote_plus``,
JSON, HTML and repr() output and any mixture of them. Userinfo in a URL (``http://user:pw@host``) is a credential
too: it is masked wherever a URL is written (``http://***@host``), and the userinfo of a proxy the environment names
(``HTTPS_PROXY=http://user:pw@proxy``) is a secret like a token: a proxy that echoes what it was sent hands back its
``Proxy-Authorization: Basic`` header, base64 of ``user:pw``. A reflected AK/SK request signature (``Signature=``
and 64 hex digits, the ``=`` in any escaping) is masked wherever it appears: within minutes it signs that request
again for anyone who replays it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import unquote, urlsplit

MASK = "[REDACTED]"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-auth-token", "x-security-token", "x-subject-token"}
)
#: Shorter secrets are not redacted: masking every "abc" would wreck the evidence and hide nothing worth hiding.
MIN_SECRET_CHARS = 4
#: Encoded forms (partial base64 in particular) shorter than this would blot out innocent text by chance.
MIN_FORM_CHARS = 8
USERINFO_MASK = "***"

#: ``Signature=<64 hex digits>`` as an SDK-HMAC-SHA256 Authorization header carries it, reflected as it is, in JSON
#: (``"signature": "..."``, ``\u003d``), URL-encoded (``%3D``) or HTML-escaped (``&#61;``).
_SIGNATURE_SEPARATOR = (
    rb"""(?:[\s"':=]|\\{1,7}(?:u00(?:3d|22|3a)|x3d|["'])|%(?:25)*(?:3d|22|3a|20)|&(?:#0*61|#x0*3d|quot);)"""
)
_SIGNATURE = re.compile(rb"(?i)(signature" + _SIGNATURE_SEPARATOR + rb"{1,8})[0-9a-f]{64}(?![0-9a-f])")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s\"'<>]*@")
_USERINFO_BYTES = re.compile(_USERINFO.pattern.encode())
_JSON_SHORT = {b'"': b'"', b"\\": b"\\", b"/": b"/", b"\b": b"b", b"\f": b"f", b"\n": b"n", b"\r": b"r", b"\t": b"t"}
_HTML_NAMED = {b'"': b"quot", b"&": b"amp", b"<": b"lt", b">": b"gt", b"'": b"apos"}
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def mask_userinfo(text: str) -> str:
    """``http://user:pw@host`` -> ``http://***@host``, wherever a URL appears in the text."""
    return _USERINFO.sub(lambda m: m.group(1) + USERINFO_MASK + "@", text)


def userinfo_secrets(url: str | None) -> list[str]:
    """The credentials a URL carries in its userinfo (whole, user and password; raw and percent-decoded)."""
    if not url:
        return []
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return []
    userinfo, at, _ = netloc.rpartition("@")
    if not at or not userinfo:
        return []
    user, _, password = userinfo.partition(":")
    return [value for raw in (userinfo, user, password) for value in (raw, unquote(raw)) if value]


def proxy_secrets(env: Mapping[str, str]) -> list[str]:
    """The credentials in the userinfo of every proxy the environment names (``HTTPS_PROXY``, ``http_proxy``,
    ``ALL_PROXY``, any ``*_PROXY`` variable, as urllib and httpx read them)."""
    return [
        secret
        for name, value in env.items()
        if name.lower().endswith("_proxy") and name.lower() != "no_proxy"
        for secret in userinfo_secrets(value)
    ]


def mask_signatures(value: bytes) -> bytes:
    """Every ``Signature=<64 hex digits>`` (in any escaping of the ``=``) with the digits masked."""
    if b"signature" not in value.lower():  # a plain search first: most text names no signature
        return value
    return _SIGNATURE.sub(lambda m: m.group(1) + MASK.encode(), value)


def _fold(hex_digits: str) -> bytes:
    """A hex string as a pattern matching either case."""
    return b"".join(f"[{c.lower()}{c.upper()}]".encode() if c.isalpha() else c.encode() for c in hex_digits)


#: The backslashes before an escape: one per layer of JSON (or repr) quoting, up to three layers deep.
_ESCAPES = rb"\\{1,7}"


def _byte(value: int, fold_case: bool) -> bytes:
    """Every way one byte of an encoded secret can appear: itself, or escaped by URL, JSON, HTML or repr(), also
    when quoted again (JSON inside JSON, a URL-encoded URL)."""
    char = bytes([value])
    literal = _fold(char.decode()) if fold_case and char.isalpha() else re.escape(char)
    percent = b"%(?:25)*" + _fold(f"{value:02x}")
    if value >= 0x80:
        return b"(?:" + literal + b"|" + percent + b")"
    if char == b"\\":
        # Doubled by each layer of quoting; longest first, so a following escaped quote keeps its own backslash.
        literal = rb"(?:\\{8}|\\{4}|\\{2}|\\)"
    elif char in (b'"', b"'"):
        literal = rb"(?:\\{7}|\\{3}|\\)?" + char
    hex2 = f"{value:02x}"
    alternatives = [
        literal,
        percent,
        _ESCAPES + b"u00" + _fold(hex2),
        _ESCAPES + b"x" + _fold(hex2),
        b"&#0*" + str(value).encode() + b";",
        b"&#[xX]0*" + _fold(f"{value:x}") + b";",
    ]
    if char in _JSON_SHORT and char not in (b'"', b"\\"):
        alternatives.append(_ESCAPES + re.escape(_JSON_SHORT[char]))
    if char == b" ":
        alternatives.append(rb"\+")
    if char in _HTML_NAMED:
        alternatives.append(b"&" + _HTML_NAMED[char] + b";")
    return b"(?:" + b"|".join(alternatives) + b")"


def encoded_forms(secret: bytes) -> list[tuple[bytes, bool]]:
    """(form, case-insensitive) for the secret: exact, hex, and the parts of its base64 encodings that the secret
    alone determines, whatever bytes surround it."""
    forms = [(secret, False), (secret.hex().encode(), True)]
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret)
        core = encoded[-(-8 * offset // 6) : 8 * (offset + len(secret)) // 6]
        forms += [(core, False), (core.translate(_URLSAFE), False)]
    unique = dict.fromkeys(forms)
    return [(form, fold) for form, fold in unique if form == secret or len(form) >= MIN_FORM_CHARS]


def _all_forms(secrets: tuple[str, ...]) -> dict[bytes, bool]:
    """Every form of every secret, and whether its case is ignored."""
    return {form: fold for secret in secrets for form, fold in encoded_forms(secret.encode("utf-8", "surrogatepass"))}


@lru_cache(maxsize=32)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[bytes] | None:
    """One regex for every form of every secret (compiling it takes a moment, so each set is compiled once)."""
    forms = _all_forms(secrets)
    if not forms:
        return None
    # Longest first, so a secret that contains another is masked whole.
    ordered = sorted(forms, key=len, reverse=True)
    return re.compile(b"|".join(b"".join(_byte(value, forms[form]) for value in form) for form in ordered))


#: Every way _byte allows to write a byte other than the byte itself (or its other case) begins with one of these:
#: URL %XX, JSON/repr backslashes, HTML &...;, + for a space.
_ESCAPE_MARKS = (b"%", b"\\", b"&", b"+")


@lru_cache(maxsize=32)
def _literal_forms(secrets: tuple[str, ...]) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """The forms of the secrets as plain bytes: those matched exactly, and those whose case does not matter
    (lower-cased)."""
    forms = _all_forms(secrets)
    return tuple(form for form, fold in forms.items() if not fold), tuple(
        form.lower() for form, fold in forms.items() if fold
    )


#: Below this many bytes one search of all the plain forms (_plain_forms) beats a search per form (about 0.2 us
#: against 7 for a header value); above it the per-form searches win (11 us against 37 for a 700-byte body): re
#: tries every form at every position, a substring search skips ahead.
_ONE_SEARCH_BELOW = 128


@lru_cache(maxsize=32)
def _plain_forms(secrets: tuple[str, ...]) -> re.Pattern[bytes]:
    """Any plain form of the secrets (_literal_forms: the exact ones as they are, the others in any case), as one
    pattern: for the short texts (header values, URLs), searched many times a request."""
    exact, caseless = _literal_forms(secrets)
    alternatives = [re.escape(form) for form in exact]
    if caseless:
        alternatives.append(b"(?i:" + b"|".join(re.escape(form) for form in caseless) + b")")
    return re.compile(b"|".join(alternatives))


@lru_cache(maxsize=32)
def _escaped_byte(secrets: tuple[str, ...]) -> re.Pattern[bytes] | None:
    """Any byte of any form of the secrets written in any way _byte allows, found only where it begins with one of
    the _ESCAPE_MARKS: where an escaped byte of a secret could be."""
    forms = _all_forms(secrets)
    written = sorted({(value, fold) for form, fold in forms.items() for value in form})
    if not written:
        return None
    marks = b"[" + b"".join(re.escape(mark) for mark in _ESCAPE_MARKS) + b"]"
    return re.compile(b"(?=" + marks + b")(?:" + b"|".join(_byte(value, fold) for value, fold in written) + b")")


class Redactor:
    """Blots secrets, in any of their forms, out of text, bytes and headers."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True))
        self._exact, self._caseless = _literal_forms(self._secrets) if self._secrets else ((), ())
        self._plain = _plain_forms(self._secrets) if self._secrets else None

    def _sub(self, raw: bytes) -> bytes:
        """``raw`` with every form of every secret masked. The full pattern takes a quarter of a second to compile,
        so it is compiled only here, once a body may hold a secret (most never do), and once per set of secrets
        (_pattern's cache): a Redactor made without secrets, or never shown one, compiles nothing."""
        if not self._secrets or not self._may_hold_a_secret(raw):
            return raw
        regex = _pattern(self._secrets)
        return raw if regex is None else regex.sub(MASK.encode(), raw)

    def _may_hold_a_secret(self, raw: bytes) -> bool:
        """A quick test that lets most bodies skip the (slow) full pattern. A match of the pattern writes each byte
        of a form as itself (in either case, where case does not matter) or escaped, and every escape begins with
        one of the _ESCAPE_MARKS. So unless a byte of some form is written escaped somewhere (a JSON body's \\" or
        \\u0000 is not, for a secret without a quote or a NUL), a secret can only appear as one of its plain forms,
        and those are found with a plain search."""
        if self._escaped(raw):
            return True
        if len(raw) < _ONE_SEARCH_BELOW:
            return self._plain is not None and self._plain.search(raw) is not None
        if any(form in raw for form in self._exact):
            return True
        lowered = raw.lower() if self._caseless else raw
        return any(form in lowered for form in self._caseless)

    def _escaped(self, raw: bytes) -> bool:
        """Whether some byte of some form of the secrets is written escaped in ``raw``."""
        if not any(mark in raw for mark in _ESCAPE_MARKS):
            return False
        escaped_byte = _escaped_byte(self._secrets)
        return escaped_byte is not None and escaped_byte.search(raw) is not None

    def text(self, value: str) -> str:
        raw = value.encode("utf-8", "surrogatepass")
        redacted = mask_signatures(self._sub(raw))
        if redacted != raw:
            value = redacted.decode("utf-8", "surrogatepass")
        return mask_userinfo(value) if "@" in value else value

    def data(self, value: bytes | None) -> bytes | None:
        if value is None:
            return None
        value = mask_signatures(self._sub(value))
        if b"@" in value:
            value = _USERINFO_BYTES.sub(lambda m: m.group(1) + USERINFO_MASK.encode() + b"@", value)
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: MASK if name.lower() in SECRET_HEADERS else self.text(value) for name, value in headers.items()}
