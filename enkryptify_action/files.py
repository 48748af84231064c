"""Writing files that hold secrets: 0600 from the first byte, complete or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import ExportError


def write_private_file(path: Path, text: str | bytes) -> None:
    """Atomically replace ``path`` with ``text`` (UTF-8) or bytes: a 0600 temp file in the same folder, then rename.

    A failure leaves the old file (or no file) in place and removes the temp file.
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=".enkryptify-", dir=folder)  # mkstemp creates it 0600
    except OSError as exc:
        raise ExportError(
            f"Cannot write {path}: {exc.strerror}.", hint="Check the folder exists and is writable."
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ExportError(f"Cannot write {path}: {exc.strerror}.") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
