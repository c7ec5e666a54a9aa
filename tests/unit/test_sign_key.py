"""--sign-key: a run setting loaded (or refused, in one line) while the settings resolve, before anything is sent;
only with --certify; carried to the workers of a many-targets run. And --rerun's settings: the bundle's seed and
options with the target the user names."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519

from conformance.app.rerun import recorded_flag, rerun_settings
from conformance.app.targets import plan
from conformance.cli.main import main
from conformance.config.settings import SettingsError, resolve

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def write_key(path: Path, key: Any, *, fmt: Any = None, password: bytes | None = None) -> Path:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, fmt or serialization.PrivateFormat.OpenSSH, encryption)
    )
    return path


@pytest.fixture
def ed_key(tmp_path: Path) -> Path:
    return write_key(tmp_path / "ci_ed25519", ed25519.Ed25519PrivateKey.generate())


def test_the_key_is_loaded_while_the_settings_resolve(ed_key: Path) -> None:
    settings = resolve({"certify": True, "sign_key": str(ed_key)}, env={})
    assert settings.sign_key is not None and settings.sign_key.key_type == "ssh-ed25519"
    assert "PRIVATE" not in repr(settings) and str(ed_key) not in repr(settings)


def test_the_key_comes_from_the_config_file_too(tmp_path: Path, ed_key: Path) -> None:
    config = tmp_path / "conformance.toml"
    config.write_text(f'certify = true\nsign_key = "{ed_key}"\n')
    assert resolve({"config": str(config)}, env={}).sign_key is not None


def test_sign_key_without_certify_is_a_mistake(ed_key: Path) -> None:
    with pytest.raises(SettingsError, match="--sign-key signs the certification bundle: give --certify too"):
        resolve({"sign_key": str(ed_key)}, env={})


def unusable_keys(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    pkcs8 = serialization.PrivateFormat.PKCS8
    encrypted = write_key(
        tmp_path / "encrypted", ed25519.Ed25519PrivateKey.generate(), fmt=pkcs8, password=b"passphrase"
    )
    dsa_key = write_key(tmp_path / "dsa", dsa.generate_private_key(1024), fmt=pkcs8)
    public = tmp_path / "ci.pub"
    public.write_bytes(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    return {
        "encrypted": (encrypted, "is encrypted with a passphrase"),
        "DSA": (dsa_key, "unsupported key type DSA"),
        "public key": (public, "this is an SSH public key, not a private key"),
        "missing": (tmp_path / "missing", "cannot read key file"),
    }


@pytest.mark.parametrize("case", ["encrypted", "DSA", "public key", "missing"])
def test_a_key_that_cannot_sign_is_one_line_naming_the_file_never_its_material(tmp_path: Path, case: str) -> None:
    path, reason = unusable_keys(tmp_path)[case]
    # Nothing else on stderr: cryptography's deprecation warning for a DSA key included.
    with warnings.catch_warnings(), pytest.raises(SettingsError) as caught:
        warnings.simplefilter("error")
        resolve({"certify": True, "sign_key": str(path)}, env={})
    message = str(caught.value)
    assert message.startswith(f"--sign-key {path}: ") and reason in message
    assert "\n" not in message
    if path.is_file():
        assert not any(line in message for line in path.read_text().splitlines()[1:] if len(line) > 8)


def test_the_cli_refuses_an_unusable_key_with_exit_2_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = unusable_keys(tmp_path)["encrypted"]
    # Port 9 on loopback: a run that got as far as sending would end unreachable (3), not 2.
    args = ["run", "--base-url", "http://127.0.0.1:9", "--project-id", "p", "--certify", "--sign-key", str(path)]
    assert main([*args, "--report-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is encrypted with a passphrase" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_every_target_of_a_targets_file_signs_with_the_run_wide_key(tmp_path: Path, ed_key: Path) -> None:
    targets = tmp_path / "targets.toml"
    targets.write_text('[[targets]]\nname = "a"\n\n[[targets]]\nname = "b"\nvariant = ["reversed-order"]\n')
    planned = plan(targets, {"certify": True, "sign_key": str(ed_key)}, {}, tmp_path / "run")
    fingerprints = {target.settings.sign_key.fingerprint for target in planned if target.settings.sign_key}
    assert len(planned) == 2 and len(fingerprints) == 1
    # Spawned workers receive the settings pickled: the key goes with them, and the command never names it.
    again = pickle.loads(pickle.dumps(planned[1]))
    assert again.settings.sign_key is not None and again.settings.sign_key.fingerprint in fingerprints
    assert all(str(ed_key) not in target.command for target in planned)


# --- the settings of a rerun ---------------------------------------------------------------------------------------


def golden(name: str = "conformant") -> dict[str, Any]:
    report: dict[str, Any] = json.loads((GOLDEN / f"report-{name}.json").read_text(encoding="utf-8"))
    report["options"]["certify"] = True
    return report


def test_a_rerun_takes_the_bundles_seed_and_options(tmp_path: Path) -> None:
    report = golden()
    report["options"].update(strict=True, max_requests=900, rate_limit=50.0)
    settings = rerun_settings(report, {}, tmp_path / "rerun", env={})  # type: ignore[arg-type]
    assert (settings.seed, settings.max_examples, settings.max_requests, settings.rate_limit) == (3, 20, 900, 50.0)
    assert settings.strict and settings.certify and settings.embedded
    assert settings.report_dir == tmp_path / "rerun" and settings.sign_key is None


def test_an_embedded_rerun_keeps_the_bundles_faults_and_adds_the_users(tmp_path: Path) -> None:
    report = golden("non-conformant")
    report["command"] += " --embedded-restartable 7"
    settings = rerun_settings(report, {"fault": ["invent-item"]}, tmp_path, env={})  # type: ignore[arg-type]
    assert settings.faults == ("drop-in-large-batches", "invent-item")
    assert settings.embedded_restartable == 7


def test_a_rerun_against_a_remote_target_takes_the_users_target(tmp_path: Path) -> None:
    flags = {"base_url": "https://mock.example.com", "project_id": "p1", "auth_token": "t0ken-from-ci"}
    settings = rerun_settings(golden(), flags, tmp_path, env={})  # type: ignore[arg-type]
    assert (settings.base_url, settings.project_id, settings.credentials.token) == (
        "https://mock.example.com",
        "p1",
        "t0ken-from-ci",
    )
    assert settings.faults == () and settings.seed == 3


def test_a_rerun_is_checked_like_a_run(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--fixtures is only for a --base-url target"):
        rerun_settings(golden(), {"fixtures": "f.json"}, tmp_path, env={})  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="unknown fault"):
        rerun_settings(golden(), {"fault": ["no-such-fault"]}, tmp_path, env={})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("dcs-conformance run --seed 3 --embedded-restartable 7 --certify", 7),
        ("dcs-conformance run --seed 3", None),
        ("dcs-conformance run --embedded-restartable", None),
        ("dcs-conformance run 'unbalanced", None),
    ],
)
def test_the_embedded_counts_are_read_from_the_reproducing_command(command: str, expected: int | None) -> None:
    assert recorded_flag(command, "--embedded-restartable") == expected
