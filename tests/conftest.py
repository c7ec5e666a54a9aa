"""What many test modules share: exchanges built without HTTP for the checks and the ledger, the helpers that read
their findings, a server-side recorder of the request bodies a run sent, and the distribution as users install it
(the sdist and wheel ``make dist`` builds, and a fresh venv with the wheel installed), built once per session; and
what keeps the suite safe to run on several cores (pytest-xdist, ``make test``): which tests share a worker, where
hypothesis keeps its files, how a worker's summary lines reach the terminal.

Checks read only what the client recorded (status, headers, body, failure), so an ``Exchange`` built here is what
a round trip through ``TargetClient`` would have given them; the client's own recording is tested in test_client.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.configuration
import pytest

from conformance.config import table
from conformance.contract import load_catalogue
from conformance.engine.phases import drawing_cache
from conformance.judging.results import Exchange, Finding, Ledger, Seen
from conformance.reference import restart_ledger
from tests import summary
from tests.restart_counts import LedgerWatch

URL = "http://target.test/v2/proj/migration-tasks/batch-restart"
JSON = "application/json"
GOOD_BATCH = {"migration_tasks": [{"task_id": "task-a", "result": "success"}]}
GOOD_ERROR = {"error_code": "DCS.4000", "error_msg": "Invalid request.", "error_ext_msg": None}
_DEFAULT: Any = object()


def exchange(
    status: int = 200,
    body: Any = _DEFAULT,
    *,
    content: bytes | None = None,
    content_type: str | None = JSON,
    request_id: str | None = "req-0001",
    request: Any = None,
    **fields: Any,
) -> Exchange:
    """An answer as the client records it: ``body`` as JSON (by default a conforming batch answer below 400, the
    documented error body from 400 on), or ``content`` as the raw bytes; ``request`` is the JSON (or the raw bytes)
    that was sent. ``fields`` set the rest of the exchange (``failure``, ``throttled``, ``label``, ``seq``...)."""
    if content is None:
        if body is _DEFAULT:
            body = GOOD_BATCH if status < 400 else GOOD_ERROR
        content = json.dumps(body).encode()
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    sent = request if isinstance(request, bytes) else json.dumps(request or {"migration_tasks": ["task-a"]}).encode()
    return Exchange("POST", URL, {}, sent, status, headers, content, **fields)


def failures(results: Sequence[Finding | Seen], requirement: str | None = None) -> list[Finding]:
    """The violations among ``results``, of one requirement or of any."""
    return [
        item
        for item in results
        if isinstance(item, Finding) and not item.ok and (requirement is None or item.requirement == requirement)
    ]


def findings_for(results: Sequence[Finding | Seen], requirement: str) -> list[Finding]:
    return [item for item in results if isinstance(item, Finding) and item.requirement == requirement]


def judged(results: Sequence[Finding | Seen]) -> set[str]:
    """The requirements ``results`` judged, held or violated."""
    return {item.requirement for item in results if isinstance(item, Finding)}


def seen(results: Sequence[Finding | Seen], observation: str) -> list[str]:
    """The values ``results`` recorded for one observation."""
    return [item.value for item in results if isinstance(item, Seen) and item.observation == observation]


def ledger_status(results: Sequence[Finding | Seen], requirement: str) -> str:
    """The status a run holding only ``results`` reports for ``requirement``."""
    ledger = Ledger(load_catalogue())
    ledger.record(list(results))
    return next(str(item.status) for item in ledger.requirement_results() if item.id == requirement)


def clean_env(*dropped: str, **extra: str) -> dict[str, str]:
    """The environment for a `dcs-conformance` subprocess, without the developer's own target, credentials and
    hypothesis settings (they would change what a test runs); ``dropped`` names more variables (or prefixes) to
    leave out, ``extra`` what to set. The session's drawing cache stays (see pytest_configure)."""
    prefixes = ("DCS_", "CLOUD_SDK_", "HYPOTHESIS_", *dropped)
    kept = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    if DRAWING_CACHE_ENV in os.environ and DRAWING_CACHE_ENV not in dropped:
        kept[DRAWING_CACHE_ENV] = os.environ[DRAWING_CACHE_ENV]
    return kept | extra


