"""The CI examples are tested: every dcs-conformance command line in them is accepted by our argument parser, the
targets file they use is a valid one, and they keep the promises the README makes (secrets from the CI's store,
reports kept as artifacts, junit in the merge request). They, the action and the GitLab template install our own
release and never the name another project holds on PyPI, pin the actions they use, take no credential as an
input, and are checked by `make lint` with the tools their users run (tests/e2e/test_ci_runs.py runs them)."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.app.targets import plan
from conformance.cli.main import build_parser
from tests.ci_steps import RELEASE

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


# --- installing without surprises: our own release, pinned actions, credentials never inputs ---------------------

PROJECT = EXAMPLES.parents[1]
ACTION_FILE = PROJECT / "action.yml"
TEMPLATE = PROJECT / "templates" / "dcs-conformance.gitlab-ci.yml"
WORKFLOWS = [GITHUB, *sorted((PROJECT / ".github" / "workflows").glob("*.yml"))]
#: An install of the bare name dcs-conformance from a package index: PyPI's dcs-conformance is another project.
INDEX_INSTALL = re.compile(r"""\b(?:pip|pipx)3?\s+install\s+(?:-\S+\s+)*["'`]?dcs[-_.]conformance(?![\w./@-])""")
#: A `uses:` of another repository's action, pinned to a commit with its tag beside: `owner/repo@<sha> # vX.Y.Z`.
PINNED = re.compile(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def repository_text_files() -> Iterator[Path]:
    """Every file of the checkout that a person reads or a tool runs, outside what is built or installed."""
    skipped = {".git", ".venv", "reports", "dist", "build", "__pycache__", ".hypothesis", ".ruff_cache", ".mypy_cache"}
    for path in PROJECT.rglob("*"):
        if path.is_file() and not skipped & set(path.relative_to(PROJECT).parts):
            yield path


def test_no_file_in_the_repository_installs_dcs_conformance_from_a_package_index() -> None:
    offenders = []
    for path in repository_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [f"{path.relative_to(PROJECT)}: {m.group()}" for m in INDEX_INSTALL.finditer(text)]
    assert offenders == []
    assert INDEX_INSTALL.search("python -m pip install " + "dcs-conformance")  # what it catches (split: not here)
    assert not INDEX_INSTALL.search('pip install "git+https://github.com/o/dcs-conformance@v1.0.0"')


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=lambda path: path.name)
def test_every_install_line_of_the_examples_installs_this_versions_release_tag(path: Path) -> None:
    installs = [line for script in shell_scripts(yaml.safe_load(path.read_text())) for line in script.splitlines()]
    installs = [line for line in installs if "pip install" in line]
    assert installs, f"{path.name} installs nothing"
    assert all(RELEASE in line for line in installs), installs


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION_FILE], ids=lambda path: path.relative_to(PROJECT).as_posix())
def test_every_action_used_is_pinned_to_a_commit_with_its_tag_beside(path: Path) -> None:
    lines = [line.strip().removeprefix("- ") for line in path.read_text().splitlines()]
    uses = [line for line in lines if line.startswith("uses:")]
    remote = [line for line in uses if not line.startswith("uses: ./")]
    assert all(PINNED.fullmatch(line) for line in remote), remote


def test_the_action_takes_the_promised_inputs_none_of_them_a_credential_and_gives_its_outputs() -> None:
    action = yaml.safe_load(ACTION_FILE.read_text())
    inputs = set(action["inputs"])
    promised = {"base-url", "project-id", "fixtures", "args", "report-dir", "python-version", "version"}
    assert promised <= inputs
    assert not [name for name in inputs if re.search(r"token|secret|password|\bak\b|\bsk\b|key", name)]
    assert {"verdict", "report-dir"} <= set(action["outputs"])
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert all("${{" not in step.get("run", "") for step in steps)  # inputs reach scripts only through env:
    (upload,) = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"].startswith("always()") and upload["with"]["path"] == "${{ inputs.report-dir }}"


def test_the_actions_install_step_installs_its_own_copy_unless_another_suite_is_asked_for(tmp_path: Path) -> None:
    """With no version the suite comes from the action's own directory (the ref named in `uses:`), with one the
    version goes to pip as it is; a stand-in python records what pip was asked, so nothing is installed."""
    (install,) = [
        step
        for step in yaml.safe_load(ACTION_FILE.read_text())["runs"]["steps"]
        if "pip install" in step.get("run", "")
    ]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {"python": 'printf "%s\\n" "$@" > "$RECORD"', "dcs-conformance": "true"}.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    asked = {}
    for version in ("", "dcs_batch_restart_conformance-9.9.9-py3-none-any.whl"):
        record = tmp_path / "record"
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "RECORD": str(record), "GITHUB_ACTION_PATH": "/the/action"}
        script = tmp_path / "install.sh"
        script.write_text(install["run"])
        subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env={**env, "INPUT_VERSION": version},
            check=True,
            timeout=30,
        )
        asked[version] = record.read_text().split()[-1]
    assert install["env"] == {"INPUT_VERSION": "${{ inputs.version }}"}
    assert asked == {
        "": "/the/action",
        "dcs_batch_restart_conformance-9.9.9-py3-none-any.whl": "dcs_batch_restart_conformance-9.9.9-py3-none-any.whl",
    }


def test_the_gitlab_template_wires_junit_into_the_merge_request_and_keeps_the_reports_always() -> None:
    job = yaml.safe_load(TEMPLATE.read_text())[".dcs-conformance"]
    assert job["variables"]["DCS_CONFORMANCE_INSTALL"] == RELEASE
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["paths"] == ["$DCS_CONFORMANCE_REPORT_DIR/"]
    assert job["artifacts"]["reports"]["junit"] == "$DCS_CONFORMANCE_REPORT_DIR/**/junit.xml"
    assert job["artifacts"]["reports"]["dotenv"] == "dcs-conformance.env"


def test_make_lint_checks_every_ci_file_with_the_tools_their_users_run_and_ci_runs_make_lint() -> None:
    """actionlint, zizmor (offline: CI has no network) and check-jsonschema's three built-in schemas, on every
    workflow, the action and every GitLab file; .ci/run runs `make lint` before the tests."""
    makefile = (PROJECT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/actionlint $(GITHUB_WORKFLOWS)" in lint
    assert "$(BIN)/zizmor --offline --quiet $(GITHUB_WORKFLOWS) action.yml" in lint
    for schema, files in [
        ("github-workflows", "$(GITHUB_WORKFLOWS)"),
        ("github-actions", "action.yml"),
        ("gitlab-ci", "$(GITLAB_FILES)"),
    ]:
        assert f"$(BIN)/check-jsonschema --builtin-schema vendor.{schema} {files}" in lint
    assert "GITHUB_WORKFLOWS := examples/ci/github-actions.yml $(wildcard .github/workflows/*.yml)" in makefile
    assert "GITLAB_FILES := examples/ci/gitlab-ci.yml templates/dcs-conformance.gitlab-ci.yml" in makefile
    github = {path for path in EXAMPLES.glob("*.yml") if "jobs" in yaml.safe_load(path.read_text())}
    gitlab = {path for path in EXAMPLES.glob("*.yml")} - github
    assert github == {GITHUB} and gitlab == {GITLAB}  # a new example must be added to the lists above
    assert "\nmake lint\n" in (PROJECT / ".ci" / "run").read_text()
