"""The ``dcs-conformance`` command: serve the reference, run the suite.

User mistakes end with exit 2 and one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from conformance import __version__
from conformance.contract import ENDPOINT

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake in the command line, the environment or a config file."""


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {number}")
    return number


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="start the reference server",
        description="Serve the reference implementation of POST " + ENDPOINT + " on loopback until interrupted.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument(
        "--port", type=_port, default=18080, help="port to bind, 0 for any free port (default: %(default)s)"
    )
    serve.add_argument(
        "--auth",
        choices=["none", "token", "aksk"],
        default="none",
        help="how callers authenticate (default: %(default)s)",
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
        "--restartable", type=_positive_int, default=100, help="restartable tasks to seed (default: %(default)s)"
    )
    serve.add_argument("--seed", type=int, help="seed for the task IDs (default: random)")
    serve.set_defaults(handler=cmd_serve)


def auth_policy_from_args(args: argparse.Namespace):
    from conformance.reference.auth import AuthMode, AuthPolicy

    token = args.token or os.environ.get("DCS_AUTH_TOKEN")
    ak = args.ak or os.environ.get("CLOUD_SDK_AK")
    sk = args.sk or os.environ.get("CLOUD_SDK_SK")
    if bool(ak) != bool(sk):
        raise UsageError(
            "an access key needs its secret key: give both --ak and --sk (or CLOUD_SDK_AK and CLOUD_SDK_SK)"
        )
    if bool(args.readonly_ak) != bool(args.readonly_sk):
        raise UsageError("give both --readonly-ak and --readonly-sk, or neither")
    try:
        return AuthPolicy(
            mode=AuthMode(args.auth),
            token=token,
            readonly_token=args.readonly_token,
            keys={ak: sk} if ak and sk else {},
            readonly_keys={args.readonly_ak: args.readonly_sk} if args.readonly_ak else {},
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_serve(args: argparse.Namespace) -> int:
    from conformance.reference.app import create_app
    from conformance.reference.server import BackgroundServer
    from conformance.reference.store import seed_store

    policy = auth_policy_from_args(args)
    store, fixtures = seed_store(restartable=args.restartable, seed=args.seed)
    server = BackgroundServer(create_app(store, policy, args.project_id), host=args.host, port=args.port)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {exc}") from None
    if args.fixtures_out:
        _write_atomically(args.fixtures_out, json.dumps(fixtures, indent=2) + "\n")
    project = args.project_id[0] if args.project_id else "{project_id}"
    print(f"dcs-conformance {__version__}: reference server listening on {server.base_url}")
    print(f"  endpoint: POST {server.base_url}{ENDPOINT.replace('{project_id}', project)}")
    print(
        f"  auth: {policy.mode}; tasks: {len(fixtures['restartable'])} restartable, "
        f"{len(fixtures['not_restartable'])} not restartable"
    )
    if args.fixtures_out:
        print(f"  fixtures: {args.fixtures_out}")
    print("  press Ctrl-C to stop", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dcs-conformance",
        description="Conformance suite for Huawei Cloud DCS API V2 POST " + ENDPOINT,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_serve_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"dcs-conformance {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
