"""End-to-end: ``entrypoint.py`` run as the GitHub runner runs a container action, against the fake API.

Each test builds the runner's step layout (file-command files, HOME, RUNNER_TEMP, workspace as the
working directory, INPUT_* with hyphens and action.yml defaults), runs the real program in a
subprocess, and checks the outcome with the runner emulation (``assert_action_run``).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from enkryptify_action.formats import dotenv_problem, dotenv_value
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunnerDirs, assert_action_run, run_entrypoint
from tests.github.runner_emulation import parse_command, split_log_lines

TOKEN = "ek_live_github_e2e_0123456789abcdefABCDEF"
BIG = "".join(f"{i:08x}" for i in range(8192))  # 64 KiB, one line

# Adversarial values, by secret name as stored in Enkryptify.
ADVERSARIAL = {
    "MULTI_LINE": "line one\nline two\n\n   indented three   \nlast line\n",
    "CRLF_VALUE": "crlf first\r\ncrlf second\r\n",
    "EQUALS": "a=b==c=",
    "HEREDOC_LIKE": "before<<EOF\nEOF\nafter-eof",
    "DELIMITER_LIKE": "ghadelimiter_00000000000000000000000000000000\nghadelimiter_\n",
    "PERCENT": "100%25 done %0A not a newline %0D%25",
    "WORKFLOW_COMMANDS": "::warning::x\n::add-mask::nothing\n::error title=t::boom",
    "QUOTES": 'it\'s "quoted" and `ticked` \\ back',
    "SHELL_LIKE": "$HOME ${PATH} $(id) `id`",
    "UNICODE": "pässwörd-日本語-🔐-\u2028sep",
    "BIG": BIG,
    "EMPTY": "",
    "JSON_BLOB": json.dumps(
        {"user": "admin-user", "password": "s3cr3t-pa55", "port": 5432, "nested": {"key": "nested-key-value"}}
    ),
    "api-key.v2": "hyphen-dot-value",
    "lower_case": "lower-case-value",
}
# Names from the API that hold workflow commands under both syntaxes, in several cases (issue 13): printed
# as they are, the runner would set outputs and state, add masks, stop command processing, show errors.
COMMAND_NAMES = {
    "a ##[set-output name=x]pwned": "cmd-value-one",
    "b ##[SAVE-STATE name=s]state": "cmd-value-two",
    "c ##[Add-Mask]e": "cmd-value-three",
    "d ##[stop-commands]tok12345": "cmd-value-four",
    "::Set-Output name=y::z": "cmd-value-five",
    "  ::ADD-MASK::e": "cmd-value-six",
    "##[error]fake error": "cmd-value-seven",
    "\u3000::warning::fake": "cmd-value-eight",
}
ADVERSARIAL |= COMMAND_NAMES


def _sanitized(name: str) -> str:
    """invalid-names: sanitize, as the README documents it (non [A-Za-z0-9_] → ``_``, ``_`` before a digit)."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return "_" + clean if clean[:1].isdigit() else clean


# The ones a dotenv file carries exactly (the others are refused with export-file: see formats.dotenv_problem).
DOTENV_SAFE = {name: value for name, value in ADVERSARIAL.items() if dotenv_problem(value) is None}
# The names the core exports them under (invalid-names: sanitize).
EXPORTED = {
    (name if re.fullmatch(r"[A-Za-z_]\w*", name, re.ASCII) else _sanitized(name)): v for name, v in ADVERSARIAL.items()
}
DANGEROUS = {"NODE_OPTIONS": "--require /tmp/evil.js", "PATH": "/tmp/evil:/usr/bin", "GITHUB_TOKEN": "ghs_fake1234"}


def make_fake(secrets: dict[str, str]) -> FakeEnkryptify:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production", "staging"))
    for name, value in secrets.items():
        fake.add_secret(prj, name, {"production": value, "staging": "staging-" + name})
    fake.add_token(TOKEN)
    return fake


@pytest.fixture
def dirs(tmp_path: Path) -> RunnerDirs:
    return RunnerDirs(tmp_path)


@pytest.fixture
def serve() -> Iterator[object]:
    def start(secrets: dict[str, str]) -> tuple[FakeEnkryptify, str]:
        fake = make_fake(secrets)
        context = serve_fake(fake)
        url = context.__enter__()
        stack.append(context)
        return fake, url

    stack: list[object] = []
    yield start
    for context in stack:
        context.__exit__(None, None, None)  # type: ignore[attr-defined]


