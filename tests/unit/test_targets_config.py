"""A config file listing targets: every target resolved like a single run, every mistake named before any run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trustme

from conformance.app.targets import lists_targets, plan
from conformance.cli.main import main
from conformance.config.settings import SettingsError

TOKEN = "token-from-the-ci-secret-store"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text)
    return path


def planned(tmp_path: Path, text: str, flags: dict[str, Any] | None = None, env: dict[str, str] | None = None):
    return plan(write(tmp_path, text), flags or {}, env or {}, tmp_path / "run")


TWO_TARGETS = """
[dcs-conformance]
max_examples = 12
seed = 3

[[targets]]
name = "cn-north-4"
base_url = "https://dcs.cn-north-4.example.com/"
project_id = "p-cn4"
auth_token_env = "DCS_TOKEN_CN4"

[[targets]]
name = "reference-with-fault"
fault = ["drop-last-item"]
max_examples = 20
"""


def test_each_target_inherits_the_shared_settings_and_gets_its_own_report_directory(tmp_path: Path) -> None:
    first, second = planned(tmp_path, TWO_TARGETS, env={"DCS_TOKEN_CN4": TOKEN})
    assert first.name == "cn-north-4"
    assert first.settings.base_url == "https://dcs.cn-north-4.example.com"
    assert first.settings.project_id == "p-cn4"
    assert first.settings.credentials.token == TOKEN
    assert (first.settings.seed, first.settings.max_examples) == (3, 12)
    assert first.settings.report_dir == tmp_path / "run" / "cn-north-4"
    assert second.settings.embedded and second.settings.faults == ("drop-last-item",)
    assert second.settings.max_examples == 20  # the target's own beats the shared section
    assert second.settings.report_dir == tmp_path / "run" / "reference-with-fault"
    # The command that reproduces a target names its credential by variable, never by value.
    assert TOKEN not in first.command and "$DCS_AUTH_TOKEN" in first.command
    assert "--fault drop-last-item" in second.command


def test_run_wide_flags_beat_the_file_for_every_target(tmp_path: Path) -> None:
    targets = planned(tmp_path, TWO_TARGETS, {"seed": 9, "max_examples": 5}, env={"DCS_TOKEN_CN4": TOKEN})
    assert {(t.settings.seed, t.settings.max_examples) for t in targets} == {(9, 5)}


def test_every_target_trusts_what_a_single_run_trusts_and_takes_the_run_wide_tls_and_workers(tmp_path: Path) -> None:
    """A private CA named by the environment, and --workers or --insecure on the command line, reach every target
    as they reach a single run."""
    bundle, store = tmp_path / "private-ca.pem", tmp_path / "system.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    trustme.CA().cert_pem.write_to_path(str(store))
    env = {"DCS_TOKEN_CN4": TOKEN, "DCS_CA_BUNDLE": str(bundle), "SSL_CERT_FILE": str(store)}
    first, _ = planned(tmp_path, TWO_TARGETS, env=env)
    assert first.settings.tls.ca_bundle == bundle and first.settings.tls.ssl_cert_file == str(store)
    https_only = TWO_TARGETS.split('[[targets]]\nname = "reference-with-fault"')[0]
    (only,) = planned(tmp_path, https_only, {"workers": 8, "insecure": True}, env={"DCS_TOKEN_CN4": TOKEN})
    assert (only.settings.workers, only.settings.tls.insecure) == (8, True)


def test_the_ambient_target_variables_do_not_leak_into_a_targets_file(tmp_path: Path) -> None:
    env = {"DCS_TOKEN_CN4": TOKEN, "DCS_BASE_URL": "https://elsewhere.example.com", "DCS_AUTH_TOKEN": "other"}
    _, embedded = planned(tmp_path, TWO_TARGETS, env=env)
    assert embedded.settings.embedded and not embedded.settings.credentials.configured


@pytest.mark.parametrize(
    ("text", "env", "fragment"),
    [
        (TWO_TARGETS, {}, "target 'cn-north-4': auth_token_env names the environment variable DCS_TOKEN_CN4"),
        ('[[targets]]\nname = "a"\nauth_token = "s3cret"\n', {}, "credentials are never written in the file"),
        ('auth_token = "s3cret"\n[[targets]]\nname = "a"\n', {}, "credentials are never written in the file"),
        ('[[targets]]\nname = "a"\ncolour = "red"\n', {}, "target 'a': unknown setting 'colour'"),
        ('[[targets]]\nname = "a"\n[[targets]]\nname = "a"\n', {}, "two targets are named 'a'"),
        ('[[targets]]\nname = "../up"\n', {}, "needs a name of letters"),
        ('[[targets]]\nbase_url = "https://x"\n', {}, "target #1: every target needs a name"),
        ('[[targets]]\nname = "a"\nfault = "drop-last-item"\n', {}, "'fault' must be a list of names"),
        ('[[targets]]\nname = "a"\nfault = ["no-such-fault"]\n', {}, "target 'a': unknown fault 'no-such-fault'"),
        ('[[targets]]\nname = "a"\nbase_url = "ftp://x"\nproject_id = "p"\n', {}, "target 'a': --base-url must be"),
        ('[[targets]]\nname = "a"\nbase_url = "https://x"\nproject_id = "p"\nfixtures = "nope.json"\n', {}, "nope"),
        ("targets = []\n", {}, "must list at least one target"),
    ],
)
def test_a_mistake_names_the_target_and_the_setting(
    tmp_path: Path, text: str, env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        planned(tmp_path, text, env=env)
    assert fragment in str(caught.value)


def test_flags_that_name_one_target_are_refused_with_a_targets_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--base-url, --fault name one target"):
        planned(tmp_path, TWO_TARGETS, {"base_url": "https://x", "fault": ["drop-last-item"]})


def test_one_flag_that_names_one_target_is_refused_in_the_singular(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^--fault names one target; "):
        planned(tmp_path, TWO_TARGETS, {"fault": ["drop-last-item"]})


def test_a_file_lists_targets_only_with_a_targets_array(tmp_path: Path) -> None:
    assert lists_targets(write(tmp_path, TWO_TARGETS))
    assert not lists_targets(write(tmp_path, 'base_url = "https://x"\n'))
    assert not lists_targets(write(tmp_path, "not toml ["))
    assert not lists_targets(tmp_path / "missing.toml")


def test_the_cli_exits_2_with_one_line_before_any_target_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DCS_TOKEN_CN4", raising=False)
    config = write(tmp_path, TWO_TARGETS)
    run_dir = tmp_path / "run"
    assert main(["run", "--config", str(config), "--report-dir", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dcs-conformance run: error: config file")
    assert "DCS_TOKEN_CN4" in err[0]
    assert not run_dir.exists()


def test_jobs_without_a_targets_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--jobs", "2"]) == 2
    assert "--jobs judges the [[targets]]" in capsys.readouterr().err


def test_summary_md_below_a_file_is_a_usage_error_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    assert main(["run", "--summary-md", str(tmp_path / "file" / "s.md")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_summarize_refuses_a_directory_without_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "report.json").write_text(json.dumps({"verdict": "conformant"}))
    assert main(["summarize", str(tmp_path / "a"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a dcs-conformance report" in err[0]
