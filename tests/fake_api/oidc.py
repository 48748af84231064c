"""OIDC workload identity for the fake API: an issuer that mints ID tokens, credentials registered in a
workspace by issuer, audience and subject (exact match, as Enkryptify's /credentials/kubernetes page
describes), and the exchange ``POST /v1/auth/oidc/exchange`` (``{"token", "workspaceId"}``, no
Authorization header; sdk src/kubernetes-exchange.ts).

Pure: ``FakeOidc.exchange`` returns a status and a JSON object; ``app.FakeEnkryptify`` routes to it and
issues the JWT. ID tokens are JWT-shaped (header.claims.signature) and only the ones minted here are
accepted: there is no signature check, the fake simply remembers what it minted.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fake_api.model import Workspace
from tests.fake_api.tokens import TokenGrant

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class OidcCredential:
    """A credential registered in a workspace: ID tokens with exactly these claims get a JWT with ``grant``."""

    workspace_id: str
    issuer: str
    audience: str
    subject: str
    grant: TokenGrant = field(repr=False)


@dataclass
class ExchangeRecord:
    """One exchange as the fake saw it (claims of the ID token, never the token)."""

    workspace_id: str | None
    claims: dict[str, Any] | None
    status: int


@dataclass
class FakeOidc:
    """Minted ID tokens (token → claims), registered credentials, and the exchange rule.

    ``enabled = False`` makes the endpoint answer 404, like an API that does not offer OIDC exchange.
    ``request_tokens`` holds the fake GitHub runner's request tokens (the leak scan watches them too).
    """

    enabled: bool = True
    id_tokens: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    credentials: list[OidcCredential] = field(default_factory=list)
    request_tokens: set[str] = field(default_factory=set, repr=False)
    exchanges: list[ExchangeRecord] = field(default_factory=list)

    def mint(self, *, issuer: str, audience: str | list[str], subject: str, ttl: int = 300, **extra: Any) -> str:
        """A fresh ID token with these claims (plus iat, exp, jti and ``extra``)."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "sub": subject, "iat": now, "exp": now + ttl, **extra}
        claims["jti"] = uuid.uuid4().hex
        header = {"alg": "RS256", "typ": "JWT", "kid": "fake-issuer-key"}
        parts = [json.dumps(obj, separators=(",", ":")).encode() for obj in (header, claims)]
        token = ".".join([*(_b64(p) for p in parts), _b64(secrets.token_bytes(64))])
        self.id_tokens[token] = claims
        return token

    def register(
        self,
        workspace: Workspace | str,
        *,
        issuer: str,
        audience: str,
        subject: str,
        projects: Iterable[str] | None = None,
        environments: Iterable[str] | None = None,
    ) -> OidcCredential:
        """Register a credential in ``workspace`` (a Workspace or its ID); its JWTs see only that workspace."""
        workspace_id = workspace if isinstance(workspace, str) else workspace.id
        grant = TokenGrant.make(
            f"oidc:{uuid.uuid4().hex}", workspaces=[workspace_id], projects=projects, environments=environments
        )
        credential = OidcCredential(workspace_id, issuer, audience, subject, grant)
        self.credentials.append(credential)
        return credential

    def exchange(
        self, body: bytes, workspaces: Mapping[str, Workspace], issue: Callable[[TokenGrant], dict[str, Any]]
    ) -> tuple[int, dict[str, Any]]:
        """The exchange rule: 400 bad body, 401 unknown or expired ID token, 403 no matching credential."""
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError:
            return self._record(None, None, 400, "Invalid JSON body")
        if not isinstance(data, dict) or not isinstance(data.get("token"), str) or not data["token"]:
            return self._record(None, None, 400, "token: Required")
        workspace_id = data.get("workspaceId")
        if not isinstance(workspace_id, str) or not workspace_id:
            return self._record(None, None, 400, "workspaceId: Required")
        claims = self.id_tokens.get(data["token"])
        if claims is None:
            return self._record(workspace_id, None, 401, "Invalid ID token")
        if int(claims["exp"]) <= time.time():
            return self._record(workspace_id, claims, 401, "ID token expired")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        known = workspace_id in workspaces
        for credential in self.credentials:
            if (
                known
                and credential.workspace_id == workspace_id
                and credential.issuer == claims["iss"]
                and credential.audience in audiences
                and credential.subject == claims["sub"]
            ):
                self.exchanges.append(ExchangeRecord(workspace_id, dict(claims), 200))
                return 200, issue(credential.grant)
        return self._record(workspace_id, claims, 403, "No OIDC credential matches this token")

    def _record(
        self, workspace_id: str | None, claims: dict[str, Any] | None, status: int, message: str
    ) -> tuple[int, dict[str, Any]]:
        self.exchanges.append(ExchangeRecord(workspace_id, dict(claims) if claims else None, status))
        return status, {"message": message}
