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


def test_exchange_sends_the_header_form_without_a_body_then_uses_jwt() -> None:
    script = Script().on("POST", "/v1/auth/exchange", exchange_ok()).on("GET", "/v1/workspace", reply(200, []))
    c, _, warnings, credentials = client(script)
    assert c.list_workspaces() == []
    exchange, listing = script.requests
    assert exchange.headers["Authorization"] == f"Bearer {TOKEN}"
    assert exchange.content == b""
    assert listing.headers["Authorization"] == f"Bearer {JWT}"
    assert credentials == [TOKEN, JWT]  # both registered before use
    assert listing.headers["User-Agent"].startswith("enkryptify-fetch-secrets/")
    assert warnings == []


def test_direct_auth_skips_exchange() -> None:
    script = Script().on("GET", "/v1/workspace", reply(200, []))
    c, *_ = client(script, auth="direct")
    c.list_workspaces()
    assert [r.url.path for r in script.requests] == ["/v1/workspace"]
    assert script.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("status", [400, 415, 422])
def test_header_form_refused_retries_once_with_the_body_form(status: int) -> None:
    script = Script().on("POST", "/v1/auth/exchange", reply(status, {"message": "token: Required"}), exchange_ok())
    script.on("GET", "/v1/workspace", reply(200, []))
    c, _, warnings, _ = client(script)
    c.list_workspaces()
    header_form, body_form, listing = script.requests
    assert header_form.content == b"" and "Authorization" in header_form.headers
    assert json.loads(body_form.content) == {"token": TOKEN} and "Authorization" not in body_form.headers
    assert listing.headers["Authorization"] == f"Bearer {JWT}" and warnings == []


def test_both_exchange_forms_refused_falls_back_once() -> None:
    script = Script().on("POST", "/v1/auth/exchange", reply(400, {"message": "bad"}))
    script.on("GET", "/v1/workspace", reply(200, []))
    c, _, warnings, _ = client(script)
    c.list_workspaces()
    assert [r.url.path for r in script.requests] == ["/v1/auth/exchange"] * 2 + ["/v1/workspace"]
    assert script.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert len(warnings) == 1 and "HTTP 400" in warnings[0]


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ([reply(404, {"message": "no"})], "answered HTTP 404"),
        ([reply(405, {"message": "no"})], "answered HTTP 405"),
        ([reply(500, {"message": "boom"})], "answered HTTP 500 after 4 attempt(s)"),
        ([reply(503), reply(502), reply(504), reply(500)], "answered HTTP 500 after 4 attempt(s)"),
        ([lambda r: httpx.Response(200, content=b"<html>")], "without a usable accessToken"),
        ([reply(200, {"tokenType": "Bearer"})], "without a usable accessToken"),
        ([reply(200, {"accessToken": "has space"})], "without a usable accessToken"),
        ([lambda r: httpx.Response(200, content=b"[" * 100_000)], "without a usable accessToken"),
    ],
)
def test_exchange_failure_falls_back_to_static_token(answers: list[Handler], said: str) -> None:
    script = Script().on("POST", "/v1/auth/exchange", *answers)
    script.on("GET", "/v1/workspace", reply(200, []))
    c, _, warnings, _ = client(script)
    c.list_workspaces()
    c.list_workspaces()
    listings = [r for r in script.requests if r.url.path == "/v1/workspace"]
    assert len(listings) == 2 and all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in listings)
    assert len(warnings) == 1 and said in warnings[0] and TOKEN not in warnings[0]
    assert "used the API token directly" in warnings[0]


def test_exchange_429_falls_back_at_once_and_says_so_in_facts() -> None:
    script = Script().on("POST", "/v1/auth/exchange", reply(429, {"message": "slow"}, {"Retry-After": "60"}))
    script.on("GET", "/v1/workspace", reply(200, []))
    c, sleeps, warnings, _ = client(script)
    c.list_workspaces()
    assert [r.url.path for r in script.requests] == ["/v1/auth/exchange", "/v1/workspace"] and sleeps == []
    assert warnings == [
        "The token exchange is limited to 10 a minute per token and answered 429; this run used the API token "
        "directly as Bearer, which the API accepts (auth: direct skips the exchange)."
    ]


def test_exchange_read_timeout_falls_back_but_an_unreachable_host_does_not() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    script = Script().on("POST", "/v1/auth/exchange", slow).on("GET", "/v1/workspace", reply(200, []))
    c, _, warnings, _ = client(script, retries=2)
    c.list_workspaces()
    assert len(warnings) == 1 and "timed out after 2 attempt(s)" in warnings[0]

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    script = Script().on("POST", "/v1/auth/exchange", refused).on("GET", "/v1/workspace", reply(200, []))
    c, _, warnings, _ = client(script, retries=2)
    with pytest.raises(NetworkError):
        c.list_workspaces()
    assert [r.url.path for r in script.requests] == ["/v1/auth/exchange"] * 2 and warnings == []


