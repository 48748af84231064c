"""Tokens, issued JWTs and rate-limit windows for the fake API (no I/O, no locking)."""

from __future__ import annotations

import base64
import json
import math
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.fake_api.model import Environment, Project, Workspace


def _scope(items: Iterable[str] | None) -> frozenset[str] | None:
    if items is None:
        return None
    if isinstance(items, str):
        return frozenset({items})
    return frozenset(items)


@dataclass
class TokenGrant:
    """A static `ek_live_...` token and what it may see. A scope of None means "all";
    a scope matches an object's ID, slug or name."""

    token: str = field(repr=False)
    workspaces: frozenset[str] | None = None
    projects: frozenset[str] | None = None
    environments: frozenset[str] | None = None
    read_only: bool = True
    revoked: bool = False

    @classmethod
    def make(
        cls,
        token: str,
        *,
        workspaces: Iterable[str] | None = None,
        projects: Iterable[str] | None = None,
        environments: Iterable[str] | None = None,
        read_only: bool = True,
        revoked: bool = False,
    ) -> TokenGrant:
        return cls(token, _scope(workspaces), _scope(projects), _scope(environments), read_only, revoked)

    def sees_workspace(self, ws: Workspace) -> bool:
        return self.workspaces is None or bool({ws.id, ws.slug, ws.name} & self.workspaces)

    def sees_project(self, prj: Project) -> bool:
        return self.projects is None or bool({prj.id, prj.slug, prj.name} & self.projects)

    def sees_env(self, env: Environment) -> bool:
        return self.environments is None or bool({env.id, env.name} & self.environments)


@dataclass
class IssuedJwt:
    grant: TokenGrant
    expires_at: float  # on the fake's clock
    revoked: bool = False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(ttl: int) -> str:
    """A JWT-shaped string (header.payload.signature), unique per call; never embeds the token."""
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"iss": "fake-enkryptify", "jti": uuid.uuid4().hex, "iat": now, "exp": now + ttl}
    parts = [json.dumps(obj, separators=(",", ":")).encode() for obj in (header, payload)]
    parts.append(secrets.token_bytes(32))
    return ".".join(_b64(p) for p in parts)


@dataclass
class Window:
    start: float
    count: int = 0


@dataclass
class RateLimiter:
    """Fixed 60-second windows per key."""

    period: float = 60.0
    windows: dict[str, Window] = field(default_factory=dict)

    def hit(self, key: str, limit: int, now: float) -> tuple[bool, dict[str, str]]:
        """Count one request; return (limited?, RateLimit-* headers [+ Retry-After when limited])."""
        w = self.windows.get(key)
        if w is None or now - w.start >= self.period:
            w = self.windows[key] = Window(now)
        w.count += 1
        reset = max(1, math.ceil(round(self.period - (now - w.start), 3)))  # round: float noise
        limited = w.count > limit
        headers = {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(0, limit - w.count)),
            "RateLimit-Reset": str(reset),
        }
        if limited:
            headers["Retry-After"] = str(reset)
        return limited, headers

    def clear(self) -> None:
        self.windows.clear()
