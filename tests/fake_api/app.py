"""The fake Enkryptify API: `FakeEnkryptify.handle(FakeRequest) -> FakeResponse`.

Pure core shared by the two adapters (server.py: a loopback HTTP server; transport.py:
an httpx.MockTransport). Every rule lives here: routing, auth and token exchange, scopes,
rate limits, fault injection and the request log. Thread-safe (one lock around `handle`).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fake_api.faults import JSON_CT, REPLACING, Fault, FaultBook
from tests.fake_api.model import Model, Project, Workspace
from tests.fake_api.oidc import FakeOidc
from tests.fake_api.tokens import IssuedJwt, RateLimiter, TokenGrant, make_jwt

AuthKind = Literal["static", "jwt", "none", "invalid"]
ExchangeMode = Literal["both", "header", "body", "disabled"]
DEMO_SEED = Path(__file__).with_name("seed_demo.yml")
_SETTINGS = frozenset(
    {
        "jwt_ttl",
        "exchange_mode",
        "rate_limits",
        "per_client_limit",
        "exchange_limit",
        "accept_static_bearer",
        "plain_errors",
    }
)


@dataclass
class FakeRequest:
    method: str
    path: str  # percent-encoded, no query string
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    client: str = "mock"  # rate-limit key: client address (server) or a fixed key (mock)

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        *,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        json_body: Any = None,
        body: bytes = b"",
        client: str = "mock",
    ) -> FakeRequest:
        """Convenience for core-level tests: `FakeRequest.build("GET", "/v1/workspace", token=...)`."""
        parts = urlsplit(target)
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if token is not None:
            hdrs["authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("content-type", "application/json")
        query = parse_qs(parts.query, keep_blank_values=True)
        return cls(method.upper(), parts.path, query, hdrs, body, client)


@dataclass
class FakeResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # adapter: wait this long first (mock: raise httpx.ReadTimeout)
    reset: bool = False  # adapter: send part of the body then reset (mock: raise httpx.ReadError)
    trickle: float = 0.0  # adapter: send the body one byte per `trickle` seconds (mock: all at once)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RequestRecord:
    method: str
    path: str  # decoded path
    query: dict[str, str]  # last value of each parameter
    auth: AuthKind
    status: int
    fault: str | None = None
    client: str = ""
    authorization: str | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # lower-case names
    body: bytes = field(default=b"", repr=False)


def _json(status: int, obj: Any, headers: Mapping[str, str] | None = None) -> FakeResponse:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return FakeResponse(status, {"Content-Type": JSON_CT, **(headers or {})}, body)


def _error(status: int, message: str) -> FakeResponse:
    return _json(status, {"message": message})


class FakeEnkryptify(Model):
    """State + rules. Configure with the attributes below; build data with the Model methods."""

    def __init__(self) -> None:
        super().__init__()
        self.accept_static_bearer = True
        # The header form is what the API reference and every SDK use; "body" and "both" are opt-in
        # modes for the client's fallback to the API-tokens page's {"token": ...} form.
        self.exchange_mode: ExchangeMode = "header"
        # Error bodies as text/plain (what the SDKs' own test mocks send) instead of {"message": ...}.
        self.plain_errors = False
        self.jwt_ttl = 900
        self.rate_limits = True
        self.per_client_limit = 200
        self.exchange_limit = 10
        self.clock: Callable[[], float] = time.monotonic
        self.requests: list[RequestRecord] = []
        self.tokens: dict[str, TokenGrant] = {}
        self.jwts: dict[str, IssuedJwt] = {}
        self.oidc = FakeOidc()  # OIDC exchange: tests/fake_api/oidc.py
        self._offset = 0.0
        self._lock = threading.RLock()
        self._faults = FaultBook()
        self._client_limiter = RateLimiter()
        self._exchange_limiter = RateLimiter()

    # ------------------------------------------------------------ construction
    @classmethod
    def from_seed(cls, seed: Mapping[str, Any]) -> FakeEnkryptify:
        fake = cls()
        for t in fake.load_seed(seed):
            fake.add_token(
                t["token"],
                workspaces=t.get("workspaces"),
                projects=t.get("projects"),
                environments=t.get("environments"),
                read_only=t.get("read_only", True),
                revoked=t.get("revoked", False),
            )
        for key, value in (seed.get("settings") or {}).items():
            if key not in _SETTINGS:
                raise ValueError(f"unknown setting {key!r}")
            setattr(fake, key, value)
        return fake

    @classmethod
    def from_file(cls, path: str | Path) -> FakeEnkryptify:
        """Load a .json or .yml/.yaml seed file."""
        p = Path(path).resolve()
        return cls.from_seed(_read_seed(p, p.stat().st_mtime_ns))

    @classmethod
    def demo(cls) -> FakeEnkryptify:
        """The demo seed (seed_demo.yml): workspace acme, project web-app, token DEMO_TOKEN."""
        return cls.from_file(DEMO_SEED)

    @classmethod
    def large(
        cls, n_secrets: int, *, environments: Iterable[str] = ("development", "staging", "production")
    ) -> FakeEnkryptify:
        """Workspace `bench`, project `big` with `n_secrets` secrets valued in every environment;
        token `LARGE_TOKEN` with full access. Builds 10,000 secrets in well under a second."""
        fake = cls()
        ws = fake.add_workspace("bench")
        prj = fake.add_project(ws, "big", team="Bench", environments=environments)
        envs = [(e.id, e.name) for e in fake.projects[prj].environments.values()]
        for i in range(n_secrets):
            values = {eid: f"{name}-value-{i}" for eid, name in envs}
            fake.add_secret(prj, f"SECRET_{i:05d}", values, id=f"5ec0b000-0000-4000-8000-{i:012d}")
        fake.add_token(LARGE_TOKEN)
        return fake

    # ------------------------------------------------------------ token admin
    def add_token(
        self,
        token: str,
        *,
        workspaces: Iterable[str] | None = None,
        projects: Iterable[str] | None = None,
        environments: Iterable[str] | None = None,
        read_only: bool = True,
        revoked: bool = False,
    ) -> None:
        with self._lock:
            self.tokens[token] = TokenGrant.make(
                token,
                workspaces=workspaces,
                projects=projects,
                environments=environments,
                read_only=read_only,
                revoked=revoked,
            )

    def revoke(self, token: str, *, jwts_too: bool = False) -> None:
        """Revoke a static token. JWTs already issued for it keep working until they
        expire (as the real API documents) unless `jwts_too`."""
        with self._lock:
            grant = self.tokens[token]
            grant.revoked = True
            if jwts_too:
                for jwt in self.jwts.values():
                    if jwt.grant is grant:
                        jwt.revoked = True

    # ------------------------------------------------------------ time, faults
    def now(self) -> float:
        return self.clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (JWT expiry, rate-limit windows)."""
        with self._lock:
            self._offset += seconds

    def inject(self, method: str, path_glob: str, faults: Fault | Iterable[Fault], *, sticky: bool = False) -> None:
        """Queue faults for requests matching `method` ("*" = any) and `path_glob` (fnmatch on
        the decoded path, e.g. "/v1/workspace/*/secret"). One fault per matching request,
        then normal behaviour; `sticky=True` repeats the last fault forever."""
        with self._lock:
            self._faults.add(method, path_glob, faults, sticky)

    def pending_faults(self) -> int:
        with self._lock:
            return self._faults.pending()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_limits(self) -> None:
        with self._lock:
            self._client_limiter.clear()
            self._exchange_limiter.clear()

    # ------------------------------------------------------------ the core
    def handle(self, req: FakeRequest) -> FakeResponse:
        with self._lock:
            path = unquote(req.path)
            auth: list[AuthKind] = ["none"]
            resp, fault = self._handle(req, auth)
            if self.plain_errors and resp.status >= 400:
                _as_plain_text(resp)
            self.requests.append(
                RequestRecord(
                    req.method,
                    path,
                    {k: v[-1] for k, v in req.query.items() if v},
                    auth[0],
                    resp.status,
                    fault.kind if fault else None,
                    req.client,
                    req.headers.get("authorization"),
                    dict(req.headers),
                    req.body,
                )
            )
            return resp

    def _handle(self, req: FakeRequest, auth: list[AuthKind]) -> tuple[FakeResponse, Fault | None]:
        is_v1 = req.path == "/v1" or req.path.startswith("/v1/")
        limit_headers: dict[str, str] = {}
        if is_v1 and self.rate_limits:
            limited, limit_headers = self._client_limiter.hit(req.client, self.per_client_limit, self.now())
            if limited:
                return _json(429, {"message": "Too many requests"}, limit_headers), None
        fault = self._faults.take(req.method, unquote(req.path))
        if fault is not None and fault.kind in REPLACING:
            resp = _replacement(fault)
        else:
            resp = self._route(req, auth)
            if fault is not None:
                _transform(resp, fault)
        for k, v in limit_headers.items():
            resp.headers.setdefault(k, v)
        return resp, fault

    # ------------------------------------------------------------ routing
    def _route(self, req: FakeRequest, auth: list[AuthKind]) -> FakeResponse:
        seg = [unquote(s) for s in req.path.strip("/").split("/")]
        m = req.method
        not_found = _error(404, f"Cannot {m} {unquote(req.path)}")
        if seg == ["v1", "auth", "exchange"]:
            if m != "POST" or self.exchange_mode == "disabled":
                return not_found
            return self._exchange(req, auth)
        if seg == ["v1", "auth", "oidc", "exchange"]:
            if m != "POST" or not self.oidc.enabled:
                return not_found
            status, answer = self.oidc.exchange(req.body, self.workspaces, self._issue_jwt)
            auth[0] = "none" if status == 400 else ("invalid" if status != 200 else "static")
            return _json(status, answer)
        if seg[:2] != ["v1", "workspace"] or len(seg) > 7:
            return not_found
        grant, kind = self._authenticate(req)
        auth[0] = kind
        if grant is None:
            return _error(401, "Authentication required" if kind == "none" else "Invalid or expired token")
        if len(seg) == 2:
            if m != "GET":
                return not_found
            return _json(200, [w.to_json() for w in self.workspaces.values() if grant.sees_workspace(w)])
        ws = self.find_workspace(seg[2])
        if ws is None or not grant.sees_workspace(ws):
            return _error(404, "Workspace not found")
        if len(seg) == 3 or seg[3] not in ("project", "team"):
            return not_found
        if m != "GET":
            return self._write(grant)
        if seg[3] == "team":
            return self._teams(ws) if len(seg) == 4 else not_found
        if len(seg) == 4:
            return self._projects(ws, grant)
        prj = self.find_project(ws, seg[4])
        if prj is None or not grant.sees_project(prj):
            return _error(404, "Project not found")
        envs = [e for e in prj.environments.values() if grant.sees_env(e)]
        if len(seg) == 5:
            return _json(200, {**prj.to_json(), "environments": [e.to_json() for e in envs]})
        if seg[5] == "environment" and len(seg) == 6:
            return _json(200, [e.to_json() for e in envs])
        if seg[5] == "secret":
            return self._secrets(req, prj, {e.id for e in envs}, seg[6] if len(seg) == 7 else None)
        return not_found

    def _write(self, grant: TokenGrant) -> FakeResponse:
        if grant.read_only:
            return _error(403, "Insufficient permissions")
        return _error(501, "Writes are not implemented by the fake API")

    def _teams(self, ws: Workspace) -> FakeResponse:
        teams = [t for t in self.teams.values() if t.workspace_id == ws.id]
        return _json(200, [{"id": t.id, "name": t.name, "createdAt": "2026-01-15T10:00:00.000Z"} for t in teams])

    def _projects(self, ws: Workspace, grant: TokenGrant) -> FakeResponse:
        out = []
        for team in self.teams.values():
            if team.workspace_id != ws.id:
                continue
            projects = [p for p in self.projects.values() if p.team_id == team.id and grant.sees_project(p)]
            if projects or grant.projects is None:
                out.append({"id": team.id, "name": team.name, "projects": [p.to_json() for p in projects]})
        return _json(200, out)

    def _secrets(self, req: FakeRequest, prj: Project, visible: set[str], name: str | None) -> FakeResponse:
        given = {req.query[k][-1] for k in ("environmentId", "environment_id") if req.query.get(k)}
        if len(given) > 1:
            return _error(400, "environmentId and environment_id disagree")
        env_ids = visible
        if given:
            env_id = given.pop()
            if env_id not in visible:
                return _error(404, "Environment not found")
            env_ids = {env_id}
        if name is None:
            return _json(200, [s.to_json(env_ids) for s in prj.secrets.values()])
        secret = prj.secrets.get(name)
        if secret is None:
            return _error(404, "Secret not found")
        return _json(200, secret.to_json(env_ids))

    # ------------------------------------------------------------ auth
    @staticmethod
    def _bearer(req: FakeRequest) -> str | None:
        header = req.headers.get("authorization")
        if header is None:
            return None
        scheme, _, value = header.strip().partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else ""

    def _authenticate(self, req: FakeRequest) -> tuple[TokenGrant | None, AuthKind]:
        token = self._bearer(req)
        if token is None:
            return None, "none"
        grant = self.tokens.get(token)
        if grant is not None:
            ok = self.accept_static_bearer and not grant.revoked
            return (grant, "static") if ok else (None, "invalid")
        jwt = self.jwts.get(token)
        if jwt is not None and not jwt.revoked and self.now() < jwt.expires_at:
            return jwt.grant, "jwt"
        return None, "invalid"

    def _issue_jwt(self, grant: TokenGrant) -> dict[str, Any]:
        """A JWT for ``grant`` (the OIDC exchange's answer)."""
        jwt = make_jwt(self.jwt_ttl)
        self.jwts[jwt] = IssuedJwt(grant, self.now() + self.jwt_ttl)
        return {"accessToken": jwt, "expiresIn": self.jwt_ttl, "tokenType": "Bearer"}

    def _exchange(self, req: FakeRequest, auth: list[AuthKind]) -> FakeResponse:
        candidates: list[str] = []
        if self.exchange_mode in ("both", "header"):
            header_token = self._bearer(req)
            if header_token:
                candidates.append(header_token)
        if self.exchange_mode in ("both", "body") and req.body.strip():
            try:
                body = json.loads(req.body)
            except ValueError:
                return _error(400, "Invalid JSON body")
            if isinstance(body, dict) and isinstance(body.get("token"), str):
                candidates.append(body["token"])
            elif self.exchange_mode == "body":
                return _error(400, "token: Required")
        if not candidates:
            if self.exchange_mode == "body":
                return _error(400, "token: Required")
            return _error(401, "Authentication required")
        if self.rate_limits:
            limited, headers = self._exchange_limiter.hit(candidates[0], self.exchange_limit, self.now())
            if limited:
                return _json(429, {"message": "Too many requests"}, headers)
        for token in candidates:
            grant = self.tokens.get(token)
            if grant is not None and not grant.revoked:
                auth[0] = "static"
                jwt = make_jwt(self.jwt_ttl)
                self.jwts[jwt] = IssuedJwt(grant, self.now() + self.jwt_ttl)
                return _json(200, {"accessToken": jwt, "expiresIn": self.jwt_ttl, "tokenType": "Bearer"})
        auth[0] = "invalid"
        return _error(401, "Invalid or expired token")


