"""Regression tests for what the hardening work found (see RESULTS.md, "Findings")."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from enkryptify_action.errors import EXIT_AUTH, EXIT_VALIDATION, ValidationError
from enkryptify_action.plan import Secret, Target
from enkryptify_action.select import build_plan
from tests.e2e.cli_helpers import base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.faults import Fault
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunnerDirs, assert_only_our_commands, run_entrypoint
from tests.github.runner_emulation import replay_log

TARGET = Target("acme", "web-app", "production", "env-1")
TOKEN = "ek_live_findings_0123456789abcdef"


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("LONE", "ab\ud800cd", "the value is not valid Unicode text (unpaired surrogate)"),
        ("NUL", "ab\0cd", "the value contains a NUL character"),
        ("BAD\udfffNAME", "fine", "the secret name is not valid Unicode text"),
    ],
)
def test_values_no_sink_can_carry_are_refused_in_the_plan(name: str, value: str, reason: str) -> None:
    """Finding 1: these used to fail mid-write with an internal error (exit 1) in every format but gitlab."""
    with pytest.raises(ValidationError) as caught:
        build_plan([Secret("OK", "fine"), Secret(name, value)], TARGET)
    assert reason in caught.value.message
    assert ascii(name) in caught.value.message and caught.value.message.isascii()
    assert value not in caught.value.message


def test_parse_json_leaves_are_checked_too() -> None:
    with pytest.raises(ValidationError, match="NUL"):
        build_plan([Secret("CFG", '{"key": "a\\u0000b"}')], TARGET, parse_json=True)


@pytest.mark.parametrize("args", [["pull", "--format", "json"], ["run", "--", sys.executable, "-c", "pass"]])
def test_cli_exits_6_not_internal_error(args: list[str]) -> None:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    fake.add_secret(prj, "LONE", {"production": "ab\ud800cd"})
    fake.add_secret(prj, "NUL", {"production": "ab\0cd"})
    fake.add_token(TOKEN)
    with serve_fake(fake) as url:
        env = base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url)
        where = ["--workspace", "acme", "--project", "web-app", "--env", "production"]
        result = run_cli([args[0], *where, *args[1:]], env=env)
    assert result.returncode == EXIT_VALIDATION, result.stderr
    assert "'LONE'" in result.stderr and "'NUL'" in result.stderr and "internal error" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("name", ["reboot\n", "PATH\n"])
def test_a_name_with_a_trailing_newline_is_not_a_valid_name(name: str) -> None:
    """Finding 2: VALID_NAME used ``$``, which also matches before a final newline, so ``reboot\\n`` passed as
    valid (and ``LD_PRELOAD\\n`` passed the dangerous-name check): ``pull --format dotenv`` then wrote a line
    holding only ``reboot``, which ``set -a; . ./.env`` runs as a command."""
    plan = build_plan([Secret(name, "value")], TARGET)
    assert plan.names == [name.rstrip("\n") + "_"]
    with pytest.raises(ValidationError, match="not a valid variable name"):
        build_plan([Secret(name, "value")], TARGET, invalid_names="error")


def test_a_dangerous_name_with_a_trailing_newline_is_still_dangerous() -> None:
    with pytest.raises(ValidationError, match="could hijack later steps"):
        build_plan([Secret("LD_PRELOAD\n", "/tmp/evil.so")], TARGET)


@pytest.mark.parametrize("depth", [999, 5_000, 100_000])
def test_parse_json_on_a_deeply_nested_value_does_not_crash(depth: int) -> None:
    """Finding 3: parse-json raised RecursionError (an internal error, exit 1) on deeply nested JSON."""
    value = '{"a":' * depth + "1" + "}" * depth
    plan = build_plan([Secret("DEEP", value)], TARGET, parse_json=True)
    assert plan.as_dict()["DEEP"] == value


# --- issue 13: the GitHub runner's own code (actions/runner 258d6c8) ----------------------------------------

# Text from the API that holds workflow commands under both syntaxes, in several letter cases.
COMMAND_TEXT = [
    "a ##[set-output name=x]pwned",
    "b ##[SAVE-STATE name=s]state",
    "c ##[Add-Mask]e",
    "d ##[stop-commands]tok12345",
    "::Set-Output name=y::z",
    "  ::ADD-MASK::e",
    "##[error]fake error",
    "\u3000::warning::fake",
]
ACTION_INPUTS = {"workspace": "acme", "project": "web-app", "environment": "production"}


def _command_fake() -> FakeEnkryptify:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme ##[set-output name=ws]pwned", slug="acme")
    prj = fake.add_project(
        ws, "web-app ##[save-state name=p]v ::error::x", slug="web-app", environments=("production",)
    )
    for number, name in enumerate(COMMAND_TEXT):
        fake.add_secret(prj, name, {"production": f"command-name-value-{number}"})
    fake.add_token(TOKEN)
    return fake


@pytest.mark.parametrize("step_debug", [False, True])
def test_names_from_the_api_form_no_workflow_command_in_the_action_log(tmp_path: Path, step_debug: bool) -> None:
    """Finding 7: the runner parses ``##[command]`` anywhere in a line and ``::command::`` at a line's start,
    names ignoring case. The action printed source names as they are (``NAME  (from SOURCE)``, ``renamed
    SOURCE -> …``), so such a secret set outputs and state, added masks and stopped command processing."""
    fake = _command_fake()
    dirs = RunnerDirs(tmp_path)
    with serve_fake(fake) as url:
        env = dirs.environ(ACTION_INPUTS | {"api-url": url}, extra={"ENKRYPTIFY_TOKEN": TOKEN})
        run = run_entrypoint(env, cwd=dirs.workspace)
    assert run.exit_code == 0, run.annotations("error")
    replay = run.replay(step_debug=step_debug)
    assert_only_our_commands(replay, stderr=run.stderr)
    assert not replay.masker.is_masked("e") and replay.outputs.as_dict() == {} and replay.state == {}
    assert len(run.env.values) == len(COMMAND_TEXT)
    shown = replay.text
    assert "a ## [set-output name=x]pwned" in shown and ": :Set-Output name=y: :z" in shown  # readable, inert


def test_a_server_message_forms_no_workflow_command_in_the_action_or_the_cli(tmp_path: Path) -> None:
    """Finding 7, server text: a 403 message quoting commands, as an annotation and on the CLI's stderr."""
    message = "denied ##[set-output name=x]pwned ::stop-commands::tok12345 ##[ADD-MASK]e"
    fake = _command_fake()
    fake.inject("GET", "/v1/workspace/*/project/*/secret", Fault.status(403, {"message": message}), sticky=True)
    dirs = RunnerDirs(tmp_path)
    with serve_fake(fake) as url:
        env = dirs.environ(ACTION_INPUTS | {"api-url": url}, extra={"ENKRYPTIFY_TOKEN": TOKEN})
        run = run_entrypoint(env, cwd=dirs.workspace)
        cli = run_cli(
            ["pull", "--workspace", "acme", "--project", "web-app", "--env", "production", "--output", "-"],
            env=base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url, GITHUB_ACTIONS="true"),
        )
    assert run.exit_code == EXIT_AUTH and cli.returncode == EXIT_AUTH
    assert_only_our_commands(run.replay(), stderr=run.stderr)
    assert any("denied ## [set-output" in text for text in run.annotations("error"))
    cli_log = replay_log(cli.stdout, stderr=cli.stderr)
    # The CLI's only commands are its own masks of the credentials it obtained (cli.mask_in_github_log).
    others = [c for c in cli_log.commands if not (c.name == "add-mask" and c.data in {TOKEN, *fake.jwts})]
    assert others == [] and "denied ## [set-output" in cli.stderr


