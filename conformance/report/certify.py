"""The certification bundle: a badge, SHA256SUMS over the report files and, with a signing key, SHA256SUMS.sig, an
OpenSSH signature over the sums that ``ssh-keygen -Y verify`` checks as well as ``verify`` does.

What each part proves. SHA256SUMS alone is integrity: nothing was edited, added or dropped since the sums were
written, but anyone holding the bundle can rewrite them. The signature (SSHSIG, namespace ``dcs-conformance``, over
SHA256SUMS, which names every member's digest) proves who wrote the sums, against an allowed_signers file of the
keys the verifier trusts. Beyond the bytes, ``inspect`` checks that the bundle says what its findings say: the
statuses, counts and verdict re-derived from report.json (report/consistency.py), the badge and the page rendered
again from it (the page by the renderer the caller passes: reporters sit above this layer), and the spec and
catalogue hashes equal to this suite's own.

A bundle is a directory of regular files with fixed names: members that are links, directories, device files,
names with a slash, ``.``, ``..``, or longer than 255 bytes are refused before anything is opened, and members are
hashed in a stream, never read whole (only report.json is parsed, and only below MAX_REPORT_BYTES).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from conformance import __version__
from conformance.contract import catalogue_sha256, load_catalogue, spec_sha256
from conformance.report import consistency
from conformance.report.model import Report
from conformance.report.store import MAX_REPORT_BYTES as MAX_REPORT_BYTES
from conformance.report.store import REPORT_FILE, load_report
from conformance.support import sshsig
from conformance.support.errors import NotABundle as NotABundle
from conformance.support.files import write_atomically

SUMS_FILE = "SHA256SUMS"
SIGNATURE_FILE = f"{SUMS_FILE}.sig"
BADGE_FILE = "badge.svg"
BUNDLE_FILES = ("report.json", "junit.xml", "index.html", BADGE_FILE)
PAGE_FILE = "index.html"
PASSING = consistency.PASSING
#: The SSHSIG namespace of a certificate's signature: ``ssh-keygen -Y sign -n dcs-conformance``.
NAMESPACE = "dcs-conformance"
#: SHA256SUMS lists four files; a signature is about 300 bytes (an RSA-16384 one about 3 KiB); an allowed_signers
#: file is a few lines. Larger ones are not read.
MAX_SUMS_BYTES = 64 * 1024
MAX_SIGNATURE_BYTES = 64 * 1024
MAX_ALLOWED_SIGNERS_BYTES = 1024 * 1024
#: NAME_MAX on Linux and most file systems: a longer name cannot be a file of the bundle.
MAX_NAME_BYTES = 255
CHUNK = 1024 * 1024
COLOURS = {
    "conformant": "#2e7d32",
    "conformant-with-warnings": "#b26a00",
    "non-conformant": "#c62828",
    "incomplete": "#6d6d6d",
    "error": "#6a1b9a",
}
_SUMS_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


def badge_svg(report: Report) -> str:
    """A shields-style badge: 'DCS batch-restart <version>' | verdict."""
    left = f"DCS batch-restart {report['suite_version']}"
    right = report["verdict"]
    left_w, right_w = 7 * len(left) + 12, 7 * len(right) + 12
    width = left_w + right_w
    colour = COLOURS.get(right, "#6d6d6d")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{escape(left)}: {escape(right)}">'
        f"<title>{escape(left)}: {escape(right)}</title>"
        f'<rect width="{left_w}" height="20" fill="#555"/>'
        f'<rect x="{left_w}" width="{right_w}" height="20" fill="{colour}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">'
        f'<text x="{left_w / 2}" y="14">{escape(left)}</text>'
        f'<text x="{left_w + right_w / 2}" y="14">{escape(right)}</text>'
        f"</g></svg>\n"
    )


def sha256_of(path: Path) -> str:
    """The SHA-256 of a regular file, read in a stream (never whole) and never through a symbolic link."""
    hasher = hashlib.sha256()
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def write_bundle(report: Report, directory: Path, sign_key: sshsig.SigningKey | None = None) -> list[Path]:
    """Write badge.svg, then SHA256SUMS over every bundle file present (sha256sum's format) and, with
    ``sign_key``, SHA256SUMS.sig: exactly what ``ssh-keygen -Y sign -n dcs-conformance -f KEY SHA256SUMS`` writes."""
    badge = write_atomically(directory / BADGE_FILE, badge_svg(report))
    lines = [f"{sha256_of(directory / name)}  {name}\n" for name in BUNDLE_FILES if (directory / name).is_file()]
    sums = "".join(lines)
    written = [badge, write_atomically(directory / SUMS_FILE, sums)]
    if sign_key is not None:
        signature = sshsig.sign(sign_key, sums.encode("utf-8"), NAMESPACE)
        written.append(write_atomically(directory / SIGNATURE_FILE, signature))
    return written


def load_allowed_signers(path: Path) -> list[sshsig.AllowedSigner]:
    """An allowed_signers file (OpenSSH's format), or ValueError with one line naming the file and the problem."""
    try:
        data = _read_small(path, MAX_ALLOWED_SIGNERS_BYTES)
        return sshsig.parse_allowed_signers(data.decode("utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the allowed signers file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"the allowed signers file {path} is not UTF-8 text") from None
    except sshsig.AllowedSignersError as exc:
        raise ValueError(f"{path}: {exc}") from None


@dataclass
class Inspection:
    """What ``inspect`` found: the problems (none: a valid certificate), and what it could establish."""

    problems: list[str] = field(default_factory=list)
    report: Report | None = None
    #: The signer, checked against the allowed signers.
    signer: sshsig.Signer | None = None
    #: A signature that verified against the key it names, with no allowed signers to say whose key that is.
    unvouched_key: str | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


def verify(directory: Path) -> list[str]:
    """Every reason the bundle in ``directory`` is not a valid certificate for this suite version (empty: valid),
    without the page comparison (see ``inspect``)."""
    try:
        return inspect(directory).problems
    except NotABundle as exc:
        return [str(exc)]


def inspect(
    directory: Path,
    *,
    allowed: list[sshsig.AllowedSigner] | None = None,
    identity: str | None = None,
    renderers: Mapping[str, Callable[[Report], str | bytes]] | None = None,
) -> Inspection:
    """Check the bundle in ``directory``, stage by stage; a stage that fails leaves the later ones unchecked, so
    the first reason is the one that matters (the bytes were changed, the signature is missing...).

    ``allowed``: the allowed signers; a signature by one of them is then required (for ``identity``, if given).
    ``renderers``: members (index.html, junit.xml) as the suite renders them from a report, by name, to compare
    with the bundle's (the reporters sit above this layer; the caller passes them).
    Raises NotABundle when the directory holds no dcs-conformance report.json."""
    found = Inspection()
    found.report = report = _load(directory, found.problems)
    if report is None:
        return found
    listed = _sums(directory, found.problems)
    if listed is None or found.problems:
        return found
    _signature(directory, allowed, identity, found)
    if found.problems:
        return found
    _digests(directory, listed, found.problems)
    _contract(report, found.problems)
    if found.problems:
        return found
    try:
        found.problems += consistency.problems(report, load_catalogue())
        if _digest_of(badge_svg(report)) != listed[BADGE_FILE]:
            found.problems.append(f"{BADGE_FILE} is not the badge report.json gives (verdict {report['verdict']!r})")
        for name, render in (renderers or {}).items():
            if _digest_of(render(report)) != listed[name]:
                what = "the page" if name == PAGE_FILE else "what"
                found.problems.append(
                    f"{name} is not {what} report.json renders to: it was edited or re-rendered after the run"
                    + _made_by(report)
                )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a hand-made report that passed the schema
        found.problems.append(f"report.json is not a report a run writes ({type(exc).__name__}: {str(exc)[:80]})")
    if report.get("verdict") not in PASSING:
        found.problems.append(f"the verdict is {report.get('verdict')!r}, not conformant")
    if not (report.get("options") or {}).get("certify"):
        found.problems.append("the run was not made with --certify")
    return found


def _load(directory: Path, problems: list[str]) -> Report | None:
    """report.json, if it is a regular file of a reasonable size holding a dcs-conformance report."""
    path = directory / REPORT_FILE
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise NotABundle(f"{directory} holds no {REPORT_FILE}: give the directory a run wrote its reports to") from None
    except OSError as exc:
        raise NotABundle(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        problems.append(f"{REPORT_FILE} is {_kind(info.st_mode)}: a bundle holds only regular files")
        return None
    if info.st_size > MAX_REPORT_BYTES:
        problems.append(
            f"{REPORT_FILE} is {info.st_size} bytes, more than any run writes ({MAX_REPORT_BYTES}): not read"
        )
        return None
    try:
        return load_report(directory)
    except ValueError as exc:
        raise NotABundle(str(exc)) from None


def _sums(directory: Path, problems: list[str]) -> dict[str, str] | None:
    """SHA256SUMS's names and digests, every name checked to be a plain member name; and every entry of the
    directory checked to be a regular file that the sums (or the signature) account for."""
    path = directory / SUMS_FILE
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        problems.append(f"{SUMS_FILE} is missing: the run was not made with --certify")
        return None
    if not stat.S_ISREG(mode):
        problems.append(f"{SUMS_FILE} is {_kind(mode)}: a bundle holds only regular files")
        return None
    try:
        text = _read_small(path, MAX_SUMS_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{SUMS_FILE} cannot be read: {getattr(exc, 'strerror', None) or exc}")
        return None
    listed: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line and number == text.count("\n") + 1:
            break  # the newline that ends the last line
        match = _SUMS_LINE.fullmatch(line)
        if match is None:
            problems.append(f"{SUMS_FILE} line {number} is not '<sha256 in hex>  <name>'")
            continue
        digest, name = match.groups()
        refusal = name_problem(name)
        if refusal:
            problems.append(f"{SUMS_FILE} line {number} {refusal}")
        elif name in listed:
            problems.append(f"{name} is listed twice in {SUMS_FILE}")
        elif name in (SUMS_FILE, SIGNATURE_FILE) or name not in BUNDLE_FILES:
            problems.append(
                f"{SUMS_FILE} lists {name!r}, which is no member of a certification bundle ({', '.join(BUNDLE_FILES)})"
            )
        else:
            listed[name] = digest
    if problems:
        return None
    for name in BUNDLE_FILES:
        if name not in listed:
            problems.append(f"{name} is not covered by {SUMS_FILE}")
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        info = entry.stat(follow_symlinks=False)
        shown = _shown(entry.name)
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{shown} is {_kind(info.st_mode)}: a bundle holds only regular files")
        elif entry.name not in listed and entry.name not in (SUMS_FILE, SIGNATURE_FILE):
            problems.append(f"{shown} is in the bundle but not listed in {SUMS_FILE}")
    return listed


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the name of a bundle member (a plain file name in the bundle's directory), or None."""
    shown = _shown(name)
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return f"names {shown}, longer than {MAX_NAME_BYTES} bytes: no file of a bundle has such a name"
    if name.startswith("/"):
        return f"names {shown}, an absolute path: bundle members are plain names in the bundle's directory"
    if "/" in name or "\\" in name:
        return f"names {shown}, a path: bundle members are plain names in the bundle's directory"
    if name in (".", ".."):
        return f"names {shown}, a directory: bundle members are plain names in the bundle's directory"
    if not name.isprintable():
        return f"names {shown}, with control characters: no file of a bundle has such a name"
    return None


def _signature(
    directory: Path, allowed: list[sshsig.AllowedSigner] | None, identity: str | None, found: Inspection
) -> None:
    """SHA256SUMS.sig: required with allowed signers, and then by one of them; without, checked against the key it
    names (that it is whole, not whose it is)."""
    path = directory / SIGNATURE_FILE
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        if allowed is not None:
            found.problems.append(
                f"the bundle is unsigned (no {SIGNATURE_FILE}), and --allowed-signers asks for a signature by an "
                "allowed key"
            )
        return
    if not stat.S_ISREG(mode):
        found.problems.append(f"{SIGNATURE_FILE} is {_kind(mode)}: a bundle holds only regular files")
        return
    try:
        signature = _read_small(path, MAX_SIGNATURE_BYTES)
        sums = _read_small(directory / SUMS_FILE, MAX_SUMS_BYTES)
    except OSError as exc:
        found.problems.append(f"{SIGNATURE_FILE} cannot be read: {exc.strerror or exc}")
        return
    try:
        if allowed is not None:
            found.signer = sshsig.verify(signature, sums, NAMESPACE, allowed, identity)
        else:
            key = sshsig.signature_key(signature)
            sshsig.verify(signature, sums, NAMESPACE, [key])
            found.unvouched_key = f"{key.key_type} {sshsig.fingerprint_of(key)}"
    except sshsig.SignatureError as exc:
        found.problems.append(f"{SIGNATURE_FILE} does not sign this bundle: {exc}")


def _digests(directory: Path, listed: dict[str, str], problems: list[str]) -> None:
    for name, digest in listed.items():
        try:
            actual = sha256_of(directory / name)
        except FileNotFoundError:
            problems.append(f"{name} is listed in {SUMS_FILE} but missing")
            continue
        except OSError as exc:
            problems.append(f"{name} cannot be read: {exc.strerror or exc}")
            continue
        if actual != digest:
            problems.append(f"{name} was modified after the run (SHA-256 mismatch)")


def _contract(report: Report, problems: list[str]) -> None:
    """The spec and the catalogue the run was judged by must be this suite's: statuses are re-derived, and the page
    re-rendered, by this suite's catalogue and code."""
    if report.get("spec_sha256") != spec_sha256():
        problems.append(
            f"the report was judged against spec {str(report.get('spec_sha256'))[:12]}..., "
            f"not this suite's spec {spec_sha256()[:12]}... (suite {__version__})" + _made_by(report)
        )
    if report.get("catalogue_sha256") != catalogue_sha256():
        judged = report.get("catalogue_sha256")
        problems.append(
            f"the report was judged by requirement catalogue {str(judged)[:12] + '...' if judged else '(unrecorded)'}, "
            f"not this suite's catalogue {catalogue_sha256()[:12]}... (suite {__version__})" + _made_by(report)
        )


def _made_by(report: Report) -> str:
    """Which version to verify the bundle with, when it is not this one."""
    made_by = str(report.get("suite_version"))
    return f"; it was made by dcs-conformance {made_by}: verify it with that version" if made_by != __version__ else ""


def _read_small(path: Path, limit: int) -> bytes:
    """A small regular file whole (never through a symbolic link), or OSError when it is larger than ``limit``."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path.name} is larger than {limit} bytes")
    return data


def _digest_of(content: str | bytes) -> str:
    return hashlib.sha256(content.encode("utf-8") if isinstance(content, str) else content).hexdigest()


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def _shown(name: str) -> str:
    """A name as a message shows it: quoted, escaped, and cut in the middle past 60 characters."""
    shown = repr(name) if len(name) <= 60 else f"{name[:28]!r}...{name[-28:]!r} ({len(name)} characters)"
    return shown
