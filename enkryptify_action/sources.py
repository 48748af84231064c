"""Several sources in one run: parse the ``sources`` option and merge what each source holds.

A source is ``PROJECT/ENVIRONMENT`` in the run's workspace (slug, name or ID, as the ``project`` and
``environment`` options take them). Sources are read in order and a later source's secret replaces an
earlier one of the same name; every replacement is reported by name, so a merge never hides a value
silently. Selection, renaming and every check then run on the merged set, exactly as for one source.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UsageError
from .plan import Note, Secret, Target

HINT_SOURCES = (
    "One PROJECT/ENVIRONMENT per line, e.g.\n  shared/production\n  web-app/production\n"
    "Leave project and environment empty when sources is set."
)


@dataclass(frozen=True, slots=True)
class Source:
    """One line of ``sources``."""

    project: str
    environment: str

    @property
    def label(self) -> str:
        return f"{self.project}/{self.environment}"


def parse_sources(text: str) -> tuple[Source, ...]:
    """``PROJECT/ENVIRONMENT`` per line; ``#`` comments and blank lines ignored; every bad line listed.

    The project is split off at the first ``/`` (project slugs and IDs contain none), so an environment
    name may itself contain ``/``. The same source twice is a mistake worth saying, not a no-op.
    """
    sources: list[Source] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "" if raw.lstrip().startswith("#") else raw.split(" #", 1)[0].strip()
        if not line:
            continue
        project, slash, environment = (part.strip() for part in line.partition("/"))
        if not slash or not project or not environment:
            problems.append(f"line {number}: {line[:80]!r} is not PROJECT/ENVIRONMENT")
            continue
        source = Source(project, environment)
        if source in sources:
            problems.append(f"line {number}: {source.label!r} is listed twice")
            continue
        sources.append(source)
    if problems:
        raise UsageError("Cannot parse the sources option: " + "; ".join(problems) + ".", hint=HINT_SOURCES)
    return tuple(sources)


def check_exclusive(sources: str, *, given: dict[str, str]) -> None:
    """``sources`` replaces ``project`` and ``environment``: giving both is ambiguous (exit 2).

    ``given`` maps each of those options that is set to where it came from (a flag, an input, a variable,
    the config file), so the message says where to look.
    """
    if not sources.strip() or not given:
        return
    names = " and ".join(given)
    where = "; ".join(f"{name} from the {origin}" for name, origin in given.items())
    raise UsageError(
        f"sources is set, so {names} must be empty: each source names its own project and environment ({where}).",
        hint=HINT_SOURCES,
    )


def merge(fetched: list[tuple[Target, list[Secret]]]) -> tuple[list[Secret], list[Note]]:
    """Merge per-source lists in order; a later source wins. Returns the secrets and the replacements.

    The merged order is the order in which names first appear (a replaced secret keeps its place), so
    the export order stays stable when a later source overrides an earlier one.
    """
    merged: dict[str, Secret] = {}
    origin: dict[str, str] = {}
    replaced: list[Note] = []
    for target, secrets in fetched:
        label = target_label(target)
        for secret in secrets:
            if secret.name in merged:
                replaced.append(Note(secret.name, secret.name, f"{label} replaces {origin[secret.name]}"))
            merged[secret.name] = secret
            origin[secret.name] = label
    return list(merged.values()), replaced


def target_label(target: Target) -> str:
    return f"{target.project}/{target.environment}"


def combined_target(targets: list[Target]) -> Target:
    """The plan's target for several sources: the workspace, and each field listing the sources' own."""
    first = targets[0]
    if len(targets) == 1:
        return first
    return Target(
        workspace=first.workspace,
        project=", ".join(dict.fromkeys(t.project for t in targets)),
        environment=", ".join(dict.fromkeys(t.environment for t in targets)),
        environment_id=", ".join(t.environment_id for t in targets),
        sources=tuple(targets),
    )
