"""conformance.wire.tls and the TLS settings: one plain cause for every refused handshake, files checked before anything
is sent, and TLS options only where they mean something.

Certificates are made with trustme, locally; nothing here touches the network.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import respx
import trustme

from conformance.config.settings import SettingsError, resolve
from conformance.engine.client import TargetClient, TargetUnreachable, TransportFailure
from conformance.wire.tls import (
    INSECURE_WARNING,
    TlsOptions,
    TlsSetupError,
    WatchedContext,
    check_server_files,
    client_context,
    describe,
    failure_cause,
    options_from,
    proxy_for,
)

HOST = "staging.example.com:443"
BASE = "https://" + HOST


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("staging.example.com")
    client = trustme.CA().issue_cert("ci@example.com")
    files = {
        "ca": root / "ca.pem",
        "server_cert": root / "server.crt",
        "server_key": root / "server.key",
        "client_cert": root / "client.crt",
        "client_key": root / "client.key",
        "not_pem": root / "notes.txt",
    }
    ca.cert_pem.write_to_path(str(files["ca"]))
    server.cert_chain_pems[0].write_to_path(str(files["server_cert"]))
    server.private_key_pem.write_to_path(str(files["server_key"]))
    client.cert_chain_pems[0].write_to_path(str(files["client_cert"]))
    client.private_key_pem.write_to_path(str(files["client_key"]))
    files["not_pem"].write_text("not a certificate\n")
    return {name: str(path) for name, path in files.items()}


def verification_error(code: int, message: str) -> httpx.ConnectError:
    """What httpx raises when the server's certificate fails verification: the ssl error is its cause."""
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}")
    error.verify_code = code
    error.verify_message = message
    wrapped = httpx.ConnectError(str(error))
    wrapped.__cause__ = error
    return wrapped


def alert(reason: str, error_type: type[ssl.SSLError] = ssl.SSLError) -> httpx.ConnectError:
    error = error_type(1, f"[SSL: {reason}] {reason.lower().replace('_', ' ')} (_ssl.c:1006)")
    error.reason = reason
    wrapped = httpx.ConnectError(str(error))
    wrapped.__cause__ = error
    return wrapped


def cause(exc: BaseException, context: ssl.SSLContext | None = None, *, dropped: bool = False) -> str | None:
    return failure_cause(exc, context, HOST, dropped_after_handshake=dropped)


# -- one plain cause per failure --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message", "named"),
    [
        (20, "unable to get local issuer certificate", "unknown CA"),
        (19, "self-signed certificate in certificate chain", "unknown CA"),
        (18, "self-signed certificate", "unknown CA"),
        (62, "Hostname mismatch, certificate is not valid for 'staging.example.com'.", "hostname mismatch"),
        (64, "IP address mismatch, certificate is not valid for '10.0.0.1'.", "hostname mismatch"),
        (10, "certificate has expired", "expired"),
        (9, "certificate is not yet valid", "not yet valid"),
    ],
)
def test_a_rejected_server_certificate_is_named_by_its_cause(code: int, message: str, named: str) -> None:
    line = cause(verification_error(code, message))
    assert line is not None
    assert line.startswith(f"TLS handshake with {HOST} failed: {named}")
    assert message in line
    assert "\n" not in line


def test_unknown_ca_tells_how_to_trust_it() -> None:
    assert "--ca-bundle" in (cause(verification_error(20, "unable to get local issuer certificate")) or "")


def test_the_message_alone_is_enough_when_the_ssl_error_is_not_chained() -> None:
    bare = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired")
    assert "expired" in (cause(bare) or "")


@pytest.mark.parametrize(
    "reason",
    [
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    ],
)
def test_an_alert_about_the_client_certificate_names_the_refused_client_certificate(reason: str) -> None:
    line = cause(alert(reason)) or ""
    assert line.startswith("client certificate refused:")
    assert "--client-cert" in line


def test_a_refused_client_certificate_that_was_given_is_named_by_its_file(pki: dict[str, str]) -> None:
    context = client_context(TlsOptions(client_cert=Path(pki["client_cert"]), client_key=Path(pki["client_key"])))
    line = cause(alert("SSLV3_ALERT_BAD_CERTIFICATE"), context) or ""
    assert line.startswith("client certificate refused:")
    assert "client.crt" in line


