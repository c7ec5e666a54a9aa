"""OpenSSH SSHSIG signatures, interoperable with ``ssh-keygen -Y sign`` and ``ssh-keygen -Y verify``.

The certification bundle is signed in a form anybody can check with the stock OpenSSH client, without the suite
shelling out to ``ssh-keygen`` (which needs key files on disk, a terminal for passphrases, and gives only exit codes).
The formats follow OpenSSH's own sources (openssh-portable: PROTOCOL.sshsig, sshsig.c, sshbuf-misc.c, misc.c,
match.c, ssh-rsa.c, authfile.c, sshkey.c), checked against the behaviour of OpenSSH 9.2p1 (Debian 12), and
tests/unit/test_sshsig.py pins every claim below against the installed ssh-keygen, in both directions.

The armor is base64 of the raw blob wrapped at 70 columns (``sshbuf_dtob64``; PROTOCOL.sshsig says 76), each line
ending in a newline. The blob is ``"SSHSIG"``, version 1, the signer's public key, the namespace, an empty reserved
field, the hash algorithm (``sha512`` when signing; ``sha256`` is accepted) and the signature over ``"SSHSIG"``,
namespace, reserved, hash algorithm and H(message): the message is hashed in a stream, never held whole.

Supported keys: Ed25519, ECDSA on NIST P-256/P-384/P-521, and RSA from 1024 to 16384 bits (signed as
``rsa-sha2-512``; ``rsa-sha2-256`` accepted). Ed25519 and RSA signatures are byte-identical to ssh-keygen's.

Verification follows ``sig_verify``: armor, blob, version, hash algorithm and namespace before any data is read,
then the signature, then the allowed_signers policy (principal patterns with ``*``, ``?`` and ``!``, matched
case-sensitively; ``namespaces=``, ``valid-after=``, ``valid-before=``; a ``cert-authority`` line never matches a plain
key). Trailing bytes, negative mpints, NULs or non-UTF-8 in names and non-canonical base64 are refused.

Left out, or different from OpenSSH:

* Signatures made with certificates are refused, even where a ``cert-authority`` line would let ssh-keygen accept
  them. DSA, FIDO ``sk-*`` keys and XMSS can neither sign nor verify (lines for them in a shared allowed_signers file
  are parsed and never match).
* Encrypted private keys are refused (the suite signs unattended: a passphrase prompt would hang it); no ssh-agent.
* No revocation list, no ``find-principals``/``match-principals``/``check-novalidate``.
* Stricter than ssh-keygen: every allowed_signers line is parsed up front (ssh-keygen skips the lines of other
  principals unparsed), impossible dates such as ``20240230`` are errors, and so are times at or before the epoch.
* Without an identity (ssh-keygen always wants ``-I``), the signer's principals are every non-negated principal
  pattern of the lines that accept the key for the namespace at that time.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import os
import re
import struct
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeAlias, runtime_checkable

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import SSHPrivateKeyTypes
from cryptography.utils import CryptographyDeprecationWarning

from conformance.support.errors import AllowedSignersError as AllowedSignersError
from conformance.support.errors import BundleSignatureError as SignatureError
from conformance.support.errors import SignatureKeyError as SignatureKeyError
from conformance.support.errors import SSHSigError as SSHSigError

__all__ = [
    "AllowedSigner",
    "AllowedSignersError",
    "Message",
    "Readable",
    "SSHSigError",
    "SignatureError",
    "SignatureKeyError",
    "Signer",
    "SigningKey",
    "fingerprint_of",
    "load_private_key",
    "match_pattern_list",
    "parse_allowed_signers",
    "sign",
    "signature_key",
    "verify",
]

_MAGIC = b"SSHSIG"
_VERSION = 1
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"
# ssh-keygen always signs with sha512 (HASHALG_DEFAULT) and accepts both of these (HASHALG_ALLOWED).
_SIGN_HASH = "sha512"
_HASH_ALGORITHMS = frozenset({"sha256", "sha512"})
# sshsig.c RSA_SIGN_ALLOWED: legacy SHA-1 "ssh-rsa" signatures are refused.
_RSA_SIGNATURE_HASHES: dict[str, hashes.HashAlgorithm] = {
    "rsa-sha2-512": hashes.SHA512(),
    "rsa-sha2-256": hashes.SHA256(),
}
_RSA_SIGN_ALGORITHM = "rsa-sha2-512"
_MIN_RSA_BITS = 1024  # SSH_RSA_MINIMUM_MODULUS_SIZE: OpenSSH neither makes nor accepts smaller RSA signatures.
_MAX_RSA_BITS = 16384  # SSH_RSA_MAXIMUM_MODULUS_SIZE: larger keys are refused (and would be slow to check).
_ARMOR_COLUMNS = 70  # sshbuf_dtob64() wraps at 70 columns, although PROTOCOL.sshsig says 76.
_CHUNK = 1 << 16  # Streams are hashed in pieces of this size so a huge file never sits in memory.
_MAX_KEY_FILE = 1 << 20  # A private key is a few KiB; refusing more keeps a wrong path from reading a huge file.
_B64_WHITESPACE = re.compile(r"[ \t\n\v\f\r]")  # What b64_pton() skips (C isspace()).
_LINE_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class _Curve:
    """One ECDSA curve as SSH names it (RFC 5656) together with the hash its signatures use."""

    ssh_type: str
    ssh_name: str
    curve: ec.EllipticCurve
    hash: hashes.HashAlgorithm


_CURVES = (
    _Curve("ecdsa-sha2-nistp256", "nistp256", ec.SECP256R1(), hashes.SHA256()),
    _Curve("ecdsa-sha2-nistp384", "nistp384", ec.SECP384R1(), hashes.SHA384()),
    _Curve("ecdsa-sha2-nistp521", "nistp521", ec.SECP521R1(), hashes.SHA512()),
)
_CURVE_BY_TYPE = {c.ssh_type: c for c in _CURVES}
_CURVE_BY_NAME = {c.curve.name: c for c in _CURVES}
_KEY_TYPES = frozenset({"ssh-ed25519", "ssh-rsa", *_CURVE_BY_TYPE})

PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
#: Whatever cryptography may load from a key file (its SSH loader's types grew past its PEM loader's in release 51);
#: SigningKey keeps the PrivateKey kinds and refuses the rest.
LoadedKey: TypeAlias = PrivateKeyTypes | SSHPrivateKeyTypes


@runtime_checkable
class Readable(Protocol):
    """Anything with a binary ``read(size)``, such as an open file; it is read in chunks, never whole."""

    def read(self, size: int, /) -> bytes: ...


Message: TypeAlias = bytes | bytearray | memoryview | Readable | Iterable[bytes]
"""The data to sign or verify: bytes, a binary stream, or an iterable of byte chunks (e.g. a generator)."""


class _MalformedError(Exception):
    """Internal: an SSH wire structure is truncated or inconsistent; public callers re-raise it as their own error."""


class _UnsupportedKeyError(_MalformedError):
    """Internal: a well-formed key of a type this module does not handle (certificates, DSA, security keys)."""


class _Reader:
    """Reads RFC 4251 wire types from a blob, failing loudly instead of returning short data."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, n: int) -> bytes:
        if n > len(self._data) - self._pos:
            raise _MalformedError("truncated data")
        self._pos += n
        return self._data[self._pos - n : self._pos]

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def string(self) -> bytes:
        return self.take(self.uint32())

    def text(self) -> str:
        """A string used as a name; OpenSSH's sshbuf_get_cstring() rejects embedded NULs, and so do we."""
        raw = self.string()
        if b"\0" in raw:
            raise _MalformedError("NUL byte inside a name")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _MalformedError("name is not UTF-8") from None

    def mpint(self) -> int:
        """A non-negative mpint; sshbuf_get_bignum2() rejects negative values and so do we."""
        raw = self.string()
        if raw[:1] and raw[0] & 0x80:
            raise _MalformedError("negative integer")
        return int.from_bytes(raw, "big")

    def end(self) -> None:
        """Trailing bytes would let two different blobs carry one signature, so OpenSSH refuses them."""
        if self._pos != len(self._data):
            raise _MalformedError("trailing data")


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(n: int) -> bytes:
    """Big-endian two's complement with a leading zero byte when the top bit is set (RFC 4251 section 5)."""
    return _string(n.to_bytes(n.bit_length() // 8 + 1, "big") if n else b"")


def _public_blob(key: PublicKey) -> bytes:
    """The SSH wire encoding of a public key; cryptography's OpenSSH text form is that blob in base64."""
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return base64.b64decode(line.split()[1])


def _fingerprint(blob: bytes) -> str:
    """The ``SHA256:...`` fingerprint ssh-keygen prints: unpadded base64 of the SHA-256 of the key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def _parse_public_key(blob: bytes) -> tuple[str, PublicKey]:
    """Decode a wire public key of a supported type, rejecting the encodings OpenSSH's sshkey_fromb() rejects."""
    reader = _Reader(blob)
    key_type = reader.text()
    key: PublicKey
    try:
        if key_type == "ssh-ed25519":
            raw = reader.string()
            if len(raw) != 32:
                raise _MalformedError("Ed25519 public key is not 32 bytes")
            key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        elif key_type in _CURVE_BY_TYPE:
            curve = _CURVE_BY_TYPE[key_type]
            if reader.text() != curve.ssh_name:
                raise _MalformedError("ECDSA curve name does not match the key type")
            point = reader.string()
            if point[:1] != b"\x04":
                raise _MalformedError("ECDSA point is not in uncompressed form")
            key = ec.EllipticCurvePublicKey.from_encoded_point(curve.curve, point)
        elif key_type == "ssh-rsa":
            exponent, modulus = reader.mpint(), reader.mpint()
            # Sized before the key is built: a huge modulus is refused without costing any arithmetic.
            if modulus.bit_length() < _MIN_RSA_BITS:
                raise _MalformedError(f"RSA key of {modulus.bit_length()} bits is shorter than {_MIN_RSA_BITS}")
            if modulus.bit_length() > _MAX_RSA_BITS:
                raise _MalformedError(f"RSA key of {modulus.bit_length()} bits is longer than {_MAX_RSA_BITS}")
            key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        elif key_type.endswith("-cert-v01@openssh.com"):
            raise _UnsupportedKeyError("signatures made with certificates are not supported")
        else:
            raise _UnsupportedKeyError(f"unsupported key type {key_type[:64]!r}")
    except ValueError as exc:  # cryptography rejects points off the curve and invalid RSA numbers this way.
        raise _MalformedError(f"invalid {key_type} public key") from exc
    reader.end()
    return key_type, key


def _verify_raw(key_type: str, key: PublicKey, signature: bytes, message: bytes) -> None:
    """Check an SSH signature blob (string sigtype, then the key-specific payload) as sshkey_verify() does.

    Raises ``InvalidSignature`` for a wrong signature and ``_MalformedError`` for a badly encoded one.
    """
    reader = _Reader(signature)
    sig_type = reader.text()
    payload = reader.string()
    reader.end()
    if isinstance(key, ed25519.Ed25519PublicKey):
        if sig_type != key_type or len(payload) != 64:
            raise _MalformedError("not an Ed25519 signature")
        key.verify(payload, message)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if sig_type != key_type:
            raise _MalformedError(f"signature type {sig_type[:64]!r} does not match key type {key_type}")
        numbers = _Reader(payload)
        r, s = numbers.mpint(), numbers.mpint()
        numbers.end()
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(_CURVE_BY_TYPE[key_type].hash))
    else:
        if sig_type not in _RSA_SIGNATURE_HASHES:
            raise _MalformedError(f"RSA signature algorithm {sig_type[:64]!r} is not rsa-sha2-512 or rsa-sha2-256")
        size = (key.key_size + 7) // 8
        if len(payload) > size:
            raise _MalformedError("RSA signature is longer than the modulus")
        # ssh-rsa.c left-pads short signatures to the modulus length before checking; do the same.
        key.verify(payload.rjust(size, b"\0"), message, padding.PKCS1v15(), _RSA_SIGNATURE_HASHES[sig_type])


class SigningKey:
    """A private key that can make SSHSIG signatures, with the public facts an allowed_signers file needs.

    Build it with :func:`load_private_key`, or directly from a ``cryptography`` private key object.
    """

    def __init__(self, private_key: LoadedKey, source: str = "private key") -> None:
        """Refuse unusable keys here, once, so that :func:`sign` can never fail half-way on the key type."""
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            if private_key.curve.name not in _CURVE_BY_NAME:
                raise SignatureKeyError(f"{source}: unsupported ECDSA curve {private_key.curve.name}")
        elif isinstance(private_key, rsa.RSAPrivateKey):
            if private_key.key_size < _MIN_RSA_BITS:
                raise SignatureKeyError(f"{source}: RSA key of {private_key.key_size} bits is too short")
            if private_key.key_size > _MAX_RSA_BITS:
                raise SignatureKeyError(f"{source}: RSA key of {private_key.key_size} bits is too long")
        elif not isinstance(private_key, ed25519.Ed25519PrivateKey):
            kind = type(private_key).__name__.removesuffix("PrivateKey")
            raise SignatureKeyError(f"{source}: unsupported key type {kind}")
        self.private_key: PrivateKey = private_key
        self._source = source
        self.public_blob = _public_blob(private_key.public_key())
        self.key_type = _Reader(self.public_blob).text()

    def __reduce__(self) -> tuple[Callable[[bytes, str], SigningKey], tuple[bytes, str]]:
        """Pickled (to a worker process of a many-targets run) as its unencrypted PKCS#8 form: the key object of
        cryptography cannot be pickled itself."""
        der = self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return _signing_key_from_der, (der, self._source)

    def __repr__(self) -> str:
        """Names the key by its fingerprint, never by its material."""
        return f"SigningKey({self.key_type} {self.fingerprint})"

    @property
    def fingerprint(self) -> str:
        """``SHA256:...`` exactly as ``ssh-keygen -l`` prints it."""
        return _fingerprint(self.public_blob)

    @property
    def public_key_line(self) -> str:
        """``TYPE BASE64``, the key part of an allowed_signers line, so the suite can publish its signer."""
        return f"{self.key_type} {base64.b64encode(self.public_blob).decode('ascii')}"

    def _sign(self, message: bytes) -> bytes:
        """Produce the SSH signature blob sshkey_sign() would for this key type."""
        key = self.private_key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return _string(b"ssh-ed25519") + _string(key.sign(message))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            curve = _CURVE_BY_NAME[key.curve.name]
            r, s = decode_dss_signature(key.sign(message, ec.ECDSA(curve.hash)))
            return _string(curve.ssh_type.encode()) + _string(_mpint(r) + _mpint(s))
        signature = key.sign(message, padding.PKCS1v15(), hashes.SHA512())
        return _string(_RSA_SIGN_ALGORITHM.encode()) + _string(signature)


def _signing_key_from_der(der: bytes, source: str) -> SigningKey:
    return SigningKey(serialization.load_der_private_key(der, None), source)


def _describe_non_key(data: bytes) -> str:
    """Say what a file that is not a private key looks like, since a .pub or -cert.pub mix-up is the usual cause."""
    first = data.split(maxsplit=1)[0] if data.strip() else b""
    if first.endswith(b"-cert-v01@openssh.com"):
        return "this is an SSH certificate, not a private key"
    if first.startswith((b"ssh-", b"ecdsa-", b"sk-")):
        return "this is an SSH public key, not a private key"
    return "not an OpenSSH or PEM private key"


def _openssh_key_type(data: bytes) -> str:
    """The key type recorded in the unencrypted header of an ``openssh-key-v1`` file (PROTOCOL.key).

    Reading it ourselves names unsupported types (DSA, security keys) precisely, even in encrypted files,
    and keeps cryptography from emitting its DSA deprecation warning.
    """
    body = data.split(b"-----BEGIN OPENSSH PRIVATE KEY-----", 1)[1].split(b"-----END OPENSSH PRIVATE KEY-----", 1)[0]
    try:
        reader = _Reader(base64.b64decode(b"".join(body.split()), validate=True))
        if reader.take(15) != b"openssh-key-v1\0":
            raise _MalformedError("bad magic")
        for _ in range(3):  # cipher name, KDF name, KDF options
            reader.string()
        if reader.uint32() != 1:
            raise _MalformedError("not exactly one key")
        return _Reader(reader.string()).text()
    except (binascii.Error, _MalformedError):
        return "corrupt"


def load_private_key(path: str | os.PathLike[str]) -> SigningKey:
    """Read an unencrypted OpenSSH (or PEM/PKCS#8) private key file.

    Encrypted keys are refused rather than prompting: the suite signs unattended, and a passphrase prompt
    would hang it. Every failure is a :class:`SignatureKeyError` whose one-line message names the file.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise SignatureKeyError(f"{name}: cannot read key file: {exc.strerror or type(exc).__name__}") from None
    if len(data) > _MAX_KEY_FILE:
        raise SignatureKeyError(f"{name}: file is too large to be a private key")
    if b"-----BEGIN OPENSSH PRIVATE KEY-----" in data:
        key_type = _openssh_key_type(data)
        if key_type == "corrupt":
            raise SignatureKeyError(f"{name}: corrupt OpenSSH private key")
        if key_type not in _KEY_TYPES:
            raise SignatureKeyError(f"{name}: unsupported key type {key_type[:64]!r}")
        pem = False
    elif re.search(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----", data):
        pem = True
    else:
        raise SignatureKeyError(f"{name}: {_describe_non_key(data)}")
    try:
        private_key: LoadedKey
        # A DSA key loads with cryptography's deprecation warning on stderr: it is refused in one line just below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            if pem:
                private_key = serialization.load_pem_private_key(data, None)
            else:
                private_key = serialization.load_ssh_private_key(data, None)
    except TypeError:  # cryptography's signal that the key needs a password.
        raise SignatureKeyError(f"{name}: key is encrypted with a passphrase; use an unencrypted signing key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureKeyError(f"{name}: corrupt or unsupported private key") from None
    return SigningKey(private_key, name)


def _digest(data: Message, algorithm: str) -> bytes:
    """Hash the message incrementally, which is why SSHSIG signs H(message) and not the message itself."""
    hasher = hashlib.new(algorithm)
    if isinstance(data, bytes | bytearray | memoryview):
        hasher.update(data)
    elif isinstance(data, Readable):
        while chunk := data.read(_CHUNK):
            hasher.update(chunk)
    else:
        for piece in data:
            hasher.update(piece)
    return hasher.digest()


def _namespace_bytes(namespace: str) -> bytes:
    """PROTOCOL.sshsig forbids an empty namespace, and a NUL would be silently truncated by OpenSSH's C strings."""
    if not namespace or "\0" in namespace:
        raise ValueError("namespace must be a non-empty string without NUL characters")
    return namespace.encode("utf-8")


def _signed_data(namespace: bytes, hash_algorithm: str, digest: bytes) -> bytes:
    """What the key actually signs (PROTOCOL.sshsig section 3); the reserved field is always empty."""
    return _MAGIC + _string(namespace) + _string(b"") + _string(hash_algorithm.encode("ascii")) + _string(digest)


def sign(key: SigningKey, data: Message, namespace: str) -> str:
    """Sign ``data`` and return the armored text ``ssh-keygen -Y sign -n NAMESPACE`` writes to ``FILE.sig``.

    The output is byte-for-byte what ssh-keygen produces for deterministic schemes (Ed25519, RSA); ECDSA uses a
    random nonce so only its layout matches.
    """
    namespace_raw = _namespace_bytes(namespace)
    signature = key._sign(_signed_data(namespace_raw, _SIGN_HASH, _digest(data, _SIGN_HASH)))
    blob = b"".join(
        (
            _MAGIC,
            struct.pack(">I", _VERSION),
            _string(key.public_blob),
            _string(namespace_raw),
            _string(b""),
            _string(_SIGN_HASH.encode("ascii")),
            _string(signature),
        )
    )
    encoded = base64.b64encode(blob).decode("ascii")
    lines = [encoded[i : i + _ARMOR_COLUMNS] for i in range(0, len(encoded), _ARMOR_COLUMNS)]
    return "\n".join([_BEGIN, *lines, _END]) + "\n"


def match_pattern_list(string: str, patterns: str) -> int:
    """OpenSSH's match_pattern_list(): 1 if a pattern matches, -1 if a ``!``-negated one does, 0 otherwise.

    Patterns are comma-separated and use only ``*`` and ``?``, like ssh_config(5) PATTERNS; a negative match
    wins over any positive one, which is what lets ``!mallory@x,*@x`` exclude a single principal.
    """
    pieces = patterns.split(",")
    if patterns.endswith(",") or not patterns:  # OpenSSH's loop stops at the end without an empty last pattern.
        pieces.pop()
    result = 0
    for piece in pieces:
        negated = piece.startswith("!")
        glob = piece[1:] if negated else piece
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
        if re.fullmatch(regex, string, re.DOTALL):
            if negated:
                return -1
            result = 1
    return result


def _format_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AllowedSigner:
    """One key line of an allowed_signers file.

    ``key_blob`` is the canonical wire encoding for supported key types; other types (DSA, ``sk-*``,
    certificates) are kept as written so that a shared file still parses, but they can never match a
    signature, because :func:`verify` only accepts signatures from supported plain keys. For the same
    reason a ``cert-authority`` line never matches: OpenSSH uses such a key only to vouch for
    certificates, and certificate signatures are not supported here.
    """

    line: int
    principals: str
    key_type: str
    key_blob: bytes
    cert_authority: bool = False
    namespaces: str | None = None
    valid_after: int | None = None
    valid_before: int | None = None

    def allows_principal(self, identity: str) -> bool:
        """Whether ``identity`` (``ssh-keygen -I``) matches this line's principals pattern-list."""
        return match_pattern_list(identity, self.principals) == 1

    def refusal(self, namespace: str, now: int) -> str | None:
        """Why this line does not allow a signature in ``namespace`` at ``now``, or None if it does."""
        if self.namespaces is not None and match_pattern_list(namespace, self.namespaces) != 1:
            return f"line {self.line}: key is not allowed for namespace {namespace!r} (namespaces={self.namespaces!r})"
        if self.valid_after is not None and now < self.valid_after:
            return f"line {self.line}: key is not yet valid (valid-after {_format_time(self.valid_after)})"
        if self.valid_before is not None and now > self.valid_before:
            return f"line {self.line}: key has expired (valid-before {_format_time(self.valid_before)})"
        return None


_TIME = re.compile(r"([0-9]{8}|[0-9]{12}|[0-9]{14})(z|utc)?", re.IGNORECASE)


def _parse_time(text: str) -> int | None:
    """misc.c parse_absolute_time(): YYYYMMDD[HHMM[SS]], UTC if suffixed by Z (or UTC), else local time.

    Local times go through mktime() with tm_isdst=0, exactly as OpenSSH leaves its zeroed ``struct tm``.
    """
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1).ljust(14, "0")
    year = int(digits[:4])
    month, day, hour, minute, second = (int(digits[i : i + 2]) for i in range(4, 14, 2))
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    full = (year, month, day, hour, minute, second, 0, 0, 0)
    timestamp = calendar.timegm(full) if match.group(2) else int(time.mktime(full))
    return timestamp if timestamp > 0 else None  # OpenSSH treats 0 as "unset" and refuses it.


