"""The client's warnings reach the GitHub log as warning annotations (issue 14), after the masks."""

from __future__ import annotations

from pathlib import Path

from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.faults import Fault
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunCapture, RunnerDirs, assert_action_run, run_entrypoint

TOKEN = "ek_live_github_warnings_0123456789abcdef"


def make_fake() -> FakeEnkryptify:
    fake = FakeEnkryptify()
    prj = fake.add_project(fake.add_workspace("acme"), "web-app", environments=("production", "empty"))
    fake.add_secret(prj, "SHARED", {"production": "shared-value-1"})
    fake.add_secret(prj, "MINE_ONLY", personal={"production": "personal-value-1"})
    fake.add_token(TOKEN)
    return fake


def run_step(
    tmp_path: Path, fake: FakeEnkryptify, environment: str, **inputs: str
) -> tuple[RunCapture, list[str], int]:
    dirs = RunnerDirs(tmp_path)
    with serve_fake(fake) as url:
        env = dirs.environ(
            {"workspace": "acme", "project": "web-app", "environment": environment, "api-url": url, **inputs},
            extra={"ENKRYPTIFY_TOKEN": TOKEN},
        )
        run = run_entrypoint(env, cwd=dirs.workspace)
    return run, run.annotations("warning"), run.exit_code


def test_an_empty_environment_exports_nothing_with_a_warning_annotation(tmp_path: Path) -> None:
    fake = make_fake()
    run, warnings, code = run_step(tmp_path, fake, "empty")
    assert code == 0
    assert_action_run(run, secrets={}, expected_env={}, expected_outputs={"names": "[]", "count": "0"})
    assert warnings == ["No secrets exported: acme/web-app/empty has no secrets with a value visible to this token."]


def test_personal_only_secrets_and_an_exchange_fallback_are_warning_annotations(tmp_path: Path) -> None:
    fake = make_fake()
    fake.inject("POST", "/v1/auth/exchange", Fault.status(503), sticky=True)
    run, warnings, code = run_step(tmp_path, fake, "production", retries="2")
    assert code == 0
    assert_action_run(
        run,
        secrets={"shared": "shared-value-1", "personal": "personal-value-1"},
        expected_env={"SHARED": "shared-value-1"},
        expected_outputs={"names": '["SHARED"]', "count": "1"},
    )
    assert len(warnings) == 2
    assert warnings[0].startswith("The token exchange answered HTTP 503 after 2 attempt(s); this run used")
    assert warnings[1].startswith("1 secret(s) in production have only a personal value and were left out")
    assert "MINE_ONLY" in warnings[1]
