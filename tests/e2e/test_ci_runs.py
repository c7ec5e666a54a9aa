"""The CI files run as their CI would run them, against the reference served on loopback (one server per staging
region, each demanding its own token): every shell line of the GitHub Actions example, the GitLab CI example, the
action (action.yml) and the GitLab template, the install line included, which installs the locally built wheel in
place of the release it names. Only the ``uses:`` steps (setup-python, checkout, the artifact actions) are not run:
what they hand on (a Python, the workspace, the artifacts) is set up as they would."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from junitparser import JUnitXml

from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store
from tests.ci_steps import (
    GITHUB_BASH,
    GITHUB_DEFAULT_SHELL,
    RELEASE,
    evaluate,
    installing_the_wheel,
    outputs,
    run_script,
    step_env,
)
from tests.conftest import PROJECT_ROOT, WheelVenv

pytestmark = pytest.mark.e2e

EXAMPLES = PROJECT_ROOT / "examples" / "ci"
ACTION = yaml.safe_load((PROJECT_ROOT / "action.yml").read_text())
TEMPLATE = yaml.safe_load((PROJECT_ROOT / "templates" / "dcs-conformance.gitlab-ci.yml").read_text())


@dataclass(frozen=True)
class Region:
    """One staging region as the examples name it, served by its own reference on loopback."""

    name: str
    project_id: str
    base_url: str
    token: str
    fixtures: dict[str, list[str]]

    def write_fixtures(self, workspace: Path) -> None:
        (workspace / "ci").mkdir(parents=True, exist_ok=True)
        (workspace / "ci" / f"fixtures-{self.name}.json").write_text(json.dumps(self.fixtures))


@pytest.fixture
def regions() -> Iterator[dict[str, Region]]:
    """The examples' regions and project IDs, each a reference that serves only that project and demands a token
    of its own: a target the run was not pointed at, or a token of another region, would not pass. New for every
    test: a task a run restarted stays restarted."""
    targets = tomllib.loads((EXAMPLES / "targets.toml").read_text())["targets"]
    with ExitStack() as stack:
        served = {}
        for index, target in enumerate(targets):
            store, fixtures = seed_store(seed=index, restartable=10, not_restartable=6)
            token = f"token-of-{target['name']}-{index}-5e1f"
            app = create_app(store, AuthPolicy(mode=AuthMode.TOKEN, token=token), projects=[target["project_id"]])
            server = stack.enter_context(BackgroundServer(app))
            served[target["name"]] = Region(target["name"], target["project_id"], server.base_url, token, fixtures)
        yield served


def verdict_of(report_dir: Path) -> str:
    return str(json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["verdict"])


def run_github_steps(
    steps: list[dict[str, Any]], context: dict[str, str], workspace: Path, venv: WheelVenv, **env: str
) -> list[dict[str, Any]]:
    """Every ``run:`` step of a job in order, each in a fresh shell with its own env: (evaluated) over the job's;
    returns the ``uses:`` steps, their ``with:`` evaluated, for the test to play them. A failing step fails."""
    played = []
    summary = workspace.parent / f"{workspace.name}-summary.md"
    for step in steps:
        if "uses" in step:
            played.append({**step, "with": {k: evaluate(str(v), context) for k, v in (step.get("with") or {}).items()}})
            continue
        variables = step_env(step, context)
        if "DCS_BASE_URL" in variables:  # staging, as the example names it: here, its region's loopback reference
            region = context["region-under-test"]
            assert variables["DCS_BASE_URL"] == f"https://dcs.{region}.myhuaweicloud.com"
            variables["DCS_BASE_URL"] = context["loopback-url"]
        script = installing_the_wheel(evaluate(step["run"], context), venv.wheel)
        shell = GITHUB_BASH if step.get("shell") == "bash" else GITHUB_DEFAULT_SHELL
        result = run_script(shell, script, workspace, venv.env(GITHUB_STEP_SUMMARY=str(summary), **env, **variables))
        assert result.returncode == 0, f"{step.get('name', step['run'])}: {result.stdout}{result.stderr}"
    return played


def test_the_github_example_judges_a_region_and_summarizes_its_artifact(
    regions: dict[str, Region], wheel_venv: WheelVenv, tmp_path: Path
) -> None:
    """The judge job of the matrix's first region (every region runs the same lines, at --rate-limit 20 the run
    takes a quarter of a minute), then the summarize job over the artifact it uploaded."""
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    entry = workflow["jobs"]["judge"]["strategy"]["matrix"]["include"][0]
    region = regions[entry["region"]]
    judge = tmp_path / "judge"
    judge.mkdir()
    region.write_fixtures(judge)
    context = {
        "matrix.region": region.name,
        "matrix.project_id": entry["project_id"],
        "secrets.DCS_AUTH_TOKEN": region.token,  # the region's environment's secret
        "region-under-test": region.name,
        "loopback-url": region.base_url,
    }
    uses = run_github_steps(workflow["jobs"]["judge"]["steps"], context, judge, wheel_venv, GITHUB_ACTIONS="true")
    (upload,) = [step for step in uses if step["uses"].startswith("actions/upload-artifact@")]
    uploaded = judge / upload["with"]["path"]
    assert verdict_of(uploaded) == "conformant"
    assert "conformant" in (tmp_path / "judge-summary.md").read_text(encoding="utf-8")

    summarize = tmp_path / "summarize"
    summarize.mkdir()
    steps = workflow["jobs"]["summarize"]["steps"]
    (download,) = [step for step in steps if step.get("uses", "").startswith("actions/download-artifact@")]
    # download-artifact with a pattern puts each matching artifact in a directory of its name under `path`.
    assert fnmatch.fnmatch(upload["with"]["name"], download["with"]["pattern"])
    shutil.copytree(uploaded, summarize / download["with"]["path"] / upload["with"]["name"])
    run_github_steps(steps, {}, summarize, wheel_venv)
    overview = json.loads((summarize / "overview" / "summary.json").read_text(encoding="utf-8"))
    assert overview["verdict"] == "conformant"
    assert [target["name"] for target in overview["targets"]] == [upload["with"]["name"]]


def gitlab_expand(value: str, variables: dict[str, str]) -> str:
    """GitLab's expansion of $NAME and ${NAME} in a variable's value; an unknown variable fails the test."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in variables:
            pytest.fail(f"unexpected variable ${name} in {value!r}")
        return variables[name]

    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", value_of, value)