def _dequote(opts: str, pos: int) -> tuple[str, int]:
    """misc.c opt_dequote(): a double-quoted value where only ``\\"`` is an escape."""
    if opts[pos : pos + 1] != '"':
        raise _MalformedError("missing start quote")
    pos += 1
    value: list[str] = []
    while pos < len(opts) and opts[pos] != '"':
        if opts.startswith('\\"', pos):
            pos += 1
        value.append(opts[pos])
        pos += 1
    if pos == len(opts):
        raise _MalformedError("missing end quote")
    return "".join(value), pos + 1


def _parse_options(opts: str) -> tuple[bool, str | None, int | None, int | None]:
    """sshsig.c sshsigopt_parse(): case-insensitive names, unknown or repeated options are errors."""
    cert_authority = False
    namespaces: str | None = None
    times: dict[str, int] = {}
    pos = 0
    while pos < len(opts):
        lower = opts[pos:].lower()
        if lower.startswith("cert-authority"):
            cert_authority = True
            pos += len("cert-authority")
        elif lower.startswith("namespaces="):
            if namespaces is not None:
                raise _MalformedError('multiple "namespaces" clauses')
            namespaces, pos = _dequote(opts, pos + len("namespaces="))
        else:
            for option in ("valid-after", "valid-before"):
                if lower.startswith(option + "="):
                    if option in times:
                        raise _MalformedError(f'multiple "{option}" clauses')
                    value, pos = _dequote(opts, pos + len(option) + 1)
                    parsed = _parse_time(value)
                    if parsed is None:
                        raise _MalformedError(f'invalid "{option}" time {value!r}')
                    times[option] = parsed
                    break
        if pos == len(opts):
            break
        if opts[pos] != ",":
            raise _MalformedError("unknown key option")
        pos += 1
        if pos == len(opts):
            raise _MalformedError("unexpected end-of-options")
    after, before = times.get("valid-after"), times.get("valid-before")
    if after is not None and before is not None and before <= after:
        raise _MalformedError('"valid-before" time is before "valid-after"')
    return cert_authority, namespaces, after, before


