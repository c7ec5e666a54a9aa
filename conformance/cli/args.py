"""The command line's words: every subcommand's flags and help texts (their handlers are wired in cli.py), the
value types they parse with, and how a mistake in them is reported.

User mistakes end with exit 2 and one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, NoReturn

from conformance.config import table
from conformance.contract import ENDPOINT
from conformance.report.compare import FAIL_ON
from conformance.support.errors import UsageError as UsageError

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr (exit 2), not the usage block followed by the error; and no
    abbreviated flags (``--base-ur``): a flag added later would silently change what an old command line means."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def _count(value: str) -> int:
    """A number of tasks to seed: 0 or more (a reference without tasks of one kind is a setup worth testing)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {number}")
    return number


def _non_negative_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number, 0 or more: {value}")
    return number


def add_serve_parser(commands: argparse._SubParsersAction[OneLineParser]) -> argparse.ArgumentParser:
    serve = commands.add_parser(
        "serve",
        help="start the reference server",
        description="Serve the reference implementation of POST " + ENDPOINT + " on loopback until interrupted.",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: %(default)s); any other than loopback is warned about on stderr",
    )
    serve.add_argument(
        "--port", type=_port, default=18080, help="port to bind, 0 for any free port (default: %(default)s)"
    )
    serve.add_argument(
        "--auth",
        choices=["none", "token", "aksk"],
        default="none",
        help="how callers authenticate (default: %(default)s)",
    )
    serve.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve with --auth none on an address other than loopback (refused without it)",
    )
    serve.add_argument("--token", help="the accepted X-Auth-Token (default: $DCS_AUTH_TOKEN)")
    serve.add_argument("--readonly-token", help="a token that authenticates but lacks dcs:migrationTask:modify (403)")
    serve.add_argument("--ak", help="the accepted access key (default: $CLOUD_SDK_AK)")
    serve.add_argument("--sk", help="the secret key of --ak (default: $CLOUD_SDK_SK)")
    serve.add_argument("--readonly-ak", help="an access key that authenticates but lacks the modify permission (403)")
    serve.add_argument("--readonly-sk", help="the secret key of --readonly-ak")
    serve.add_argument(
        "--project-id",
        action="append",
        default=[],
        metavar="ID",
        help="serve only this project ID (repeatable); others get 404. Default: every project ID",
    )
    serve.add_argument("--fixtures-out", type=Path, metavar="FILE", help="write the seeded tasks as a fixtures file")
    serve.add_argument(
        "--restartable", type=_count, default=100, help="restartable tasks to seed (default: %(default)s)"
    )
    serve.add_argument(
        "--not-restartable",
        type=_count,
        metavar="N",
        help="non-restartable tasks to seed, cycling through every kind (default: 4 of each of the 12 kinds)",
    )
    serve.add_argument("--seed", type=int, help="seed for the task IDs and intermittent faults (default: random)")
    serve.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="switch on a deliberate fault (repeatable)"
    )
    serve.add_argument(
        "--variant", action="append", default=[], metavar="NAME", help="switch on a legitimate variant (repeatable)"
    )
    serve.add_argument(
        "--latency-ms",
        type=_non_negative_float,
        default=0,
        metavar="N",
        help="delay every answer by N milliseconds, like a remote target (default: %(default)s)",
    )
    serve.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate (chain first)")
    serve.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert (default: inside --tls-cert)")
    serve.add_argument(
        "--client-ca", metavar="FILE", help="demand client certificates signed by a CA in this PEM file (mutual TLS)"
    )
    serve.add_argument(
        "--list-faults",
        action="store_true",
        help="list the faults, the requirements each breaks and the fewest fixtures with which it can show",
    )
    serve.add_argument("--list-variants", action="store_true", help="list the legitimate variants")
    return serve


