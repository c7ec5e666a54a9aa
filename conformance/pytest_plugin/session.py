"""The pytest plugin once it is on: one run of the suite per session, one item per catalogue requirement.

Imported by :mod:`conformance.pytest_plugin` only when a ``--dcs-*`` option is given. The session owns the target
(the embedded reference stays up for the whole session) and the run's one guarded client, which it hands to the
user's own tests after the suite has run; it reads every outcome from the finished report dictionary, as any
reporter does, and writes the report directory and the CI summaries as the ``run`` command does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from conformance.app.run import RunOutcome, execute
from conformance.app.target import open_target
from conformance.config.credentials import Credentials
from conformance.config.settings import RunSettings, SettingsError, resolve
from conformance.contract import Requirement, load_catalogue
from conformance.engine.client import TargetClient
from conformance.engine.runner import open_run
from conformance.pytest_plugin.options import DcsShouldViolation, plugin_names
from conformance.reference.embedded import check_deviations
from conformance.reporters.ci_summary import publish, report_annotations, report_markdown
from conformance.reporters.text import finding
from conformance.support.caches import keep_hypothesis_out_of_the_working_directory
from conformance.support.errors import DcsFinding as DcsFinding
from conformance.support.errors import DcsUsageError as DcsUsageError
from conformance.support.redaction import MASK
from conformance.support.terminal import inert_in_ci, one_line

log = logging.getLogger("dcs_conformance")

SUITE = "dcs-conformance"
COMPLETENESS = "completeness"
#: Exit codes of a run stopped by SIGINT or SIGTERM: the pytest session stops as on Ctrl-C.
INTERRUPTED = (130, 143)


def _log_progress(message: str) -> None:
    """The run's progress, to the log pytest shows with a failing item: on one line, and in GitHub Actions inert."""
    log.info("%s", inert_in_ci(one_line(message)))


