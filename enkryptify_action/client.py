"""HTTP client for the Enkryptify API: authentication, retries and error translation.

Every httpx exception is translated into one of ours at this boundary (see ``errors.py``), and no
message built here contains the token, the JWT or a response body that could hold a value.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from . import __version__
from .errors import (
    ApiError,
    AuthenticationError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    UsageError,
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
EXCHANGE_FALLBACK_STATUSES = frozenset({404, 405, 429})
MAX_RETRY_AFTER = 30.0
MAX_BACKOFF = 8.0
REFRESH_MARGIN = 60.0
MAX_BODY_BYTES = 64 * 1024 * 1024

HINTS: dict[int, str] = {
    400: "The API rejected the request as invalid; check the workspace, project and environment values.",
    401: "The token is invalid, expired or revoked. Create a new API token in Enkryptify and update "
    "the ENKRYPTIFY_TOKEN secret.",
    403: "The token is valid but lacks permission: give it read access to this workspace, project and environment.",
    404: "Not found, or outside the token's scope: check the workspace, project and environment names "
    "and that the token covers them.",
    429: "Rate limited by the Enkryptify API (200 requests/min per client, 10 exchanges/min per token). "
    "Run fewer jobs at once, or raise the retries option.",
    500: "The Enkryptify API had an internal error. Retry later; if it persists, contact Enkryptify support.",
}
NETWORK_HINT = (
    "Check the api-url option, the network, proxy variables (HTTPS_PROXY/NO_PROXY) and ca-cert; "
    "raise timeout or retries for a slow network."
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts a request gets and how long to wait between them."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = MAX_BACKOFF
    max_retry_after: float = MAX_RETRY_AFTER

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter; ``attempt`` starts at 1."""
        ceiling: float = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)


def build_ssl_context(ca_cert: str) -> ssl.SSLContext:
    """httpx's default trust (certifi, or SSL_CERT_FILE/SSL_CERT_DIR) plus an optional extra CA.

    Verification cannot be turned off: no option or variable leads here with anything but a CA to add.
    """
    context = httpx.create_ssl_context()
    cert = ca_cert.strip()
    if cert:
        try:
            if cert.startswith("-----BEGIN"):
                context.load_verify_locations(cadata=cert)
            else:
                context.load_verify_locations(cafile=str(Path(cert)))
        except (OSError, ssl.SSLError, ValueError):
            raise UsageError(
                "ca-cert is neither a readable PEM file nor PEM certificate text.",
                hint="Pass the path of a PEM file, or the PEM text starting with -----BEGIN CERTIFICATE-----.",
            ) from None
    return context


def user_agent() -> str:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        where = "github-actions"
    elif os.environ.get("GITLAB_CI") == "true":
        where = "gitlab-ci"
    else:
        where = "cli"
    return f"enkryptify-fetch-secrets/{__version__} ({where}; python {platform.python_version()})"


