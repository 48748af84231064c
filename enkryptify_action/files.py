"""Writing files that hold secrets: 0600 from the first byte, complete or not at all."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from .errors import ExportError

HINT_WRITE = "Check the folder exists and is writable."
# The hint for each way a write commonly fails; anything else gets HINT_WRITE.
WRITE_HINTS: dict[int, str] = {
    errno.EISDIR: "That path is a folder: name a file in it, such as {path}/secrets.env.",
    errno.ENOENT: "The folder {folder} does not exist: create it first, or name a file in an existing folder.",
    errno.ENOTDIR: "Part of the path is a file, not a folder: check the path.",
    errno.EACCES: "This user may not write in {folder}: pick a folder it can write to (the workspace or a temp dir).",
    errno.EPERM: "This user may not write in {folder}: pick a folder it can write to (the workspace or a temp dir).",
    errno.EROFS: "{folder} is on a read-only file system: pick a writable folder.",
    errno.ENOSPC: "The disk is full: free some space or pick another folder.",
    errno.EDQUOT: "The disk quota is exceeded: free some space or pick another folder.",
}


def write_hint(path: Path, code: int | None) -> str:
    """What to do about an ``OSError`` with ``errno`` ``code`` while writing ``path``."""
    folder = path.parent if str(path.parent) else Path(".")
    template = WRITE_HINTS.get(code or 0, HINT_WRITE)
    return template.format(path=str(path).rstrip("/") or "/", folder=folder)


def write_private_file(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text``: a 0600 temp file in the same folder, then rename.

    A failure leaves the old file (or no file) in place and removes the temp file.
    """
    if path.is_dir():  # before any temp file: "/tmp" would otherwise be tried in "/" first
        raise ExportError(f"Cannot write {path}: it is a folder.", hint=write_hint(path, errno.EISDIR))
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=".enkryptify-", dir=folder)  # mkstemp creates it 0600
    except OSError as exc:
        raise ExportError(f"Cannot write {path}: {exc.strerror}.", hint=write_hint(path, exc.errno)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ExportError(f"Cannot write {path}: {exc.strerror}.", hint=write_hint(path, exc.errno)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