class DcsSuite(pytest.Collector):
    """The parent of the requirement items (node ID ``dcs-conformance``)."""

    def __init__(self, *, dcs: DcsSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dcs = dcs

    def collect(self) -> list[pytest.Item]:
        items: list[pytest.Item] = [
            RequirementItem.from_parent(self, name=req.id, requirement=req, dcs=self.dcs)
            for req in load_catalogue().requirements
        ]
        items.append(CompletenessItem.from_parent(self, name=COMPLETENESS, dcs=self.dcs))
        return items


class DcsItem(pytest.Item):
    def __init__(self, *, dcs: DcsSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dcs = dcs

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, DcsFinding):
            return inert_in_ci(str(excinfo.value))  # pytest prints it unguarded: in GitHub Actions, no command
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.config.rootpath / SUITE, None, self.name


class RequirementItem(DcsItem):
    """One catalogue requirement: passed, failed (the finding and its evidence), skipped (the reason); a violated
    SHOULD passes with a DcsShouldViolation warning unless --dcs-strict made it a failure."""

    def __init__(self, *, requirement: Requirement, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requirement = requirement
        self.extra_keyword_matches.add(requirement.level)

    def runtest(self) -> None:
        outcome = self.dcs.outcome()
        item = next((req for req in outcome.report["requirements"] if req["id"] == self.name), None)
        if item is None:
            pytest.fail(f"{self.name} is not in the report", pytrace=False)
        status = item["status"]
        if status == "passed":
            return
        if status == "skipped":
            needs = f" (needs: {', '.join(item['needs'])})" if item.get("needs") else ""
            pytest.skip(inert_in_ci(f"{item['reason']}{needs}"))
        text = finding(item, str(outcome.report_dir))
        if status == "warning":
            warnings.warn(DcsShouldViolation(inert_in_ci(text)), stacklevel=1)
            return
        raise DcsFinding(text)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        req = self.requirement
        return self.config.rootpath / SUITE, None, f"{req.id} ({req.level}) {req.title}"


class CompletenessItem(DcsItem):
    """The run as a whole: fails when its verdict is incomplete or error, which no requirement item can show (a
    target that rejects the credentials leaves the requirements skipped, and a green session would mislead)."""

    def runtest(self) -> None:
        report = self.dcs.outcome().report
        if report["verdict"] in ("incomplete", "error"):
            why = report.get("verdict_reason") or report.get("error") or ""
            lines = [one_line(f"verdict: {report['verdict']}: {why}")]
            lines += [one_line(f"diagnosis: {message}") for message in report.get("diagnosis") or []]
            raise DcsFinding("\n".join(lines))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.config.rootpath / SUITE, None, "the run judged every MUST requirement it should"


class DcsSession:
    """The plugin's state for one pytest session: settings, the open target and client, the finished run."""

    def __init__(self, settings: RunSettings, summary_md: Path | None) -> None:
        self.settings = settings
        self.summary_md = summary_md
        self._stack = contextlib.ExitStack()
        self._opened: Any = None
        self._outcome: RunOutcome | None = None
        self._failure: str | None = None

    @classmethod
    def from_options(cls, given: dict[str, Any], config: pytest.Config) -> DcsSession:
        """Resolve the options exactly as the ``run`` command resolves its flags (same environment variables, same
        config file), and insist on a target: a CI job whose base-URL secret came out empty must not quietly
        judge the embedded reference instead."""
        keep_hypothesis_out_of_the_working_directory()  # before the phases first draw (the plugin writes no cache here)
        flags = {dest[len("dcs_") :]: value for dest, value in given.items()}
        embedded = bool(flags.pop("embedded", False))
        summary_md = flags.pop("summary_md", None)
        if embedded and flags.get("base_url"):
            raise DcsUsageError("--dcs-embedded judges the reference server; drop --dcs-base-url")
        try:
            settings = resolve(flags, {} if embedded else os.environ, check_deviations=check_deviations)
        except SettingsError as exc:
            raise DcsUsageError(plugin_names(str(exc))) from None
        if embedded and not settings.embedded:
            raise DcsUsageError("--dcs-embedded judges the reference server, but the config file names a base_url")
        if not embedded and settings.embedded:
            raise DcsUsageError(
                "no target: give --dcs-base-url URL (or DCS_BASE_URL) with --dcs-project-id ID, "
                "or --dcs-embedded to judge the reference server"
            )
        return cls(settings, Path(summary_md) if summary_md else None)

    def public_settings(self) -> RunSettings:
        """The settings with each credential replaced by the mask (None stays None, so what is configured shows)."""
        masked = {
            name: MASK if value else value for name, value in dataclasses.asdict(self.settings.credentials).items()
        }
        return dataclasses.replace(self.settings, credentials=Credentials(**masked))

    def collect(self, session: pytest.Session) -> list[pytest.Item]:
        """The suite's items, collected through pytest's own machinery so that counts and reports include them."""
        return list(session.genitems(DcsSuite.from_parent(session, name=SUITE, nodeid=SUITE, dcs=self)))

    def outcome(self) -> RunOutcome:
        """The finished run; the first call runs the suite (its reports are written as the CLI writes them)."""
        if self._outcome is None and self._failure is None:
            self._run()
        if self._failure is not None:
            pytest.fail(f"dcs-conformance could not run: {self._failure}", pytrace=False)
        assert self._outcome is not None
        if self._outcome.exit_code in INTERRUPTED:
            raise KeyboardInterrupt
        return self._outcome

    def _run(self) -> None:
        from conformance.config.reproducer import reproducer

        try:
            self._opened = self._stack.enter_context(open_run(self.settings, open_target))
            self._outcome = execute(
                self.settings, command=reproducer(self.settings), progress=_log_progress, opened=self._opened
            )
        except SettingsError as exc:
            self._failure = plugin_names(str(exc))
        except (OSError, RuntimeError) as exc:
            self._failure = f"the target could not be opened: {exc}"

    def client(self) -> TargetClient:
        self.outcome()
        client: TargetClient = self._opened.client
        return client

    def terminal_summary(self, reporter: Any) -> None:
        """The verdict and where the reports are, after pytest's own summary; then the CI summaries."""
        if self._outcome is None:
            return
        report, report_dir = self._outcome.report, str(self._outcome.report_dir)
        reporter.section(SUITE)
        lines = [f"diagnosis: {message}" for message in report.get("diagnosis") or []]
        if report.get("verdict_reason"):
            lines.append(f"{report['verdict']}: {report['verdict_reason']}")
        lines.append(f"verdict: {report['verdict']}  (reports: {report_dir})")
        for line in lines:  # pytest's terminal is not guarded: escaped here, and in GitHub Actions inert
            reporter.write_line(inert_in_ci(one_line(line)))
        try:
            problems = publish(
                report_markdown(report, report_dir),
                report_annotations(report),
                summary_md=self.summary_md,
                secrets=self.settings.credentials.secrets(),
                out=reporter,
            )
        except OSError as exc:
            problems = [f"cannot write --dcs-summary-md {self.summary_md}: {exc.strerror or exc}"]
        for problem in problems:
            reporter.write_line(inert_in_ci(one_line(f"dcs-conformance: warning: {problem}")))

    def close(self) -> None:
        self._stack.close()
