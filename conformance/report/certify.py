"""The certification bundle: a badge, and SHA256SUMS over the report files, that ``verify`` can check later.

The sums prove integrity (nothing was edited, added or dropped after the run), not authorship; the spec and
catalogue hashes prove which contract and which requirements the run was judged against.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from xml.sax.saxutils import escape

from conformance import __version__
from conformance.contract import catalogue_sha256, spec_sha256
from conformance.report.model import Report
from conformance.report.store import ReportError, load_report
from conformance.support.files import write_atomically

SUMS_FILE = "SHA256SUMS"
BADGE_FILE = "badge.svg"
BUNDLE_FILES = ("report.json", "junit.xml", "index.html", BADGE_FILE)
PASSING = ("conformant", "conformant-with-warnings")
COLOURS = {
    "conformant": "#2e7d32",
    "conformant-with-warnings": "#b26a00",
    "non-conformant": "#c62828",
    "incomplete": "#6d6d6d",
    "error": "#6a1b9a",
}


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
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_bundle(report: Report, directory: Path) -> list[Path]:
    """Write badge.svg, then SHA256SUMS over every bundle file present (sha256sum's format)."""
    badge = write_atomically(directory / BADGE_FILE, badge_svg(report))
    lines = [f"{sha256_of(directory / name)}  {name}\n" for name in BUNDLE_FILES if (directory / name).is_file()]
    return [badge, write_atomically(directory / SUMS_FILE, "".join(lines))]


def links_in(directory: Path) -> list[str]:
    """A problem for every symbolic link in the bundle directory: a certificate is made of files, and a link's
    target (outside the bundle, perhaps) can change after the run, or be a file that is not the reader's to read."""
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    return [
        f"{entry.name!r} is a symbolic link: a certificate holds files only, so nothing is read through it"
        for entry in entries
        if entry.is_symlink()
    ]


def verify(directory: Path) -> list[str]:
    """Every reason the bundle in ``directory`` is not a valid certificate for this suite version (empty: valid).

    Every file of the bundle must be listed in SHA256SUMS and match it, and nothing else may sit beside them: an
    edited file whose line was dropped, or an added file, would otherwise pass as part of the certificate."""
    problems = links_in(directory)
    if problems:
        return problems
    sums = directory / SUMS_FILE
    if not sums.is_file():
        return [f"{SUMS_FILE} is missing: the run was not made with --certify"]
    listed: dict[str, str] = {}
    try:
        lines = sums.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{SUMS_FILE} cannot be read: {exc}"]
    for number, line in enumerate(lines, start=1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or "/" in name or name in (".", ".."):
            problems.append(f"{SUMS_FILE} line {number} is malformed")
        elif name in listed:
            problems.append(f"{name} is listed twice in {SUMS_FILE}")
        else:
            listed[name] = digest
    for name in BUNDLE_FILES:
        if name not in listed:
            problems.append(f"{name} is not covered by {SUMS_FILE}")
    present = {entry.name for entry in directory.iterdir()} - {SUMS_FILE}
    for name in sorted(present - set(listed)):
        problems.append(f"{name!r} is in the bundle but not listed in {SUMS_FILE}")
    for name, digest in listed.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name} is listed in {SUMS_FILE} but missing")
        elif sha256_of(path) != digest:
            problems.append(f"{name} was modified after the run (SHA-256 mismatch)")
    try:
        report = load_report(directory)
    except ReportError as exc:
        return [*problems, str(exc)]
    if report.get("spec_sha256") != spec_sha256():
        problems.append(
            f"the report was judged against spec {str(report.get('spec_sha256'))[:12]}..., "
            f"not this suite's spec {spec_sha256()[:12]}... (suite {__version__})"
        )
    if report.get("catalogue_sha256") != catalogue_sha256():
        judged = report.get("catalogue_sha256")
        problems.append(
            f"the report was judged by requirement catalogue {str(judged)[:12] + '...' if judged else '(unrecorded)'}, "
            f"not this suite's catalogue {catalogue_sha256()[:12]}... (suite {__version__})"
        )
    if report.get("verdict") not in PASSING:
        problems.append(f"the verdict is {report.get('verdict')!r}, not conformant")
    if not (report.get("options") or {}).get("certify"):
        problems.append("the run was not made with --certify")
    return problems
