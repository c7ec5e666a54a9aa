"""Run settings: flags beat the environment, the environment beats the config file, and mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.config.settings import EMBEDDED_PROJECT_ID, SettingsError, resolve


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "conformance.toml"
    path.write_text(text)
    return str(path)


def test_flags_beat_environment_which_beats_the_config_file(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '[dcs-conformance]\nbase_url = "http://file.test"\nproject_id = "from-file"\nseed = 5\nmax_examples = 7\n',
    )
    env = {"DCS_BASE_URL": "http://env.test", "DCS_PROJECT_ID": "from-env"}
    settings = resolve({"config": config, "project_id": "from-flag"}, env=env)
    assert settings.base_url == "http://env.test"
    assert settings.project_id == "from-flag"
    assert settings.seed == 5
    assert settings.max_examples == 7


def test_credentials_come_from_the_vendor_sample_variables() -> None:
    env = {"DCS_BASE_URL": "http://env.test", "DCS_PROJECT_ID": "p", "CLOUD_SDK_AK": "AK1", "CLOUD_SDK_SK": "SK1"}
    settings = resolve({}, env=env)
    assert (settings.credentials.ak, settings.credentials.sk) == ("AK1", "SK1")
    assert settings.credentials.configured


def test_no_base_url_means_the_embedded_reference() -> None:
    settings = resolve({}, env={})
    assert settings.embedded
    assert settings.project_id == EMBEDDED_PROJECT_ID
    assert isinstance(settings.seed, int)


@pytest.mark.parametrize(
    ("flags", "env", "fragment"),
    [
        ({"base_url": "dcs.example.com"}, {}, "needs a scheme"),
        ({"base_url": "ftp://dcs.example.com"}, {}, "http(s) URL"),
        ({"base_url": "http://x.test"}, {}, "project ID"),
        ({"base_url": "http://x.test", "project_id": "a/b"}, {}, "without '/'"),
        ({"base_url": "http://x.test", "project_id": "p"}, {"CLOUD_SDK_AK": "only-ak"}, "both keys"),
        (
            {"base_url": "http://x.test", "project_id": "p", "auth_token": "t"},
            {"CLOUD_SDK_AK": "a", "CLOUD_SDK_SK": "s"},
            "not both",
        ),
        ({"auth_token": "t"}, {}, "only for a --base-url"),
        ({"max_requests": 0}, {}, "--max-requests"),
        ({"rate_limit": -1.0}, {}, "--rate-limit"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_them(flags, env, fragment) -> None:
    with pytest.raises(SettingsError, match=None) as caught:
        resolve(flags, env=env)
    assert fragment in str(caught.value)


def test_config_file_errors_name_the_file_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        resolve({"config": write_config(tmp_path, 'colour = "blue"\n')}, env={})
    with pytest.raises(SettingsError, match="'seed' must be a whole number"):
        resolve({"config": write_config(tmp_path, 'seed = "x"\n')}, env={})
    with pytest.raises(SettingsError, match="not valid TOML"):
        resolve({"config": write_config(tmp_path, "seed = = 1\n")}, env={})
