from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enkryptify_action.errors import EXIT_VALIDATION, ExportError, ValidationError
from enkryptify_action.files import write_private_file
from enkryptify_action.formats import (
    dotenv_problem,
    dotenv_value,
    inert,
    printable,
    render_dotenv,
    render_json,
    render_shell,
)
from enkryptify_action.plan import ExportItem, ExportPlan, Target

TRICKY = {
    "PLAIN": "hello world",
    "QUOTES": 'it\'s "quoted"',
    "MULTI": "line1\nline2\r\nline3\n",
    "DOLLAR": "$HOME ${PATH} `id` $(id)",
    "BACKSLASH": "a\\nb\\",
    "UNICODE": "p\u00e4ss\u00a0w\u00f6rd \U0001f511",
    "EMPTY": "",
    "HASH": "a # not a comment",
}


def make_plan(values: dict[str, str]) -> ExportPlan:
    items = tuple(ExportItem(name, value, name) for name, value in values.items())
    return ExportPlan(Target("w", "p", "e", "e1"), items)


def test_shell_round_trips_through_a_real_shell() -> None:
    script = render_shell(make_plan(TRICKY)) + "exec env -0\n"
    out = subprocess.run(["sh", "-c", script], capture_output=True, check=True, env={}).stdout.decode()
    env = dict(entry.split("=", 1) for entry in out.split("\0") if "=" in entry)
    for name, value in TRICKY.items():
        assert env.get(name) == value, f"{name} did not round-trip through sh"


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_dotenv_round_trips_through_sh_source(shell: str) -> None:
    values = {k: v for k, v in TRICKY.items() if dotenv_problem(v) is None} | {"SUBST": "$HOME `id` $(id) \n!x"}
    assert set(TRICKY) - set(values) == {"MULTI", "DOLLAR", "BACKSLASH"}  # CR, ${, \ with a final \ (see below)
    text = render_dotenv(make_plan(values))
    out = subprocess.run(
        [shell, "-c", "set -a; . /dev/stdin; exec env -0"], input=text.encode(), capture_output=True, env={}
    ).stdout.decode()
    env = dict(entry.split("=", 1) for entry in out.split("\0") if "=" in entry)
    for name, value in values.items():
        assert env.get(name) == value, f"{name} did not round-trip through {shell}"


def test_dotenv_quoting_rules() -> None:
    assert dotenv_value("a$b `c` $(d)") == "'a$b `c` $(d)'"
    assert dotenv_value("it's") == '"it\'s"'
    assert dotenv_value('a\nb\\"c"\\x') == '"a\nb\\\\\\"c\\"\\\\x"'
    assert dotenv_value("multi\nline") == "'multi\nline'"  # a quoted newline, as it is


@pytest.mark.parametrize("value", ["p'ss`id -un`w0rd", "it's $HOME", "C:\\dir\\$x", "${HOME}", "a\r\nb", "it's `x`"])
def test_dotenv_refuses_what_no_reader_would_read_back(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        render_dotenv(make_plan({"OK": "fine", "BAD": value}))
    assert info.value.exit_code == EXIT_VALIDATION
    assert "1 secret(s) cannot be written as dotenv exactly: BAD: " in info.value.message
    assert info.value.hint and "--format shell" in info.value.hint
    assert value not in str(info.value)


def test_json_is_a_plain_mapping() -> None:
    assert json.loads(render_json(make_plan(TRICKY))) == TRICKY


def test_write_private_file_is_0600_and_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.env"
    target.write_text("old")
    write_private_file(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["out.env"]


def test_write_private_file_failure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="Cannot write"):
        write_private_file(tmp_path / "missing" / "out.env", "x")
    folder = tmp_path / "dir-as-target"
    folder.mkdir()
    (folder / "keep").write_text("k")
    with pytest.raises(ExportError):
        write_private_file(folder, "secret")
    assert sorted(os.listdir(tmp_path)) == ["dir-as-target"]
    assert sorted(os.listdir(folder)) == ["keep"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a ##[set-output name=x]y", "a ## [set-output name=x]y"),
        ("###[x", "### [x"),
        ("##[##[x", "## [## [x"),
        ("::add-mask::e", ": :add-mask: :e"),
        (":::x", ": : :x"),
        ("plain: text, #hash [x]", "plain: text, #hash [x]"),
    ],
)
def test_inert_breaks_both_command_prefixes(text: str, shown: str) -> None:
    assert inert(text) == shown
    assert "##[" not in inert(text) and "::" not in inert(text)


@given(st.text())
def test_printable_output_holds_no_command_prefix_and_no_line_break(text: str) -> None:
    line = printable(text)
    assert "##[" not in line and "::" not in line
    assert line.isprintable() and len(line.splitlines()) <= 1
