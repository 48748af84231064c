"""Test instrumentation, loaded through PYTHONPATH: pause the program in the middle of one write.

With ENKRYPTIFY_TEST_PAUSE_IN=<text> and ENKRYPTIFY_TEST_PAUSE_FDS=<ready>,<go> (two pipe ends passed
to the child), the first ``os.write`` of more than one byte to a file whose path contains <text> writes
half of its bytes, then reports "paused" on <ready> and blocks until the test writes a byte to <go>.
The test sends its real signal in between: the signal arrives while a record is half written.
Nothing else changes; without the two variables this file does nothing.
"""

import os

_PAUSE_IN = os.environ.get("ENKRYPTIFY_TEST_PAUSE_IN", "")
_FDS = os.environ.get("ENKRYPTIFY_TEST_PAUSE_FDS", "")

if _PAUSE_IN and _FDS:
    _ready, _go = (int(part) for part in _FDS.split(","))
    _real_write = os.write
    _paused: list[str] = []

    def _write(fd: int, data: bytes) -> int:
        if not _paused and len(data) > 1:
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                target = ""
            if _PAUSE_IN in target:
                _paused.append(target)
                written = _real_write(fd, data[: len(data) // 2])
                _real_write(_ready, b"paused\n")
                os.read(_go, 1)  # the test's signal arrives while this waits
                return written  # a partial write: the caller must write the rest
        return _real_write(fd, data)

    os.write = _write  # type: ignore[assignment]
