"""Runs over HTTPS, as staging really is: the reference behind a private CA, demanding client certificates, a gateway
that answers with TLS alerts, and corporate proxies. Certificates come from trustme, made here; every server is on
127.0.0.1.
"""

from __future__ import annotations

import datetime
import json
import select
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.engine.client import TargetClient, TransportFailure
from conformance.reference.app import create_app
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store
from conformance.wire.tls import INSECURE_WARNING, TlsOptions, client_context, tls_on_plain_url
from tests.conftest import clean_env

#: Many runs of one seed: their schemathesis cases are drawn once a session (the drawing cache, tests/conftest.py).
pytestmark = pytest.mark.e2e

PROJECT = "p-tls"
LOOPBACK = "127.0.0.1"
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class Pki:
    """A private CA with the reference's certificates, and another CA that signs the CI's client certificate."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ca = trustme.CA()
        self.client_ca = trustme.CA()
        self.ca_file = self.write("ca.pem", self.ca.cert_pem)
        self.client_ca_file = self.write("client-ca.pem", self.client_ca.cert_pem)
        self.server = self.leaf("server", self.ca.issue_cert(LOOPBACK, "localhost"))
        self.wrong_name = self.leaf("wrong-name", self.ca.issue_cert("dcs.example.com"))
        self.expired = self.leaf(
            "expired", self.ca.issue_cert(LOOPBACK, not_after=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        )
        self.client = self.leaf("client", self.client_ca.issue_cert("ci-runner@example.com"))
        self.stranger = self.leaf("stranger", trustme.CA().issue_cert("someone@example.com"))

    def write(self, name: str, blob: trustme.Blob) -> str:
        path = self.root / name
        blob.write_to_path(str(path))
        return str(path)

    def leaf(self, name: str, cert: trustme.LeafCert) -> tuple[str, str]:
        chain = self.root / f"{name}.crt"
        for index, blob in enumerate(cert.cert_chain_pems):
            blob.write_to_path(str(chain), append=index > 0)
        return str(chain), self.write(f"{name}.key", cert.private_key_pem)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@contextmanager
def https_reference(pki: Pki, leaf: tuple[str, str], *, client_ca: str | None = None) -> Iterator[BackgroundServer]:
    store, _ = seed_store(seed=4)
    cert, key = leaf
    with BackgroundServer(create_app(store, projects=[PROJECT]), tls_cert=cert, tls_key=key, client_ca=client_ca) as s:
        yield s


@pytest.fixture(scope="module")
def reference(pki: Pki) -> Iterator[BackgroundServer]:
    with https_reference(pki, pki.server) as server:
        yield server


@pytest.fixture(scope="module")
def mutual(pki: Pki) -> Iterator[BackgroundServer]:
    """The reference demanding a client certificate signed by the client CA, as a gateway in front of staging."""
    with https_reference(pki, pki.server, client_ca=pki.client_ca_file) as server:
        yield server


def run(tmp_path: Path, server: BackgroundServer, **flags: Any) -> Any:
    settings = resolve(
        {
            "base_url": server.base_url,
            "project_id": PROJECT,
            "report_dir": str(tmp_path / "report"),
            "seed": 2,
            "max_examples": 5,
            **flags,
        },
        env={},
    )
    return execute(settings, progress=lambda _: None)


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env("SSL_CERT_", *PROXY_VARIABLES)
    return subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--project-id", PROJECT, "--seed", "2", "--max-examples", "5",
         "--report-dir", str(tmp_path / "report"), *args],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in result.stderr + result.stdout
    return [line for line in result.stderr.splitlines() if line.startswith("dcs-conformance run:")]


def report_of(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "report" / "report.json").read_text())


# -- private CA --------------------------------------------------------------------------------------------------


def test_private_ca_given_with_ca_bundle_is_conformant(tmp_path: Path, pki: Pki, reference: BackgroundServer) -> None:
    outcome = run(tmp_path, reference, ca_bundle=pki.ca_file)
    assert outcome.report["verdict"] == "conformant", outcome.report["verdict_reason"]
    assert outcome.exit_code == 0
    assert outcome.report["transport"]["tls"] == {
        "verify": True,
        "trust": f"--ca-bundle {pki.ca_file}",
        "client_certificate": None,
    }
    assert outcome.report["transport"]["warning"] is None
    assert f"verified against --ca-bundle {pki.ca_file}" in (outcome.report_dir / "index.html").read_text()


def test_private_ca_unknown_to_the_run_is_exit_3_with_one_line_naming_the_unknown_ca(
    tmp_path: Path, reference: BackgroundServer
) -> None:
    result = cli(tmp_path, "--base-url", reference.base_url)
    assert result.returncode == 3
    [line] = error_lines(result)
    assert "unknown CA" in line
    assert "--ca-bundle" in line
    report = report_of(tmp_path)
    assert report["verdict"] == "error"
    assert "unknown CA" in report["error"]
    assert "unknown CA" in report["transport"]["failure"]
    assert report["stats"]["requests"] == 0


def test_ssl_cert_file_is_honoured_when_no_ca_bundle_is_given(
    tmp_path: Path, pki: Pki, reference: BackgroundServer
) -> None:
    settings = resolve(
        {"base_url": reference.base_url, "project_id": PROJECT, "report_dir": str(tmp_path), "max_examples": 5},
        env={"SSL_CERT_FILE": pki.ca_file},
    )
    outcome = execute(settings, progress=lambda _: None)
    assert outcome.report["verdict"] == "conformant", outcome.report["verdict_reason"]
    assert outcome.report["transport"]["tls"]["trust"] == f"SSL_CERT_FILE {pki.ca_file}"


def test_insecure_is_conformant_and_the_warning_is_on_the_terminal_in_report_json_and_in_the_html_banner(
    tmp_path: Path, reference: BackgroundServer
) -> None:
    result = cli(tmp_path, "--base-url", reference.base_url, "--insecure")
    assert result.returncode == 0, result.stderr
    assert "verdict: conformant" in result.stdout
    assert f"WARNING: {INSECURE_WARNING}" in result.stderr
    report = report_of(tmp_path)
    assert report["transport"]["warning"] == INSECURE_WARNING
    assert report["transport"]["tls"]["verify"] is False
    assert "--insecure" in report["command"]
    page = (tmp_path / "report" / "index.html").read_text()
    banner = page[page.index('<header class="banner') : page.index("</header>")]
    assert 'id="transport-warning"' in banner
    assert "NOT verified" in banner


def test_insecure_never_certifies(tmp_path: Path, reference: BackgroundServer) -> None:
    result = cli(tmp_path, "--base-url", reference.base_url, "--insecure", "--certify")
    assert result.returncode == 2
    assert error_lines(result) == [
        "dcs-conformance run: error: --insecure cannot certify: a certification run must verify the target's "
        "certificate"
    ]
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize(("leaf", "named"), [("wrong_name", "hostname mismatch"), ("expired", "expired")])
def test_a_certificate_for_another_name_or_out_of_date_ends_the_run_naming_it(
    tmp_path: Path, pki: Pki, leaf: str, named: str
) -> None:
    with https_reference(pki, getattr(pki, leaf)) as server:
        outcome = run(tmp_path, server, ca_bundle=pki.ca_file)
    assert outcome.exit_code == 3
    assert f"failed: {named}" in outcome.report["error"]


def test_an_http_target_named_https_is_told_apart(tmp_path: Path, pki: Pki) -> None:
    store, _ = seed_store(seed=4)
    with BackgroundServer(create_app(store, projects=[PROJECT])) as plain:
        client = TargetClient(plain.base_url.replace("http://", "https://"), PROJECT,
                              ssl_context=client_context(TlsOptions(ca_bundle=Path(pki.ca_file))))  # fmt: skip
        with client, pytest.raises(TransportFailure, match="does not speak TLS"):
            client.post_json({"migration_tasks": []})


@pytest.mark.parametrize("fixture", ["reference", "mutual"])
def test_an_https_target_named_http_is_told_it_answered_with_tls(
    tmp_path: Path, fixture: str, request: pytest.FixtureRequest
) -> None:
    """The reverse of the mistake above: a TLS port closes a plain request without a byte, which alone reads as
    "could not be reached"; the run says the target answered with TLS (a gateway demanding a client certificate too),
    exit 3, in the error line and report.json's transport failure."""
    server: BackgroundServer = request.getfixturevalue(fixture)
    result = cli(tmp_path, "--base-url", server.base_url.replace("https://", "http://"))
    assert result.returncode == 3
    [line] = error_lines(result)
    assert line == (
        f"dcs-conformance run: the target answered with TLS: 127.0.0.1:{server.port} speaks TLS on that port, not "
        "plain HTTP; is the target https://?"
    )
    assert report_of(tmp_path)["transport"]["failure"] == line.removeprefix("dcs-conformance run: ")


