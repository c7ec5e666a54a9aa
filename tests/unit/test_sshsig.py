"""conformance.support.sshsig, with the installed ssh-keygen (Debian's openssh-client) as the independent
implementation.

Every interoperability claim is checked in both directions (our signature -> ssh-keygen, ssh-keygen's
signature -> us), and every refusal is checked against ssh-keygen's own verdict where ssh-keygen can judge it,
so the tests pin OpenSSH's behaviour rather than our reading of it. Without ssh-keygen they are skipped, loudly.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import os
import pickle
import shutil
import struct
import subprocess
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519

from conformance.support import sshsig
from tests.ssh_keygen import keygen, keygen_path

NAMESPACE = "dcs-conformance"
ALICE = "alice@example.com"


# (name, ssh-keygen arguments, output format); RSA stays at 2048 bits to keep key generation quick.
KEY_SPECS = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa256": ["-t", "ecdsa", "-b", "256"],
    "ecdsa384": ["-t", "ecdsa", "-b", "384"],
    "ecdsa521": ["-t", "ecdsa", "-b", "521"],
    "rsa2048": ["-t", "rsa", "-b", "2048"],
}
SIGNING_KEYS = [*KEY_SPECS, "ecdsa256-pkcs8", "rsa2048-pem"]


@dataclass(frozen=True)
class Keys:
    directory: Path

    def path(self, name: str) -> Path:
        return self.directory / name

    def public_line(self, name: str) -> str:
        """``TYPE BASE64`` from the ssh-keygen-written .pub file, without the comment."""
        return " ".join(self.path(name + ".pub").read_text().split()[:2])

    def fingerprint(self, name: str) -> str:
        return keygen("-l", "-f", str(self.path(name + ".pub"))).stdout.split()[1].decode()


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """All keys are made by ssh-keygen, once per run, so the loader is tested on real OpenSSH output."""
    directory = tmp_path_factory.mktemp("keys")
    for name, spec in KEY_SPECS.items():
        keygen("-q", *spec, "-N", "", "-C", name, "-f", str(directory / name))
    # The same keys re-saved by ssh-keygen in PEM formats (PKCS#8 and traditional PKCS#1).
    for name, source, fmt in (("ecdsa256-pkcs8", "ecdsa256", "PKCS8"), ("rsa2048-pem", "rsa2048", "PEM")):
        shutil.copy(directory / source, directory / name)
        shutil.copy(directory / (source + ".pub"), directory / (name + ".pub"))
        keygen("-q", "-p", "-N", "", "-m", fmt, "-f", str(directory / name))
    keygen("-q", "-t", "ed25519", "-N", "secret passphrase", "-f", str(directory / "encrypted"))
    keygen("-q", "-t", "dsa", "-N", "", "-f", str(directory / "dsa"))
    keygen("-q", "-t", "ed25519", "-N", "", "-f", str(directory / "user"))
    keygen("-q", "-s", str(directory / "ed25519"), "-I", "cert-id", "-n", ALICE, str(directory / "user.pub"))
    return Keys(directory)


@pytest.fixture(scope="session")
def payload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~200 KB random file: several hash chunks, still quick for ssh-keygen."""
    path = tmp_path_factory.mktemp("data") / "bundle.tar"
    path.write_bytes(os.urandom(200_000) + b"end of bundle\n")
    return path


def keygen_sign(key: Path, data: Path, workdir: Path, *options: str) -> str:
    """What ``ssh-keygen -Y sign`` writes to FILE.sig for a fresh copy of ``data``."""
    copy = workdir / f"signed-by-keygen-{key.name}"
    shutil.copy(data, copy)
    copy.with_name(copy.name + ".sig").unlink(missing_ok=True)
    keygen("-q", "-Y", "sign", "-n", NAMESPACE, "-f", str(key), *options, str(copy))
    return copy.with_name(copy.name + ".sig").read_text()


def keygen_verifies(
    signature: str,
    data: bytes,
    allowed: str,
    workdir: Path,
    *,
    identity: str = ALICE,
    namespace: str = NAMESPACE,
    verify_time: str | None = None,
) -> bool:
    """ssh-keygen's verdict on a signature, given the allowed_signers text."""
    (workdir / "allowed_signers").write_text(allowed)
    (workdir / "candidate.sig").write_text(signature)
    args = ["-Y", "verify", "-f", str(workdir / "allowed_signers"), "-I", identity, "-n", namespace]
    args += ["-s", str(workdir / "candidate.sig")]
    if verify_time is not None:
        args += ["-O", f"verify-time={verify_time}"]
    result = keygen(*args, stdin=data, check=False)
    return result.returncode == 0 and result.stdout.startswith(b"Good ")


def blob_of(signature: str) -> bytes:
    lines = signature.strip().splitlines()
    return base64.b64decode("".join(lines[1:-1]))


def armor(blob: bytes) -> str:
    encoded = base64.b64encode(blob).decode()
    body = "\n".join(encoded[i : i + 70] for i in range(0, len(encoded), 70))
    return f"-----BEGIN SSH SIGNATURE-----\n{body}\n-----END SSH SIGNATURE-----\n"


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def split_blob(blob: bytes) -> list[bytes]:
    """The SSHSIG fields after magic and version: publickey, namespace, reserved, hash, signature."""
    fields, pos = [], 10
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos : pos + 4])
        fields.append(blob[pos + 4 : pos + 4 + length])
        pos += 4 + length
    return fields


