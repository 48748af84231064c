"""``run`` with secret files: a private folder that exists only while the child runs.

Without files, ``run`` replaces itself with the child (``exec``), so nothing of ours outlives it.
With files, it must stay to remove them: the files go into a fresh 0700 folder, the child runs as a
subprocess, SIGINT, SIGTERM and SIGHUP are passed on to it, and the folder is removed however the
child ends (exit, crash, signal). Only SIGKILL of this process itself can leave the folder behind.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

from .errors import UsageError

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):
    """A forwarded signal arrived before the child was started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A fresh folder only this user can enter (``mkdtemp`` creates it 0700), removed on exit.

    From the moment it exists until it is removed, SIGINT/SIGTERM/SIGHUP raise ``Interrupted`` instead
    of ending the process at once, so the ``finally`` below always runs.
    """
    previous = {signum: signal.getsignal(signum) for signum in FORWARDED}

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    for signum in FORWARDED:
        signal.signal(signum, interrupt)
    folder = Path(tempfile.mkdtemp(prefix="enkryptify-files-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def place_in(folder: Path, raw: str) -> Path:
    """A ``files`` PATH for ``run``: relative, resolved inside the private folder, never outside it."""
    path = Path(raw)
    if path.is_absolute() or ".." in path.parts or raw.endswith(("/", "\\")):
        raise UsageError(
            f"files: {raw!r} must be a relative path for run: the files live in a private folder that "
            "is removed when the command ends.",
            hint="Write e.g. TLS_KEY=tls/key.pem; the variable TLS_KEY then holds the file's absolute path.",
        )
    return folder / path


def run_and_wait(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run the child, pass on SIGINT/SIGTERM/SIGHUP, return its exit code (128+N if a signal ended it)."""
    try:
        child = subprocess.Popen(list(command), env=dict(env))
    except OSError as exc:
        raise UsageError(f"Cannot run {command[0]!r}: {exc.strerror}.") from None

    def forward(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    returncode = child.wait()
    return 128 - returncode if returncode < 0 else returncode


def exit_for(exc: Interrupted) -> int:
    """The shell's convention for a process ended by a signal."""
    return 128 + exc.signum