def add_run_parser(commands: argparse._SubParsersAction[OneLineParser]) -> argparse.ArgumentParser:
    run = commands.add_parser(
        "run",
        help="judge a target (default: the embedded reference server)",
        description=(
            "Check an implementation of POST " + ENDPOINT + " against every requirement of the catalogue. "
            "Without --base-url the reference server is started in-process and judged. "
            "Exit codes: 0 conformant, 1 non-conformant, 2 usage error, 3 run not completed, 4 incomplete (a MUST "
            "left unexercised, a setup the diagnosis found unusable, or with --certify any MUST unexercised)."
        ),
    )
    add_settings(run)
    # The command's own options, not settings: where settings come from (--config), how the run is shown (--quiet,
    # --summary-md), how many targets of a --config file are judged at once (--jobs). No environment variable, no
    # config-file key, not in the reproducing command nor in report.json.
    run.add_argument(
        "--config", metavar="FILE", help="TOML file with the same settings; flags beat env, env beats file"
    )
    run.add_argument("--quiet", action="store_true", help="print only the verdict line")
    run.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="with a --config file listing [[targets]]: judge at most N at a time (default: min(4, targets))",
    )
    run.add_argument(
        "--summary-md", metavar="FILE", help="also write the markdown summary to FILE (as to $GITHUB_STEP_SUMMARY)"
    )
    return run


def add_settings(parser: argparse.ArgumentParser) -> None:
    """A flag for every run setting of the table (conformance.config.table), in its order; None when not given."""
    for setting in table.flagged():
        parser.add_argument(setting.flag_name, help=setting.cli_help, **setting.arguments)


def add_report_parsers(
    commands: argparse._SubParsersAction[OneLineParser],
) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    report = commands.add_parser(
        "report",
        help="re-render index.html from a report directory",
        description="Render DIR/index.html again from DIR/report.json alone (nothing is re-run).",
    )
    report.add_argument("directory", type=Path, metavar="DIR")
    verify = commands.add_parser(
        "verify",
        help="check a certification bundle",
        description=(
            "Check a bundle written by 'run --certify': its signature (with --allowed-signers), SHA256SUMS, that "
            "its statuses, verdict, badge and page follow from report.json, that it was judged by this suite's spec "
            "and catalogue, and that the verdict is conformant; with --rerun, judge the target again and compare. "
            "Exit 0 valid, 1 invalid (or the rerun differs), 2 usage error or not a report directory, 3 the rerun "
            "could not be completed."
        ),
    )
    verify.add_argument("directory", type=Path, metavar="BUNDLE")
    add_verify_flags(verify)
    return report, verify


def add_verify_flags(verify: argparse.ArgumentParser) -> None:
    """verify's signature and --rerun flags; the target flags are run's, for the rerun only."""
    verify.add_argument(
        "--allowed-signers",
        type=Path,
        metavar="FILE",
        help="require a signature (SHA256SUMS.sig) by a key of this OpenSSH allowed_signers file",
    )
    verify.add_argument("--identity", metavar="PRINCIPAL", help="with --allowed-signers: the signer must be this one")
    rerun = verify.add_argument_group("rerun", "judge the target again with the bundle's seed and options")
    rerun.add_argument("--rerun", action="store_true", help="rerun, and exit 1 when a requirement's status differs")
    rerun.add_argument(
        "--rerun-dir", type=Path, metavar="DIR", help="keep the rerun's reports here (default: a temporary directory)"
    )
    for setting in table.rerun_targets():
        rerun.add_argument(setting.flag_name, help=setting.cli_help, **setting.arguments)


def add_compare_parser(commands: argparse._SubParsersAction[OneLineParser]) -> argparse.ArgumentParser:
    compare = commands.add_parser(
        "compare",
        help="compare two runs: requirements, observations, scenario exchanges, fidelity",
        description=(
            "Compare two runs of the suite (a vendor's mock and the real service, staging before and after a "
            "deployment): requirement statuses and observations side by side, the scenario exchanges that differ, "
            "and the fidelity figure, the share of comparable scenario exchanges that agree. Writes compare.json "
            "and compare.html to --out. Exit codes: 0 compared, 1 a difference named by --fail-on, 2 usage error."
        ),
    )
    compare.add_argument("base", type=Path, metavar="BASE", help="a report directory, or its report.json")
    compare.add_argument("candidate", type=Path, metavar="CANDIDATE", help="a report directory, or its report.json")
    compare.add_argument(
        "--out", type=Path, default=Path("."), metavar="DIR", help="where compare.json and compare.html go (default: .)"
    )
    compare.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="exit 1 when requirement statuses, observations, or anything (exchanges included) differ",
    )
    return compare
