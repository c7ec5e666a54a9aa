"""Each run setting is declared once, in conformance/config/table.py: a row there is a ``run`` flag, a pytest
``--dcs-`` option, an environment variable, a config-file key, a word of the reproducing command and a key of
report.json's options, and nothing else declares one."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast, get_type_hints

import pytest

from conformance.app.targets import plan, run_wide_flags, shared_keys, target_flags, target_keys
from conformance.cli.main import build_parser
from conformance.config import table
from conformance.config.reproducer import reproducer
from conformance.config.settings import (
    RunSettings,
    SettingsError,
    from_environment,
    read_config_file,
    resolve,
    run_options,
    secret_values,
)
from conformance.config.table import Setting
from conformance.engine.runner import RunResult, Target
from conformance.judging.results import Verdict
from conformance.pytest_plugin import given_options
from conformance.pytest_plugin.options import dests, options
from conformance.pytest_plugin.session import DcsSession
from conformance.report.build import RunCounts, build_report
from conformance.report.model import Options

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]
#: Options of the run command that are not settings: where settings come from, how the run is shown, how many
#: targets of a file are judged at once (cli/args.py says why).
RUN_COMMAND_OPTIONS = {"config", "quiet", "jobs", "summary_md"}
#: The plugin's own options: the config file, which target, the summary file (pytest_plugin/options.py).
PLUGIN_OPTIONS = {"dcs_config", "dcs_embedded", "dcs_summary_md"}

THROWAWAY = Setting(
    "throwaway_level",
    int,
    "how thrown away the run is (default: 3)",
    default=3,
    env="DCS_THROWAWAY_LEVEL",
    metavar="N",
    reported=True,
    minimum=1,
)


@pytest.fixture
def throwaway(monkeypatch: pytest.MonkeyPatch) -> Setting:
    """The table with one more row, and nothing else changed."""
    monkeypatch.setattr(table, "SETTINGS", (*table.SETTINGS, THROWAWAY))
    return THROWAWAY


def run_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return cast(argparse.ArgumentParser, commands.choices["run"])


def run_flags(argv: list[str]) -> dict[str, Any]:
    """The flags ``run`` hands to resolve, as cli/run.py hands them."""
    args = build_parser().parse_args(["run", *argv])
    return {key: value for key, value in vars(args).items() if key not in ("handler", "command", "quiet")}


def write(tmp_path: Path, text: str, name: str = "conformance.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------------------------------------------------------
# A setting added to the table, and nowhere else.


def test_a_new_row_is_a_run_flag_with_its_type_metavar_and_help(throwaway: Setting) -> None:
    action = next(action for action in run_parser()._actions if action.dest == "throwaway_level")
    assert (action.option_strings, action.type, action.metavar) == (["--throwaway-level"], int, "N")
    assert action.help == "how thrown away the run is (default: 3) (env DCS_THROWAWAY_LEVEL)"
    assert resolve(run_flags(["--throwaway-level", "5"]), env={}).value("throwaway_level") == 5
    assert resolve(run_flags([]), env={}).value("throwaway_level") == 3, "its default when not given"


def test_a_new_row_is_read_from_its_environment_variable_and_the_config_file(
    throwaway: Setting, tmp_path: Path
) -> None:
    config = write(tmp_path, "[dcs-conformance]\nthrowaway_level = 9\n")
    assert resolve({}, env={"DCS_THROWAWAY_LEVEL": "7"}).value("throwaway_level") == 7
    assert resolve({"config": config}, env={}).value("throwaway_level") == 9
    # Flags beat the environment, which beats the file, as for every setting.
    assert resolve({"config": config}, env={"DCS_THROWAWAY_LEVEL": "7"}).value("throwaway_level") == 7
    assert (
        resolve({"config": config, "throwaway_level": 4}, env={"DCS_THROWAWAY_LEVEL": "7"}).value("throwaway_level")
        == 4
    )


def test_a_new_row_is_checked_wherever_it_comes_from(throwaway: Setting, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^--throwaway-level must be at least 1, got 0$"):
        resolve(run_flags(["--throwaway-level", "0"]), env={})
    with pytest.raises(SettingsError, match=r"^DCS_THROWAWAY_LEVEL must be a whole number, got 'high'$"):
        resolve({}, env={"DCS_THROWAWAY_LEVEL": "high"})
    with pytest.raises(SettingsError, match="'throwaway_level' must be a whole number, got 'high'"):
        resolve({"config": write(tmp_path, 'throwaway_level = "high"\n')}, env={})


def test_a_new_row_is_a_pytest_option(throwaway: Setting, pytester: pytest.Pytester) -> None:
    config = pytester.parseconfig("--dcs-throwaway-level", "6", "--dcs-embedded")
    given = given_options(config)
    assert given["dcs_throwaway_level"] == 6
    assert DcsSession.from_options(given, config).settings.value("throwaway_level") == 6
    (kwargs,) = [kwargs for flag, kwargs in options() if flag == "--dcs-throwaway-level"]
    assert kwargs["type"] is int and "DCS_THROWAWAY_LEVEL" in kwargs["help"]


def test_a_new_row_is_in_report_json_options_and_in_the_reproducing_command(throwaway: Setting) -> None:
    settings = resolve({"throwaway_level": 5, "seed": 1}, env={})
    assert list(run_options(settings)) == [*(s.name for s in table.SETTINGS if s.reported)]
    assert build_report(bare_result(settings), "")["options"]["throwaway_level"] == 5  # type: ignore[typeddict-item]
    assert "--throwaway-level 5" in reproducer(settings)
    assert "--throwaway-level" not in reproducer(resolve({"seed": 1}, env={})), "left out at its default"


def test_a_new_row_is_a_key_of_a_targets_file_and_a_run_wide_flag(throwaway: Setting, tmp_path: Path) -> None:
    path = Path(write(tmp_path, 'throwaway_level = 4\n[[targets]]\nname = "a"\n[[targets]]\nname = "b"\n', "t.toml"))
    assert [t.settings.value("throwaway_level") for t in plan(path, {}, {}, tmp_path / "run")] == [4, 4]
    ran = plan(path, {"throwaway_level": 8}, {}, tmp_path / "run")
    assert [t.settings.value("throwaway_level") for t in ran] == [8, 8]
    assert all("--throwaway-level 8" in t.command for t in ran)


def bare_result(settings: RunSettings) -> RunResult:
    """A run that judged nothing: enough for build_report."""
    return RunResult(
        settings=settings,
        target=Target("embedded", settings.project_id, settings.credentials, None, embedded=True),
        transport={},
        started_at=datetime(2024, 1, 1, tzinfo=UTC),
        duration_s=0.0,
        stats=RunCounts(0, 0, 0, 0, 0, {}, 0, {}, 0, None),
        requirements=[],
        observations=[],
        trace={},
        verdict=Verdict.INCOMPLETE,
        verdict_reason=None,
        diagnosis=[],
        error=None,
        interrupted=None,
    )


# ---------------------------------------------------------------------------------------------------------------
# Every row, in every place derived from the table; no setting declared anywhere else.


def test_every_flagged_setting_is_a_run_flag_and_a_pytest_option_and_nothing_else_is() -> None:
    flagged = {setting.name for setting in table.flagged()}
    run = {action.dest for action in run_parser()._actions if action.option_strings and action.dest != "help"}
    assert run == flagged | RUN_COMMAND_OPTIONS
    assert set(dests()) == {f"dcs_{name}" for name in flagged} | PLUGIN_OPTIONS
    assert {setting.name for setting in table.SETTINGS if not setting.flag} == {"ak", "sk"}


def test_every_toml_setting_is_a_config_file_key(tmp_path: Path) -> None:
    sample = {str: '"x"', int: "1", float: "1.5", bool: "true"}
    keys = [setting for setting in table.SETTINGS if setting.toml]
    text = "".join(f"{setting.name} = {sample[setting.kind]}\n" for setting in keys)
    assert list(read_config_file(Path(write(tmp_path, text)))) == [setting.name for setting in keys]
    assert {setting.name for setting in table.SETTINGS if not setting.toml} == {"fault", "variant"}
    # A targets file: the same keys in its shared section, credentials by variable; the repeatable ones per target.
    assert set(shared_keys()) == {s.name for s in keys if not s.secret} | {f"{s.name}_env" for s in table.secrets()}
    assert set(target_keys()) == set(shared_keys()) - {"report_dir"} | {"name", "fault", "variant"}
    assert set(target_flags()) | set(run_wide_flags()) == {setting.name for setting in table.flagged()} - {"report_dir"}


def test_every_environment_variable_is_read_as_its_type_and_every_credential_variable_is_redacted() -> None:
    sample = {str: ("some-value", "some-value"), int: ("12", 12), float: ("1.5", 1.5), bool: ("true", True)}
    for setting in table.SETTINGS:
        if setting.env:
            text, value = sample[setting.kind]
            assert from_environment(setting, {setting.env: text}) == value, setting.name
    for setting in table.secrets():
        assert setting.env, f"{setting.name}: a credential needs a variable (the reproducing command names it)"
        assert f"secret-of-{setting.name}" in secret_values({}, env={setting.env: f"secret-of-{setting.name}"})


def test_report_options_are_the_reported_settings_in_todays_order_and_typed_in_the_model() -> None:
    reported = [setting.name for setting in table.SETTINGS if setting.reported]
    assert reported == [
        "max_examples",
        "rate_limit",
        "max_requests",
        "timeout",
        "max_response_bytes",
        "workers",
        "strict",
        "certify",
    ]
    assert list(get_type_hints(Options)) == reported, "report/model.py's Options types report.json's options"
    settings = resolve({"seed": 1}, env={})
    assert run_options(settings) == {name: settings.value(name) for name in reported}


def with_value(settings: Any, path: list[str], value: Any) -> Any:
    if len(path) == 1:
        return dataclasses.replace(settings, **{path[0]: value})
    return dataclasses.replace(settings, **{path[0]: with_value(getattr(settings, path[0]), path[1:], value)})


def test_every_setting_that_shapes_the_run_is_in_the_reproducing_command_and_no_secret_is() -> None:
    base = resolve({"base_url": "http://x.test", "project_id": "p", "seed": 1}, env={})
    sample = {str: "a-value-1234", int: 7, float: 2.5, bool: True, list: ("a-name",)}
    for setting in table.flagged():
        settings = with_value(base, (setting.attr or setting.name).split("."), sample[setting.kind])
        words = shlex.split(reproducer(settings))
        assert settings.value(setting.name) == sample[setting.kind]
        if not setting.shapes_run:
            assert setting.flag_name not in words, setting.name
        elif setting.secret:
            assert f"${setting.env}" in words and "a-value-1234" not in words, setting.name
        else:
            assert setting.flag_name in words, setting.name


def test_each_setting_has_a_help_and_each_value_setting_a_metavar() -> None:
    names = [setting.name for setting in table.SETTINGS]
    assert len(names) == len(set(names))
    for setting in table.SETTINGS:
        assert setting.help and setting.kind in (str, int, float, bool, list), setting.name
        assert (setting.metavar is None) == (setting.kind is bool or not setting.flag), setting.name
        assert "%" not in setting.help, "argparse formats help texts: write %% for %"
        if setting.env:
            assert setting.env in setting.cli_help


def serve_flags() -> set[str]:
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return {flag for action in commands.choices["serve"]._actions for flag in action.option_strings}


def test_no_module_but_the_table_declares_a_settings_variable_flag_option_or_key() -> None:
    """A variable, a flag, a --dcs- option or a dictionary of keys spelled out elsewhere would be a second
    declaration that drifts (messages name them inside sentences, which is fine). ``serve`` has flags of its own,
    some with the same names as run's, which cli/ spells out."""
    variables = set(table.environment().values())
    flags = {setting.flag_name for setting in table.flagged()}
    options_ = {setting.option for setting in table.SETTINGS}
    names = {setting.name for setting in table.SETTINGS}
    for path in sorted((ROOT / "conformance").rglob("*.py")):
        if path.name == "table.py" and path.parent.name == "config":
            continue
        where = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = {
            node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not variables & found, f"{where}: an environment variable of the table, spelled out"
        assert not options_ & found, f"{where}: a --dcs- option of the table, spelled out"
        spelled = flags - serve_flags() if where.parent == Path("conformance/cli") else flags
        assert not spelled & found, f"{where}: a run flag of the table, spelled out: {sorted(spelled & found)}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                declared = [
                    key.value
                    for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(key, ast.Constant)
                    and key.value in names
                    and (isinstance(value, ast.Constant) or (isinstance(value, ast.Name) and value.id in TYPES))
                ]
                assert len(declared) < 3, f"{where}:{node.lineno}: settings declared again: {declared}"
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                listed = [item.value for item in node.elts if isinstance(item, ast.Constant) and item.value in names]
                assert len(listed) < 4, f"{where}:{node.lineno}: settings listed again: {listed}"