def _take_principals(text: str) -> tuple[str, str] | None:
    """misc.c strdelimw(): the first whitespace-delimited token, where a double-quoted part may hold spaces."""
    match = re.search(r'[ \t\r\n"]', text)
    if match is None:
        return None
    start = match.start()
    if match.group() == '"':
        close = text.find('"', start + 1)
        if close < 0:
            return None
        return text[:start] + text[start + 1 : close], text[close + 1 :].lstrip(_LINE_WHITESPACE)
    return text[:start], text[start:].lstrip(_LINE_WHITESPACE)


def _read_key(text: str) -> tuple[str, bytes] | None:
    """sshkey_read(): ``TYPE BASE64 [comment]`` where the blob's own type name must equal TYPE."""
    fields = re.split(r"[ \t]+", text, maxsplit=2)
    if len(fields) < 2:
        return None
    key_type, encoded = fields[0], fields[1]
    try:
        blob = base64.b64decode(encoded, validate=True)
        if _Reader(blob).text() != key_type:
            return None
    except (binascii.Error, _MalformedError):
        return None
    return key_type, blob


def _options_end(text: str) -> int:
    """authfile.c sshkey_advance_past_options(): options end at the first unquoted space or tab."""
    quoted = False
    pos = 0
    while pos < len(text) and (quoted or text[pos] not in " \t"):
        if text.startswith('\\"', pos):
            pos += 1
        elif text[pos] == '"':
            quoted = not quoted
        pos += 1
    if quoted:
        raise _MalformedError("unterminated quotes in options")
    return pos


