"""Secrets delivered as files: parse the ``files`` option, decode, and write every file or none.

``NAME=PATH`` writes the exported secret ``NAME``'s value to PATH byte for byte (UTF-8, newlines kept);
``NAME:base64=PATH`` writes its base64-decoded bytes (a keystore, a binary key). The variable ``NAME`` then
holds the file's absolute path instead of the value; the value itself is still registered with the
masker. Where PATH may be depends on the platform (the caller's ``place``): under the workspace or
RUNNER_TEMP in the GitHub Action, inside a private temporary folder for ``run``, anywhere for ``pull``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from .errors import EnkryptifyError, ExportError, NotFoundError, UsageError, ValidationError
from .files import make_private_dirs, signals_deferred, stage_private_file
from .plan import ExportItem, ExportPlan

ENCODINGS = ("", "base64")
# Told (target, temporary path, open descriptor) before a file's first byte is written.
BeforeWrite = Callable[[Path, Path, int], None]
_SPEC = re.compile(r"^(?P<name>[^\s=:#]+)(?::(?P<encoding>[A-Za-z0-9]+))?\s*=\s*(?P<path>.+)$")
HINT_FILES = (
    "One entry per line: NAME=PATH, or NAME:base64=PATH to write the base64-decoded bytes. "
    "NAME is the exported name (after renaming and prefix)."
)
_WHITESPACE = re.compile(r"\s+")
HINT_FOLDER = "Check the files option's PATH and that its folder is writable."


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One line of ``files``."""

    name: str
    path: str
    encoding: str = ""


@dataclass(frozen=True, slots=True)
class SecretFile:
    """One file to write: where, and the exact bytes (never shown)."""

    name: str
    path: Path
    data: bytes = field(repr=False)


def parse_file_specs(text: str) -> tuple[FileSpec, ...]:
    """Parse ``files``; ``#`` comments and blank lines ignored; every bad line listed at once (exit 2)."""
    specs: list[FileSpec] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "" if raw.lstrip().startswith("#") else raw.split(" #", 1)[0].strip()
        if not line:
            continue
        match = _SPEC.match(line)
        if match is None:
            problems.append(f"line {number}: {line[:80]!r} is not NAME=PATH or NAME:base64=PATH")
            continue
        encoding = (match["encoding"] or "").lower()
        spec = FileSpec(match["name"], match["path"].strip(), encoding)
        if encoding not in ENCODINGS:
            problems.append(f"line {number}: unknown encoding {encoding!r} (only base64)")
        elif any(s.name == spec.name for s in specs):
            problems.append(f"line {number}: {spec.name} is listed twice")
        elif any(s.path == spec.path for s in specs):
            problems.append(f"line {number}: path {spec.path!r} is used twice")
        else:
            specs.append(spec)
    if problems:
        raise UsageError("Cannot parse the files option: " + "; ".join(problems) + ".", hint=HINT_FILES)
    return tuple(specs)


def plan_files(
    plan: ExportPlan,
    specs: tuple[FileSpec, ...],
    place: Callable[[str], Path],
    *,
    exported_as: Callable[[Path], str] = str,
) -> tuple[ExportPlan, tuple[SecretFile, ...]]:
    """The files to write and the plan with each ``NAME`` now holding its file's absolute path.

    ``place`` turns an entry's PATH into the absolute path to write (raising a UsageError where that
    platform does not allow it); ``exported_as`` gives the path as later steps see it (the container
    action's paths differ from the runner's: github/host_paths.py). Raises before anything is written:
    an unknown NAME (exit 4), values that are not valid base64 (exit 6, every one named).
    """
    if not specs:
        return plan, ()
    by_name = {item.name: item for item in plan.items}
    missing = [spec.name for spec in specs if spec.name not in by_name]
    if missing:
        available = ", ".join(sorted(by_name)[:50]) or "(none)"
        raise NotFoundError(
            "The files option names secret(s) this run does not export: " + ", ".join(missing) + ".",
            hint=f"Use the exported name (after renaming, prefix and case). Exported: {available}.",
        )
    files: list[SecretFile] = []
    bad: list[str] = []
    paths: dict[str, str] = {}
    for spec in specs:
        path = place(spec.path)
        if str(path) in paths:
            raise UsageError(f"files: {paths[str(path)]} and {spec.name} would both be written to {path}.")
        paths[str(path)] = spec.name
        value = by_name[spec.name].value
        if spec.encoding == "base64":
            try:
                data = base64.b64decode(_WHITESPACE.sub("", value), validate=True)
            except (binascii.Error, ValueError):
                bad.append(spec.name)
                continue
        else:
            data = value.encode("utf-8")
        files.append(SecretFile(spec.name, path, data))
    if bad:
        raise ValidationError(
            "Not valid base64, so the file(s) cannot be decoded: " + ", ".join(bad) + ".",
            hint="Store the value base64-encoded in Enkryptify (standard alphabet, padded), or drop :base64.",
        )
    where = {file.name: exported_as(file.path) for file in files}
    items = tuple(
        ExportItem(item.name, where[item.name], item.source) if item.name in where else item for item in plan.items
    )
    return replace(plan, items=items), tuple(files)


