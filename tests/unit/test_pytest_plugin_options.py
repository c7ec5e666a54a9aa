"""The plugin's options are the run command's settings under a --dcs- prefix: none missing, none renamed."""

from __future__ import annotations

import argparse

from conformance.cli.main import build_parser
from conformance.pytest_plugin.options import dests, options
from conformance.pytest_plugin.session import plugin_names

#: Run flags that make no sense for one pytest session: its output, and parallel targets.
CLI_ONLY = {"quiet", "jobs"}
#: The plugin's own: which target (the CLI judges the embedded reference without --base-url).
PLUGIN_ONLY = {"embedded"}
ACTIONS = {"store": argparse._StoreAction, "store_true": argparse._StoreTrueAction, "append": argparse._AppendAction}


def run_flags() -> dict[str, argparse.Action]:
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    run = commands.choices["run"]
    return {action.dest: action for action in run._actions if action.option_strings and action.dest != "help"}


def test_every_run_setting_has_a_dcs_option_of_the_same_name() -> None:
    cli = run_flags()
    plugin = {dest.removeprefix("dcs_") for dest in dests()}
    assert set(cli) - CLI_ONLY - plugin == set(), "declare the new run flag in conformance/config/table.py"
    assert plugin - set(cli) == PLUGIN_ONLY
    for flag, _ in options():
        dest = flag.removeprefix("--dcs-").replace("-", "_")
        if dest in cli:
            assert cli[dest].option_strings == [f"--{flag.removeprefix('--dcs-')}"]


def test_options_take_values_as_the_cli_flags_do() -> None:
    cli = run_flags()
    for flag, kwargs in options():
        action = cli.get(flag.removeprefix("--dcs-").replace("-", "_"))
        if action is None:
            continue
        assert kwargs.get("type") is action.type, flag
        assert ACTIONS[kwargs.get("action", "store")] is type(action), flag


def test_settings_errors_name_the_plugins_options() -> None:
    assert plugin_names("--base-url must be an http(s) URL") == "--dcs-base-url must be an http(s) URL"
    assert plugin_names("give --fault and --max-examples") == "give --dcs-fault and --dcs-max-examples"
    assert (
        plugin_names("--not-an-option stays; so does pre--base-url") == "--not-an-option stays; so does pre--base-url"
    )
