"""Tokenless runs (``auth: oidc``, experimental): trade the CI's OIDC ID token for an Enkryptify JWT.

The exchange is the one the Enkryptify SDKs use for Kubernetes (sdk ``src/kubernetes-exchange.ts``):
``POST /v1/auth/oidc/exchange`` with ``{"token": <ID token>, "workspaceId": …}`` and no Authorization
header, answering ``{accessToken, expiresIn, tokenType}``. That GitHub's and GitLab's issuers are
accepted is expected, not documented (real-code-findings.md §3).

Where the ID token comes from, in this order:

* ``ENKRYPTIFY_ID_TOKEN`` (GitLab ``id_tokens:``, or any CI that hands out an OIDC token);
* on GitHub (``GITHUB_ACTIONS=true``) only, the runner's endpoint: GET ``$ACTIONS_ID_TOKEN_REQUEST_URL``
  with ``&audience=<aud>`` appended and ``Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN``,
  answering ``{"value": "<JWT>"}`` (actions/toolkit ``packages/core/src/oidc-utils.ts``, ``getIDToken``, at
  0d78354e86661d41a5e8024bf46d110a72e1b6f6: ``&audience=`` + ``encodeURIComponent(audience)``, a
  ``BearerCredentialHandler``, ``res.result?.value``, then ``setSecret(id_token)``).

Trust: the request URL is where the request token goes, so it is read from the runner's environment
only (never an option or the config file), must be https (plain http to loopback only, for tests) and
carry no credentials; redirects are never followed. Every credential (request token, ID token, JWT)
goes to ``on_credential`` before it is used, and no message built here contains one: the refusal hint
shows the ID token's issuer, audience and subject, decoded locally and sanitised, never the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from .client import (
    RETRY_STATUSES,
    EnkryptifyClient,
    RetryPolicy,
    _json_body,
    _status_error,
    build_ssl_context,
    token_lifetime,
    user_agent,
)
from .config import Settings, is_loopback
from .errors import ApiError, AuthenticationError, NetworkError, UsageError
from .formats import printable
from .network import BodyTooLarge, read_body

EXCHANGE_PATH = "/v1/auth/oidc/exchange"
ID_TOKEN_VAR = "ENKRYPTIFY_ID_TOKEN"  # noqa: S105 (a variable name)
REQUEST_URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 (a variable name)
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
MAX_ID_TOKEN_BODY = 64 * 1024
MAX_CLAIM_LENGTH = 200
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_TOKEN_MARKERS = ("ek_live_", "eyJ")

EXPERIMENTAL = (
    "auth: oidc is experimental: Enkryptify documents this exchange for Kubernetes; GitHub's and GitLab's "
    "issuers are expected, not promised, to work."
)
GITHUB_PERMISSIONS_HINT = (
    "Give the job `permissions: id-token: write` (at workflow or job level); the runner then passes "
    "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN to the action. Pull requests from forks "
    "get no ID token: run those jobs without auth: oidc (or not at all). Or pass an ID token in ENKRYPTIFY_ID_TOKEN."
)
GITLAB_ID_TOKENS_HINT = (
    "GitLab: add to the job (or to the component's job, by defining a job of the same name):\n"
    "  id_tokens:\n"
    "    ENKRYPTIFY_ID_TOKEN:\n"
    "      aud: enkryptify\n"
    "Other CI: put the CI's OIDC ID token in ENKRYPTIFY_ID_TOKEN."
)


def raw_credentials(environ: Mapping[str, str]) -> list[str]:
    """The OIDC credentials present in the environment, trimmed, to be masked before anything is printed."""
    texts = [environ.get(ID_TOKEN_VAR, "")]
    if environ.get("GITHUB_ACTIONS") == "true":
        texts.append(environ.get(REQUEST_TOKEN_VAR, ""))
    return [text.strip() for text in texts if text.strip()]


@dataclass(frozen=True, slots=True)
class GitHubRequest:
    """The runner's ID-token endpoint: where to ask, with which request token, for which audience."""

    url: str
    request_token: str = field(repr=False)
    audience: str


@dataclass(frozen=True, slots=True)
class IdTokenSource:
    """Either a given ID token (``ENKRYPTIFY_ID_TOKEN``) or the runner's endpoint."""

    id_token: str = field(default="", repr=False)
    github: GitHubRequest | None = None