def _parse_line(text: str, number: int) -> AllowedSigner | None:
    """sshsig.c parse_principals_key_and_options(): principals, then either the key or options and the key."""
    text = text.lstrip(_LINE_WHITESPACE)
    if not text or text.startswith("#"):
        return None
    taken = _take_principals(text)
    if taken is None:
        raise _MalformedError("invalid line")
    principals, rest = taken
    options = ""
    key = _read_key(rest)
    if key is None:
        end = _options_end(rest)
        options, rest = rest[:end], rest[end:].lstrip(" \t")
        if not rest:
            raise _MalformedError("missing key")
        key = _read_key(rest)
        if key is None:
            raise _MalformedError("invalid key")
    key_type, blob = key
    if key_type in _KEY_TYPES:
        blob = _public_blob(_parse_public_key(blob)[1])
    cert_authority, namespaces, after, before = _parse_options(options)
    return AllowedSigner(number, principals, key_type, blob, cert_authority, namespaces, after, before)


def parse_allowed_signers(text: str) -> list[AllowedSigner]:
    """Parse an allowed_signers file (``man ssh-keygen``, ALLOWED SIGNERS).

    Unlike ssh-keygen, which only parses the lines whose principals match the identity it is checking,
    every line is parsed up front, so a typo anywhere is reported instead of silently disabling a signer.
    """
    signers: list[AllowedSigner] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            signer = _parse_line(line, number)
        except _MalformedError as exc:
            raise AllowedSignersError(f"allowed signers line {number}: {exc}") from None
        if signer is not None:
            signers.append(signer)
    return signers


