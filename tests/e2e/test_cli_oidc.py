"""The CLI with ``--auth oidc`` / ``ENKRYPTIFY_AUTH=oidc``: the ID token from ENKRYPTIFY_ID_TOKEN (GitLab's
``id_tokens:`` or any CI), or from the GitHub runner in a ``run:`` step; real subprocess, fake API on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_helpers import base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.github_oidc import FakeGitHubIdTokens
from tests.fake_api.oidc import GITHUB_ISSUER, GITLAB_ISSUER
from tests.fake_api.server import serve_fake

SUBJECT = "project_path:acme/web-app:ref_type:branch:ref:main"
VALUES = {"DB_URL": "postgres://gitlab-oidc@db/app", "API_KEY": "sk-gitlab-oidc-42"}


@pytest.fixture
def fake() -> tuple[FakeEnkryptify, str]:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    for name, value in VALUES.items():
        fake.add_secret(prj, name, {"production": value})
    fake.oidc.register(ws, issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    return fake, ws


@pytest.fixture
def served(fake: tuple[FakeEnkryptify, str]) -> Iterator[tuple[FakeEnkryptify, str, str]]:
    with serve_fake(fake[0]) as url:
        yield fake[0], fake[1], url


def args(workspace: str, url: str, *extra: str) -> list[str]:
    return ["check", "--workspace", workspace, "--project", "web-app", "--env", "production", "--api-url", url, *extra]


def test_pull_with_the_id_token_variable(served: tuple[FakeEnkryptify, str, str], tmp_path: Path) -> None:
    fake, ws, url = served
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    out = tmp_path / "secrets.json"
    argv = ["pull", "--auth", "oidc", "--workspace", ws, "--project", "web-app", "--env", "production"]
    result = run_cli(
        [*argv, "--api-url", url, "--format", "json", "--output", str(out)],
        env=base_env(ENKRYPTIFY_ID_TOKEN=id_token, GITLAB_CI="true"),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == VALUES
    exchange = [r for r in fake.requests if r.path == "/v1/auth/oidc/exchange"]
    assert [r.status for r in exchange] == [200] and exchange[0].authorization is None
    assert json.loads(exchange[0].body) == {"token": id_token, "workspaceId": ws}


def test_enkryptify_auth_variable_selects_oidc(served: tuple[FakeEnkryptify, str, str]) -> None:
    fake, ws, url = served
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    result = run_cli(args(ws, url), env=base_env(ENKRYPTIFY_AUTH="oidc", ENKRYPTIFY_ID_TOKEN=id_token))
    assert result.returncode == 0, result.stderr
    assert "2 secret(s)" in result.stdout


def test_an_api_token_set_as_well_is_not_used_and_said_so(served: tuple[FakeEnkryptify, str, str]) -> None:
    fake, ws, url = served
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    env = base_env(ENKRYPTIFY_ID_TOKEN=id_token, ENKRYPTIFY_TOKEN="ek_live_unused_0123456789")
    result = run_cli([*args(ws, url), "--auth", "oidc"], env=env)
    assert result.returncode == 0, result.stderr
    assert "the Enkryptify token that is also set is not used" in result.stderr
    assert all(r.authorization in (None,) or "ek_live_" not in r.authorization for r in fake.requests)


def test_without_an_id_token_exit_2_shows_the_gitlab_snippet(served: tuple[FakeEnkryptify, str, str]) -> None:
    fake, ws, url = served
    result = run_cli([*args(ws, url), "--auth", "oidc"], env=base_env(GITLAB_CI="true"))
    assert result.returncode == 2
    assert "needs an ID token in ENKRYPTIFY_ID_TOKEN" in result.stderr
    for line in ("id_tokens:", "ENKRYPTIFY_ID_TOKEN:", "aud: enkryptify"):
        assert line in result.stderr
    assert fake.requests == []


def test_a_malformed_id_token_is_refused_without_echoing_it(served: tuple[FakeEnkryptify, str, str]) -> None:
    _fake, ws, url = served
    bad = "not-a-jwt-0d1e2f3a4b5c6d7e8f"
    result = run_cli([*args(ws, url), "--auth", "oidc"], env=base_env(ENKRYPTIFY_ID_TOKEN=bad))
    assert result.returncode == 2
    assert "is not an OIDC ID token" in result.stderr
    assert bad not in result.stderr


def test_refused_exit_3_lists_issuer_audience_and_subject(served: tuple[FakeEnkryptify, str, str]) -> None:
    fake, ws, url = served
    tag = "project_path:acme/web-app:ref_type:tag:ref:v1.2.3"
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience=["enkryptify", "other"], subject=tag)
    result = run_cli([*args(ws, url), "--auth", "oidc"], env=base_env(ENKRYPTIFY_ID_TOKEN=id_token))
    assert result.returncode == 3
    assert f"issuer '{GITLAB_ISSUER}', audience 'enkryptify, other', subject '{tag}'" in result.stderr
    assert "Register an OIDC credential in Enkryptify for workspace" in result.stderr
    assert "experimental" in result.stderr


def test_claims_are_sanitised_in_the_hint(served: tuple[FakeEnkryptify, str, str]) -> None:
    """A subject with control characters or a token-shaped text never reaches the log as such."""
    fake, ws, url = served
    sneaky = "project_path:acme/x:ref_type:branch:ref:main\n::error::forged\x1b[31m"
    id_token = fake.oidc.mint(issuer="ek_live_pretend_token_value", audience="enkryptify", subject=sneaky)
    result = run_cli([*args(ws, url), "--auth", "oidc"], env=base_env(ENKRYPTIFY_ID_TOKEN=id_token))
    assert result.returncode == 3
    assert "main?: :error: :forged?[31m" in result.stderr  # control characters shown as ?, commands broken
    assert "ek_live_pretend" not in result.stderr and "(not shown: looks like a token)" in result.stderr
    assert all(line.startswith("enkryptify-fetch: ") for line in result.stderr.splitlines())


def test_an_unknown_id_token_exit_3(served: tuple[FakeEnkryptify, str, str]) -> None:
    _fake, ws, url = served
    other = FakeEnkryptify()  # minted by another issuer: the fake API never saw it
    id_token = other.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    result = run_cli([*args(ws, url), "--auth", "oidc"], env=base_env(ENKRYPTIFY_ID_TOKEN=id_token))
    assert result.returncode == 3
    assert id_token not in result.stderr and "HTTP 401" in result.stderr


def test_api_without_oidc_exchange_exit_5(served: tuple[FakeEnkryptify, str, str]) -> None:
    fake, ws, url = served
    fake.oidc.enabled = False
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    result = run_cli([*args(ws, url), "--auth", "oidc"], env=base_env(ENKRYPTIFY_ID_TOKEN=id_token))
    assert result.returncode == 5
    assert "does not offer OIDC exchange here" in result.stderr


def test_workspace_is_required(served: tuple[FakeEnkryptify, str, str]) -> None:
    fake, _ws, url = served
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    argv = ["check", "--auth", "oidc", "--project", "web-app", "--env", "production", "--api-url", url]
    result = run_cli(argv, env=base_env(ENKRYPTIFY_ID_TOKEN=id_token))
    assert result.returncode == 2
    assert "workspace ID" in result.stderr
    assert fake.requests == []


def test_in_a_github_run_step_the_cli_asks_the_runner(served: tuple[FakeEnkryptify, str, str]) -> None:
    fake, ws, url = served
    subject = "repo:acme/web-app:environment:production"
    fake.oidc.register(ws, issuer=GITHUB_ISSUER, audience="api://enkryptify", subject=subject)
    github = FakeGitHubIdTokens(fake, subject=subject)
    with serve_fake(github) as base:
        env = base_env(
            GITHUB_ACTIONS="true",
            ACTIONS_ID_TOKEN_REQUEST_URL=github.request_url(base),
            ACTIONS_ID_TOKEN_REQUEST_TOKEN=github.request_token,
        )
        result = run_cli([*args(ws, url), "--auth", "oidc", "--oidc-audience", "api://enkryptify"], env=env)
    assert result.returncode == 0, result.stderr
    assert github.audiences == ["api://enkryptify"]


def test_runner_variables_are_ignored_outside_github(served: tuple[FakeEnkryptify, str, str]) -> None:
    """Only the GitHub runner sets where the request token goes: elsewhere the variables mean nothing."""
    fake, ws, url = served
    github = FakeGitHubIdTokens(fake)
    with serve_fake(github) as base:
        env = base_env(
            ACTIONS_ID_TOKEN_REQUEST_URL=github.request_url(base),
            ACTIONS_ID_TOKEN_REQUEST_TOKEN=github.request_token,
        )
        result = run_cli([*args(ws, url), "--auth", "oidc"], env=env)
    assert result.returncode == 2 and "ENKRYPTIFY_ID_TOKEN" in result.stderr
    assert github.requests == 0