def decoded_texts(files: tuple[SecretFile, ...]) -> list[str]:
    """The decoded contents that are text, so they can be masked like values (a base64 PEM, say)."""
    texts: list[str] = []
    for file in files:
        with contextlib.suppress(UnicodeDecodeError):
            texts.append(file.data.decode("utf-8"))
    return texts


@contextlib.contextmanager
def secret_files_written(files: tuple[SecretFile, ...], *, before_write: BeforeWrite | None = None) -> Iterator[None]:
    """Write every file, run the ``with`` body, and undo it all if anything fails: all or nothing.

    Each file is first staged as a 0600 temporary file beside its target; only when every one is
    staged are they moved into place. If a move or the body fails, files that replaced an existing
    one are put back (a hard link kept the old one), new files and the folders made for them are
    removed. ``before_write(target, temp, fd)`` is called for each file before its first byte is written
    (the GitHub Action records them for its post step, so no file is ever left behind unrecorded). Signals
    are deferred while the files are staged and moved; as root, files and new folders get the owner of the
    folder they are made in (so later steps, run as the runner's user, can read them).
    """
    transaction = _Transaction(files)
    try:
        with signals_deferred():
            transaction.stage(before_write)
            transaction.commit()
        yield
    except BaseException as exc:
        transaction.rollback()
        if isinstance(exc, EnkryptifyError) and files:
            exc.message += " No secret file was left behind; nothing was exported."
        raise
    transaction.finish()


class _Transaction:
    def __init__(self, files: tuple[SecretFile, ...]) -> None:
        self.files = files
        self.folders: list[Path] = []  # made by this run, outermost first
        self.staged: dict[Path, Path] = {}  # target -> temporary file
        self.committed: list[tuple[Path, Path | None]] = []  # (target, backup of what it replaced)

    def stage(self, before_write: BeforeWrite | None) -> None:
        for file in self.files:
            self._make_folder(file)
            record = None if before_write is None else partial(before_write, file.path)
            try:
                self.staged[file.path] = stage_private_file(file.path, file.data, before_write=record)
            except OSError as exc:
                raise _write_error(file, exc) from None

    def commit(self) -> None:
        for file in self.files:
            target, temp = file.path, self.staged[file.path]
            backup: Path | None = None
            try:
                if os.path.lexists(target):
                    backup = target.with_name(f".enkryptify-backup-{os.getpid()}-{target.name}")
                    _keep(target, backup)
                os.replace(temp, target)
            except OSError as exc:
                if backup is not None:
                    self.committed.append((target, backup))  # restore whatever _keep moved aside
                raise _write_error(file, exc) from None
            del self.staged[target]
            self.committed.append((target, backup))

    def rollback(self) -> None:
        for target, backup in reversed(self.committed):
            with contextlib.suppress(OSError):
                if backup is not None and os.path.lexists(backup):
                    os.replace(backup, target)
                else:
                    target.unlink()
        remove_files(list(self.staged.values()))
        for folder in reversed(self.folders):
            with contextlib.suppress(OSError):
                folder.rmdir()

    def finish(self) -> None:
        remove_files([backup for _target, backup in self.committed if backup is not None])

    def _make_folder(self, file: SecretFile) -> None:
        try:
            self.folders += make_private_dirs(file.path.parent, hint=HINT_FOLDER)
        except ExportError as exc:
            exc.message = f"{file.name}'s file: {exc.message}"
            raise


def _keep(target: Path, backup: Path) -> None:
    """Set the current ``target`` aside as ``backup``: a hard link (target stays), else a rename."""
    with contextlib.suppress(FileNotFoundError):
        backup.unlink()
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError:
        os.rename(target, backup)


def _write_error(file: SecretFile, exc: OSError) -> ExportError:
    return ExportError(
        f"Cannot write {file.name}'s file {file.path}: {exc.strerror}.",
        hint=HINT_FOLDER,
    )


def remove_files(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
