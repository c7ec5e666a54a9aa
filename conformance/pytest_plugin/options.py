"""The plugin's options and its warning: shared by the inert plugin and the session it starts, with nothing but the
standard library, pytest and the settings table (itself standard library only) to import: the plugin is loaded in
every pytest session of an environment that installs the suite."""

from __future__ import annotations

import re
from typing import Any

from conformance.config import table

#: The plugin's own options, beside the run settings: the config file (as ``run --config``), which target, and the
#: CI summary file the CLI writes with --summary-md.
OWN: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--dcs-config", {"metavar": "FILE", "help": "TOML file with the same settings as 'dcs-conformance run'"}),
    ("--dcs-embedded", {"action": "store_true", "default": None, "help": "judge the embedded reference server"}),
    ("--dcs-summary-md", {"metavar": "FILE", "help": "also write the run's markdown summary to FILE"}),
)
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z-]*)")


def options() -> list[tuple[str, dict[str, Any]]]:
    """Every ``--dcs-*`` option and its pytest ``addoption`` arguments: each run setting of the table (same type,
    same environment variable, its help naming the plugin's options), then the plugin's own."""
    found: list[tuple[str, dict[str, Any]]] = []
    for setting in table.flagged():
        found.append(
            (setting.option, {"help": plugin_names(setting.pytest_help or setting.cli_help), **setting.arguments})
        )
    return [*found, *OWN]


def dests() -> tuple[str, ...]:
    """Destinations of the options: the plugin is on when any of them is given."""
    return tuple(flag[2:].replace("-", "_") for flag, _ in options())


def plugin_names(message: str) -> str:
    """Settings errors and help texts name the CLI's flags (--base-url); in pytest they are --dcs-base-url."""
    known = {setting.flag_name[2:] for setting in table.flagged()} | {flag[len("--dcs-") :] for flag, _ in OWN}
    return _FLAG.sub(lambda m: f"--dcs-{m.group(1)}" if m.group(1) in known else m.group(0), message)


class DcsShouldViolation(UserWarning):
    """A SHOULD requirement was violated: its item passes with this warning (it fails with --dcs-strict)."""
