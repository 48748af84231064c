"""TLS trust (ca-cert) and proxy variables, with real sockets on loopback."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_helpers import base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.fixtures import DEMO_TOKEN
from tests.fake_api.server import serve_fake
from tests.required_tools import needs

PROD = ["--workspace", "acme", "--project", "web-app", "--environment", "production"]

pytestmark = needs("openssl")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def https_url(fake_api: FakeEnkryptify, certificate: tuple[Path, Path]) -> Iterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with serve_fake(fake_api, tls=context) as url:
        yield url


def test_untrusted_certificate_fails_closed(https_url: str) -> None:
    result = run_cli(
        ["check", *PROD, "--retries", "1"], env=base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=https_url)
    )
    assert result.returncode == 5, result.stderr
    assert "ca-cert" in result.stderr  # the hint names the way out


def test_ca_cert_as_path_is_trusted(https_url: str, certificate: tuple[Path, Path]) -> None:
    env = base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=https_url)
    result = run_cli(["check", *PROD, "--ca-cert", str(certificate[0])], env=env)
    assert result.returncode == 0, result.stderr
    assert "8 secret(s)" in result.stdout


def test_ca_cert_as_pem_text_from_env(https_url: str, certificate: tuple[Path, Path]) -> None:
    env = base_env(
        ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=https_url, ENKRYPTIFY_CA_CERT=certificate[0].read_text()
    )
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 0, result.stderr


def test_https_proxy_variable_is_honoured() -> None:
    """A loopback 'proxy' records the CONNECT line and refuses it: the client must have used it."""
    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            seen.append(conn.recv(4096))
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    env = base_env(
        ENKRYPTIFY_TOKEN=DEMO_TOKEN,
        ENKRYPTIFY_API_URL="https://api.enkryptify.test",
        HTTPS_PROXY=f"http://127.0.0.1:{port}",
    )
    result = run_cli(["check", *PROD, "--retries", "1"], env=env)
    thread.join(timeout=10)
    listener.close()
    assert result.returncode == 5, result.stderr
    assert seen and seen[0].startswith(b"CONNECT api.enkryptify.test:443 ")
    assert DEMO_TOKEN.encode() not in seen[0]  # the token travels inside the tunnel only


# --- what a failed connection is called (issue 14), proxies and key logging (issue 11 §3) ------------------


class CountingTlsListener:
    """A TLS port that counts connections and completes no handshake the client would accept."""

    def __init__(self, certificate: tuple[Path, Path]) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*certificate)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


def test_untrusted_certificate_is_named_with_its_reason_and_not_retried(certificate: tuple[Path, Path]) -> None:
    tls = CountingTlsListener(certificate)
    try:
        env = base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=f"https://127.0.0.1:{tls.port}")
        result = run_cli(["check", *PROD, "--retries", "4"], env=env)
    finally:
        tls.close()
    assert result.returncode == 5, result.stderr
    assert "failed: TLS certificate verify failed: self-signed certificate" in result.stderr
    for fragment in ("ca-cert", "SSL_CERT_FILE", "TLS-intercepting proxy", "Not retried"):
        assert fragment in result.stderr
    assert tls.connections == 1
    assert "could not connect" not in result.stderr


def test_a_certificate_for_another_host_says_so(https_url: str, certificate: tuple[Path, Path]) -> None:
    url = https_url.replace("127.0.0.1", "localhost")  # the certificate names IP 127.0.0.1 only
    env = base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=url, ENKRYPTIFY_CA_CERT=str(certificate[0]))
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 5, result.stderr
    assert "certificate verify failed: Hostname mismatch" in result.stderr


def test_dns_failure_is_named() -> None:
    env = base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL="https://api.enkryptify.invalid")
    result = run_cli(["check", *PROD, "--retries", "2"], env=env)
    assert result.returncode == 5, result.stderr
    assert "failed after 2 attempt(s): cannot resolve host api.enkryptify.invalid (DNS lookup failed)" in result.stderr
    assert "host name in api-url" in result.stderr


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def test_connection_refused_is_named() -> None:
    port = free_port()
    env = base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=f"http://127.0.0.1:{port}")
    result = run_cli(["check", *PROD, "--retries", "2"], env=env)
    assert result.returncode == 5, result.stderr
    assert f"failed after 2 attempt(s): connection refused by 127.0.0.1:{port}." in result.stderr
    assert "host and port in api-url" in result.stderr


def test_timeout_is_named(fake_server: tuple[FakeEnkryptify, str]) -> None:
    from tests.fake_api.faults import Fault

    fake, url = fake_server
    fake.inject("*", "/v1/*", Fault.delay(3), sticky=True)
    env = base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=url)
    result = run_cli(["check", *PROD, "--retries", "1", "--timeout", "0.5", "--auth", "direct"], env=env)
    assert result.returncode == 5, result.stderr
    assert "timed out after 1 attempt(s): timed out waiting for the answer" in result.stderr
    assert "raise timeout" in result.stderr


class RecordingProxy:
    """A loopback 'proxy' that records what it receives and answers each request with ``answer``."""

    def __init__(self, answer: bytes = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"):
        self.answer = answer
        self.seen: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self.seen.append(conn.recv(65536))
                    conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


def test_plain_http_to_loopback_never_goes_through_a_proxy(fake_server: tuple[FakeEnkryptify, str]) -> None:
    """Before: HTTP_PROXY/ALL_PROXY received the request, token and all, in clear text."""
    _fake, url = fake_server
    proxy = RecordingProxy()
    try:
        env = base_env(
            ENKRYPTIFY_TOKEN=DEMO_TOKEN,
            ENKRYPTIFY_API_URL=url,
            HTTP_PROXY=f"http://127.0.0.1:{proxy.port}",
            http_proxy=f"http://127.0.0.1:{proxy.port}",
            ALL_PROXY=f"http://127.0.0.1:{proxy.port}",
        )
        result = run_cli(["check", *PROD, "--retries", "1"], env=env)
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr
    assert proxy.seen == []


def test_proxy_refusing_the_tunnel_is_named_without_its_password() -> None:
    proxy = RecordingProxy()
    try:
        env = base_env(
            ENKRYPTIFY_TOKEN=DEMO_TOKEN,
            ENKRYPTIFY_API_URL="https://api.enkryptify.test",
            HTTPS_PROXY=f"http://proxyuser:pr0xy-pw@127.0.0.1:{proxy.port}",
        )
        result = run_cli(["check", *PROD, "--retries", "1"], env=env)
    finally:
        proxy.close()
    assert result.returncode == 5, result.stderr
    assert f"the proxy http://127.0.0.1:{proxy.port} refused the tunnel" in result.stderr
    assert "pr0xy-pw" not in result.stderr and "HTTPS_PROXY" in result.stderr


def test_unreachable_proxy_is_named() -> None:
    port = free_port()
    env = base_env(
        ENKRYPTIFY_TOKEN=DEMO_TOKEN,
        ENKRYPTIFY_API_URL="https://api.enkryptify.test",
        HTTPS_PROXY=f"http://127.0.0.1:{port}",
    )
    result = run_cli(["check", *PROD, "--retries", "1"], env=env)
    assert result.returncode == 5, result.stderr
    assert f"connection refused by the proxy http://127.0.0.1:{port}" in result.stderr


def test_sslkeylogfile_is_ignored(https_url: str, certificate: tuple[Path, Path], tmp_path: Path) -> None:
    """Before: Python's default TLS context wrote every session key to $SSLKEYLOGFILE."""
    keylog = tmp_path / "keys.log"
    env = base_env(
        ENKRYPTIFY_TOKEN=DEMO_TOKEN,
        ENKRYPTIFY_API_URL=https_url,
        SSLKEYLOGFILE=str(keylog),
        SSL_CERT_FILE=str(certificate[0]),
    )
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 0, result.stderr
    assert not keylog.exists()


def test_https_to_a_plain_http_port_is_a_tls_handshake_failure(fake_server: tuple[FakeEnkryptify, str]) -> None:
    _fake, url = fake_server
    env = base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=url.replace("http://", "https://"))
    result = run_cli(["check", *PROD, "--retries", "1"], env=env)
    assert result.returncode == 5, result.stderr
    port = url.rsplit(":", 1)[1]
    assert f"TLS handshake with 127.0.0.1:{port} failed" in result.stderr and "serves HTTPS" in result.stderr


def test_unreadable_ssl_cert_file_is_a_usage_error(https_url: str, tmp_path: Path) -> None:
    env = base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=https_url, SSL_CERT_FILE=str(tmp_path / "none.pem"))
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 2, result.stderr
    assert "SSL_CERT_FILE or SSL_CERT_DIR names no readable PEM certificates" in result.stderr
