"""Run settings from three places, in order of precedence: command-line flags, environment variables, a TOML file.

Every value is validated here, so the engine never meets a bad setting and the user gets one clear line.
"""

from __future__ import annotations

import math
import os
import secrets
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.config import fixtures_file
from conformance.config.credentials import Credentials
from conformance.config.credentials_check import CredentialError, check_credentials
from conformance.support.redaction import mask_userinfo, userinfo_secrets
from conformance.support.sshsig import SignatureKeyError, SigningKey, load_private_key
from conformance.wire.tls import TlsOptions, options_from

ENV = {
    "base_url": "DCS_BASE_URL",
    "project_id": "DCS_PROJECT_ID",
    "auth_token": "DCS_AUTH_TOKEN",
    "ak": "CLOUD_SDK_AK",
    "sk": "CLOUD_SDK_SK",
    "ca_bundle": "DCS_CA_BUNDLE",
}
#: The environment variables that hold credentials (the others in ENV name things: a URL, a project, a file).
CREDENTIAL_ENV = (ENV["auth_token"], ENV["ak"], ENV["sk"])
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
    "workers": int,
    "embedded_restartable": int,
    "embedded_not_restartable": int,
    "strict": bool,
    "certify": bool,
    "ca_bundle": str,
    "insecure": bool,
    "client_cert": str,
    "client_key": str,
}
#: --sign-key FILE (config key ``sign_key``, no environment variable): the OpenSSH private key that signs a
#: certification bundle (report/certify.py). Only with --certify; loaded, or refused, while the settings resolve.
FILE_KEYS["sign_key"] = str
TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
DEFAULT_MAX_EXAMPLES = 100
#: The client's limits when none is given: seconds per response (body included), and the largest body read.
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: Restartable tasks the embedded reference seeds, as `serve` does by default.
DEFAULT_EMBEDDED_RESTARTABLE = 100
#: Below one request per 1000 s a run would outlast any CI job; above a day per response, a timeout is a typo.
MIN_RATE_LIMIT = 0.001
MAX_TIMEOUT = 86400.0
#: How each credential is named in messages (its value never is); keys may hold no whitespace at all.
CREDENTIAL_NAMES = {
    "auth_token": "the token (--auth-token or DCS_AUTH_TOKEN)",
    "ak": "the access key (CLOUD_SDK_AK)",
    "sk": "the secret key (CLOUD_SDK_SK)",
    "readonly_token": "the read-only token (--readonly-token)",
    "readonly_ak": "the read-only access key (--readonly-ak)",
    "readonly_sk": "the read-only secret key (--readonly-sk)",
}
KEY_CREDENTIALS = frozenset(CREDENTIAL_NAMES[key] for key in ("ak", "sk", "readonly_ak", "readonly_sk"))
EMBEDDED_PROJECT_ID = "0605767a3300d5762fb7c0186d8c1f5b"
#: A remote target's round trip is hidden by requests in flight: a default run is about 280 requests, so at a 100 ms
#: round trip 16 at once bring it to about 4 s (4 at once: 7 s of waiting alone). The client halves the number while
#: the target throttles (engine.in_flight). The embedded reference shares this process (and its interpreter lock),
#: so more workers would only queue there.
DEFAULT_REMOTE_WORKERS = 16
MAX_WORKERS = 32


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
    embedded_restartable: int = DEFAULT_EMBEDDED_RESTARTABLE
    embedded_not_restartable: int | None = None
    #: Requests in flight at once (independent scenario requests and the property-based phases).
    workers: int = 1
    #: TLS towards an https target: the CA bundle, --insecure, the client certificate (see conformance.wire.tls).
    tls: TlsOptions = field(default_factory=TlsOptions)
    #: The loaded --sign-key (never its path: that is nowhere in a report); None: the bundle is not signed.
    sign_key: SigningKey | None = field(default=None, repr=False, compare=False)

    @property
    def embedded(self) -> bool:
        return self.base_url is None