def step_env(dirs: RunnerDirs, url: str, **inputs: str) -> dict[str, str]:
    base = {"project": "web-app", "environment": "production", "api-url": url}
    base.update({name.replace("_", "-"): value for name, value in inputs.items()})
    return dirs.environ(base, extra={"ENKRYPTIFY_TOKEN": TOKEN})


def outputs_for(exported: dict[str, str], *, per_secret: bool) -> dict[str, str]:
    outputs = {"names": json.dumps(list(exported)), "count": str(len(exported))}
    return {**outputs, **exported} if per_secret else outputs


def credentials(fake: FakeEnkryptify) -> dict[str, str]:
    found = {"token": TOKEN}
    found.update({f"jwt {i}": jwt for i, jwt in enumerate(fake.jwts)})
    return found


def test_adversarial_values_reach_env_and_outputs_exactly_and_never_the_log(serve, dirs: RunnerDirs) -> None:
    fake, url = serve(ADVERSARIAL)
    run = run_entrypoint(step_env(dirs, url, export_outputs="true"), cwd=dirs.workspace)

    assert run.exit_code == 0, run.annotations("error")
    assert fake.jwts, "the exchange was not used"
    assert_action_run(
        run,
        secrets=ADVERSARIAL | credentials(fake),
        expected_env=EXPORTED,
        expected_outputs=outputs_for(EXPORTED, per_secret=True),
        credentials=credentials(fake),
    )
    summary = run.files["GITHUB_STEP_SUMMARY"]
    assert "| `api_key_v2` | `api-key.v2` | `web-app` | `production` |" in summary
    assert "- `api-key.v2` → `api_key_v2`" in summary


def test_json_leaves_are_masked_whether_or_not_parse_json_flattens_them(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"JSON_BLOB": ADVERSARIAL["JSON_BLOB"]})
    run = run_entrypoint(step_env(dirs, url), cwd=dirs.workspace)

    assert run.exit_code == 0
    stdout_masks = [parse_command(line) for line in split_log_lines(run.stdout)]
    registered = {c.data for c in stdout_masks if c is not None and c.name == "add-mask"}
    assert {"admin-user", "s3cr3t-pa55", "5432", "nested-key-value"} <= registered


def test_dangerous_names_refuse_the_whole_run_and_write_nothing(serve, dirs: RunnerDirs) -> None:
    fake, url = serve(ADVERSARIAL | DANGEROUS)
    run = run_entrypoint(step_env(dirs, url, export_file=".env.ci"), cwd=dirs.workspace)

    assert run.exit_code == 6
    assert_action_run(
        run, secrets=ADVERSARIAL | DANGEROUS, expected_env=None, expected_outputs=None, credentials=credentials(fake)
    )
    [error] = run.annotations("error")
    assert "NODE_OPTIONS" in error and "Hint:" in error
    assert not (dirs.workspace / ".env.ci").exists()
    assert "Nothing was exported" in run.files["GITHUB_STEP_SUMMARY"]


