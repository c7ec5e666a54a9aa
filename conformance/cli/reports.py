"""``dcs-conformance report``, ``verify`` and ``compare``: commands that read report directories a run wrote and
never send a request."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import __version__
from conformance.cli.args import UsageError
from conformance.support.files import refuse_links
from conformance.support.terminal import one_line

if TYPE_CHECKING:
    from conformance.config.settings import RunSettings
    from conformance.report.model import Report


def _load_report(path: Path, *, or_file: bool = False, loosely: bool = False) -> Report:
    """The report in ``path`` as report.store.load_report reads it; a usage error otherwise."""
    from conformance.report.store import ReportError, load_report

    try:
        return load_report(path, or_file=or_file, loosely=loosely)
    except ReportError as exc:
        raise UsageError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    from conformance.report.certify import SUMS_FILE
    from conformance.reporters import html

    directory = args.directory
    report = _load_report(directory)
    try:
        refuse_links(directory, [html.FILENAME])
        path = html.write(report, directory)
    except OSError as exc:
        raise UsageError(f"cannot write {directory / html.FILENAME}: {exc.strerror or exc}") from None
    print(f"wrote {path}")
    if (directory / SUMS_FILE).is_file():
        print(f"note: {SUMS_FILE} was written by the certified run; verify will flag a re-rendered index.html")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Check the bundle; print one line per reason it is refused (exit 1), or what it proves; then --rerun."""
    from conformance.report.certify import NotABundle, inspect, load_allowed_signers
    from conformance.reporters import html, junit

    if args.identity is not None and args.allowed_signers is None:
        raise UsageError("--identity names the signer to find in --allowed-signers: give that file too")
    target_flags = _rerun_target_flags(args)
    allowed = None
    if args.allowed_signers is not None:
        try:
            allowed = load_allowed_signers(args.allowed_signers)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    try:
        renderers: dict[str, Callable[[Report], str | bytes]] = {
            html.FILENAME: html.render,
            junit.FILENAME: junit.render,
        }
        found = inspect(args.directory, allowed=allowed, identity=args.identity, renderers=renderers)
    except NotABundle as exc:
        raise UsageError(str(exc)) from None
    if found.problems:
        for problem in found.problems:
            print(f"INVALID: {one_line(problem)}")
        return 1
    assert found.report is not None
    settings = _rerun_settings(args, found.report, target_flags) if args.rerun else None
    consistent = "its statuses, verdict, badge, page and junit.xml follow from report.json"
    name = f"{args.directory} is a {one_line(found.report['verdict'])} certificate for dcs-conformance {__version__}"
    if found.signer is not None:
        signer = found.signer
        print(
            f"valid: {name}, signed by {', '.join(signer.principals) or 'an allowed key'} "
            f"({signer.key_type} {signer.fingerprint}) and untampered since; {consistent}"
        )
    else:
        print(f"valid: {name} as far as integrity goes; {consistent}")
        if found.unvouched_key is not None:
            print(
                f"integrity only: signed by {found.unvouched_key}, but no --allowed-signers says whose key that is: "
                "anyone holding the bundle could have re-signed it"
            )
        else:
            print("integrity only: unsigned, anyone holding the bundle could have produced it")
    if settings is None:
        return 0
    return _rerun(args, found.report, settings)


def _rerun_target_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The target flags given for --rerun (a usage error without --rerun)."""
    from conformance.config import table  # app.rerun's TARGET_FLAGS, without loading what a rerun runs with

    flags = [setting.name for setting in table.rerun_targets()]
    given = {key: getattr(args, key) for key in flags if getattr(args, key) is not None}
    if not args.rerun:
        named = [f"--{key.replace('_', '-')}" for key in given] + (["--rerun-dir"] if args.rerun_dir else [])
        if named:
            raise UsageError(f"{', '.join(named)} name(s) the target of a rerun: give --rerun too")
    return given


def _rerun_settings(args: argparse.Namespace, report: Report, flags: dict[str, Any]) -> RunSettings:
    """The rerun's settings, checked before anything is sent; its reports never go into the bundle."""
    import tempfile

    from conformance.app.rerun import rerun_settings
    from conformance.config.settings import SettingsError

    bundle = args.directory.resolve()
    if args.rerun_dir is not None:
        where = args.rerun_dir.resolve()
        if where == bundle or bundle in where.parents:
            raise UsageError(f"--rerun-dir {args.rerun_dir} is inside the bundle: the rerun's reports go elsewhere")
        report_dir = args.rerun_dir
    else:
        report_dir = Path(tempfile.mkdtemp(prefix="dcs-conformance-rerun-"))
    try:
        return rerun_settings(report, flags, report_dir)
    except SettingsError as exc:
        if args.rerun_dir is None:
            report_dir.rmdir()
        raise UsageError(str(exc)) from None


def _rerun(args: argparse.Namespace, certified: Report, settings: RunSettings) -> int:
    """Judge the target again and compare requirement by requirement: 1 when a status differs, 3 when the rerun
    could not be completed."""
    import shutil

    from conformance.app.console import Console
    from conformance.app.rerun import rerun
    from conformance.config.settings import SettingsError

    console = Console.for_stream(sys.stderr)
    keep = args.rerun_dir is not None
    assert settings.report_dir is not None
    try:
        done = rerun(certified, settings, bundle_name=str(args.directory), progress=console.say)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if not keep:
            shutil.rmtree(settings.report_dir, ignore_errors=True)
    target = done.report["target"]["base_url"]
    kept = f" (its reports: {done.report_dir})" if keep else ""
    verdict = one_line(done.report["verdict"])
    print(f"rerun: {one_line(target)} judged again with seed {settings.seed}: verdict {verdict}{kept}")
    if done.report.get("error"):
        print(f"RERUN INCOMPLETE: {one_line(done.report['error'])}")
        return 3
    if done.differences:
        for diff in done.differences:
            print(
                f"DIFFERS: {diff.requirement} ({diff.level}) was {diff.certified} in the certificate, "
                f"is {diff.now} now: {one_line(diff.reason)}"
            )
        return 1
    print(f"rerun agrees: every requirement has the status the certificate gives it ({len(certified['requirements'])})")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from conformance.report.compare import compare, should_fail
    from conformance.report.store import report_file
    from conformance.reporters import compare_html, compare_json, compare_text

    # Reports of other runs, perhaps of another suite version: read by their keys.
    base = _load_report(args.base, or_file=True, loosely=True)
    candidate = _load_report(args.candidate, or_file=True, loosely=True)
    base_file, candidate_file = report_file(args.base), report_file(args.candidate)
    try:
        comparison = compare(base, candidate, base_name=str(base_file), candidate_name=str(candidate_file))
    except (KeyError, TypeError, AttributeError) as exc:  # a hand-edited report that passed the shape check
        problem = f"{type(exc).__name__}: {exc}"
        raise UsageError(f"{base_file} or {candidate_file} is not a well-formed report ({problem})") from None
    try:
        refuse_links(args.out, [compare_json.FILENAME, compare_html.FILENAME])
        written = [compare_json.write(comparison, args.out), compare_html.write(comparison, args.out)]
    except OSError as exc:
        raise UsageError(f"cannot write to {exc.filename or args.out}: {exc.strerror or exc}") from None
    print(compare_text.render(comparison))
    print(f"wrote {written[0]} and {written[1]}")
    return 1 if should_fail(comparison, args.fail_on) else 0
