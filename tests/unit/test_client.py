"""The API client against scripted in-process transports (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from enkryptify_action.client import EnkryptifyClient, RetryPolicy, user_agent
from enkryptify_action.errors import (
    EXIT_API,
    EXIT_AUTH,
    ApiError,
    AuthenticationError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    UsageError,
)

TOKEN = "ek_live_unit_test_token"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """A transport answering from a list of (method, path) → responses, recording every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], list[Handler]] = {}

    def on(self, method: str, path: str, *handlers: Handler) -> Script:
        self.routes.setdefault((method, path), []).extend(handlers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes[(request.method, request.url.path)]
        handler = queue.pop(0) if len(queue) > 1 else queue[0]
        return handler(request)


def reply(status: int = 200, body: object = None, headers: dict[str, str] | None = None) -> Handler:
    return lambda _request: httpx.Response(status, json=body if body is not None else [], headers=headers)


def exchange_ok(expires_in: int = 900) -> Handler:
    return reply(200, {"accessToken": JWT, "expiresIn": expires_in, "tokenType": "Bearer"})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def client(script: Script, **kwargs) -> tuple[EnkryptifyClient, list[float], list[str], list[str]]:
    sleeps: list[float] = []
    warnings: list[str] = []
    credentials: list[str] = []
    kwargs.setdefault("clock", Clock())
    c = EnkryptifyClient(
        base_url="https://api.test",
        token=TOKEN,
        transport=httpx.MockTransport(script),
        sleep=sleeps.append,
        warn=warnings.append,
        on_credential=credentials.append,
        **kwargs,
    )
    return c, sleeps, warnings, credentials


def test_exchange_sends_header_and_body_then_uses_jwt() -> None:
    script = Script().on("POST", "/v1/auth/exchange", exchange_ok()).on("GET", "/v1/workspace", reply(200, []))
    c, _, _, credentials = client(script)
    assert c.list_workspaces() == []
    exchange, listing = script.requests
    assert exchange.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(exchange.content) == {"token": TOKEN}
    assert listing.headers["Authorization"] == f"Bearer {JWT}"
    assert credentials == [TOKEN, JWT]  # both registered before use
    assert listing.headers["User-Agent"].startswith("enkryptify-fetch-secrets/")


def test_direct_auth_skips_exchange() -> None:
    script = Script().on("GET", "/v1/workspace", reply(200, []))
    c, *_ = client(script, auth="direct")
    c.list_workspaces()
    assert [r.url.path for r in script.requests] == ["/v1/workspace"]
    assert script.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("status", [404, 405, 429])
def test_exchange_unavailable_falls_back_to_static_token(status: int) -> None:
    script = Script().on("POST", "/v1/auth/exchange", reply(status, {"message": "no"}))
    script.on("GET", "/v1/workspace", reply(200, []))
    c, sleeps, warnings, _ = client(script)
    c.list_workspaces()
    c.list_workspaces()
    assert [r.url.path for r in script.requests] == ["/v1/auth/exchange", "/v1/workspace", "/v1/workspace"]
    assert script.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert len(warnings) == 1 and f"HTTP {status}" in warnings[0] and TOKEN not in warnings[0]
    assert sleeps == []


def test_exchange_401_is_an_authentication_error_without_the_token() -> None:
    script = Script().on("POST", "/v1/auth/exchange", reply(401, {"message": f"Invalid token {TOKEN}"}))
    c, *_ = client(script)
    with pytest.raises(AuthenticationError) as info:
        c.list_workspaces()
    assert info.value.exit_code == EXIT_AUTH
    assert TOKEN not in str(info.value) and "revoked" in (info.value.hint or "")


def test_jwt_refreshed_before_expiry() -> None:
    clock = Clock()
    script = Script().on("POST", "/v1/auth/exchange", exchange_ok(900)).on("GET", "/v1/workspace", reply(200, []))
    c, *_ = client(script, clock=clock)
    c.list_workspaces()
    clock.now = 845  # inside the last minute of the 900 s lifetime
    c.list_workspaces()
    paths = [r.url.path for r in script.requests]
    assert paths == ["/v1/auth/exchange", "/v1/workspace", "/v1/auth/exchange", "/v1/workspace"]


def test_401_with_jwt_reexchanges_once() -> None:
    script = Script().on("POST", "/v1/auth/exchange", exchange_ok())
    script.on("GET", "/v1/workspace", reply(401, {"message": "expired"}), reply(200, [{"slug": "a"}]))
    c, *_ = client(script)
    assert c.list_workspaces() == [{"slug": "a"}]
    paths = [r.url.path for r in script.requests]
    assert paths == ["/v1/auth/exchange", "/v1/workspace", "/v1/auth/exchange", "/v1/workspace"]


def test_second_401_fails() -> None:
    script = Script().on("POST", "/v1/auth/exchange", exchange_ok())
    script.on("GET", "/v1/workspace", reply(401, {"message": "Invalid or expired token"}))
    c, *_ = client(script)
    with pytest.raises(AuthenticationError, match="HTTP 401: Invalid or expired token"):
        c.list_workspaces()
    assert len(script.requests) == 4


def test_5xx_retried_with_backoff_then_success() -> None:
    script = Script().on("GET", "/v1/workspace", reply(503), reply(500), reply(200, []))
    c, sleeps, *_ = client(script, auth="direct")
    assert c.list_workspaces() == []
    assert len(sleeps) == 2 and 0 < sleeps[0] <= 0.5 and 0 < sleeps[1] <= 1.0
    assert (c.attempts, c.retries) == (3, 2)


def test_retry_after_honoured_and_capped() -> None:
    script = Script().on(
        "GET",
        "/v1/workspace",
        reply(429, {"message": "slow down"}, {"Retry-After": "3"}),
        reply(503, None, {"Retry-After": "999"}),
        reply(200, []),
    )
    c, sleeps, *_ = client(script, auth="direct")
    c.list_workspaces()
    assert sleeps == [3.0, 30.0]


def test_retries_exhausted_raise_typed_error() -> None:
    script = Script().on("GET", "/v1/workspace", reply(429, {"message": "Too many requests"}))
    c, sleeps, *_ = client(script, auth="direct", retries=3)
    with pytest.raises(RateLimitedError) as info:
        c.list_workspaces()
    assert info.value.exit_code == EXIT_API and len(script.requests) == 3 and len(sleeps) == 2


@pytest.mark.parametrize(("status", "error"), [(400, ApiError), (403, PermissionDeniedError), (404, NotFoundError)])
def test_other_4xx_never_retried(status: int, error: type[ApiError]) -> None:
    script = Script().on("GET", "/v1/workspace", reply(status, {"message": "nope"}))
    c, sleeps, *_ = client(script, auth="direct")
    with pytest.raises(error) as info:
        c.list_workspaces()
    assert len(script.requests) == 1 and sleeps == [] and info.value.hint


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("x"),
    ],
)
def test_transport_errors_retried_then_network_error(exc: Exception) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    script = Script().on("GET", "/v1/workspace", boom)
    c, sleeps, *_ = client(script, auth="direct", retries=2)
    with pytest.raises(NetworkError) as info:
        c.list_workspaces()
    assert len(script.requests) == 2 and len(sleeps) == 1 and "after 2 attempt(s)" in info.value.message