def children(pid: int | None = None) -> set[int]:
    """The processes whose parent is ``pid`` (this process by default), zombies included; read from Linux's /proc."""
    parent = os.getpid() if pid is None else pid
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:  # it ended meanwhile
            continue
        if stat and int(stat.rpartition(")")[2].split()[1]) == parent:
            found.add(int(entry.name))
    return found


class Recorder:
    """An ASGI wrapper that keeps every request body reaching the app, in arrival order (thread-safe)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def spy() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                with self._lock:
                    self.bodies.append(b"".join(chunks))
            return message

        await self.app(scope, spy, send)


# Hypothesis keeps its caches in .hypothesis/ under the working directory, the repository when tests run: point it
# at a temporary directory instead (tests never write into the repository), one per pytest-xdist worker ("main" in
# a serial run) so that two workers never write the same files at once.
hypothesis.configuration.set_hypothesis_home_dir(
    Path(tempfile.gettempdir()) / "dcs-conformance-tests-hypothesis" / os.environ.get("PYTEST_XDIST_WORKER", "main")
)

# The property tests' examples are judged by what they assert, never by how fast they are drawn or run: a worker
# shares the cores with the other worker's servers and child processes (and CI machines with other jobs), and a
# 200 ms deadline or the too-slow health check would fail a correct test on a busy machine. The engine's own
# settings say both explicitly, so its runs are the same under this profile as in the command.
hypothesis.settings.register_profile(
    "dcs-conformance-tests", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("dcs-conformance-tests")


PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Distribution:
    """What ``make dist`` builds: the sdist, and the wheel built from it."""

    sdist: Path
    wheel: Path


@pytest.fixture(scope="session")
def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Distribution:
    """The sdist and the wheel, built as ``make dist`` builds them (``python -m build``: the wheel from the sdist,
    so a file the sdist forgets breaks the wheel too), into a temporary directory, once per session."""
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-4000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Distribution(sdist, wheel)


@dataclass(frozen=True)
class WheelVenv:
    """A fresh virtual environment holding the built wheel (and pytest), as a user's after ``pip install``."""

    root: Path
    wheel: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment (clean_env) whose PATH finds this venv's python, pip and dcs-conformance first, and
        nothing of the project's own .venv."""
        path = os.pathsep.join(
            entry for entry in os.environ.get("PATH", "").split(os.pathsep) if not entry.startswith(sys.prefix)
        )
        return clean_env("VIRTUAL_ENV", "PYTHONPATH", PATH=f"{self.bin}{os.pathsep}{path}", **extra)


