"""Credentials kept out of printed text, and the token format the SDK accepts (issues 11 §3 and 14)."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from enkryptify_action import redact
from enkryptify_action.config import normalize_token, validate_api_url
from enkryptify_action.errors import UsageError
from enkryptify_action.network import describe, network_error

TOKEN = "ek_live_Q7mX2pL9vR4tK8wN3sB6"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiIxMjM0NTY3ODkwIn0.S1gnaTure-_0123456789"
PIECES = redact.pieces([TOKEN, JWT])


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("Workspace not found", False),
        ("Invalid or expired token", False),
        ("name: String must contain at least 1 character(s)", False),
        (f"bad token {TOKEN}", True),
        (f"bad token {TOKEN.upper()}", True),
        (f"bad token {TOKEN.lower()}", True),
        ("bad token Q7mX2pL9vR4tK8wN3sB6", True),  # without the prefix
        ("bad token pL9vR4tK", True),  # an 8-character piece
        ("bad token pL9vR4t", False),  # 7 characters are not a piece
        ("bad token " + "".join(f"%{b:02X}" for b in b"Q7mX2pL9"), True),  # percent-encoded
        ("bad token " + "".join(f"%25{b:02x}" for b in b"Q7mX2pL9"), True),  # encoded twice
        ("token EK_LIVE_something_else", True),  # any static token, in any case
        ("jwt eyJzb21ldGhpbmc", True),  # any JWT header
        ("jwt EYJZB21LDGHPBMC", True),
        ("payload eyJqdGkiOiIxMjM0NTY3ODkwIn0", True),
        ("signature S1gnaTure-_0123", True),
        ("100% done", False),  # a lone % is not an encoding
    ],
)
def test_holds_credential(text: str, holds: bool) -> None:
    assert redact.holds_credential(text, PIECES) is holds


def test_short_credentials_still_match_whole() -> None:
    assert redact.pieces(["abc"]) == frozenset()  # shorter than a piece: only the markers apply
    assert redact.holds_credential("ek_live_abc", frozenset())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("htps://user:pass@host", "htps://host"),
        ("https://user:pa/ss@host/path", "https://host/path"),
        ("https://user:p@ss@host", "https://host"),
        ("user:pass@host", "host"),
        ("https://host:8443/x", "https://host:8443/x"),
        ("http://proxyuser:pw@127.0.0.1:3128", "http://127.0.0.1:3128"),
    ],
)
def test_without_userinfo(url: str, shown: str) -> None:
    assert redact.without_userinfo(url) == shown


@pytest.mark.parametrize(
    "url",
    ["htps://user:s3cr3t@host", "ftp://user:s3cr3t@host", "user:s3cr3t@host", "https://user:s3cr3t@", "https://[::1"],
)
def test_api_url_errors_never_show_a_password(url: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_api_url(url)
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize(
    "token",
    [
        "ek_live_abc",
        "ek_live_Ab+/=.~!$x",  # any non-whitespace after the prefix: the alphabet is undocumented
        "ek_live_" + "z" * 200,
        "aaa.bbb.ccc",
        "aaa.bbb.",  # an unsigned JWT
        "eyJh+/.eyJ=.sig",
    ],
)
def test_tokens_the_sdk_accepts(token: str) -> None:
    assert normalize_token(f"  {token}\n") == token


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("Bearer ek_live_abc", "starts with 'Bearer '"),
        ("bearer\tek_live_abc", "starts with 'Bearer '"),
        ('"ek_live_abc"', "contains quotes"),
        ("'ek_live_abc'", "contains quotes"),
        ("ek_live_\u201cabc\u201d", "contains quotes"),
        ("ek_live_ab c", "contains whitespace"),
        ("ek_live_ab\u00a0c", "contains whitespace"),
        ("ek_live_ab\x00c", "contains control characters"),
        ("ek_live_ab\x1bc", "contains control characters"),
        ("ek_live_abé", "outside printable ASCII"),
        ("ek_live_", "neither starts with ek_live_ nor is a JWT"),
        ("sk_live_abc", "neither starts with ek_live_ nor is a JWT"),
        ("a.b", "neither starts with ek_live_ nor is a JWT"),
        ("a.b.c.d", "neither starts with ek_live_ nor is a JWT"),
        ("..", "neither starts with ek_live_ nor is a JWT"),  # the SDK accepts it; surely wrong
    ],
)
def test_surely_wrong_tokens_are_refused_without_echo(token: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        normalize_token(token)
    assert why in info.value.message
    if len(token) > 8:
        assert token.strip() not in str(info.value)


def _wrapped(inner: BaseException, outer: type[httpx.TransportError] = httpx.ConnectError) -> httpx.TransportError:
    """An httpx error chained to ``inner`` the way httpx and httpcore chain them (``raise … from``)."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer("wrapped") from exc
    except httpx.TransportError as exc:
        return exc


def test_describe_tells_failures_apart() -> None:
    verify = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    verify.verify_message = "self-signed certificate"
    cases = {
        "tls-verify": _wrapped(verify),
        "dns": _wrapped(socket.gaierror(-2, "Name or service not known")),
        "refused": _wrapped(ConnectionRefusedError(111, "Connection refused")),
        "timeout": httpx.ReadTimeout("slow"),
        "proxy": httpx.ProxyError("502 Bad Gateway"),
        "reset": httpx.ReadError("reset"),
    }
    found = {kind: describe(exc, host="api.test", proxy=None) for kind, exc in cases.items()}
    assert {kind: failure.kind for kind, failure in found.items()} == {kind: kind for kind in cases}
    assert found["tls-verify"].detail == "certificate verify failed: self-signed certificate"
    assert not found["tls-verify"].retry and all(f.retry for k, f in found.items() if k != "tls-verify")
    assert found["dns"].host_level and not found["reset"].host_level and not found["timeout"].host_level
    error = network_error("GET", "/v1/workspace", 1, found["tls-verify"])
    assert error.message == "GET /v1/workspace failed: TLS certificate verify failed: self-signed certificate."
    assert error.host_level and "ca-cert" in (error.hint or "") and "SSL_CERT_FILE" in (error.hint or "")


def test_describe_blames_the_proxy_when_one_is_used() -> None:
    refused = _wrapped(ConnectionRefusedError(111, "Connection refused"))
    failure = describe(refused, host="api.test", proxy="http://proxy:3128")
    assert (failure.kind, failure.detail) == ("proxy", "connection refused by the proxy http://proxy:3128")


def test_a_credential_broken_up_by_spaces_or_control_characters_still_matches() -> None:
    assert redact.holds_credential("token Q7mX 2pL9\x00vR4t", PIECES)


@pytest.mark.parametrize("url", ["https://host:99999", "https://host:abc"])
def test_api_url_with_a_bad_port_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError, match="Invalid api-url"):
        validate_api_url(url)


def test_ordinary_words_are_not_taken_for_a_jwt_once_spaces_go() -> None:
    assert not redact.holds_credential("Invalid key JSON in body", PIECES)
