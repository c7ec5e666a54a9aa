"""TLS towards an https target: whom the run trusts, the client certificate it presents, ``--insecure``, the proxy
httpx picks from the environment, and one plain cause when a handshake fails.

Staging endpoints sit behind private certificate authorities, gateways that demand client certificates and corporate
proxies. A failed handshake is a setup problem that retrying cannot fix, so the client ends the run at once with the
cause this module names (unknown CA, hostname mismatch, expired, client certificate refused...), never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.support.errors import TlsSetupError as TlsSetupError
from conformance.support.redaction import USERINFO_MASK

#: Said on the terminal when the run starts and when it ends, recorded in report.json and shown in the HTML banner.
INSECURE_WARNING = (
    "--insecure: the target's TLS certificate was NOT verified; anyone between this run and the target could have "
    "answered in its place, so this report proves nothing about the real endpoint"
)

#: OpenSSL's X509_V_ERR_* codes, grouped by the one cause a user can act on.
_UNKNOWN_CA = {2, 18, 19, 20, 21}
_EXPIRED, _NOT_YET_VALID, _REVOKED = 10, 9, 23
_NAME_MISMATCH = {62, 63, 64}
#: Alerts a server sends when it does not accept the client certificate it asked for (or got none).
_CLIENT_CERT_ALERTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "SSLV3_ALERT_CERTIFICATE_REVOKED",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    "TLSV1_ALERT_UNKNOWN_CA",
    "TLSV1_ALERT_ACCESS_DENIED",
    "TLSV1_ALERT_DECRYPT_ERROR",
}
_NOT_TLS = {"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"}
_NO_COMMON_VERSION = {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE"}
_CERTIFICATE_REQUEST = 13  # the TLS handshake message type of CertificateRequest


@dataclass(frozen=True)
class TlsOptions:
    """What the run trusts and presents. ``ssl_cert_file``/``ssl_cert_dir`` are the environment's SSL_CERT_FILE and
    SSL_CERT_DIR, captured when the settings are resolved so that a run never depends on the environment later."""

    ca_bundle: Path | None = None
    insecure: bool = False
    client_cert: Path | None = None
    client_key: Path | None = None
    ssl_cert_file: str | None = None
    ssl_cert_dir: str | None = None

    @property
    def trust(self) -> str:
        """Where the trusted authorities come from, as report.json and the HTML report say it."""
        if self.insecure:
            return "nothing verified (--insecure)"
        if self.ca_bundle:
            return f"--ca-bundle {self.ca_bundle}"
        if self.ssl_cert_file:
            return f"SSL_CERT_FILE {self.ssl_cert_file}"
        if self.ssl_cert_dir:
            return f"SSL_CERT_DIR {self.ssl_cert_dir}"
        return "the certifi bundle (the public web's authorities)"


def options_from(
    *,
    ca_bundle: str | None,
    insecure: bool,
    client_cert: str | None,
    client_key: str | None,
    env: Mapping[str, str],
) -> TlsOptions:
    """Check the TLS settings against each other and the files they name; ValueError names the mistake."""
    if insecure and ca_bundle:
        raise ValueError("--insecure turns certificate verification off; --ca-bundle would verify it: give one")
    if client_key and not client_cert:
        raise ValueError("--client-key is the key of --client-cert: give --client-cert FILE too")
    options = TlsOptions(
        ca_bundle=Path(ca_bundle) if ca_bundle else None,
        insecure=insecure,
        client_cert=Path(client_cert) if client_cert else None,
        client_key=Path(client_key) if client_key else None,
        ssl_cert_file=env.get("SSL_CERT_FILE") or None,
        ssl_cert_dir=env.get("SSL_CERT_DIR") or None,
    )
    client_context(options)  # every file is read now, so a bad one is a usage error before anything is sent
    return options


class WatchedContext(ssl.SSLContext):
    """A client context that remembers what the handshakes showed: whether the server asked for a client
    certificate. With TLS 1.3 a server that refuses the client certificate often just closes the connection after
    the handshake seemed complete; knowing it asked for one turns that silence into a cause."""

    certificate_requested: bool = False
    client_certificate: str | None = None

    def watch_handshakes(self) -> None:
        def seen(_conn: Any, direction: str, _version: Any, content_type: Any, msg_type: Any, _data: bytes) -> None:
            if direction == "read" and int(content_type) == 22 and int(msg_type) == _CERTIFICATE_REQUEST:
                self.certificate_requested = True

        with contextlib.suppress(AttributeError, TypeError):
            self._msg_callback = seen  # CPython's handshake tracer; without it only the alerts name the cause


def client_context(options: TlsOptions) -> WatchedContext:
    """The SSL context every connection to an https target uses, built as httpx would build its default one (so
    SSL_CERT_FILE and SSL_CERT_DIR keep working) plus --ca-bundle, --insecure and the client certificate."""
    context = WatchedContext(ssl.PROTOCOL_TLS_CLIENT)
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        cafile, capath = _trust_store(options)
        _load(lambda: context.load_verify_locations(cafile=cafile, capath=capath), "CA bundle", cafile or capath)
    if options.client_cert:
        cert, key = str(options.client_cert), str(options.client_key) if options.client_key else None
        _load(lambda: context.load_cert_chain(cert, key, password=_no_password), "client certificate", cert)
        context.client_certificate = options.client_cert.name
    context.watch_handshakes()
    return context


def check_server_files(cert: str, key: str, client_ca: str | None) -> None:
    """Read the reference server's certificate, key and client CA now, so that a bad file is one clear line rather
    than a server that silently fails to start."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _load(lambda: context.load_cert_chain(cert, key, password=_no_password), "TLS certificate", cert)
    if client_ca:
        _load(lambda: context.load_verify_locations(cafile=client_ca), "client CA", client_ca)