@pytest.fixture(scope="session")
def wheel_venv(built_dist: Distribution, tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    """The built wheel installed into a fresh venv by pip, its dependencies from the package index as a user gets
    them; pytest too, for the plugin. Once per session: every test that needs an installed suite shares it."""
    root = tmp_path_factory.mktemp("wheel-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=120)
    install = subprocess.run(
        [str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", str(built_dist.wheel), "pytest>=8,<9.2"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-4000:]
    return WheelVenv(root, built_dist.wheel)


#: The session fixtures that build and install the distribution: the tests that use them share one xdist group,
#: so that one worker builds the wheel and fills the venv once, as a serial run does, instead of every worker.
DISTRIBUTION_FIXTURES = frozenset({"built_dist", "wheel_venv"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` (``make test``) the tests that share something expensive run in one worker: those
    of the distribution (DISTRIBUTION_FIXTURES) in the group "distribution", and the tests of an end-to-end module
    that share a module-scoped fixture (one engine run, a server, a signed bundle, judged by many tests) in a
    group named after their module, so the fixture runs once and not once per worker. A test's own
    ``xdist_group`` mark wins; a serial run ignores the groups. Runs before pytest-xdist reads the marks."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        group = _shared_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def _shared_group(item: pytest.Item) -> str | None:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    if DISTRIBUTION_FIXTURES & set(info.names_closure):
        return "distribution"
    if item.path.parent.name != "e2e":
        return None
    for definitions in info.name2fixturedefs.values():
        if any(definition.scope == "module" for definition in definitions):
            return item.path.stem
    return None


RESTART_LEDGERS = pytest.StashKey[LedgerWatch]()
DRAWING_CACHE = pytest.StashKey[Path]()
#: The variable naming the drawing cache a run uses (its cache_dir setting).
DRAWING_CACHE_ENV = str(table.get("cache_dir").env)


def pytest_configure(config: pytest.Config) -> None:
    """Every reference this session starts in another process (``serve``, the embedded run's child, those of a
    ``dcs-conformance run`` or a pytest run in a subprocess) keeps its restart counts in one directory of this
    process's own (each pytest-xdist worker has its own): conformance/reference/restart_ledger.py, read after every
    test by no_restartable_task_asked_twice_in_any_process. Set before any fixture starts a process, so that
    module-scoped servers inherit it too."""
    directory = Path(tempfile.mkdtemp(prefix="dcs-conformance-restarts-"))
    os.environ[restart_ledger.ENV] = str(directory)
    config.stash[RESTART_LEDGERS] = LedgerWatch(directory)
    if "PYTEST_XDIST_WORKER" not in os.environ:
        # One drawing cache for the whole session, never the developer's own: the controller makes it before it
        # starts the pytest-xdist workers, which inherit it, as does every run a test starts (clean_env keeps
        # it). The runs of one seed and settings then draw their schemathesis cases once a session, not once a
        # run; the tests about drawing itself give a cache of their own.
        cache = Path(tempfile.mkdtemp(prefix="dcs-conformance-drawn-"))
        os.environ[DRAWING_CACHE_ENV] = str(cache)
        config.stash[DRAWING_CACHE] = cache
    # A run of this process that reads no environment (resolve(..., env={})) uses it too.
    session_cache = Path(os.environ[DRAWING_CACHE_ENV])
    drawing_cache.default_directory = lambda: session_cache  # type: ignore[assignment]


def pytest_unconfigure(config: pytest.Config) -> None:
    watch = config.stash.get(RESTART_LEDGERS, None)
    if watch is not None:
        shutil.rmtree(watch.directory, ignore_errors=True)
    cache = config.stash.get(DRAWING_CACHE, None)
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture
def restart_ledgers(request: pytest.FixtureRequest) -> LedgerWatch:
    """The session's restart ledgers, for a test that reads them itself (and is ``asks_again``)."""
    return request.config.stash[RESTART_LEDGERS]


@pytest.fixture(autouse=True)
def no_restartable_task_asked_twice_in_any_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """The README's promise, held for runs whose reference is in another process: a test fails if, while it ran,
    any such reference was asked to restart a task it had already restarted (``@pytest.mark.asks_again``: on
    purpose). In-process references are counted by tests/e2e/conftest.py. What a reference did during a
    module-scoped fixture's setup counts for the first test that used it."""
    watch = request.config.stash[RESTART_LEDGERS]
    yield
    again = watch.asked_again()
    if request.node.get_closest_marker("asks_again") is None:
        assert not again, "restarted tasks asked to restart again (task: calls naming it): " + "; ".join(
            map(str, again)
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """What the restart ledgers held (a check that counted nothing would hold nothing); in a pytest-xdist worker:
    hand this worker's summary lines to the controller, which prints the summary."""
    watch = session.config.stash.get(RESTART_LEDGERS, None)
    if watch is not None:
        stores, tasks = watch.totals()
        if stores:
            worker = os.environ.get("PYTEST_XDIST_WORKER")
            where = f" ({worker})" if worker else ""
            counted = f"{stores} read, {tasks} restarted tasks counted"
            summary.add(f"restart ledgers{where}: {counted}")
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["dcs_summary"] = summary.LINES


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """In the pytest-xdist controller: a worker has finished; keep its summary lines (tests/summary.py)."""
    for text, loud in getattr(node, "workeroutput", {}).get("dcs_summary", []):
        summary.add(text, loud=loud)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The loud skips (of the tests that need ssh-keygen, tests/ssh_keygen.py, or Chromium, tests/browser), and the
    other lines tests/summary.py kept, from this process or from the pytest-xdist workers."""
    for text, loud in summary.LINES:
        if loud:
            terminalreporter.write_sep("!", text, yellow=True, bold=True)
        else:
            terminalreporter.write_line(text)
