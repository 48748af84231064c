"""Pytest fixtures for the fake API. Register in tests/conftest.py with
`pytest_plugins = ["tests.fake_api.fixtures"]`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.fake_api.transport import MOCK_BASE_URL, mock_transport

DEMO_TOKEN = "ek_live_demo_4f1c2b9a7e6d5c3b1a0f9e8d7c6b5a49"  # the token in seed_demo.yml


@pytest.fixture
def fake_api() -> FakeEnkryptify:
    """A fresh FakeEnkryptify loaded with seed_demo.yml (token: DEMO_TOKEN)."""
    return FakeEnkryptify.demo()


@pytest.fixture
def fake_server(fake_api: FakeEnkryptify) -> Iterator[tuple[FakeEnkryptify, str]]:
    """(fake, base_url): the demo fake served on 127.0.0.1."""
    with serve_fake(fake_api) as base_url:
        yield fake_api, base_url


@pytest.fixture
def fake_client(fake_api: FakeEnkryptify) -> Iterator[httpx.Client]:
    """An httpx.Client wired to the demo fake through MockTransport (no auth header set)."""
    with httpx.Client(transport=mock_transport(fake_api), base_url=MOCK_BASE_URL) as client:
        yield client
