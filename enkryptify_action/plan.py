"""The export plan: what a run will export, built and validated in memory before any write.

Every platform sink (plain formats, GitHub file commands, GitLab dotenv) consumes an
``ExportPlan`` and nothing else, so selection and naming rules live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Secret:
    """One secret as fetched for one environment (personal/shared already chosen)."""

    name: str
    value: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Target:
    """Where the secrets came from: workspace, project and environment."""

    workspace: str
    project: str
    environment: str
    environment_id: str
    sources: tuple[Target, ...] = ()  # with the sources option: each source's own target, in order

    @property
    def where(self) -> str:
        """``workspace/project/environment``, or ``workspace: p1/e1, p2/e2`` for several sources."""
        if self.sources:
            return f"{self.workspace}: " + ", ".join(f"{t.project}/{t.environment}" for t in self.sources)
        return f"{self.workspace}/{self.project}/{self.environment}"


@dataclass(frozen=True, slots=True)
class ExportItem:
    """One variable to export: its final name, its value, and the secret it came from."""

    name: str
    value: str = field(repr=False)
    source: str = ""


@dataclass(frozen=True, slots=True)
class Note:
    """A secret that was renamed or skipped, with the reason (names only, never values)."""

    source: str
    name: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """The complete, validated result of selection and naming, in export order."""

    target: Target
    items: tuple[ExportItem, ...]
    renamed: tuple[Note, ...] = ()
    skipped: tuple[Note, ...] = ()
    replaced: tuple[Note, ...] = ()  # with several sources: a later source's secret replaced an earlier one

    @property
    def names(self) -> list[str]:
        return [item.name for item in self.items]

    def as_dict(self) -> dict[str, str]:
        return {item.name: item.value for item in self.items}
