"""Run settings from three places, in order of precedence: command-line flags, environment variables, a TOML file.

Every value is validated here, so the engine never meets a bad setting and the user gets one clear line. What each
setting is (its type, range, variable, key, default) is declared in table.py; what involves two settings is code here.
"""

from __future__ import annotations

import math
import os
import secrets
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance.config import fixtures_file, table
from conformance.config.credentials import Credentials
from conformance.config.credentials_check import CredentialError, check_credentials
from conformance.config.table import DEFAULT_EMBEDDED_RESTARTABLE, Setting
from conformance.config.table import DEFAULT_MAX_RESPONSE_BYTES as DEFAULT_MAX_RESPONSE_BYTES
from conformance.config.table import DEFAULT_TIMEOUT_S as DEFAULT_TIMEOUT_S
from conformance.support.errors import SettingsError as SettingsError
from conformance.support.redaction import mask_userinfo, proxy_secrets, userinfo_secrets
from conformance.wire.tls import TlsOptions, options_from

if TYPE_CHECKING:
    from conformance.support.sshsig import SigningKey

TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
EMBEDDED_PROJECT_ID = "0605767a3300d5762fb7c0186d8c1f5b"
#: A remote target's round trip is hidden by requests in flight: a default run is about 280 requests, so at a 100 ms
#: round trip 16 at once bring it to about 4 s (4 at once: 7 s of waiting alone). The client halves the number while
#: the target throttles (engine.in_flight). The embedded reference answers on loopback at once (from a process of its
#: own, on the other core): there is no round trip to hide, so an embedded run keeps one worker.
DEFAULT_REMOTE_WORKERS = 16


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
    #: Where drawn schemathesis cases are kept (None: the user's cache directory), and whether they are not.
    cache_dir: str | None = None
    no_cache: bool = False
    #: TLS towards an https target: the CA bundle, --insecure, the client certificate (see conformance.wire.tls).
    tls: TlsOptions = field(default_factory=TlsOptions)
    #: Every setting of the table that has no field above, by name, as resolved (its default when not given).
    extra: dict[str, Any] = field(default_factory=dict, hash=False)
    #: The loaded --sign-key (never its path: that is nowhere in a report); None: the bundle is not signed.
    sign_key: SigningKey | None = field(default=None, repr=False, compare=False)

    @property
    def embedded(self) -> bool:
        return self.base_url is None

    def value(self, name: str) -> Any:
        """The resolved value of the table's setting ``name``: the field that holds it, or ``extra``."""
        setting = table.get(name)
        path = (setting.attr or name).split(".")
        if path[0] not in _FIELDS:
            return self.extra.get(name, setting.default)
        value: Any = self
        for part in path:
            value = getattr(value, part)
        return value


_FIELDS = frozenset(RunSettings.__dataclass_fields__)


def run_options(settings: RunSettings) -> dict[str, Any]:
    """report.json's ``options``: the settings the table marks ``reported``, in its order."""
    return {setting.name: settings.value(setting.name) for setting in table.SETTINGS if setting.reported}


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
    settings: dict[str, Any]
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
        settings = nested
    else:
        settings = raw
    keys = table.file_keys()
    secret = {setting.name for setting in table.secrets()}
    for key, value in settings.items():
        expected = keys.get(key)
        if expected is None:
            raise SettingsError(f"config file {path}: unknown setting {key!r} (known: {', '.join(keys)})")
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            shown = f"a value of type {type(value).__name__}" if key in secret else repr(value)
            raise SettingsError(f"config file {path}: {key!r} must be {TYPE_NAMES[expected]}, got {shown}")
    return settings


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
    if "://" not in base_url:
        raise SettingsError(
            f"--base-url needs a scheme: got {shown!r}; did you mean 'https://{shown}' (or 'http://{shown}')?"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"--base-url must be {example}, got {shown!r}")
    if not parts.hostname:
        raise SettingsError(f"--base-url has no host: {shown!r}")
    if port == 0:
        raise SettingsError(f"--base-url port must be from 1 to 65535: {shown!r}")
    if parts.query or parts.fragment:
        raise SettingsError(f"--base-url must not carry a query or fragment: {shown!r}")
    import httpx  # here, not above: --help and the commands that read reports never load the HTTP client

    try:
        _ = httpx.URL(base_url).host  # decoding the host checks its IDNA form
    except (httpx.InvalidURL, ValueError) as exc:
        raise SettingsError(f"--base-url is not a valid URL ({str(exc)[:100]}): {shown!r}") from None
    return base_url.rstrip("/")


def check_range(setting: Setting, value: float | int | None) -> None:
    """A number must be finite and in its setting's range: NaN would silently switch a limit off, inf would
    overflow a timer. The message names the flag."""
    if value is None or (setting.minimum is None and setting.maximum is None):
        return
    name = setting.flag_name
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {value}")
    minimum, maximum = setting.minimum, setting.maximum
    if minimum is not None:
        if minimum == 0 and setting.exclusive and value <= 0:
            raise SettingsError(f"{name} must be positive, got {value}")
        if minimum == 0 and value < 0:
            raise SettingsError(f"{name} must not be negative, got {value}")
        if value < minimum or (setting.exclusive and value == minimum):
            raise SettingsError(
                f"{name} must be {'more than' if setting.exclusive else 'at least'} {minimum:g}, got {value:g}"
            )
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g}, got {value:g}")


