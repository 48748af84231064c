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