def run_gitlab_job(job: dict[str, Any], project: Path, venv: WheelVenv, variables: dict[str, str]) -> Any:
    """A job's script lines in one bash session, as GitLab's runner runs them (set -eo pipefail), its variables:
    expanded over the CI/CD variables given."""
    predefined = {"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": str(project), **variables}
    env = {name: gitlab_expand(str(value), predefined) for name, value in (job.get("variables") or {}).items()}
    env.update(variables)  # CI/CD variables (Settings > CI/CD) and the including job's beat the template's defaults
    script = "\n".join(installing_the_wheel(line, venv.wheel) for line in job["script"])
    return run_script(["bash", "-eo", "pipefail"], script, project, venv.env(**(predefined | env)))


def test_the_gitlab_example_judges_every_region_of_its_targets_file_into_the_merge_request(
    regions: dict[str, Region], wheel_venv: WheelVenv, tmp_path: Path
) -> None:
    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())["dcs-conformance"]
    project = tmp_path / "project"
    (project / "examples" / "ci").mkdir(parents=True)
    targets = (EXAMPLES / "targets.toml").read_text()
    tokens = {}
    for target in tomllib.loads(targets)["targets"]:
        region = regions[target["name"]]
        targets = targets.replace(f'"{target["base_url"]}"', f'"{region.base_url}"')  # staging: here, loopback
        region.write_fixtures(project)
        tokens[target["auth_token_env"]] = region.token
    # Fewer generated cases than staging gets: at the file's rate limit, the default run takes a quarter of a minute.
    targets = targets.replace("[dcs-conformance]\n", "[dcs-conformance]\nmax_examples = 10\n", 1)
    (project / "examples" / "ci" / "targets.toml").write_text(targets)

    result = run_gitlab_job(job, project, wheel_venv, tokens)
    assert result.returncode == 0, result.stdout + result.stderr
    junit_files = sorted(project.glob(job["artifacts"]["reports"]["junit"]))
    assert [path.parent.name for path in junit_files] == sorted(regions)
    for path in junit_files:
        (suite,) = JUnitXml.fromfile(str(path))
        (completeness,) = [case for case in suite if case.name == "completeness"]
        assert completeness.is_passed
    assert (project / "reports" / "summary.md").is_file()