@pytest.mark.parametrize(("status", "error"), [(401, AuthenticationError), (403, PermissionDeniedError)])
def test_exchange_refusing_the_token_is_an_auth_error(status: int, error: type[ApiError]) -> None:
    script = Script().on("POST", "/v1/auth/exchange", lambda r: httpx.Response(status, text="Unauthorized"))
    c, _, warnings, _ = client(script)
    with pytest.raises(error) as info:
        c.list_workspaces()
    assert info.value.exit_code == EXIT_AUTH and len(script.requests) == 1 and warnings == []
    assert f"HTTP {status}: Unauthorized" in info.value.message  # a text/plain body is read too


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
    c, *_ = client(script, clock=clock, timeout=60)  # a run deadline (5 x 4 x 60 s) past the JWT's life
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


@pytest.mark.parametrize(
    "echo",
    [
        TOKEN,
        TOKEN.upper(),
        TOKEN.removeprefix("ek_live_"),
        "".join(f"%{b:02X}" for b in TOKEN.encode()),
        "%25" + "%25".join(f"{b:02X}" for b in TOKEN.encode()),  # encoded twice
        "unit_test_tok",  # a piece of 8+ characters, no prefix
        JWT,
        JWT.split(".")[1],  # a JWT's payload alone
        "EYJHBGCIOIJ",  # a JWT header in another case
    ],
)
def test_server_message_holding_a_credential_is_not_printed(echo: str) -> None:
    script = Script().on("POST", "/v1/auth/exchange", exchange_ok())
    script.on("GET", "/v1/workspace", reply(200, []), reply(404, {"message": f"no such thing: {echo} (sorry)"}))
    c, *_ = client(script)
    c.list_workspaces()  # the JWT is now known too
    with pytest.raises(NotFoundError) as info:
        c.list_workspaces()
    assert info.value.message == "GET /v1/workspace failed with HTTP 404."


def test_server_message_without_a_credential_is_printed() -> None:
    script = Script().on("GET", "/v1/workspace", reply(404, {"message": "Workspace not found"}))
    c, *_ = client(script, auth="direct")
    with pytest.raises(NotFoundError, match="HTTP 404: Workspace not found"):
        c.list_workspaces()


def test_answer_nested_too_deeply_is_an_api_error() -> None:
    script = Script().on("GET", "/v1/workspace", lambda r: httpx.Response(200, content=b"[" * 100_000))
    c, *_ = client(script, auth="direct")
    with pytest.raises(ApiError, match="nested too deeply") as info:
        c.list_workspaces()
    assert info.value.exit_code == EXIT_API


def test_deeply_nested_error_body_is_not_an_internal_error() -> None:
    script = Script().on("GET", "/v1/workspace", lambda r: httpx.Response(400, content=b'{"message":' * 50_000))
    c, *_ = client(script, auth="direct")
    with pytest.raises(ApiError) as info:
        c.list_workspaces()
    assert info.value.message == "GET /v1/workspace failed with HTTP 400."


class TickingClock(Clock):
    """A clock that the client's own sleeps move forward."""

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_run_deadline_stops_waiting_that_would_pass_it() -> None:
    clock = TickingClock()
    script = Script().on("GET", "/v1/workspace", reply(503, None, {"Retry-After": "30"}))
    c = EnkryptifyClient(
        base_url="https://api.test", token=TOKEN, auth="direct", timeout=2, retries=10,
        transport=httpx.MockTransport(script), sleep=clock.sleep, clock=clock,
    )  # fmt: skip
    # deadline 5 x 10 x 2 s = 100 s: three waits of 30 s fit, a fourth would end past it
    with pytest.raises(ApiError, match="HTTP 503"):
        c.list_workspaces()
    assert len(script.requests) == 4 and clock.now == 90


def test_run_deadline_passed_before_a_request_is_a_network_error() -> None:
    clock = TickingClock()
    script = Script().on("GET", "/v1/workspace", reply(200, []))
    c = EnkryptifyClient(
        base_url="https://api.test", token=TOKEN, auth="direct", timeout=1, retries=1,
        transport=httpx.MockTransport(script), sleep=clock.sleep, clock=clock,
    )  # fmt: skip
    c.list_workspaces()
    clock.now = 6  # 5 x 1 x 1 s
    with pytest.raises(NetworkError, match="the run's deadline of 5 s passed") as info:
        c.list_workspaces()
    assert len(script.requests) == 1 and info.value.exit_code == EXIT_API


@pytest.mark.parametrize(
    ("expires_in", "seconds"),
    [
        (900, 900.0),
        (1.5, 1.5),
        (0.2, 1.0),
        (10**400, 900.0),  # int too large for a float: OverflowError before, exit 1
        (float("nan"), 900.0),
        (float("inf"), 900.0),
        (-5, 900.0),
        (0, 900.0),
        (True, 900.0),
        ("900", 900.0),
        (None, 900.0),
        (10**9, 86400.0),
    ],
)
def test_token_lifetime_accepts_only_finite_seconds(expires_in: object, seconds: float) -> None:
    from enkryptify_action.client import token_lifetime

    assert token_lifetime(expires_in) == seconds