def test_a_handshake_failure_alert_is_a_client_certificate_refusal_only_when_one_was_asked_for() -> None:
    context = WatchedContext(ssl.PROTOCOL_TLS_CLIENT)
    assert "client certificate" not in (cause(alert("SSLV3_ALERT_HANDSHAKE_FAILURE"), context) or "")
    context.certificate_requested = True
    assert (cause(alert("SSLV3_ALERT_HANDSHAKE_FAILURE"), context) or "").startswith("client certificate refused")


def test_a_connection_closed_during_the_handshake_after_a_certificate_request_is_a_refused_client_certificate() -> None:
    context = WatchedContext(ssl.PROTOCOL_TLS_CLIENT)
    eof = alert("UNEXPECTED_EOF_WHILE_READING", ssl.SSLEOFError)
    assert "closed the connection during the handshake" in (cause(eof, context) or "")
    context.certificate_requested = True
    assert (cause(eof, context) or "").startswith("client certificate refused")


def test_a_drop_right_after_the_handshake_names_the_client_certificate_only_when_the_server_asked_for_one() -> None:
    """TLS 1.3: the client finishes its handshake before the server judges the certificate, so a refusal often
    arrives as a connection closed without an answer."""
    dropped = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    context = WatchedContext(ssl.PROTOCOL_TLS_CLIENT)
    assert cause(dropped, context, dropped=True) is None
    context.certificate_requested = True
    assert cause(dropped, context, dropped=False) is None
    assert (cause(dropped, context, dropped=True) or "").startswith("client certificate refused")


def test_plain_http_on_a_tls_port_and_ordinary_failures_are_told_apart() -> None:
    assert "does not speak TLS" in (cause(alert("WRONG_VERSION_NUMBER")) or "")
    assert cause(httpx.ConnectError("[Errno 111] Connection refused")) is None
    assert cause(httpx.ReadTimeout("timed out")) is None


def test_a_proxy_that_refuses_the_tunnel_is_named() -> None:
    line = cause(httpx.ProxyError("407 Proxy Authentication Required")) or ""
    assert "proxy refused" in line
    assert "407" in line


# -- the client ends the run at once ----------------------------------------------------------------------------


@respx.mock
def test_a_refused_handshake_ends_the_run_on_the_first_try_and_costs_no_request() -> None:
    route = respx.route(method="POST").mock(
        side_effect=verification_error(20, "unable to get local issuer certificate")
    )
    client = TargetClient(BASE, "proj", sleep=lambda _: None)
    with pytest.raises(TransportFailure, match="unknown CA") as raised:
        client.post(b'{"migration_tasks": []}')
    assert isinstance(raised.value, TargetUnreachable)
    assert route.call_count == 1
    assert client.sent == 0
    with pytest.raises(TransportFailure):
        client.post(b'{"migration_tasks": []}')
    assert route.call_count == 1


# -- options and files ------------------------------------------------------------------------------------------


def test_the_ca_bundle_is_trusted_instead_of_the_public_authorities(pki: dict[str, str]) -> None:
    context = client_context(TlsOptions(ca_bundle=Path(pki["ca"])))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert len(context.get_ca_certs()) == 1


def test_ssl_cert_file_keeps_working_when_no_ca_bundle_is_given(pki: dict[str, str]) -> None:
    options = options_from(
        ca_bundle=None, insecure=False, client_cert=None, client_key=None, env={"SSL_CERT_FILE": pki["ca"]}
    )
    assert options.trust == f"SSL_CERT_FILE {pki['ca']}"
    assert len(client_context(options).get_ca_certs()) == 1


