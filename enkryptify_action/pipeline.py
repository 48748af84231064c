"""One run, from settings to a validated export plan: connect, resolve, fetch, select."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .client import EnkryptifyClient
from .config import Settings
from .plan import ExportPlan
from .resolve import fetch_secrets, resolve_target
from .select import build_plan


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
) -> tuple[ExportPlan, RunStats]:
    """Fetch the environment's secrets and build the plan; raises an ``EnkryptifyError`` on failure."""
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
    ) as client:
        target = resolve_target(
            client,
            workspace=settings.workspace,
            project=settings.project,
            environment=settings.environment,
        )
        secrets = fetch_secrets(client, target, personal=settings.personal_values)
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
    if not plan.items:
        warn(empty_warning(plan, fetched=len(secrets), selected=bool(settings.secrets.strip())))
    return plan, stats


def empty_warning(plan: ExportPlan, *, fetched: int, selected: bool) -> str:
    """Why a run exports nothing (it still succeeds: an empty environment is not an error)."""
    t = plan.target
    where = f"{t.workspace}/{t.project}/{t.environment}"
    if fetched == 0:
        return f"No secrets exported: {where} has no secrets with a value visible to this token."
    why = "the secrets option selected none of them" if selected else "every one was skipped"
    return f"No secrets exported: {where} has {fetched} secret(s), but {why}."