def build_blob(fields: list[bytes], magic: bytes = b"SSHSIG", version: int = 1) -> bytes:
    return magic + struct.pack(">I", version) + b"".join(ssh_string(f) for f in fields)


# --- interoperability -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SIGNING_KEYS)
def test_our_signature_verifies_with_ssh_keygen(name: str, keys: Keys, payload: Path, tmp_path: Path) -> None:
    key = sshsig.load_private_key(keys.path(name))
    with payload.open("rb") as stream:
        signature = sshsig.sign(key, stream, NAMESPACE)
    assert key.public_key_line == keys.public_line(name)
    assert key.fingerprint == keys.fingerprint(name)
    assert keygen_verifies(signature, payload.read_bytes(), f"{ALICE} {key.public_key_line}\n", tmp_path)


@pytest.mark.parametrize("name", SIGNING_KEYS)
def test_ssh_keygen_signature_verifies_with_ours(name: str, keys: Keys, payload: Path, tmp_path: Path) -> None:
    signature = keygen_sign(keys.path(name), payload, tmp_path)
    allowed = sshsig.parse_allowed_signers(f"# signers\n\n{ALICE} {keys.public_line(name)} comment\n")
    with payload.open("rb") as stream:
        signer = sshsig.verify(signature, stream, NAMESPACE, allowed, ALICE)
    assert signer.principals == (ALICE,)
    assert signer.fingerprint == keys.fingerprint(name)
    assert signer.key_type == keys.public_line(name).split()[0]


def test_ssh_keygen_sha256_signature_verifies_with_ours(keys: Keys, payload: Path, tmp_path: Path) -> None:
    """ssh-keygen can be asked for sha256; OpenSSH accepts it when verifying, so must we."""
    signature = keygen_sign(keys.path("rsa2048"), payload, tmp_path, "-O", "hashalg=sha256")
    assert split_blob(blob_of(signature))[3] == b"sha256"
    allowed = sshsig.parse_allowed_signers(f"{ALICE} {keys.public_line('rsa2048')}\n")
    assert sshsig.verify(signature, payload.read_bytes(), NAMESPACE, allowed, ALICE).principals == (ALICE,)


@pytest.mark.parametrize("name", ["ed25519", "rsa2048"])
def test_deterministic_signature_is_byte_identical(name: str, keys: Keys, payload: Path, tmp_path: Path) -> None:
    """Ed25519 and RSA PKCS#1 v1.5 are deterministic, so the whole armored file must match ssh-keygen's."""
    ours = sshsig.sign(sshsig.load_private_key(keys.path(name)), payload.read_bytes(), NAMESPACE)
    assert ours == keygen_sign(keys.path(name), payload, tmp_path)


def test_ecdsa_signature_has_keygen_layout(keys: Keys, payload: Path, tmp_path: Path) -> None:
    """ECDSA nonces are random, so compare everything except the signature value."""
    key = sshsig.load_private_key(keys.path("ecdsa256"))
    ours = split_blob(blob_of(sshsig.sign(key, payload.read_bytes(), NAMESPACE)))
    theirs = split_blob(blob_of(keygen_sign(keys.path("ecdsa256"), payload, tmp_path)))
    assert ours[:4] == theirs[:4]
    assert ours[4][:23] == theirs[4][:23] == ssh_string(b"ecdsa-sha2-nistp256")


def test_armor_wraps_at_70_columns_with_trailing_newline(keys: Keys) -> None:
    signature = sshsig.sign(sshsig.load_private_key(keys.path("rsa2048")), b"x", NAMESPACE)
    lines = signature.split("\n")
    assert lines[0] == "-----BEGIN SSH SIGNATURE-----"
    assert lines[-2:] == ["-----END SSH SIGNATURE-----", ""]
    body = lines[1:-2]
    assert all(len(line) == 70 for line in body[:-1])
    assert 0 < len(body[-1]) <= 70
    assert blob_of(signature)[:10] == b"SSHSIG\0\0\0\1"


def test_crlf_armor_is_accepted(keys: Keys) -> None:
    """sshsig_dearmor() accepts CRLF line ends (a signature that went through a Windows editor)."""
    key = sshsig.load_private_key(keys.path("ed25519"))
    signature = sshsig.sign(key, b"data", NAMESPACE).replace("\n", "\r\n")
    allowed = sshsig.parse_allowed_signers(f"{ALICE} {key.public_key_line}")
    assert sshsig.verify(signature.encode(), b"data", NAMESPACE, allowed).principals == (ALICE,)


def test_signature_from_cryptography_key_object(keys: Keys, tmp_path: Path) -> None:
    """A SigningKey can wrap a key made in memory; ssh-keygen still accepts its signatures."""
    key = sshsig.SigningKey(ec.generate_private_key(ec.SECP384R1()))
    signature = sshsig.sign(key, [b"in ", b"memory"], NAMESPACE)
    assert keygen_verifies(signature, b"in memory", f"{ALICE} {key.public_key_line}\n", tmp_path)


# --- streaming --------------------------------------------------------------------------------------------------


PATTERN = hashlib.shake_256(b"sshsig test stream").digest(65521)  # prime length: chunk edges never line up


