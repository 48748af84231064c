"""Build every export in memory, validate it, then write each file once.

``build_exports`` is pure apart from path checks: it either returns the complete texts for
GITHUB_ENV, GITHUB_OUTPUT and the dotenv file, or raises before anything is written.
``write_exports`` then writes the dotenv file (atomic, 0600) and appends one block to each file
command, so the runner never sees half an export (github-runner.md §1: records before a bad one
are applied).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from github_action_utils import _files as gau_files

from ..config import Settings
from ..errors import UsageError, ValidationError
from ..files import append_file, make_private_dirs, signals_deferred, truncate_to, write_private_file
from ..formats import render_dotenv
from ..plan import ExportPlan
from ..secret_files import SecretFile, secret_files_written
from ..select import is_encodable

# Step outputs this action always sets; the runner's output names are case-insensitive.
FIXED_OUTPUTS = ("names", "count")
# The runner refuses this name in GITHUB_ENV (FileCommandManager.cs, compared ignoring case).
RUNNER_REFUSED_ENV = "NODE_OPTIONS"
# Records the export file for the post step: (final path, temporary path, the temp file's descriptor) -> None.
RememberFile = Callable[[Path, Path, int], None]


@dataclass(frozen=True, slots=True)
class Exports:
    """The serialized exports of one run (``None`` = that target is not written)."""

    env_text: str | None = field(repr=False)
    output_text: str = field(repr=False)
    file_path: Path | None
    file_text: str | None = field(repr=False)
    secret_files: tuple[SecretFile, ...] = ()


def file_command_block(pairs: list[tuple[str, str]]) -> str:
    """``NAME<<ghadelimiter_…`` records for all pairs, as one text to append in a single write.

    The record format is github-action-utils' (``_files._build_file_input``: native newlines, a
    leading newline before a name that starts with U+FEFF) and so are its name checks, but with one
    random delimiter for the whole block instead of a uuid4 per record: it is drawn again until no
    name and no value contains it, so every record closes exactly where it should.
    """
    for name, _value in pairs:
        check_file_command_name(name)
    delimiter = new_delimiter()
    while any(delimiter in name or delimiter in value for name, value in pairs):
        delimiter = new_delimiter()
    nl = os.linesep
    close = f"{nl}{delimiter}{nl}"
    text = "".join(
        f"{nl if name.startswith(BOM) else ''}{name}<<{delimiter}{nl}{value}{close}" for name, value in pairs
    )
    if text.count(delimiter) != 2 * len(pairs):  # defense in depth: each record frames its value once
        raise ValidationError("Could not frame the values safely as GitHub file commands.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        bad = next(name for name, value in pairs if not is_encodable(name + value))
        raise ValidationError(
            f"{bad!r} cannot be written as a GitHub file command: it is not valid Unicode text."
        ) from None
    return text


BOM = "\ufeff"


def new_delimiter() -> str:
    """github-action-utils' delimiter format: ``ghadelimiter_`` and a random uuid4 in hex."""
    return f"ghadelimiter_{uuid.uuid4().hex}"


def check_file_command_name(name: str) -> None:
    """github-action-utils' checks: nonempty, no ``=`` or ``<<`` (``_build_file_input``), no CR, LF or NUL.

    Also no trailing ``<``: the header ``A<<<ghadelimiter_…`` would be split by the runner at its first
    ``<<`` (key ``A``, delimiter ``<ghadelimiter_…``), and the record would never close.
    """
    try:
        if "=" in name or "<<" in name or name.endswith("<"):
            raise ValueError(name)
        gau_files.validate_single_line(name, "File command name")
    except ValueError:
        raise ValidationError(
            f"{name!r} cannot be written as a GitHub file command.",
            hint="Names must not contain =, <<, CR, LF or NUL, nor end with <.",
        ) from None


def output_pairs(plan: ExportPlan, *, per_secret: bool) -> list[tuple[str, str]]:
    """``names`` (JSON list, never values) and ``count``, plus one output per secret when asked."""
    pairs = [("names", json.dumps(plan.names)), ("count", str(len(plan.items)))]
    if not per_secret:
        return pairs
    seen = {name: f"the {name!r} output" for name in FIXED_OUTPUTS}
    clashes: list[str] = []
    for item in plan.items:
        key = item.name.lower()
        if key in seen:
            clashes.append(f"{seen[key]} and {item.name}")
        else:
            seen[key] = item.name
            pairs.append((item.name, item.value))
    if clashes:
        raise ValidationError(
            "Step output names are case-insensitive, so these would overwrite each other: " + "; ".join(clashes) + ".",
            hint="Set a prefix, rename with ALIAS=NAME in the secrets option, or set name-case: upper.",
        )
    return pairs


def env_pairs(plan: ExportPlan) -> list[tuple[str, str]]:
    refused = [item.name for item in plan.items if item.name.upper() == RUNNER_REFUSED_ENV]
    if refused:
        raise ValidationError(
            f"{refused[0]} cannot be exported through GITHUB_ENV: the GitHub runner refuses it even when "
            "allow-dangerous-names is true.",
            hint="Rename it (ALIAS=NODE_OPTIONS in the secrets option), exclude it (!NODE_OPTIONS), "
            "or set export-env: false and use export-outputs or export-file.",
        )
    return [(item.name, item.value) for item in plan.items]


