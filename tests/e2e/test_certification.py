"""The certification bundle: `run --certify` writes a badge and SHA256SUMS; `verify` accepts only an untampered,
conformant bundle judged against this suite's spec; `report` re-renders the HTML from report.json alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.contract import catalogue_sha256
from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store
from conformance.report.certify import verify
from tests.conftest import clean_env

pytestmark = pytest.mark.e2e


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bundle")
    result = cli("run", "--certify", "--seed", "4", "--max-examples", "20", "--report-dir", "cert", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "cert"


def copy_of(bundle: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    target.mkdir()
    for path in bundle.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_certified_run_writes_badge_and_sums_over_every_report_file(bundle: Path) -> None:
    listed = {line.split("  ", 1)[1] for line in (bundle / "SHA256SUMS").read_text().splitlines()}
    assert listed == {"report.json", "junit.xml", "index.html", "badge.svg"}
    badge = (bundle / "badge.svg").read_text()
    assert "conformant" in badge and "<svg" in badge


def test_verify_accepts_the_untouched_bundle(bundle: Path) -> None:
    result = cli("verify", str(bundle), cwd=bundle)
    assert result.returncode == 0, result.stdout
    assert "valid" in result.stdout


def test_verify_rejects_an_edited_report(bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    report = json.loads((copy / "report.json").read_text())
    report["counts"]["failed"] = 0
    (copy / "report.json").write_text(json.dumps(report))
    result = cli("verify", str(copy), cwd=tmp_path)
    assert result.returncode == 1
    assert "report.json was modified" in result.stdout


def test_verify_rejects_a_report_judged_against_another_spec(bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    report = json.loads((copy / "report.json").read_text())
    report["spec_sha256"] = "0" * 64
    (copy / "report.json").write_text(json.dumps(report))
    problems = verify(copy)
    assert any("spec" in problem for problem in problems)


def test_verify_rejects_a_non_conformant_bundle(tmp_path: Path) -> None:
    result = cli(
        "run",
        "--certify",
        "--seed",
        "4",
        "--max-examples",
        "20",
        "--fault",
        "invent-item",
        "--report-dir",
        "bad",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    check = cli("verify", "bad", cwd=tmp_path)
    assert check.returncode == 1
    assert "not conformant" in check.stdout


def test_verify_of_a_run_without_certify_says_so(tmp_path: Path) -> None:
    assert cli("run", "--seed", "4", "--max-examples", "10", "--report-dir", "plain", cwd=tmp_path).returncode == 0
    result = cli("verify", "plain", cwd=tmp_path)
    assert result.returncode == 1
    assert "--certify" in result.stdout


def test_verify_and_report_of_a_directory_without_a_report_exit_2(tmp_path: Path) -> None:
    for command in ("verify", "report"):
        result = cli(command, str(tmp_path), cwd=tmp_path)
        assert result.returncode == 2
        assert "no report.json" in result.stderr
        assert "Traceback" not in result.stderr


def test_report_re_renders_index_html_from_report_json_alone(bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    (copy / "index.html").unlink()
    result = cli("report", str(copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (copy / "index.html").read_bytes() == (bundle / "index.html").read_bytes()


def sums_without(directory: Path, name: str) -> None:
    sums = directory / "SHA256SUMS"
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines() if not line.endswith(f"  {name}")))


def test_verify_rejects_an_edited_file_whose_line_was_removed_from_the_sums(bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    (copy / "index.html").write_text("<p>conformant, trust me</p>")
    sums_without(copy, "index.html")
    problems = verify(copy)
    assert "index.html is not covered by SHA256SUMS" in problems
    assert "'index.html' is in the bundle but not listed in SHA256SUMS" in problems


def test_verify_rejects_a_file_added_to_the_bundle(bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    (copy / "exceptions.txt").write_text("BR-REQ-009 waived\n")
    result = cli("verify", str(copy), cwd=tmp_path)
    assert result.returncode == 1
    assert "INVALID: 'exceptions.txt' is in the bundle but not listed in SHA256SUMS" in result.stdout


def test_verify_rejects_a_report_judged_by_another_requirement_catalogue(bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    report = json.loads((copy / "report.json").read_text())
    assert report["catalogue_sha256"] == catalogue_sha256()
    report["catalogue_sha256"] = "1" * 64
    (copy / "report.json").write_text(json.dumps(report))
    assert any("requirement catalogue 111111111111..." in problem for problem in verify(copy))


def test_a_plain_run_into_a_certified_directory_leaves_no_stale_badge_or_sums(bundle: Path, tmp_path: Path) -> None:
    reused = copy_of(bundle, tmp_path)
    result = cli(
        "run", "--seed", "4", "--max-examples", "1", "--fault", "invent-item", "--report-dir", str(reused), cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    assert sorted(path.name for path in reused.iterdir()) == ["index.html", "junit.xml", "report.json"]
    check = cli("verify", str(reused), cwd=tmp_path)
    assert check.returncode == 1
    assert "SHA256SUMS is missing" in check.stdout


def test_certify_incomplete_line_gives_each_skipped_requirement_its_own_reason(tmp_path: Path) -> None:
    """Without fixtures and without a read-only credential, BR-REQ-014 is skipped for the fixtures and BR-REQ-020 for
    the credential: the incomplete line says so of each, never the fixtures reason for both."""
    store, _ = seed_store(restartable=2, not_restartable=2, seed=1)
    app = create_app(store, AuthPolicy(mode=AuthMode.TOKEN, token="the-right-token-0123456789"), projects=["p1"])
    flags = {
        "project_id": "p1",
        "auth_token": "the-right-token-0123456789",
        "seed": 3,
        "max_examples": 5,
        "certify": True,
        "report_dir": str(tmp_path / "report"),
    }
    with BackgroundServer(app) as server:
        outcome = execute(resolve({**flags, "base_url": server.base_url}, env={}), progress=lambda _: None)
    reason = outcome.report["verdict_reason"]
    assert (outcome.report["verdict"], outcome.exit_code) == ("incomplete", 4)
    assert "BR-REQ-014 (needs fixtures" in reason
    assert "BR-REQ-020 (no read-only credential configured" in reason
