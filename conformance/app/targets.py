"""Many targets in one run: a config file lists them, each is judged in its own process, one overview for all.

    [dcs-conformance]                       # optional: settings every target shares (any run setting)
    max_examples = 50

    [[targets]]
    name = "cn-north-4"
    base_url = "https://dcs.cn-north-4.myhuaweicloud.com"
    project_id = "0605767a3300d5762fb7c0186d8c1f5b"
    fixtures = "ci/fixtures-cn-north-4.json"
    auth_token_env = "DCS_TOKEN_CN4"        # credentials by the name of an environment variable, never inline

    [[targets]]
    name = "reference-with-fault"           # no base_url: the embedded reference server
    fault = ["drop-last-item"]

Every target's settings go through ``settings.resolve`` exactly as a single run's do, and every mistake (a setting,
a missing credential variable, an unreadable fixtures file) ends the command with exit 2 before any target runs.
The targets are then judged by ``app.run.execute`` in at most ``--jobs`` worker processes, each writing its usual
report directory under the run's directory; the overview (``overview.py``) is built from those reports alone.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from conformance.config import table
from conformance.config.settings import TYPE_NAMES, RunSettings, SettingsError, load_toml, resolve
from conformance.reporters import overview
from conformance.support.files import LinkRefused, refuse_links
from conformance.support.terminal import one_line

#: The shared section's and the targets' own keys that are not settings: a credential by the name of the
#: environment variable that holds it (``auth_token_env``: the setting ``auth_token``), never inline.
CREDENTIAL_SUFFIX = "_env"
#: The certificate store a single run trusts beside DCS_CA_BUNDLE (trust_env).
TRUST = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def credential_env_keys() -> dict[str, str]:
    """Credentials are named by an environment variable, never written in the file: key -> the setting it fills."""
    return {setting.name + CREDENTIAL_SUFFIX: setting.name for setting in table.secrets()}


def shared_keys() -> dict[str, type]:
    """What the shared section may hold: any run setting but inline credentials, and credential variable names."""
    return {
        **{setting.name: setting.kind for setting in table.SETTINGS if setting.toml and not setting.secret},
        **dict.fromkeys(credential_env_keys(), str),
    }


def target_keys() -> dict[str, type]:
    """What a target may hold: the same (but the run's report directory), its name, and the repeatable settings
    (faults and variants) as lists of names."""
    return {
        **{key: kind for key, kind in shared_keys().items() if key != "report_dir"},
        "name": str,
        **{setting.name: list for setting in table.SETTINGS if setting.kind is list},
    }


def target_flags() -> tuple[str, ...]:
    """Command-line flags that name one target: a targets file names its own."""
    return tuple(setting.name for setting in table.flagged() if setting.per_target)


def run_wide_flags() -> tuple[str, ...]:
    """Command-line flags that apply to every target (and beat the file); the report directory is the run's."""
    return tuple(setting.name for setting in table.flagged() if not setting.per_target and setting.name != "report_dir")


def trust_env() -> tuple[str, ...]:
    """The environment a single run trusts (a CA bundle, the system's certificate store): every target trusts it too."""
    return (table.environment()["ca_bundle"], *TRUST)


DEFAULT_MAX_JOBS = 4


@dataclass(frozen=True)
class PlannedTarget:
    name: str
    settings: RunSettings
    command: str


def lists_targets(path: Path) -> bool:
    """Whether a config file lists targets; a file that cannot be read is left to the single-run path to report."""
    try:
        raw = load_toml(path)
    except SettingsError:
        return False
    section = raw.get("dcs-conformance")
    return "targets" in raw or (isinstance(section, dict) and "targets" in section)


def _check_types(where: str, values: Mapping[str, Any], allowed: Mapping[str, type]) -> dict[str, Any]:
    checked = {}
    inline = {setting.name for setting in table.secrets()}
    for key, value in values.items():
        if key in inline:
            raise SettingsError(
                f"{where}: credentials are never written in the file: name the environment variable that holds "
                f'{key!r} instead, e.g. {key}_env = "DCS_{key.upper()}_STAGING"'
            )
        expected = allowed.get(key)
        if expected is None:
            raise SettingsError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(allowed))})")
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is list:
            if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
                raise SettingsError(f'{where}: {key!r} must be a list of names, e.g. {key} = ["name"], got {value!r}')
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise SettingsError(f"{where}: {key!r} must be {TYPE_NAMES[expected]}, got {value!r}")
        checked[key] = value
    return checked


