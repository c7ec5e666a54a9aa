"""The ``dcs-conformance`` command: serve the reference, run the suite, compare two runs.

This module wires each subcommand's flags (args) to its handler (run, serve, reports, summarize) and
guards the terminal. User mistakes end with exit 2 and one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import traceback
from collections.abc import Sequence

from conformance import DISTRIBUTION, __version__
from conformance.cli.args import (
    EXIT_USAGE,
    OneLineParser,
    UsageError,
    add_compare_parser,
    add_report_parsers,
    add_run_parser,
    add_serve_parser,
)
from conformance.cli.reports import cmd_compare, cmd_report, cmd_verify
from conformance.cli.run import cmd_run
from conformance.cli.serve import cmd_serve
from conformance.cli.summarize import add_summarize_parser
from conformance.contract import ENDPOINT
from conformance.support.caches import keep_hypothesis_out_of_the_working_directory
from conformance.support.terminal import guarded, one_line


def distribution_version() -> str:
    """The installed distribution's name and version: the name is what ``pip install`` needs to get this suite
    again, and the command's own name would install somebody else's project. A source checkout that was never
    installed has no metadata: its constant and ``__version__`` then."""
    from importlib import metadata

    try:
        installed = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return f"{DISTRIBUTION} {__version__}"
    return f"{installed.metadata['Name']} {installed.version}"


class VersionAction(argparse.Action):
    """``--version``, looked up only when asked for: every other command line pays nothing for the metadata."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help="print the version"
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(distribution_version())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="dcs-conformance",
        description="Conformance suite for Huawei Cloud DCS API V2 POST " + ENDPOINT,
    )
    parser.add_argument("--version", action=VersionAction)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_run_parser(commands).set_defaults(handler=cmd_run)
    add_serve_parser(commands).set_defaults(handler=cmd_serve)
    report, verify = add_report_parsers(commands)
    report.set_defaults(handler=cmd_report)
    verify.set_defaults(handler=cmd_verify)
    add_compare_parser(commands).set_defaults(handler=cmd_compare)
    add_summarize_parser(commands)
    return parser


EXIT_INTERNAL = 3
#: What a shell reports for a command its reader stopped reading (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command with the terminal guarded: nothing printed carries a secret, and only a bug (never a user
    mistake) ends in a traceback, with exit 3 since 1 means non-conformant."""
    from conformance.config.settings import secret_values

    keep_hypothesis_out_of_the_working_directory()

    with guarded(secret_values({})) as terminal:
        parser = build_parser()
        args = parser.parse_args(argv)
        terminal.learn(secret_values(vars(args)))
        try:
            code: int = args.handler(args)
            return code
        except UsageError as exc:
            print(f"dcs-conformance {args.command}: error: {one_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            if not stdout_reader_gone():
                return internal_error(args.command)  # a pipe of our own broke: a bug like any other
            # The reader went away (``serve --list-faults | head``): what is left has nobody to read it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except KeyboardInterrupt:
            # Only before or after a run's sending: a run interrupted while sending writes its reports, exits 130.
            print(f"dcs-conformance {args.command}: interrupted", file=sys.stderr)
            return 130
        except Exception:
            return internal_error(args.command)


def internal_error(command: str) -> int:
    """The traceback of a bug in the suite, and the line saying so."""
    traceback.print_exc()
    print(f"dcs-conformance {command}: internal error: a bug in the suite, please report it", file=sys.stderr)
    return EXIT_INTERNAL


def stdout_reader_gone() -> bool:
    """Whether standard output is a pipe whose reader closed it (poll reports an error on its write end), rather
    than some other pipe of ours that broke."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError):
        return False


def entry() -> int:
    """The ``dcs-conformance`` command (and ``python -m conformance``): ``main`` as the process's whole job, its
    collector tuned for that (support/collector.py), without httpx's command-line client (support/lean_imports.py),
    and its end safe from threads a run left behind (support/process_end.py)."""
    from conformance.support.collector import collected_for_one_job
    from conformance.support.lean_imports import without_httpx_command_line
    from conformance.support.process_end import leave

    without_httpx_command_line()
    with collected_for_one_job():
        code = main()
    return leave(code)


if __name__ == "__main__":
    sys.exit(entry())