@dataclass(frozen=True)
class Signer:
    """Who made a verified signature.

    ``principals`` is ``(identity,)`` when an identity was given; otherwise it is every principal pattern from
    the allowed_signers lines that accept this key for the namespace now (negated ``!`` patterns left out).
    """

    principals: tuple[str, ...]
    key_type: str
    fingerprint: str


@dataclass(frozen=True)
class _ParsedSignature:
    key_type: str
    key: PublicKey
    key_blob: bytes
    namespace: str
    hash_algorithm: str
    signature: bytes


def _dearmor(text: str) -> bytes:
    """sshsig.c sshsig_dearmor(): header at the very start, base64 body, first footer ends it."""
    if not text.startswith(_BEGIN):
        raise SignatureError(f"not an SSH signature: it does not start with {_BEGIN}")
    rest = text[len(_BEGIN) :]
    if rest.startswith("\r\n"):
        rest = rest[2:]
    elif rest.startswith("\n"):
        rest = rest[1:]
    else:
        raise SignatureError("malformed signature armor: no line break after the header")
    end = rest.find("\n" + _END)
    if end < 0:
        raise SignatureError(f"malformed signature armor: missing {_END} footer")
    encoded = _B64_WHITESPACE.sub("", rest[:end])
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise SignatureError("malformed signature armor: invalid base64") from None
    # b64_pton() also refuses non-zero padding bits, which would otherwise be a hidden channel.
    if base64.b64encode(blob).decode("ascii") != encoded:
        raise SignatureError("malformed signature armor: non-canonical base64")
    return blob


