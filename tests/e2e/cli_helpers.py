"""Run the real CLI as a subprocess, the way a CI job would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.hardening import leakscan

REPO = Path(__file__).resolve().parents[2]


def base_env(**extra: str) -> dict[str, str]:
    """A minimal child environment: no CI, proxy or ENKRYPTIFY_* variables from the outer shell."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def run_cli(
    args: Iterable[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    stdout: int | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    argv = list(args)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "enkryptify_action", *argv],
        env=dict(env),
        cwd=cwd or REPO,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    # No token, JWT or value where it must not be (tests/hardening/leakscan.py).
    leakscan.observe_cli(argv, result.stdout, result.stderr, since=started)
    return result


def assert_not_leaked(result: subprocess.CompletedProcess[str], secrets: Mapping[str, str]) -> None:
    """No named secret appears in stderr (nor in stdout, for commands that print no values)."""
    for label, value in secrets.items():
        assert value not in (result.stderr or ""), f"{label} leaked to stderr"
        assert value not in (result.stdout or ""), f"{label} leaked to stdout"