def test_allowed_dangerous_names_export_except_node_options_which_the_runner_refuses(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve(DANGEROUS)
    run = run_entrypoint(step_env(dirs, url, allow_dangerous_names="true"), cwd=dirs.workspace)

    assert run.exit_code == 6, "NODE_OPTIONS must be refused before anything is written"
    assert_action_run(run, secrets=DANGEROUS, expected_env=None, expected_outputs=None)
    [error] = run.annotations("error")
    assert "NODE_OPTIONS" in error and "GITHUB_ENV" in error


def test_allowed_dangerous_names_without_node_options_are_exported(serve, dirs: RunnerDirs) -> None:
    allowed = {k: v for k, v in DANGEROUS.items() if k != "NODE_OPTIONS"}
    _fake, url = serve(allowed)
    run = run_entrypoint(step_env(dirs, url, allow_dangerous_names="true"), cwd=dirs.workspace)

    assert run.exit_code == 0
    assert_action_run(
        run, secrets=allowed, expected_env=allowed, expected_outputs=outputs_for(allowed, per_secret=False)
    )


def test_export_file_is_private_exact_and_removed_by_the_post_step(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve(DOTENV_SAFE)
    run = run_entrypoint(step_env(dirs, url, export_file="secrets/.env.ci", export_env="false"), cwd=dirs.workspace)

    assert run.exit_code == 0
    exported = {k: v for k, v in EXPORTED.items() if dotenv_problem(v) is None}
    assert_action_run(
        run, secrets=DOTENV_SAFE, expected_env={}, expected_outputs=outputs_for(exported, per_secret=False)
    )
    path = dirs.workspace / "secrets" / ".env.ci"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    expected = "".join(f"{name}={dotenv_value(value)}\n" for name, value in exported.items())
    assert path.read_text(encoding="utf-8") == expected, "the dotenv file differs from the secrets"

    # The post stage: same inputs, plus STATE_* from what the main stage saved.
    post_env = dirs.environ({}, state=run.state)
    post = run_entrypoint(post_env, cwd=dirs.workspace, module="enkryptify_action.github.post")
    assert post.exit_code == 0
    assert not path.exists()


def test_export_file_refuses_values_a_sourced_dotenv_file_would_change_or_run(serve, dirs: RunnerDirs) -> None:
    refused = sorted(set(ADVERSARIAL) - set(DOTENV_SAFE))
    assert refused == ["CRLF_VALUE", "QUOTES", "SHELL_LIKE"]
    _fake, url = serve(ADVERSARIAL)
    run = run_entrypoint(step_env(dirs, url, export_file="secrets/.env.ci"), cwd=dirs.workspace)

    assert run.exit_code == 6
    assert_action_run(run, secrets=ADVERSARIAL, expected_env=None, expected_outputs=None)
    message = "\n".join(run.annotations("error"))
    assert all(f"{name}: " in message for name in refused) and "export-file cannot carry it" in message
    assert not (dirs.workspace / "secrets").exists()


def test_post_step_leaves_a_replaced_file_alone(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    run = run_entrypoint(step_env(dirs, url, export_file=".env.ci"), cwd=dirs.workspace)
    assert run.exit_code == 0
    path = dirs.workspace / ".env.ci"
    path.unlink()
    path.write_text("the user's own file\n")

    post = run_entrypoint(dirs.environ({}, state=run.state), cwd=dirs.workspace, module="enkryptify_action.github.post")
    assert post.exit_code == 0
    assert path.read_text() == "the user's own file\n"
    assert post.annotations("warning")


@pytest.mark.parametrize("where", ["/etc/enkryptify.env", "../outside.env"])
def test_export_file_outside_workspace_and_runner_temp_is_refused(serve, dirs: RunnerDirs, where: str) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    run = run_entrypoint(step_env(dirs, url, export_file=where), cwd=dirs.workspace)

    assert run.exit_code == 2
    assert_action_run(run, secrets={"A_SECRET": "value-of-a"}, expected_env=None, expected_outputs=None)
    assert not (dirs.root / "outside.env").exists()


def test_export_file_under_runner_temp_is_allowed(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    run = run_entrypoint(step_env(dirs, url, export_file=str(dirs.temp / "s.env")), cwd=dirs.workspace)
    assert run.exit_code == 0
    assert (dirs.temp / "s.env").read_text() == "A_SECRET='value-of-a'\n"


def test_bad_token_fails_with_an_annotation_and_a_hint(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    env = step_env(dirs, url)
    env["ENKRYPTIFY_TOKEN"] = "ek_live_revoked_or_unknown_token_value"
    run = run_entrypoint(env, cwd=dirs.workspace)

    assert run.exit_code == 3
    assert_action_run(
        run,
        secrets={"token": env["ENKRYPTIFY_TOKEN"]},
        expected_env=None,
        expected_outputs=None,
        credentials={"token": env["ENKRYPTIFY_TOKEN"]},
    )
    [error] = run.annotations("error")
    assert "Hint:" in error
    assert "title=Authentication failed" in run.stdout


def test_the_token_input_wins_over_the_env_and_is_masked_first(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    env = step_env(dirs, url, token=TOKEN)
    env["ENKRYPTIFY_TOKEN"] = "ek_live_not_this_one"
    run = run_entrypoint(env, cwd=dirs.workspace)

    assert run.exit_code == 0
    assert_action_run(
        run,
        secrets={"A_SECRET": "value-of-a", "token": TOKEN},
        expected_env={"A_SECRET": "value-of-a"},
        expected_outputs=outputs_for({"A_SECRET": "value-of-a"}, per_secret=False),
        credentials={"token": TOKEN},
    )


def test_dry_run_writes_names_only(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a", "B_SECRET": "value-of-b"})
    run = run_entrypoint(step_env(dirs, url, dry_run="true", export_outputs="true"), cwd=dirs.workspace)

    assert run.exit_code == 0
    assert_action_run(
        run,
        secrets={"A_SECRET": "value-of-a", "B_SECRET": "value-of-b"},
        expected_env={},
        expected_outputs={"names": '["A_SECRET", "B_SECRET"]', "count": "2"},
    )
    assert "dry run" in run.files["GITHUB_STEP_SUMMARY"]


def test_debug_mode_prints_names_counts_and_timings_only(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve(ADVERSARIAL)
    env = step_env(dirs, url)
    env["RUNNER_DEBUG"] = "1"
    run = run_entrypoint(env, cwd=dirs.workspace)

    assert run.exit_code == 0
    debug = run.annotations("debug")
    assert any("request(s)" in line for line in debug)
    assert_action_run(
        run, secrets=ADVERSARIAL, expected_env=EXPORTED, expected_outputs=outputs_for(EXPORTED, per_secret=False)
    )
    for label, value in ADVERSARIAL.items():
        if len(value) >= 4:
            assert all(value not in line for line in debug), f"{label} in a debug line"


def test_strict_boolean_inputs_are_rejected_with_the_input_name(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    run = run_entrypoint(step_env(dirs, url, export_env="yes please"), cwd=dirs.workspace)

    assert run.exit_code == 2
    [error] = run.annotations("error")
    assert "export-env" in error
    nothing_written = run.files["GITHUB_ENV"] == "" and run.files["GITHUB_OUTPUT"] == ""
    assert nothing_written


def test_output_names_that_collide_case_insensitively_are_refused(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"COUNT": "value-of-count"})
    run = run_entrypoint(step_env(dirs, url, export_outputs="true"), cwd=dirs.workspace)

    assert run.exit_code == 6
    assert_action_run(run, secrets={"COUNT": "value-of-count"}, expected_env=None, expected_outputs=None)


def test_stdout_is_written_as_the_runner_reads_it(serve, dirs: RunnerDirs) -> None:
    """No raw CR or LF inside a command: the escaped value arrives intact."""
    _fake, url = serve({"MULTI": "one\r\ntwo\nthree"})
    run = run_entrypoint(step_env(dirs, url), cwd=dirs.workspace)
    masks = [c.data for c in map(parse_command, split_log_lines(run.stdout)) if c and c.name == "add-mask"]
    assert "one\r\ntwo\nthree" in masks
    assert os.linesep == "\n"


def test_export_file_under_runner_temp_as_the_examples_write_it(serve, dirs: RunnerDirs) -> None:
    """``export-file: ${{ runner.temp }}/app.env`` expands to the runner's host path; the runner translates it
    (ContainerInfo.TranslateToContainerPath) and the program only sees the container's path."""
    fake, url = serve({"A_SECRET": "value-of-a"})
    env = step_env(dirs, url, export_file=f"{dirs.temp}/app.env", export_env="false")
    inside = dirs.container_paths[str(dirs.temp)]
    assert env["INPUT_EXPORT-FILE"] == f"{inside}/app.env" and env["RUNNER_TEMP"] == str(inside)
    run = run_entrypoint(env, cwd=dirs.workspace)

    assert run.exit_code == 0, run.annotations("error")
    assert (dirs.temp / "app.env").read_text(encoding="utf-8") == "A_SECRET='value-of-a'\n"
    assert json.loads(next(iter(run.state.values())))["path"] == f"{inside}/app.env"
    assert str(dirs.root / "runner") not in run.stdout + run.stderr, "a host path reached the program"
    assert_action_run(
        run,
        secrets={"A_SECRET": "value-of-a"} | credentials(fake),
        expected_env={},
        expected_outputs=outputs_for({"A_SECRET": "value-of-a"}, per_secret=False),
        credentials=credentials(fake),
    )