def _parse_signature(text: str) -> _ParsedSignature:
    """Decode the armored SSHSIG blob (PROTOCOL.sshsig section 2) and check everything that needs no data."""
    reader = _Reader(_dearmor(text))
    try:
        if reader.take(len(_MAGIC)) != _MAGIC:
            raise SignatureError("malformed signature: wrong magic preamble (not SSHSIG)")
        version = reader.uint32()
        if version > _VERSION:
            raise SignatureError(f"unsupported signature version {version} (only {_VERSION} is supported)")
        key_blob = reader.string()
        namespace = reader.text()
        reader.string()  # reserved: PROTOCOL.sshsig says to ignore it.
        hash_algorithm = reader.text()
        signature = reader.string()
        reader.end()
        key_type, key = _parse_public_key(key_blob)
    except _UnsupportedKeyError as exc:
        raise SignatureError(f"unsupported signature: {exc}") from None
    except _MalformedError as exc:
        raise SignatureError(f"malformed signature: {exc}") from None
    if hash_algorithm not in _HASH_ALGORITHMS:
        raise SignatureError(f"unsupported hash algorithm {hash_algorithm[:64]!r} (only sha256 and sha512)")
    return _ParsedSignature(key_type, key, _public_blob(key), namespace, hash_algorithm, signature)


