"""Find the workspace, project and environment, then read that environment's secret values."""

from __future__ import annotations

import re
from typing import Any

from .client import EnkryptifyClient
from .errors import ApiError, NetworkError, NotFoundError, PermissionDeniedError, UsageError
from .plan import Secret, Target

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ID_PREFIX = "id:"


def resolve_target(client: EnkryptifyClient, *, workspace: str, project: str, environment: str) -> Target:
    """Discover an omitted workspace/project, and turn an environment name into its ID."""
    if not environment:
        raise UsageError(
            "No environment given.",
            hint="Set the environment option (name or ID), or map branches to environments in the config file.",
        )
    workspace = resolve_workspace(client, workspace)
    if not project:
        try:
            project = _only_one(client.list_projects(workspace), "project", "project")
        except NotFoundError:
            explain_not_found(client, workspace, "")
            raise
    env_name, env_id = _resolve_environment(client, workspace, project, environment)
    return Target(workspace=workspace, project=project, environment=env_name, environment_id=env_id)


def resolve_workspace(client: EnkryptifyClient, workspace: str) -> str:
    """The workspace option, or the only workspace the token sees."""
    return workspace or _only_one(client.list_workspaces(), "workspace", "workspace")


def _keys(item: dict[str, Any]) -> set[str]:
    return {str(item[key]) for key in ("slug", "id") if item.get(key)}


def _listing(items: list[dict[str, Any]]) -> str:
    shown = sorted({str(item.get("slug") or item.get("id")) for item in items if item.get("slug") or item.get("id")})
    more = f" and {len(shown) - 50} more" if len(shown) > 50 else ""
    return ", ".join(shown[:50]) + more


def explain_not_found(client: EnkryptifyClient, workspace: str, project: str) -> None:
    """After a 404: raise ``NotFoundError`` listing what the token sees when the workspace or the project
    does not exist for it; return quietly when both do (the 404 was about something else) or when the
    token may not list them (the original error then stands)."""
    try:
        workspaces = client.list_workspaces()
    except (ApiError, NetworkError):  # cannot tell: the original error stands
        return
    if not any(workspace in _keys(item) for item in workspaces):
        raise NotFoundError(
            f"Workspace {workspace!r} not found, or not visible to this token.",
            hint=f"Workspaces this token sees: {_listing(workspaces)}."
            if workspaces
            else "The token sees no workspace: check its scope in Enkryptify.",
        )
    if not project:
        return
    try:
        projects = client.list_projects(workspace)
    except (ApiError, NetworkError):  # cannot tell: the original error stands
        return
    if not any(project in _keys(item) for item in projects):
        raise NotFoundError(
            f"Project {project!r} not found in workspace {workspace!r}, or not visible to this token.",
            hint=f"Projects this token sees there: {_listing(projects)}."
            if projects
            else "The token sees no project in this workspace: check its scope in Enkryptify.",
        )


def _only_one(items: list[dict[str, Any]], what: str, option: str) -> str:
    keys = [str(item.get("slug") or item.get("id") or "") for item in items]
    keys = [key for key in keys if key]
    if len(keys) == 1:
        return keys[0]
    if not keys:
        raise NotFoundError(
            f"The token sees no {what}.",
            hint=f"Check the token's scope in Enkryptify, or set the {option} option.",
        )
    raise UsageError(
        f"The token sees {len(keys)} {what}s; say which one with the {option} option.",
        hint=f"Candidates: {', '.join(sorted(keys))}.",
    )


def _resolve_environment(client: EnkryptifyClient, workspace: str, project: str, value: str) -> tuple[str, str]:
    if value.startswith(ID_PREFIX):
        env_id = value[len(ID_PREFIX) :]
        return env_id, env_id
    if _UUID.match(value):  # looks like an ID: skip the lookup request
        return value, value
    try:
        environments = client.list_environments(workspace, project)
    except NotFoundError:
        explain_not_found(client, workspace, project)  # an unknown workspace or project is named as such
        return value, value  # both exist: listing refused (the token may cover only this environment)
    except PermissionDeniedError:
        # Listing refused (the token may cover only this environment): use the value as an ID.
        return value, value
    for env in environments:
        if env.get("name") == value or env.get("id") == value:
            return str(env.get("name") or value), str(env.get("id") or value)
    names = sorted(str(env.get("name")) for env in environments if env.get("name"))
    raise NotFoundError(
        f"Environment {value!r} not found in project {project!r}.",
        hint=("Available environments: " + ", ".join(names) + ".")
        if names
        else "The project has no environments visible to this token.",
    )


def fetch_secrets(client: EnkryptifyClient, target: Target, *, personal: bool) -> list[Secret]:
    """The environment's secrets: the shared value, or the personal override first when asked.

    Secrets left out because they hold only a personal value (``personal`` off) are named in a warning.
    """
    try:
        raw = client.list_secrets(target.workspace, target.project, target.environment_id)
    except NotFoundError:
        explain_not_found(client, target.workspace, target.project)
        raise
    secrets: list[Secret] = []
    personal_only: list[str] = []
    for item in raw:
        name = item.get("name")
        values = item.get("values")
        if not isinstance(name, str) or not isinstance(values, list):
            raise ApiError(
                "The secrets list has an unexpected shape (a secret without name or values).",
                hint="Check api-url points at the Enkryptify API.",
            )
        value = _pick_value(values, target.environment_id, personal)
        if value is not None:
            secrets.append(Secret(name=name, value=value))
        elif not personal and _pick_value(values, target.environment_id, True) is not None:
            personal_only.append(name)
    if personal_only:
        shown = ", ".join(personal_only[:50]) + (
            f" and {len(personal_only) - 50} more" if len(personal_only) > 50 else ""
        )
        client.warn(
            f"{len(personal_only)} secret(s) in {target.environment} have only a personal value and were left out "
            f"(personal-values is off): {shown}. Hint: give them a shared value in Enkryptify, or set "
            "personal-values: true to use personal values."
        )
    return secrets


def _pick_value(values: list[Any], environment_id: str, personal: bool) -> str | None:
    shared: str | None = None
    own: str | None = None
    for entry in values:
        if not isinstance(entry, dict) or entry.get("environmentId") != environment_id:
            continue
        value = entry.get("value")
        if not isinstance(value, str):
            continue
        if entry.get("isPersonal") is True:
            own = value if own is None else own
        elif shared is None:
            shared = value
    if personal and own is not None:
        return own
    return shared
