"""Signed certificates, end to end: `run --certify --sign-key` signs SHA256SUMS as `ssh-keygen -Y sign` does;
`verify --allowed-signers` (and Debian's own `ssh-keygen -Y verify`) accept it and name the signer, and refuse it
edited, added to, unsigned or signed by another key, in one line each; forged bundles whose sums were recomputed are
refused for what they contradict; a 1 GiB member is hashed in a stream; `verify --rerun` judges the target again."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.report.certify import badge_svg
from conformance.reporters import junit
from conformance.support.jsontext import dumps_strict
from tests.conftest import clean_env
from tests.ssh_keygen import keygen, keygen_verify, make_key, public_line

pytestmark = pytest.mark.e2e

SIGNER = "ci@example.com"
MEMBERS = ("report.json", "junit.xml", "index.html", "badge.svg")
GIB = 1 << 30
#: Runs the command it is given and reports that child's peak RSS (KiB) on stderr's last line: this wrapper's only
#: child is the command, so the figure is the command's own.
PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(done.returncode)\n"
)


def cli(*args: str, cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def invalid_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("INVALID: ")]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CI's signing key, an intruder's key, and an allowed_signers file that trusts the CI's alone."""
    directory = tmp_path_factory.mktemp("keys")
    make_key(directory / "ci")
    make_key(directory / "intruder")
    (directory / "allowed_signers").write_text(
        f"# who may sign certificates\n{SIGNER} {public_line(directory / 'ci')}\n"
    )
    return directory


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, keys: Path) -> Path:
    root = tmp_path_factory.mktemp("signed")
    result = cli(
        "run", "--certify", "--sign-key", str(keys / "ci"), "--seed", "4", "--max-examples", "10",
        "--report-dir", "cert", cwd=root,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "cert"


@pytest.fixture(scope="module")
def non_conformant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    result = cli(
        "run", "--certify", "--seed", "4", "--max-examples", "10", "--fault", "drop-last-item",
        "--report-dir", "bad", cwd=root,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    return root / "bad"


def copy_of(bundle: Path, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(bundle, target)
    return target


def verify(bundle: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli("verify", str(bundle), *extra, cwd=bundle.parent)


def resum(bundle: Path) -> None:
    """What the forger of the issue does last: `sha256sum` over the members again."""
    sums = subprocess.run(["sha256sum", *MEMBERS], cwd=bundle, capture_output=True, text=True, check=True).stdout
    (bundle / "SHA256SUMS").write_text(sums)


def edit_report(bundle: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    edit(report)
    # Written as the suite writes it: the evidence may hold lone surrogates (an edge-case ID), escaped.
    (bundle / "report.json").write_text(dumps_strict(report) + "\n", encoding="utf-8")


def rerender(bundle: Path) -> None:
    """A thorough forger: the page rendered again by the suite itself (`report`), junit.xml and the badge from the
    edited report."""
    result = cli("report", str(bundle), cwd=bundle.parent)
    assert result.returncode == 0, result.stderr
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    junit.write(report, bundle)
    (bundle / "badge.svg").write_text(badge_svg(report))


# --- a signed bundle --------------------------------------------------------------------------------------------


def test_a_signed_bundle_verifies_with_allowed_signers_and_names_the_signer(signed: Path, keys: Path) -> None:
    fingerprint = keygen("-l", "-f", str(keys / "ci.pub")).stdout.split()[1].decode()
    for extra in ((), ("--identity", SIGNER)):
        result = verify(signed, "--allowed-signers", str(keys / "allowed_signers"), *extra)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("valid: ")
        assert f"signed by {SIGNER} (ssh-ed25519 {fingerprint}) and untampered since" in result.stdout
        assert "integrity only" not in result.stdout


def test_ssh_keygen_verifies_the_same_bundle_and_sha256sum_checks_its_members(signed: Path, keys: Path) -> None:
    checked = keygen_verify(signed / "SHA256SUMS", signed / "SHA256SUMS.sig", keys / "allowed_signers", SIGNER)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f'Good "dcs-conformance" signature for {SIGNER} with ED25519 key'.encode())
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=signed, capture_output=True, text=True)
    assert sums.returncode == 0 and sums.stdout.count(": OK") == 4


def test_the_signature_is_byte_for_byte_what_ssh_keygen_sign_writes(signed: Path, keys: Path, tmp_path: Path) -> None:
    """Ed25519 is deterministic: `ssh-keygen -Y sign -n dcs-conformance -f KEY SHA256SUMS` writes the same file."""
    shutil.copy(signed / "SHA256SUMS", tmp_path / "SHA256SUMS")
    keygen("-q", "-Y", "sign", "-n", "dcs-conformance", "-f", str(keys / "ci"), str(tmp_path / "SHA256SUMS"))
    assert (tmp_path / "SHA256SUMS.sig").read_bytes() == (signed / "SHA256SUMS.sig").read_bytes()


def test_the_key_path_is_nowhere_in_the_reports(signed: Path, keys: Path) -> None:
    for member in MEMBERS:
        text = (signed / member).read_text(encoding="utf-8")
        assert str(keys) not in text and "sign-key" not in text and "PRIVATE KEY" not in text


def resign_with_intruder(bundle: Path, keys: Path) -> None:
    (bundle / "SHA256SUMS.sig").unlink()
    keygen("-q", "-Y", "sign", "-n", "dcs-conformance", "-f", str(keys / "intruder"), str(bundle / "SHA256SUMS"))


REFUSALS: dict[str, tuple[Callable[[Path, Path], None], tuple[str, ...], str]] = {
    "a member edited": (
        lambda bundle, _: (bundle / "junit.xml").write_text("<testsuites/>\n"),
        (),
        "junit.xml was modified after the run (SHA-256 mismatch)",
    ),
    "a member added": (
        lambda bundle, _: (bundle / "waivers.txt").write_text("BR-REQ-009 waived\n"),
        (),
        "'waivers.txt' is in the bundle but not listed in SHA256SUMS",
    ),
    "the signature removed": (
        lambda bundle, _: (bundle / "SHA256SUMS.sig").unlink(),
        (),
        "the bundle is unsigned (no SHA256SUMS.sig), and --allowed-signers asks for a signature by an allowed key",
    ),
    "signed by a key not in allowed_signers": (
        resign_with_intruder,
        (),
        "SHA256SUMS.sig does not sign this bundle: signing key SHA256:",
    ),
    "signed, but not by the identity asked for": (
        lambda bundle, _: None,
        ("--identity", "release@example.com"),
        "SHA256SUMS.sig does not sign this bundle: identity 'release@example.com' is not an allowed principal",
    ),
    "report.json edited and the sums recomputed": (
        lambda bundle, _: (edit_report(bundle, lambda report: report.update(seed=5)), resum(bundle)),
        (),
        "SHA256SUMS.sig does not sign this bundle: bad signature",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_changed_signed_bundle_is_refused_in_one_line_naming_the_reason(
    case: str, signed: Path, keys: Path, tmp_path: Path
) -> None:
    change, extra, reason = REFUSALS[case]
    bundle = copy_of(signed, tmp_path)
    change(bundle, keys)
    result = verify(bundle, "--allowed-signers", str(keys / "allowed_signers"), *extra)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count("\n") == 1 and result.stderr == ""
    assert result.stdout.startswith(f"INVALID: {reason}"), result.stdout


def test_an_unsigned_bundle_says_unsigned_and_never_untampered(signed: Path, tmp_path: Path) -> None:
    bundle = copy_of(signed, tmp_path)
    (bundle / "SHA256SUMS.sig").unlink()
    result = verify(bundle)
    assert result.returncode == 0, result.stdout
    assert "integrity only: unsigned, anyone holding the bundle could have produced it" in result.stdout
    assert "untampered" not in result.stdout


def test_a_signature_without_allowed_signers_is_checked_but_vouches_for_no_one(signed: Path) -> None:
    result = verify(signed)
    assert result.returncode == 0, result.stdout
    assert "integrity only: signed by ssh-ed25519 SHA256:" in result.stdout
    assert "untampered" not in result.stdout


# --- the forgeries of the issue: every sum recomputed -------------------------------------------------------------


def forge_statuses(report: dict[str, Any]) -> None:
    """The issue's forgery: the verdict and the statuses edited into a pass."""
    report["verdict"], report["verdict_reason"] = "conformant", None
    for item in report["requirements"]:
        if item["status"] == "failed":
            item["status"] = "passed"
    report["counts"]["passed"] += report["counts"]["failed"]
    report["counts"]["failed"] = 0


def test_an_edited_report_with_recomputed_sums_is_refused_for_its_statuses(
    non_conformant: Path, tmp_path: Path
) -> None:
    bundle = copy_of(non_conformant, tmp_path)
    edit_report(bundle, forge_statuses)
    rerender(bundle)
    resum(bundle)
    result = verify(bundle)
    assert result.returncode == 1, result.stdout
    lines = invalid_lines(result)
    forged = [line for line in lines if "is recorded 'passed', but its findings (" in line]
    assert forged and forged == lines[: len(forged)], lines
    assert all(line.endswith("make it 'failed'") for line in forged)
    assert "valid:" not in result.stdout


def test_a_page_that_is_not_what_report_json_renders_is_refused(signed: Path, tmp_path: Path) -> None:
    bundle = copy_of(signed, tmp_path)
    (bundle / "SHA256SUMS.sig").unlink()
    page = (bundle / "index.html").read_text(encoding="utf-8")
    lines = page.splitlines(keepends=True)
    kept = [line for line in lines if "Content-Security-Policy" not in line]
    assert len(kept) == len(lines) - 1
    forged = "".join(kept).replace("</body>", "<script>document.title = 'certified'</script></body>", 1)
    (bundle / "index.html").write_text(forged, encoding="utf-8")
    resum(bundle)
    result = verify(bundle)
    assert result.returncode == 1, result.stdout
    assert invalid_lines(result) == [
        "INVALID: index.html is not the page report.json renders to: it was edited or re-rendered after the run"
    ]


def test_a_verdict_that_contradicts_its_recorded_statuses_is_refused(non_conformant: Path, tmp_path: Path) -> None:
    bundle = copy_of(non_conformant, tmp_path)
    edit_report(bundle, lambda report: report.update(verdict="conformant", verdict_reason=None))
    rerender(bundle)
    resum(bundle)
    result = verify(bundle)
    assert result.returncode == 1, result.stdout
    assert invalid_lines(result) == [
        "INVALID: the verdict 'conformant' does not follow from the recorded statuses, which give 'non-conformant'"
    ]


# --- members: streamed, never followed ----------------------------------------------------------------------------


def peak_rss_of_verify(bundle: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    command = [sys.executable, "-m", "conformance", "verify", str(bundle)]
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command], env=clean_env(), capture_output=True, text=True, timeout=120
    )
    return done, int(done.stderr.splitlines()[-1]) * 1024


def test_a_1_gib_member_is_hashed_in_a_stream_with_a_flat_rss(signed: Path, tmp_path: Path) -> None:
    bundle = copy_of(signed, tmp_path)
    (bundle / "SHA256SUMS.sig").unlink()
    baseline, baseline_rss = peak_rss_of_verify(bundle)
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    with (bundle / "index.html").open("r+b") as page:
        page.truncate(GIB)  # sparse: a gibibyte to read, no disk to fill
    resum(bundle)
    done, rss = peak_rss_of_verify(bundle)
    assert done.returncode == 1, done.stdout + done.stderr
    assert invalid_lines(done) == [
        "INVALID: index.html is not the page report.json renders to: it was edited or re-rendered after the run"
    ]
    assert rss < baseline_rss + 64 * 1024 * 1024, f"verify peaked at {rss} bytes, {baseline_rss} for the bundle as made"


def test_a_symlinked_member_and_an_overlong_name_are_one_line_each(signed: Path, tmp_path: Path) -> None:
    bundle = copy_of(signed, tmp_path)
    (bundle / "junit.xml").rename(tmp_path / "junit.xml")
    (bundle / "junit.xml").symlink_to(tmp_path / "junit.xml")
    result = verify(bundle)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert invalid_lines(result) == ["INVALID: 'junit.xml' is a symbolic link: a bundle holds only regular files"]
    bundle = copy_of(signed, tmp_path, "long")
    with (bundle / "SHA256SUMS").open("a") as sums:
        sums.write(f"{'0' * 64}  {'n' * 300}\n")
    result = verify(bundle)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = invalid_lines(result)
    assert line.startswith("INVALID: SHA256SUMS line 5 names 'nnnn") and "longer than 255 bytes" in line


# --- verify --rerun -----------------------------------------------------------------------------------------------


def test_a_rerun_against_the_same_reference_agrees(signed: Path, keys: Path, tmp_path: Path) -> None:
    result = cli(
        "verify", str(signed), "--allowed-signers", str(keys / "allowed_signers"), "--rerun",
        "--rerun-dir", str(tmp_path / "rerun"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rerun agrees: every requirement has the status the certificate gives it (23)" in result.stdout
    assert json.loads((tmp_path / "rerun" / "report.json").read_text())["seed"] == 4
    assert sorted(path.name for path in signed.iterdir()) == sorted([*MEMBERS, "SHA256SUMS", "SHA256SUMS.sig"])


def test_a_rerun_against_the_reference_with_a_fault_exits_1_naming_the_requirement(
    signed: Path, tmp_path: Path
) -> None:
    # A temporary directory of the rerun's own (TMPDIR), not the machine's: other processes (another test, another
    # pytest-xdist worker) make and remove dcs-conformance-rerun-* directories in the shared one meanwhile.
    work, temporary = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    temporary.mkdir()
    result = cli("verify", str(signed), "--rerun", "--fault", "drop-last-item", cwd=work, TMPDIR=str(temporary))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DIFFERS: BR-REQ-009 (MUST) was passed in the certificate, is failed now: " in result.stdout
    # The rerun's reports went to a temporary directory, removed since; none into the bundle or the working one.
    assert not list(temporary.iterdir())
    assert not list(work.iterdir())
    assert sorted(path.name for path in signed.iterdir()) == sorted([*MEMBERS, "SHA256SUMS", "SHA256SUMS.sig"])


def test_rerun_mistakes_are_exit_2_before_anything_is_sent(signed: Path, tmp_path: Path) -> None:
    for args, message in (
        (["--base-url", "http://127.0.0.1:9"], "give --rerun too"),
        (["--rerun", "--rerun-dir", str(signed / "inside")], "is inside the bundle"),
        (["--rerun", "--fixtures", "f.json"], "--fixtures is only for a --base-url target"),
        (["--identity", SIGNER], "give that file too"),
    ):
        result = cli("verify", str(signed), *args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr and result.stderr.count("\n") == 1
        assert "valid" not in result.stdout