def signature_key(signature_text: str | bytes) -> AllowedSigner:
    """The public key an armored signature names, as an allowed_signers line for any principal (``*``), or
    SignatureError if the armor or the blob is malformed. With it a signature can be checked for integrity when no
    allowed_signers file says whose key it should be: it proves the signature is whole, not who made it."""
    if isinstance(signature_text, bytes):
        signature_text = signature_text.decode("ascii", "replace")
    parsed = _parse_signature(signature_text)
    return AllowedSigner(0, "*", parsed.key_type, parsed.key_blob)


def fingerprint_of(signer: AllowedSigner) -> str:
    """The ``SHA256:...`` fingerprint of an allowed_signers line's key, as ``ssh-keygen -l`` prints it."""
    return _fingerprint(signer.key_blob)


def _authorize(
    allowed: Iterable[AllowedSigner], parsed: _ParsedSignature, identity: str | None, namespace: str, now: int
) -> tuple[str, ...]:
    """sshsig.c check_allowed_keys_line() over all lines, reporting the most specific reason for a refusal."""
    fingerprint = _fingerprint(parsed.key_blob)
    lines = [s for s in allowed if not s.cert_authority and s.key_blob == parsed.key_blob]
    if not lines:
        raise SignatureError(f"signing key {fingerprint} is not in the allowed signers")
    if identity is not None:
        lines = [s for s in lines if s.allows_principal(identity)]
        if not lines:
            raise SignatureError(f"identity {identity!r} is not an allowed principal for key {fingerprint}")
    reasons = [s.refusal(namespace, now) for s in lines]
    accepted = [s for s, reason in zip(lines, reasons, strict=True) if reason is None]
    if not accepted:
        raise SignatureError(f"signing key {fingerprint} refused by allowed signers {reasons[0]}")
    if identity is not None:
        return (identity,)
    patterns = (p for s in accepted for p in s.principals.split(",") if p and not p.startswith("!"))
    return tuple(dict.fromkeys(patterns))


