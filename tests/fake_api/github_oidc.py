"""A fake GitHub runner ID-token endpoint (what ``ACTIONS_ID_TOKEN_REQUEST_URL`` points at).

The real one (actions/toolkit packages/core/src/oidc-utils.ts, ``getIDToken``, commit
0d78354e86661d41a5e8024bf46d110a72e1b6f6) is asked with
``GET <ACTIONS_ID_TOKEN_REQUEST_URL>&audience=<aud>`` and ``Authorization: Bearer
<ACTIONS_ID_TOKEN_REQUEST_TOKEN>``; it answers ``{"value": "<JWT>"}`` whose ``aud`` is the audience
asked for (default: ``https://github.com/<owner>``), ``iss`` is https://token.actions.githubusercontent.com.

    endpoint = FakeGitHubIdTokens(fake, subject="repo:acme/web-app:ref:refs/heads/main")
    with serve_fake(endpoint) as base:
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] = endpoint.request_url(base)
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = endpoint.request_token

The ID tokens are minted by ``fake.oidc`` (so the fake API accepts them) and the request token is
recorded in ``fake.oidc.request_tokens`` (so the leak scan looks for it). ``audiences`` records the
audience of every request; ``requests`` how many there were.
"""

from __future__ import annotations

import json
import secrets
import threading

from tests.fake_api.app import FakeEnkryptify, FakeRequest, FakeResponse
from tests.fake_api.oidc import GITHUB_ISSUER

PATH = "/_apis/distributedtask/hubs/Actions/plans/3f1c/jobs/9a2b/idtoken"


class FakeGitHubIdTokens:
    def __init__(
        self,
        fake: FakeEnkryptify,
        *,
        subject: str = "repo:acme/web-app:ref:refs/heads/main",
        owner: str = "acme",
        status: int | None = None,
    ) -> None:
        self.fake = fake
        self.subject = subject
        self.owner = owner
        self.status = status  # answer this status instead (e.g. 500 to test retries)
        self.request_token = "ghs_idreq_" + secrets.token_urlsafe(24)
        fake.oidc.request_tokens.add(self.request_token)
        self.audiences: list[str | None] = []
        self.requests = 0
        self._lock = threading.Lock()

    def request_url(self, base_url: str) -> str:
        """The URL as the runner sets it: it already has a query (``api-version``)."""
        return f"{base_url}{PATH}?api-version=2.0"

    def handle(self, req: FakeRequest) -> FakeResponse:
        with self._lock:
            self.requests += 1
            if req.method != "GET" or req.path != PATH:
                return _json(404, {"message": "Not found"})
            scheme, _, value = req.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or value.strip() != self.request_token:
                return _json(401, {"message": "Unauthorized"})
            audience = req.query.get("audience", [None])[-1]
            self.audiences.append(audience)
            if self.status is not None:
                return _json(self.status, {"message": "injected"})
            token = self.fake.oidc.mint(
                issuer=GITHUB_ISSUER,
                audience=audience or f"https://github.com/{self.owner}",
                subject=self.subject,
                repository_owner=self.owner,
            )
            return _json(200, {"count": 1, "value": token})


def _json(status: int, body: object) -> FakeResponse:
    return FakeResponse(status, {"Content-Type": "application/json"}, json.dumps(body).encode())
