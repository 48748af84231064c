"""Real signals sent to the real action, in the middle of a write (issue #11 §6).

The action runs as a subprocess in the runner's layout; tests/github/pause_site stops it halfway through
one write (half the bytes written) and tells the test through a pipe; the test sends the signal and lets
it go on. No sleeps: each side waits on the other's pipe.

SIGINT/SIGTERM are deferred until every write is complete (the exports are whole, nothing is left
behind); SIGKILL cannot be deferred, so the temporary file is recorded for the post step before its
first byte, and the post step removes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from enkryptify_action.formats import dotenv_value
from tests.fake_api.server import serve_fake
from tests.github.action_harness import REPO, RunnerDirs, run_entrypoint
from tests.github.runner_emulation import RunnerEnv, parse_file_command
from tests.github.test_e2e_action import TOKEN, make_fake

PAUSE_SITE = Path(__file__).resolve().parent / "pause_site"
SECRETS = {
    "DB_PASSWORD": "p'ss w0rd",  # quoted in the dotenv file
    "MULTI_LINE": "line one\nline two\n",
    "BIG": "".join(f"{i:08x}" for i in range(32768)),  # 256 KiB
}
DOTENV = "".join(f"{name}={dotenv_value(value)}\n" for name, value in SECRETS.items())


@pytest.fixture
def url() -> Iterator[str]:
    with serve_fake(make_fake(SECRETS)) as served:
        yield served


def step_env(dirs: RunnerDirs, url: str) -> dict[str, str]:
    inputs = {"project": "web-app", "environment": "production", "api-url": url, "export-file": "out/.env.ci"}
    return dirs.environ(inputs, extra={"ENKRYPTIFY_TOKEN": TOKEN})


def run_paused(
    env: dict[str, str], cwd: Path, *, pause_in: str, sig: signal.Signals
) -> subprocess.CompletedProcess[str]:
    """Run the action, wait until it is halfway through its first write to ``pause_in``, send ``sig``."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    child = dict(env)
    child.update(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        PYTHONPATH=os.pathsep.join([str(PAUSE_SITE), str(REPO)]),
        PYTHONDONTWRITEBYTECODE="1",
        ENKRYPTIFY_TEST_PAUSE_IN=pause_in,
        ENKRYPTIFY_TEST_PAUSE_FDS=f"{ready_w},{go_r}",
    )
    out, err = cwd.parent / "stdout.txt", cwd.parent / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "entrypoint.py")],
            env=child,
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            pass_fds=(ready_w, go_r),
        )
    os.close(ready_w)
    os.close(go_r)
    try:
        with os.fdopen(ready_r, "rb") as ready:
            paused = ready.readline()  # b"" if the program ended without that write
        if paused == b"paused\n":
            proc.send_signal(sig)
        with contextlib.suppress(BrokenPipeError):
            os.write(go_w, b"g")
    finally:
        os.close(go_w)
    proc.wait(timeout=120)
    stdout_text, stderr_text = out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8")
    assert paused == b"paused\n", f"the program never wrote to {pause_in}: {stderr_text[-2000:]}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout_text, stderr_text)


def files(dirs: RunnerDirs, name: str) -> str:
    return dirs.files[name].read_text(encoding="utf-8")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".enkryptify-"))


def post_step(dirs: RunnerDirs) -> str:
    state = dict(parse_file_command(files(dirs, "GITHUB_STATE")))
    post = run_entrypoint(dirs.environ({}, state=state), cwd=dirs.workspace, module="enkryptify_action.github.post")
    assert post.exit_code == 0
    return post.stdout


@pytest.mark.parametrize(
    ("sig", "pause_in", "exit_code"),
    [
        (signal.SIGTERM, ".enkryptify-", -signal.SIGTERM),  # the dotenv file's temporary file
        (signal.SIGINT, ".enkryptify-", 130),
        (signal.SIGTERM, "set_env_", -signal.SIGTERM),  # GITHUB_ENV
        (signal.SIGINT, "set_env_", 130),
        (signal.SIGTERM, "set_output_", -signal.SIGTERM),  # GITHUB_OUTPUT
    ],
)
def test_a_signal_during_the_writes_is_delivered_after_them(
    url: str, tmp_path: Path, sig: signal.Signals, pause_in: str, exit_code: int
) -> None:
    dirs = RunnerDirs(tmp_path)
    result = run_paused(step_env(dirs, url), dirs.workspace, pause_in=pause_in, sig=sig)

    assert result.returncode == exit_code, result.stderr[-2000:]
    env = RunnerEnv.from_text(files(dirs, "GITHUB_ENV"))  # raises on half a record
    differs = sorted(set(SECRETS) ^ set(env.values) | {k for k in SECRETS if env.values.get(k) != SECRETS[k]})
    assert not differs, f"GITHUB_ENV differs for {differs}"  # names only: never a value in a failure message
    outputs = dict(parse_file_command(files(dirs, "GITHUB_OUTPUT")))
    assert outputs == {"names": json.dumps(list(SECRETS)), "count": "3"}
    export = dirs.workspace / "out" / ".env.ci"
    exact = export.read_text(encoding="utf-8") == DOTENV
    assert exact, "the export file differs from the secrets"
    assert leftovers(export.parent) == [], "a temporary file full of secrets was left behind"
    assert "Traceback" not in result.stderr
    if sig == signal.SIGINT:
        assert "interrupted" in result.stderr

    assert "Removed the export file" in post_step(dirs)
    assert not export.exists()


def test_sigkill_while_writing_leaves_a_temporary_file_the_post_step_removes(url: str, tmp_path: Path) -> None:
    dirs = RunnerDirs(tmp_path)
    result = run_paused(step_env(dirs, url), dirs.workspace, pause_in=".enkryptify-", sig=signal.SIGKILL)

    assert result.returncode == -signal.SIGKILL
    folder = dirs.workspace / "out"
    [temp] = leftovers(folder)  # killed halfway: half the secrets are in it
    assert 0 < (folder / temp).stat().st_size < len(DOTENV)
    state = json.loads(dict(parse_file_command(files(dirs, "GITHUB_STATE")))["enkryptify_export_file"])
    recorded = Path(state["temp"]).resolve()  # the program's (container) path to the same file
    assert recorded == (folder / temp).resolve(), "the temporary file was not recorded before it was written"
    assert files(dirs, "GITHUB_ENV") == "" and files(dirs, "GITHUB_OUTPUT") == ""

    log = post_step(dirs)
    assert leftovers(folder) == []
    assert f"Removed an unfinished export file {recorded}." in log
