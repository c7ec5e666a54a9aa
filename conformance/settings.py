"""Run settings from three places, in order of precedence: command-line flags, environment variables, a TOML file.

Every value is validated here, so the engine never meets a bad setting and the user gets one clear line.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.engine.client import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_S, Credentials
from conformance.tls import TlsOptions, options_from

ENV = {
    "base_url": "DCS_BASE_URL",
    "project_id": "DCS_PROJECT_ID",
    "auth_token": "DCS_AUTH_TOKEN",
    "ak": "CLOUD_SDK_AK",
    "sk": "CLOUD_SDK_SK",
    "ca_bundle": "DCS_CA_BUNDLE",
}
FILE_KEYS = {
    "base_url": str,
    "project_id": str,
    "fixtures": str,
    "auth_token": str,
    "ak": str,
    "sk": str,
    "readonly_token": str,
    "readonly_ak": str,
    "readonly_sk": str,
    "report_dir": str,
    "seed": int,
    "max_examples": int,
    "rate_limit": float,
    "max_requests": int,
    "timeout": float,
    "max_response_bytes": int,
    "embedded_restartable": int,
    "embedded_not_restartable": int,
    "strict": bool,
    "certify": bool,
    "ca_bundle": str,
    "insecure": bool,
    "client_cert": str,
    "client_key": str,
}
TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
DEFAULT_MAX_EXAMPLES = 100
EMBEDDED_PROJECT_ID = "0605767a3300d5762fb7c0186d8c1f5b"


class SettingsError(ValueError):
    """A setting is missing, malformed or contradicts another; the message names it."""


@dataclass(frozen=True)
class RunSettings:
    base_url: str | None
    project_id: str
    fixtures: Path | None
    credentials: Credentials
    report_dir: Path | None
    seed: int
    max_examples: int
    rate_limit: float | None
    max_requests: int | None
    timeout: float
    strict: bool
    certify: bool
    faults: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    #: The embedded reference's seeded tasks: restartable, and non-restartable (None: 4 of each kind).
    embedded_restartable: int = 100
    embedded_not_restartable: int | None = None
    #: TLS towards an https target: the CA bundle, --insecure, the client certificate (see conformance.tls).
    tls: TlsOptions = field(default_factory=TlsOptions)

    @property
    def embedded(self) -> bool:
        return self.base_url is None


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    table = raw.get("dcs-conformance", raw)
    if not isinstance(table, dict):
        raise SettingsError(f"config file {path}: [dcs-conformance] must be a table")
    for key, value in table.items():
        expected = FILE_KEYS.get(key)
        if expected is None:
            raise SettingsError(f"config file {path}: unknown setting {key!r} (known: {', '.join(FILE_KEYS)})")
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise SettingsError(f"config file {path}: {key!r} must be {TYPE_NAMES[expected]}, got {value!r}")
    return table


def resolve(flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> RunSettings:
    """Merge flags (None means not given), environment and the config file named by flags['config']."""
    env = os.environ if env is None else env
    from_file = read_config_file(Path(flags["config"])) if flags.get("config") else {}

    def pick(key: str) -> Any:
        if flags.get(key) is not None:
            return flags[key]
        if key in ENV and env.get(ENV[key]):
            return env[ENV[key]]
        return from_file.get(key)

    base_url = pick("base_url")
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"--base-url must be an http(s) URL such as https://dcs.example.com, got {base_url!r}")
        if parts.query or parts.fragment:
            raise SettingsError(f"--base-url must not carry a query or fragment: {base_url!r}")
    project_id = pick("project_id")
    if base_url is not None and not project_id:
        raise SettingsError("a target needs a project ID: give --project-id or DCS_PROJECT_ID")
    if project_id is not None and (
        not project_id.strip() or "/" in project_id or not project_id.isprintable() or not project_id.isascii()
    ):
        raise SettingsError(f"--project-id must be a non-empty printable ASCII ID without '/', got {project_id!r}")

    token, ak, sk = pick("auth_token"), pick("ak"), pick("sk")
    if bool(ak) != bool(sk):
        raise SettingsError("AK/SK signing needs both keys: set CLOUD_SDK_AK and CLOUD_SDK_SK (or ak/sk in the config)")
    if token and ak:
        raise SettingsError("give either a token (--auth-token/DCS_AUTH_TOKEN) or an AK/SK pair, not both")
    readonly_token, readonly_ak, readonly_sk = pick("readonly_token"), pick("readonly_ak"), pick("readonly_sk")
    if bool(readonly_ak) != bool(readonly_sk):
        raise SettingsError("give both --readonly-ak and --readonly-sk, or neither")
    if base_url is None and (token or ak or readonly_token or readonly_ak):
        raise SettingsError("credentials are only for a --base-url target; the embedded run makes its own")

    fixtures = pick("fixtures")
    if fixtures is not None and base_url is None:
        raise SettingsError("--fixtures is only for a --base-url target; the embedded run seeds its own tasks")
    seed = pick("seed")
    max_examples = pick("max_examples")
    rate_limit = pick("rate_limit")
    max_requests = pick("max_requests")
    timeout = pick("timeout")
    max_response_bytes = pick("max_response_bytes")
    embedded_restartable, embedded_not_restartable = pick("embedded_restartable"), pick("embedded_not_restartable")
    for name, value, minimum in (
        ("--max-examples", max_examples, 1),
        ("--rate-limit", rate_limit, 0),
        ("--max-requests", max_requests, 1),
        ("--timeout", timeout, 0),
        ("--max-response-bytes", max_response_bytes, 1024),
        ("--embedded-restartable", embedded_restartable, 0),
        ("--embedded-not-restartable", embedded_not_restartable, 0),
    ):
        if name.startswith("--embedded") and value is not None:
            if value < 0:
                raise SettingsError(f"{name} must not be negative, got {value}")
            continue
        if value is not None and (value < minimum or (minimum == 0 and value == 0)):
            raise SettingsError(f"{name} must be {'positive' if minimum == 0 else f'at least {minimum}'}, got {value}")
    report_dir = pick("report_dir")
    if base_url is not None and (embedded_restartable is not None or embedded_not_restartable is not None):
        raise SettingsError(
            "--embedded-restartable and --embedded-not-restartable seed the embedded reference; drop --base-url"
        )
    faults, variants = tuple(flags.get("fault") or ()), tuple(flags.get("variant") or ())
    if (faults or variants) and base_url is not None:
        raise SettingsError("--fault and --variant change the embedded reference server; drop --base-url")
    if faults or variants:
        from conformance.reference.deviations import build

        try:
            build(faults, variants)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    tls_options = _tls_options(pick, flags, from_file, base_url, env)
    return RunSettings(
        base_url=base_url.rstrip("/") if base_url else None,
        project_id=project_id or EMBEDDED_PROJECT_ID,
        fixtures=Path(fixtures) if fixtures else None,
        credentials=Credentials(
            token=token, ak=ak, sk=sk, readonly_token=readonly_token, readonly_ak=readonly_ak, readonly_sk=readonly_sk
        ),
        report_dir=Path(report_dir) if report_dir else None,
        seed=int(seed) if seed is not None else secrets.randbits(32),
        max_examples=int(max_examples) if max_examples is not None else DEFAULT_MAX_EXAMPLES,
        rate_limit=float(rate_limit) if rate_limit is not None else None,
        max_requests=int(max_requests) if max_requests is not None else None,
        timeout=float(timeout) if timeout is not None else DEFAULT_TIMEOUT_S,
        max_response_bytes=int(max_response_bytes) if max_response_bytes is not None else DEFAULT_MAX_RESPONSE_BYTES,
        embedded_restartable=int(embedded_restartable) if embedded_restartable is not None else 100,
        embedded_not_restartable=int(embedded_not_restartable) if embedded_not_restartable is not None else None,
        strict=bool(pick("strict")),
        certify=bool(pick("certify")),
        faults=faults,
        variants=variants,
        tls=tls_options,
    )


def _tls_options(
    pick: Any, flags: Mapping[str, Any], from_file: Mapping[str, Any], base_url: str | None, env: Mapping[str, str]
) -> TlsOptions:
    """TLS options only mean something for an https target: given there by flag or config file they are a mistake,
    while DCS_CA_BUNDLE (like SSL_CERT_FILE) is simply not needed for an http or embedded run."""
    insecure = bool(pick("insecure"))
    named = [key for key in ("ca_bundle", "client_cert", "client_key") if flags.get(key) or from_file.get(key)]
    https = bool(base_url) and base_url.lower().startswith("https://")
    if (insecure or named) and not https:
        given = "--" + ("insecure" if insecure else named[0]).replace("_", "-")
        raise SettingsError(f"{given} is for an https:// --base-url target; this run's target is not one")
    if insecure and pick("certify"):
        raise SettingsError("--insecure cannot certify: a certification run must verify the target's certificate")
    if not https:
        return TlsOptions()
    try:
        return options_from(
            ca_bundle=pick("ca_bundle"),
            insecure=insecure,
            client_cert=pick("client_cert"),
            client_key=pick("client_key"),
            env=env,
        )
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