def _trust_store(options: TlsOptions) -> tuple[str | None, str | None]:
    if options.ca_bundle:
        return str(options.ca_bundle), None
    if options.ssl_cert_file:
        return options.ssl_cert_file, None
    if options.ssl_cert_dir:
        return None, options.ssl_cert_dir
    import certifi

    return certifi.where(), None


def _no_password() -> str:
    raise TlsSetupError("the private key is encrypted; give an unencrypted key (it stays on this machine)")


def _load(action: Any, what: str, path: str | None) -> None:
    if path and not os.path.exists(path):
        raise TlsSetupError(f"{what} not found: {path}")
    try:
        action()
    except TlsSetupError as exc:
        raise TlsSetupError(f"{what} {path}: {exc}") from None
    except ssl.SSLError as exc:
        detail = exc.reason or exc.strerror or str(exc)
        hint = " (does the key belong to the certificate?)" if "KEY_VALUES_MISMATCH" in str(detail) else ""
        raise TlsSetupError(f"{what} {path} cannot be used: {str(detail).lower().replace('_', ' ')}{hint}") from None
    except OSError as exc:
        raise TlsSetupError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------------------------------------------
# What the report says about the connection.


def proxy_for(url: str) -> str | None:
    """The proxy httpx takes from HTTPS_PROXY/HTTP_PROXY/ALL_PROXY for this URL (NO_PROXY applied), with any
    password in it masked; None when the connection is direct."""
    try:
        from httpx._utils import URLPattern, get_environment_proxies
    except ImportError:  # pragma: no cover - httpx moved its helpers; the run still uses the proxy
        return None
    import httpx

    target = httpx.URL(url)
    patterns = sorted(((URLPattern(key), value) for key, value in get_environment_proxies().items()), key=_first)
    for pattern, proxy in patterns:
        if pattern.matches(target):
            return _masked(proxy) if proxy else None
    return None


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _masked(url: str) -> str:
    """The proxy URL without its userinfo (user and password alike: both are the proxy's credential)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    netloc = f"{USERINFO_MASK}@{parts.netloc.rpartition('@')[2]}"  # the host as written: [::1] keeps its brackets
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def describe(options: TlsOptions, base_url: str) -> dict[str, Any]:
    """The report's ``transport`` block: TLS as configured, the proxy in use, and the warning --insecure earns."""
    https = base_url.startswith("https://")
    return {
        "tls": (
            {
                "verify": not options.insecure,
                "trust": options.trust,
                "client_certificate": str(options.client_cert) if options.client_cert else None,
            }
            if https
            else None
        ),
        "proxy": proxy_for(base_url),
        "warning": INSECURE_WARNING if https and options.insecure else None,
        "failure": None,
    }


# ---------------------------------------------------------------------------------------------------------------
# One plain cause for a failed handshake.


