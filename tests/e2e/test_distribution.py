"""The suite as users install it: the sdist and wheel ``make dist`` builds pass ``twine check``, carry our own
distribution name (``dcs-conformance`` on PyPI is another project) and the contract, and the wheel installed into a
fresh venv judges the embedded reference conformant from a directory that is not the repository; its pytest plugin
stays inert, loaded by entry point or by ``-p``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from conformance import DISTRIBUTION, __version__
from conformance.contract import SPEC_FILE, contract_dir
from tests.conftest import Distribution, WheelVenv

pytestmark = pytest.mark.e2e

#: The pytest11 entry point: the distribution's name, as pytest's `-p NAME` and `-p no:NAME` take it.
PLUGIN = DISTRIBUTION.replace("-", "_")

INERT_CHECK = """
import sys


def test_the_plugin_is_registered_and_imported_nothing_of_the_engine(request):
    # The plugin, its options and the settings table they are read from (standard library only): nothing else.
    light = {"conformance.pytest_plugin", "conformance.pytest_plugin.options", "conformance.config"}
    light.add("conformance.config.table")
    ours = [name for name in sys.modules if name.startswith("conformance.") and name not in light]
    assert ours == []
    assert "conformance.pytest_plugin" in sys.modules
    assert request.config.getoption("dcs_base_url") is None  # its options are there, unused
"""


def run(argv: list[str], venv: WheelVenv, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=venv.env(**env), capture_output=True, text=True, timeout=300, check=False)


def test_the_sdist_and_the_wheel_pass_twine_check(built_dist: Distribution) -> None:
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built_dist.sdist), str(built_dist.wheel)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 2


def test_the_wheel_carries_our_distribution_name_its_entry_points_and_the_contract(built_dist: Distribution) -> None:
    assert built_dist.wheel.name == f"{PLUGIN}-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(built_dist.wheel) as archive:
        info = f"{PLUGIN}-{__version__}.dist-info"
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        assert archive.read(f"conformance/_contract/{SPEC_FILE}") == (contract_dir() / SPEC_FILE).read_bytes()
    assert (metadata["Name"], metadata["Version"], metadata["Requires-Python"]) == (DISTRIBUTION, __version__, ">=3.11")
    assert "dcs-conformance = conformance.cli.main:entry" in entry_points
    assert f"{PLUGIN} = conformance.pytest_plugin" in entry_points


def test_the_installed_wheel_judges_the_reference_conformant_from_another_directory(
    wheel_venv: WheelVenv, tmp_path: Path
) -> None:
    version = run([str(wheel_venv.bin / "dcs-conformance"), "--version"], wheel_venv, tmp_path)
    assert version.stdout == f"{DISTRIBUTION} {__version__}\n"
    result = run([str(wheel_venv.bin / "dcs-conformance"), "run", "--quiet"], wheel_venv, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: conformant" in result.stdout
    assert (tmp_path / "reports" / "latest" / "report.json").is_file()
    where = run(
        [str(wheel_venv.bin / "python"), "-c", "import conformance; print(conformance.__file__)"], wheel_venv, tmp_path
    )
    assert where.stdout.startswith(str(wheel_venv.root)) and "site-packages" in where.stdout  # not the checkout


@pytest.mark.parametrize(
    ("how", "autoload"),
    [
        (["-p", PLUGIN], None),  # the entry point by name: what a user writes, autoload or not
        (["-p", "conformance.pytest_plugin"], "1"),  # by module, where plugins are not loaded by entry point
        ([], None),  # installed is registered
    ],
    ids=["entry-point", "module-without-autoload", "autoload"],
)
def test_the_installed_plugin_is_inert_in_a_plain_pytest_session(
    wheel_venv: WheelVenv, tmp_path: Path, how: list[str], autoload: str | None
) -> None:
    (tmp_path / "test_inert.py").write_text(INERT_CHECK)
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": autoload} if autoload else {}
    argv = [str(wheel_venv.bin / "python"), "-m", "pytest", *how, "-p", "no:cacheprovider", "-q", "test_inert.py"]
    result = run(argv, wheel_venv, tmp_path, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert not (tmp_path / "reports").exists()


def test_with_autoload_pytest_refuses_the_plugin_named_by_module_as_the_readme_says(
    wheel_venv: WheelVenv, tmp_path: Path
) -> None:
    """The limitation README.md documents: loaded by entry point already, the module named again by -p is a second
    registration of one module, which pytest (pluggy) refuses; the entry point's name is the one to give there."""
    (tmp_path / "test_inert.py").write_text(INERT_CHECK)
    argv = [str(wheel_venv.bin / "python"), "-m", "pytest", "-p", "conformance.pytest_plugin", "-q", "test_inert.py"]
    result = run(argv, wheel_venv, tmp_path)
    assert result.returncode != 0
    assert "Plugin already registered under a different name" in result.stderr