def verify(
    signature_text: str | bytes,
    data: Message,
    namespace: str,
    allowed: Iterable[AllowedSigner],
    identity: str | None = None,
    *,
    verify_time: int | None = None,
) -> Signer:
    """Accept a signature only as ``ssh-keygen -Y verify -f allowed -I identity -n namespace`` would.

    The blob, namespace and hash are checked before the data is read; the data is hashed in a stream; the
    signature is checked before the allowed signers, as OpenSSH does. ``verify_time`` (seconds since the
    epoch, default now) mirrors ``-O verify-time=``. Every refusal raises :class:`SignatureError`.
    """
    expected = _namespace_bytes(namespace)
    if isinstance(signature_text, bytes):
        signature_text = signature_text.decode("ascii", "replace")
    parsed = _parse_signature(signature_text)
    if parsed.namespace != namespace:
        raise SignatureError(f"signature namespace {parsed.namespace[:64]!r} does not match expected {namespace!r}")
    message = _signed_data(expected, parsed.hash_algorithm, _digest(data, parsed.hash_algorithm))
    try:
        _verify_raw(parsed.key_type, parsed.key, parsed.signature, message)
    except InvalidSignature:
        raise SignatureError("bad signature: the data or the signature was altered, or another key made it") from None
    except _MalformedError as exc:
        raise SignatureError(f"malformed signature: {exc}") from None
    now = int(time.time()) if verify_time is None else verify_time
    principals = _authorize(allowed, parsed, identity, namespace, now)
    return Signer(principals, parsed.key_type, _fingerprint(parsed.key_blob))
