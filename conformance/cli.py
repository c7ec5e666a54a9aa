"""The ``dcs-conformance`` command: serve the reference, run the suite, compare two runs.

User mistakes end with exit 2 and one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from conformance import __version__
from conformance.contract import ENDPOINT
from conformance.files import write_atomically
from conformance.summarize import add_summarize_parser
from conformance.terminal import guarded, one_line

if TYPE_CHECKING:
    from conformance.reference.auth import AuthPolicy
    from conformance.settings import RunSettings

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake in the command line, the environment or a config file."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr (exit 2), not the usage block followed by the error."""

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


def _positive_int(value: str) -> int:
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
    serve.add_argument(
        "--not-restartable",
        type=_positive_int,
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
    serve.add_argument("--list-faults", action="store_true", help="list the faults and the requirements they break")
    serve.add_argument("--list-variants", action="store_true", help="list the legitimate variants")
    serve.set_defaults(handler=cmd_serve)


def auth_policy_from_args(args: argparse.Namespace) -> AuthPolicy:
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
    from conformance.credentials_check import CredentialError, check_credentials

    names = ("--ak (CLOUD_SDK_AK)", "--sk (CLOUD_SDK_SK)", "--readonly-ak", "--readonly-sk")
    given = {"--token (DCS_AUTH_TOKEN)": token, "--readonly-token": readonly_token} if mode == "token" else {}
    if mode == "aksk":
        given |= dict(zip(names, keys, strict=True))
    try:
        check_credentials(given, frozenset(names))
    except CredentialError as exc:
        raise UsageError(str(exc)) from None


def server_tls_files(args: argparse.Namespace) -> dict[str, str | None]:
    """The reference's TLS files, read once before it starts so that a bad one is one clear line."""
    from conformance.tls import TlsSetupError, check_server_files

    if not args.tls_cert:
        if args.tls_key or args.client_ca:
            raise UsageError(f"{'--tls-key' if args.tls_key else '--client-ca'} needs --tls-cert FILE")
        return {}
    try:
        check_server_files(args.tls_cert, args.tls_key, args.client_ca)
    except TlsSetupError as exc:
        raise UsageError(str(exc)) from None
    return {"tls_cert": args.tls_cert, "tls_key": args.tls_key, "client_ca": args.client_ca}


def cmd_serve(args: argparse.Namespace) -> int:
    from conformance.reference import deviations
    from conformance.reference.app import create_app
    from conformance.reference.server import BackgroundServer
    from conformance.reference.store import seed_store

    if args.list_faults or args.list_variants:
        for kind, wanted in (("fault", args.list_faults), ("variant", args.list_variants)):
            if wanted:
                print("\n".join(deviations.listing(kind)))
        return 0
    policy = auth_policy_from_args(args)
    tls_files = server_tls_files(args)
    try:
        behaviour = deviations.build(args.fault, args.variant, seed=args.seed, latency_ms=args.latency_ms)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store, fixtures = seed_store(restartable=args.restartable, seed=args.seed, not_restartable=args.not_restartable)
    app = create_app(store, policy, args.project_id, behaviour)
    server = BackgroundServer(app, host=args.host, port=args.port, **tls_files)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {exc}") from None
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


def add_run_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="judge a target (default: the embedded reference server)",
        description=(
            "Check an implementation of POST " + ENDPOINT + " against every requirement of the catalogue. "
            "Without --base-url the reference server is started in-process and judged. "
            "Exit codes: 0 conformant, 1 non-conformant, 2 usage error, 3 run not completed, 4 incomplete (--certify)."
        ),
    )
    run.add_argument("--base-url", help="the target's base URL, e.g. https://dcs.example.com (env DCS_BASE_URL)")
    run.add_argument("--project-id", help="project ID in the request path (env DCS_PROJECT_ID)")
    run.add_argument("--fixtures", metavar="FILE", help='known tasks: {"restartable": [...], "not_restartable": [...]}')
    run.add_argument("--auth-token", help="IAM token sent as X-Auth-Token (env DCS_AUTH_TOKEN); AK/SK: CLOUD_SDK_AK/SK")
    run.add_argument("--readonly-token", help="a token lacking dcs:migrationTask:modify, to check the 403")
    run.add_argument("--readonly-ak", help="an access key lacking dcs:migrationTask:modify, to check the 403")
    run.add_argument("--readonly-sk", help="the secret key of --readonly-ak")
    run.add_argument("--report-dir", metavar="DIR", help="where reports go (default: reports/<UTC timestamp>/)")
    run.add_argument("--seed", type=int, help="seed that reproduces the generated cases (default: random)")
    run.add_argument(
        "--max-examples", type=int, help="examples per generation mode in the fuzzing phase (default: 100)"
    )
    run.add_argument("--rate-limit", type=float, metavar="N", help="at most N requests per second")
    run.add_argument("--max-requests", type=int, metavar="N", help="send at most N requests in the whole run")
    run.add_argument(
        "--timeout", type=float, metavar="S", help="seconds each response may take, body included (default: 30)"
    )
    run.add_argument(
        "--max-response-bytes",
        type=int,
        metavar="N",
        help="largest response body read, after decompression (default: 8388608, 8 MiB)",
    )
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="requests in flight at once in the property-based phases (default: 4 for --base-url, 1 embedded)",
    )
    run.add_argument(
        "--embedded-restartable",
        type=int,
        metavar="N",
        help="embedded run only: restartable tasks the reference seeds (default: 100)",
    )
    run.add_argument(
        "--embedded-not-restartable",
        type=int,
        metavar="N",
        help="embedded run only: non-restartable tasks the reference seeds (default: 48, 4 of each kind)",
    )
    run.add_argument(
        "--config", metavar="FILE", help="TOML file with the same settings; flags beat env, env beats file"
    )
    run.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="PEM file of the CAs that sign the target's certificate (env DCS_CA_BUNDLE; SSL_CERT_FILE also works)",
    )
    run.add_argument(
        "--insecure", action="store_true", default=None, help="do not verify the target's certificate (never certifies)"
    )
    run.add_argument("--client-cert", metavar="FILE", help="PEM client certificate for mutual TLS")
    run.add_argument("--client-key", metavar="FILE", help="the private key of --client-cert (default: inside it)")
    run.add_argument("--strict", action="store_true", default=None, help="SHOULD violations fail the run")
    run.add_argument("--certify", action="store_true", default=None, help="any MUST left unexercised: incomplete (4)")
    run.add_argument(
        "--fault", action="append", metavar="NAME", help="embedded run only: judge the reference with this fault on"
    )
    run.add_argument(
        "--variant", action="append", metavar="NAME", help="embedded run only: judge the reference with this variant"
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
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.console import Console, Style, shorten_values
    from conformance.engine.runner import execute
    from conformance.settings import SettingsError, resolve

    flags = {key: value for key, value in vars(args).items() if key not in ("handler", "command", "quiet")}
    several = run_targets_if_listed(args, flags)
    if several is not None:
        return several
    console = Console.for_stream(sys.stderr)
    try:
        settings = resolve(flags)
        outcome = execute(
            settings,
            command=reproducer(settings),
            progress=(lambda _: None) if args.quiet else console.say,
            watch=None if args.quiet else console.watch,
        )
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    report = outcome.report
    for message in report.get("diagnosis") or []:
        print(shorten_values(f"diagnosis: {one_line(message)}"))
    if not args.quiet:
        print_summary(report)
    if report.get("error"):
        print(shorten_values(f"dcs-conformance run: {one_line(report['error'])}"), file=sys.stderr)
    elif report.get("verdict_reason"):
        print(shorten_values(f"{report['verdict']}: {one_line(report['verdict_reason'])}"))
    warning = (report.get("transport") or {}).get("warning")
    if warning:
        print(console.style.message(f"WARNING: {warning}"), file=sys.stderr)
    verdict = Style.for_stream(sys.stdout).verdict(report["verdict"], report["verdict"])
    print(f"verdict: {verdict}  (reports: {outcome.report_dir})")
    publish_summary(report, outcome.report_dir, args.summary_md, settings)
    return outcome.exit_code


def run_targets_if_listed(args: argparse.Namespace, flags: dict[str, Any]) -> int | None:
    """``run --config FILE`` whose file lists [[targets]]: judge them all (conformance.targets); None otherwise."""
    from conformance.ci_summary import unwritable
    from conformance.settings import SettingsError
    from conformance.targets import lists_targets, run_from_config

    problem = unwritable(Path(args.summary_md)) if args.summary_md else None
    if problem:
        raise UsageError(f"--summary-md {args.summary_md}: {problem}")
    if not (args.config and lists_targets(Path(args.config))):
        if args.jobs is not None:
            raise UsageError("--jobs judges the [[targets]] of a --config file in parallel; this run has one target")
        return None
    try:
        return run_from_config(Path(args.config), flags, jobs=args.jobs, quiet=args.quiet)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def publish_summary(report: dict[str, Any], report_dir: Path, summary_md: str | None, settings: RunSettings) -> None:
    """The run's markdown summary to --summary-md and $GITHUB_STEP_SUMMARY, annotations in GitHub Actions."""
    from conformance.ci_summary import publish, report_annotations, report_markdown

    try:
        problems = publish(
            report_markdown(report, str(report_dir)),
            report_annotations(report),
            summary_md=Path(summary_md) if summary_md else None,
            secrets=settings.credentials.secrets(),
        )
    except OSError as exc:
        problems = [f"cannot write --summary-md {summary_md}: {exc.strerror or exc}"]
    for problem in problems:
        print(f"dcs-conformance run: warning: {problem}", file=sys.stderr)


def reproducer(settings: RunSettings) -> str:
    """The command that reproduces this run, without any secret."""
    from conformance.engine.client import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_S
    from conformance.settings import DEFAULT_EMBEDDED_RESTARTABLE

    parts = ["dcs-conformance", "run"]
    for flag, value in (
        ("--base-url", settings.base_url),
        ("--project-id", settings.project_id if settings.base_url else None),
        ("--fixtures", settings.fixtures),
        ("--seed", settings.seed),
        ("--max-examples", settings.max_examples),
        ("--rate-limit", settings.rate_limit),
        ("--max-requests", settings.max_requests),
        ("--timeout", settings.timeout if settings.timeout != DEFAULT_TIMEOUT_S else None),
        (
            "--max-response-bytes",
            settings.max_response_bytes if settings.max_response_bytes != DEFAULT_MAX_RESPONSE_BYTES else None,
        ),
        (
            "--embedded-restartable",
            settings.embedded_restartable if settings.embedded_restartable != DEFAULT_EMBEDDED_RESTARTABLE else None,
        ),
        ("--embedded-not-restartable", settings.embedded_not_restartable),
        ("--workers", settings.workers),
        ("--ca-bundle", settings.tls.ca_bundle),
        ("--client-cert", settings.tls.client_cert),
        ("--client-key", settings.tls.client_key),
    ):
        if value is not None:
            parts += [flag, str(value)]
    parts += [
        flag
        for flag, on in (
            ("--strict", settings.strict),
            ("--certify", settings.certify),
            ("--insecure", settings.tls.insecure),
        )
        if on
    ]
    for fault in settings.faults:
        parts += ["--fault", fault]
    for variant in settings.variants:
        parts += ["--variant", variant]
    if settings.credentials.token:
        parts += ["--auth-token", "$DCS_AUTH_TOKEN"]
    return " ".join(parts)


STATUS_MARK = {"passed": "PASS", "failed": "FAIL", "warning": "WARN", "skipped": "SKIP", "error": "ERR "}


def print_summary(report: dict[str, Any]) -> None:
    from conformance.console import Style, shorten_values

    style = Style.for_stream(sys.stdout)
    for item in report["requirements"]:
        line = f"{item['id']} {item['level']:<6} {one_line(item['title'])}"
        if item["status"] != "passed":
            line += f"  -- {one_line(item['reason'])}"
            if item["evidence"]:
                line += f": {one_line(item['evidence'][0].get('explanation', ''))}"
        print(style.status(item["status"], STATUS_MARK[item["status"]]) + " " + shorten_values(line))
    counts = report["counts"]
    stats = report["stats"]
    print()
    print(f"{'requirements':<14}{'passed':>8}{'failed':>8}{'warning':>9}{'skipped':>9}{'error':>7}")
    print(
        f"{counts['total']:<14}{counts['passed']:>8}{counts['failed']:>8}{counts['warning']:>9}"
        f"{counts['skipped']:>9}{counts['error']:>7}"
    )
    unanswered = f", {stats['unanswered']} without a complete answer" if stats.get("unanswered") else ""
    throttled = f", {stats['throttled']} throttled" if stats.get("throttled") else ""
    print(
        f"{stats['requests']} requests{unanswered}{throttled}, {stats['generated_cases']} generated cases, "
        f"{report['duration_s']:.1f} s, seed {report['seed']}"
    )


def add_report_parsers(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="re-render index.html from a report directory",
        description="Render DIR/index.html again from DIR/report.json alone (nothing is re-run).",
    )
    report.add_argument("directory", type=Path, metavar="DIR")
    report.set_defaults(handler=cmd_report)
    verify = commands.add_parser(
        "verify",
        help="check a certification bundle",
        description=(
            "Check a bundle written by 'run --certify': the SHA256SUMS match, the report was judged against this "
            "suite version's spec, and the verdict is conformant. Exit 0 valid, 1 invalid, 2 not a report directory."
        ),
    )
    verify.add_argument("directory", type=Path, metavar="DIR")
    verify.set_defaults(handler=cmd_verify)


def _load_report(directory: Path) -> dict[str, Any]:
    """The directory's report.json, checked to be a dcs-conformance report; a usage error otherwise."""
    from conformance.report_dir import load_report

    try:
        return load_report(directory)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    from conformance.certify import SUMS_FILE
    from conformance.reporters import html

    directory = args.directory
    report = _load_report(directory)
    try:
        path = html.write(report, directory)
    except OSError as exc:
        raise UsageError(f"cannot write {directory / html.FILENAME}: {exc.strerror or exc}") from None
    print(f"wrote {path}")
    if (directory / SUMS_FILE).is_file():
        print(f"note: {SUMS_FILE} was written by the certified run; verify will flag a re-rendered index.html")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from conformance.certify import verify

    _load_report(args.directory)
    problems = verify(args.directory)
    if problems:
        for problem in problems:
            print(f"INVALID: {problem}")
        return 1
    print(f"valid: {args.directory} is a conformant, untampered certificate for dcs-conformance {__version__}")
    return 0


def add_compare_parser(commands: argparse._SubParsersAction) -> None:
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
        choices=["requirements", "observations", "any"],
        help="exit 1 when requirement statuses, observations, or anything (exchanges included) differ",
    )
    compare.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from conformance.compare import CompareInputError, compare, load_report, should_fail
    from conformance.reporters import compare_html, compare_json, compare_text

    try:
        (base, base_file), (candidate, candidate_file) = load_report(args.base), load_report(args.candidate)
    except CompareInputError as exc:
        raise UsageError(str(exc)) from None
    try:
        comparison = compare(base, candidate, base_name=str(base_file), candidate_name=str(candidate_file))
    except (KeyError, TypeError, AttributeError) as exc:  # a hand-edited report that passed the shape check
        problem = f"{type(exc).__name__}: {exc}"
        raise UsageError(f"{base_file} or {candidate_file} is not a well-formed report ({problem})") from None
    try:
        written = [compare_json.write(comparison, args.out), compare_html.write(comparison, args.out)]
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    print(compare_text.render(comparison))
    print(f"wrote {written[0]} and {written[1]}")
    return 1 if should_fail(comparison, args.fail_on) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="dcs-conformance",
        description="Conformance suite for Huawei Cloud DCS API V2 POST " + ENDPOINT,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_run_parser(commands)
    add_serve_parser(commands)
    add_report_parsers(commands)
    add_compare_parser(commands)
    add_summarize_parser(commands)
    return parser


EXIT_INTERNAL = 3


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command with the terminal guarded: nothing printed carries a secret, and only a bug (never a user
    mistake) ends in a traceback, with exit 3 since 1 means non-conformant."""
    from conformance.settings import secret_values

    with guarded(secret_values({})) as terminal:
        parser = build_parser()
        args = parser.parse_args(argv)
        terminal.learn(secret_values(vars(args)))
        try:
            return args.handler(args)
        except UsageError as exc:
            print(f"dcs-conformance {args.command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            # Only before or after a run's sending: a run interrupted while sending writes its reports, exits 130.
            print(f"dcs-conformance {args.command}: interrupted", file=sys.stderr)
            return 130
        except Exception:
            traceback.print_exc()
            print(
                f"dcs-conformance {args.command}: internal error: a bug in the suite, please report it", file=sys.stderr
            )
            return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
