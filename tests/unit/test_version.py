"""The distribution's name is ours, everywhere it is written: pyproject.toml, the pytest plugin's registration and
``--version``, which prints the name pip installs this suite by (the command's own name, ``dcs-conformance``, is
another project on PyPI) with the installed version."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from conformance import DISTRIBUTION, __version__
from conformance.cli.main import main

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


def version_line(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_pyproject_names_the_distribution_and_registers_the_plugin_under_that_name() -> None:
    project = PYPROJECT["project"]
    assert project["name"] == DISTRIBUTION != "dcs-conformance"
    assert project["scripts"] == {"dcs-conformance": "conformance.cli.main:entry"}  # the command keeps its name
    assert project["entry-points"]["pytest11"] == {DISTRIBUTION.replace("-", "_"): "conformance.pytest_plugin"}


def test_version_prints_the_installed_distributions_name_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    installed = metadata.distribution(DISTRIBUTION)  # the editable install of this checkout
    assert version_line(capsys) == f"{installed.metadata['Name']} {installed.version}\n"
    assert installed.metadata["Name"] == DISTRIBUTION and installed.version == __version__


def test_a_checkout_that_was_never_installed_prints_the_constant_name_and_its_own_version(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_installed(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)
    assert version_line(capsys) == f"{DISTRIBUTION} {__version__}\n"
