"""What differs when the program runs as the composite action (``any-runner/action.yml``).

The composite action sets ``ENKRYPTIFY_GITHUB_ACTION=composite`` in its fetch step's ``env:``; the
container action never sets it. Two things follow from what a composite action is
(actions/runner src/Runner.Worker/Handlers/CompositeActionHandler.cs @258d6c85):

* It has no post step, so nothing can delete an ``export-file`` (or a ``files`` file) when the job ends. A file under
  ``RUNNER_TEMP`` is removed by the runner's own cleanup of that folder; one anywhere else would
  outlive the job, so it is refused. No state is saved for a post step that will never run.
* Only its declared outputs (``names``, ``count``) reach the workflow (``ProcessOutputs`` evaluates
  the ``outputs.*.value`` expressions), so the per-secret outputs of ``export-outputs`` would be
  silently lost; it is refused rather than half-working.

It also runs on Windows, where environment variable names are case-insensitive
(src/Runner.Common/Util/VarUtil.cs: ``EnvironmentVariableKeyComparer`` ignores case on Windows), so
two exported names that differ only in case would overwrite each other: refused as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..config import Settings
from ..errors import UsageError, ValidationError
from ..plan import ExportPlan
from ..secret_files import parse_file_specs
from .exports import place_in_workspace

RUNTIME_VAR = "ENKRYPTIFY_GITHUB_ACTION"
COMPOSITE = "composite"


def is_composite(environ: Mapping[str, str]) -> bool:
    return environ.get(RUNTIME_VAR) == COMPOSITE


def check_composite(settings: Settings, environ: Mapping[str, str], cwd: Path) -> None:
    """Refuse, before anything is fetched, what the composite action cannot do in full."""
    if not is_composite(environ):
        return
    if settings.export_outputs:
        raise UsageError(
            "export-outputs is not available in the composite action: a composite action passes on only its "
            "declared outputs (names, count), so the per-secret outputs would be lost.",
            hint="Use export-env or an export-file under ${{ runner.temp }}, or the container action on Linux.",
        )
    paths = [("export-file", settings.export_file.strip())]
    paths += [("files", spec.path) for spec in parse_file_specs(settings.files)]
    temp = environ.get("RUNNER_TEMP", "")
    for option, raw in paths:
        if not raw:
            continue
        _path, resolved = place_in_workspace(raw, environ, cwd)  # export_file_path checks the rest later
        if not temp or not resolved.is_relative_to(Path(temp).resolve()):
            raise UsageError(
                f"{option} {raw!r} is outside RUNNER_TEMP: the composite action has no post step to delete it "
                "when the job ends, and only RUNNER_TEMP is cleaned by the runner.",
                hint="Use a path such as ${{ runner.temp }}/secrets.env, or the container action on Linux.",
            )


def check_composite_plan(plan: ExportPlan, settings: Settings, environ: Mapping[str, str]) -> None:
    """On a Windows runner, refuse env names that differ only in case (the runner would keep the last)."""
    if not is_composite(environ) or environ.get("RUNNER_OS") != "Windows" or settings.dry_run:
        return
    if not settings.export_env:
        return
    seen: dict[str, str] = {}
    clashes: list[str] = []
    for item in plan.items:
        first = seen.setdefault(item.name.upper(), item.name)
        if first != item.name:
            clashes.append(f"{first} and {item.name}")
    if clashes:
        raise ValidationError(
            "Environment variable names are case-insensitive on Windows, so these would overwrite each other: "
            + "; ".join(clashes)
            + ".",
            hint="Set name-case: upper, rename with ALIAS=NAME in the secrets option, or exclude one (!NAME).",
        )