def from_environment(setting: Setting, env: Mapping[str, str]) -> Any:
    """The setting's value from its environment variable, parsed as its type (None: unset or empty)."""
    text = env.get(setting.env) if setting.env else None
    if not text:
        return None
    if setting.kind is str:
        return text
    try:
        if setting.kind is bool:
            return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}[text.lower()]
        return setting.kind(text)
    except (KeyError, ValueError):
        shown = "a value that is not shown" if setting.secret else repr(text)
        raise SettingsError(f"{setting.env} must be {TYPE_NAMES[setting.kind]}, got {shown}") from None


def secret_values(flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> list[str]:
    """Every credential the settings could hold (flags, environment, config file, userinfo of the base URL), for
    redacting the terminal before the settings are even resolved; never raises."""
    env = os.environ if env is None else env
    # "token" is serve's flag for the token it accepts.
    names = (*(setting.name for setting in table.secrets()), "token")
    from_file: Mapping[str, Any] = {}
    if flags.get("config"):
        try:
            from_file = read_config_file(Path(flags["config"]))
        except SettingsError:
            from_file = {}
    values = [flags.get(name) for name in names] + [env.get(variable) for variable in table.credential_variables()]
    values += [from_file.get(name) for name in names]
    urls = [flags.get("base_url"), env.get(table.get("base_url").env or ""), from_file.get("base_url")]
    found: list[str] = proxy_secrets(env)
    for value in values:
        if isinstance(value, str) and value:
            found += userinfo_secrets(value) if "://" in value else [value, value.strip()]
    for url in urls:
        if isinstance(url, str) and url:
            # Only a URL's userinfo is secret, with or without a scheme (a mistyped "user:pw@host" included): the
            # rest is what the user typed, and an error message must be able to show it.
            found += userinfo_secrets(url if "://" in url else f"//{url}")
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
        from_env = from_environment(table.get(key), env)
        if from_env is not None:
            return from_env
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
        check_credentials(
            {setting.described: pick(setting.name) for setting in table.secrets()},
            frozenset(setting.described for setting in table.secrets() if setting.key),
        )
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
    for setting in table.SETTINGS:
        check_range(setting, pick(setting.name))
    embedded_restartable, embedded_not_restartable = pick("embedded_restartable"), pick("embedded_not_restartable")
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

    def given(name: str) -> Any:
        """The setting as given, as its type; its table default when it is not."""
        return _as_kind(table.get(name), pick(name))

    seed, workers, report_dir = pick("seed"), pick("workers"), pick("report_dir")
    return RunSettings(
        base_url=base_url or None,
        project_id=project_id or EMBEDDED_PROJECT_ID,
        fixtures=Path(fixtures) if fixtures else None,
        credentials=Credentials(
            token=token, ak=ak, sk=sk, readonly_token=readonly_token, readonly_ak=readonly_ak, readonly_sk=readonly_sk
        ),
        report_dir=Path(report_dir) if report_dir else None,
        seed=int(seed) if seed is not None else secrets.randbits(32),
        max_examples=given("max_examples"),
        rate_limit=given("rate_limit"),
        max_requests=given("max_requests"),
        timeout=given("timeout"),
        max_response_bytes=given("max_response_bytes"),
        embedded_restartable=given("embedded_restartable"),
        embedded_not_restartable=given("embedded_not_restartable"),
        workers=int(workers) if workers is not None else (DEFAULT_REMOTE_WORKERS if base_url else 1),
        strict=given("strict"),
        certify=given("certify"),
        cache_dir=given("cache_dir"),
        no_cache=given("no_cache"),
        faults=faults,
        variants=variants,
        tls=tls_options,
        sign_key=sign_key,
        extra={
            setting.name: _as_kind(setting, pick(setting.name))
            for setting in table.SETTINGS
            if (setting.attr or setting.name).split(".")[0] not in _FIELDS
        },
    )


def _as_kind(setting: Setting, value: Any) -> Any:
    """A value given for the setting, as its type (a float may come as a whole number, a switch as None); its
    default when not given."""
    if setting.kind is bool:
        return bool(value if value is not None else setting.default)
    if value is None:
        return tuple(setting.default or ()) if setting.kind is list else setting.default
    if setting.kind is list:
        return tuple(value)
    return setting.kind(value)


def _sign_key(path: str | None, *, certify: bool) -> SigningKey | None:
    """The --sign-key, loaded now, before anything is sent: a key that cannot sign is one line (naming the file and
    what is wrong, never key material), not a bundle left unsigned after the run."""
    if path is None:
        return None
    if not certify:
        raise SettingsError("--sign-key signs the certification bundle: give --certify too")
    from conformance.support.sshsig import SignatureKeyError, load_private_key  # cryptography: only to sign

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
