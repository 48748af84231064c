"""GitLab dotenv report writer (``--format gitlab``): one file GitLab delivers exactly, or an error.

What happens to the report, read from GitLab's source (facts in tests/gitlab/dotenv_emulation.py, which
rebuilds the chain for the tests):

1. Upload. GitLab Runner gzips the file (klauspost/pgzip, flate level 5, the file's name and path in the
   gzip header) and GitLab (``Ci::ParseDotenvArtifactService``) refuses it unless the **gzip** is smaller
   than ``dotenv_size`` (5120 bytes by default) and it holds at most ``dotenv_variables`` variables. Each
   line is split at its first ``=``; key and value are stripped of whitespace; nothing else is special
   (no quotes, comments, ``export`` or multi-line values). Only ``\\n`` ends a line: an inner ``\\r`` stays.
2. Hand-over. The variables are stored ``raw: false``; before a job is given to a runner, Rails expands
   ``$NAME``, ``${NAME}`` and ``%NAME%`` of every defined variable (``$$`` and ``%%`` are kept), and the
   runner then expands ``$`` once more, mapping ``$$`` to ``$``. So every ``$`` is written as ``$$`` (the
   one rewrite) and survives both passes; ``%`` has no escape, so a value in which Rails' scan finds a
   ``%NAME%`` is refused (any name counts as defined: the consuming job's variables are not known here).
3. Delivery. The runner drops job variables named like its feature flags (``FF_*``), sets its own
   variables after the job's (``CI_RUNNER_*``, ``CI_SHARED_ENVIRONMENT``, ...), the Kubernetes executor
   reads ``KUBERNETES_*`` overwrites to change the pod, and bash runs ``export KEY=<escaped value>``
   under errexit: a digit-first key stops the job, and bash computes, resets or protects some names
   (``_``, ``RANDOM``, ``UID``, ...). Those names are refused.

A value or name GitLab would alter is refused (exit 6, naming the secret, never showing the value); it is
never rewritten. A job that re-exposes a variable through another expanding layer (its own ``variables:``
block, a downstream trigger) expands it again: documented in gitlab-component/README.md.
"""

from __future__ import annotations

import math
import os
import re
import zlib

from ..errors import UsageError, ValidationError
from ..plan import ExportItem, ExportPlan

GITLAB_MAX_DOTENV_BYTES = 5120
"""GitLab's default ``dotenv_size``: the uploaded **gzip** must be smaller (``size < limit``)."""

GITLAB_DEFAULT_MAX_VARIABLES = 20
"""GitLab self-managed default ``dotenv_variables`` (gitlab.com: Free 50, Premium 100, Ultimate 150)."""

GITLAB_MAX_KEY_LENGTH = 255
GITLAB_KEY = re.compile(rf"[A-Za-z0-9_]{{1,{GITLAB_MAX_KEY_LENGTH}}}")

RUBY_STRIP_CHARS = " \t\n\v\f\r\0"
"""What Ruby's ``String#strip`` removes from both ends of every key and value."""

DEFAULT_REPORT_NAME = "enkryptify-secrets.env"
"""The component's default ``dotenv-file``: the name assumed in the gzip header when writing to stdout."""

GZIP_MARGIN_PERCENT = 4
GZIP_MARGIN_BYTES = 32
"""Safety margin over our gzip estimate for the runner's own compressor (see ``gzip_size``)."""

RAILS_REFERENCE = re.compile(
    r"\$\$|%%|\$(?P<dollar>[a-zA-Z_][a-zA-Z0-9_]*)|\$\{(?P<braces>[a-zA-Z_][a-zA-Z0-9_]*)?\}"
    r"|%(?P<percent>[a-zA-Z_][a-zA-Z0-9_]*)%"
)
"""Rails' ``Collection::Item::VARIABLES_REGEXP``, alternatives in its order, scanned left to right."""

KUBERNETES_OVERWRITE = re.compile(
    r"KUBERNETES_(?:\w*_OVERWRITE|BEARER_TOKEN|(?:POD_LABELS|POD_ANNOTATIONS|NODE_SELECTOR|NODE_TOLERATIONS)_\w*"
    r"|(?:SERVICE_|HELPER_)?(?:CPU|MEMORY|EPHEMERAL_STORAGE)_(?:LIMIT|REQUEST))"
)
"""Job variables the gitlab-runner Kubernetes executor reads to change the pod (executors/kubernetes/overwrites.go)."""

RUNNER_SET_NAMES = frozenset(
    {
        "CI_SHARED_ENVIRONMENT",
        "CI_DISPOSABLE_ENVIRONMENT",
        "RUNNER_TEMP_PROJECT_DIR",
        "CI_BUILD_NETWORK_NAME",
        "GITLAB_ENV",
    }
)
"""Variables gitlab-runner sets after the job's own (common/build.go, shells/abstract.go): the runner's value wins."""

BASH_OWNED_NAMES = frozenset(
    {
        "_", "RANDOM", "SRANDOM", "SECONDS", "LINENO", "HISTCMD", "FUNCNAME", "GROUPS", "DIRSTACK",
        "BASHPID", "EPOCHSECONDS", "EPOCHREALTIME", "OPTIND", "PIPESTATUS", "BASH_COMMAND",
        "BASH_SUBSHELL", "BASH_ARGC", "BASH_ARGV", "BASH_LINENO", "BASH_SOURCE", "BASH_VERSINFO",
        "UID", "EUID", "PPID", "SHELLOPTS", "BASHOPTS",
    }
)  # fmt: skip
"""Names bash computes, resets or keeps read-only: ``export NAME=...`` does not deliver the value (real bash
5.2, tests/gitlab/test_dotenv_emulation.py), and for the read-only ones it stops the job under errexit."""