# --- the action --------------------------------------------------------------------------------------------------


def run_action(
    inputs: dict[str, str], workspace: Path, venv: WheelVenv, **env: str
) -> tuple[int, dict[str, str], str, dict[str, Any]]:
    """The action's steps as GitHub runs a composite action: each ``run:`` step with ``shell: bash``, its inputs
    evaluated into its env: (no INPUT_* variables are set for a composite action), GITHUB_OUTPUT and
    GITHUB_STEP_SUMMARY files; steps after a failing one are skipped, an ``always()`` step runs anyway. Returns
    the exit code of the run step, its outputs, the summary, and the upload step as played."""
    declared = ACTION["inputs"]
    assert set(inputs) <= set(declared), set(inputs) - set(declared)
    context = {f"inputs.{name}": inputs.get(name, spec.get("default", "")) for name, spec in declared.items()}
    output, summary = workspace.parent / "output", workspace.parent / "summary.md"
    runner = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true"}
    runner |= {"GITHUB_ACTION_PATH": str(PROJECT_ROOT), "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": "/tmp"}
    code, upload = 0, {}
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            if step["uses"].startswith("actions/upload-artifact@"):
                assert step["if"].startswith("always()")  # uploaded even when the run failed
                upload = {k: evaluate(str(v), context) for k, v in step["with"].items()}
            else:  # setup-python: the venv's python stands for the one it would set up
                assert evaluate(step["with"]["python-version"], context) == context["inputs.python-version"]
            continue
        assert step["shell"] == "bash" and "${{" not in step["run"]  # inputs only through env:
        result = run_script(GITHUB_BASH, step["run"], workspace, venv.env(**runner, **env, **step_env(step, context)))
        if step.get("id") == "run":
            code = result.returncode
        else:
            assert result.returncode == 0, result.stdout + result.stderr
    text = summary.read_text(encoding="utf-8") if summary.exists() else ""
    return code, outputs(output), text, upload


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def test_the_action_judges_a_target_and_sets_its_outputs_and_the_summary(
    regions: dict[str, Region], wheel_venv: WheelVenv, workspace: Path
) -> None:
    region = next(iter(regions.values()))
    region.write_fixtures(workspace)
    inputs = {
        "base-url": region.base_url,
        "project-id": region.project_id,
        "fixtures": f"ci/fixtures-{region.name}.json",
        "args": "--max-examples 20 --seed '1'",  # quoted as in a shell: split, never evaluated
        "report-dir": "reports/staging",
        "version": str(wheel_venv.wheel),  # which suite: the wheel a release would hold
    }
    code, out, summary, upload = run_action(inputs, workspace, wheel_venv, DCS_AUTH_TOKEN=region.token)
    assert (code, out["verdict"], out["exit-code"]) == (0, "conformant", "0")
    assert out["report-dir"] == str(workspace / "reports" / "staging")
    assert verdict_of(Path(out["report-dir"])) == "conformant"
    assert json.loads((Path(out["report-dir"]) / "report.json").read_text())["seed"] == 1
    assert "conformant" in summary and region.token not in summary
    assert upload["path"] == "reports/staging" and upload["name"] == "dcs-conformance-report"
    assert {name: spec["value"] for name, spec in ACTION["outputs"].items()} == {
        name: f"${{{{ steps.run.outputs.{name} }}}}" for name in ("verdict", "report-dir", "exit-code")
    }