def id_token_source(environ: Mapping[str, str], *, audience: str) -> IdTokenSource:
    """Where this run's ID token comes from; ``UsageError`` (exit 2) when there is none."""
    given = environ.get(ID_TOKEN_VAR, "").strip()
    if given:
        if not _JWT.match(given):
            raise UsageError(
                f"{ID_TOKEN_VAR} is not an OIDC ID token (expected a JWT: three base64url parts joined by dots).",
                hint=f"Set {ID_TOKEN_VAR} from your CI's id_tokens (GitLab) or OIDC token, with nothing added.",
            )
        return IdTokenSource(id_token=given)
    if environ.get("GITHUB_ACTIONS") == "true":
        url = environ.get(REQUEST_URL_VAR, "").strip()
        request_token = environ.get(REQUEST_TOKEN_VAR, "").strip()
        if not url or not request_token:
            pairs = ((REQUEST_URL_VAR, url), (REQUEST_TOKEN_VAR, request_token))
            missing = [name for name, value in pairs if not value]
            raise UsageError(
                f"auth: oidc needs a GitHub ID token, but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set.",
                hint=GITHUB_PERMISSIONS_HINT,
            )
        return IdTokenSource(
            github=GitHubRequest(validate_request_url(url), request_token, validate_audience(audience))
        )
    raise UsageError(
        f"auth: oidc needs an ID token in {ID_TOKEN_VAR}, which is empty or unset.", hint=GITLAB_ID_TOKENS_HINT
    )


def validate_request_url(raw: str) -> str:
    """https, or plain http to loopback; no user info or fragment. Never echoes the URL's path or query."""
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
        bad_userinfo = bool(parts.username or parts.password)
    except ValueError:
        host, bad_userinfo, parts = "", False, urlsplit("")
    if parts.scheme not in ("http", "https") or not host or bad_userinfo or parts.fragment:
        raise UsageError(
            f"{REQUEST_URL_VAR} is not a usable https URL; refusing to send the ID-token request token there.",
            hint=f"{REQUEST_URL_VAR} is set by the GitHub runner: do not set or override it in the workflow.",
        )
    if parts.scheme == "http" and not is_loopback(host):
        raise UsageError(
            f"Refusing plain http:// to {host} for {REQUEST_URL_VAR}: the request token would cross the "
            "network unencrypted.",
            hint=f"{REQUEST_URL_VAR} is set by the GitHub runner: do not set or override it in the workflow.",
        )
    return raw


def validate_audience(raw: str) -> str:
    audience = raw.strip()
    if not audience or len(audience) > 255 or not audience.isprintable():
        raise UsageError(
            "oidc-audience must be 1-255 printable characters.",
            hint="Use the audience registered with the Enkryptify credential (default: enkryptify).",
        )
    return audience


