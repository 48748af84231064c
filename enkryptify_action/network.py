"""Say plainly why a request could not be made: DNS, connection refused, timeout, TLS or proxy failure.

``describe(exc)`` reads the exception chain httpx raises (httpx → httpcore → ``ssl``/``socket``) and returns
a ``Failure``: what to tell the user, whether another attempt can help, and whether every request to the
same host will fail the same way (then the token exchange does not fall back to the static token: the
next request would meet the same wall). ``network_error`` turns it into the ``NetworkError`` we raise.
"""

from __future__ import annotations

import socket
import ssl
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from .errors import NetworkError
from .formats import printable
from .redact import without_userinfo

Kind = Literal[
    "dns", "refused", "timeout", "deadline", "run-deadline", "tls-verify", "tls", "proxy", "reset", "too-large", "other"
]

NETWORK_HINT = (
    "Check the api-url option, the network, proxy variables (HTTPS_PROXY/NO_PROXY) and ca-cert; "
    "raise timeout or retries for a slow network."
)
DNS_HINT = "Check the host name in api-url and the runner's DNS (a private API host needs the runner on that network)."
REFUSED_HINT = "Nothing accepts connections there: check the host and port in api-url, and firewalls on the way."
TIMEOUT_HINT = (
    "The API or the network is slow, or a firewall drops packets: raise timeout (seconds per attempt, "
    "connect to last byte) or retries, or check the proxy."
)
TLS_HINT = (
    "The server's certificate is not trusted. Behind a TLS-intercepting proxy or with a private CA, pass "
    "that CA certificate with ca-cert (or SSL_CERT_FILE); otherwise check that api-url names the right host. "
    "Not retried: it fails the same way every time."
)
TLS_HANDSHAKE_HINT = (
    "TLS failed before any certificate check: check that api-url's port serves HTTPS (not plain http) "
    "and that no proxy or firewall breaks TLS."
)
PROXY_HINT = (
    "Check HTTPS_PROXY/ALL_PROXY and NO_PROXY: the proxy must be reachable and allow CONNECT to the API host "
    "(plain http:// to loopback never uses a proxy)."
)


class DeadlineExceeded(Exception):
    """An attempt (or the run) ran past its total deadline while the server kept sending."""

    def __init__(self, seconds: float, *, run: bool = False) -> None:
        super().__init__(seconds)
        self.seconds = seconds
        self.run = run


class BodyTooLarge(Exception):
    """The response body exceeded the client's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def read_body(
    response: httpx.Response,
    *,
    limit: int,
    deadline: float | None = None,
    seconds: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """A streamed response's whole body: ``BodyTooLarge`` past ``limit`` bytes, ``DeadlineExceeded(seconds)``
    once ``clock()`` passes ``deadline`` (checked after every chunk, so a trickling server cannot stretch it)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        if deadline is not None and clock() > deadline:
            raise DeadlineExceeded(seconds)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class Failure:
    kind: Kind
    detail: str  # what happened, safe to print (no userinfo, control characters replaced)
    retry: bool  # another attempt may succeed
    host_level: bool  # every request to this host fails alike (no point falling back to another endpoint)


def proxy_for(url: httpx.URL) -> str | None:
    """The proxy httpx takes from the environment for ``url`` (shown without userinfo), or None.

    Only https:// goes through a proxy: the client never lets plain http:// (loopback only) use one.
    """
    if url.scheme != "https":
        return None
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get("https") or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(url.host):
        return None
    return without_userinfo(proxy)


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in found):
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _first(chain: list[BaseException], kind: type[BaseException]) -> BaseException | None:
    return next((item for item in chain if isinstance(item, kind)), None)


def _short(text: object) -> str:
    clean = printable(str(text)).strip()
    return clean[:160] + ("…" if len(clean) > 160 else "")


