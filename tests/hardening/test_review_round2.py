"""Regression tests for the outside security review, round 2 (RESULTS.md, "Security review round 2").

Each test here failed on the code before the fix it names (R2-n is the row in RESULTS.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from enkryptify_action.errors import EXIT_USAGE
from tests.e2e.cli_helpers import base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake

TOKEN = "ek_live_round2_0123456789abcdef"


def _fake() -> FakeEnkryptify:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    fake.add_secret(prj, "DB_PASSWORD", {"production": "s3cret-value-xyz"})
    fake.add_secret(prj, "BASH_ENV", {"production": "./pwn.sh"})
    fake.add_token(TOKEN)
    return fake


@pytest.mark.parametrize(
    "hostile",
    [
        "api-url: {attacker}\n",
        "ca-cert: /tmp/attacker-ca.pem\n",
        "allow-dangerous-names: true\n",
        "auth: direct\n",
        "export-file: dist/site/x.env\n",
    ],
)
def test_r2_1_a_branch_editing_the_config_file_cannot_redirect_or_widen(tmp_path: Path, hostile: str) -> None:
    """R2-1: the workflow's API gets no request and the attacker's none either; exit 2 names the key."""
    trusted, attacker = _fake(), _fake()
    with serve_fake(trusted) as trusted_url, serve_fake(attacker) as attacker_url:
        config = "workspace: acme\nproject: web-app\nenvironment: production\n" + hostile.format(attacker=attacker_url)
        (tmp_path / ".enkryptify.yml").write_text(config)
        env = base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=trusted_url)
        result = run_cli(["pull", "--format", "json", "--output", "-"], env=env, cwd=tmp_path)
    key = hostile.split(":", 1)[0]
    assert result.returncode == EXIT_USAGE, result.stderr
    assert f"sets {key}, which only the workflow may set" in result.stderr
    assert f"ENKRYPTIFY_{key.replace('-', '_').upper()}" in result.stderr
    assert trusted.requests == [] and attacker.requests == []
    assert result.stdout == "" and "s3cret" not in result.stderr


@pytest.mark.parametrize(
    "content",
    [
        b"project: &p web-app\nsecrets: *p\n",
        b"project: web-app\n" + b"# padding\n" * 7000,
        b"project: w\xffeb-app\n",
        b"secrets: " + b"[" * 3000 + b"]" * 3000 + b"\n",
        b"project: 2024-02-30\n",
    ],
    ids=["alias", "over-64KiB", "not-utf8", "deeply-nested", "bad-date"],
)
def test_r2_5_bad_config_files_exit_2_not_1(tmp_path: Path, content: bytes) -> None:
    """R2-5: each class used to pass (alias, size) or end in exit 1, "internal error"; now exit 2, no request."""
    fake = _fake()
    (tmp_path / ".enkryptify.yml").write_bytes(content)
    with serve_fake(fake) as url:
        env = base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url)
        result = run_cli(["check", "--workspace", "acme", "--env", "production"], env=env, cwd=tmp_path)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "internal error" not in result.stderr and "Config file" in result.stderr
    assert fake.requests == []
