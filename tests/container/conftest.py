"""Fixtures for the container tests: one image build per session, runner-like directories per test.

These tests never skip: `make test` installs podman and the base image first (scripts/setup-tools.sh).
Without them the session stops before the first test, with one line saying what to run
(tests/required_tools.py).
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
        result = podman.build_image()
    except podman.PodmanSetupError as exc:
        raise pytest.fail.Exception(f"building the test image failed: {exc}", pytrace=False) from None
    # Shown with `pytest -s`; the cached build takes a few seconds, a cold one about half a minute.
    print(f"\nbuilt {result.image} in {result.seconds:.1f}s", file=sys.stderr)
    yield result.image


@pytest.fixture
def runner_dirs(tmp_path: Path) -> podman.RunnerDirs:
    """Fresh host directories for /github/{home,workflow,file_commands,workspace,runner_temp}."""
    return podman.RunnerDirs(tmp_path / "runner").create()