def failure_cause(
    exc: BaseException, context: ssl.SSLContext | None, host: str, *, dropped_after_handshake: bool
) -> str | None:
    """The one-line cause when ``exc`` is a TLS handshake (or proxy tunnel) the target side refused, else None.

    ``dropped_after_handshake``: the connection was closed before any answer, right after a handshake made on it,
    and the target never answered this run; with TLS 1.3 that is how many servers refuse a client certificate.
    """
    import httpx

    if isinstance(exc, httpx.ProxyError):
        return f"the proxy refused to open a tunnel to {host}: {exc}; check HTTPS_PROXY and NO_PROXY"
    error = _ssl_error(exc)
    requested = bool(getattr(context, "certificate_requested", False))
    presented = getattr(context, "client_certificate", None)
    prefix = f"TLS handshake with {host} failed: "
    if error is None:
        if "certificate verify failed" in str(exc).lower():
            return prefix + _verification_cause(None, str(exc), host)
        if dropped_after_handshake and requested:
            return _client_cert_refused(host, presented, "closed the connection after the handshake")
        return None
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = getattr(error, "verify_message", None) or str(error)
        return prefix + _verification_cause(getattr(error, "verify_code", None), detail, host)
    reason = str(getattr(error, "reason", None) or "")
    text = str(error)
    if reason in _CLIENT_CERT_ALERTS or "alert certificate required" in text:
        return _client_cert_refused(host, presented, f"answered with the alert '{_words(reason or text)}'")
    if reason == "SSLV3_ALERT_HANDSHAKE_FAILURE" and (requested or presented):
        return _client_cert_refused(host, presented, "answered with the alert 'handshake failure'")
    if isinstance(error, ssl.SSLEOFError) or reason == "UNEXPECTED_EOF_WHILE_READING":
        if requested or presented:
            return _client_cert_refused(host, presented, "closed the connection during the handshake")
        return prefix + "the server closed the connection during the handshake (a TLS port? a gateway that refuses us?)"
    if reason in _NOT_TLS:
        return prefix + f"the server does not speak TLS on that port ({_words(reason)}); is the target http://?"
    if reason in _NO_COMMON_VERSION:
        return prefix + f"no TLS version in common with the server ({_words(reason)})"
    return prefix + _words(reason) if reason else prefix + text


def _verification_cause(code: int | None, detail: str, host: str) -> str:
    text = detail.lower()
    if code in _UNKNOWN_CA or "issuer certificate" in text or "self-signed" in text or "self signed" in text:
        return (
            f"unknown CA: the server's certificate is signed by an authority this run does not trust ({detail}); "
            "give that CA's certificate with --ca-bundle FILE"
        )
    if code in _NAME_MISMATCH or "mismatch" in text:
        return f"hostname mismatch: the server's certificate is not valid for {host.rsplit(':', 1)[0]} ({detail})"
    if code == _EXPIRED or "has expired" in text:
        return f"expired: the server's certificate has expired ({detail})"
    if code == _NOT_YET_VALID or "not yet valid" in text:
        return f"not yet valid: the server's certificate is not valid yet; check this machine's clock ({detail})"
    if code == _REVOKED:
        return f"revoked: the server's certificate has been revoked ({detail})"
    return f"the server's certificate was rejected: {detail}"


def _client_cert_refused(host: str, presented: str | None, how: str) -> str:
    if presented:
        return (
            f"client certificate refused: {host} {how} and did not accept {presented}; is it signed by a CA the "
            "gateway trusts, and still valid?"
        )
    return (
        f"client certificate refused: {host} asks for a client certificate and none was given ({how}); give "
        "--client-cert FILE and --client-key FILE"
    )


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        for arg in getattr(current, "args", ()):
            if isinstance(arg, ssl.SSLError):
                return arg
        current = current.__cause__ or current.__context__
    return None


def _words(reason: str) -> str:
    for prefix in ("TLSV13_ALERT_", "TLSV1_ALERT_", "SSLV3_ALERT_"):
        reason = reason.removeprefix(prefix)
    return reason.lower().replace("_", " ")


def tls_on_plain_url(base_url: str, timeout: float) -> str | None:
    """The one-line cause when an ``http://`` target that never answered speaks TLS on its port (the reverse of
    "does not speak TLS"), else None. A TLS port read as plain HTTP mostly closes the connection without a byte, which
    alone reads as "could not be reached"; one handshake, verifying nothing and sending nothing after it, tells the
    two apart. Any answer in TLS counts, an alert included (a gateway demanding a client certificate speaks TLS)."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    host, port = parts.hostname, parts.port or 80
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=None),
        ):
            pass
    except ssl.SSLError as exc:
        reason = str(getattr(exc, "reason", ""))
        if isinstance(exc, ssl.SSLEOFError) or reason in _NOT_TLS or reason == "UNEXPECTED_EOF_WHILE_READING":
            return None
    except OSError:
        return None
    netloc = parts.netloc.rpartition("@")[2]
    return f"the target answered with TLS: {netloc} speaks TLS on that port, not plain HTTP; is the target https://?"
