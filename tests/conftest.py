"""Shared test setup: every test starts from an environment without CI, action or proxy variables."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.fake_api.fixtures"]

_PREFIXES = ("INPUT_", "GITHUB_", "RUNNER_", "ACTIONS_", "CI_", "GITLAB_", "ENKRYPTIFY_", "STATE_")
_NAMES = {"CI", "GITLAB_CI", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_PREFIXES) or name.upper() in _NAMES:
            monkeypatch.delenv(name, raising=False)
