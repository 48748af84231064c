"""Regression tests for what the hardening work found (see RESULTS.md, "Findings")."""

from __future__ import annotations

import sys

import pytest

from enkryptify_action.errors import EXIT_VALIDATION, ValidationError
from enkryptify_action.plan import Secret, Target
from enkryptify_action.select import build_plan
from tests.e2e.cli_helpers import base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake

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
