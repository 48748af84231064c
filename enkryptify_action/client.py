"""HTTP client for the Enkryptify API: authentication, retries and error translation.

Every httpx exception is translated into one of ours at this boundary (see ``errors.py``; why a
connection failed is worked out in ``network.py``), and no message built here contains the token, the JWT
or a response body that could hold a value (server messages pass ``redact.holds_credential``).

Deadlines: each attempt of a request (connect, send, the whole answer) has ``timeout`` seconds in total,
not only per read; the run's requests, retries and waits together have ``RUN_DEADLINE_REQUESTS * retries *
timeout`` seconds (a wait that would end past it is not started).
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

import certifi
import httpx

from . import __version__, redact
from .errors import (
    ApiError,
    AuthenticationError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    UsageError,
)
from .network import NETWORK_HINT as NETWORK_HINT
from .network import BodyTooLarge, DeadlineExceeded, Failure, describe, network_error, proxy_for, read_body

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
EXCHANGE_PATH = "/v1/auth/exchange"
# Answers to the header form that mean "send the token in a body instead" (the API-tokens page's form).
BODY_FORM_STATUSES = frozenset({400, 415, 422})
# The most requests one run makes (exchange, workspaces, projects, environments, secrets): the run's
# deadline lets every one of them use all its attempts.
RUN_DEADLINE_REQUESTS = 5
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
FALLBACK_NOTE = (
    "this run used the API token directly as Bearer, which the API accepts (auth: direct skips the exchange)"
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
    Built as httpx's ``create_ssl_context`` builds it, but not through ``ssl.create_default_context``,
    which opens ``$SSLKEYLOGFILE`` and writes every session key there: anyone who can read that file
    and the traffic can read the token. Key logging stays off.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verify_mode CERT_REQUIRED, check_hostname on
    cert_file, cert_dir = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    try:
        if cert_file:
            context.load_verify_locations(cafile=cert_file)
        elif cert_dir:
            context.load_verify_locations(capath=cert_dir)
        else:
            context.load_verify_locations(cafile=certifi.where())
    except (OSError, ssl.SSLError):
        raise UsageError(
            "SSL_CERT_FILE or SSL_CERT_DIR names no readable PEM certificates.",
            hint="Point SSL_CERT_FILE at a PEM bundle, or unset it to use the built-in CA list; add a CA with ca-cert.",
        ) from None
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
    caller can register them with a log masker first. ``warn`` receives the run's warnings (held back
    by the GitHub Action until its masks are out).
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
        self._notify = on_credential
        self._credentials: list[str] = []
        self._pieces: frozenset[str] = frozenset()
        self._warn = warn
        self._sleep = sleep
        self._clock = clock
        self._timeout = timeout
        self._run_seconds = RUN_DEADLINE_REQUESTS * retries * timeout
        self._run_deadline = clock() + self._run_seconds
        self._jwt: str | None = None
        self._jwt_expires_at = 0.0
        self._refused: ApiError | None = None  # the exchange refused the token: every request fails alike
        self.attempts = 0
        self.retries = 0
        self.last_attempts = 0  # attempts of the latest request that got an answer
        self.register_credential(token)
        url = httpx.URL(base_url)
        self._host = url.host + (f":{url.port}" if url.port else "")  # for messages: no userinfo
        self._proxy = proxy_for(url) if transport is None else None
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            verify=True if transport is not None else build_ssl_context(ca_cert),
            transport=transport,
            headers={"User-Agent": user_agent(), "Accept": "application/json"},
            follow_redirects=False,
            # Plain http:// is allowed to loopback only, and must never reach HTTP_PROXY/ALL_PROXY in
            # clear text: the environment's proxies (and netrc) apply to https:// alone.
            trust_env=url.scheme == "https",
        )

    def __enter__(self) -> EnkryptifyClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def warn(self, message: str) -> None:
        """One warning for the run's log (the caller decides how it is shown)."""
        self._warn(message)

    @property
    def credential_pieces(self) -> frozenset[str]:
        """Pieces of every credential of the run, for ``_status_error`` (redaction of server messages)."""
        return self._pieces

    def register_credential(self, secret: str) -> None:
        """Remember a credential (so server messages holding a piece of it are never printed), then
        hand it to the caller's masker before it is used. Also for a login hook (``oidc.py``)."""
        self._credentials.append(secret)
        self._pieces = redact.pieces(self._credentials)
        self._notify(secret)

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
            raise _status_error(response, path, self._pieces)
        return _json_body(response, path)

    def _bearer(self) -> str:
        if not self._exchange:
            return self._token
        if self._refused is not None:
            raise self._refused
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
        """Trade the token for a JWT the way the API reference and the SDKs do (header, no body).

        Only a refused token (401/403) ends the run; any other failure falls back to the token itself
        as Bearer, like the SDK, with one warning (enkryptify-api.md §2, real-code-findings.md §3).
        Connection failures that every request to this host would meet (DNS, refused, TLS, proxy) are
        raised as they are.
        """
        path = EXCHANGE_PATH
        no_429 = RETRY_STATUSES - {429}  # 10 exchanges a minute per token: waiting is slower than falling back
        try:
            response = self._send(
                "POST", path, headers={"Authorization": f"Bearer {self._token}"}, authenticated=False,
                retry_statuses=no_429,
            )  # fmt: skip
            if response.status_code in BODY_FORM_STATUSES:
                # The server refused the header form: once, the body form the API-tokens page shows.
                response = self._send(
                    "POST", path, json_body={"token": self._token}, authenticated=False, retry_statuses=no_429
                )
        except NetworkError as exc:
            if exc.host_level:
                raise
            self._fall_back(f"The token exchange failed ({exc.message.rstrip('.')})")
            return
        status = response.status_code
        if status in (401, 403):
            self._refused = _status_error(response, path, self._pieces)
            raise self._refused
        if status == 429:
            self._fall_back("The token exchange is limited to 10 a minute per token and answered 429")
            return
        if status >= 400:
            again = f" after {self.last_attempts} attempt(s)" if self.last_attempts > 1 or status in no_429 else ""
            self._fall_back(f"The token exchange answered HTTP {status}{again}")
            return
        exchanged = _exchanged_jwt(response)
        if exchanged is None:
            self._fall_back(f"The token exchange answered HTTP {status} without a usable accessToken")
            return
        jwt, lifetime = exchanged
        self.register_credential(jwt)
        self._jwt = jwt
        self._jwt_expires_at = self._clock() + max(lifetime - REFRESH_MARGIN, lifetime / 2)

    def _fall_back(self, why: str) -> None:
        self._warn(f"{why}; {FALLBACK_NOTE}.")
        self._exchange = False
        self._jwt = None

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
            remaining = self._run_deadline - self._clock()
            if remaining <= 0:
                raise network_error(method, path, attempt - 1, self._run_over())
            self.attempts += 1
            request_headers = dict(headers or {})
            if authenticated:
                request_headers["Authorization"] = f"Bearer {self._bearer()}"
            last = attempt >= self._policy.attempts
            failure: Failure | None = None
            response: httpx.Response | None = None
            try:
                seconds = min(self._timeout, remaining)
                response = self._request(method, path, params, json_body, request_headers, seconds)
            except (httpx.TransportError, DeadlineExceeded, BodyTooLarge) as exc:
                failure = describe(exc, host=self._host, proxy=self._proxy)
                if last or not failure.retry:
                    raise network_error(method, path, attempt, failure) from None
                delay = self._policy.backoff(attempt)
            else:
                self.last_attempts = attempt
                if response.status_code not in retry_statuses or last:
                    return response
                delay = self._retry_delay(response, attempt)
            if self._clock() + delay >= self._run_deadline:  # the wait would end past the run's deadline
                if response is not None:
                    return response
                raise network_error(method, path, attempt, failure or self._run_over())
            self.retries += 1
            self._sleep(delay)

    def _run_over(self) -> Failure:
        return Failure("run-deadline", f"the run's deadline of {self._run_seconds:g} s passed", False, False)

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json_body: dict[str, str] | None,
        headers: dict[str, str],
        seconds: float,
    ) -> httpx.Response:
        """One attempt, read to the end within ``seconds`` in total (a trickling server cannot stretch it)."""
        deadline = self._clock() + seconds
        request = self._http.build_request(
            method, path, params=params, json=json_body, headers=headers, timeout=httpx.Timeout(seconds)
        )
        response = self._http.send(request, stream=True)
        try:
            content = read_body(response, limit=MAX_BODY_BYTES, deadline=deadline, seconds=seconds, clock=self._clock)
        finally:
            response.close()
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        retry_after = response.headers.get("Retry-After", "")
        try:
            seconds = float(retry_after)
        except ValueError:
            return self._policy.backoff(attempt)
        return min(max(seconds, 0.0), self._policy.max_retry_after)


