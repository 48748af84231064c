"""The action end to end through the real image, run the way the GitHub runner runs a container action.

The image is the repository's Dockerfile (built once per session by the ``image`` fixture). Each step is
one ``podman run --rm --workdir /github/workspace`` with the runner's mounts, every variable passed by
name (``-e NAME``), the entrypoint and args taken from action.yml, and the fake API on host loopback
(``--network host``). The outcome is checked with the same ``assert_action_run`` as the subprocess
suite (tests/github/test_e2e_action.py), on the same adversarial secrets: exact env/outputs (or nothing
written), no value or 4+ character line of one unmasked in the log, and every mask before the first
byte written to any file (the audit hook of tests/github/audit_site, copied into a mounted folder and
loaded through PYTHONPATH, reports each file opened for writing).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from enkryptify_action.formats import dotenv_problem, dotenv_value
from tests.container import podman
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.github.action_harness import (
    AUDIT_SITE,
    FILE_COMMANDS,
    REPO,
    RunCapture,
    assert_action_run,
    capture_files,
    input_env,
)
from tests.github.test_e2e_action import (
    ADVERSARIAL,
    DANGEROUS,
    DOTENV_SAFE,
    EXPORTED,
    TOKEN,
    credentials,
    make_fake,
    outputs_for,
)
from tests.required_tools import needs

pytestmark = needs("podman")

# Where the audit hook is copied: a runner-mounted folder the action never writes to.
AUDIT_DIR = "_test_audit_site"
AUDIT_PATH = f"/github/workflow/{AUDIT_DIR}"

Serve = Callable[[dict[str, str]], tuple[FakeEnkryptify, str]]


def _runs() -> dict[str, Any]:
    runs = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))["runs"]
    assert isinstance(runs, dict)
    return runs


@dataclass
class Step:
    """One container step: what podman was asked to run, and what the step left behind."""

    argv: list[str]
    run: RunCapture


@pytest.fixture
def serve() -> Iterator[Serve]:
    with ExitStack() as stack:

        def start(secrets: dict[str, str]) -> tuple[FakeEnkryptify, str]:
            fake = make_fake(secrets)
            return fake, stack.enter_context(serve_fake(fake))

        yield start


def step_env(dirs: podman.RunnerDirs, url: str, **inputs: str) -> dict[str, str]:
    """The runner's variables for one container step, INPUT_* and the token env, given in host terms (as
    ``${{ runner.temp }}`` expands) and translated to container paths like the runner does."""
    base = {"project": "web-app", "environment": "production", "api-url": url}
    base.update({name.replace("_", "-"): value for name, value in inputs.items()})
    extra = {"GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/web-app", "ENKRYPTIFY_TOKEN": TOKEN}
    return dirs.runner_env({"ref": "refs/heads/main"}, extra | input_env(base))


def run_step(image: str, dirs: podman.RunnerDirs, env: Mapping[str, str], *, post: bool = False) -> Step:
    """``podman run`` the image with action.yml's entrypoint (or post-entrypoint) and args, audit hook on."""
    audit = dirs.workflow / AUDIT_DIR
    if not audit.exists():
        shutil.copytree(AUDIT_SITE, audit, ignore=shutil.ignore_patterns("__pycache__"))
    runs = _runs()
    entrypoint = runs["post-entrypoint"] if post else runs["entrypoint"]
    child = {**env, "PYTHONPATH": AUDIT_PATH}
    proc = podman.run_action(image, dirs, child, args=[str(arg) for arg in runs["args"]], entrypoint=entrypoint)
    files = {var: dirs.host_file(env[var]) for var in FILE_COMMANDS if var in env}
    run = capture_files(stdout=proc.stdout, stderr=proc.stderr, exit_code=proc.returncode, files=files)
    return Step(argv=list(proc.args), run=run)


def assert_argv_clean(step: Step, secrets: Mapping[str, str]) -> None:
    """No secret value (of 4+ characters) anywhere on podman's command line: env is passed by name only."""
    command_line = "\0".join(step.argv)
    for label, value in secrets.items():
        leaked = len(value) >= 4 and value in command_line
        assert not leaked, f"{label} is on the podman command line"


