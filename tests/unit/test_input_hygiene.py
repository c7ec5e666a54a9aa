"""Bad input is refused before anything is sent, with a message that names the problem (and never a secret):
credentials, the base URL, numbers, config files and fixtures files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from conformance.config.credentials_check import CredentialError, check_credentials, credential_problem
from conformance.config.fixtures_file import read as read_fixtures
from conformance.config.settings import SettingsError, resolve, secret_values
from conformance.engine.guard import GuardRefusal, IdGuard
from conformance.engine.phases.scenarios import Fixtures

TARGET = {"base_url": "http://127.0.0.1:9", "project_id": "p"}
SECRET = "MIIC+tok/EN=secret-value"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (SECRET + "\r", "ends with a carriage return (CR) (as a value read from a file with CRLF line endings"),
        (SECRET + "\n", "ends with a line feed (LF)"),
        (" " + SECRET, "starts with a space"),
        (SECRET[:5] + "\x1b" + SECRET[5:], "contains an escape character (ESC) at character 6"),
        (SECRET[:5] + "é" + SECRET[5:], "contains a non-ASCII character (U+00E9) at character 6"),
        ("", "is empty"),
    ],
)
def test_a_credential_that_cannot_be_sent_is_named_with_its_problem_but_not_shown(value: str, fragment: str) -> None:
    with pytest.raises(CredentialError) as caught:
        check_credentials({"the token (--auth-token or DCS_AUTH_TOKEN)": value})
    message = str(caught.value)
    assert message.startswith("the token (--auth-token or DCS_AUTH_TOKEN) ")
    assert fragment in message
    assert SECRET not in message and SECRET[:8] not in message


def test_keys_may_hold_no_whitespace_or_comma_but_tokens_may_hold_inner_spaces() -> None:
    assert credential_problem("AK 123", is_key=True) == "contains a space at character 3 of 6"
    assert credential_problem("AK,123", is_key=True) == "contains a comma at character 3 of 6"
    assert credential_problem("token with spaces") is None
    assert credential_problem(SECRET) is None


@pytest.mark.parametrize(
    ("flags", "env", "fragment"),
    [
        (
            {**TARGET, "auth_token": SECRET + "\r"},
            {},
            "the token (--auth-token or DCS_AUTH_TOKEN) ends with a carriage",
        ),
        (TARGET, {"CLOUD_SDK_AK": "AK\r", "CLOUD_SDK_SK": "sk"}, "the access key (CLOUD_SDK_AK) ends with"),
        (TARGET, {"CLOUD_SDK_AK": "AK", "CLOUD_SDK_SK": "s k"}, "the secret key (CLOUD_SDK_SK) contains a space"),
        (
            {**TARGET, "readonly_token": "tök"},
            {},
            "the read-only token (--readonly-token or DCS_READONLY_TOKEN) contains a non-ASCII",
        ),
    ],
)
def test_resolve_refuses_unsendable_credentials_naming_which(flags, env, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        resolve(flags, env=env)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("base_url", "fragment"),
    [
        ("http://[::1", "not a valid URL"),
        ("http://host:abc", "not a valid URL"),
        ("http://host:99999", "not a valid URL"),
        ("http://host:0", "port must be from 1 to 65535"),
        ("http://:8080", "has no host"),
        ("http://host\n", "without spaces or control characters"),
        ("http://exa mple.com", "without spaces or control characters"),
        ("http://xn--zz", "not a valid URL"),
    ],
)
def test_malformed_base_urls_are_refused(base_url: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match=None) as caught:
        resolve({**TARGET, "base_url": base_url}, env={})
    assert fragment in str(caught.value)


def test_userinfo_of_a_refused_base_url_is_not_repeated() -> None:
    with pytest.raises(SettingsError) as caught:
        resolve({**TARGET, "base_url": "http://user:pa55word@host:abc"}, env={})
    assert "pa55word" not in str(caught.value)
    assert "http://***@host:abc" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("timeout", math.nan, "--timeout must be a finite number"),
        ("timeout", math.inf, "--timeout must be a finite number"),
        ("timeout", 1e300, "--timeout must be at most 86400"),
        ("timeout", 0.0, "--timeout must be positive"),
        ("rate_limit", math.nan, "--rate-limit must be a finite number"),
        ("rate_limit", 1e-300, "--rate-limit must be at least 0.001"),
        ("rate_limit", -math.inf, "--rate-limit must be a finite number"),
    ],
)
def test_numbers_must_be_finite_and_in_range(name: str, value: float, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        resolve({name: value}, env={})
    assert fragment in str(caught.value)


def config(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "c.toml"
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("seed = 5\nbase_url = 'é'\n".encode("latin-1"), "is not UTF-8 text"),
        (
            b'base_url = "http://a"\n[dcs-conformance]\nproject_id = "p"\n',
            "'base_url' is outside the",
        ),
        (b"rate_limit = nan\n", "--rate-limit must be a finite number"),
        (b"timeout = inf\n", "--timeout must be a finite number"),
        (b"seed = 1" + b"0" * 5000 + b"\n", "is not valid TOML"),
    ],
)
def test_config_file_mistakes_are_named(tmp_path: Path, content: bytes, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        resolve({"config": config(tmp_path, content)}, env={})
    assert fragment in str(caught.value)


def test_a_wrongly_typed_credential_in_a_config_file_is_not_shown(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        resolve({"config": config(tmp_path, b"sk = 987654321987\n")}, env={})
    assert "'sk' must be a string, got a value of type int" in str(caught.value)
    assert "987654321987" not in str(caught.value)


def test_other_tools_tables_beside_ours_are_ignored(tmp_path: Path) -> None:
    path = config(tmp_path, b"[tool.other]\nx = 1\n[dcs-conformance]\nseed = 9\n")
    assert resolve({"config": path}, env={}).seed == 9


def fixtures(tmp_path: Path, document: object | bytes) -> str:
    path = tmp_path / "fixtures.json"
    path.write_bytes(document if isinstance(document, bytes) else json.dumps(document).encode())
    return str(path)


UUID_A = "0f0e0d0c-aaaa-4bbb-8ccc-111111111111"


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"restartables": [UUID_A]}, "unknown key 'restartables'"),
        ({"restartable": [UUID_A], "not_restartable": [UUID_A.upper()]}, "listed as both restartable and not"),
        ({"restartable": ["task-a"], "not_restartable": ["TASK-A"]}, "spelled 'TASK-A'"),
        ({"restartable": [UUID_A], "not_restartable": [UUID_A.replace("-", "")]}, "ignoring case and hyphens"),
        ([UUID_A], "must hold a JSON object"),
        ({"restartable": [1]}, "list of non-empty strings"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b"[" * 100_000, "is not JSON"),
    ],
)
def test_fixtures_file_mistakes_are_refused_before_the_run(tmp_path: Path, document: object, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        resolve({**TARGET, "fixtures": fixtures(tmp_path, document)}, env={})
    assert fragment in str(caught.value)


def test_spellings_of_one_fixture_are_merged_so_it_is_restarted_at_most_once(tmp_path: Path) -> None:
    restartable, _ = read_fixtures(Path(fixtures(tmp_path, {"restartable": [UUID_A, UUID_A.upper()]})))
    assert restartable == [UUID_A]
    loaded = Fixtures.load({"restartable": ["Task-B", "task-b"], "not_restartable": []})
    assert loaded.restartable == ["Task-B"]


def test_guard_sees_a_uuid_hidden_by_a_json_escape() -> None:
    hidden = '{"migration_tasks": ["1111111\\u00312222-4333-8444-555555555555"]}'
    with pytest.raises(GuardRefusal):
        IdGuard().admit(hidden.encode())
    with pytest.raises(GuardRefusal):
        IdGuard().admit(hidden.encode()[:-2])  # not JSON any more: the escapes are still resolved


def test_guard_counts_a_restartable_fixture_under_a_duplicate_key_or_an_escape() -> None:
    guard = IdGuard(restartable=["task-b"])
    guard.admit(b'{"migration_tasks": ["t\\u0061sk-b"]}')
    with pytest.raises(GuardRefusal):
        guard.admit(b'{"migration_tasks": ["x"], "migration_tasks": ["TASK-B"]}')


def test_secret_values_gathers_every_credential_without_raising(tmp_path: Path) -> None:
    path = config(tmp_path, b'auth_token = "from-file-token"\n')
    found = secret_values(
        {"config": path, "readonly_token": "ro-token", "base_url": "http://u:pw-secret@h"},
        env={"CLOUD_SDK_SK": "sk\r"},
    )
    assert {"from-file-token", "ro-token", "pw-secret", "u:pw-secret", "sk\r", "sk"} <= set(found)
    named = secret_values({}, env={"DCS_PROJECT_ID": "project-0605767a", "DCS_CA_BUNDLE": "/etc/ssl/private-ca.pem"})
    assert named == [], "a project ID or a file name is not a credential: the terminal shows it"
    assert secret_values({"config": str(tmp_path / "missing.toml")}, env={}) == []