def test_the_action_fails_the_step_as_the_run_exits_when_the_token_is_rejected(
    regions: dict[str, Region], wheel_venv: WheelVenv, workspace: Path
) -> None:
    region = next(iter(regions.values()))
    inputs = {"base-url": region.base_url, "project-id": region.project_id, "args": "--max-examples 5"}
    code, out, summary, _ = run_action(
        inputs | {"version": str(wheel_venv.wheel)}, workspace, wheel_venv, DCS_AUTH_TOKEN="a-token-of-nobody-9c2d"
    )
    assert (code, out["verdict"], out["exit-code"]) == (4, "incomplete", "4")
    assert "the credentials were rejected" in summary
    assert (workspace / "dcs-conformance-report" / "junit.xml").is_file()  # the default report-dir, uploaded


@pytest.mark.parametrize(
    ("inputs", "says"),
    [
        ({"args": "--seed '1"}, "does not split into shell words"),
        ({"base-url": "http://127.0.0.1:9"}, "project ID"),  # refused by the suite: no project ID
    ],
    ids=["args-with-an-open-quote", "settings-refused"],
)
def test_the_action_reports_not_run_and_exit_2_when_nothing_could_be_run(
    inputs: dict[str, str], says: str, wheel_venv: WheelVenv, workspace: Path
) -> None:
    code, out, summary, _ = run_action(inputs | {"version": str(wheel_venv.wheel)}, workspace, wheel_venv)
    assert (code, out["verdict"], out["exit-code"]) == (2, "not run", "2")
    assert "not run (exit 2)" in summary


def test_the_gitlab_template_judges_a_target_and_hands_the_verdict_on(
    regions: dict[str, Region], wheel_venv: WheelVenv, tmp_path: Path
) -> None:
    job = TEMPLATE[".dcs-conformance"]
    assert job["variables"]["DCS_CONFORMANCE_INSTALL"] == RELEASE  # the default: this version's release tag
    region = next(iter(regions.values()))
    project = tmp_path / "project"
    project.mkdir()
    region.write_fixtures(project)
    variables = {
        "DCS_BASE_URL": region.base_url,
        "DCS_PROJECT_ID": region.project_id,
        "DCS_AUTH_TOKEN": region.token,
        "DCS_CONFORMANCE_FIXTURES": f"ci/fixtures-{region.name}.json",
        "DCS_CONFORMANCE_ARGS": "--max-examples 20",
        "DCS_CONFORMANCE_INSTALL": str(wheel_venv.wheel),
    }
    result = run_gitlab_job(job, project, wheel_venv, variables)
    assert result.returncode == 0, result.stdout + result.stderr
    dotenv = dict(line.split("=", 1) for line in (project / "dcs-conformance.env").read_text().splitlines())
    assert dotenv == {
        "DCS_CONFORMANCE_VERDICT": "conformant",
        "DCS_CONFORMANCE_REPORT_PATH": "dcs-conformance-report",
        "DCS_CONFORMANCE_EXIT_CODE": "0",
    }
    report_dir = gitlab_expand(job["artifacts"]["paths"][0], {"DCS_CONFORMANCE_REPORT_DIR": "dcs-conformance-report"})
    assert verdict_of(project / report_dir) == "conformant"
    junit = gitlab_expand(
        job["artifacts"]["reports"]["junit"], {"DCS_CONFORMANCE_REPORT_DIR": "dcs-conformance-report"}
    )
    assert [path.name for path in project.glob(junit)] == ["junit.xml"]
    assert (project / "dcs-conformance-report" / "summary.md").is_file()