def token_claims(token: str) -> dict[str, str]:
    """Issuer, audience and subject of a JWT, decoded locally without verification, sanitised for a log.

    Claims only, never the token: each is one printable line of at most ``MAX_CLAIM_LENGTH`` characters,
    and a claim that looks like a token is replaced by a placeholder. ``{}`` when it cannot be decoded.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return {}
    if not isinstance(payload, dict):
        return {}
    claims: dict[str, str] = {}
    for key in ("iss", "aud", "sub"):
        value: Any = payload.get(key)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ", ".join(value)
        if isinstance(value, str) and value:
            claims[key] = _sanitise(value)
    return claims


def _sanitise(value: str) -> str:
    if any(marker in value for marker in _TOKEN_MARKERS):
        return "(not shown: looks like a token)"
    clean = printable(value)
    return clean[:MAX_CLAIM_LENGTH] + ("…" if len(clean) > MAX_CLAIM_LENGTH else "")


def describe_claims(claims: Mapping[str, str]) -> str:
    if not claims:
        return "the ID token's claims could not be decoded"
    labels = {"iss": "issuer", "aud": "audience", "sub": "subject"}
    return ", ".join(f"{labels[key]} {claims[key]!r}" for key in ("iss", "aud", "sub") if key in claims)


def oidc_login(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    on_credential: Callable[[str], None],
    warn: Callable[[str], None],
    transport: httpx.BaseTransport | None = None,
) -> OidcLogin:
    """The login hook for a run with ``auth: oidc``; ``UsageError`` (exit 2) when it cannot work."""
    if not settings.workspace:
        raise UsageError(
            "auth: oidc needs the workspace option: the workspace ID the OIDC credential belongs to.",
            hint="Set workspace to the ID of the Enkryptify workspace where the credential is registered.",
        )
    source = id_token_source(environ, audience=settings.oidc_audience)
    if settings.token:
        warn("auth is oidc: the Enkryptify token that is also set is not used.")
    return OidcLogin(
        source,
        settings.workspace,
        on_credential=on_credential,
        timeout=settings.timeout,
        retries=settings.retries,
        ca_cert=settings.ca_cert,
        transport=transport,
    )


class OidcLogin:
    """The client's login hook for ``auth: oidc``: get an ID token, exchange it, return (JWT, lifetime).

    Called by ``EnkryptifyClient`` before its first request and again when the JWT expires or is refused;
    a GitHub run asks the runner for a fresh ID token each time (they last minutes).
    """

    def __init__(
        self,
        source: IdTokenSource,
        workspace_id: str,
        *,
        on_credential: Callable[[str], None],
        timeout: float = 10.0,
        retries: int = 4,
        ca_cert: str = "",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._source = source
        self._workspace_id = workspace_id
        self._timeout = timeout
        self._retries = retries
        self._ca_cert = ca_cert
        self._transport = transport
        self._sleep = sleep
        if source.github is not None:
            on_credential(source.github.request_token)
        if source.id_token:
            on_credential(source.id_token)

    def __call__(self, client: EnkryptifyClient) -> tuple[str, float]:
        for known in (self._source.github.request_token if self._source.github else "", self._source.id_token):
            if known:
                client.register_credential(known)  # server messages holding a piece of it are never printed
        id_token = self._id_token()
        client.register_credential(id_token)
        response = client.post_json(EXCHANGE_PATH, {"token": id_token, "workspaceId": self._workspace_id})
        status = response.status_code
        if status in (401, 403):  # both: the ID token is not accepted (exit 3)
            raise AuthenticationError(
                f"Enkryptify refused the OIDC ID token (POST {EXCHANGE_PATH}, HTTP {status}); it sent "
                f"{describe_claims(token_claims(id_token))}.",
                hint="Register an OIDC credential in Enkryptify for workspace "
                f"{printable(self._workspace_id)!r} with exactly this issuer, audience and subject "
                "(the subject changes with the branch, tag or environment of the job). " + EXPERIMENTAL,
                status=status,
            )
        if status in (404, 405):
            raise ApiError(
                f"POST {EXCHANGE_PATH} answered HTTP {status}: the Enkryptify API at this api-url does not "
                "offer OIDC exchange here, or does not know this workspace.",
                hint="Check that workspace is the workspace ID (not its slug) and api-url is right, or use an API "
                "token (auth: exchange with ENKRYPTIFY_TOKEN). " + EXPERIMENTAL,
                status=status,
            )
        if status >= 400:
            raise _status_error(response, EXCHANGE_PATH, client.credential_pieces)
        body = _json_body(response, EXCHANGE_PATH)
        jwt = body.get("accessToken") if isinstance(body, dict) else None
        if not isinstance(jwt, str) or not jwt:
            raise ApiError(f"POST {EXCHANGE_PATH} answered without an accessToken.", hint=EXPERIMENTAL)
        client.register_credential(jwt)
        return jwt, token_lifetime(body.get("expiresIn"))

    def _id_token(self) -> str:
        github = self._source.github
        if github is None:
            return self._source.id_token
        token = fetch_github_id_token(
            github,
            timeout=self._timeout,
            retries=self._retries,
            ca_cert=self._ca_cert,
            transport=self._transport,
            sleep=self._sleep,
        )
        return token  # __call__ registers it with the client (masker and redaction) before it is sent


def fetch_github_id_token(
    request: GitHubRequest,
    *,
    timeout: float,
    retries: int,
    ca_cert: str = "",
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The runner's ID token for ``request.audience``; retries 429/5xx and network errors."""
    separator = "&" if urlsplit(request.url).query else "?"
    url = f"{request.url}{separator}audience={encode_uri_component(request.audience)}"
    host = urlsplit(request.url).hostname
    policy = RetryPolicy(attempts=retries)
    headers = {"Authorization": f"Bearer {request.request_token}", "Accept": "application/json"}
    with httpx.Client(
        timeout=httpx.Timeout(timeout),
        verify=True if transport is not None else build_ssl_context(ca_cert),
        transport=transport,
        headers={"User-Agent": user_agent()},
        follow_redirects=False,
    ) as http:
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= policy.attempts
            try:
                status, content = _get_limited(http, url, headers)
            except (httpx.TransportError, BodyTooLarge) as exc:
                if last or isinstance(exc, httpx.UnsupportedProtocol):
                    raise NetworkError(
                        f"Requesting the GitHub ID token from {host} failed after {attempt} attempt(s) "
                        f"({type(exc).__name__}).",
                        hint="The runner's ID-token endpoint did not answer; re-run the job.",
                    ) from None
            else:
                if status not in RETRY_STATUSES or last:
                    return _id_token_from(status, content, host or "")
            sleep(policy.backoff(attempt))


def encode_uri_component(text: str) -> str:
    """JavaScript's ``encodeURIComponent``, as the toolkit encodes the audience: UTF-8 percent-encoding of all
    but ``A-Z a-z 0-9 - _ . ! ~ * ' ( )``."""
    return quote(text, safe="!~*'()")


def _get_limited(http: httpx.Client, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    with http.stream("GET", url, headers=headers) as response:
        return response.status_code, read_body(response, limit=MAX_ID_TOKEN_BODY)


def _id_token_from(status: int, content: bytes, host: str) -> str:
    if status in (401, 403):
        raise AuthenticationError(
            f"The GitHub runner refused the ID-token request ({host} answered HTTP {status}).",
            hint=GITHUB_PERMISSIONS_HINT,
            status=status,
        )
    if status != 200:
        raise ApiError(
            f"The GitHub ID-token request ({host}) answered HTTP {status}.",
            hint="Re-run the job; if it persists, check the job's `permissions: id-token: write`.",
            status=status,
        )
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, str) or not _JWT.match(value.strip()):
        raise ApiError(
            f"The GitHub ID-token request ({host}) answered without a JWT in `value`.",
            hint="Re-run the job; the runner's ID-token endpoint answered unexpectedly.",
        )
    return value.strip()
