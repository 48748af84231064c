"""The fake's OIDC exchange and GitHub ID-token endpoint, at the core (no sockets)."""

from __future__ import annotations

import json

import pytest

from tests.fake_api.app import FakeEnkryptify, FakeRequest
from tests.fake_api.github_oidc import PATH, FakeGitHubIdTokens
from tests.fake_api.oidc import GITHUB_ISSUER, GITLAB_ISSUER
from tests.hardening import leakscan

SUBJECT = "project_path:acme/web-app:ref_type:branch:ref:main"
EXCHANGE = "/v1/auth/oidc/exchange"


@pytest.fixture
def fake() -> tuple[FakeEnkryptify, str]:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    fake.add_secret(prj, "KEY", {"production": "value-1234"})
    fake.oidc.register(ws, issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    return fake, ws


def exchange(fake: FakeEnkryptify, body: object) -> tuple[int, dict[str, object]]:
    resp = fake.handle(FakeRequest.build("POST", EXCHANGE, json_body=body))
    return resp.status, resp.json()


def test_minted_token_with_matching_claims_gets_a_jwt_scoped_to_the_workspace(fake) -> None:
    fake, ws = fake
    other = fake.add_workspace("other")
    token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    status, body = exchange(fake, {"token": token, "workspaceId": ws})
    assert status == 200 and body["tokenType"] == "Bearer" and body["expiresIn"] == fake.jwt_ttl
    jwt = str(body["accessToken"])
    listed = fake.handle(FakeRequest.build("GET", "/v1/workspace", token=jwt)).json()
    assert [w["id"] for w in listed] == [ws] and other not in json.dumps(listed)


@pytest.mark.parametrize(
    ("claims", "workspace", "status"),
    [
        ({"subject": "project_path:acme/web-app:ref_type:branch:ref:dev"}, None, 403),
        ({"audience": "https://gitlab.com"}, None, 403),
        ({"issuer": GITHUB_ISSUER}, None, 403),
        ({}, "not-this-workspace", 403),
        ({"audience": ["x", "enkryptify"]}, None, 200),  # any listed audience may match
        ({"ttl": -1}, None, 401),  # expired
    ],
)
def test_every_claim_and_the_workspace_must_match(fake, claims, workspace, status) -> None:
    fake, ws = fake
    args = {"issuer": GITLAB_ISSUER, "audience": "enkryptify", "subject": SUBJECT} | claims
    token = fake.oidc.mint(**args)
    assert exchange(fake, {"token": token, "workspaceId": workspace or ws})[0] == status


def test_bad_bodies_and_unknown_tokens(fake) -> None:
    fake, ws = fake
    assert exchange(fake, {"workspaceId": ws})[0] == 400
    assert exchange(fake, {"token": "a.b.c"})[0] == 400
    assert exchange(fake, {"token": "a.b.c", "workspaceId": ws})[0] == 401  # never minted here
    fake.oidc.enabled = False
    assert exchange(fake, {"token": "a.b.c", "workspaceId": ws})[0] == 404
    records = [r for r in fake.requests if r.path == EXCHANGE]
    assert [r.status for r in records] == [400, 400, 401, 404]


def test_github_endpoint_checks_the_request_token_and_records_the_audience(fake) -> None:
    fake, _ws = fake
    github = FakeGitHubIdTokens(fake, subject="repo:acme/web-app:ref:refs/heads/main")
    good = {"Authorization": f"bearer {github.request_token}"}
    resp = github.handle(FakeRequest.build("GET", f"{PATH}?api-version=2.0&audience=a%20b", headers=good))
    assert resp.status == 200
    token = resp.json()["value"]
    assert fake.oidc.id_tokens[token]["aud"] == "a b" and fake.oidc.id_tokens[token]["iss"] == GITHUB_ISSUER
    default = github.handle(FakeRequest.build("GET", f"{PATH}?api-version=2.0", headers=good)).json()["value"]
    assert fake.oidc.id_tokens[default]["aud"] == "https://github.com/acme"  # GitHub's default audience
    wrong = {"Authorization": "Bearer ghs_wrong"}
    assert github.handle(FakeRequest.build("GET", f"{PATH}?audience=x", headers=wrong)).status == 401
    assert github.handle(FakeRequest.build("GET", f"{PATH}?audience=x")).status == 401
    assert github.audiences == ["a b", None]


def test_the_leak_scan_knows_the_id_tokens_and_the_request_token(fake) -> None:
    fake, _ws = fake
    github = FakeGitHubIdTokens(fake)
    token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    known = {k.label: k.text for k in leakscan.known_secrets([fake])}
    assert known["OIDC ID token"] == token
    assert known["ID-token request token"] == github.request_token
    with leakscan.restricted([fake]):
        with pytest.raises(leakscan.LeakError, match="OIDC ID token appeared in stderr"):
            leakscan.scan({"stderr": f"oops {token}"})
        with pytest.raises(leakscan.LeakError, match="ID-token request token appeared in stdout"):
            leakscan.scan({"stdout": github.request_token})
