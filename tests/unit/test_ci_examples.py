"""The CI examples are tested: every dcs-conformance command line in them is accepted by our argument parser, the
targets file they use is a valid one, and they keep the promises the README makes (secrets from the CI's store,
reports kept as artifacts, junit in the merge request)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.app.targets import plan
from conformance.cli.main import build_parser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
GITHUB = EXAMPLES / "github-actions.yml"
GITLAB = EXAMPLES / "gitlab-ci.yml"
#: A GitHub expression such as ${{ matrix.region }}: one shell word once expanded.
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def shell_scripts(document: Any) -> Iterator[str]:
    """Every shell script of a workflow: GitHub steps' ``run``, GitLab jobs' ``script`` (and before/after)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "run" and isinstance(value, str):
                yield value
            elif key in ("script", "before_script", "after_script") and isinstance(value, list):
                yield from (line for line in value if isinstance(line, str))
            else:
                yield from shell_scripts(value)
    elif isinstance(document, list):
        for item in document:
            yield from shell_scripts(item)


def command_lines(path: Path) -> list[list[str]]:
    """The dcs-conformance command lines of a CI file, as argument vectors (continuation lines joined)."""
    commands = []
    for script in shell_scripts(yaml.safe_load(path.read_text())):
        for line in script.replace("\\\n", " ").splitlines():
            words = shlex.split(EXPRESSION.sub("X", line))
            if words and words[0] == "dcs-conformance":
                commands.append(words[1:])
    return commands


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=lambda path: path.name)
def test_every_dcs_conformance_command_line_is_accepted_by_the_argument_parser(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = command_lines(path)
    assert commands, f"{path.name} runs no dcs-conformance command"
    for argv in commands:
        try:
            build_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"{path.name}: 'dcs-conformance {shlex.join(argv)}' is refused: {capsys.readouterr().err}")


def test_github_judges_each_region_in_a_matrix_job_and_summarizes_their_artifacts() -> None:
    workflow = yaml.safe_load(GITHUB.read_text())
    judge, summarize = workflow["jobs"]["judge"], workflow["jobs"]["summarize"]
    assert len(judge["strategy"]["matrix"]["include"]) >= 2 and judge["strategy"]["fail-fast"] is False
    run_step = next(step for step in judge["steps"] if "dcs-conformance run" in step.get("run", ""))
    assert run_step["env"]["DCS_AUTH_TOKEN"].startswith("${{ secrets")  # from the CI's secret store only
    upload = next(step for step in judge["steps"] if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"  # a failing run still uploads its reports
    assert summarize["needs"] == "judge" and summarize["if"] == "always()"
    assert ["summarize", "reports/dcs-report-*", "--out", "overview"] in command_lines(GITHUB)


def test_gitlab_wires_every_targets_junit_into_the_merge_request() -> None:
    job = yaml.safe_load(GITLAB.read_text())["dcs-conformance"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "reports/*/junit.xml"
    assert "reports/" in job["artifacts"]["paths"]
    (argv,) = command_lines(GITLAB)
    assert argv[:3] == ["run", "--config", "examples/ci/targets.toml"]
    assert argv[argv.index("--report-dir") + 1] == "reports"


def test_the_examples_targets_file_is_valid_with_its_credentials_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ci").mkdir()
    for region in ("cn-north-4", "ap-southeast-1"):
        (tmp_path / "ci" / f"fixtures-{region}.json").write_text('{"restartable": ["t1"], "not_restartable": ["t2"]}')
    env = {"DCS_TOKEN_CN_NORTH_4": "token-cn", "DCS_TOKEN_AP_SOUTHEAST_1": "token-ap"}
    targets = plan(EXAMPLES / "targets.toml", {}, env, tmp_path / "reports")
    assert [(t.name, t.settings.credentials.token) for t in targets] == [
        ("cn-north-4", "token-cn"),
        ("ap-southeast-1", "token-ap"),
    ]
    assert all(t.settings.max_requests == 3000 and t.settings.rate_limit == 20 for t in targets)