TYPES = {"str", "int", "float", "bool", "list"}


# ---------------------------------------------------------------------------------------------------------------
# README's flag table says what the table says.


def readme_rows() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Judging a target", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| ")]
    return [(flag.strip(), env.strip()) for flag, env in rows[1:]]


def test_every_setting_is_a_row_of_readmes_flag_table_with_its_environment_variable() -> None:
    rows = readme_rows()
    for setting in table.SETTINGS:
        if setting.flag:
            matching = [row for row in rows if re.search(rf"`{setting.flag_name}[ `]", row[0])]
        else:
            matching = [row for row in rows if f"`{setting.env}`" in row[1]]
        assert len(matching) == 1, f"README's flag table: one row for {setting.name}"
        ((_, env),) = matching
        if setting.env:
            assert f"`{setting.env}`" in env, f"README's flag table: {setting.name}'s row names {setting.env}"
        else:
            assert not re.search(r"`DCS_", env), f"README's flag table: {setting.name} has no variable"
    flags = {flag for cell, _ in rows for flag in re.findall(r"`(--[a-z-]+)", cell)}
    known = {setting.flag_name for setting in table.flagged()} | {
        "--" + name.replace("_", "-") for name in RUN_COMMAND_OPTIONS
    }
    assert flags == known, "README's flag table lists the run command's flags, no more"