@pytest.mark.parametrize(
    ("body", "content_type", "text"),
    [(b"<html>502</html>", "text/html", "HTML"), (b'[{"a": 1', "application/json", "invalid or truncated JSON")],
)
def test_unusable_bodies(body: bytes, content_type: str, text: str) -> None:
    script = Script().on(
        "GET", "/v1/workspace", lambda r: httpx.Response(200, content=body, headers={"Content-Type": content_type})
    )
    c, *_ = client(script, auth="direct")
    with pytest.raises(ApiError, match=text):
        c.list_workspaces()


def test_unexpected_shape() -> None:
    script = Script().on("GET", "/v1/workspace", reply(200, {"data": []}))
    c, *_ = client(script, auth="direct")
    with pytest.raises(ApiError, match="unexpected JSON shape"):
        c.list_workspaces()


def test_server_message_sanitized_and_truncated() -> None:
    script = Script().on("GET", "/v1/workspace", reply(404, {"message": "bad\x1b[31m\nthing " + "x" * 500}))
    c, *_ = client(script, auth="direct")
    with pytest.raises(NotFoundError) as info:
        c.list_workspaces()
    assert "\x1b" not in info.value.message and "\n" not in info.value.message
    assert len(info.value.message) < 300


def test_projects_flattened_from_team_groups() -> None:
    groups = [{"id": "t1", "name": "Team", "projects": [{"id": "p1", "slug": "web"}, {"id": "p2", "slug": "api"}]}]
    script = Script().on("GET", "/v1/workspace/my ws/project", reply(200, groups))
    c, *_ = client(script, auth="direct")
    assert [p["slug"] for p in c.list_projects("my ws")] == ["web", "api"]


def test_secrets_query_sends_both_environment_parameters() -> None:
    script = Script().on("GET", "/v1/workspace/w/project/p/secret", reply(200, []))
    c, *_ = client(script, auth="direct")
    c.list_secrets("w", "p", "env-1")
    params = script.requests[0].url.params
    assert (params["environmentId"], params["environment_id"], params["resolve"]) == ("env-1", "env-1", "true")


def test_missing_token_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="ENKRYPTIFY_TOKEN"):
        EnkryptifyClient(base_url="https://x", token="")


def test_bad_ca_cert_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(UsageError, match="ca-cert"):
        EnkryptifyClient(base_url="https://x", token=TOKEN, ca_cert=str(tmp_path / "missing.pem"))


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy()
    assert all(0.25 <= policy.backoff(1) <= 0.5 for _ in range(50))
    assert all(4.0 <= policy.backoff(10) <= 8.0 for _ in range(50))


def test_user_agent_names_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "(cli;" in user_agent()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert "(github-actions;" in user_agent()
