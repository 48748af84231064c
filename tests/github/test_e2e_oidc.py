"""End-to-end: the action with ``auth: oidc``, as the runner runs it, against the fake API and a fake
GitHub ID-token endpoint, both on loopback (two servers: the ID token comes from another host).

The runner passes ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN to the container when the job has
``permissions: id-token: write``; no ENKRYPTIFY_TOKEN is set in any of these runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.github_oidc import FakeGitHubIdTokens
from tests.fake_api.oidc import GITHUB_ISSUER
from tests.fake_api.server import serve_fake
from tests.github.action_harness import REPO, RunCapture, RunnerDirs, assert_action_run, run_entrypoint
from tests.github.runner_emulation import replay_log

SUBJECT = "repo:acme/web-app:ref:refs/heads/main"
SECRETS = {"DB_URL": "postgres://oidc-user:oidc-pass@db/app", "API_KEY": "sk-oidc-0123456789"}


@dataclass
class Setup:
    fake: FakeEnkryptify
    github: FakeGitHubIdTokens
    api_url: str
    github_url: str
    workspace_id: str


def make_fake() -> tuple[FakeEnkryptify, str]:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production", "staging"))
    for name, value in SECRETS.items():
        fake.add_secret(prj, name, {"production": value, "staging": "staging-" + value})
    return fake, ws


@pytest.fixture
def setup() -> Iterator[Setup]:
    fake, ws = make_fake()
    github = FakeGitHubIdTokens(fake, subject=SUBJECT)
    with serve_fake(fake) as api_url, serve_fake(github) as github_base:
        yield Setup(fake, github, api_url, github.request_url(github_base), ws)


@pytest.fixture
def dirs(tmp_path: Path) -> RunnerDirs:
    return RunnerDirs(tmp_path)


def step_env(s: Setup, dirs: RunnerDirs, *, runner_vars: bool = True, **inputs: str) -> dict[str, str]:
    base = {
        "auth": "oidc",
        "workspace": s.workspace_id,
        "project": "web-app",
        "environment": "production",
        "api-url": s.api_url,
    }
    base.update({name.replace("_", "-"): value for name, value in inputs.items()})
    extra = {}
    if runner_vars:
        extra = {"ACTIONS_ID_TOKEN_REQUEST_URL": s.github_url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": s.github.request_token}
    return dirs.environ(base, extra=extra)


def credentials(s: Setup) -> dict[str, str]:
    found = {"request token": s.github.request_token}
    found.update({f"id token {i}": token for i, token in enumerate(s.fake.oidc.id_tokens)})
    found.update({f"jwt {i}": jwt for i, jwt in enumerate(s.fake.jwts)})
    return found


def error_text(run: RunCapture) -> str:
    return "\n".join(run.annotations("error"))


def test_oidc_run_exports_with_no_api_token_and_masks_every_credential_first(setup: Setup, dirs: RunnerDirs) -> None:
    setup.fake.oidc.register(setup.workspace_id, issuer=GITHUB_ISSUER, audience="enkryptify", subject=SUBJECT)
    run = run_entrypoint(step_env(setup, dirs), cwd=dirs.workspace)

    assert run.exit_code == 0, error_text(run)
    assert setup.github.audiences == ["enkryptify"]  # the default oidc-audience
    assert len(setup.fake.oidc.id_tokens) == 1 and len(setup.fake.jwts) == 1
    assert_action_run(
        run,
        secrets=SECRETS | credentials(setup),
        expected_env=SECRETS,
        expected_outputs={"names": json.dumps(list(SECRETS)), "count": "2"},
        credentials=credentials(setup),
    )
    exchange = [r for r in setup.fake.requests if r.path == "/v1/auth/oidc/exchange"]
    assert len(exchange) == 1 and exchange[0].status == 200
    assert exchange[0].authorization is None, "the OIDC exchange must carry no Authorization header"
    body = json.loads(exchange[0].body)
    assert set(body) == {"token", "workspaceId"} and body["workspaceId"] == setup.workspace_id
    assert body["token"] in setup.fake.oidc.id_tokens
    later = [r for r in setup.fake.requests if r.path.startswith("/v1/workspace")]
    assert later and all(r.auth == "jwt" for r in later)
    # The masks: the request token before the ID token, the ID token before the JWT.
    registered = replay_log(run.stdout).masker.registered
    order = [setup.github.request_token, next(iter(setup.fake.oidc.id_tokens)), next(iter(setup.fake.jwts))]
    assert registered[:3] == order, "the request token, ID token and JWT are not the first three masks, in order"


def test_custom_audience_is_requested_and_matched(setup: Setup, dirs: RunnerDirs) -> None:
    audience = "https://api.enkryptify.com/acme prod"
    setup.fake.oidc.register(setup.workspace_id, issuer=GITHUB_ISSUER, audience=audience, subject=SUBJECT)
    run = run_entrypoint(step_env(setup, dirs, oidc_audience=audience), cwd=dirs.workspace)

    assert run.exit_code == 0, error_text(run)
    assert setup.github.audiences == [audience]  # sent URL-encoded, received intact
    assert run.env.values == SECRETS


def test_without_id_token_permission_exit_2_names_the_permission_and_forks(setup: Setup, dirs: RunnerDirs) -> None:
    run = run_entrypoint(step_env(setup, dirs, runner_vars=False), cwd=dirs.workspace)

    assert run.exit_code == 2
    text = error_text(run)
    assert "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set" in text
    assert "permissions: id-token: write" in text and "forks" in text
    assert setup.fake.requests == [] and setup.github.requests == 0
    assert_action_run(run, secrets=SECRETS, expected_env=None, expected_outputs=None)


def test_refused_id_token_exit_3_lists_the_claims_to_register(setup: Setup, dirs: RunnerDirs) -> None:
    setup.github.subject = "repo:acme/web-app:pull_request"
    setup.fake.oidc.register(setup.workspace_id, issuer=GITHUB_ISSUER, audience="enkryptify", subject=SUBJECT)
    run = run_entrypoint(step_env(setup, dirs), cwd=dirs.workspace)

    assert run.exit_code == 3
    text = error_text(run)
    assert f"issuer '{GITHUB_ISSUER}'" in text
    assert "audience 'enkryptify'" in text
    assert "subject 'repo:acme/web-app:pull_request'" in text
    assert f"workspace '{setup.workspace_id}'" in text
    sent = credentials(setup)
    assert_action_run(run, secrets=SECRETS | sent, expected_env=None, expected_outputs=None, credentials=sent)
    summary = run.files["GITHUB_STEP_SUMMARY"]
    assert "subject" in summary and not any(token in summary for token in setup.fake.oidc.id_tokens)


def test_api_without_oidc_exchange_exit_5_says_so(setup: Setup, dirs: RunnerDirs) -> None:
    setup.fake.oidc.enabled = False
    run = run_entrypoint(step_env(setup, dirs), cwd=dirs.workspace)

    assert run.exit_code == 5
    assert "does not offer OIDC exchange here" in error_text(run)
    assert_action_run(run, secrets=SECRETS | credentials(setup), expected_env=None, expected_outputs=None)


def test_workspace_is_required(setup: Setup, dirs: RunnerDirs) -> None:
    run = run_entrypoint(step_env(setup, dirs, workspace=""), cwd=dirs.workspace)

    assert run.exit_code == 2
    assert "workspace ID" in error_text(run)
    assert setup.github.requests == 0 and setup.fake.requests == []


def test_plain_http_request_url_to_another_host_is_refused_before_any_request(setup: Setup, dirs: RunnerDirs) -> None:
    env = step_env(setup, dirs)
    env["ACTIONS_ID_TOKEN_REQUEST_URL"] = "http://token.example.invalid/idtoken?api-version=2.0"
    run = run_entrypoint(env, cwd=dirs.workspace)

    assert run.exit_code == 2
    assert "Refusing plain http:// to token.example.invalid" in error_text(run)
    assert setup.fake.requests == [] and setup.github.requests == 0
    first = replay_log(run.stdout).masker.registered[:1] == [setup.github.request_token]
    assert first, "the request token was not masked first"


def test_the_config_file_cannot_switch_to_oidc(setup: Setup, dirs: RunnerDirs) -> None:
    (dirs.workspace / ".enkryptify.yml").write_text("auth: oidc\noidc-audience: sts.amazonaws.com\n")
    env = step_env(setup, dirs)
    run = run_entrypoint(env, cwd=dirs.workspace)

    assert run.exit_code == 2
    assert "sets auth, oidc-audience, which only the workflow may set" in error_text(run)
    assert setup.github.requests == 0


def test_the_readme_workflow_runs_through_the_action(dirs: RunnerDirs) -> None:
    """examples/github/oidc.yml (embedded in the README): its step's inputs, the runner's ID-token variables."""
    workflow = yaml.safe_load((REPO / "examples" / "github" / "oidc.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in workflow["jobs"]["deploy"]["steps"] if str(s.get("uses", "")).startswith("enkryptify/")]
    inputs = {name: str(value) for name, value in step["with"].items()}
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme", id=inputs["workspace"])
    prj = fake.add_project(ws, inputs["project"], environments=(inputs["environment"],))
    fake.add_secret(prj, "DB_URL", {inputs["environment"]: SECRETS["DB_URL"]})
    fake.oidc.register(ws, issuer=GITHUB_ISSUER, audience="enkryptify", subject=SUBJECT)
    github = FakeGitHubIdTokens(fake, subject=SUBJECT)
    with serve_fake(fake) as api_url, serve_fake(github) as github_base:
        runner = {
            "ACTIONS_ID_TOKEN_REQUEST_URL": github.request_url(github_base),
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": github.request_token,
            "ENKRYPTIFY_API_URL": api_url,
        }
        run = run_entrypoint(dirs.environ(inputs, extra=runner), cwd=dirs.workspace)
    assert run.exit_code == 0, error_text(run)
    assert run.env.values == {"DB_URL": SECRETS["DB_URL"]}
    assert github.audiences == ["enkryptify"]


def test_an_id_token_passed_in_enkryptify_id_token_is_used_and_masked_first(setup: Setup, dirs: RunnerDirs) -> None:
    setup.fake.oidc.register(setup.workspace_id, issuer=GITHUB_ISSUER, audience="custom", subject=SUBJECT)
    id_token = setup.fake.oidc.mint(issuer=GITHUB_ISSUER, audience="custom", subject=SUBJECT)
    env = step_env(setup, dirs, runner_vars=False) | {"ENKRYPTIFY_ID_TOKEN": id_token}
    run = run_entrypoint(env, cwd=dirs.workspace)

    assert run.exit_code == 0, error_text(run)
    assert setup.github.requests == 0  # a given ID token is not requested again
    assert replay_log(run.stdout).masker.registered[:1] == [id_token]
    sent = {"id token": id_token} | {f"jwt {i}": jwt for i, jwt in enumerate(setup.fake.jwts)}
    outputs = {"names": json.dumps(list(SECRETS)), "count": "2"}
    assert_action_run(run, secrets=SECRETS | sent, expected_env=SECRETS, expected_outputs=outputs, credentials=sent)
