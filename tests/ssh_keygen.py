"""OpenSSH's ssh-keygen (Debian's openssh-client) as the independent judge of our SSHSIG signatures.

Tests that need it call ``keygen_path()``: without ssh-keygen they are skipped, loudly (a warning, and a line in the
terminal summary, through tests/summary.py), so that a green run without it is never mistaken for a run with it.
.ci/run installs openssh-client when it is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import NoReturn

import pytest

from tests import summary

KEYGEN = shutil.which("ssh-keygen")
NAMESPACE = "dcs-conformance"


def _skip_loudly(reason: str) -> NoReturn:
    message = f"SSH-KEYGEN TESTS SKIPPED: {reason}"
    if summary.add(message, loud=True):
        warnings.warn(message, stacklevel=3)
    pytest.skip(message)


def keygen_path() -> str:
    """The ssh-keygen executable, or a loud skip of the calling test."""
    if KEYGEN is None:
        _skip_loudly("ssh-keygen is not installed (apt-get install openssh-client)")
    return KEYGEN


def keygen(*args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run ssh-keygen without an agent, so it signs with the key file we name and never with an agent's key."""
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run([keygen_path(), *args], input=stdin, capture_output=True, env=env, check=check)


def make_key(path: Path, *spec: str, passphrase: str = "") -> Path:
    """A fresh private key made by ssh-keygen (``spec``: e.g. ``-t ed25519``), beside its ``.pub``."""
    keygen("-q", *(spec or ("-t", "ed25519")), "-N", passphrase, "-C", path.name, "-f", str(path))
    return path


def public_line(key: Path) -> str:
    """``TYPE BASE64`` of the key's .pub file, without the comment: the key part of an allowed_signers line."""
    return " ".join(key.with_name(key.name + ".pub").read_text().split()[:2])


def keygen_verify(
    signed: Path, signature: Path, allowed_signers: Path, identity: str
) -> subprocess.CompletedProcess[bytes]:
    """``ssh-keygen -Y verify -f ALLOWED -I IDENTITY -n dcs-conformance -s SIG < FILE``: what anyone can run."""
    args = ["-Y", "verify", "-f", str(allowed_signers), "-I", identity, "-n", NAMESPACE, "-s", str(signature)]
    return keygen(*args, stdin=signed.read_bytes(), check=False)