def read_targets_file(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The shared settings and the target tables of a targets file, their keys and types checked."""
    raw = load_toml(path)
    section = raw.get("dcs-conformance", raw)
    if not isinstance(section, dict):
        raise SettingsError(f"config file {path}: [dcs-conformance] must be a table")
    tables = raw.get("targets", section.get("targets"))
    if not isinstance(tables, list) or not tables or not all(isinstance(entry, dict) for entry in tables):
        raise SettingsError(f"config file {path}: [[targets]] must list at least one target table")
    shared = {key: value for key, value in section.items() if key not in ("targets", "dcs-conformance")}
    shared = _check_types(f"config file {path}", shared, shared_keys())
    targets = []
    names: set[str] = set()
    for number, entry in enumerate(tables, start=1):
        name = entry.get("name")
        where = (
            f"config file {path}: target {name!r}" if isinstance(name, str) else f"config file {path}: target #{number}"
        )
        checked = _check_types(where, entry, target_keys())
        reserved = (overview.SUMMARY_FILE, overview.INDEX_FILE)
        if not isinstance(name, str) or not overview.NAME.fullmatch(name) or name in reserved:
            raise SettingsError(
                f"{where}: every target needs a name of letters, digits, '.', '_' and '-' (it names its report "
                f'directory), e.g. name = "cn-north-4"'
            )
        if name in names:
            raise SettingsError(f"{where}: two targets are named {name!r}")
        names.add(name)
        targets.append(checked)
    return shared, targets


def plan(path: Path, flags: Mapping[str, Any], env: Mapping[str, str], run_dir: Path) -> list[PlannedTarget]:
    """Resolve every target's settings (the file's shared section, then the target's table, then the run-wide
    flags), its credentials from the variables it names, its report directory under ``run_dir``; load its
    fixtures file. Raises SettingsError, naming the target, on the first mistake."""
    from conformance.config.reproducer import reproducer
    from conformance.reference.embedded import check_deviations

    given = [f"--{key.replace('_', '-')}" for key in target_flags() if flags.get(key)]
    if given:
        verb = "names" if len(given) == 1 else "name"
        raise SettingsError(f"{', '.join(given)} {verb} one target; {path} lists its targets: set them there")
    shared, tables = read_targets_file(path)
    planned = []
    keys, variables = table.file_keys(), table.environment()
    for entry in tables:
        merged = {**{key: value for key, value in shared.items() if key != "report_dir"}, **entry}
        name = merged.pop("name")
        where = f"config file {path}: target {name!r}"
        resolved_flags: dict[str, Any] = {key: value for key, value in merged.items() if key in keys}
        resolved_env: dict[str, str] = {variable: env[variable] for variable in trust_env() if env.get(variable)}
        for key, setting in credential_env_keys().items():
            variable = merged.get(key)
            if variable is None:
                continue
            value = env.get(variable)
            if not value:
                raise SettingsError(f"{where}: {key} names the environment variable {variable}, which is not set")
            if setting in variables:
                resolved_env[variables[setting]] = value
            else:
                resolved_flags[setting] = value
        resolved_flags.update({key: flags[key] for key in run_wide_flags() if flags.get(key) is not None})
        resolved_flags.update(
            {setting.name: merged.get(setting.name) for setting in table.SETTINGS if setting.kind is list}
        )
        resolved_flags.update(report_dir=str(run_dir / name), config=None)
        try:
            settings = resolve(resolved_flags, resolved_env, check_deviations=check_deviations)
        except SettingsError as exc:
            raise SettingsError(f"{where}: {exc}") from None
        planned.append(PlannedTarget(name, settings, reproducer(settings)))
    return planned


# ---------------------------------------------------------------------------------------------------------------
# Judging the targets in worker processes.


#: In every worker: the signal that interrupted the run (0: none), so that a target the pool had already queued
#: does not start.
_stop: Any = None


def _worker_init(pids: Any, stop: Any) -> None:
    """Ctrl-C reaches every process of the terminal's group: a worker between runs ignores it (the run in progress
    handles it and writes its reports), so the pool never breaks half-way."""
    global _stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop = stop
    pids.put(os.getpid())


def judge(name: str, settings: RunSettings, command: str, quiet: bool) -> tuple[int, str | None]:
    """One target's run, in a worker process: its exit code, and why it wrote no report if it could not. The
    worker's stdout and stderr are guarded as the command's are (redacted, target text escaped, in GitHub Actions
    no workflow command), and so is the reason it returns."""
    from conformance.support.redaction import Redactor, proxy_secrets
    from conformance.support.terminal import guarded

    if _stop is not None and _stop.value:
        return 128 + _stop.value, "interrupted before this target started"
    secrets = [secret for secret in (*settings.credentials.secrets(), *proxy_secrets(os.environ)) if secret]
    with guarded(secrets):
        code, problem = _judge(name, settings, command, quiet)
    return code, Redactor(secrets).text(problem) if problem else problem


def _judge(name: str, settings: RunSettings, command: str, quiet: bool) -> tuple[int, str | None]:
    from conformance.app.run import execute
    from conformance.engine.runner import SIGNAL_EXIT_CODES, Interrupted

    def say(message: str) -> None:
        if not quiet:
            sys.stderr.write(f"[{name}] {one_line(message)}\n")
            sys.stderr.flush()

    try:
        outcome = execute(settings, command=command, progress=say)
    except SettingsError as exc:
        return 2, str(exc)
    except Interrupted as exc:  # the signal came while the target was being opened, before any report
        return SIGNAL_EXIT_CODES.get(signal.Signals(exc.signum), 130), f"interrupted ({exc}) before its run began"
    except Exception as exc:  # a bug of ours: that target's outcome is an error, the others stand
        return 3, f"harness fault: {type(exc).__name__}: {exc}"
    return outcome.exit_code, None


class _Stop(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def judge_all(
    planned: list[PlannedTarget], jobs: int, *, quiet: bool = False
) -> tuple[list[overview.TargetReport], int]:
    """Judge every target, at most ``jobs`` at a time; each target's report (or why it has none), in the file's
    order, and the signal's exit code if the run was interrupted (0 otherwise).

    Workers are spawned, not forked: the parent may hold threads (an embedded server in a test, a pytest session),
    and a forked copy of a thread-holding process can deadlock."""
    context = multiprocessing.get_context("spawn")
    pids, stop = context.SimpleQueue(), context.Value("i", 0)
    results: dict[str, tuple[int, str | None]] = {}
    interrupted = 0
    previous = signal.signal(signal.SIGTERM, _raise_stop) if _main_thread() else None
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_worker_init, initargs=(pids, stop)
    )
    futures = {pool.submit(judge, t.name, t.settings, t.command, quiet): t.name for t in planned}
    try:
        try:
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = _result(future)
                if not quiet or results[futures[future]][1]:  # quiet: only a target that has no report is news
                    _announce(futures[future], results[futures[future]], planned)
        except (KeyboardInterrupt, _Stop) as exc:
            interrupted = exc.signum if isinstance(exc, _Stop) else signal.SIGINT
            stop.value = interrupted
            for future in futures:
                future.cancel()
            _forward(interrupted, pids)
            concurrent.futures.wait(futures)
            for future, name in futures.items():
                if name not in results:
                    results[name] = (
                        (128 + interrupted, "interrupted before this target started")
                        if future.cancelled()
                        else _result(future)
                    )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    reports = []
    for target in planned:
        code, problem = results[target.name]
        directory = target.settings.report_dir or Path(target.name)
        try:
            reports.append(replace(overview.read_report_dir(directory, target.name), exit_code=code))
        except overview.OverviewError as exc:
            reports.append(overview.TargetReport(target.name, directory, None, code, problem or str(exc)))
    return reports, (128 + interrupted if interrupted else 0)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def _forward(signum: int, pids: Any) -> None:
    """Pass the signal on to the workers (a SIGTERM sent to this process alone would not reach them)."""
    while not pids.empty():
        pid = pids.get()
        with contextlib.suppress(OSError):  # it has ended already
            os.kill(pid, signum)


def _result(future: concurrent.futures.Future[tuple[int, str | None]]) -> tuple[int, str | None]:
    try:
        return future.result()
    except (KeyboardInterrupt, _Stop):
        raise
    except BaseException as exc:  # the worker process died (killed, out of memory), or let something through
        return 3, f"the worker process judging this target failed: {type(exc).__name__}: {exc}"


def _announce(name: str, result: tuple[int, str | None], planned: list[PlannedTarget]) -> None:
    code, problem = result
    directory = next(t.settings.report_dir for t in planned if t.name == name)
    why = f" ({one_line(problem)})" if problem else ""
    print(f"{name}: exit {code}{why}; reports: {directory}", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# The command: run --config FILE with [[targets]].


def run_from_config(path: Path, flags: Mapping[str, Any], *, jobs: int | None, quiet: bool) -> int:
    """Plan every target (exit 2 on any mistake, before anything runs), judge them in parallel, write the
    overview beside their report directories, publish the CI summaries, and return the worst exit code."""
    from conformance.report.store import default_report_dir, point_latest
    from conformance.reporters.ci_summary import annotation, overview_markdown, publish, report_annotations

    if jobs is not None and jobs < 1:
        raise SettingsError(f"--jobs must be at least 1, got {jobs}")
    shared, _ = read_targets_file(path)
    chosen = flags.get("report_dir") or shared.get("report_dir")
    run_dir = Path(chosen) if chosen else default_report_dir()
    planned = plan(path, flags, os.environ, run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        refuse_links(run_dir, [overview.SUMMARY_FILE, overview.INDEX_FILE, *(target.name for target in planned)])
    except LinkRefused as exc:
        raise SettingsError(
            f"the report directory {run_dir} holds a link the run would write through: {exc.filename}"
        ) from None
    except OSError as exc:
        raise SettingsError(f"cannot create the report directory {run_dir}: {exc.strerror}") from None
    workers = jobs or min(DEFAULT_MAX_JOBS, len(planned))
    if not quiet:
        print(f"judging {len(planned)} targets, {workers} at a time; reports: {run_dir}", flush=True)
    reports, interrupted = judge_all(planned, workers, quiet=quiet)
    summary = overview.build(reports, run_dir)
    overview.write(summary, run_dir)
    if not chosen:
        warning = point_latest(run_dir)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    print()
    for line in overview.text_lines(summary):
        print(line)
    annotations = [
        line for target in reports if target.report for line in report_annotations(target.report, target.name)
    ]
    annotations += [
        annotation("error", f"{target.name}: not run", target.problem or "no report")
        for target in reports
        if target.report is None
    ]
    secrets = [secret for target in planned for secret in target.settings.credentials.secrets()]
    for problem in publish(
        overview_markdown(summary, str(run_dir)),
        annotations,
        summary_md=Path(flags["summary_md"]) if flags.get("summary_md") else None,
        secrets=secrets,
    ):
        print(f"warning: {problem}", file=sys.stderr)
    code = interrupted or summary["exit_code"]
    where = run_dir / overview.INDEX_FILE
    print(f"verdict: {one_line(summary['verdict'])}  ({len(reports)} targets, exit {code}; overview: {where})")
    return code
