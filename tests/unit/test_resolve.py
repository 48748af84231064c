"""Target resolution and value picking, through the fake API in-process (MockTransport)."""

from __future__ import annotations

import pytest

from enkryptify_action.client import EnkryptifyClient
from enkryptify_action.errors import NotFoundError, UsageError
from enkryptify_action.resolve import fetch_secrets, resolve_target
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.fixtures import DEMO_TOKEN
from tests.fake_api.transport import MOCK_BASE_URL, mock_transport

PROD_ID = "0b6e3a8e-5d7c-4c52-9a1e-1d2f3a4b5c03"


def connect(fake: FakeEnkryptify, token: str = DEMO_TOKEN) -> EnkryptifyClient:
    return EnkryptifyClient(base_url=MOCK_BASE_URL, token=token, transport=mock_transport(fake), sleep=lambda _s: None)


def test_names_resolve_to_ids(fake_api: FakeEnkryptify) -> None:
    target = resolve_target(connect(fake_api), workspace="acme", project="web-app", environment="production")
    assert (target.environment, target.environment_id) == ("production", PROD_ID)


def test_id_given_as_uuid_or_prefix_skips_lookup(fake_api: FakeEnkryptify) -> None:
    client = connect(fake_api)
    assert resolve_target(client, workspace="acme", project="web-app", environment=PROD_ID).environment_id == PROD_ID
    t = resolve_target(client, workspace="acme", project="web-app", environment="id:custom")
    assert t.environment_id == "custom"
    assert not any(r.path.endswith("/environment") for r in fake_api.requests)


def test_environment_listing_refused_uses_value_as_id(fake_api: FakeEnkryptify) -> None:
    from tests.fake_api.faults import Fault

    fake_api.inject("GET", "*/environment", Fault.status(403, {"message": "Insufficient permissions"}))
    t = resolve_target(connect(fake_api), workspace="acme", project="web-app", environment="env-opaque")
    assert t.environment_id == "env-opaque"


def test_ambiguous_workspace_lists_candidates(fake_api: FakeEnkryptify) -> None:
    fake_api.add_workspace("Beta Corp", slug="beta")
    with pytest.raises(UsageError) as info:
        resolve_target(connect(fake_api), workspace="", project="web-app", environment="production")
    assert "2 workspaces" in info.value.message and info.value.hint == "Candidates: acme, beta."


def test_no_environment_is_a_usage_error(fake_api: FakeEnkryptify) -> None:
    with pytest.raises(UsageError, match="No environment given"):
        resolve_target(connect(fake_api), workspace="acme", project="web-app", environment="")


def test_token_scoped_to_another_project_gets_not_found(fake_api: FakeEnkryptify) -> None:
    fake_api.add_token("ek_live_scoped_elsewhere", projects=["other-project"])
    client = connect(fake_api, "ek_live_scoped_elsewhere")
    with pytest.raises(NotFoundError) as info:
        resolve_target(client, workspace="acme", project="web-app", environment="production")
    assert info.value.message == "Project 'web-app' not found in workspace 'acme', or not visible to this token."
    assert "scope" in (info.value.hint or "")


def test_values_shared_personal_and_absent(fake_api: FakeEnkryptify) -> None:
    client = connect(fake_api)
    dev = resolve_target(client, workspace="acme", project="web-app", environment="development")
    shared = {s.name: s.value for s in fetch_secrets(client, dev, personal=False)}
    personal = {s.name: s.value for s in fetch_secrets(client, dev, personal=True)}
    assert shared["STRIPE_SECRET_KEY"].startswith("sk_test_shared")
    assert personal["STRIPE_SECRET_KEY"].startswith("sk_test_personal")
    assert "SENTRY_DSN" not in shared  # no value in development
    assert personal["DATABASE_URL"] == shared["DATABASE_URL"]  # no override: shared value
