"""The real CLI as a subprocess against the fake Enkryptify API served on loopback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.cli_helpers import assert_not_leaked, base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.faults import Fault
from tests.fake_api.fixtures import DEMO_TOKEN
from tests.github.runner_emulation import replay_log

PROD = ["--workspace", "acme", "--project", "web-app", "--environment", "production"]
PROD_VALUES = {
    "DATABASE_URL": "postgres://app:prod-pass@db.acme.internal:5432/app",
    "SENTRY_DSN": "https://0123456789abcdef@o12345.ingest.sentry.io/6789",
    "JWT_SIGNING_SECRET": 'p@ss=word;with"quotes"',
}


@pytest.fixture
def server(fake_server: tuple[FakeEnkryptify, str]) -> tuple[FakeEnkryptify, dict[str, str]]:
    fake, url = fake_server
    return fake, base_env(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=url)


def pull_json(env: dict[str, str], *extra: str) -> dict[str, str]:
    result = run_cli(["pull", *PROD, "--format", "json", *extra], env=env)
    assert result.returncode == 0, result.stderr
    assert DEMO_TOKEN not in result.stderr
    data: dict[str, str] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("mode", ["header", "body", "both"])
def test_pull_with_each_exchange_form(server, mode: str) -> None:
    fake, env = server
    fake.exchange_mode = mode
    data = pull_json(env)
    for name, value in PROD_VALUES.items():
        assert data[name] == value, f"{name} differs"
    assert "API_BASE_URL" in data and data["TLS_PRIVATE_KEY"].startswith("-----BEGIN PRIVATE KEY-----\n")
    assert fake.requests[0].path == "/v1/auth/exchange"
    assert {r.auth for r in fake.requests if r.path != "/v1/auth/exchange"} == {"jwt"}


def test_environment_filtering_and_values_only_in_one_environment(server) -> None:
    _, env = server
    dev = run_cli(["pull", *PROD[:4], "--env", "development", "--format", "json"], env=env)
    data = json.loads(dev.stdout)
    assert data["DATABASE_URL"].endswith("/app_dev")
    assert "SENTRY_DSN" not in data  # only set in production


def test_shared_by_default_personal_on_request(server) -> None:
    _, env = server
    args = ["pull", *PROD[:4], "--env", "development", "--format", "json"]
    shared = json.loads(run_cli(args, env=env).stdout)
    personal = json.loads(run_cli([*args, "--personal-values"], env=env).stdout)
    assert shared["STRIPE_SECRET_KEY"] == "sk_test_shared_51Hx0000000000000000"
    assert personal["STRIPE_SECRET_KEY"] == "sk_test_personal_51Hx000000000000"


def test_exchange_rate_limited_falls_back_to_direct_bearer(server) -> None:
    fake, env = server
    fake.inject("POST", "/v1/auth/exchange", Fault.status(429, headers={"Retry-After": "60"}))
    result = run_cli(["pull", *PROD, "--format", "json"], env=env)
    assert result.returncode == 0, result.stderr
    assert "used the API token directly" in result.stderr
    assert json.loads(result.stdout)["DATABASE_URL"] == PROD_VALUES["DATABASE_URL"]
    assert [r.auth for r in fake.requests][1:] == ["static", "static"]


def test_two_503_then_success(server) -> None:
    fake, env = server
    fake.inject("GET", "/v1/workspace/*/secret", [Fault.status(503), Fault.status(503)])
    assert pull_json(env)["DATABASE_URL"] == PROD_VALUES["DATABASE_URL"]
    statuses = [r.status for r in fake.requests if r.path.endswith("/secret")]
    assert statuses == [503, 503, 200]


def test_revoked_token_exits_3_with_hint_and_no_token(server) -> None:
    fake, env = server
    fake.revoke(DEMO_TOKEN)
    result = run_cli(["pull", *PROD, "--format", "json"], env=env)
    assert result.returncode == 3
    assert "HTTP 401" in result.stderr and "hint:" in result.stderr and "revoked" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert_not_leaked(result, {"token": DEMO_TOKEN})


def test_environment_not_found_lists_names(server) -> None:
    _, env = server
    result = run_cli(["check", *PROD[:4], "--env", "prod"], env=env)
    assert result.returncode == 4
    assert "development, production, staging" in result.stderr


def test_discovers_single_workspace_and_project(server) -> None:
    fake, env = server
    result = run_cli(["check", "--env", "production"], env=env)
    assert result.returncode == 0, result.stderr
    assert "acme/web-app/production" in result.stdout
    paths = [r.path for r in fake.requests]
    assert "/v1/workspace" in paths and "/v1/workspace/acme/project" in paths


def test_check_prints_names_never_values(server) -> None:
    _, env = server
    result = run_cli(["check", *PROD, "--secrets", "DATABASE_URL\nDB=DATABASE_URL"], env=env)
    assert result.returncode == 0, result.stderr
    assert "DATABASE_URL" in result.stdout and "DB  (from DATABASE_URL)" in result.stdout
    assert_not_leaked(result, {"DATABASE_URL": PROD_VALUES["DATABASE_URL"], "token": DEMO_TOKEN})


def test_request_floor_direct_with_environment_id(server) -> None:
    fake, env = server
    env_id = "0b6e3a8e-5d7c-4c52-9a1e-1d2f3a4b5c03"
    result = run_cli(["check", *PROD[:4], "--env", env_id, "--auth", "direct"], env=env)
    assert result.returncode == 0, result.stderr
    assert len(fake.requests) == 1


def test_output_file_is_0600_dotenv(server, tmp_path: Path) -> None:
    _, env = server
    out = tmp_path / "prod.env"
    result = run_cli(["pull", *PROD, "--output", str(out), "--secrets", "DATABASE_URL"], env=env)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text() == f"DATABASE_URL='{PROD_VALUES['DATABASE_URL']}'\n"
    assert_not_leaked(result, {"DATABASE_URL": PROD_VALUES["DATABASE_URL"]})


def test_refuses_to_print_values_to_a_terminal(server) -> None:
    _, env = server
    leader, follower = os.openpty()
    try:
        result = run_cli(["pull", *PROD], env=env, stdout=follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 2 and "Refusing to print secret values to a terminal" in result.stderr


def test_shell_format_evals_exactly(server) -> None:
    _, env = server
    result = run_cli(["pull", *PROD, "--format", "shell"], env=env)
    script = result.stdout + 'printf "%s" "$JWT_SIGNING_SECRET"'
    import subprocess

    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == PROD_VALUES["JWT_SIGNING_SECRET"]


def test_run_passes_secrets_only_through_the_child_environment(server, tmp_path: Path) -> None:
    _, env = server
    probe = "import os,sys; open(sys.argv[1],'w').write(os.environ['DATABASE_URL']); sys.exit(7)"
    out = tmp_path / "seen"
    result = run_cli(["run", *PROD, "--", sys.executable, "-c", probe, str(out)], env=env)
    assert result.returncode == 7  # the child's exit code
    assert out.read_text() == PROD_VALUES["DATABASE_URL"]
    assert_not_leaked(result, PROD_VALUES)


CREDENTIALS = {
    "INPUT_TOKEN": DEMO_TOKEN,
    "ENKRYPTIFY_ID_TOKEN": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvIn0.c2lnbmF0dXJl",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token-0123456789",
}
ENV_DUMP = "import json,os,sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


@pytest.mark.parametrize("keep", [False, True])
def test_run_removes_the_credentials_from_the_child_environment_unless_kept(server, tmp_path: Path, keep: bool) -> None:
    _, env = server
    env.update(CREDENTIALS)
    out = tmp_path / "env.json"
    flag = ["--keep-token"] if keep else []
    result = run_cli(["run", *PROD, *flag, "--", sys.executable, "-c", ENV_DUMP, str(out)], env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(out.read_text())
    assert seen["DATABASE_URL"] == PROD_VALUES["DATABASE_URL"]  # the selected secrets
    credentials = ["ENKRYPTIFY_TOKEN", *CREDENTIALS]
    if keep:
        assert {name: seen.get(name) for name in credentials} == {name: env[name] for name in credentials}
    else:
        assert not set(credentials) & set(seen), "a credential reached the child"
        assert DEMO_TOKEN not in out.read_text()


def test_run_looks_the_command_up_before_fetching_anything(server, tmp_path: Path) -> None:
    fake, env = server
    script = tmp_path / "deploy.sh"
    script.write_text("#!/bin/sh\necho deployed\n")
    script.chmod(0o644)  # checked out without the execute bit
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "mytool").write_text("#!/bin/sh\n")  # in PATH, not executable
    (tools / "mytool").chmod(0o644)
    (tools / "a-folder").mkdir()  # a folder in PATH is skipped, as sh does
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    cases = [
        ("no-such-command-xyz", 127, "command not found in PATH", "Check the spelling"),
        (str(tmp_path / "missing.sh"), 127, "command not found.", "give the full path"),
        ("a-folder", 127, "command not found in PATH", "Check the spelling"),
        (str(script), 126, f"{script} is not executable", f"chmod +x {script}"),
        ("mytool", 126, f"{tools / 'mytool'} is not executable", "run it through its interpreter"),
        (str(tools / "a-folder"), 126, "is a folder", "chmod +x"),
    ]
    for command, code, message, hint in cases:
        result = run_cli(["run", *PROD, "--", command, "arg"], env=env)
        assert result.returncode == code, (command, result.stderr)
        assert message in result.stderr and "Nothing was fetched." in result.stderr, result.stderr
        assert hint in result.stderr.split("hint: ", 1)[1]
        assert "running" not in result.stderr
    assert fake.requests == [], "a request was made before the command was found"
    sh_missing = subprocess.run(["sh", "-c", "no-such-command-xyz"], capture_output=True, check=False)
    sh_denied = subprocess.run(["sh", "-c", f"'{script}'"], capture_output=True, check=False)
    assert (sh_missing.returncode, sh_denied.returncode) == (127, 126)  # the codes a shell gives


def test_run_finds_the_command_in_our_path_and_runs_it_with_the_secrets(server, tmp_path: Path) -> None:
    _, env = server
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "show").write_text('#!/bin/sh\nprintf %s "$DATABASE_URL" > "$1"\n')
    (tools / "show").chmod(0o755)
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    out = tmp_path / "seen"
    result = run_cli(["run", *PROD, "--", "show", str(out)], env=env)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == PROD_VALUES["DATABASE_URL"]


def test_run_without_command_is_usage_error(server) -> None:
    _, env = server
    result = run_cli(["run", *PROD], env=env)
    assert result.returncode == 2 and "run needs a command" in result.stderr


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["pull", "--format", "xml"], "invalid choice"),
        (["check", "--retries", "zero"], "retries"),
        (["check", "--api-url", "http://example.com"], "Refusing plain http://"),
        (["check", "--secrets", "A,=B"], "Cannot parse the secrets option"),
    ],
)
def test_bad_input_exits_2_without_traceback(server, args: list[str], text: str) -> None:
    _, env = server
    result = run_cli([*args, "--env", "production"], env=env)
    assert result.returncode == 2, result.stderr
    assert text in result.stderr and "Traceback" not in result.stderr


def test_malformed_token_is_refused_without_echo(server) -> None:
    _, env = server
    env["ENKRYPTIFY_TOKEN"] = "hunter2-not-a-token"
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 2 and "malformed" in result.stderr
    assert_not_leaked(result, {"token": "hunter2-not-a-token"})


def test_dangerous_name_refused_exit_6(server) -> None:
    fake, env = server
    prj = fake.find_project(fake.find_workspace("acme"), "web-app")  # type: ignore[arg-type,unused-ignore]
    assert prj is not None
    fake.add_secret(prj.id, "LD_PRELOAD", {"production": "/tmp/evil.so"})
    result = run_cli(["pull", *PROD, "--output", "-"], env=env)
    assert result.returncode == 6 and "LD_PRELOAD" in result.stderr and "allow-dangerous-names" in result.stderr
    assert result.stdout == ""


def test_names_cannot_inject_log_lines(server) -> None:
    """A secret name holding a newline and a workflow command is printed on one line, control chars as '?',
    and ``::`` broken (``: :``): the runner would read no command in either syntax (runner_emulation)."""
    fake, env = server
    prj = fake.find_project(fake.find_workspace("acme"), "web-app")  # type: ignore[arg-type,unused-ignore]
    assert prj is not None
    fake.add_secret(prj.id, "EVIL\n::warning::injected", {"production": "v"})
    result = run_cli(["check", *PROD], env=env)
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert not any(line.lstrip().startswith("::") for line in lines)
    assert "EVIL?: :warning: :injected" in result.stdout
    assert replay_log(result.stdout, stderr=result.stderr).commands == []
    missing = run_cli(["check", *PROD, "--secrets", "EVIL\n::error::x ##[set-output name=o]v"], env=env)
    assert not any(line.lstrip().startswith("::") for line in (missing.stdout + missing.stderr).splitlines())
    assert replay_log(missing.stdout, stderr=missing.stderr).commands == []