def _exchanged_jwt(response: httpx.Response) -> tuple[str, float] | None:
    """The JWT and its lifetime from an exchange answer, or None when the answer is unusable."""
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    jwt = body.get("accessToken") if isinstance(body, dict) else None
    if not isinstance(jwt, str) or not jwt or not jwt.isascii() or not jwt.isprintable() or " " in jwt:
        return None
    return jwt, token_lifetime(body.get("expiresIn"))


def _seg(value: str) -> str:
    return quote(value, safe="")


def _server_message(response: httpx.Response, credential_pieces: frozenset[str]) -> str:
    """The API's ``message`` (JSON) or a plain-text body's first line, sanitized: printable, one line, at
    most 200 characters, and nothing at all when it may hold a credential (``redact.holds_credential``)."""
    content_type = response.headers.get("Content-Type", "").lower()
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        body = None
        if content_type.startswith("text/plain"):
            body = {"message": response.content[:4096].decode("utf-8", "replace").strip().split("\n", 1)[0]}
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str):
        return ""
    clean = "".join(ch if ch.isprintable() else " " for ch in message).strip()
    if redact.holds_credential(clean, credential_pieces):
        return ""
    return clean[:200] + ("…" if len(clean) > 200 else "")


_ERRORS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitedError,
}


def _status_error(response: httpx.Response, path: str, credential_pieces: frozenset[str]) -> ApiError:
    status = response.status_code
    cls = _ERRORS.get(status, ApiError)
    said = _server_message(response, credential_pieces)
    message = f"{response.request.method} {path} failed with HTTP {status}" + (f": {said}" if said else ".")
    hint = HINTS.get(status) or (HINTS[500] if status >= 500 else None)
    return cls(message, hint=hint, status=status)


def _json_body(response: httpx.Response, path: str) -> Any:
    content_type = response.headers.get("Content-Type", "")
    try:
        return json.loads(response.content)
    except RecursionError:
        raise ApiError(
            f"{response.request.method} {path} answered HTTP {response.status_code} with JSON nested too deeply.",
            hint="Check api-url points at the Enkryptify API; no real answer nests that deep.",
            status=response.status_code,
        ) from None
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
