"""One run, from settings to a validated export plan: connect, resolve, fetch, select."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import httpx

from .client import EnkryptifyClient
from .config import Settings
from .oidc import OidcLogin, oidc_login
from .plan import ExportPlan, Note, Secret, Target
from .resolve import fetch_secrets, resolve_target, resolve_workspace
from .select import build_plan
from .sources import combined_target, merge, parse_sources


@dataclass(frozen=True, slots=True)
class RunStats:
    """Counts for debug output and benchmarks (no names, no values)."""

    attempts: int
    retries: int
    fetched: int


def fetch_plan(
    settings: Settings,
    *,
    on_credential: Callable[[str], None],
    warn: Callable[[str], None],
    transport: httpx.BaseTransport | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ExportPlan, RunStats]:
    """Fetch the environment's secrets and build the plan; raises an ``EnkryptifyError`` on failure."""
    login: OidcLogin | None = None
    if settings.auth == "oidc":  # before any request: a missing ID token or workspace is exit 2
        login = oidc_login(settings, os.environ if environ is None else environ, on_credential=on_credential, warn=warn)
    with EnkryptifyClient(
        base_url=settings.api_url,
        token=settings.token,
        auth=settings.auth,
        timeout=settings.timeout,
        retries=settings.retries,
        ca_cert=settings.ca_cert,
        transport=transport,
        on_credential=on_credential,
        warn=warn,
        login=login,
    ) as client:
        if settings.sources.strip():
            target, secrets, replaced = _fetch_sources(client, settings)
        else:
            target = resolve_target(
                client,
                workspace=settings.workspace,
                project=settings.project,
                environment=settings.environment,
            )
            secrets, replaced = fetch_secrets(client, target, personal=settings.personal_values), []
        stats = RunStats(attempts=client.attempts, retries=client.retries, fetched=len(secrets))
    plan = build_plan(
        secrets,
        target,
        spec=settings.secrets,
        prefix=settings.prefix,
        name_case=settings.name_case,
        invalid_names=settings.invalid_names,
        allow_dangerous_names=settings.allow_dangerous_names,
        parse_json=settings.parse_json,
    )
    if replaced:
        plan = replace(plan, replaced=tuple(replaced))
    if not plan.items:
        warn(empty_warning(plan, fetched=len(secrets), selected=bool(settings.secrets.strip())))
    return plan, stats


def empty_warning(plan: ExportPlan, *, fetched: int, selected: bool) -> str:
    """Why a run exports nothing (it still succeeds: an empty environment is not an error)."""
    where = plan.target.where
    if fetched == 0:
        return f"No secrets exported: {where} has no secrets with a value visible to this token."
    why = "the secrets option selected none of them" if selected else "every one was skipped"
    return f"No secrets exported: {where} has {fetched} secret(s), but {why}."


def _fetch_sources(client: EnkryptifyClient, settings: Settings) -> tuple[Target, list[Secret], list[Note]]:
    """Each source of ``sources`` in order, in one workspace, merged (a later source wins).

    Requests: the workspace discovery (if the workspace is omitted), then per source what name
    resolution needs and one list call.
    """
    sources = parse_sources(settings.sources)
    workspace = resolve_workspace(client, settings.workspace)
    fetched: list[tuple[Target, list[Secret]]] = []
    for source in sources:
        target = resolve_target(client, workspace=workspace, project=source.project, environment=source.environment)
        fetched.append((target, fetch_secrets(client, target, personal=settings.personal_values)))
    secrets, replaced = merge(fetched)
    return combined_target([target for target, _ in fetched]), secrets, replaced
