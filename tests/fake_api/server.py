"""Loopback HTTP server adapter for the fake API (stdlib ThreadingHTTPServer).

    with serve_fake(fake) as base_url:   # "http://127.0.0.1:PORT"
        ...

HTTP/1.1 with keep-alive and Content-Length on every answer; one thread per connection
(daemon threads); no request logging (tokens never reach stdout/stderr). `Fault.delay`
really waits; `Fault.reset` sends the headers and half the body, then resets the
connection (SO_LINGER 0); `Fault.trickle` sends the body one byte at a time. Rate limits
are keyed on the client's address.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from tests.fake_api.app import FakeRequest, FakeResponse


class Handles(Protocol):
    """What the server serves: the fake API, or another fake such as the GitHub ID-token endpoint."""

    def handle(self, req: FakeRequest) -> FakeResponse: ...


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: Handles, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.fake = fake
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, resets) are expected: stay quiet."""

    def close_connections(self) -> None:
        with self.conn_lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeEnkryptify/1.0"
    sys_version = ""
    timeout = 60
    server: _Server

    wbufsize = 64 * 1024  # headers and body leave in one write (no Nagle/delayed-ACK stalls)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.conn_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.conn_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: never log requests (they carry tokens)."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        req = FakeRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
            client=self.client_address[0],
        )
        try:
            resp = self.server.fake.handle(req)
        except Exception as exc:  # a bug in the fake: make it loud, answer 500
            traceback.print_exc()
            resp = FakeResponse(500, {"Content-Type": "application/json"}, b'{"message":"fake API crashed"}')
            resp.headers["X-Fake-Error"] = type(exc).__name__
        if resp.delay > 0 and self.server.stopping.wait(resp.delay):
            self.close_connection = True
            return
        self._send(resp)

    def _send(self, resp: FakeResponse) -> None:
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        if resp.reset:
            self.end_headers()
            self.wfile.write(resp.body[: len(resp.body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self.end_headers()
        if resp.trickle > 0:
            self.wfile.flush()
            for index in range(len(resp.body)):
                if self.server.stopping.wait(resp.trickle):
                    break
                try:
                    self.wfile.write(resp.body[index : index + 1])
                    self.wfile.flush()
                except OSError:  # the client gave up: expected
                    break
            self.close_connection = True
            return
        self.wfile.write(resp.body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@contextmanager
def serve_fake(
    fake: Handles, *, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """Serve `fake` in a daemon thread; yield its base URL (https:// with `tls`); shut down on exit."""
    server = _Server(fake, host, port)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://{host}:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)