def test_a_plain_port_that_closes_without_a_byte_is_not_called_tls() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def close_each() -> None:
            for _ in range(2):
                connection, _ = listener.accept()
                connection.close()

        closer = threading.Thread(target=close_each, daemon=True)
        closer.start()
        assert tls_on_plain_url(f"http://127.0.0.1:{port}", 5.0) is None
        assert tls_on_plain_url(f"https://127.0.0.1:{port}", 5.0) is None  # not asked: https is judged as TLS
        socket.create_connection(("127.0.0.1", port)).close()
        closer.join(timeout=5)


# -- client certificates ------------------------------------------------------------------------------------------


def test_client_certificate_accepted_by_the_gateway_is_conformant(
    tmp_path: Path, pki: Pki, mutual: BackgroundServer
) -> None:
    cert, key = pki.client
    outcome = run(tmp_path, mutual, ca_bundle=pki.ca_file, client_cert=cert, client_key=key)
    assert outcome.report["verdict"] == "conformant", outcome.report["verdict_reason"]
    assert outcome.report["transport"]["tls"]["client_certificate"] == cert


def test_without_a_client_certificate_the_run_is_exit_3_naming_the_refused_client_certificate(
    tmp_path: Path, pki: Pki, mutual: BackgroundServer
) -> None:
    result = cli(tmp_path, "--base-url", mutual.base_url, "--ca-bundle", pki.ca_file)
    assert result.returncode == 3
    [line] = error_lines(result)
    assert "client certificate refused" in line
    assert "--client-cert" in line
    assert "client certificate refused" in report_of(tmp_path)["error"]


