"""What the API answers, and what the CLI says about it: the real CLI against the fake served on loopback.

Token exchange forms and fallback (issue 14), what a run with nothing to export says, unknown workspaces
and projects, hostile server messages and answers (issue 11 §3, §5).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.cli_helpers import assert_not_leaked, base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.faults import Fault
from tests.fake_api.fixtures import DEMO_TOKEN

PROD = ["--workspace", "acme", "--project", "web-app", "--environment", "production"]
EXCHANGE = "/v1/auth/exchange"
SECRETS = "/v1/workspace/*/secret"


@pytest.fixture
def server(fake_server: tuple[FakeEnkryptify, str]) -> tuple[FakeEnkryptify, dict[str, str]]:
    fake, url = fake_server
    return fake, base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=url)


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("enkryptify-fetch: warning: ")]


# --- exchange ----------------------------------------------------------------------------------------------


def test_exchange_sends_the_token_in_the_header_and_no_body(server) -> None:
    fake, env = server
    assert fake.exchange_mode == "header"  # the fake's default: what the API reference and SDKs do
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 0, result.stderr
    exchange = fake.requests[0]
    assert (exchange.path, exchange.status, exchange.body) == (EXCHANGE, 200, b"")
    assert exchange.authorization == f"Bearer {DEMO_TOKEN}"
    assert {r.auth for r in fake.requests[1:]} == {"jwt"} and warnings_in(result.stderr) == []


def test_a_server_wanting_the_body_form_gets_it_once(server) -> None:
    fake, env = server
    fake.exchange_mode = "body"
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 0, result.stderr
    header_form, body_form = fake.requests[:2]
    assert (header_form.status, header_form.body) == (400, b"")
    assert body_form.status == 200 and json.loads(body_form.body) == {"token": DEMO_TOKEN}
    assert body_form.authorization is None  # the body form carries the token once, in the body
    assert {r.auth for r in fake.requests[2:]} == {"jwt"} and warnings_in(result.stderr) == []


@pytest.mark.parametrize(
    ("faults", "said"),
    [
        ([Fault.status(500)] * 4, "answered HTTP 500 after 4 attempt(s)"),
        ([Fault.status(404)], "answered HTTP 404"),
        ([Fault.status(405)], "answered HTTP 405"),
        ([Fault.invalid_json()], "without a usable accessToken"),
        ([Fault.html(200)], "without a usable accessToken"),
        ([Fault.reset()] * 4, "closed or reset mid-response"),
    ],
)
def test_exchange_failure_falls_back_to_the_token_with_one_warning(server, faults: list[Fault], said: str) -> None:
    fake, env = server
    fake.inject("POST", EXCHANGE, faults)
    result = run_cli(["pull", *PROD, "--format", "json"], env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["DATABASE_URL"].startswith("postgres://app:prod-pass@")
    [warning] = warnings_in(result.stderr)
    assert said in warning and "used the API token directly as Bearer" in warning
    assert [r.auth for r in fake.requests if r.path != EXCHANGE] == ["static", "static"]


def test_exchange_rate_limit_warning_states_the_facts(server) -> None:
    fake, env = server
    fake.inject("POST", EXCHANGE, Fault.status(429, headers={"Retry-After": "60"}))
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 0, result.stderr
    assert warnings_in(result.stderr) == [
        "enkryptify-fetch: warning: The token exchange is limited to 10 a minute per token and answered 429; "
        "this run used the API token directly as Bearer, which the API accepts (auth: direct skips the exchange)."
    ]


@pytest.mark.parametrize("status", [401, 403])
def test_exchange_refusing_the_token_exits_3(server, status: int) -> None:
    fake, env = server
    fake.plain_errors = True  # the SDKs' mocks answer errors as text/plain
    fake.inject("POST", EXCHANGE, Fault.status(status, "Invalid or expired token", {"Content-Type": "text/plain"}))
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 3, result.stderr
    assert f"POST /v1/auth/exchange failed with HTTP {status}: Invalid or expired token" in result.stderr
    assert [r.path for r in fake.requests] == [EXCHANGE] and warnings_in(result.stderr) == []


def test_plain_text_error_bodies_are_read(server) -> None:
    fake, env = server
    fake.plain_errors = True
    result = run_cli(["check", "--workspace", "acme", "--project", "web-app", "--env", "nope"], env=env)
    assert result.returncode == 4, result.stderr
    assert "Environment 'nope' not found" in result.stderr


# --- what the API returns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["ek_live_Ab+/=.~!x", "ek_live_" + "9" * 64, "header.payload.signature"],
)
def test_any_token_the_sdk_accepts_is_accepted(server, token: str) -> None:
    fake, env = server
    fake.add_token(token)
    env["ENKRYPTIFY_TOKEN"] = token
    result = run_cli(["check", *PROD, "--auth", "direct"], env=env)
    assert result.returncode == 0, result.stderr
    assert fake.requests[-1].authorization == f"Bearer {token}"


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (f"Bearer {DEMO_TOKEN}", "starts with 'Bearer '"),
        (f'"{DEMO_TOKEN}"', "contains quotes"),
        (f"{DEMO_TOKEN[:12]} {DEMO_TOKEN[12:]}", "contains whitespace"),
        (f"{DEMO_TOKEN}\x07", "contains control characters"),
        (f"{DEMO_TOKEN}é", "outside printable ASCII"),
        ("hunter2-not-a-token", "neither starts with ek_live_ nor is a JWT"),
    ],
)
def test_surely_wrong_tokens_are_refused_saying_why(server, token: str, why: str) -> None:
    fake, env = server
    env["ENKRYPTIFY_TOKEN"] = token
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 2 and why in result.stderr, result.stderr
    assert fake.requests == []
    assert_not_leaked(result, {"token": token.strip()})


def test_personal_only_secrets_left_out_are_named(server) -> None:
    fake, env = server
    prj = fake.project_of("web-app")
    fake.add_secret(prj.id, "MY_OWN_KEY", personal={"production": "mine-only"})
    fake.add_secret(prj.id, "ALSO_MINE", personal={"production": "mine-too"})
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 0, result.stderr
    [warning] = warnings_in(result.stderr)
    assert "2 secret(s) in production have only a personal value" in warning
    assert "MY_OWN_KEY, ALSO_MINE" in warning and "personal-values" in warning
    assert "MY_OWN_KEY" not in result.stdout
    on = run_cli(["check", *PROD, "--personal-values"], env=env)
    assert "MY_OWN_KEY" in on.stdout and warnings_in(on.stderr) == []


def test_an_environment_without_secrets_exports_nothing_with_a_warning(server) -> None:
    fake, env = server
    fake.add_environment(fake.project_of("web-app").id, "empty")
    result = run_cli(["pull", *PROD[:4], "--env", "empty", "--format", "json"], env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}
    assert warnings_in(result.stderr) == [
        "enkryptify-fetch: warning: No secrets exported: acme/web-app/empty has no secrets with a value visible "
        "to this token."
    ]


def test_a_selection_matching_nothing_warns(server) -> None:
    _, env = server
    result = run_cli(["check", *PROD, "--secrets", "NO_SUCH_*"], env=env)
    assert result.returncode == 0, result.stderr
    [warning] = warnings_in(result.stderr)
    assert "but the secrets option selected none of them" in warning


def test_unknown_workspace_lists_the_ones_the_token_sees(server) -> None:
    fake, env = server
    fake.add_workspace("Beta", slug="beta")
    result = run_cli(["check", "--workspace", "acmee", "--project", "web-app", "--env", "production"], env=env)
    assert result.returncode == 4, result.stderr
    assert "Workspace 'acmee' not found" in result.stderr
    assert "hint: Workspaces this token sees: acme, beta." in result.stderr


def test_unknown_project_lists_the_ones_the_token_sees(server) -> None:
    fake, env = server
    fake.add_project("acme", "Api", slug="api")
    for environment in ("production", "0b6e3a8e-5d7c-4c52-9a1e-1d2f3a4b5c03"):  # a name, then an ID
        result = run_cli(["check", "--workspace", "acme", "--project", "web", "--env", environment], env=env)
        assert result.returncode == 4, result.stderr
        assert "Project 'web' not found in workspace 'acme'" in result.stderr
        assert "hint: Projects this token sees there: api, web-app." in result.stderr


# --- hostile answers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "echo",
    [
        DEMO_TOKEN.upper(),
        DEMO_TOKEN.removeprefix("ek_live_"),
        "".join(f"%{b:02x}" for b in DEMO_TOKEN.encode()),
        DEMO_TOKEN[10:19],  # a 9-character piece
    ],
)
def test_a_server_message_echoing_the_token_is_not_printed(server, echo: str) -> None:
    fake, env = server
    fake.inject("GET", SECRETS, Fault.status(400, {"message": f"bad request for {echo}"}))
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 5, result.stderr
    assert "failed with HTTP 400." in result.stderr and echo not in result.stderr
    assert "bad request for" not in result.stderr


def test_an_answer_nested_too_deeply_exits_5(server) -> None:
    fake, env = server
    fake.inject("GET", SECRETS, Fault.status(200, b"[" * 200_000))
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 5, result.stderr
    assert "nested too deeply" in result.stderr and "internal error" not in result.stderr


def test_a_trickling_server_cannot_stretch_a_request(server) -> None:
    """One byte a second, --timeout 2 --retries 1: before, every read came in time and the run never ended."""
    fake, env = server
    fake.inject("GET", SECRETS, Fault.trickle(0.5), sticky=True)
    started = time.monotonic()
    result = run_cli(["check", *PROD, "--timeout", "2", "--retries", "1"], env=env, timeout=30)
    elapsed = time.monotonic() - started
    assert result.returncode == 5, result.stderr
    assert "timed out after 1 attempt(s): the answer did not complete within 2 s" in result.stderr
    assert elapsed < 10


def test_the_run_deadline_ends_waits_that_would_pass_it(server) -> None:
    """--timeout 1 --retries 3: the run has 5 x 3 x 1 = 15 s; two 30 s Retry-After waits do not fit."""
    fake, env = server
    fake.inject("GET", SECRETS, Fault.status(503, headers={"Retry-After": "30"}), sticky=True)
    started = time.monotonic()
    result = run_cli(["check", *PROD, "--timeout", "1", "--retries", "3"], env=env, timeout=60)
    assert result.returncode == 5 and "HTTP 503" in result.stderr, result.stderr
    assert time.monotonic() - started < 10
    assert [r.status for r in fake.requests if r.path.endswith("/secret")] == [503]


def test_api_url_userinfo_is_never_printed(server) -> None:
    _, env = server
    for url in ("htps://user:s3cr3t-pw@api.example.com", "https://user:s3cr3t-pw@", "user:s3cr3t-pw@host"):
        result = run_cli(["check", *PROD, "--api-url", url], env=env)
        assert result.returncode == 2, result.stderr
        assert "s3cr3t-pw" not in result.stderr and "user" not in result.stderr.split("hint:")[0]
