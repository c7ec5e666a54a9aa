"""Running CI files' shell steps here as the CI would run them: GitHub's ``run:`` (and a composite action's steps,
whose inputs reach a script only through ``env:``) and GitLab's ``script:``, with their ``${{ }}`` expressions
evaluated from a context the test gives, and the suite's install line pointed at the locally built wheel."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__

#: A GitHub expression, ${{ ... }}.
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
#: Where the examples install the suite from: a tag of its repository, the one of this very version.
RELEASE = f"git+https://github.com/<owner>/dcs-conformance@v{__version__}"
#: How GitHub runs `shell: bash` (a composite action's steps) and a workflow step without `shell:` on Linux.
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
GITHUB_DEFAULT_SHELL = ["bash", "-e"]


def evaluate(text: str, context: Mapping[str, str]) -> str:
    """``text`` with every ${{ name }} replaced from ``context``; an expression the test did not foresee fails it,
    so a CI file cannot start reading something these tests never set."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) not in context:
            pytest.fail(f"unexpected expression ${{{{ {match.group(1)} }}}} (the test knows {sorted(context)})")
        return context[match.group(1)]

    return EXPRESSION.sub(value, text)


def step_env(step: Mapping[str, Any], context: Mapping[str, str]) -> dict[str, str]:
    return {name: evaluate(str(value), context) for name, value in (step.get("env") or {}).items()}


#: The GitLab template's install line reads its source from this variable, whose default the template test checks.
TEMPLATE_INSTALL = '"$DCS_CONFORMANCE_INSTALL"'


def installing_the_wheel(script: str, wheel: Path) -> str:
    """The script with the suite's install source, the release tag, replaced by the built wheel: the same pip
    command, the artifact a release would hold. A script that installs the suite from anywhere else fails."""
    if "pip install" in script:
        assert RELEASE in script or TEMPLATE_INSTALL in script, (
            f"the install line does not install {RELEASE}: {script!r}"
        )
    return script.replace(RELEASE, str(wheel))


def run_script(
    shell: list[str], script: str, cwd: Path, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """One step's script, from a file as the runners run it."""
    path = cwd.parent / f"{cwd.name}-step.sh"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(
        [*shell, str(path)], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )


def outputs(path: Path) -> dict[str, str]:
    """A GITHUB_OUTPUT file's name=value lines."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if line)
