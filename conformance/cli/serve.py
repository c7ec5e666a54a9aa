"""``dcs-conformance serve``: the reference server's lifecycle in the foreground, from its flags (credentials, TLS
files, deviations) to Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import os
import signal
import socket
import sys
import threading
from typing import TYPE_CHECKING

from conformance import __version__
from conformance.cli.args import UsageError
from conformance.contract import ENDPOINT
from conformance.support.files import write_atomically

if TYPE_CHECKING:
    from conformance.reference.auth import AuthPolicy


def auth_policy_from_args(args: argparse.Namespace) -> AuthPolicy:
    from conformance.config import table
    from conformance.reference.auth import AuthMode, AuthPolicy

    env = table.environment()
    token = args.token or os.environ.get(env["auth_token"])
    ak = args.ak or os.environ.get(env["ak"])
    sk = args.sk or os.environ.get(env["sk"])
    if bool(ak) != bool(sk):
        raise UsageError(
            "an access key needs its secret key: give both --ak and --sk (or CLOUD_SDK_AK and CLOUD_SDK_SK)"
        )
    if bool(args.readonly_ak) != bool(args.readonly_sk):
        raise UsageError("give both --readonly-ak and --readonly-sk, or neither")
    check_serve_credentials(args.auth, token, args.readonly_token, ak, sk, args.readonly_ak, args.readonly_sk)
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


def check_serve_credentials(mode: str, token: str | None, readonly_token: str | None, *keys: str | None) -> None:
    """The credentials the server will compare against must be sendable by a client at all (see run's check)."""
    from conformance.config.credentials_check import CredentialError, check_credentials

    names = ("--ak (CLOUD_SDK_AK)", "--sk (CLOUD_SDK_SK)", "--readonly-ak", "--readonly-sk")
    given = {"--token (DCS_AUTH_TOKEN)": token, "--readonly-token": readonly_token} if mode == "token" else {}
    if mode == "aksk":
        given |= dict(zip(names, keys, strict=True))
    try:
        check_credentials(given, frozenset(names))
    except CredentialError as exc:
        raise UsageError(str(exc)) from None


def check_server_tls_files(args: argparse.Namespace) -> None:
    """The reference's TLS files, read once before it starts so that a bad one is one clear line."""
    from conformance.wire.tls import TlsSetupError, check_server_files

    if not args.tls_cert:
        if args.tls_key or args.client_ca:
            raise UsageError(f"{'--tls-key' if args.tls_key else '--client-ca'} needs --tls-cert FILE")
        return
    try:
        check_server_files(args.tls_cert, args.tls_key, args.client_ca)
    except TlsSetupError as exc:
        raise UsageError(str(exc)) from None


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` serves this machine only: a loopback address, ``localhost``, or a name every address
    of which is loopback. ``0.0.0.0``, ``::`` and the empty host bind every interface."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.partition("%")[0]).is_loopback
    except ValueError:
        pass
    if not name:
        return False
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(str(a).partition("%")[0]).is_loopback for a in addresses)


def check_exposure(args: argparse.Namespace) -> None:
    """A reference served beyond loopback is warned about; unauthenticated, it is refused unless asked for."""
    if is_loopback(args.host):
        return
    if args.auth == "none" and not args.allow_unauthenticated:
        raise UsageError(
            f"--host {args.host} is not a loopback address, and with --auth none anyone who can reach it may call the "
            "reference server: give --auth token or --auth aksk, or --allow-unauthenticated to serve it so anyway"
        )
    unauthenticated = " without authentication (--allow-unauthenticated)" if args.auth == "none" else ""
    print(
        f"dcs-conformance serve: warning: {args.host} is not a loopback address: anyone who can reach this machine "
        f"can call the reference server{unauthenticated}",
        file=sys.stderr,
        flush=True,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from conformance.reference import deviations, restart_ledger
    from conformance.reference.embedded import assemble, server_for
    from conformance.reference.server import ServerStartError

    if args.list_faults or args.list_variants:
        for kind, wanted in (("fault", args.list_faults), ("variant", args.list_variants)):
            if wanted:
                print("\n".join(deviations.listing(kind)))
        return 0
    policy = auth_policy_from_args(args)
    check_server_tls_files(args)
    check_exposure(args)
    if args.fixtures_out and args.fixtures_out.is_symlink():
        raise UsageError(
            f"--fixtures-out {args.fixtures_out} is a symbolic link, and the suite never writes through one"
        )
    try:
        app, fixtures = assemble(
            policy,
            args.project_id,
            restartable=args.restartable,
            not_restartable=args.not_restartable,
            seed=args.seed,
            faults=args.fault,
            variants=args.variant,
            latency_ms=args.latency_ms,
            ledger=restart_ledger.from_environment("dcs-conformance serve"),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    server = server_for(
        app,
        args.fault,
        args.variant,
        host=args.host,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        client_ca=args.client_ca,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.start()
    except ServerStartError as exc:
        advice = "; give another --port, or --port 0 for any free one" if exc.errno == errno.EADDRINUSE else ""
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {exc}{advice}") from None
    if args.fixtures_out:
        try:
            write_atomically(args.fixtures_out, json.dumps(fixtures, indent=2) + "\n")
        except OSError as exc:
            server.stop()
            raise UsageError(f"cannot write the fixtures file {args.fixtures_out}: {exc.strerror or exc}") from None
    project = args.project_id[0] if args.project_id else "{project_id}"
    print(f"dcs-conformance {__version__}: reference server listening on {server.base_url}")
    print(f"  endpoint: POST {server.base_url}{ENDPOINT.replace('{project_id}', project)}")
    print(
        f"  auth: {policy.mode}; tasks: {len(fixtures['restartable'])} restartable, "
        f"{len(fixtures['not_restartable'])} not restartable"
    )
    if args.tls_cert:
        demand = f"required, signed by a CA in {args.client_ca}" if args.client_ca else "not asked for"
        print(f"  tls: certificate {args.tls_cert}; client certificates {demand}")
    if args.fixtures_out:
        print(f"  fixtures: {args.fixtures_out}")
    print("  press Ctrl-C to stop", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
