"""The command line that reproduces a run: every setting that shaped it (the table's ``shapes_run``), and no secret.

Beside the settings it is derived from, so that the CLI, the many-targets mode and the pytest plugin print the same
command. Every value is quoted for a POSIX shell (a project ID ``p1;id`` cannot end the command); a credential is
written as a reference to its environment variable, ``--auth-token "$DCS_AUTH_TOKEN"``, which the reader's shell
expands; userinfo in the base URL is masked before quoting, so that the quotes cannot split it from its redaction.
"""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit

from conformance.config import table
from conformance.config.settings import RunSettings
from conformance.support.redaction import USERINFO_MASK


def reproducer(settings: RunSettings) -> str:
    """The command that reproduces this run, without any secret: the flags that take a value (those at their
    default left out, but for ``pinned`` ones), then the switches, the repeatable flags, and the credentials."""
    values: list[str] = []
    switches: list[str] = []
    repeated: list[str] = []
    credentials: list[str] = []
    for setting in table.SETTINGS:
        if not (setting.shapes_run and setting.flag):
            continue
        if setting.name == "project_id" and settings.embedded:
            continue  # the embedded reference's own project: a rerun without --base-url gets it again
        value = settings.value(setting.name)
        if setting.secret:
            if value:
                credentials += [setting.flag_name, f'"${setting.env}"']
        elif setting.kind is bool:
            if value:
                switches.append(setting.flag_name)
        elif setting.kind is list:
            for item in value:
                repeated += [setting.flag_name, shlex.quote(str(item))]
        elif value is not None and (setting.pinned or value != setting.default):
            values += [setting.flag_name, shlex.quote(without_userinfo(str(value)))]
    return " ".join(["dcs-conformance", "run", *values, *switches, *repeated, *credentials])


def without_userinfo(value: str) -> str:
    """A URL with its userinfo masked, whatever characters it holds (``http://***@host``); any other value as it is."""
    if "://" not in value:
        return value
    try:
        netloc = urlsplit(value).netloc
    except ValueError:
        return value
    _, at, host = netloc.rpartition("@")
    return value.replace(netloc, f"{USERINFO_MASK}@{host}", 1) if at else value
