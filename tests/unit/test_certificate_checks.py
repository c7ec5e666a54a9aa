"""What verify checks beyond the hashes, without a run: statuses, counts and verdict re-derived from what report.json
records (report/consistency.py), member names and kinds refused before anything is opened, the signature, the
badge and the page rendered again. Bundles are built from the golden reports of real runs (tests/golden)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from conformance.app.run import write_reports
from conformance.contract import load_catalogue
from conformance.report import consistency
from conformance.report.certify import (
    MAX_REPORT_BYTES,
    NotABundle,
    inspect,
    load_allowed_signers,
    name_problem,
    sha256_of,
)
from conformance.reporters import html, junit
from conformance.support import sshsig

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SIGNER = "ci@example.com"


def golden(name: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((GOLDEN / f"report-{name}.json").read_text(encoding="utf-8"))
    return report


def certified(name: str = "conformant") -> dict[str, Any]:
    """A golden report as a --certify run records it."""
    report = golden(name)
    report["options"]["certify"] = True
    return report


def requirement(report: dict[str, Any], status: str, level: str = "MUST") -> dict[str, Any]:
    item: dict[str, Any] = next(
        req for req in report["requirements"] if req["status"] == status and req["level"] == level
    )
    return item


def problems(report: dict[str, Any]) -> list[str]:
    return consistency.problems(report, load_catalogue())  # type: ignore[arg-type]


def bundle(tmp_path: Path, report: dict[str, Any] | None = None, key: sshsig.SigningKey | None = None) -> Path:
    directory = tmp_path / "bundle"
    directory.mkdir()
    write_reports(report or certified(), directory, certify=True, sign_key=key)  # type: ignore[arg-type]
    return directory


def resum(directory: Path) -> None:
    """What a forger does after editing members: sha256sum over them again."""
    names = ("report.json", "junit.xml", "index.html", "badge.svg")
    (directory / "SHA256SUMS").write_text("".join(f"{sha256_of(directory / name)}  {name}\n" for name in names))


@pytest.fixture(scope="module")
def key() -> sshsig.SigningKey:
    return sshsig.SigningKey(ed25519.Ed25519PrivateKey.generate())


def allowed_for(key: sshsig.SigningKey, principal: str = SIGNER) -> list[sshsig.AllowedSigner]:
    return sshsig.parse_allowed_signers(f"{principal} {key.public_key_line}\n")


# --- statuses, counts and verdict follow from the findings --------------------------------------------------------


@pytest.mark.parametrize("name", ["conformant", "non-conformant"])
def test_a_real_runs_report_says_exactly_what_its_findings_say(name: str) -> None:
    assert problems(golden(name)) == []
    assert problems(certified(name)) == []


def forged_pass(report: dict[str, Any]) -> None:
    failed = requirement(report, "failed")
    failed["status"] = "passed"


def fully_forged_pass(report: dict[str, Any]) -> None:
    failed = requirement(report, "failed")
    failed.update(status="passed", violations=0, evidence=[])


def counts_edited(report: dict[str, Any]) -> None:
    report["counts"]["failed"] = 0


def verdict_edited(report: dict[str, Any]) -> None:
    report["verdict"], report["verdict_reason"] = "conformant", None


def violation_added(report: dict[str, Any]) -> None:
    requirement(report, "passed")["violations"] = 1


def evidence_added(report: dict[str, Any]) -> None:
    requirement(report, "passed")["evidence"] = [{"explanation": "an item was dropped"}]


def more_violations_than_checks(report: dict[str, Any]) -> None:
    failed = requirement(report, "failed")
    failed["violations"] = failed["checks"] + 1


def level_lowered(report: dict[str, Any]) -> None:
    requirement(report, "failed")["level"] = "SHOULD"


def requirement_dropped(report: dict[str, Any]) -> None:
    report["requirements"].remove(requirement(report, "failed"))


def warning_under_strict(report: dict[str, Any]) -> None:
    report["options"]["strict"] = True
    item = requirement(report, "passed", "SHOULD")
    item.update(status="warning", violations=1, reason=f"1 of {item['checks']} checks violated it")


def first_failure_named(report: dict[str, Any]) -> None:
    report["stats"]["first_must_failure"] = {"requirement": "BR-REQ-009", "request": 7, "seconds": 0.1}


def must_skipped_when_certifying(report: dict[str, Any]) -> None:
    item = requirement(report, "passed")
    item.update(status="skipped", checks=0, reason="not exercised")
    report["counts"]["passed"] -= 1
    report["counts"]["skipped"] += 1


FORGERIES = {
    "a failed requirement relabelled passed": (
        "non-conformant",
        forged_pass,
        "is recorded 'passed', but its findings (",
    ),
    "relabelled passed, its violations and evidence dropped, not its reason": (
        "non-conformant",
        fully_forged_pass,
        "gives the reason",
    ),
    "the counts edited": ("non-conformant", counts_edited, "are not those of the recorded statuses"),
    "the verdict edited": (
        "non-conformant",
        verdict_edited,
        "the verdict 'conformant' does not follow from the recorded statuses, which give 'non-conformant'",
    ),
    "a violation added to a passed requirement": ("conformant", violation_added, "make it 'failed'"),
    "failing evidence added to a passed requirement": (
        "conformant",
        evidence_added,
        "records 1 failing finding(s) as evidence, but no violation",
    ),
    "more violations than checks": ("non-conformant", more_violations_than_checks, "violations in"),
    "a MUST recorded as a SHOULD": ("non-conformant", level_lowered, "not recorded as the catalogue states it"),
    "a requirement dropped": ("non-conformant", requirement_dropped, "requirements are not the catalogue's (missing"),
    "a SHOULD violation left a warning under --strict": ("conformant", warning_under_strict, "make it 'failed'"),
    "a conformant verdict naming a first MUST failure": ("conformant", first_failure_named, "first MUST failure"),
    "a MUST skipped, and the certification still conformant": (
        "conformant",
        must_skipped_when_certifying,
        "which give 'incomplete'",
    ),
}


@pytest.mark.parametrize("case", FORGERIES)
def test_an_edit_that_contradicts_the_findings_is_named(case: str) -> None:
    name, edit, reason = FORGERIES[case]
    report = certified(name)
    edit(report)
    found = problems(report)
    assert found, case
    assert any(reason in problem for problem in found), found
    assert all("\n" not in problem for problem in found)


def test_an_error_status_is_taken_as_recorded_and_makes_the_verdict_error() -> None:
    report = certified("conformant")
    item = requirement(report, "passed")
    item.update(status="error", reason="the check could not run")
    report["counts"]["passed"] -= 1
    report["counts"]["error"] += 1
    assert any("which give 'error'" in problem for problem in problems(report))
    report["verdict"] = "error"
    assert problems(report) == []


# --- member names and kinds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../report.json", "a path"),
        ("sub/report.json", "a path"),
        ("/etc/passwd", "an absolute path"),
        ("..", "a directory"),
        (".", "a directory"),
        ("a\\b", "a path"),
        ("x" * 300, "longer than 255 bytes"),
        ("é" * 128, "longer than 255 bytes"),
        ("\x1b[2Jreport.json", "control characters"),
    ],
)
def test_a_name_that_cannot_be_a_member_is_refused_before_anything_is_opened(name: str, reason: str) -> None:
    problem = name_problem(name)
    assert problem is not None and reason in problem
    assert len(problem) < 200 and "\n" not in problem


@pytest.mark.parametrize("name", ["report.json", "junit.xml", "index.html", "badge.svg", "x" * 255])
def test_a_plain_name_is_accepted(name: str) -> None:
    assert name_problem(name) is None


def test_a_300_character_name_in_the_sums_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    directory = bundle(tmp_path)
    with (directory / "SHA256SUMS").open("a") as sums:
        sums.write(f"{'0' * 64}  {'n' * 300}\n")
    found = inspect(directory)
    assert len(found.problems) == 1
    assert found.problems[0].startswith("SHA256SUMS line 5 names 'nnnn")
    assert "longer than 255 bytes" in found.problems[0]


def test_a_malformed_line_in_the_sums_is_named(tmp_path: Path) -> None:
    directory = bundle(tmp_path)
    with (directory / "SHA256SUMS").open("a") as sums:
        sums.write("not a digest  extra\n")
    assert inspect(directory).problems == ["SHA256SUMS line 5 is not '<sha256 in hex>  <name>'"]


@pytest.mark.parametrize("member", ["junit.xml", "report.json", "SHA256SUMS"])
def test_a_symlinked_member_is_refused_even_when_its_target_matches(tmp_path: Path, member: str) -> None:
    directory = bundle(tmp_path)
    original = tmp_path / f"elsewhere-{member}"
    (directory / member).rename(original)
    (directory / member).symlink_to(original)
    shown = repr(member) if member == "junit.xml" else member
    assert inspect(directory).problems == [f"{shown} is a symbolic link: a bundle holds only regular files"]


def test_a_directory_or_a_fifo_in_the_bundle_is_refused_without_blocking(tmp_path: Path) -> None:
    directory = bundle(tmp_path)
    (directory / "extra").mkdir()
    os.mkfifo(directory / "pipe")
    assert inspect(directory).problems == [
        "'extra' is a directory: a bundle holds only regular files",
        "'pipe' is not a regular file: a bundle holds only regular files",
    ]


def test_a_listed_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    directory = bundle(tmp_path)
    (directory / "junit.xml").unlink()
    os.mkfifo(directory / "junit.xml")
    assert inspect(directory).problems == ["'junit.xml' is not a regular file: a bundle holds only regular files"]


def test_a_member_the_sums_list_but_a_bundle_never_holds_is_refused(tmp_path: Path) -> None:
    directory = bundle(tmp_path)
    (directory / "waivers.txt").write_text("BR-REQ-009 waived\n")
    with (directory / "SHA256SUMS").open("a") as sums:
        sums.write(f"{sha256_of(directory / 'waivers.txt')}  waivers.txt\n")
    (problem,) = inspect(directory).problems
    assert problem.startswith("SHA256SUMS lists 'waivers.txt', which is no member of a certification bundle")


def test_a_report_larger_than_any_run_writes_is_not_parsed(tmp_path: Path) -> None:
    directory = bundle(tmp_path)
    with (directory / "report.json").open("r+b") as report:
        report.truncate(MAX_REPORT_BYTES + 1)  # sparse: no disk, and never read
    (problem,) = inspect(directory).problems
    assert (
        problem
        == f"report.json is {MAX_REPORT_BYTES + 1} bytes, more than any run writes ({MAX_REPORT_BYTES}): not read"
    )


def test_a_directory_without_a_report_is_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(NotABundle, match=r"holds no report\.json"):
        inspect(tmp_path)


# --- the signature --------------------------------------------------------------------------------------------------


def test_a_bundle_signed_by_an_allowed_key_names_its_signer(tmp_path: Path, key: sshsig.SigningKey) -> None:
    directory = bundle(tmp_path, key=key)
    found = inspect(directory, allowed=allowed_for(key), renderers={"index.html": html.render})
    assert found.problems == []
    assert found.signer is not None and found.signer.principals == (SIGNER,)
    assert found.signer.fingerprint == key.fingerprint


def test_without_allowed_signers_a_signature_is_checked_but_vouches_for_no_one(
    tmp_path: Path, key: sshsig.SigningKey
) -> None:
    directory = bundle(tmp_path, key=key)
    found = inspect(directory, renderers={"index.html": html.render})
    assert found.problems == [] and found.signer is None
    assert found.unvouched_key == f"ssh-ed25519 {key.fingerprint}"


def test_refusals_of_the_signature(tmp_path: Path, key: sshsig.SigningKey) -> None:
    other = sshsig.SigningKey(ed25519.Ed25519PrivateKey.generate())
    directory = bundle(tmp_path, key=key)
    assert inspect(directory, allowed=allowed_for(other)).problems == [
        f"SHA256SUMS.sig does not sign this bundle: signing key {key.fingerprint} is not in the allowed signers"
    ]
    assert inspect(directory, allowed=allowed_for(key), identity="mallory@example.com").problems == [
        "SHA256SUMS.sig does not sign this bundle: identity 'mallory@example.com' is not an allowed principal for key "
        f"{key.fingerprint}"
    ]
    resum(directory)  # the same sums, rewritten: still what was signed
    assert inspect(directory, allowed=allowed_for(key)).problems == []
    lines = (directory / "SHA256SUMS").read_text().splitlines(keepends=True)
    (directory / "SHA256SUMS").write_text("".join(reversed(lines)))  # every digest still right, not what was signed
    (problem,) = inspect(directory, allowed=allowed_for(key)).problems
    assert problem.startswith("SHA256SUMS.sig does not sign this bundle: bad signature")
    (directory / "SHA256SUMS.sig").unlink()
    resum(directory)
    assert inspect(directory, allowed=allowed_for(key)).problems == [
        "the bundle is unsigned (no SHA256SUMS.sig), and --allowed-signers asks for a signature by an allowed key"
    ]


def test_edited_sums_under_a_signature_are_refused_even_without_allowed_signers(
    tmp_path: Path, key: sshsig.SigningKey
) -> None:
    directory = bundle(tmp_path, key=key)
    (directory / "junit.xml").write_text("<testsuites/>\n")
    resum(directory)
    (problem,) = inspect(directory).problems
    assert problem.startswith("SHA256SUMS.sig does not sign this bundle: bad signature")


def test_allowed_signers_file_mistakes_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "allowed"
    broken.write_text("ci@example.com ssh-ed25519 AAAA!\n")
    with pytest.raises(ValueError, match=r"allowed signers line 1: invalid key") as caught:
        load_allowed_signers(broken)
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match="cannot read the allowed signers file"):
        load_allowed_signers(tmp_path / "missing")


# --- the badge and the page are what report.json renders to -------------------------------------------------------


def test_a_page_edited_after_the_run_is_refused(tmp_path: Path) -> None:
    directory = bundle(tmp_path)
    page = (directory / "index.html").read_text(encoding="utf-8")
    forged = page.replace("<head>", "<head><script>alert(1)</script>", 1)
    assert forged != page
    (directory / "index.html").write_text(forged, encoding="utf-8")
    resum(directory)
    assert inspect(directory).problems == []  # the page is compared only with its renderer
    (problem,) = inspect(directory, renderers={"index.html": html.render}).problems
    assert problem.startswith("index.html is not the page report.json renders to")


def test_a_junit_xml_edited_after_the_run_is_refused(tmp_path: Path) -> None:
    directory = bundle(tmp_path)
    (directory / "junit.xml").write_text('<?xml version="1.0"?><testsuites tests="23" failures="0"/>\n')
    resum(directory)
    (problem,) = inspect(directory, renderers={"index.html": html.render, "junit.xml": junit.render}).problems
    assert problem.startswith("junit.xml is not what report.json renders to")


def test_a_badge_edited_after_the_run_is_refused(tmp_path: Path) -> None:
    report = certified("non-conformant")
    directory = bundle(tmp_path, report)
    badge = (directory / "badge.svg").read_text()
    (directory / "badge.svg").write_text(badge.replace("non-conformant", "conformant"))
    resum(directory)
    found = inspect(directory, renderers={"index.html": html.render}).problems
    assert found == [
        "badge.svg is not the badge report.json gives (verdict 'non-conformant')",
        "the verdict is 'non-conformant', not conformant",
    ]


def test_the_page_of_a_bundle_is_rendered_from_report_json_as_written(tmp_path: Path) -> None:
    """The run renders the page and junit.xml from report.json read back, so a re-render from the file is byte for
    byte them."""
    report = certified()
    report["requirements"][0]["evidence"] = [{"explanation": "lone \ud800 surrogate", "label": "x"}]
    directory = tmp_path / "bundle"
    directory.mkdir()
    write_reports(copy.deepcopy(report), directory, certify=True)  # type: ignore[arg-type]
    from conformance.report.store import load_report

    assert html.render(load_report(directory)).encode() == (directory / "index.html").read_bytes()
    assert junit.render(load_report(directory)) == (directory / "junit.xml").read_bytes()