@functools.lru_cache(maxsize=16)
def _read_seed(path: Path, mtime_ns: int) -> Mapping[str, Any]:
    """Parsed seed file, cached per (path, mtime): the demo seed is loaded by many tests."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a seed must be a mapping")
    return data


LARGE_TOKEN = "ek_live_bench_0123456789abcdef0123456789abcdef"


def _replacement(fault: Fault) -> FakeResponse:
    headers = dict(fault.extra_headers)
    if fault.kind == "status":
        headers.setdefault("Content-Type", JSON_CT)
        return FakeResponse(fault.code, headers, fault.payload or b"")
    if fault.kind == "html":
        return FakeResponse(fault.code, {"Content-Type": "text/html; charset=utf-8"}, fault.payload or b"")
    if fault.kind == "huge_body":
        return FakeResponse(200, {"Content-Type": JSON_CT}, b"x" * fault.size)
    return FakeResponse(200, {"Content-Type": JSON_CT}, fault.payload or b"")  # invalid_json


def _as_plain_text(resp: FakeResponse) -> None:
    """A JSON ``{"message": ...}`` error turned into its message as text/plain."""
    if not resp.headers.get("Content-Type", "").startswith("application/json"):
        return
    try:
        message = json.loads(resp.body).get("message")
    except (ValueError, AttributeError):
        return
    if isinstance(message, str):
        resp.headers["Content-Type"] = "text/plain; charset=utf-8"
        resp.body = message.encode()


def _transform(resp: FakeResponse, fault: Fault) -> None:
    if fault.kind == "delay":
        resp.delay = fault.seconds
    elif fault.kind == "reset":
        resp.reset = True
    elif fault.kind == "trickle":
        resp.trickle = fault.seconds
    elif fault.kind == "truncated_json":
        resp.body = resp.body[: max(1, len(resp.body) // 2)]
    elif fault.kind == "content_type":
        resp.headers["Content-Type"] = fault.ctype
