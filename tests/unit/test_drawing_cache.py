"""The drawing cache keeps a child's whole output under a key of everything the child's drawing depends on, and
hands back only what it kept itself, from a directory no one else may write to."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from conformance.engine.phases import drawing_cache
from conformance.engine.phases.drawing_cache import DrawingCache

REQUEST = {"seed": 1, "examples": 100}
ENVIRONMENT = {"PATH": "/usr/bin", "LANG": "C.UTF-8", "PYTHONPATH": "/somewhere"}
LINES = [b"bGluZSBvbmU=", b"bGluZSB0d28=", b""]


def cache_in(tmp_path: Path) -> DrawingCache:
    return DrawingCache(tmp_path / "drawn")


def test_what_is_kept_is_handed_back_whole_and_only_for_its_key(tmp_path: Path) -> None:
    cache = cache_in(tmp_path)
    key = cache.key("a.module", REQUEST, ENVIRONMENT)
    assert cache.lines(key) is None, "nothing kept yet"
    cache.keep(key, LINES)
    assert cache.lines(key) == LINES
    assert cache.lines(cache.key("a.module", {**REQUEST, "seed": 2}, ENVIRONMENT)) is None
    assert (tmp_path / "drawn").stat().st_mode & 0o777 == 0o700, "created private"


def test_the_key_changes_with_the_request_the_environment_and_the_module_but_not_with_where_hypothesis_keeps_tables(
    tmp_path: Path,
) -> None:
    cache = cache_in(tmp_path)
    key = cache.key("a.module", REQUEST, ENVIRONMENT)
    assert key == cache.key("a.module", dict(REQUEST), dict(ENVIRONMENT)), "the same inputs, the same key"
    others = {
        cache.key("a.module", {**REQUEST, "examples": 101}, ENVIRONMENT),
        cache.key("another.module", REQUEST, ENVIRONMENT),
        cache.key("a.module", REQUEST, {**ENVIRONMENT, "HYPOTHESIS_PROFILE": "ci"}),
        cache.key("a.module", REQUEST, {**ENVIRONMENT, "CI": "true"}),
    }
    assert key not in others and len(others) == 4
    tables = {**ENVIRONMENT, "HYPOTHESIS_STORAGE_DIRECTORY": "/elsewhere"}
    assert cache.key("a.module", REQUEST, tables) == key


def test_the_key_changes_when_a_file_of_the_suite_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = cache_in(tmp_path)
    before = cache.key("a.module", REQUEST, ENVIRONMENT)
    stamp = drawing_cache._code_stamp()
    stamped = {Path(path).name for path, _, _ in stamp}
    assert {"st_draw.py", "st_checks.py", "determinism.py", "batch-restart.yaml"} <= stamped, "the drawing's code"
    path, size, mtime = stamp[0]
    monkeypatch.setattr(drawing_cache, "_code_stamp", lambda: [(path, size, mtime + 1), *stamp[1:]])
    assert cache.key("a.module", REQUEST, ENVIRONMENT) != before


def test_the_key_changes_with_what_the_path_holds_not_with_a_directory_of_reports_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = cache_in(tmp_path)
    extra = tmp_path / "on-the-path"
    (extra / "reports").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(extra))
    before = cache.key("a.module", REQUEST, ENVIRONMENT)
    (extra / "reports" / "report.json").write_text("{}")
    assert cache.key("a.module", REQUEST, ENVIRONMENT) == before, "reports are nothing a child imports"
    (extra / "hypothesis.py").write_text("")
    shadowed = cache.key("a.module", REQUEST, ENVIRONMENT)
    assert shadowed != before, "a module there would be imported"
    (extra / "schemathesis-9.9.dist-info").mkdir()
    assert cache.key("a.module", REQUEST, ENVIRONMENT) not in (before, shadowed), "so would a distribution"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda data: data + b"more\n", id="a-line-added"),
        pytest.param(lambda data: data[:-10], id="torn"),
        pytest.param(lambda data: data.replace(b"bGluZSBvbmU=", b"bGluZSBvbmX="), id="a-line-edited"),
        pytest.param(lambda data: data.replace(b"drawn cases 1", b"drawn cases 2"), id="another-format"),
        pytest.param(lambda data: b"", id="empty"),
    ],
)
def test_an_entry_that_is_not_what_keep_wrote_is_refused_and_deleted(tmp_path: Path, tamper: object) -> None:
    cache = cache_in(tmp_path)
    key = cache.key("a.module", REQUEST, ENVIRONMENT)
    cache.keep(key, LINES)
    entry = tmp_path / "drawn" / key
    entry.write_bytes(tamper(entry.read_bytes()))  # type: ignore[operator]
    assert cache.lines(key) is None
    assert not entry.exists()


def test_an_entry_kept_under_another_key_is_refused(tmp_path: Path) -> None:
    cache = cache_in(tmp_path)
    key, other = cache.key("a.module", REQUEST, ENVIRONMENT), cache.key("b.module", REQUEST, ENVIRONMENT)
    cache.keep(other, LINES)
    (tmp_path / "drawn" / other).rename(tmp_path / "drawn" / key)
    assert cache.lines(key) is None


def test_a_link_in_place_of_an_entry_is_never_followed_nor_deleted(tmp_path: Path) -> None:
    cache = cache_in(tmp_path)
    key = cache.key("a.module", REQUEST, ENVIRONMENT)
    cache.keep(key, LINES)
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "drawn" / key).rename(elsewhere)
    (tmp_path / "drawn" / key).symlink_to(elsewhere)
    assert cache.lines(key) is None
    assert (tmp_path / "drawn" / key).is_symlink() and elsewhere.is_file()


@pytest.mark.parametrize("how", ["others-may-write", "a-link", "a-file"])
def test_a_directory_others_could_have_written_is_not_used_and_says_why(tmp_path: Path, how: str) -> None:
    directory = tmp_path / "drawn"
    if how == "others-may-write":
        directory.mkdir()
        directory.chmod(0o777)
        why = "others may write to it"
    elif how == "a-link":
        (tmp_path / "real").mkdir(mode=0o700)
        directory.symlink_to(tmp_path / "real")
        why = "it is a symbolic link"
    else:
        directory.write_text("")
        why = "it is not a directory"
    cache = DrawingCache(directory)
    key = cache.key("a.module", REQUEST, ENVIRONMENT)
    cache.keep(key, LINES)
    assert cache.lines(key) is None
    assert cache.refused == why
    if how == "a-link":
        assert not list((tmp_path / "real").iterdir()), "nothing written through the link"


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user takes root")
def test_an_entry_or_a_directory_of_another_user_is_not_used(tmp_path: Path) -> None:
    cache = cache_in(tmp_path)
    key = cache.key("a.module", REQUEST, ENVIRONMENT)
    cache.keep(key, LINES)
    os.chown(tmp_path / "drawn" / key, 65534, 65534)
    assert cache.lines(key) is None
    assert (tmp_path / "drawn" / key).exists(), "another's file is left alone"
    os.chown(tmp_path / "drawn", 65534, 65534)
    assert cache_in(tmp_path).lines(key) is None


def test_only_the_most_recently_used_entries_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drawing_cache, "KEEP", 3)
    cache = cache_in(tmp_path)
    keys = [cache.key("a.module", {"seed": seed}, ENVIRONMENT) for seed in range(5)]
    for number, key in enumerate(keys):
        cache.keep(key, LINES)
        os.utime(tmp_path / "drawn" / key, ns=(number * 10**9, number * 10**9))
    cache.keep(keys[4], LINES)
    kept = {path.name for path in (tmp_path / "drawn").iterdir()}
    assert kept == set(keys[2:])


def test_the_directory_is_the_one_given_else_the_users_cache_and_none_when_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The module as a run outside the tests has it (tests/conftest.py points this session's default elsewhere).
    spec = importlib.util.spec_from_file_location("a_fresh_drawing_cache", drawing_cache.__file__)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    monkeypatch.setattr(drawing_cache, "default_directory", fresh.default_directory)
    given = drawing_cache.chosen(str(tmp_path / "given"), off=False)
    assert given is not None and given.directory == tmp_path / "given"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = drawing_cache.chosen(None, off=False)
    assert default is not None and default.directory == tmp_path / "xdg" / "dcs-conformance" / "drawn"
    assert drawing_cache.chosen(str(tmp_path / "given"), off=True) is None


def test_the_cache_directory_comes_from_the_flag_the_variable_or_the_config_file(tmp_path: Path) -> None:
    from conformance.config.settings import resolve

    env = {"DCS_CONFORMANCE_CACHE_DIR": str(tmp_path / "from-env")}
    assert resolve({}, env=env).cache_dir == str(tmp_path / "from-env")
    assert resolve({"cache_dir": str(tmp_path / "flag")}, env=env).cache_dir == str(tmp_path / "flag")
    assert resolve({"no_cache": True}, env={}).no_cache
    assert not resolve({}, env={}).no_cache