def place_in_workspace(raw: str, environ: Mapping[str, str], cwd: Path) -> tuple[Path, Path]:
    """An ``export-file``/``files`` PATH made absolute (relative ones are in the workspace), and resolved:
    its folder's links followed, the file itself not (it may be a link we replace)."""
    path = Path(raw.strip())
    path = path if path.is_absolute() else Path(environ.get("GITHUB_WORKSPACE") or cwd) / path
    return path, path.parent.resolve() / path.name


def export_file_path(raw: str, environ: Mapping[str, str], cwd: Path, *, option: str = "export-file") -> Path:
    """Resolve ``export-file`` (or a ``files`` PATH) and require it to lie under the workspace or RUNNER_TEMP."""
    roots = [Path(environ.get("GITHUB_WORKSPACE") or cwd)]
    if environ.get("RUNNER_TEMP"):
        roots.append(Path(environ["RUNNER_TEMP"]))
    path, resolved = place_in_workspace(raw, environ, cwd)
    allowed = [root.resolve() for root in roots]
    if path.name in ("", ".", "..") or not any(resolved.is_relative_to(root) for root in allowed):
        raise UsageError(
            f"{option} {raw.strip()!r} is outside the workspace and RUNNER_TEMP.",
            hint="Use a path such as .env.ci (in the workspace) or ${{ runner.temp }}/secrets.env.",
        )
    if resolved in allowed:
        raise UsageError(f"{option} {raw.strip()!r} names a folder, not a file.")
    link = _link_below_root(Path(os.path.normpath(path)), roots)
    if link is not None:
        raise UsageError(
            f"{option} {raw.strip()!r} goes through the symbolic link {link}: a link in the repository could "
            "move the file somewhere else (a folder that is published or uploaded).",
            hint="Name a path whose folders are real folders, such as ${{ runner.temp }}/secrets.env.",
        )
    return resolved


def _link_below_root(path: Path, roots: list[Path]) -> Path | None:
    """The first folder of ``path`` below its root (workspace or RUNNER_TEMP, as the runner gives them) that
    is a symbolic link, or None. The roots themselves may be links; the file itself is replaced, never
    followed."""
    for root in roots:
        base = Path(os.path.normpath(root))
        if not path.is_relative_to(base):
            continue
        current = base
        for part in path.relative_to(base).parts[:-1]:
            current = current / part
            if current.is_symlink():
                return current
        return None
    return None


def build_exports(
    plan: ExportPlan,
    settings: Settings,
    environ: Mapping[str, str],
    cwd: Path,
    *,
    secret_files: tuple[SecretFile, ...] = (),
) -> Exports:
    """Serialize and validate everything; raises before anything is written.

    ``plan`` already has each ``files`` secret holding its path (``secret_files.plan_files``).
    """
    exporting = not settings.dry_run
    env_text = file_command_block(env_pairs(plan)) if exporting and settings.export_env else None
    output_text = file_command_block(output_pairs(plan, per_secret=exporting and settings.export_outputs))
    file_path: Path | None = None
    file_text: str | None = None
    if exporting and settings.export_file.strip():
        file_path = export_file_path(settings.export_file, environ, cwd)
        file_text = render_dotenv(plan)
        if any(file.path == file_path for file in secret_files):
            raise UsageError(f"export-file {settings.export_file.strip()!r} is also a path in the files option.")
    if env_text is not None and not environ.get("GITHUB_ENV"):
        raise UsageError("GITHUB_ENV is not set: is this running as a GitHub Action step?")
    if not environ.get("GITHUB_OUTPUT"):
        raise UsageError("GITHUB_OUTPUT is not set: is this running as a GitHub Action step?")
    return Exports(
        env_text=env_text,
        output_text=output_text,
        file_path=file_path,
        file_text=file_text,
        secret_files=secret_files if exporting else (),
    )


def write_exports(
    exports: Exports,
    environ: Mapping[str, str],
    *,
    remember_file: RememberFile,
    remember_secret_file: RememberFile | None = None,
) -> None:
    """Write the secret files and the dotenv file, then append once to GITHUB_OUTPUT and GITHUB_ENV, with
    signals deferred.

    ``remember_file(final, temp, fd)`` records the dotenv file for the post step before its first byte
    is written (the temp file is renamed into place, so both paths share one inode); ``remember_secret_file``
    does the same for each ``files`` file. If a later write fails, the dotenv file is removed, the secret
    files are removed (or what they replaced put back) and the appends are cut back: nothing half-done.
    """
    targets = [(environ["GITHUB_OUTPUT"], exports.output_text)]
    if exports.env_text is not None:
        targets.append((environ["GITHUB_ENV"], exports.env_text))
    encoded = [(path, text.encode("utf-8")) for path, text in targets]  # before any write: all or nothing
    with (
        signals_deferred(),  # a SIGINT/SIGTERM meanwhile is delivered when every write is complete
        secret_files_written(exports.secret_files, before_write=remember_secret_file),
    ):
        written: Path | None = None
        appended: list[tuple[str, int]] = []
        try:
            if exports.file_path is not None and exports.file_text is not None:
                final = exports.file_path
                make_private_dirs(final.parent)
                write_private_file(
                    final, exports.file_text, before_write=lambda temp, fd: remember_file(final, temp, fd)
                )
                written = final
            for path, data in encoded:
                appended.append((path, append_file(path, data)))
        except BaseException:
            for path, size in appended:
                truncate_to(path, size)
            if written is not None:
                with contextlib.suppress(OSError):
                    written.unlink()
            raise