def test_adversarial_values_reach_env_and_outputs_exactly_and_never_the_log(
    image: str, runner_dirs: podman.RunnerDirs, serve: Serve
) -> None:
    fake, url = serve(ADVERSARIAL)
    step = run_step(image, runner_dirs, step_env(runner_dirs, url, export_outputs="true"))
    run = step.run

    assert run.exit_code == 0, run.annotations("error") or run.stderr[-2000:]
    assert fake.jwts, "the exchange was not used"
    assert_action_run(
        run,
        secrets=ADVERSARIAL | credentials(fake),
        expected_env=EXPORTED,
        expected_outputs=outputs_for(EXPORTED, per_secret=True),
        credentials=credentials(fake),
        require_write_markers=True,  # the audit hook runs inside the container
    )
    assert_argv_clean(step, ADVERSARIAL | credentials(fake))
    summary = run.files["GITHUB_STEP_SUMMARY"]
    assert "| `api_key_v2` | `api-key.v2` | `web-app` | `production` |" in summary


def test_dangerous_names_refuse_the_run_with_an_annotation_and_write_nothing(
    image: str, runner_dirs: podman.RunnerDirs, serve: Serve
) -> None:
    fake, url = serve(ADVERSARIAL | DANGEROUS)
    step = run_step(image, runner_dirs, step_env(runner_dirs, url, export_file=".env.ci", export_outputs="true"))
    run = step.run

    assert run.exit_code == 6, run.stderr[-2000:]
    assert "::error title=" in run.stdout
    assert_action_run(
        run,
        secrets=ADVERSARIAL | DANGEROUS | credentials(fake),
        expected_env=None,
        expected_outputs=None,
        credentials=credentials(fake),
        require_write_markers=True,
    )
    [error] = run.annotations("error")
    assert "NODE_OPTIONS" in error and "Hint:" in error
    untouched = run.files["GITHUB_ENV"] == "" and run.files["GITHUB_OUTPUT"] == "" and run.files["GITHUB_STATE"] == ""
    assert untouched
    assert not (runner_dirs.workspace / ".env.ci").exists()
    assert "Nothing was exported" in run.files["GITHUB_STEP_SUMMARY"]
    assert_argv_clean(step, ADVERSARIAL | DANGEROUS | credentials(fake))


def test_export_file_is_exact_private_and_removed_by_the_post_entrypoint(
    image: str, runner_dirs: podman.RunnerDirs, serve: Serve
) -> None:
    fake, url = serve(DOTENV_SAFE)
    inputs = {"export_file": "secrets/.env.ci", "export_env": "false"}
    main = run_step(image, runner_dirs, step_env(runner_dirs, url, **inputs))

    assert main.run.exit_code == 0, main.run.annotations("error") or main.run.stderr[-2000:]
    exported = {name: value for name, value in EXPORTED.items() if dotenv_problem(value) is None}
    assert_action_run(
        main.run,
        secrets=DOTENV_SAFE | credentials(fake),
        expected_env={},
        expected_outputs=outputs_for(exported, per_secret=False),
        credentials=credentials(fake),
        require_write_markers=True,
    )
    path = runner_dirs.workspace / "secrets" / ".env.ci"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    expected = "".join(f"{name}={dotenv_value(value)}\n" for name, value in exported.items())
    contents_equal = path.read_text(encoding="utf-8") == expected
    assert contents_equal, "the dotenv file differs from the secrets"
    state = main.run.state
    assert state, "the main step saved no state for the post step"
    assert json.loads(next(iter(state.values())))["path"] == "/github/workspace/secrets/.env.ci"

    # The post step: a fresh container with fresh file-command files, the same inputs, and STATE_* from
    # what the main step wrote to GITHUB_STATE (the runner's ContainerActionHandler passes them as env).
    post_env = step_env(runner_dirs, url, **inputs)
    post_env.update({f"STATE_{name}": value for name, value in state.items()})
    post = run_step(image, runner_dirs, post_env, post=True)

    assert post.run.exit_code == 0, post.run.stderr[-2000:]
    assert not path.exists()
    assert "Removed the export file /github/workspace/secrets/.env.ci" in post.run.log
    assert not post.run.annotations("warning")
    assert post.run.files["GITHUB_ENV"] == "" and post.run.files["GITHUB_OUTPUT"] == ""
    assert_argv_clean(main, DOTENV_SAFE | credentials(fake))
    assert_argv_clean(post, DOTENV_SAFE | credentials(fake))


