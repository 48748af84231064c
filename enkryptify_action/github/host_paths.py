"""The runner's own paths, for values the container action exports that later steps use as paths.

A container action sees the workspace at ``/github/workspace`` and the job's temp folder at
``/github/runner_temp``: the runner translates every environment value it hands the container
(actions/runner 258d6c8, src/Runner.Worker/Handlers/ContainerActionHandler.cs, ``TranslateToContainerPath``
in src/Runner.Worker/Container/ContainerInfo.cs), but nothing written to GITHUB_ENV or GITHUB_OUTPUT is
translated back (src/Runner.Worker/FileCommandManager.cs). So a ``files`` variable holding
``/github/runner_temp/tls/key.pem`` would name a file that later ``run:`` steps, on the host, cannot find.

action.yml therefore has one internal input, ``runner-paths``, whose default is evaluated by the runner on
the host: ``workspace=${{ github.workspace }}`` and ``temp=${{ runner.temp }}``, one per line. Its value
starts with ``workspace=``, never with a mounted host path, so the runner leaves it untranslated (it only
rewrites a value that is, or starts with, a mounted path followed by a separator). The program maps a
path under the container's GITHUB_WORKSPACE or RUNNER_TEMP back to the host's. Outside a container
(the composite action, the CLI) both sides are equal and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

INPUT = "runner-paths"
INPUT_VAR = "INPUT_" + INPUT.upper()
DEFAULT = "workspace=${{ github.workspace }}\ntemp=${{ runner.temp }}"
DESCRIPTION = (
    "Internal, leave as is: the runner's own workspace and temp paths (evaluated by the runner), so that the "
    "paths the container action exports for `files` are the ones later steps see."
)
_SIDES = (("workspace", "GITHUB_WORKSPACE"), ("temp", "RUNNER_TEMP"))


def host_path_mapper(environ: Mapping[str, str]) -> Callable[[Path], str]:
    """A function from a path as the program sees it to the path later steps see (itself when equal)."""
    given: dict[str, str] = {}
    for line in environ.get(INPUT_VAR, "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            given[key.strip()] = value.strip()
    mappings: list[tuple[Path, str]] = []
    for key, variable in _SIDES:
        host, inside = given.get(key, ""), environ.get(variable, "")
        if not inside:
            continue
        usable = host.startswith("/") and "${{" not in host
        # Paths are resolved where they are checked (exports.export_file_path); show them under the root
        # as the runner spells it, not under wherever a link in it points.
        mappings.append((Path(inside).resolve(), host if usable else inside))

    def to_host(path: Path) -> str:
        for inside_root, host_root in mappings:
            if path.is_relative_to(inside_root):
                relative = path.relative_to(inside_root).as_posix()
                return host_root if relative == "." else f"{host_root.rstrip('/')}/{relative}"
        return str(path)

    return to_host