def test_insecure_verifies_nothing_and_says_so() -> None:
    context = client_context(TlsOptions(insecure=True))
    assert context.verify_mode == ssl.CERT_NONE
    assert not context.check_hostname
    transport = describe(TlsOptions(insecure=True), BASE)
    assert transport["warning"] == INSECURE_WARNING
    assert transport["tls"]["verify"] is False


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"ca_bundle": "missing.pem"}, "CA bundle not found"),
        ({"ca_bundle": "not_pem"}, "cannot be used"),
        ({"client_cert": "client_cert", "client_key": "server_key"}, "does the key belong to the certificate?"),
        ({"client_cert": "client_cert"}, "cannot be used"),
        ({"client_key": "client_key"}, "give --client-cert"),
        ({"ca_bundle": "ca", "insecure": True}, "give one"),
    ],
)
def test_unusable_tls_options_are_named_before_anything_is_sent(
    pki: dict[str, str], options: dict[str, object], named: str
) -> None:
    given = {key: pki.get(str(value), value) if key != "insecure" else value for key, value in options.items()}
    kwargs = {"ca_bundle": None, "insecure": False, "client_cert": None, "client_key": None, **given}
    with pytest.raises(ValueError, match=named):
        options_from(env={}, **kwargs)  # type: ignore[arg-type]


def test_the_reference_server_files_are_checked_before_it_starts(pki: dict[str, str]) -> None:
    check_server_files(pki["server_cert"], pki["server_key"], pki["ca"])
    with pytest.raises(TlsSetupError, match="key values mismatch"):
        check_server_files(pki["server_cert"], pki["client_key"], None)
    with pytest.raises(TlsSetupError, match="client CA"):
        check_server_files(pki["server_cert"], pki["server_key"], pki["not_pem"])


# -- settings ---------------------------------------------------------------------------------------------------


def https_target(**flags: object) -> dict[str, object]:
    return {"base_url": BASE, "project_id": "p", **flags}


def test_tls_flags_reach_the_settings(pki: dict[str, str]) -> None:
    settings = resolve(
        https_target(ca_bundle=pki["ca"], client_cert=pki["client_cert"], client_key=pki["client_key"]), env={}
    )
    assert settings.tls.ca_bundle == Path(pki["ca"])
    assert settings.tls.client_cert == Path(pki["client_cert"])


def test_dcs_ca_bundle_is_read_from_the_environment(pki: dict[str, str]) -> None:
    assert resolve(https_target(), env={"DCS_CA_BUNDLE": pki["ca"]}).tls.ca_bundle == Path(pki["ca"])


def test_dcs_ca_bundle_is_not_needed_by_an_http_or_embedded_run() -> None:
    env = {"DCS_CA_BUNDLE": "/nowhere/ca.pem"}
    assert resolve({}, env=env).tls == TlsOptions()
    assert resolve({"base_url": "http://t.test", "project_id": "p"}, env=env).tls == TlsOptions()


@pytest.mark.parametrize("flag", ["insecure", "ca_bundle", "client_cert"])
def test_tls_flags_for_a_target_that_is_not_https_are_a_mistake(flag: str) -> None:
    with pytest.raises(SettingsError, match="https:// --base-url"):
        resolve({"base_url": "http://t.test", "project_id": "p", flag: True if flag == "insecure" else "x.pem"}, env={})


def test_insecure_never_certifies() -> None:
    with pytest.raises(SettingsError, match="--insecure cannot certify"):
        resolve(https_target(insecure=True, certify=True), env={})


def test_tls_settings_come_from_the_config_file_too(tmp_path: Path, pki: dict[str, str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'ca_bundle = "{pki["ca"]}"\nclient_cert = "{pki["client_cert"]}"\nclient_key = "{pki["client_key"]}"\n'
    )
    settings = resolve(https_target(config=str(config)), env={})
    assert settings.tls.client_key == Path(pki["client_key"])


# -- proxies ----------------------------------------------------------------------------------------------------


def test_the_proxy_is_the_one_httpx_takes_from_the_environment_with_its_userinfo_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://ci:s3cret@proxy.corp:3128")
    assert proxy_for(BASE) == "http://***@proxy.corp:3128", "the user name is half of the credential"
    monkeypatch.setenv("HTTPS_PROXY", "http://ci:s3cret@[fd00::3128]:3128")
    assert proxy_for(BASE) == "http://***@[fd00::3128]:3128", "an IPv6 proxy keeps its brackets"
    monkeypatch.setenv("HTTPS_PROXY", "http://token-only@proxy.corp:3128")
    assert proxy_for(BASE) == "http://***@proxy.corp:3128"
    monkeypatch.setenv("HTTPS_PROXY", "http://ci:s3cret@proxy.corp:3128")
    assert proxy_for("http://plain.example.com") is None
    monkeypatch.setenv("NO_PROXY", "staging.example.com")
    assert proxy_for(BASE) is None