def test_an_export_file_under_runner_temp_is_written_where_the_runner_sees_it(
    image: str, runner_dirs: podman.RunnerDirs, serve: Serve
) -> None:
    """The examples' ``export-file: ${{ runner.temp }}/app.env``: the expression gives the runner's host path;
    the runner translates it (INPUT_EXPORT-FILE=/github/runner_temp/app.env), the file lands on the host."""
    fake, url = serve({"A_SECRET": "value-of-a"})
    env = step_env(runner_dirs, url, export_file=f"{runner_dirs.runner_temp}/app.env", export_env="false")
    assert env["INPUT_EXPORT-FILE"] == "/github/runner_temp/app.env" and env["RUNNER_TEMP"] == "/github/runner_temp"
    step = run_step(image, runner_dirs, env)

    assert step.run.exit_code == 0, step.run.annotations("error") or step.run.stderr[-2000:]
    assert (runner_dirs.runner_temp / "app.env").read_text(encoding="utf-8") == "A_SECRET='value-of-a'\n"
    assert json.loads(next(iter(step.run.state.values())))["path"] == "/github/runner_temp/app.env"
    assert_action_run(
        step.run,
        secrets={"A_SECRET": "value-of-a"} | credentials(fake),
        expected_env={},
        expected_outputs=outputs_for({"A_SECRET": "value-of-a"}, per_secret=False),
        credentials=credentials(fake),
        require_write_markers=True,
    )


def test_the_token_is_never_on_a_command_line(image: str, runner_dirs: podman.RunnerDirs, serve: Serve) -> None:
    """action.yml passes no args; the token input reaches the container as INPUT_TOKEN, by name only."""
    runs = _runs()
    assert runs["args"] == [], "action.yml args would put inputs on the container's command line"
    fake, url = serve({"A_SECRET": "value-of-a"})
    env = step_env(runner_dirs, url, token=TOKEN)
    env["ENKRYPTIFY_TOKEN"] = "ek_live_not_this_one"
    step = run_step(image, runner_dirs, env)

    assert step.run.exit_code == 0, step.run.annotations("error") or step.run.stderr[-2000:]
    assert_argv_clean(step, {"token": TOKEN, "env token": env["ENKRYPTIFY_TOKEN"]} | credentials(fake))
    assert "-e\0INPUT_TOKEN\0" in "\0".join(step.argv)
    assert_action_run(
        step.run,
        secrets={"A_SECRET": "value-of-a"} | credentials(fake),
        expected_env={"A_SECRET": "value-of-a"},
        expected_outputs=outputs_for({"A_SECRET": "value-of-a"}, per_secret=False),
        credentials=credentials(fake),
        require_write_markers=True,
    )


RUNNER_UID = 1001  # the runner user on GitHub-hosted runners; the container action runs as root


def test_the_export_file_belongs_to_the_workspace_owner_so_later_steps_can_read_it(
    image: str, runner_dirs: podman.RunnerDirs, serve: Serve
) -> None:
    """The workspace belongs to the runner user (uid 1001), the container runs as root: the export file,
    and the folder the action creates for it, are given to uid 1001, so a later `run:` step can read them."""
    for folder in (runner_dirs.workspace, runner_dirs.runner_temp):
        os.chown(folder, RUNNER_UID, RUNNER_UID)
    _fake, url = serve({"A_SECRET": "value-of-a"})
    inputs = {"export_file": "secrets/.env.ci", "export_env": "false"}
    main = run_step(image, runner_dirs, step_env(runner_dirs, url, **inputs))
    assert main.run.exit_code == 0, main.run.annotations("error") or main.run.stderr[-2000:]
    for path in (runner_dirs.workspace / "secrets", runner_dirs.workspace / "secrets" / ".env.ci"):
        info = path.stat()
        assert (info.st_uid, info.st_gid) == (RUNNER_UID, RUNNER_UID), f"{path} is owned by {info.st_uid}"
    env_file = runner_dirs.workspace / "secrets" / ".env.ci"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # A later step as the runner user reads it: a container of the same image as uid 1001, the workspace mounted.
    later = podman.podman(
        "run", "--rm", "--user", f"{RUNNER_UID}:{RUNNER_UID}", "-v", f"{runner_dirs.workspace}:/github/workspace",
        "--entrypoint", "cat", image, "/github/workspace/secrets/.env.ci", check=False,
    )  # fmt: skip
    assert later.returncode == 0, later.stderr
    assert later.stdout == "A_SECRET='value-of-a'\n"