SAME_JOB_HINT = (
    "Use same-job mode for these secrets: `enkryptify-fetch run -- CMD` or "
    '`eval "$(enkryptify-fetch pull --format shell)"` in the job that needs them '
    "(the component's same-job recipe). It carries any value exactly and keeps secrets out of artifacts."
)


def escape_gitlab_value(value: str) -> str:
    """The text to write so that the consuming job sees ``value``: every ``$`` doubled (see above)."""
    return value.replace("$", "$$")


def has_percent_reference(written: str) -> bool:
    """Whether Rails' left-to-right scan of ``written`` (the escaped text) finds a ``%NAME%`` reference."""
    return any(match.group("percent") is not None for match in RAILS_REFERENCE.finditer(written))


def value_problem(value: str) -> str | None:
    """Why GitLab cannot deliver ``value`` exactly through a dotenv report, or None. Never shows the value."""
    if "\n" in value:
        return "multi-line value (a dotenv report holds one line per variable)"
    if "\0" in value:
        return "contains a NUL character, which no environment variable can hold"
    if value != value.strip(RUBY_STRIP_CHARS):
        return "starts or ends with whitespace, which GitLab strips"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (unpaired surrogate)"
    if has_percent_reference(escape_gitlab_value(value)):
        return (
            "contains %NAME% (a variable name between two %), which GitLab replaces with that variable's "
            "value before the job starts; % has no escape"
        )
    return None


def name_problem(name: str) -> str | None:
    """Why GitLab would reject ``name`` as a dotenv key, or would not deliver it as written, or None."""
    if GITLAB_KEY.fullmatch(name) is None:
        return (
            f"name is not a valid GitLab variable name (letters, digits and _ only, "
            f"1-{GITLAB_MAX_KEY_LENGTH} characters)"
        )
    reason = _undelivered_name(name)
    return f"{reason}; rename it with ALIAS=NAME in the secrets option" if reason else None


def _undelivered_name(name: str) -> str | None:
    if name[0].isdigit():
        return "name starts with a digit: the runner's `export` of it fails and stops the consuming job"
    if name in BASH_OWNED_NAMES:
        return "bash owns this variable (it computes, resets or protects it): the job would not see the value"
    if name.startswith("FF_"):
        return "FF_* names are GitLab Runner feature flags: the runner drops them and uses its own setting"
    if name.startswith("CI_RUNNER_") or name in RUNNER_SET_NAMES:
        return "GitLab Runner sets this variable itself, after the job's variables: its value wins"
    if KUBERNETES_OVERWRITE.fullmatch(name):
        return "the GitLab Runner Kubernetes executor reads this variable to change the job's pod"
    return None


def gzip_size(data: bytes, report_path: str) -> int:
    """The size of the gzip file GitLab Runner would upload for ``data``, estimated, margin included.

    The runner (helpers/archives/gzip_create.go) writes one gzip member: a 10-byte header, the file's
    base name and its path as header fields (each NUL-terminated), the deflate stream (klauspost/pgzip at
    flate level 5, ending in a sync flush and a final block) and an 8-byte trailer. Python has no copy of
    that encoder, so the deflate part is the larger of zlib's levels 1 and 6 plus ``GZIP_MARGIN_PERCENT``
    % and ``GZIP_MARGIN_BYTES`` bytes: a few percent above what the runner's compressor produces.
    """
    fields = len(os.path.basename(report_path).encode()) + 1 + len(report_path.encode()) + 1
    deflated = 0
    for level in (1, 6):
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        stream = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH) + compressor.flush()
        deflated = max(deflated, len(stream))
    margin = math.ceil(deflated * GZIP_MARGIN_PERCENT / 100) + GZIP_MARGIN_BYTES
    return 10 + fields + deflated + margin + 8


def _label(item: ExportItem) -> str:
    if item.source and item.source != item.name:
        return f"{item.name} (secret {item.source})"
    return item.name


def render_gitlab_dotenv(
    plan: ExportPlan,
    *,
    max_variables: int,
    max_size: int = GITLAB_MAX_DOTENV_BYTES,
    report_path: str = DEFAULT_REPORT_NAME,
) -> str:
    """The whole dotenv report for ``plan``, or ValidationError listing every problem at once.

    ``max_size`` is the instance's ``dotenv_size`` (the gzip must be smaller); ``report_path`` is the
    file's path as the runner uploads it (it is part of the gzip header). Pure: validates everything
    before returning, writes nothing. Messages name secrets, never values.
    """
    if max_variables < 1:
        raise UsageError(f"max-variables must be at least 1, not {max_variables}.")
    if max_size < 1:
        raise UsageError(f"max-size must be at least 1, not {max_size}.")

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
    data = text.encode("utf-8", errors="replace")

    totals: list[str] = []
    if len(plan.items) > max_variables:
        totals.append(
            f"{len(plan.items)} variables, more than max-variables ({max_variables}): GitLab would refuse the "
            "report. Select fewer secrets, or raise max-variables to your instance's dotenv_variables limit "
            "(self-managed default 20; gitlab.com Free 50, Premium 100, Ultimate 150)."
        )
    compressed = gzip_size(data, report_path)
    if compressed >= max_size:
        totals.append(
            f"the report would be {len(data)} bytes, about {compressed} bytes gzipped as GitLab Runner "
            f"uploads it (safety margin included); GitLab accepts less than max-size ({max_size} bytes "
            "gzipped, its dotenv_size limit). Select fewer secrets, or raise max-size to your "
            "instance's dotenv_size."
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
