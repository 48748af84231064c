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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tools(*names): the test needs these tools (tests/required_tools.py)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stop before the first test, with one line, when a selected test needs a tool that is missing."""
    from tests import required_tools

    needed = {name for item in items for mark in item.iter_markers("tools") for name in mark.args}
    found = required_tools.problems(needed)
    if found:
        raise pytest.UsageError(required_tools.missing_tools_message(found))
