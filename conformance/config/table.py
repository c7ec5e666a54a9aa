"""Every run setting, declared once: its name, type, default, environment variable, help, and where it shows.

One row per setting. The ``run`` command's flags (cli/args.py), the pytest plugin's ``--dcs-*`` options
(pytest_plugin/options.py), the config file's keys and the environment variables read (config/settings.py), the
many-targets file's keys and run-wide flags (app/targets.py), the command that reproduces a run
(config/reproducer.py) and report.json's ``options`` (settings.run_options) are all derived from :data:`SETTINGS`.
Adding a setting is a row here and the code that uses the value (``RunSettings.value(name)``, or a typed field).

What a row cannot say stays code in ``settings.resolve``: the checks that involve two settings (a token or an AK/SK
pair, TLS only for https, the embedded-only settings, defaults that depend on the target).

Imported by the pytest plugin in every pytest session, so: the standard library only, and nothing but data here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The client's limits when none is given: seconds per response (body included), and the largest body read.
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_EXAMPLES = 100
#: Restartable tasks the embedded reference seeds, as `serve` does by default.
DEFAULT_EMBEDDED_RESTARTABLE = 100
#: Below one request per 1000 s a run would outlast any CI job; above a day per response, a timeout is a typo.
MIN_RATE_LIMIT = 0.001
MAX_TIMEOUT = 86400.0
MAX_WORKERS = 32


@dataclass(frozen=True)
class Setting:
    """One run setting. Its name is the config-file key and the name ``resolve`` takes it by; the flag is
    ``--name-with-dashes``, the pytest option ``--dcs-name-with-dashes``."""

    name: str
    #: str, int, float, bool (a switch: given or not) or list (a repeatable flag, one name each time).
    kind: type
    #: The flag's help. It names the environment variable (appended as "(env VAR)" when it does not); a default
    #: that depends on the target is said here, since ``default`` is then None.
    help: str
    #: The value when it is not given (None: none, or one ``resolve`` computes from the target).
    default: Any = None
    env: str | None = None
    metavar: str | None = None
    #: A ``run`` flag and a pytest option (AK/SK have none: the environment or the config file only).
    flag: bool = True
    #: A key of the config file (its [dcs-conformance] table, and a targets file's shared section and targets).
    toml: bool = True
    #: Written in the command that reproduces a run when it differs from ``default`` (a secret: as "$ENV").
    shapes_run: bool = True
    #: Written in that command even at its default: the generated cases depend on it.
    pinned: bool = False
    #: A key of report.json's ``options``.
    reported: bool = False
    #: A credential: never shown, never in a file; a targets file names its variable (``<name>_env``).
    secret: bool = False
    #: How a credential is named in messages ("the token"), followed by its flag and variable.
    noun: str = ""
    #: An access or secret key: a credential that may hold no whitespace (nor comma) at all.
    key: bool = False
    #: Names one target: a targets file sets it per target, and the flag is refused beside such a file (the
    #: others apply to every target and beat the file).
    per_target: bool = False
    #: The range of a number, checked wherever it comes from; ``exclusive``: the minimum itself is refused.
    minimum: float | None = None
    maximum: float | None = None
    exclusive: bool = False
    #: Where RunSettings holds the value (a dotted path) when not under ``name``; a setting with no typed field
    #: there is in ``RunSettings.extra``.
    attr: str | None = None
    #: The pytest option's help, where the meaning differs in a pytest session (flags are renamed either way).
    pytest_help: str | None = None

    @property
    def flag_name(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def option(self) -> str:
        """The pytest option."""
        return "--dcs-" + self.name.replace("_", "-")

    @property
    def cli_help(self) -> str:
        if self.env and self.env not in self.help:
            return f"{self.help} (env {self.env})"
        return self.help

    @property
    def arguments(self) -> dict[str, Any]:
        """How the flag (or the pytest option) takes its value, as argparse's keyword arguments: a switch, a name
        each time, or one value of its type; None when not given."""
        if self.kind is bool:
            return {"action": "store_true", "default": None}
        if self.kind is list:
            return {"action": "append", "metavar": self.metavar}
        return {"metavar": self.metavar, **({"type": self.kind} if self.kind in (int, float) else {})}

    @property
    def described(self) -> str:
        """A credential as messages name it, by its flag and variable: "the token (--auth-token or DCS_AUTH_TOKEN)"."""
        ways = [way for way in (self.flag_name if self.flag else None, self.env) if way]
        return f"{self.noun} ({' or '.join(ways)})"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base_url",
        str,
        "the target's base URL, e.g. https://dcs.example.com",
        env="DCS_BASE_URL",
        metavar="URL",
        per_target=True,
    ),
    Setting("project_id", str, "project ID in the request path", env="DCS_PROJECT_ID", metavar="ID", per_target=True),
    Setting(
        "fixtures",
        str,
        'known tasks: {"restartable": [...], "not_restartable": [...]}',
        metavar="FILE",
        per_target=True,
    ),
    Setting(
        "auth_token",
        str,
        "IAM token sent as X-Auth-Token (env DCS_AUTH_TOKEN); AK/SK: CLOUD_SDK_AK/SK",
        env="DCS_AUTH_TOKEN",
        metavar="TOKEN",
        secret=True,
        noun="the token",
        per_target=True,
        attr="credentials.token",
    ),
    Setting(
        "ak",
        str,
        "access key: requests are signed SDK-HMAC-SHA256 as the vendor SDK signs (with CLOUD_SDK_SK)",
        env="CLOUD_SDK_AK",
        flag=False,
        secret=True,
        key=True,
        noun="the access key",
        per_target=True,
        attr="credentials.ak",
    ),
    Setting(
        "sk",
        str,
        "the secret key of CLOUD_SDK_AK",
        env="CLOUD_SDK_SK",
        flag=False,
        secret=True,
        key=True,
        noun="the secret key",
        per_target=True,
        attr="credentials.sk",
    ),
    Setting(
        "readonly_token",
        str,
        "a token lacking dcs:migrationTask:modify, to check the 403",
        env="DCS_READONLY_TOKEN",
        metavar="TOKEN",
        secret=True,
        noun="the read-only token",
        per_target=True,
        attr="credentials.readonly_token",
    ),
    Setting(
        "readonly_ak",
        str,
        "an access key lacking dcs:migrationTask:modify, to check the 403",
        env="DCS_READONLY_AK",
        metavar="AK",
        secret=True,
        key=True,
        noun="the read-only access key",
        per_target=True,
        attr="credentials.readonly_ak",
    ),
    Setting(
        "readonly_sk",
        str,
        "the secret key of --readonly-ak",
        env="DCS_READONLY_SK",
        metavar="SK",
        secret=True,
        key=True,
        noun="the read-only secret key",
        per_target=True,
        attr="credentials.readonly_sk",
    ),
    Setting("report_dir", str, "where reports go (default: reports/<UTC timestamp>/)", metavar="DIR", shapes_run=False),
    Setting("seed", int, "seed that reproduces the generated cases (default: random)", metavar="N"),
    Setting(
        "max_examples",
        int,
        "examples per generation mode in the fuzzing phase (default: 100)",
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        pinned=True,
        reported=True,
        minimum=1,
    ),
    Setting(
        "rate_limit",
        float,
        "at most N requests per second",
        metavar="N",
        reported=True,
        minimum=MIN_RATE_LIMIT,
    ),
    Setting(
        "max_requests",
        int,
        "send at most N requests in the whole run",
        metavar="N",
        reported=True,
        minimum=1,
        pytest_help="send at most N requests in the whole session, your dcs_client requests included",
    ),
    Setting(
        "timeout",
        float,
        "seconds each response may take, body included (default: 30)",
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        reported=True,
        minimum=0,
        exclusive=True,
        maximum=MAX_TIMEOUT,
    ),
    Setting(
        "max_response_bytes",
        int,
        "largest response body read, after decompression (default: 8388608, 8 MiB)",
        default=DEFAULT_MAX_RESPONSE_BYTES,
        metavar="N",
        reported=True,
        minimum=1024,
    ),
    Setting(
        "workers",
        int,
        "requests in flight at once, at most (default: 16 for --base-url, halved while the target throttles; "
        "1 embedded)",
        metavar="N",
        reported=True,
        minimum=1,
        maximum=MAX_WORKERS,
    ),
    Setting(
        "fault",
        list,
        "embedded run only: judge the reference with this fault on",
        metavar="NAME",
        toml=False,
        per_target=True,
        attr="faults",
    ),
    Setting(
        "variant",
        list,
        "embedded run only: judge the reference with this variant",
        metavar="NAME",
        toml=False,
        per_target=True,
        attr="variants",
    ),
    Setting(
        "embedded_restartable",
        int,
        "embedded run only: restartable tasks the reference seeds (default: 100)",
        default=DEFAULT_EMBEDDED_RESTARTABLE,
        metavar="N",
        per_target=True,
        minimum=0,
    ),
    Setting(
        "embedded_not_restartable",
        int,
        "embedded run only: non-restartable tasks the reference seeds (default: 48, 4 of each kind)",
        metavar="N",
        per_target=True,
        minimum=0,
    ),
    Setting(
        "strict",
        bool,
        "SHOULD violations fail the run",
        default=False,
        reported=True,
        pytest_help="SHOULD violations fail their items",
    ),
    Setting(
        "certify",
        bool,
        "any MUST left unexercised: incomplete (4)",
        default=False,
        reported=True,
        pytest_help="any MUST left unexercised: incomplete",
    ),
    Setting(
        "cache_dir",
        str,
        "where drawn schemathesis cases are kept for the next run of the same seed and settings "
        "(default: ~/.cache/dcs-conformance/drawn, or under $XDG_CACHE_HOME)",
        env="DCS_CONFORMANCE_CACHE_DIR",
        metavar="DIR",
        shapes_run=False,
    ),
    Setting(
        "no_cache",
        bool,
        "draw the schemathesis cases afresh, neither replaying nor keeping them (the same cases either way)",
        default=False,
        shapes_run=False,
    ),
    Setting(
        "ca_bundle",
        str,
        "PEM file of the CAs that sign the target's certificate (env DCS_CA_BUNDLE; SSL_CERT_FILE also works)",
        env="DCS_CA_BUNDLE",
        metavar="FILE",
        attr="tls.ca_bundle",
    ),
    Setting(
        "insecure",
        bool,
        "do not verify the target's certificate (warned; never certifies)",
        default=False,
        attr="tls.insecure",
    ),
    Setting("client_cert", str, "PEM client certificate for mutual TLS", metavar="FILE", attr="tls.client_cert"),
    Setting(
        "client_key",
        str,
        "the private key of --client-cert (default: inside it)",
        metavar="FILE",
        attr="tls.client_key",
    ),
    Setting(
        "sign_key",
        str,
        "with --certify: sign the bundle (SHA256SUMS.sig) with this unencrypted OpenSSH private key",
        metavar="FILE",
        # Its path is in no report: the bundle names its signer by the signature, and a rerun need not sign.
        shapes_run=False,
    ),
)


def get(name: str) -> Setting:
    """The setting of that name (KeyError if there is none)."""
    for setting in SETTINGS:
        if setting.name == name:
            return setting
    raise KeyError(name)


def flagged() -> tuple[Setting, ...]:
    """The settings that are ``run`` flags and pytest options, in the table's order."""
    return tuple(setting for setting in SETTINGS if setting.flag)


def rerun_targets() -> tuple[Setting, ...]:
    """What names the target of ``verify --rerun`` (the target itself, and the files that reach it over TLS):
    everything else of a rerun comes from the bundle."""
    return tuple(
        setting
        for setting in flagged()
        if setting.per_target or (setting.kind is str and (setting.attr or "").startswith("tls."))
    )


def file_keys() -> dict[str, type]:
    """The config file's keys and the type each must have."""
    return {setting.name: setting.kind for setting in SETTINGS if setting.toml}


def environment() -> dict[str, str]:
    """The environment variable of each setting that has one, by the setting's name."""
    return {setting.name: setting.env for setting in SETTINGS if setting.env}


def secrets() -> tuple[Setting, ...]:
    """The credentials."""
    return tuple(setting for setting in SETTINGS if setting.secret)


def credential_variables() -> tuple[str, ...]:
    """The environment variables that hold credentials (the others name things: a URL, a project, a file)."""
    return tuple(setting.env for setting in secrets() if setting.env)