# ---------------------------------------------------------------------------------------------------------------
# The reproducing command: quoted for a shell, credentials by reference.


def test_the_reproducing_command_is_quoted_for_a_shell_and_names_credentials_by_variable() -> None:
    settings = resolve(
        {
            "base_url": "http://127.0.0.1:9",
            "project_id": "p1;id",
            "seed": 4,
            "auth_token": "the-token-1234",
            "readonly_ak": "ro-access-key",
            "readonly_sk": "ro-secret-key",
        },
        env={},
    )
    command = reproducer(settings)
    assert "--project-id 'p1;id'" in command
    assert '--auth-token "$DCS_AUTH_TOKEN"' in command
    assert '--readonly-ak "$DCS_READONLY_AK" --readonly-sk "$DCS_READONLY_SK"' in command
    assert not {"the-token-1234", "ro-access-key", "ro-secret-key"} & set(re.split(r"[\s'\"]", command))
    # The reader's shell expands the references and keeps every value one word.
    env = {"DCS_AUTH_TOKEN": "tok en", "DCS_READONLY_AK": "ak", "DCS_READONLY_SK": "sk", "PATH": "/usr/bin:/bin"}
    printed = subprocess.run(
        ["sh", "-c", "printf '%s\\n' " + command], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert printed == [
        *("dcs-conformance", "run", "--base-url", "http://127.0.0.1:9", "--project-id", "p1;id", "--seed", "4"),
        *("--max-examples", "100", "--workers", "16", "--auth-token", "tok en"),
        *("--readonly-ak", "ak", "--readonly-sk", "sk"),
    ]


def test_the_reproducing_command_leaves_defaults_out_but_for_the_pinned_ones() -> None:
    assert reproducer(resolve({"seed": 3}, env={})) == "dcs-conformance run --seed 3 --max-examples 100 --workers 1"
    assert reproducer(resolve({"seed": 3, "timeout": 30, "max_response_bytes": 8388608}, env={})) == (
        "dcs-conformance run --seed 3 --max-examples 100 --workers 1"
    )
    assert reproducer(resolve({"seed": 3, "fault": ["drop-last-item"], "strict": True, "timeout": 5}, env={})) == (
        "dcs-conformance run --seed 3 --max-examples 100 --timeout 5.0 --workers 1 --strict --fault drop-last-item"
    )


def test_userinfo_in_the_base_url_is_masked_before_it_is_quoted() -> None:
    """Quoting first would split a password holding a quote from its redaction."""
    settings = resolve({"base_url": "http://ops:it's@gw.example", "project_id": "p", "seed": 1}, env={})
    command = reproducer(settings)
    assert "it's" not in command and "ops" not in command
    assert "--base-url 'http://***@gw.example'" in command
