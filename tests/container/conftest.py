"""Fixtures for the container tests: one image build per session, runner-like directories per test.

These tests never skip: CI installs podman through .ci/run (scripts/setup-podman.sh). Without it they
fail with a message saying what to run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container import podman


@pytest.fixture(scope="session")
def image() -> Iterator[str]:
    """The repository's Dockerfile built on the local Debian base image; the image name."""
    try:
        podman.ensure_setup()
        result = podman.build_image()
    except podman.PodmanSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    # Shown with `pytest -s`; the cached build takes a few seconds, a cold one about half a minute.
    print(f"\nbuilt {result.image} in {result.seconds:.1f}s", file=sys.stderr)
    yield result.image


@pytest.fixture
def runner_dirs(tmp_path: Path) -> podman.RunnerDirs:
    """Fresh host directories for /github/{home,workflow,file_commands,workspace,runner_temp}."""
    return podman.RunnerDirs(tmp_path / "runner").create()
