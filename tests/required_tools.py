"""The tools some tests need beyond Python, checked once per session before any test runs.

`make test` installs them first with scripts/setup-tools.sh, which says what it installs and why; no
test installs anything. A test module that needs one says so with ``pytestmark = needs("podman")``.
When a selected test needs a tool that is missing, tests/conftest.py stops the session before the
first test with one line naming what is missing and the command that installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable

import pytest

from tests.container import podman
from tests.gitlab import gcl

SETUP_COMMAND = "make tools"  # as root; scripts/setup-tools.sh


def _openssl() -> str | None:
    return None if shutil.which("openssl") else "openssl (tests/e2e/test_cli_network.py) is not installed"


def _podman() -> str | None:
    missing = [tool for tool in ("podman", "runc") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} (tests/container) not installed"
    if os.geteuid() != 0:
        return "the container tests use rootful podman: run them as root"
    if not podman.CONTAINERS_CONF.is_file():
        return f"{podman.CONTAINERS_CONF.relative_to(podman.REPO_ROOT)} (tests/container) not written yet"
    exists = subprocess.run(
        ["podman", "image", "exists", podman.BASE_IMAGE],
        env=podman.podman_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return None if exists.returncode == 0 else f"the base image {podman.BASE_IMAGE} (tests/container) is not built yet"


def _gitlab_ci_local() -> str | None:
    if not os.access(gcl.GCL, os.X_OK):
        return f"gitlab-ci-local (tests/gitlab) is not installed in {gcl.GCL_HOME}"
    return None if shutil.which("rsync") else "rsync (gitlab-ci-local needs it, tests/gitlab) is not installed"


CHECKS: dict[str, Callable[[], str | None]] = {
    "openssl": _openssl,
    "podman": _podman,
    "gitlab-ci-local": _gitlab_ci_local,
}


def needs(*tools: str) -> pytest.MarkDecorator:
    """The mark of a test (or, as ``pytestmark``, a module) that needs these tools."""
    unknown = set(tools) - set(CHECKS)
    assert not unknown, f"unknown tool(s) {unknown}: add a check to tests/required_tools.py"
    return pytest.mark.tools(*tools)


def problems(tools: Iterable[str]) -> list[str]:
    """What is missing among ``tools``, one phrase each; empty when all are ready."""
    return [problem for tool in sorted(set(tools)) if (problem := CHECKS[tool]()) is not None]


def missing_tools_message(found: list[str]) -> str:
    """The one line the session stops with."""
    return f"cannot run these tests: {'; '.join(found)}. Install what is missing with `{SETUP_COMMAND}` (as root)."