class EnkryptifyClient:
    """A small synchronous client for the read endpoints the action needs.

    ``on_credential`` is called with the static token and every JWT *before* they are used, so the
    caller can register them with a log masker first. ``login`` replaces the token exchange (``auth: oidc``,
    see ``oidc.py``): it returns a JWT and its lifetime in seconds, and no static token is needed.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        auth: str = "exchange",
        timeout: float = 10.0,
        retries: int = 4,
        ca_cert: str = "",
        transport: httpx.BaseTransport | None = None,
        on_credential: Callable[[str], None] = lambda _secret: None,
        warn: Callable[[str], None] = lambda _message: None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        login: Callable[[EnkryptifyClient], tuple[str, float]] | None = None,
    ) -> None:
        if not token and login is None:
            raise UsageError(
                "No Enkryptify token: ENKRYPTIFY_TOKEN is empty or unset.",
                hint="Store the API token as a CI secret and pass it as ENKRYPTIFY_TOKEN "
                "(GitHub: env: ENKRYPTIFY_TOKEN: ${{ secrets.ENKRYPTIFY_TOKEN }}; GitLab: a masked CI/CD "
                "variable named ENKRYPTIFY_TOKEN, protected variables reach protected branches only).",
            )
        self._token = token
        self._exchange = login is not None or (auth == "exchange" and token.startswith("ek_live_"))
        self._login = login
        self._policy = RetryPolicy(attempts=retries)
        self._on_credential = on_credential
        self._warn = warn
        self._sleep = sleep
        self._clock = clock
        self._jwt: str | None = None
        self._jwt_expires_at = 0.0
        self.attempts = 0
        self.retries = 0
        on_credential(token)
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            verify=True if transport is not None else build_ssl_context(ca_cert),
            transport=transport,
            headers={"User-Agent": user_agent(), "Accept": "application/json"},
            follow_redirects=False,
        )

    def __enter__(self) -> EnkryptifyClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- endpoints -------------------------------------------------------------------------------

    def list_workspaces(self) -> list[dict[str, Any]]:
        return _list_of_objects(self.get("/v1/workspace"), "/v1/workspace")

    def list_projects(self, workspace: str) -> list[dict[str, Any]]:
        """Projects of a workspace, flattened from the API's team groups."""
        path = f"/v1/workspace/{_seg(workspace)}/project"
        projects: list[dict[str, Any]] = []
        for group in _list_of_objects(self.get(path), path):
            nested = group.get("projects")
            if isinstance(nested, list):
                projects.extend(p for p in nested if isinstance(p, dict))
            elif "slug" in group:
                projects.append(group)
        return projects

    def list_environments(self, workspace: str, project: str) -> list[dict[str, Any]]:
        path = f"/v1/workspace/{_seg(workspace)}/project/{_seg(project)}/environment"
        return _list_of_objects(self.get(path), path)

    def list_secrets(self, workspace: str, project: str, environment_id: str) -> list[dict[str, Any]]:
        path = f"/v1/workspace/{_seg(workspace)}/project/{_seg(project)}/secret"
        # The SDKs send environmentId and the CLI environment_id (enkryptify-api.md §3): send both.
        params = {"environmentId": environment_id, "environment_id": environment_id, "resolve": "true"}
        return _list_of_objects(self.get(path, params=params), path)

    # --- transport -------------------------------------------------------------------------------

    def get(self, path: str, *, params: dict[str, str] | None = None) -> Any:
        """GET ``path`` as JSON, authenticating, retrying and translating errors."""
        response = self._send("GET", path, params=params, authenticated=True)
        if response.status_code == 401 and self._jwt is not None:
            # A JWT can expire or be revoked mid-run: exchange once more and repeat the request once.
            self._jwt = None
            response = self._send("GET", path, params=params, authenticated=True)
        if response.status_code >= 400:
            raise _status_error(response, path)
        return _json_body(response, path)

    def _bearer(self) -> str:
        if not self._exchange:
            return self._token
        if self._jwt is None or self._clock() >= self._jwt_expires_at:
            if self._login is None:
                self._do_exchange()
            else:
                self._login_once(self._login)
        return self._jwt or self._token

    def _login_once(self, login: Callable[[EnkryptifyClient], tuple[str, float]]) -> None:
        self._jwt, lifetime = login(self)  # login registered the JWT with on_credential already
        self._jwt_expires_at = self._clock() + max(lifetime - REFRESH_MARGIN, lifetime / 2)

    def post_json(self, path: str, body: dict[str, str]) -> httpx.Response:
        """POST ``body`` as JSON without Authorization (a login endpoint), retrying 429, 5xx and network errors."""
        return self._send("POST", path, json_body=body, authenticated=False)

    def _do_exchange(self) -> None:
        path = "/v1/auth/exchange"
        # The API reference and SDKs send the header; the API-tokens docs page shows the body. Send both.
        response = self._send(
            "POST",
            path,
            json_body={"token": self._token},
            headers={"Authorization": f"Bearer {self._token}"},
            authenticated=False,
            retry_statuses=RETRY_STATUSES - {429},
        )
        if response.status_code in EXCHANGE_FALLBACK_STATUSES:
            self._warn(
                f"Token exchange unavailable (HTTP {response.status_code}); using the API token directly "
                "as Bearer, as the API documents."
            )
            self._exchange = False
            return
        if response.status_code >= 400:
            raise _status_error(response, path)
        body = _json_body(response, path)
        jwt = body.get("accessToken") if isinstance(body, dict) else None
        if not isinstance(jwt, str) or not jwt:
            raise ApiError(
                "The token exchange answered without an accessToken.",
                hint="Set auth: direct to skip the exchange.",
            )
        expires_in = body.get("expiresIn", 900)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 900.0
        self._on_credential(jwt)
        self._jwt = jwt
        self._jwt_expires_at = self._clock() + max(lifetime - REFRESH_MARGIN, lifetime / 2)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        authenticated: bool,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
    ) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            request_headers = dict(headers or {})
            if authenticated:
                request_headers["Authorization"] = f"Bearer {self._bearer()}"
            last = attempt >= self._policy.attempts
            try:
                response = self._request(method, path, params, json_body, request_headers)
            except httpx.TimeoutException as exc:
                if last:
                    raise NetworkError(
                        f"{method} {path} timed out after {attempt} attempt(s) ({type(exc).__name__}).",
                        hint=NETWORK_HINT,
                    ) from None
                delay = self._policy.backoff(attempt)
            except (httpx.TransportError, _BodyTooLarge) as exc:
                if last or isinstance(exc, httpx.UnsupportedProtocol):
                    raise NetworkError(
                        f"{method} {path} failed after {attempt} attempt(s): {_describe(exc)}.",
                        hint=NETWORK_HINT,
                    ) from None
                delay = self._policy.backoff(attempt)
            else:
                if response.status_code not in retry_statuses or last:
                    return response
                delay = self._retry_delay(response, attempt)
            self.retries += 1
            self._sleep(delay)

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json_body: dict[str, str] | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        request = self._http.build_request(method, path, params=params, json=json_body, headers=headers)
        response = self._http.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _BodyTooLarge
                chunks.append(chunk)
        finally:
            response.close()
        return httpx.Response(response.status_code, headers=response.headers, content=b"".join(chunks), request=request)

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        retry_after = response.headers.get("Retry-After", "")
        try:
            seconds = float(retry_after)
        except ValueError:
            return self._policy.backoff(attempt)
        return min(max(seconds, 0.0), self._policy.max_retry_after)


