"""The action's ``post-entrypoint``: delete the dotenv file (and any unfinished temporary file) the main step wrote.

``enkryptify-fetch-github-post`` / ``python -m enkryptify_action.github.post``. The main step records the
final path, the temporary path, the temporary file's device and inode and a random mark in an extended
attribute before it writes a byte (action.py ``_remember_file``; the rename keeps the inode). A path is
deleted only while it is still a regular file with that device, inode and mark: a file a later step
appended to is still ours; a file that replaced ours is not, even when it got our inode number back
(file systems reuse a freed inode at once; the mark tells them apart where extended attributes work).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ..errors import EXIT_OK, EnkryptifyError
from ..files import file_mark, is_regular_file
from .action import STATE_EXPORT_FILE, STATE_FILES, say, warning
from .exports import export_file_path


def run_post(environ: Mapping[str, str] | None = None) -> int:
    """Remove what the main step recorded; warnings, never a failure (the job's outcome is decided)."""
    env = os.environ if environ is None else environ
    raw = env.get(f"STATE_{STATE_EXPORT_FILE}", "")
    if raw:
        _remove_record(raw, env, what="export file")
    raw = env.get(f"STATE_{STATE_FILES}", "")
    if raw:
        try:
            records = json.loads(raw)
            if not isinstance(records, list):
                raise TypeError(records)
        except (ValueError, TypeError):
            warning(
                "Not removing the secret files: their recorded locations are unusable. "
                "Those written still hold secrets: delete them in a later step."
            )
            return EXIT_OK
        for record in records:
            _remove_record(json.dumps(record), env, what="secret file")
    return EXIT_OK


def _remove_record(raw: str, env: Mapping[str, str], *, what: str) -> None:
    """One record of ``_remember_file``: the final path and the temporary one, sharing one identity."""
    try:
        state = json.loads(raw)
        final, temp = Path(str(state["path"])), Path(str(state["temp"]))
        identity = (int(state["dev"]), int(state["ino"]))
        mark = state["mark"]
        if mark is not None and not isinstance(mark, str):
            raise TypeError(mark)
    except (ValueError, KeyError, TypeError):
        warning(
            f"Not removing the {what}: its recorded location is unusable. "
            "If it was written, it still holds secrets: delete it in a later step."
        )
        return
    _remove(final, identity, mark, env, what=f"the {what}")
    _remove(temp, identity, mark, env, what=f"an unfinished {what}")


def _remove(recorded: Path, identity: tuple[int, int], mark: str | None, env: Mapping[str, str], *, what: str) -> None:
    try:
        path = export_file_path(str(recorded), env, Path.cwd())
        info = path.lstat()  # lstat: a symlink is never followed
    except FileNotFoundError:
        return  # already gone (or, for the temporary file, renamed into place)
    except (OSError, EnkryptifyError):
        warning(
            f"Not removing {recorded}: its recorded location is unusable. "
            "If it is the export file, it still holds secrets: delete it in a later step."
        )
        return
    ours = is_regular_file(info) and (info.st_dev, info.st_ino) == identity
    if path != recorded or not ours or (mark is not None and file_mark(path) != mark):
        warning(f"Not removing {path}: it is not the file this action wrote (it was replaced after).")
        return
    try:
        path.unlink()
    except OSError as exc:
        warning(
            f"Could not remove {path}: {exc.strerror}. It still holds the secrets this action wrote: "
            "delete it in a later step (rm -f)."
        )
        return
    say(f"Removed {what} {path}.")


def main() -> int:
    return run_post()


if __name__ == "__main__":
    sys.exit(main())
