"""Test instrumentation, loaded through PYTHONPATH: report every file opened for writing on stdout.

An audit hook (PEP 578) sees each ``open``/``os.open`` before it happens; flushing stdout and
writing a marker line then gives the exact order of log lines and file writes, so a test can prove
every ``::add-mask::`` came before the first byte of any file command.
"""

import os
import sys

MARKER = "##enkryptify-test-write## "
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT


def _hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if event != "open":
        return
    path, mode, flags = args
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & _WRITE_FLAGS
    )
    if not writing or path is None or isinstance(path, int):
        return
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError, OSError):
        pass
    os.write(1, (MARKER + os.fsdecode(path) + "\n").encode("utf-8", "surrogateescape"))


sys.addaudithook(_hook)