def test_a_client_certificate_from_a_ca_the_gateway_does_not_trust_is_named_refused(
    tmp_path: Path, pki: Pki, mutual: BackgroundServer
) -> None:
    cert, key = pki.stranger
    outcome = run(tmp_path, mutual, ca_bundle=pki.ca_file, client_cert=cert, client_key=key)
    assert outcome.exit_code == 3
    assert "client certificate refused" in outcome.report["error"]
    assert "stranger.crt" in outcome.report["error"]


def test_with_tls_1_2_the_refused_client_certificate_is_named_too(pki: Pki, mutual: BackgroundServer) -> None:
    """TLS 1.2 refuses during the handshake (a closed connection), TLS 1.3 after it (see the CLI test above)."""
    context = client_context(TlsOptions(ca_bundle=Path(pki.ca_file)))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with TargetClient(mutual.base_url, PROJECT, ssl_context=context) as client:
        with pytest.raises(TransportFailure, match="client certificate refused"):
            client.post_json({"migration_tasks": []})
        assert client.sent == 0


@contextmanager
def alerting_gateway(pki: Pki) -> Iterator[str]:
    """A gateway that refuses a missing client certificate the way OpenSSL servers do: with a TLS alert."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*pki.server)
    context.load_verify_locations(cafile=pki.client_ca_file)
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server((LOOPBACK, 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            if not select.select([listener], [], [], 0.05)[0]:
                continue
            conn, _ = listener.accept()
            with conn:
                try:
                    with context.wrap_socket(conn, server_side=True) as tls_conn:
                        tls_conn.recv(1024)
                except (ssl.SSLError, OSError):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://{LOOPBACK}:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_a_gateway_alert_about_the_missing_client_certificate_is_named(pki: Pki) -> None:
    context = client_context(TlsOptions(ca_bundle=Path(pki.ca_file)))
    with (
        alerting_gateway(pki) as url,
        TargetClient(url, PROJECT, ssl_context=context) as client,
        pytest.raises(TransportFailure, match="client certificate refused") as raised,
    ):
        client.post_json({"migration_tasks": []})
    assert "alert 'certificate required'" in str(raised.value)


# -- proxies -----------------------------------------------------------------------------------------------------


@contextmanager
def connect_proxy(refuse: bool = False) -> Iterator[dict[str, Any]]:
    """A CONNECT proxy on loopback, as corporate proxies are reached; ``refuse`` answers 407 instead of tunnelling."""
    listener = socket.create_server((LOOPBACK, 0))
    seen: dict[str, Any] = {"tunnels": [], "url": f"http://{LOOPBACK}:{listener.getsockname()[1]}"}
    stop = threading.Event()

    def pipe(a: socket.socket, b: socket.socket) -> None:
        with a, b:
            while True:
                ready, _, _ = select.select([a, b], [], [], 5)
                if not ready:
                    return
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)

    def serve() -> None:
        while not stop.is_set():
            if not select.select([listener], [], [], 0.05)[0]:
                continue
            conn, _ = listener.accept()
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
            target = head.split(b" ")[1].decode()
            seen["tunnels"].append(target)
            if refuse:
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                conn.close()
                continue
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            for end in (conn, upstream):  # no Nagle delay on a relay of small writes
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture(autouse=True)
def no_proxy_set(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Loopback servers are reached directly whatever the machine's proxy settings; proxy tests set their own."""
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_https_proxy_from_the_environment_carries_the_run_and_the_report_names_it(
    tmp_path: Path, pki: Pki, reference: BackgroundServer, no_proxy_set: pytest.MonkeyPatch
) -> None:
    with connect_proxy() as proxy:
        no_proxy_set.setenv("HTTPS_PROXY", proxy["url"])
        outcome = run(tmp_path, reference, ca_bundle=pki.ca_file)
    assert outcome.report["verdict"] == "conformant", outcome.report["verdict_reason"]
    assert outcome.report["transport"]["proxy"] == proxy["url"]
    assert proxy["tunnels"]
    assert set(proxy["tunnels"]) == {f"{LOOPBACK}:{reference.port}"}