class LazyStream:
    """A binary stream of ``size`` pseudo-random bytes, produced on demand and recording the reads asked of it.

    The content depends only on the position, so any chunking of it yields the same bytes.
    """

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.position = 0
        self.largest_read = 0

    def read(self, size: int, /) -> bytes:
        assert size > 0, "a read of everything would load the whole stream"
        self.largest_read = max(self.largest_read, size)
        size = min(size, self.remaining)
        offset = self.position % len(PATTERN)
        block = (PATTERN * (size // len(PATTERN) + 2))[offset : offset + size]
        self.remaining -= size
        self.position += size
        return block


def lazy_chunks(size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    stream = LazyStream(size)
    while piece := stream.read(chunk):
        yield piece


STREAM_SIZE = 24 << 20


def test_stream_signing_never_holds_the_whole_message(keys: Keys) -> None:
    key = sshsig.load_private_key(keys.path("ed25519"))
    stream = LazyStream(STREAM_SIZE)
    tracemalloc.start()
    try:
        signature = sshsig.sign(key, stream, NAMESPACE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stream.remaining == 0
    assert stream.largest_read <= 1 << 16
    assert peak < 2 << 20, f"peak Python allocation {peak} bytes while signing a {STREAM_SIZE}-byte stream"
    # Same bytes as a generator of 1 MiB chunks: Ed25519 is deterministic, so the signatures are identical.
    assert sshsig.sign(key, lazy_chunks(STREAM_SIZE), NAMESPACE) == signature
    allowed = sshsig.parse_allowed_signers(f"{ALICE} {key.public_key_line}")
    assert sshsig.verify(signature, lazy_chunks(STREAM_SIZE, 12345), NAMESPACE, allowed, ALICE).principals == (ALICE,)


def test_stream_signature_verifies_with_ssh_keygen_fed_through_a_pipe(keys: Keys, tmp_path: Path) -> None:
    key = sshsig.load_private_key(keys.path("ecdsa521"))
    signature = sshsig.sign(key, lazy_chunks(STREAM_SIZE), NAMESPACE)
    (tmp_path / "allowed").write_text(f"{ALICE} {key.public_key_line}\n")
    (tmp_path / "s.sig").write_text(signature)
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    args = [keygen_path(), "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", ALICE, "-n", NAMESPACE]
    with subprocess.Popen(
        [*args, "-s", str(tmp_path / "s.sig")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        for piece in lazy_chunks(STREAM_SIZE):
            process.stdin.write(piece)
        process.stdin.close()
        output = process.stdout.read()
    assert process.returncode == 0, output
    assert output.startswith(b'Good "dcs-conformance" signature for alice@example.com')


def test_stream_verification_detects_one_changed_byte(keys: Keys) -> None:
    key = sshsig.load_private_key(keys.path("ed25519"))
    signature = sshsig.sign(key, lazy_chunks(3 << 20), NAMESPACE)
    changed = bytearray(b"".join(lazy_chunks(3 << 20)))
    changed[2 << 20] ^= 1
    allowed = sshsig.parse_allowed_signers(f"{ALICE} {key.public_key_line}")
    with pytest.raises(sshsig.SignatureError, match="bad signature"):
        sshsig.verify(signature, iter([bytes(changed)]), NAMESPACE, allowed, ALICE)


# --- refusals: data and signature -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(keys: Keys, payload: Path) -> tuple[str, bytes, str]:
    """An Ed25519 signature by our sign() over the payload, with the allowed_signers line that accepts it."""
    key = sshsig.load_private_key(keys.path("ed25519"))
    data = payload.read_bytes()
    return sshsig.sign(key, data, NAMESPACE), data, f"{ALICE} {key.public_key_line}\n"


def expect_refusal(
    signature: str, data: bytes, allowed: str, match: str, workdir: Path, *, namespace: str = NAMESPACE
) -> None:
    """Both we and ssh-keygen must refuse; ours must say why, in one line."""
    with pytest.raises(sshsig.SignatureError, match=match) as caught:
        sshsig.verify(signature, data, namespace, sshsig.parse_allowed_signers(allowed), ALICE)
    assert "\n" not in str(caught.value)
    assert not keygen_verifies(signature, data, allowed, workdir, namespace=namespace)


def test_sanity_the_fixture_signature_is_accepted_by_both(signed: tuple[str, bytes, str], tmp_path: Path) -> None:
    signature, data, allowed = signed
    assert sshsig.verify(signature, data, NAMESPACE, sshsig.parse_allowed_signers(allowed), ALICE)
    assert keygen_verifies(signature, data, allowed, tmp_path)


def test_edited_data_is_refused(signed: tuple[str, bytes, str], tmp_path: Path) -> None:
    signature, data, allowed = signed
    edited = data[:1000] + bytes([data[1000] ^ 0x20]) + data[1001:]
    expect_refusal(signature, edited, allowed, "bad signature", tmp_path)
    expect_refusal(signature, data + b"\n", allowed, "bad signature", tmp_path)


def test_edited_signature_value_is_refused(signed: tuple[str, bytes, str], tmp_path: Path) -> None:
    signature, data, allowed = signed
    blob = bytearray(blob_of(signature))
    blob[-5] ^= 0x01  # inside the Ed25519 signature bytes
    expect_refusal(armor(bytes(blob)), data, allowed, "bad signature", tmp_path)


def test_edited_armor_is_refused(signed: tuple[str, bytes, str], tmp_path: Path) -> None:
    signature, data, allowed = signed
    cases = {
        "invalid base64": signature.replace("U1NIU0lH", "U1NIU0l!", 1),
        "does not start with": " " + signature,
        "missing -----END": signature.replace("-----END", "-----FIN"),
        "no line break": signature.replace("-----\n", "----- \n", 1),
        "truncated": armor(blob_of(signature)[:-10]),
        "trailing data": armor(blob_of(signature) + b"\0"),
    }
    for reason, edited in cases.items():
        expect_refusal(edited, data, allowed, reason, tmp_path)


def test_non_canonical_base64_padding_bits_are_refused(signed: tuple[str, bytes, str]) -> None:
    """b64_pton() refuses set bits in the padding; accepting them would allow two armors for one blob."""
    signature, data, allowed = signed
    blob = blob_of(signature)
    while len(blob) % 3 != 1:  # one spare byte in the last group: "==" padding and four unused bits
        blob += b"\0"
    encoded = base64.b64encode(blob).decode()
    assert encoded.endswith("=")
    last = encoded.rstrip("=")[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    tweaked = encoded.rstrip("=")[:-1] + alphabet[alphabet.index(last) + 1] + encoded[len(encoded.rstrip("=")) :]
    assert base64.b64decode(tweaked) == blob
    bad = f"-----BEGIN SSH SIGNATURE-----\n{tweaked}\n-----END SSH SIGNATURE-----\n"
    with pytest.raises(sshsig.SignatureError, match="non-canonical base64"):
        sshsig.verify(bad, data, NAMESPACE, sshsig.parse_allowed_signers(allowed))


def test_wrong_magic_version_and_hash_are_refused(signed: tuple[str, bytes, str], tmp_path: Path) -> None:
    signature, data, allowed = signed
    fields = split_blob(blob_of(signature))
    cases = {
        "wrong magic": build_blob(fields, magic=b"SSHSIH"),
        "unsupported signature version 2": build_blob(fields, version=2),
        "unsupported hash algorithm 'md5'": build_blob([*fields[:3], b"md5", fields[4]]),
        "unsupported hash algorithm 'sha384'": build_blob([*fields[:3], b"sha384", fields[4]]),
        "NUL byte": build_blob([fields[0], NAMESPACE.encode() + b"\0x", *fields[2:]]),
    }
    for reason, blob in cases.items():
        expect_refusal(armor(blob), data, allowed, reason, tmp_path)


def test_hash_algorithm_switch_is_refused(signed: tuple[str, bytes, str], tmp_path: Path) -> None:
    """Relabelling a sha512 signature as sha256 changes the signed data, so the signature must fail."""
    signature, data, allowed = signed
    fields = split_blob(blob_of(signature))
    expect_refusal(armor(build_blob([*fields[:3], b"sha256", fields[4]])), data, allowed, "bad signature", tmp_path)


def test_reserved_field_is_ignored(signed: tuple[str, bytes, str], tmp_path: Path) -> None:
    """PROTOCOL.sshsig: verifiers ignore a non-empty reserved field (it is not part of the signed data)."""
    signature, data, allowed = signed
    fields = split_blob(blob_of(signature))
    edited = armor(build_blob([*fields[:2], b"future", *fields[3:]]))
    assert sshsig.verify(edited, data, NAMESPACE, sshsig.parse_allowed_signers(allowed), ALICE)
    assert keygen_verifies(edited, data, allowed, tmp_path)


def test_other_namespace_is_refused(signed: tuple[str, bytes, str], tmp_path: Path) -> None:
    signature, data, allowed = signed
    expect_refusal(signature, data, allowed, "namespace 'dcs-conformance' does not match", tmp_path, namespace="git")


def test_rsa_sha1_signature_is_refused(keys: Keys, tmp_path: Path) -> None:
    """sshsig.c only allows rsa-sha2-512/256; relabel our RSA signature as legacy ssh-rsa."""
    key = sshsig.load_private_key(keys.path("rsa2048"))
    fields = split_blob(blob_of(sshsig.sign(key, b"data", NAMESPACE)))
    inner = split_blob(b"\0" * 10 + fields[4])
    relabelled = build_blob([*fields[:4], ssh_string(b"ssh-rsa") + ssh_string(inner[1])])
    allowed = f"{ALICE} {key.public_key_line}\n"
    expect_refusal(armor(relabelled), b"data", allowed, "not rsa-sha2-512 or rsa-sha2-256", tmp_path)


def test_malformed_signer_keys_are_refused(keys: Keys, tmp_path: Path) -> None:
    """Public keys inside the blob get the checks sshkey_fromb() applies; ssh-keygen refuses all of these too."""
    key = sshsig.load_private_key(keys.path("ecdsa256"))
    fields = split_blob(blob_of(sshsig.sign(key, b"data", NAMESPACE)))
    _, curve, point = split_blob(b"\0" * 10 + fields[0])
    x, y = point[1:33], point[33:]
    ecdsa = ssh_string(b"ecdsa-sha2-nistp256")
    cases = {
        "curve name does not match": ecdsa + ssh_string(b"nistp384") + ssh_string(point),
        "not in uncompressed form": ecdsa + ssh_string(curve) + ssh_string(bytes([2 + y[-1] % 2]) + x),
        "invalid ecdsa-sha2-nistp256 public key": ecdsa + ssh_string(curve) + ssh_string(b"\4" + x + bytes(32)),
        "trailing data": fields[0] + b"\0",
        "not 32 bytes": ssh_string(b"ssh-ed25519") + ssh_string(bytes(31)),
        "negative integer": ssh_string(b"ssh-rsa") + ssh_string(b"\x80\1") + ssh_string(b"\1"),
        "shorter than 1024": ssh_string(b"ssh-rsa") + ssh_string(b"\1\0\1") + ssh_string(b"\x7f" + b"\xff" * 63),
        "unsupported key type 'ssh-dss'": ssh_string(b"ssh-dss") + ssh_string(b"\1") * 4,
    }
    allowed = f"{ALICE} {key.public_key_line}\n"
    for reason, public in cases.items():
        expect_refusal(armor(build_blob([public, *fields[1:]])), b"data", allowed, reason, tmp_path)


def test_malformed_signature_values_are_refused(keys: Keys, tmp_path: Path) -> None:
    ed = sshsig.load_private_key(keys.path("ed25519"))
    ed_fields = split_blob(blob_of(sshsig.sign(ed, b"data", NAMESPACE)))
    ec_key = sshsig.load_private_key(keys.path("ecdsa256"))
    ec_fields = split_blob(blob_of(sshsig.sign(ec_key, b"data", NAMESPACE)))
    rsa_key = sshsig.load_private_key(keys.path("rsa2048"))
    rsa_fields = split_blob(blob_of(sshsig.sign(rsa_key, b"data", NAMESPACE)))
    _, ec_values = split_blob(b"\0" * 10 + ec_fields[4])
    cases = [
        (ed_fields, ed, ssh_string(b"ssh-ed25519") + ssh_string(bytes(63)), "not an Ed25519 signature"),
        (ec_fields, ec_key, ssh_string(b"ecdsa-sha2-nistp384") + ssh_string(ec_values), "does not match key type"),
        (ec_fields, ec_key, ssh_string(b"ecdsa-sha2-nistp256") + ssh_string(ec_values + b"\0"), "trailing data"),
        (rsa_fields, rsa_key, ssh_string(b"rsa-sha2-512") + ssh_string(bytes(257)), "longer than the modulus"),
        (rsa_fields, rsa_key, rsa_fields[4] + b"\0", "trailing data"),
    ]
    for fields, key, value, reason in cases:
        signature = armor(build_blob([*fields[:4], value]))
        expect_refusal(signature, b"data", f"{ALICE} {key.public_key_line}\n", reason, tmp_path)


def test_short_rsa_signature_is_left_padded_like_openssh(keys: Keys, tmp_path: Path) -> None:
    """Some signers drop a leading zero byte of an RSA signature; ssh-rsa.c pads it back, and so must we."""
    key = sshsig.load_private_key(keys.path("rsa2048"))
    for counter in range(5000):
        data = b"message %d" % counter
        fields = split_blob(blob_of(sshsig.sign(key, data, NAMESPACE)))
        algorithm, value = split_blob(b"\0" * 10 + fields[4])
        if value[0] == 0:
            break
    else:
        pytest.fail("no RSA signature with a leading zero byte found")
    short = armor(build_blob([*fields[:4], ssh_string(algorithm) + ssh_string(value[1:])]))
    allowed = f"{ALICE} {key.public_key_line}\n"
    assert keygen_verifies(short, data, allowed, tmp_path)
    assert sshsig.verify(short, data, NAMESPACE, sshsig.parse_allowed_signers(allowed), ALICE).key_type == "ssh-rsa"


def test_foreign_key_types_in_allowed_signers_are_inert(
    signed: tuple[str, bytes, str], keys: Keys, tmp_path: Path
) -> None:
    """A shared file may list DSA or FIDO keys; both parsers accept the file, and those lines match nothing."""
    signature, data, allowed = signed
    sk_blob = ssh_string(b"sk-ssh-ed25519@openssh.com") + ssh_string(bytes(range(32))) + ssh_string(b"ssh:")
    text = (
        f"{ALICE} sk-ssh-ed25519@openssh.com {base64.b64encode(sk_blob).decode()} fido\n"
        f"{ALICE} {keys.public_line('dsa')}\n{allowed}"
    )
    parsed = sshsig.parse_allowed_signers(text)
    assert [s.key_type for s in parsed] == ["sk-ssh-ed25519@openssh.com", "ssh-dss", "ssh-ed25519"]
    assert parsed[0].key_blob == sk_blob
    assert sshsig.verify(signature, data, NAMESPACE, parsed, ALICE).principals == (ALICE,)
    assert keygen_verifies(signature, data, text, tmp_path)


def test_certificate_signature_is_refused(keys: Keys, payload: Path, tmp_path: Path) -> None:
    """ssh-keygen accepts this via cert-authority; we document that we do not (see AllowedSigner)."""
    signature = keygen_sign(keys.path("user-cert.pub"), payload, tmp_path)
    allowed = f"{ALICE} cert-authority {keys.public_line('ed25519')}\n"
    assert keygen_verifies(signature, payload.read_bytes(), allowed, tmp_path)
    with pytest.raises(sshsig.SignatureError, match="certificates are not supported"):
        sshsig.verify(signature, payload.read_bytes(), NAMESPACE, sshsig.parse_allowed_signers(allowed), ALICE)


def test_empty_namespace_is_a_caller_error(keys: Keys) -> None:
    key = sshsig.load_private_key(keys.path("ed25519"))
    with pytest.raises(ValueError, match="non-empty"):
        sshsig.sign(key, b"", "")
    with pytest.raises(ValueError, match="non-empty"):
        sshsig.verify(sshsig.sign(key, b"", NAMESPACE), b"", "", [])


# --- refusals and acceptance: allowed signers policy --------------------------------------------------------------

# (allowed_signers line template, identity, verify-time or None, accepted?, reason if refused)
# {key} is the signing key, {other} another key. ssh-keygen judges every case too.
POLICY_CASES = {
    "plain": ("{principals} {key}", ALICE, None, True, ""),
    "key not allowed": ("{principals} {other}", ALICE, None, False, "is not in the allowed signers"),
    "identity mismatch": ("{principals} {key}", "bob@example.com", None, False, "not an allowed principal"),
    "wildcard principal": ("*@example.com {key}", "carol@example.com", None, True, ""),
    "question mark": ("?ob@example.com {key}", "bob@example.com", None, True, ""),
    "negated principal": ("!alice@*,*@example.com {key}", ALICE, None, False, "not an allowed principal"),
    "negation spares others": ("!alice@*,*@example.com {key}", "bob@example.com", None, True, ""),
    "principal list": ("bob@example.com,{principals} {key}", ALICE, None, True, ""),
    "quoted principals": ('"{principals}" {key}', ALICE, None, True, ""),
    "namespaces restricts": ('{principals} namespaces="git,file" {key}', ALICE, None, False, "not allowed for namesp"),
    "namespaces matches": ('{principals} NameSpaces="git,dcs-*" {key}', ALICE, None, True, ""),
    "namespaces negated": ('{principals} namespaces="!dcs-*,*" {key}', ALICE, None, False, "not allowed for namespace"),
    "expired": ('{principals} valid-before="20200101Z" {key}', ALICE, None, False, "key has expired"),
    "not yet valid": ('{principals} valid-after="29990101Z" {key}', ALICE, None, False, "not yet valid"),
    "in window": ('{principals} valid-after="20200101",valid-before="29991231235959Z" {key}', ALICE, None, True, ""),
    "before boundary": ('{principals} valid-before="20240101120000Z" {key}', ALICE, "20240101120000Z", True, ""),
    "after boundary": ('{principals} valid-before="20240101120000Z" {key}', ALICE, "20240101120001Z", False, "expired"),
    "valid-after boundary": ('{principals} valid-after="202401011200Z" {key}', ALICE, "20240101120000Z", True, ""),
    "cert-authority line": ("{principals} cert-authority {key}", ALICE, None, False, "not in the allowed signers"),
    "second line wins": ('{principals} namespaces="git" {key}\n{principals} {key}', ALICE, None, True, ""),
    "first refusal named": (
        '{principals} namespaces="git" {key}\n{principals} valid-before="20200101Z" {key}',
        ALICE,
        None,
        False,
        "line 2: key is not allowed for namespace 'dcs-conformance'",
    ),
}


@pytest.mark.parametrize("case", POLICY_CASES)
def test_allowed_signers_policy_matches_ssh_keygen(
    case: str, keys: Keys, signed: tuple[str, bytes, str], tmp_path: Path
) -> None:
    template, identity, when, accepted, reason = POLICY_CASES[case]
    signature, data, _ = signed
    line = template.format(principals=ALICE, key=keys.public_line("ed25519"), other=keys.public_line("ecdsa256"))
    allowed_text = f"# policy case {case}\n{line}\n"
    allowed = sshsig.parse_allowed_signers(allowed_text)
    verify_time = (
        None
        if when is None
        else calendar.timegm(
            (
                int(when[:4]),
                int(when[4:6]),
                int(when[6:8]),
                int(when[8:10]),
                int(when[10:12]),
                int(when[12:14]),
                0,
                0,
                0,
            )
        )
    )
    assert keygen_verifies(signature, data, allowed_text, tmp_path, identity=identity, verify_time=when) is accepted
    if accepted:
        signer = sshsig.verify(signature, data, NAMESPACE, allowed, identity, verify_time=verify_time)
        assert signer.principals == (identity,)
        assert signer.fingerprint == keys.fingerprint("ed25519")
    else:
        with pytest.raises(sshsig.SignatureError, match=reason):
            sshsig.verify(signature, data, NAMESPACE, allowed, identity, verify_time=verify_time)


def test_without_identity_the_accepting_principals_are_reported(signed: tuple[str, bytes, str], keys: Keys) -> None:
    signature, data, _ = signed
    key = keys.public_line("ed25519")
    text = (
        f"!mallory@*,{ALICE},*@ci.example.com {key}\n"
        f'ops@example.com namespaces="other" {key}\n'
        f"bob@example.com,{ALICE} {key}\n"
        f"dave@example.com {keys.public_line('ecdsa256')}\n"
    )
    signer = sshsig.verify(signature, data, NAMESPACE, sshsig.parse_allowed_signers(text))
    assert signer.principals == (ALICE, "*@ci.example.com", "bob@example.com")


# --- key loading ------------------------------------------------------------------------------------------------


def bad_key_files(keys: Keys, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "garbage").write_bytes(os.urandom(300))
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "huge").write_bytes(b"\0" * (2 << 20))
    text = keys.path("ed25519").read_text().splitlines()
    (tmp_path / "truncated").write_text("\n".join([*text[:3], text[-1]]) + "\n")
    (tmp_path / "bad-base64").write_text(f"{text[0]}\n!!!!\n{text[-1]}\n")
    (tmp_path / "unreadable").write_text("x")
    (tmp_path / "unreadable").chmod(0)
    return {
        "encrypted": (keys.path("encrypted"), "encrypted with a passphrase"),
        "dsa": (keys.path("dsa"), "unsupported key type 'ssh-dss'"),
        "garbage": (tmp_path / "garbage", "not an OpenSSH or PEM private key"),
        "empty": (tmp_path / "empty", "not an OpenSSH or PEM private key"),
        "huge": (tmp_path / "huge", "too large"),
        "truncated": (tmp_path / "truncated", "corrupt"),
        "bad base64": (tmp_path / "bad-base64", "corrupt OpenSSH private key"),
        "public key": (keys.path("ed25519.pub"), "SSH public key, not a private key"),
        "certificate": (keys.path("user-cert.pub"), "SSH certificate, not a private key"),
        "missing": (tmp_path / "does-not-exist", "No such file or directory"),
        "directory": (tmp_path, "Is a directory"),
        "unreadable": (tmp_path / "unreadable", "Permission denied" if os.geteuid() != 0 else "not an OpenSSH"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "encrypted",
        "dsa",
        "garbage",
        "empty",
        "huge",
        "truncated",
        "public key",
        "certificate",
        "missing",
        "directory",
        "unreadable",
    ],
)
def test_unusable_key_raises_one_line_error(case: str, keys: Keys, tmp_path: Path) -> None:
    path, reason = bad_key_files(keys, tmp_path)[case]
    with pytest.raises(sshsig.SignatureKeyError) as caught:
        sshsig.load_private_key(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message
    assert caught.value.__cause__ is None  # no chained cryptography internals
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    if path.is_file() and os.access(path, os.R_OK):
        secret_lines = [line for line in path.read_bytes().splitlines() if len(line) > 20]
        assert not any(line.decode("latin-1")[:20] in message for line in secret_lines)


def test_unsupported_in_memory_keys_are_refused() -> None:
    with pytest.raises(sshsig.SignatureKeyError, match="unsupported key type Ed448"):
        sshsig.SigningKey(ed448.Ed448PrivateKey.generate())
    with pytest.raises(sshsig.SignatureKeyError, match="unsupported key type DSA"):
        sshsig.SigningKey(dsa.generate_private_key(1024))
    with pytest.raises(sshsig.SignatureKeyError, match="unsupported ECDSA curve secp256k1"):
        sshsig.SigningKey(ec.generate_private_key(ec.SECP256K1()))


def test_signing_key_from_ed25519_object_matches_loaded_key(keys: Keys) -> None:
    loaded = sshsig.load_private_key(keys.path("ed25519"))
    assert isinstance(loaded.private_key, ed25519.Ed25519PrivateKey)
    again = sshsig.SigningKey(loaded.private_key)
    assert again.public_blob == loaded.public_blob
    assert again.key_type == "ssh-ed25519"


# --- allowed_signers parsing --------------------------------------------------------------------------------------


def test_parse_allowed_signers_fields(keys: Keys) -> None:
    key = keys.public_line("ed25519")
    text = (
        f"  # indented comment\n\n\t\n"
        f"{ALICE},bob@example.com {key} the comment\n"
        f'*@example.com CERT-AUTHORITY,namespaces="a,b",Valid-After="20240102Z",valid-before="20240102030405UTC"'
        f" {key}\n"
        f"dsa@example.com {keys.public_line('dsa')}\n"
    )
    first, second, third = sshsig.parse_allowed_signers(text)
    assert (first.line, first.principals, first.key_type, first.cert_authority) == (
        4,
        f"{ALICE},bob@example.com",
        "ssh-ed25519",
        False,
    )
    assert first.key_blob == base64.b64decode(key.split()[1])
    assert (first.namespaces, first.valid_after, first.valid_before) == (None, None, None)
    assert second.cert_authority
    assert second.namespaces == "a,b"
    assert second.valid_after == calendar.timegm((2024, 1, 2, 0, 0, 0, 0, 0, 0))
    assert second.valid_before == calendar.timegm((2024, 1, 2, 3, 4, 5, 0, 0, 0))
    assert third.key_type == "ssh-dss"  # kept, so a shared file still parses; it can never match


@pytest.mark.parametrize(
    ("verify_time", "accepted"),
    [("20240701165959Z", True), ("20240701170000Z", True), ("20240701170001Z", False)],
)
def test_local_times_follow_openssh_mktime(
    verify_time: str,
    accepted: bool,
    *,
    signed: tuple[str, bytes, str],
    keys: Keys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without Z a time is local, and OpenSSH calls mktime() with tm_isdst=0, i.e. standard time even in summer.

    In EST5EDT, "20240701120000" is therefore 17:00Z (not 16:00Z as a DST-aware reading would give); ssh-keygen
    is asked too, so this pins OpenSSH's actual behaviour.
    """
    monkeypatch.setenv("TZ", "EST5EDT")
    time.tzset()
    try:
        signature, data, _ = signed
        text = f'{ALICE} valid-before="20240701120000" {keys.public_line("ed25519")}\n'
        (signer,) = sshsig.parse_allowed_signers(text)
        assert signer.valid_before == calendar.timegm((2024, 7, 1, 17, 0, 0, 0, 0, 0))
        assert keygen_verifies(signature, data, text, tmp_path, verify_time=verify_time) is accepted
        when = calendar.timegm(time.strptime(verify_time, "%Y%m%d%H%M%SZ"))
        if accepted:
            assert sshsig.verify(signature, data, NAMESPACE, [signer], ALICE, verify_time=when)
        else:
            with pytest.raises(sshsig.SignatureError, match="key has expired"):
                sshsig.verify(signature, data, NAMESPACE, [signer], ALICE, verify_time=when)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ("bogus", "unknown key option"),
        ("namespaces=file", "missing start quote"),
        ('namespaces="file', "unterminated quotes"),
        ('namespaces="a",namespaces="b"', 'multiple "namespaces"'),
        ('valid-before="20240101",valid-before="20250101"', 'multiple "valid-before"'),
        ('valid-after="2024"', 'invalid "valid-after" time'),
        ('valid-after="20241301"', 'invalid "valid-after" time'),
        ('valid-after="20240230"', 'invalid "valid-after" time'),
        ('valid-after="20250101Z",valid-before="20240101Z"', "before"),
        ('namespaces="a",', "unexpected end-of-options"),
    ],
)
def test_parse_allowed_signers_rejects_bad_options(options: str, reason: str, keys: Keys, tmp_path: Path) -> None:
    text = f"# ok\n{ALICE} {options} {keys.public_line('ed25519')}\n"
    with pytest.raises(sshsig.AllowedSignersError, match=f"line 2: .*{reason}"):
        sshsig.parse_allowed_signers(text)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (ALICE, "invalid line"),
        (f"{ALICE} ", "missing key"),
        (f'"{ALICE} ssh-ed25519 AAAA', "invalid line"),
        (f"{ALICE} ssh-ed25519 AAAA!", "invalid key"),
        (f"{ALICE} ssh-ed25519 " + base64.b64encode(ssh_string(b"ssh-rsa") + ssh_string(b"x")).decode(), "invalid key"),
        (
            f"{ALICE} ssh-ed25519 " + base64.b64encode(ssh_string(b"ssh-ed25519") + ssh_string(b"short")).decode(),
            "not 32 bytes",
        ),
    ],
)
def test_parse_allowed_signers_rejects_bad_lines(line: str, reason: str) -> None:
    with pytest.raises(sshsig.AllowedSignersError, match=f"line 1: .*{reason}"):
        sshsig.parse_allowed_signers(line + "\n")


@pytest.mark.parametrize(
    ("string", "patterns", "expected"),
    [
        ("alice@example.com", "alice@example.com", 1),
        ("alice@example.com", "*@example.com", 1),
        ("alice@example.com", "*@example.org", 0),
        ("alice@example.com", "?lice@*", 1),
        ("alice@example.com", "??lice@*", 0),
        ("alice@example.com", "bob@*,alice@*", 1),
        ("alice@example.com", "*,!alice@*", -1),
        ("alice.x", "alice?x", 1),
        ("alice", "ALICE", 0),
        ("a+b", "a+b", 1),
        ("", "", 0),
        ("", "a,", 0),
        ("", "a,,b", 1),
        ("", "!", -1),
    ],
)
def test_match_pattern_list(string: str, patterns: str, expected: int) -> None:
    assert sshsig.match_pattern_list(string, patterns) == expected


# --- what the suite adds: pickling, naming, the key a signature names, RSA's upper bound --------------------------


def test_a_signing_key_pickles_to_a_worker_process_and_signs_the_same(keys: Keys) -> None:
    """A many-targets run sends each target's settings, the loaded signing key among them, to a worker process."""
    key = sshsig.load_private_key(keys.path("ed25519"))
    again = pickle.loads(pickle.dumps(key))
    assert again.fingerprint == key.fingerprint
    assert sshsig.sign(again, b"data", NAMESPACE) == sshsig.sign(key, b"data", NAMESPACE)


def test_a_signing_key_shows_its_fingerprint_never_its_material(keys: Keys) -> None:
    key = sshsig.load_private_key(keys.path("ed25519"))
    assert repr(key) == f"SigningKey(ssh-ed25519 {keys.fingerprint('ed25519')})"


def test_signature_key_names_the_key_inside_a_signature(signed: tuple[str, bytes, str], keys: Keys) -> None:
    signature, data, _ = signed
    named = sshsig.signature_key(signature)
    assert sshsig.fingerprint_of(named) == keys.fingerprint("ed25519")
    assert sshsig.verify(signature, data, NAMESPACE, [named]).fingerprint == keys.fingerprint("ed25519")
    with pytest.raises(sshsig.SignatureError, match="does not start with"):
        sshsig.signature_key("not a signature")


def test_an_rsa_key_over_16384_bits_is_refused_by_both(keys: Keys, tmp_path: Path) -> None:
    """OpenSSH's SSH_RSA_MAXIMUM_MODULUS_SIZE: refused before any arithmetic on it."""
    key = sshsig.load_private_key(keys.path("rsa2048"))
    fields = split_blob(blob_of(sshsig.sign(key, b"data", NAMESPACE)))
    modulus = (1 << 16392) - 1
    huge = ssh_string(b"ssh-rsa") + ssh_string(b"\1\0\1") + ssh_string(b"\0" + modulus.to_bytes(2049, "big"))
    allowed = f"{ALICE} {key.public_key_line}\n"
    expect_refusal(armor(build_blob([huge, *fields[1:]])), b"data", allowed, "longer than 16384", tmp_path)
