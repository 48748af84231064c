"""State of the fake Enkryptify API: workspaces, teams, projects, environments, secrets.

`Model` is the data plus a small builder API (`add_workspace`, `add_project`, ...) and a
loader for seed dictionaries (`load_seed`). IDs are UUID-shaped and deterministic
(uuid5 of the object's path) unless given, so a seed file always yields the same IDs.
Not thread-safe by itself: `FakeEnkryptify` (app.py) guards it with its lock.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_NS = uuid.UUID("6f0b7c1e-8a51-4d0e-9a63-2f6f3c0f5e11")
TIMESTAMP = "2026-01-15T10:00:00.000Z"


def make_id(*parts: str) -> str:
    """A UUID-looking ID derived from `parts` (stable across runs and processes)."""
    return str(uuid.uuid5(_NS, "/".join(parts)))


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "x"


@dataclass
class Workspace:
    id: str
    name: str
    slug: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "slug": self.slug}


@dataclass
class Team:
    id: str
    name: str
    workspace_id: str


@dataclass
class Environment:
    id: str
    name: str
    project_id: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass(slots=True)
class SecretValue:
    environment_id: str
    value: str
    is_personal: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"environmentId": self.environment_id, "value": self.value, "isPersonal": self.is_personal}


@dataclass(slots=True)
class Secret:
    id: str
    name: str
    project_id: str
    values: list[SecretValue] = field(default_factory=list)
    note: str = ""
    type: str = "runtime"
    data_type: str = "text"

    def to_json(self, env_ids: set[str] | None) -> dict[str, Any]:
        """The API shape; only values whose environment is in `env_ids` (None = all)."""
        return {
            "id": self.id,
            "name": self.name,
            "note": self.note,
            "type": self.type,
            "dataType": self.data_type,
            "values": [v.to_json() for v in self.values if env_ids is None or v.environment_id in env_ids],
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        }


@dataclass
class Project:
    id: str
    name: str
    slug: str
    workspace_id: str
    team_id: str
    environments: dict[str, Environment] = field(default_factory=dict)  # by id, in creation order
    secrets: dict[str, Secret] = field(default_factory=dict)  # by name, in creation order

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        }

    def env(self, key: str) -> Environment | None:
        """Environment by ID, else by exact name."""
        found = self.environments.get(key)
        if found is not None:
            return found
        return next((e for e in self.environments.values() if e.name == key), None)


class Model:
    """The fake's data and the builder API. Methods taking `ws`/`prj` accept an ID or a slug."""

    def __init__(self) -> None:
        self.workspaces: dict[str, Workspace] = {}
        self.teams: dict[str, Team] = {}
        self.projects: dict[str, Project] = {}

    # ----------------------------------------------------------------- lookups
    def find_workspace(self, key: str) -> Workspace | None:
        found = self.workspaces.get(key)
        if found is not None:
            return found
        return next((w for w in self.workspaces.values() if w.slug == key), None)

    def find_project(self, ws: Workspace, key: str) -> Project | None:
        for p in self.projects.values():
            if p.workspace_id == ws.id and key in (p.id, p.slug):
                return p
        return None

    def _project(self, prj: str) -> Project:
        """A project by ID, or by slug when that slug is unique across workspaces."""
        if prj in self.projects:
            return self.projects[prj]
        matches = [p for p in self.projects.values() if p.slug == prj]
        if len(matches) != 1:
            raise KeyError(f"unknown or ambiguous project {prj!r}")
        return matches[0]

    def _workspace(self, ws: str) -> Workspace:
        found = self.find_workspace(ws)
        if found is None:
            raise KeyError(f"unknown workspace {ws!r}")
        return found

    def env_id(self, prj: str, name: str) -> str:
        """The ID of environment `name` (or ID) in project `prj`."""
        env = self._project(prj).env(name)
        if env is None:
            raise KeyError(f"unknown environment {name!r}")
        return env.id

    def project_of(self, prj: str) -> Project:
        return self._project(prj)

    # ----------------------------------------------------------------- builder
    def add_workspace(self, name: str, *, slug: str | None = None, id: str | None = None) -> str:
        slug = slug or slugify(name)
        if self.find_workspace(slug) is not None:
            raise ValueError(f"workspace {slug!r} exists")
        wid = id or make_id("ws", slug)
        self.workspaces[wid] = Workspace(wid, name, slug)
        return wid

    def add_team(self, ws: str, name: str, *, id: str | None = None) -> str:
        w = self._workspace(ws)
        for t in self.teams.values():
            if t.workspace_id == w.id and name in (t.name, t.id):
                return t.id
        tid = id or make_id("team", w.id, name)
        self.teams[tid] = Team(tid, name, w.id)
        return tid

    def add_project(
        self,
        ws: str,
        name: str,
        *,
        slug: str | None = None,
        team: str = "Default",
        id: str | None = None,
        environments: Iterable[str] = (),
    ) -> str:
        w = self._workspace(ws)
        slug = slug or slugify(name)
        if self.find_project(w, slug) is not None:
            raise ValueError(f"project {slug!r} exists in {w.slug!r}")
        tid = self.add_team(w.id, team)
        pid = id or make_id("prj", w.id, slug)
        self.projects[pid] = Project(pid, name, slug, w.id, tid)
        for env_name in environments:
            self.add_environment(pid, env_name)
        return pid

    def add_environment(self, prj: str, name: str, *, id: str | None = None) -> str:
        p = self._project(prj)
        if p.env(name) is not None:
            raise ValueError(f"environment {name!r} exists in {p.slug!r}")
        eid = id or make_id("env", p.id, name)
        p.environments[eid] = Environment(eid, name, p.id)
        return eid

    def add_secret(
        self,
        prj: str,
        name: str,
        values: Mapping[str, str] | None = None,
        *,
        personal: Mapping[str, str] | None = None,
        note: str = "",
        type: str = "runtime",
        data_type: str = "text",
        id: str | None = None,
    ) -> str:
        """Add a secret. `values`/`personal` map environment name (or ID) to value."""
        p = self._project(prj)
        if name in p.secrets:
            raise ValueError(f"secret {name!r} exists in {p.slug!r}")
        secret = Secret(id or make_id("sec", p.id, name), name, p.id, note=note, type=type, data_type=data_type)
        for mapping, is_personal in ((values or {}, False), (personal or {}, True)):
            for env_key, value in mapping.items():
                env = p.env(env_key)
                if env is None:
                    raise KeyError(f"unknown environment {env_key!r} in {p.slug!r}")
                secret.values.append(SecretValue(env.id, str(value), is_personal))
        p.secrets[name] = secret
        return secret.id

    # -------------------------------------------------------------------- seed
    def load_seed(self, seed: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Load `workspaces:` from a seed dict; return its `tokens:` entries for the caller."""
        for ws in seed.get("workspaces", []):
            wid = self.add_workspace(ws["name"], slug=ws.get("slug"), id=ws.get("id"))
            for team in ws.get("teams", []):
                self.add_team(wid, team["name"], id=team.get("id"))
                for prj in team.get("projects", []):
                    self._load_project(wid, team["name"], prj)
            for prj in ws.get("projects", []):
                self._load_project(wid, prj.get("team", "Default"), prj)
        return [dict(t) if isinstance(t, Mapping) else {"token": str(t)} for t in seed.get("tokens", [])]

    def _load_project(self, wid: str, team: str, prj: Mapping[str, Any]) -> None:
        pid = self.add_project(wid, prj["name"], slug=prj.get("slug"), team=team, id=prj.get("id"))
        for env in prj.get("environments", []):
            if isinstance(env, Mapping):
                self.add_environment(pid, env["name"], id=env.get("id"))
            else:
                self.add_environment(pid, str(env))
        for s in prj.get("secrets", []):
            self.add_secret(
                pid,
                s["name"],
                s.get("values", {}),
                personal=s.get("personal"),
                note=s.get("note", ""),
                type=s.get("type", "runtime"),
                data_type=s.get("dataType", s.get("data_type", "text")),
                id=s.get("id"),
            )
