"""Writing files that hold secrets: 0600 from the first byte, complete or not at all, signals deferred.

Every write here runs with SIGINT, SIGTERM and SIGHUP blocked (``signals_deferred``): a job cancelled
in the middle of an export gets the signal right after the write, never half a record or an unfinished
temporary file. Run as root (the container action), a new file is given to the owner of the folder it
is written into before it is moved into place, so the workflow's later steps (the runner's user) can
read it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import ExportError

# The signals a cancelled CI job or a closed terminal sends; SIGKILL cannot be blocked (the action
# records its temporary file for the post step before writing, for that case).
DEFERRED_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP}) if os.name == "posix" else frozenset()
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


# Called with the temporary file's path and open descriptor before the first byte is written.
BeforeWrite = Callable[[Path, int], None]
# An extended attribute holding a random mark: an inode number is reused at once by a file that replaces
# ours, the mark is not (and a file a later step appended to keeps it).
MARK_ATTRIBUTE = "user.enkryptify-fetch"


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Block SIGINT/SIGTERM/SIGHUP in this thread; a signal that arrived meanwhile is delivered on exit.

    Nests: the inner exit restores the outer (still blocking) mask. Without ``pthread_sigmask``
    (Windows) it does nothing.
    """
    if not DEFERRED_SIGNALS or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def folder_owner(folder: Path) -> tuple[int, int] | None:
    """The (uid, gid) a new file in ``folder`` is given: its owner when we run as root, else ``None``."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    info = os.stat(folder)
    return info.st_uid, info.st_gid


def make_private_dirs(folder: Path, *, hint: str = "Check the folder is writable.") -> list[Path]:
    """``mkdir -p`` with mode 0700; as root, each new folder gets the owner of the folder it is made in.

    Returns the folders it made, outermost first (so a failing export can remove them again).
    """
    made: list[Path] = []
    missing: list[Path] = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ExportError(f"Cannot create the folder {path}: {exc.strerror}.", hint=hint) from None
        made.append(path)
        owner = folder_owner(path.parent)
        if owner is not None:
            _chown(path, owner, path)
    return made


def stage_private_file(path: Path, data: bytes, *, before_write: BeforeWrite | None = None) -> Path:
    """Write ``data`` to a new 0600 temporary file beside ``path`` and return its path; the caller moves it
    into place (``os.replace``).

    As root the file gets its folder's owner first (fchown), ``before_write(temp, fd)`` is told before the
    first byte (the action records it for its post step), every byte is written and fsynced. On failure the
    temporary file is removed and the ``OSError`` (or the ``ExportError`` of a failed chown) propagates.
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=".enkryptify-", dir=folder)  # mkstemp creates it 0600
    temp = Path(temp_name)
    try:
        owner = folder_owner(folder)
        if owner is not None:
            _chown(path, owner, fd)  # os.chown on the fd: fchown
        if before_write is not None:
            before_write(temp, fd)
        write_all(fd, data)
        os.fsync(fd)
        os.close(fd)
        fd = -1
    except BaseException:
        _discard(fd, temp)
        raise
    return temp


def write_private_file(path: Path, text: str | bytes, *, before_write: BeforeWrite | None = None) -> None:
    """Atomically replace ``path`` with ``text`` (UTF-8) or bytes: a 0600 temp file in the same folder, then rename.

    ``before_write`` is told the temp file's path and identity before any byte is written (the action
    records them for its post step). A failure leaves the old file (or no file) in place and removes
    the temp file.
    """
    if path.is_dir():  # before any temp file: "/tmp" would otherwise be tried in "/" first
        raise ExportError(f"Cannot write {path}: it is a folder.", hint=write_hint(path, errno.EISDIR))
    data = text.encode("utf-8") if isinstance(text, str) else text  # before anything is created
    with signals_deferred():
        try:
            temp = stage_private_file(path, data, before_write=before_write)
        except OSError as exc:
            raise ExportError(f"Cannot write {path}: {exc.strerror}.", hint=write_hint(path, exc.errno)) from None
        try:
            os.replace(temp, path)
        except OSError as exc:
            _discard(-1, temp)
            raise ExportError(f"Cannot write {path}: {exc.strerror}.", hint=write_hint(path, exc.errno)) from None
        except BaseException:
            _discard(-1, temp)
            raise


def append_file(path: str, data: bytes) -> int:
    """Append ``data`` completely (signals deferred) and return the file's size before; on failure truncate back.

    A partial write is never left: the runner would apply the records before the cut (github-runner.md §1).
    """
    with signals_deferred():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise ExportError(f"Cannot append to {path}: {exc.strerror}.") from None
        try:
            size = os.fstat(fd).st_size
            try:
                write_all(fd, data)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise ExportError(f"Cannot append to {path}: {exc.strerror}.") from None
            return size
        finally:
            os.close(fd)


def truncate_to(path: str, size: int) -> None:
    """Undo an earlier ``append_file`` (best effort: the caller is already failing)."""
    with contextlib.suppress(OSError), open(path, "r+b") as handle:
        handle.truncate(size)


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a write may be partial)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def mark_file(fd: int) -> str | None:
    """Give the open file a random mark (``MARK_ATTRIBUTE``); ``None`` where extended attributes are not supported."""
    mark = uuid.uuid4().hex
    try:
        os.setxattr(fd, MARK_ATTRIBUTE, mark.encode("ascii"))
    except (OSError, AttributeError):
        return None
    return mark


def file_mark(path: Path) -> str | None:
    """The mark ``mark_file`` gave ``path`` (a symlink is not followed), or ``None``."""
    try:
        return os.getxattr(path, MARK_ATTRIBUTE, follow_symlinks=False).decode("ascii")
    except (OSError, AttributeError, UnicodeDecodeError):
        return None


def is_regular_file(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode)


def _chown(path: Path, owner: tuple[int, int], target: int | Path) -> None:
    try:
        os.chown(target, *owner)
    except OSError as exc:
        raise ExportError(
            f"Cannot give {path} to the owner of its folder (uid {owner[0]}, gid {owner[1]}): {exc.strerror}.",
            hint="Running as root, the action gives the files it writes to the folder's owner so later steps "
            "can read them; write to a folder that user id exists for (such as the workspace or RUNNER_TEMP).",
        ) from None


def _discard(fd: int, temp: Path) -> None:
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(temp)