class _BodyTooLarge(Exception):
    """The response body exceeded MAX_BODY_BYTES."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _BodyTooLarge):
        return f"response body larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return "the connection was closed or reset mid-response"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported URL scheme"
    return type(exc).__name__


def _seg(value: str) -> str:
    return quote(value, safe="")


def _server_message(response: httpx.Response) -> str:
    """The API's ``message`` field, sanitized: printable, one line, at most 200 characters."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str):
        return ""
    clean = "".join(ch if ch.isprintable() else " " for ch in message).strip()
    for marker in ("ek_live_", "eyJ"):  # never echo anything token-shaped back
        if marker in clean:
            return ""
    return clean[:200] + ("…" if len(clean) > 200 else "")


_ERRORS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitedError,
}


def _status_error(response: httpx.Response, path: str) -> ApiError:
    status = response.status_code
    cls = _ERRORS.get(status, ApiError)
    said = _server_message(response)
    message = f"{response.request.method} {path} failed with HTTP {status}" + (f": {said}" if said else ".")
    hint = HINTS.get(status) or (HINTS[500] if status >= 500 else None)
    return cls(message, hint=hint, status=status)


def _json_body(response: httpx.Response, path: str) -> Any:
    content_type = response.headers.get("Content-Type", "")
    try:
        return json.loads(response.content)
    except ValueError:
        kind = "HTML" if "html" in content_type.lower() else "invalid or truncated JSON"
        raise ApiError(
            f"{response.request.method} {path} answered HTTP {response.status_code} with {kind}.",
            hint="Check api-url points at the Enkryptify API (not a proxy or login page); retry later.",
            status=response.status_code,
        ) from None


def _list_of_objects(body: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise ApiError(
            f"GET {path} answered with an unexpected JSON shape (expected a list of objects).",
            hint="Check api-url points at the Enkryptify API.",
        )
    return body


def token_lifetime(expires_in: object, default: float = 900.0) -> float:
    """A JWT's lifetime from an ``expiresIn`` the server sent: a finite number of seconds, 1 to 86,400.

    Anything else (absent, text, negative, NaN, a 400-digit integer that overflows a float) gives
    ``default``: a hostile or broken answer cannot end the run with an internal error.
    """
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return default
    try:
        seconds = float(expires_in)
    except OverflowError:
        return default
    if not math.isfinite(seconds) or seconds <= 0:
        return default
    return min(max(seconds, 1.0), 86400.0)
