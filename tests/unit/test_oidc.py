"""``auth: oidc`` pieces in-process: where the ID token comes from, the request URL rules, the runner's
ID-token request, claim decoding, and the client's login hook (against the fake API's mock transport)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from enkryptify_action import oidc
from enkryptify_action.client import EnkryptifyClient
from enkryptify_action.errors import EXIT_API, EXIT_AUTH, EXIT_USAGE, EnkryptifyError, NetworkError, UsageError
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.faults import Fault
from tests.fake_api.oidc import GITLAB_ISSUER
from tests.fake_api.transport import MOCK_BASE_URL, mock_transport

SUBJECT = "project_path:acme/web-app:ref_type:branch:ref:main"
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"


def jwt_with(claims: object) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln"


# --- where the ID token comes from ---------------------------------------------------------------


def test_the_id_token_variable_wins_everywhere() -> None:
    env = {"ENKRYPTIFY_ID_TOKEN": f" {ID_TOKEN}\n", "GITHUB_ACTIONS": "true"}
    env |= {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://x/y?a=1", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req"}
    source = oidc.id_token_source(env, audience="enkryptify")
    assert source.id_token == ID_TOKEN and source.github is None


def test_github_runner_variables_are_used_on_github_only() -> None:
    runner = {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://x/y?a=1", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req"}
    source = oidc.id_token_source(runner | {"GITHUB_ACTIONS": "true"}, audience=" aud ")
    assert source.github == oidc.GitHubRequest("https://x/y?a=1", "req", "aud")
    with pytest.raises(UsageError, match="ENKRYPTIFY_ID_TOKEN"):
        oidc.id_token_source(runner, audience="aud")


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set"),
        ({"ACTIONS_ID_TOKEN_REQUEST_URL": "https://x/y"}, "but ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set"),
        ({"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}, "but ACTIONS_ID_TOKEN_REQUEST_URL is not set"),
    ],
)
def test_github_without_the_variables_names_the_missing_ones(env: dict[str, str], missing: str) -> None:
    with pytest.raises(UsageError) as caught:
        oidc.id_token_source(env | {"GITHUB_ACTIONS": "true"}, audience="enkryptify")
    assert missing in caught.value.message
    assert "permissions: id-token: write" in str(caught.value.hint) and "forks" in str(caught.value.hint)
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize("audience", ["", "   ", "a\nb", "x" * 256])
def test_bad_audiences_are_refused(audience: str) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x/y",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t",
    }
    with pytest.raises(UsageError, match="oidc-audience"):
        oidc.id_token_source(env, audience=audience)


def test_raw_credentials_are_the_id_token_and_on_github_the_request_token() -> None:
    env = {"ENKRYPTIFY_ID_TOKEN": " a.b.c ", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": " req "}
    assert oidc.raw_credentials(env) == ["a.b.c"]
    assert oidc.raw_credentials(env | {"GITHUB_ACTIONS": "true"}) == ["a.b.c", "req"]


# --- the request URL -------------------------------------------------------------------------------

URLS = [
    ("https://pipelines.actions.githubusercontent.com/abc/_apis/idtoken?api-version=2.0", True),
    ("http://127.0.0.1:8080/idtoken?api-version=2.0", True),
    ("http://localhost/idtoken", True),
    ("http://[::1]:9/idtoken", True),
    ("http://pipelines.actions.githubusercontent.com/idtoken", False),  # plain http off loopback
    ("http://10.0.0.1/idtoken", False),
    ("https://user:pass@pipelines.example/idtoken", False),
    ("https://pipelines.example/idtoken#frag", False),
    ("ftp://pipelines.example/idtoken", False),
    ("file:///etc/passwd", False),
    ("pipelines.example/idtoken", False),
    ("https://[::1/idtoken", False),  # unparsable
]


@pytest.mark.parametrize(("url", "ok"), URLS)
def test_request_url_rules(url: str, ok: bool) -> None:
    if ok:
        assert oidc.validate_request_url(url) == url
    else:
        with pytest.raises(UsageError) as caught:
            oidc.validate_request_url(url)
        assert "idtoken" not in caught.value.message and "pass" not in caught.value.message


# --- the runner's ID-token request -------------------------------------------------------------


class Runner:
    """A scripted ID-token endpoint: a list of (status, body) answers, every request recorded."""

    def __init__(self, *answers: tuple[int, object]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        headers = {"Location": "https://evil.example/steal"} if status == 302 else {}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=headers)


def fetch(
    runner: Runner, url: str = "https://runner.test/idtoken?api-version=2.0", audience: str = "enkryptify"
) -> str:
    request = oidc.GitHubRequest(url, "request-token-123", audience)
    return oidc.fetch_github_id_token(
        request, timeout=5, retries=3, transport=httpx.MockTransport(runner), sleep=lambda _s: None
    )


def test_audience_is_appended_encoded_with_the_request_token_as_bearer() -> None:
    runner = Runner((200, {"count": 1, "value": ID_TOKEN}))
    assert fetch(runner, audience="api://enkryptify/a b") == ID_TOKEN
    sent = runner.requests[0]
    assert str(sent.url) == "https://runner.test/idtoken?api-version=2.0&audience=api%3A%2F%2Fenkryptify%2Fa%20b"
    assert sent.url.params["audience"] == "api://enkryptify/a b"
    assert sent.headers["Authorization"] == "Bearer request-token-123"
    fetch(runner, url="https://runner.test/idtoken")
    assert runner.requests[1].url.query == b"audience=enkryptify"


# encodeURIComponent(x) as JavaScript computes it (ECMA-262 §19.2.6.5: unreserved = A-Z a-z 0-9 - _ . ! ~ * ' ( )).
ENCODE_URI_COMPONENT = [
    ("enkryptify", "enkryptify"),
    ("https://api.enkryptify.com", "https%3A%2F%2Fapi.enkryptify.com"),
    ("a b&c=d?e#f", "a%20b%26c%3Dd%3Fe%23f"),
    ("-_.!~*'()", "-_.!~*'()"),
    ("100%", "100%25"),
    ("ü€", "%C3%BC%E2%82%AC"),
    ("+/,;:@$", "%2B%2F%2C%3B%3A%40%24"),
]


@pytest.mark.parametrize(("text", "encoded"), ENCODE_URI_COMPONENT)
def test_the_audience_is_encoded_like_encode_uri_component(text: str, encoded: str) -> None:
    assert oidc.encode_uri_component(text) == encoded


def test_5xx_and_429_are_retried() -> None:
    runner = Runner((503, {}), (429, {}), (200, {"value": ID_TOKEN}))
    assert fetch(runner) == ID_TOKEN and len(runner.requests) == 3


@pytest.mark.parametrize(
    ("answer", "exit_code", "text"),
    [
        ((401, {"message": "bad"}), EXIT_AUTH, "refused the ID-token request (runner.test answered HTTP 401)"),
        ((403, {}), EXIT_AUTH, "HTTP 403"),
        ((302, {}), EXIT_API, "answered HTTP 302"),  # never followed: the request token stays put
        ((200, {"value": "not a jwt"}), EXIT_API, "without a JWT"),
        ((200, b"<html>"), EXIT_API, "without a JWT"),
        ((200, {"value": 7}), EXIT_API, "without a JWT"),
        ((500, {}), EXIT_API, "answered HTTP 500"),  # after every retry
    ],
)
def test_runner_answers_that_fail(answer: tuple[int, object], exit_code: int, text: str) -> None:
    runner = Runner(answer)
    with pytest.raises(EnkryptifyError) as caught:
        fetch(runner)
    assert caught.value.exit_code == exit_code and text in str(caught.value)
    assert all(r.url.host == "runner.test" for r in runner.requests)
    assert "request-token-123" not in str(caught.value)


def test_a_huge_answer_is_a_network_error() -> None:
    runner = Runner((200, b"x" * (oidc.MAX_ID_TOKEN_BODY + 1)))
    with pytest.raises(NetworkError, match="failed after 3 attempt"):
        fetch(runner)


# --- claims for the refusal hint -------------------------------------------------------------------

CLAIMS = [
    (GOOD := {"iss": "https://gitlab.com", "aud": "enkryptify", "sub": SUBJECT}, GOOD),
    ({"aud": ["a", "b"], "sub": "s"}, {"aud": "a, b", "sub": "s"}),
    ({"sub": "x\ny\x1b"}, {"sub": "x?y?"}),
    ({"sub": "ref:ek_live_abc"}, {"sub": "(not shown: looks like a token)"}),
    ({"sub": "nested eyJhbGciOi"}, {"sub": "(not shown: looks like a token)"}),
    ({"sub": "s" * 300}, {"sub": "s" * 200 + "…"}),
    ({"sub": 5, "aud": [1, 2], "iss": ""}, {}),
    (["not", "an", "object"], {}),
]  # fmt: skip


@pytest.mark.parametrize(("claims", "expected"), CLAIMS)
def test_token_claims(claims: object, expected: dict[str, str]) -> None:
    assert oidc.token_claims(jwt_with(claims)) == expected


@pytest.mark.parametrize("token", ["", "a.b", "a.!!!.c", "a.bm90IGpzb24.c", "a.b.c.d"])
def test_undecodable_tokens_have_no_claims(token: str) -> None:
    assert oidc.token_claims(token) == {}
    assert oidc.describe_claims({}) == "the ID token's claims could not be decoded"


# --- the client's login hook -----------------------------------------------------------------------


@pytest.fixture
def fake() -> tuple[FakeEnkryptify, str]:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    fake.add_secret(prj, "KEY", {"production": "oidc-unit-value-4821"})
    fake.oidc.register(ws, issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    return fake, ws


def client_for(fake: FakeEnkryptify, ws: str, id_token: str, seen: list[str], clock: list[float]) -> EnkryptifyClient:
    login = oidc.OidcLogin(oidc.IdTokenSource(id_token=id_token), ws, on_credential=seen.append)
    return EnkryptifyClient(
        base_url=MOCK_BASE_URL,
        token="",
        auth="oidc",
        transport=mock_transport(fake),
        on_credential=seen.append,
        login=login,
        sleep=lambda _s: None,
        clock=lambda: clock[0],
        timeout=300,
        retries=10,  # the run's deadline (5 x retries x timeout) outlasts the JWT: the test moves the clock past it
    )


def test_login_registers_the_id_token_then_the_jwt_and_relogs_in_on_expiry_and_401(fake) -> None:
    fake, ws = fake
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    seen: list[str] = []
    clock = [0.0]
    with client_for(fake, ws, id_token, seen, clock) as client:
        assert seen == [id_token, ""]  # before any request (the empty API token is ignored by maskers)
        assert [w["id"] for w in client.list_workspaces()] == [ws]
        first = list(fake.jwts)
        assert seen[-1] == first[0]
        clock[0] = 10_000.0  # past the JWT's refresh time
        client.list_workspaces()
        for jwt in fake.jwts.values():
            jwt.revoked = True  # refused mid-run: log in once more
        client.list_workspaces()
    exchanges = [r for r in fake.requests if r.path == "/v1/auth/oidc/exchange"]
    assert len(exchanges) == 3 and all(r.authorization is None for r in exchanges)
    assert all(jwt in seen for jwt in fake.jwts)


def test_a_429_on_the_exchange_is_retried(fake) -> None:
    fake, ws = fake
    fake.inject("POST", "/v1/auth/oidc/exchange", [Fault.status(429, headers={"Retry-After": "0"})])
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    with client_for(fake, ws, id_token, [], [0.0]) as client:
        client.list_workspaces()
    assert [r.status for r in fake.requests if r.path == "/v1/auth/oidc/exchange"] == [429, 200]


@pytest.mark.parametrize(
    ("fault", "exit_code", "text"),
    [
        (Fault.status(405), EXIT_API, "does not offer OIDC exchange here"),
        (Fault.status(403), EXIT_AUTH, "subject 'project_path:acme/web-app:ref_type:branch:ref:main'"),
        (Fault.status(400, {"message": "workspaceId: Invalid"}), EXIT_API, "workspaceId: Invalid"),
        (Fault.status(200, {"nothing": True}), EXIT_API, "without an accessToken"),
    ],
)
def test_exchange_failures(fake, fault: Fault, exit_code: int, text: str) -> None:
    fake, ws = fake
    fake.inject("POST", "/v1/auth/oidc/exchange", [fault])
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    with client_for(fake, ws, id_token, [], [0.0]) as client, pytest.raises(EnkryptifyError) as caught:
        client.list_workspaces()
    assert caught.value.exit_code == exit_code and text in str(caught.value)
    assert id_token not in str(caught.value)