def test_cli_name_listings_form_no_workflow_command() -> None:
    """Finding 7, CLI: ``check`` lists sources on stdout, ``run`` and errors write stderr."""
    fake = _command_fake()
    with serve_fake(fake) as url:
        env = base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url, ENKRYPTIFY_DEBUG="1")
        where = ["--workspace", "acme", "--project", "web-app", "--env", "production"]
        results = [
            run_cli(["check", *where], env=env),
            run_cli(["run", *where, "--", sys.executable, "-c", ""], env=env),
        ]
    for result in results:
        assert result.returncode == 0, result.stderr
        log = replay_log(result.stdout, stderr=result.stderr)
        assert log.commands == [], sorted({c.name for c in log.commands})
    assert "## [set-output" in results[0].stdout


@pytest.mark.parametrize("value", ["\x1c", "\x1d\x1e\x1f", " \x1f\t"])
def test_a_value_of_separator_controls_is_masked(tmp_path: Path, value: str) -> None:
    """Finding 8: "blank, nothing to mask" used Python's ``str.strip()``, which also drops U+001C..U+001F;
    the runner's ``IsNullOrWhiteSpace`` does not. Such a value was exported unmasked."""
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    fake.add_secret(prj, "SEP", {"production": value})
    fake.add_token(TOKEN)
    dirs = RunnerDirs(tmp_path)
    with serve_fake(fake) as url:
        env = dirs.environ(ACTION_INPUTS | {"api-url": url}, extra={"ENKRYPTIFY_TOKEN": TOKEN})
        run = run_entrypoint(env, cwd=dirs.workspace)
    assert run.exit_code == 0, run.annotations("error")
    assert run.env.values == {"SEP": value}
    assert run.replay().masker.is_masked(value), "the value was exported without a mask"
