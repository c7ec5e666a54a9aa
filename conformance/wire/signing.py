"""Huawei Cloud AK/SK request signing (``SDK-HMAC-SHA256``), byte for byte as ``huaweicloudsdkcore`` signs.

The suite needs both halves: a client that signs exactly like the vendor SDK (so a server cannot tell our
requests from the SDK's), and a server-side verifier that accepts whatever the SDK sends and refuses what the
gateway refuses. Both are built from the same canonicalisation helpers so they cannot drift apart.

Behaviour copied from ``huaweicloudsdkcore.signer.signer.Signer`` that is easy to get wrong:

* Every header whose name has no ``_`` is signed, including ``Host``, ``User-Agent`` and ``Content-Type``.
* The canonical URI is the percent-*decoded* path split on ``/`` with each segment re-encoded with
  ``quote(segment, safe='~')``, plus a trailing ``/``; an encoded slash (``%2F``) therefore canonicalises to ``/``.
* The canonical query sorts the *decoded* ``(key, value)`` pairs, then encodes each side with ``quote(safe='~')``,
  so a space is ``%20`` and a literal ``+`` is ``%2B``.
* An empty body hashes to ``sha256(b"")``. A non-empty body whose ``Content-Type`` is neither JSON nor BSON is not
  hashed: the SDK adds ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` and signs that literal instead of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote, urlsplit

from conformance.support.errors import RequestSignatureError as SignatureError

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)

DATE_HEADER = "X-Sdk-Date"
CONTENT_HASH_HEADER = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# Content types the SDK hashes; any other declared type makes it sign UNSIGNED-PAYLOAD instead of the body.
_HASHED_CONTENT_TYPES = ("application/json", "application/bson")

_AUTHORIZATION = re.compile(
    r"Access=(?P<ak>[^\s,]+),\s*SignedHeaders=(?P<signed>[^\s,]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    ak: str,
    sk: str,
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """Return a NEW dict: the given headers plus X-Sdk-Date (unless already present) and Authorization.

    The Host header is signed (the gateway routes on it), so it is derived from the URL's authority when absent and
    returned too. As in the SDK, an existing X-Sdk-Date wins over ``now`` (so a caller can pin the date), and a
    non-JSON/BSON Content-Type adds ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD``. Any existing Authorization is
    replaced rather than signed, so a request can be re-signed. ``now`` defaults to the current time; a naive value
    is taken as UTC, like the SDK's ``datetime.utcnow()``.

    Raises ValueError when the URL has no host, header names collide case-insensitively, or a given X-Sdk-Date is
    not in DATE_FORMAT; the SDK would sign such requests ambiguously or not at all.
    """
    signed = dict(headers)
    _drop_header(signed, "Authorization")
    names = [name.lower() for name in signed]
    if len(set(names)) != len(names):
        raise ValueError("header names must be unique ignoring case")

    content_type = _get_header(signed, "Content-Type")
    if content_type is not None and not content_type.startswith(_HASHED_CONTENT_TYPES):
        _drop_header(signed, CONTENT_HASH_HEADER)
        signed[CONTENT_HASH_HEADER] = UNSIGNED_PAYLOAD

    date = _get_header(signed, DATE_HEADER)
    if date is None:
        date = _as_utc(now or datetime.now(UTC)).strftime(DATE_FORMAT)
        signed[DATE_HEADER] = date
    else:
        _parse_date(date)

    parts = urlsplit(url)
    if _get_header(signed, "Host") is None:
        host = parts.netloc.rpartition("@")[2]
        if not host:
            raise ValueError(f"cannot derive a Host header from {url!r}")
        signed["Host"] = host

    canonical_headers = sorted((name.lower(), value) for name, value in signed.items() if "_" not in name)
    signed_names = ";".join(name for name, _ in canonical_headers)
    payload_hash = _payload_hash(body, _get_header(signed, CONTENT_HASH_HEADER))
    canonical = _canonical_request(method, parts.path, parts.query, canonical_headers, payload_hash)
    signature = _signature(sk, date, canonical)
    signed["Authorization"] = f"{ALGORITHM} Access={ak}, SignedHeaders={signed_names}, Signature={signature}"
    return signed


def verify(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Callable[[str], str | None],
    *,
    now: datetime | None = None,
    max_skew: timedelta = MAX_CLOCK_SKEW,
) -> str:
    """Check a received request; return the AK that signed it, or raise SignatureError saying why not.

    ``path`` is the raw request path (percent-encoded as received) and ``query`` the raw query string, because the
    canonical form is computed from what was on the wire, not from a framework's decoded view. Header lookup ignores
    case. Only headers named in SignedHeaders enter the canonical request, so proxies may add unsigned headers.
    ``secret_for`` maps an AK to its SK, or None when the AK is unknown. ``now`` defaults to the current time (naive
    means UTC); dates more than ``max_skew`` away from it either way are refused, as the gateway does.

    A signed ``X-Sdk-Content-Sha256`` replaces the body hash as in the SDK; ``UNSIGNED-PAYLOAD`` leaves the body
    unprotected (the client's declared choice), while any other value must equal the body's actual SHA-256.
    """
    received = {name.lower(): value for name, value in headers.items()}
    authorization = received.get("authorization")
    if authorization is None:
        raise SignatureError("missing Authorization header")
    algorithm, _, credentials = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError(f"unsupported signing algorithm {algorithm[:40]!r}; expected {ALGORITHM}")
    fields = _AUTHORIZATION.fullmatch(credentials.strip())
    if fields is None:
        raise SignatureError(
            "malformed Authorization header; expected "
            f"'{ALGORITHM} Access=<AK>, SignedHeaders=<a;b;c>, Signature=<64 lowercase hex digits>'"
        )
    ak = fields["ak"]
    sk = secret_for(ak)
    if sk is None:
        raise SignatureError(f"unknown access key {ak[:64]!r}")

    date = received.get(DATE_HEADER.lower())
    if date is None:
        raise SignatureError(f"missing {DATE_HEADER} header")
    try:
        signed_at = _parse_date(date)
    except ValueError as exc:
        raise SignatureError(str(exc)) from None
    skew = signed_at - _as_utc(now or datetime.now(UTC))
    if abs(skew) > max_skew:
        raise SignatureError(
            f"{DATE_HEADER} {date} is {abs(skew)} {'ahead of' if skew > timedelta(0) else 'behind'} the server clock; "
            f"at most {max_skew} is allowed"
        )

    signed_names = fields["signed"].split(";")
    missing = [name for name in signed_names if name.lower() not in received]
    if missing:
        raise SignatureError(f"signed header(s) missing from request: {', '.join(missing)}")
    canonical_headers = [(name, received[name.lower()]) for name in signed_names]

    signed_lower = {name.lower() for name in signed_names}
    content_hash = received.get(CONTENT_HASH_HEADER.lower()) if CONTENT_HASH_HEADER.lower() in signed_lower else None
    payload_hash = _payload_hash(body, content_hash)
    if body and payload_hash not in (UNSIGNED_PAYLOAD, hashlib.sha256(body).hexdigest()):
        raise SignatureError(f"body does not match the signed {CONTENT_HASH_HEADER}")

    canonical = _canonical_request(method, path, query, canonical_headers, payload_hash)
    if not hmac.compare_digest(_signature(sk, date, canonical), fields["signature"]):
        raise SignatureError("signature mismatch: the request differs from what was signed, or the SK is wrong")
    return ak


def payload_unsigned(headers: Mapping[str, str]) -> bool:
    """Whether a request's signature declares its body unsigned: a signed ``X-Sdk-Content-Sha256`` of
    ``UNSIGNED-PAYLOAD`` (the SDK's choice for content types it does not hash). Such a body may have been
    changed in transit, so a server must not act on it."""
    received = {name.lower(): value for name, value in headers.items()}
    if received.get(CONTENT_HASH_HEADER.lower(), "").strip() != UNSIGNED_PAYLOAD:
        return False
    fields = _AUTHORIZATION.search(received.get("authorization", ""))
    return fields is not None and CONTENT_HASH_HEADER.lower() in fields["signed"].lower().split(";")


def _get_header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup, because callers spell header names however they like."""
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _drop_header(headers: dict[str, str], name: str) -> None:
    """Remove every spelling of ``name`` so a replacement never coexists with (and gets signed beside) the old one."""
    for key in [key for key in headers if key.lower() == name.lower()]:
        del headers[key]


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are UTC (as the SDK's ``utcnow()``); aware ones are converted so skew maths is exact."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse_date(value: str) -> datetime:
    """Parse X-Sdk-Date strictly: strptime alone accepts variants (e.g. one-digit months) that re-format differently,
    and the raw value is what goes into the string to sign."""
    invalid = ValueError(f"invalid {DATE_HEADER} {value[:40]!r}; expected UTC in the form YYYYMMDDTHHMMSSZ")
    try:
        parsed = datetime.strptime(value, DATE_FORMAT)
    except ValueError:
        raise invalid from None
    if parsed.strftime(DATE_FORMAT) != value:
        raise invalid
    return parsed.replace(tzinfo=UTC)


def _encode(text: str) -> str:
    """The SDK's percent-encoding: everything except unreserved characters, so '/', '+' and ' ' are all escaped."""
    return quote(text, safe="~")


def _canonical_uri(raw_path: str) -> str:
    """Decode then re-encode each segment so equivalent spellings of a path sign identically; always ends in '/'."""
    uri = "/".join(_encode(segment) for segment in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def _canonical_query(raw_query: str) -> str:
    """Sort the decoded pairs (as the SDK sorts its parameter tuples), then encode; a bare key means an empty value."""
    pairs = []
    for item in raw_query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs))


def _payload_hash(body: bytes, content_hash: str | None) -> str:
    """An empty body always hashes to sha256(b''); otherwise a declared X-Sdk-Content-Sha256 stands in for the hash."""
    if not body:
        return hashlib.sha256(b"").hexdigest()
    return content_hash or hashlib.sha256(body).hexdigest()


def _canonical_request(
    method: str, raw_path: str, raw_query: str, headers: list[tuple[str, str]], payload_hash: str
) -> str:
    """Assemble the six canonical-request lines; ``headers`` are (signed name, value) in SignedHeaders order."""
    return "\n".join(
        (
            method.upper(),
            _canonical_uri(raw_path),
            _canonical_query(raw_query),
            "".join(f"{name}:{value.strip()}\n" for name, value in headers),
            ";".join(name for name, _ in headers),
            payload_hash,
        )
    )


def _signature(sk: str, date: str, canonical_request: str) -> str:
    """HMAC-SHA256 of the string to sign, keyed by the SK, as lowercase hex."""
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{date}\n{digest}"
    return hmac.new(sk.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