def load_toml(path: Path) -> dict[str, Any]:
    """A config file's TOML document; every way it cannot be read is one SettingsError line."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"config file {path} is not UTF-8 text (TOML files must be UTF-8)") from None
    except ValueError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {str(exc)[:120]}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror or exc}") from None


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings of a TOML file: top level, or the [dcs-conformance] table (other tables are other tools')."""
    raw = load_toml(path)
    table: dict[str, Any]
    if "dcs-conformance" in raw:
        nested = raw["dcs-conformance"]
        if not isinstance(nested, dict):
            raise SettingsError(f"config file {path}: [dcs-conformance] must be a table")
        beside = [key for key, value in raw.items() if key != "dcs-conformance" and not isinstance(value, dict)]
        if beside:
            raise SettingsError(
                f"config file {path}: {beside[0]!r} is outside the [dcs-conformance] table; "
                "put every setting in the table (or none: then the whole file is read)"
            )
        table = nested
    else:
        table = raw
    for key, value in table.items():
        expected = FILE_KEYS.get(key)
        if expected is None:
            raise SettingsError(f"config file {path}: unknown setting {key!r} (known: {', '.join(FILE_KEYS)})")
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            shown = f"a value of type {type(value).__name__}" if key in CREDENTIAL_NAMES else repr(value)
            raise SettingsError(f"config file {path}: {key!r} must be {TYPE_NAMES[expected]}, got {shown}")
    return table


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash, or SettingsError naming what is wrong (userinfo never shown)."""
    shown = mask_userinfo(base_url)
    example = "an http(s) URL such as https://dcs.example.com"
    if any(not char.isprintable() or char.isspace() for char in base_url):
        raise SettingsError(f"--base-url must be {example}, without spaces or control characters: {shown!r}")
    try:
        parts = urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(f"--base-url is not a valid URL ({exc}): {shown!r}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"--base-url must be {example}, got {shown!r}")
    if not parts.hostname:
        raise SettingsError(f"--base-url has no host: {shown!r}")
    if port == 0:
        raise SettingsError(f"--base-url port must be from 1 to 65535: {shown!r}")
    if parts.query or parts.fragment:
        raise SettingsError(f"--base-url must not carry a query or fragment: {shown!r}")
    try:
        _ = httpx.URL(base_url).host  # decoding the host checks its IDNA form
    except (httpx.InvalidURL, ValueError) as exc:
        raise SettingsError(f"--base-url is not a valid URL ({str(exc)[:100]}): {shown!r}") from None
    return base_url.rstrip("/")


def check_number(name: str, value: float | int | None, minimum: float, maximum: float = math.inf) -> None:
    """Numbers must be finite and in range: NaN would silently switch a limit off, inf would overflow a timer."""
    if value is None:
        return
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {value}")
    if minimum == 0 and value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, got {value:g}")
    if value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g}, got {value:g}")


def secret_values(flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> list[str]:
    """Every credential the settings could hold (flags, environment, config file, userinfo of the base URL), for
    redacting the terminal before the settings are even resolved; never raises."""
    env = os.environ if env is None else env
    names = ("auth_token", "ak", "sk", "readonly_token", "readonly_ak", "readonly_sk", "token", "base_url")
    values = [flags.get(name) for name in names]
    values += [env.get(variable) for variable in (*CREDENTIAL_ENV, ENV["base_url"])]
    if flags.get("config"):
        try:
            from_file = read_config_file(Path(flags["config"]))
        except SettingsError:
            from_file = {}
        values += [from_file.get(name) for name in names]
    found: list[str] = []
    for value in values:
        if isinstance(value, str) and value:
            found += userinfo_secrets(value) if "://" in value else [value, value.strip()]
    return found


#: Checks fault and variant names, raising ValueError for an unknown one (the embedded reference's registry:
#: conformance.reference.embedded.check_deviations, passed in since settings sit below the reference server).
DeviationCheck = Callable[[Sequence[str], Sequence[str]], object]


def resolve(
    flags: Mapping[str, Any], env: Mapping[str, str] | None = None, *, check_deviations: DeviationCheck | None = None
) -> RunSettings:
    """Merge flags (None means not given), environment and the config file named by flags['config']; with
    ``check_deviations``, --fault and --variant names are checked here too, before anything starts."""
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
        base_url = check_base_url(base_url)
    project_id = pick("project_id")
    if base_url is not None and not project_id:
        raise SettingsError("a target needs a project ID: give --project-id or DCS_PROJECT_ID")
    if project_id is not None and (
        not project_id.strip() or "/" in project_id or not project_id.isprintable() or not project_id.isascii()
    ):
        raise SettingsError(f"--project-id must be a non-empty printable ASCII ID without '/', got {project_id!r}")

    try:
        check_credentials({name: pick(key) for key, name in CREDENTIAL_NAMES.items()}, KEY_CREDENTIALS)
    except CredentialError as exc:
        raise SettingsError(str(exc)) from None
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
    if fixtures is not None:
        try:
            fixtures_file.read(Path(fixtures))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    seed = pick("seed")
    max_examples = pick("max_examples")
    rate_limit = pick("rate_limit")
    max_requests = pick("max_requests")
    timeout = pick("timeout")
    max_response_bytes = pick("max_response_bytes")
    workers = pick("workers")
    embedded_restartable, embedded_not_restartable = pick("embedded_restartable"), pick("embedded_not_restartable")
    check_number("--max-examples", max_examples, 1)
    check_number("--rate-limit", rate_limit, MIN_RATE_LIMIT)
    check_number("--max-requests", max_requests, 1)
    check_number("--timeout", timeout, 0, MAX_TIMEOUT)
    check_number("--max-response-bytes", max_response_bytes, 1024)
    check_number("--workers", workers, 1, MAX_WORKERS)
    for name, count in (
        ("--embedded-restartable", embedded_restartable),
        ("--embedded-not-restartable", embedded_not_restartable),
    ):
        if count is not None and count < 0:
            raise SettingsError(f"{name} must not be negative, got {count}")
    report_dir = pick("report_dir")
    if base_url is not None and (embedded_restartable is not None or embedded_not_restartable is not None):
        raise SettingsError(
            "--embedded-restartable and --embedded-not-restartable seed the embedded reference; drop --base-url"
        )
    faults, variants = tuple(flags.get("fault") or ()), tuple(flags.get("variant") or ())
    if (faults or variants) and base_url is not None:
        raise SettingsError("--fault and --variant change the embedded reference server; drop --base-url")
    if (faults or variants) and check_deviations is not None:
        try:
            check_deviations(faults, variants)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    tls_options = _tls_options(pick, flags, from_file, base_url, env)
    sign_key = _sign_key(pick("sign_key"), certify=bool(pick("certify")))
    return RunSettings(
        base_url=base_url or None,
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
        embedded_restartable=(
            int(embedded_restartable) if embedded_restartable is not None else DEFAULT_EMBEDDED_RESTARTABLE
        ),
        embedded_not_restartable=int(embedded_not_restartable) if embedded_not_restartable is not None else None,
        workers=int(workers) if workers is not None else (DEFAULT_REMOTE_WORKERS if base_url else 1),
        strict=bool(pick("strict")),
        certify=bool(pick("certify")),
        faults=faults,
        variants=variants,
        tls=tls_options,
        sign_key=sign_key,
    )


def _sign_key(path: str | None, *, certify: bool) -> SigningKey | None:
    """The --sign-key, loaded now, before anything is sent: a key that cannot sign is one line (naming the file and
    what is wrong, never key material), not a bundle left unsigned after the run."""
    if path is None:
        return None
    if not certify:
        raise SettingsError("--sign-key signs the certification bundle: give --certify too")
    try:
        return load_private_key(Path(path))
    except SignatureKeyError as exc:
        raise SettingsError(f"--sign-key {exc}") from None


def _tls_options(
    pick: Any, flags: Mapping[str, Any], from_file: Mapping[str, Any], base_url: str | None, env: Mapping[str, str]
) -> TlsOptions:
    """TLS options only mean something for an https target: given there by flag or config file they are a mistake,
    while DCS_CA_BUNDLE (like SSL_CERT_FILE) is simply not needed for an http or embedded run."""
    insecure = bool(pick("insecure"))
    named = [key for key in ("ca_bundle", "client_cert", "client_key") if flags.get(key) or from_file.get(key)]
    https = base_url is not None and base_url.lower().startswith("https://")
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
