"""GitLab dotenv report writer (``--format gitlab``): one file GitLab can carry exactly, or an error.

GitLab's parser (``app/services/ci/parse_dotenv_artifact_service.rb``) is much stricter than ``.env``
conventions: it splits each line at the first ``=``, strips whitespace from both sides, keeps quotes
literally, has no comments, no ``export``, no blank lines and no multi-line values. It refuses files
of ``dotenv_size`` bytes or more and files with more than ``dotenv_variables`` variables. So the file
is ``KEY=VALUE`` lines and nothing else, and a value GitLab would alter is refused, never rewritten.

``$`` escaping (the one rewrite): GitLab stores dotenv variables with ``raw: false``, and GitLab Runner
expands every non-raw value once before the consuming job starts (``os.Expand`` with ``$$`` mapped to
``$``; gitlab-runner ``common/spec/variables.go``). A secret ``pa$word`` would arrive as ``pa``. Writing
every ``$`` as ``$$`` makes it arrive intact. Verified end to end with gitlab-ci-local 4.75.1, whose
expansion behaves the same (tests/gitlab/test_e2e_gitlab_ci_local.py). Assumption: this holds for the
consuming job's environment. A job that re-exposes the variable through another expanding layer (its
own ``variables:`` block, a downstream trigger) expands it again: documented in gitlab-component/README.md.
"""

from __future__ import annotations

import re

from ..errors import UsageError, ValidationError
from ..plan import ExportItem, ExportPlan

GITLAB_MAX_DOTENV_BYTES = 5120
"""GitLab's default ``dotenv_size`` limit; the check is ``size < limit``, so 5120 bytes is refused."""

GITLAB_DEFAULT_MAX_VARIABLES = 20
"""GitLab self-managed default ``dotenv_variables`` (gitlab.com: Free 50, Premium 100, Ultimate 150)."""

GITLAB_MAX_KEY_LENGTH = 255
GITLAB_KEY = re.compile(rf"[A-Za-z0-9_]{{1,{GITLAB_MAX_KEY_LENGTH}}}")

RUBY_STRIP_CHARS = " \t\n\v\f\r\0"
"""What Ruby's ``String#strip`` removes from both ends of every key and value."""

SAME_JOB_HINT = (
    "Use same-job mode for these secrets: `enkryptify-fetch run -- CMD` or "
    '`eval "$(enkryptify-fetch pull --format shell)"` in the job that needs them '
    "(the component's same-job recipe). It carries any value exactly and keeps secrets out of artifacts."
)


def escape_gitlab_value(value: str) -> str:
    """The text to write so that the consuming job sees ``value``: every ``$`` doubled (see above)."""
    return value.replace("$", "$$")


def value_problem(value: str) -> str | None:
    """Why GitLab cannot deliver ``value`` exactly through a dotenv report, or None. Never shows the value."""
    if "\n" in value or "\r" in value:
        return "multi-line value (a dotenv report holds one line per variable)"
    if "\0" in value:
        return "contains a NUL character, which no environment variable can hold"
    if value != value.strip(RUBY_STRIP_CHARS):
        return "starts or ends with whitespace, which GitLab strips"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (unpaired surrogate)"
    return None


def name_problem(name: str) -> str | None:
    """Why GitLab would reject ``name`` as a dotenv key, or None."""
    if GITLAB_KEY.fullmatch(name) is None:
        return (
            f"name is not a valid GitLab variable name (letters, digits and _ only, "
            f"1-{GITLAB_MAX_KEY_LENGTH} characters)"
        )
    return None


def _label(item: ExportItem) -> str:
    if item.source and item.source != item.name:
        return f"{item.name} (secret {item.source})"
    return item.name


def render_gitlab_dotenv(plan: ExportPlan, *, max_variables: int) -> str:
    """The whole dotenv report for ``plan``, or ValidationError listing every problem at once.

    Pure: validates everything before returning, writes nothing. Messages name secrets, never values.
    """
    if max_variables < 1:
        raise UsageError(f"max-variables must be at least 1, not {max_variables}.")

    problems: list[str] = []
    seen: set[str] = set()
    for item in plan.items:
        reasons = [r for r in (name_problem(item.name), value_problem(item.value)) if r is not None]
        if item.name in seen:
            reasons.append("exported twice under this name (GitLab would keep only the last)")
        seen.add(item.name)
        problems.extend(f"{_label(item)}: {reason}" for reason in reasons)

    lines = [f"{item.name}={escape_gitlab_value(item.value)}\n" for item in plan.items]
    text = "".join(lines)
    size = len(text.encode("utf-8", errors="replace"))

    totals: list[str] = []
    if len(plan.items) > max_variables:
        totals.append(
            f"{len(plan.items)} variables, more than max-variables ({max_variables}): GitLab would refuse the "
            "report. Select fewer secrets, or raise max-variables to your instance's dotenv_variables limit "
            "(self-managed default 20; gitlab.com Free 50, Premium 100, Ultimate 150)."
        )
    if size >= GITLAB_MAX_DOTENV_BYTES:
        totals.append(
            f"the report would be {size} bytes; GitLab accepts less than {GITLAB_MAX_DOTENV_BYTES} bytes "
            "(its dotenv_size limit). Select fewer secrets."
        )

    if problems or totals:
        parts: list[str] = []
        if problems:
            parts.append("GitLab cannot carry these secrets exactly in a dotenv report:")
            parts.extend(f"  - {p}" for p in problems)
        parts.extend(f"The dotenv report is refused: {t}" for t in totals)
        parts.append("Nothing was written.")
        raise ValidationError("\n".join(parts), hint=SAME_JOB_HINT)
    return text
