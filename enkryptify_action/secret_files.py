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
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import EnkryptifyError, ExportError, NotFoundError, UsageError, ValidationError
from .files import write_private_file
from .plan import ExportItem, ExportPlan

ENCODINGS = ("", "base64")
_SPEC = re.compile(r"^(?P<name>[^\s=:#]+)(?::(?P<encoding>[A-Za-z0-9]+))?\s*=\s*(?P<path>.+)$")
HINT_FILES = (
    "One entry per line: NAME=PATH, or NAME:base64=PATH to write the base64-decoded bytes. "
    "NAME is the exported name (after renaming and prefix)."
)
_WHITESPACE = re.compile(r"\s+")


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
        line = "" if raw.lstrip().startswith("#") else raw.strip()
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
    plan: ExportPlan, specs: tuple[FileSpec, ...], place: Callable[[str], Path]
) -> tuple[ExportPlan, tuple[SecretFile, ...]]:
    """The files to write and the plan with each ``NAME`` now holding its file's absolute path.

    ``place`` turns an entry's PATH into the absolute path to write (raising a UsageError where that
    platform does not allow it). Raises before anything is written: an unknown NAME (exit 4), values
    that are not valid base64 (exit 6, every one named).
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
    where = {file.name: str(file.path) for file in files}
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


def write_secret_files(files: tuple[SecretFile, ...], *, before_write: Callable[[Path], None] | None = None) -> None:
    """Write every file (each atomic, 0600) or none: a failure removes the files already written.

    ``before_write`` is called with each path before it is written (the GitHub Action records it for
    its post step, so a file is never left behind unrecorded).
    """
    written: list[Path] = []
    try:
        for file in files:
            if before_write is not None:
                before_write(file.path)
            try:
                file.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise ExportError(
                    f"Cannot create the folder for {file.name}'s file {file.path.parent}: {exc.strerror}.",
                    hint="Check the files option's PATH and that its folder is writable.",
                ) from None
            write_private_file(file.path, file.data)
            written.append(file.path)
    except BaseException as exc:
        remove_files(written)
        if isinstance(exc, EnkryptifyError) and written:
            exc.message += f" The {len(written)} file(s) already written were removed; nothing was exported."
        raise


def remove_files(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