def test_no_proxy_sends_the_run_direct(
    tmp_path: Path, pki: Pki, reference: BackgroundServer, no_proxy_set: pytest.MonkeyPatch
) -> None:
    with connect_proxy() as proxy:
        no_proxy_set.setenv("HTTPS_PROXY", proxy["url"])
        no_proxy_set.setenv("NO_PROXY", LOOPBACK)
        outcome = run(tmp_path, reference, ca_bundle=pki.ca_file)
    assert outcome.report["verdict"] == "conformant"
    assert outcome.report["transport"]["proxy"] is None
    assert proxy["tunnels"] == []


def test_a_proxy_that_refuses_the_tunnel_ends_the_run_naming_it(
    tmp_path: Path, pki: Pki, reference: BackgroundServer, no_proxy_set: pytest.MonkeyPatch
) -> None:
    with connect_proxy(refuse=True) as proxy:
        no_proxy_set.setenv("HTTPS_PROXY", proxy["url"])
        outcome = run(tmp_path, reference, ca_bundle=pki.ca_file)
    assert outcome.exit_code == 3
    assert "proxy refused to open a tunnel" in outcome.report["error"]
    assert "407" in outcome.report["error"]
    assert len(proxy["tunnels"]) == 1


# -- serve over HTTPS from the command line ---------------------------------------------------------------------


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance", "serve", "--port", "0", *args]


def test_cli_serve_over_https_demanding_client_certificates_answers_only_a_client_with_one(pki: Pki) -> None:
    cert, key = pki.server
    process = subprocess.Popen(
        serve_command("--tls-cert", cert, "--tls-key", key, "--client-ca", pki.client_ca_file),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        assert url.startswith("https://127.0.0.1:")
        banner = [process.stdout.readline() for _ in range(4)]
        assert any("client certificates required" in line for line in banner), banner
        with_cert = client_context(TlsOptions(ca_bundle=Path(pki.ca_file), client_cert=Path(pki.client[0]),
                                              client_key=Path(pki.client[1])))  # fmt: skip
        with TargetClient(url, PROJECT, ssl_context=with_cert) as client:
            assert client.post_json({"migration_tasks": ["no-such-task"]}).status == 200
        without = client_context(TlsOptions(ca_bundle=Path(pki.ca_file)))
        with (
            TargetClient(url, PROJECT, ssl_context=without) as bare,
            pytest.raises(TransportFailure, match="client certificate refused"),
        ):
            bare.post_json({"migration_tasks": ["no-such-task"]})
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--client-ca", "ca"], "--client-ca needs --tls-cert FILE"),
        (["--tls-cert", "server_cert", "--tls-key", "client_key"], "key values mismatch"),
        (["--tls-cert", "missing.pem"], "TLS certificate not found: missing.pem"),
    ],
)
def test_cli_serve_with_unusable_tls_files_exits_2_with_one_line(pki: Pki, args: list[str], named: str) -> None:
    files = {"ca": pki.ca_file, "server_cert": pki.server[0], "client_key": pki.client[1]}
    done = subprocess.run(serve_command(*[files.get(arg, arg) for arg in args]), capture_output=True, text=True,
                          timeout=30)  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("dcs-conformance serve: error:")
    assert named in line
