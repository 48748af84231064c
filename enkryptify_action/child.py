"""``run`` with secret files: a private folder that exists only while the child runs.

Without files, ``run`` replaces itself with the child (``exec``), so nothing of ours outlives it.
With files, it must stay to remove them: the files go into a fresh 0700 folder, the child runs as a
subprocess, SIGINT, SIGTERM and SIGHUP are passed on to it, and the folder is removed however the
child ends (exit, crash, signal). Only SIGKILL of this process itself can leave the folder behind.

Signals, in order of the run: before the child is started, one ends the run (the folder is removed,
exit 128+N); while it is being started, one is held and given to the child once it exists (so a child is
never left running on its own); while it runs, each is passed on, except a SIGINT the terminal already
sent to the whole foreground process group (Ctrl-C), which the child must not receive twice.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

from .errors import UsageError, cannot_run

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):
    """A signal arrived before the child was started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """What a forwarded signal does, by the phase of the run."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.starting = False
        self.pending: list[int] = []

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if self.child is None:
            if not self.starting:
                raise Interrupted(signum)
            self.pending.append(signum)
            return
        if signum == signal.SIGINT and _terminal_sent_it():
            return
        with contextlib.suppress(ProcessLookupError):
            self.child.send_signal(signum)


def _terminal_sent_it() -> bool:
    """Whether a SIGINT came from the terminal's Ctrl-C: then the child, in our foreground group, has it too."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


@contextlib.contextmanager
def private_folder(warn: Callable[[str], None]) -> Iterator[tuple[Path, _Signals]]:
    """A fresh folder only this user can enter (``mkdtemp`` creates it 0700), removed on exit.

    From the moment it exists until it is removed, SIGINT/SIGTERM/SIGHUP are handled as the module
    docstring says, so the ``finally`` below always runs. If anything cannot be removed, ``warn`` says so.
    """
    signals = _Signals()
    previous = {signum: signal.getsignal(signum) for signum in FORWARDED}
    for signum in FORWARDED:
        signal.signal(signum, signals)
    folder = Path(tempfile.mkdtemp(prefix="enkryptify-files-"))
    try:
        yield folder, signals
    finally:
        _remove_tree(folder, warn)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _remove_tree(folder: Path, warn: Callable[[str], None]) -> None:
    """Remove the folder, making read-only subfolders the child left writable first."""

    def retry(function: Callable[..., object], path: str, _exc: object) -> None:
        with contextlib.suppress(OSError):
            parent = os.path.dirname(path)
            os.chmod(parent, os.stat(parent).st_mode | stat.S_IRWXU)
            function(path)

    shutil.rmtree(folder, onerror=retry)
    if os.path.lexists(folder):
        warn(f"could not remove the private folder {folder}: it may still hold secret files; delete it")


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


def run_and_wait(command: Sequence[str], program: str, env: Mapping[str, str], signals: _Signals) -> int:
    """Run ``program`` (found by ``cli.find_command``) as ``command``, pass signals on, return its exit code
    (128+N if a signal ended it)."""
    signals.starting = True
    try:
        child = subprocess.Popen(list(command), executable=program, env=dict(env))
    except OSError as exc:
        raise cannot_run(command[0], exc) from None
    finally:
        signals.starting = False
    signals.child = child
    for signum in signals.pending:  # arrived while it was being started
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)
    returncode = child.wait()
    return 128 - returncode if returncode < 0 else returncode


def exit_for(exc: Interrupted) -> int:
    """The shell's convention for a process ended by a signal."""
    return 128 + exc.signum