def describe(exc: BaseException, *, host: str, proxy: str | None) -> Failure:
    """What ``exc`` (raised while sending a request to ``host``) means for the user."""
    chain = _chain(exc)
    if isinstance(exc, DeadlineExceeded):
        return Failure("deadline", f"the answer did not complete within {exc.seconds:g} s", True, False)
    if isinstance(exc, BodyTooLarge):
        return Failure("too-large", f"response body larger than {exc.limit // (1024 * 1024)} MiB", True, False)
    verify = _first(chain, ssl.SSLCertVerificationError)
    if isinstance(verify, ssl.SSLCertVerificationError):
        reason = verify.verify_message or verify.reason or "unknown reason"
        return Failure("tls-verify", f"certificate verify failed: {_short(reason)}", False, True)
    if isinstance(exc, httpx.ProxyError):
        who = f"the proxy {proxy}" if proxy else "the proxy"
        return Failure("proxy", f"{who} refused the tunnel ({_short(exc)})", True, True)
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for the answer",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a connection",
        }.get(type(exc), "the request")
        where = f" to the proxy {proxy}" if proxy and isinstance(exc, httpx.ConnectTimeout) else ""
        return Failure("timeout", f"timed out {phase}{where}", True, isinstance(exc, httpx.ConnectTimeout))
    tls = _first(chain, ssl.SSLError)
    if isinstance(tls, ssl.SSLError):
        return Failure("tls", f"TLS handshake with {host} failed ({_short(tls.reason or tls)})", True, True)
    if _first(chain, socket.gaierror) is not None:
        if proxy:
            return Failure("proxy", f"cannot resolve the proxy host of {proxy}", True, True)
        return Failure("dns", f"cannot resolve host {host} (DNS lookup failed)", True, True)
    if _first(chain, ConnectionRefusedError) is not None:
        if proxy:
            return Failure("proxy", f"connection refused by the proxy {proxy}", True, True)
        return Failure("refused", f"connection refused by {host}", True, True)
    if isinstance(exc, httpx.ConnectError):
        where = f"the proxy {proxy}" if proxy else host
        return Failure("other", f"could not connect to {where} ({_short(exc)})", True, True)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return Failure("reset", "the connection was closed or reset mid-response", True, False)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return Failure("other", "unsupported URL scheme", False, True)
    return Failure("other", type(exc).__name__, True, False)


def network_error(method: str, path: str, attempts: int, failure: Failure) -> NetworkError:
    """The error a run ends with when ``failure`` happened on the last attempt it had."""
    tries = f"after {attempts} attempt(s)"
    error = _network_error(method, path, tries, failure)
    error.host_level = failure.host_level
    return error


def _network_error(method: str, path: str, tries: str, failure: Failure) -> NetworkError:
    if failure.kind == "tls-verify":
        return NetworkError(f"{method} {path} failed: TLS {failure.detail}.", hint=TLS_HINT)
    if failure.kind == "tls":
        return NetworkError(f"{method} {path} failed {tries}: {failure.detail}.", hint=TLS_HANDSHAKE_HINT)
    if failure.kind == "dns":
        return NetworkError(f"{method} {path} failed {tries}: {failure.detail}.", hint=DNS_HINT)
    if failure.kind == "refused":
        return NetworkError(f"{method} {path} failed {tries}: {failure.detail}.", hint=REFUSED_HINT)
    if failure.kind == "proxy":
        return NetworkError(f"{method} {path} failed {tries}: {failure.detail}.", hint=PROXY_HINT)
    if failure.kind == "run-deadline":
        return NetworkError(f"{method} {path} stopped {tries}: {failure.detail}.", hint=TIMEOUT_HINT)
    if failure.kind in ("timeout", "deadline"):
        return NetworkError(f"{method} {path} timed out {tries}: {failure.detail}.", hint=TIMEOUT_HINT)
    return NetworkError(f"{method} {path} failed {tries}: {failure.detail}.", hint=NETWORK_HINT)
