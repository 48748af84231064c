"""What a newcomer types, forgiven or explained (issue 17): `--secrets A,B`, a folder as `--output`,
a mistyped subcommand flag, and a branch mapping that matches nothing."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from enkryptify_action import cli
from enkryptify_action.config import resolve_settings
from enkryptify_action.errors import EXIT_USAGE, ExportError, NotFoundError, UsageError
from enkryptify_action.files import WRITE_HINTS, write_hint, write_private_file
from enkryptify_action.plan import Secret, Target
from enkryptify_action.select import build_plan, parse_spec, spec_entries

TARGET = Target("acme", "web-app", "production", "env-1")
SECRETS = [Secret("A", "1"), Secret("B", "2"), Secret("C_1", "3"), Secret("C_2", "4"), Secret("D", "5")]


# ----------------------------------------------------------------------------- --secrets A,B
@pytest.mark.parametrize(
    ("spec", "exported"),
    [
        ("A,B", ["A", "B"]),
        ("A, B", ["A", "B"]),
        ("A B", ["A", "B"]),
        ("A\tB", ["A", "B"]),
        ("A\nB", ["A", "B"]),
        ("A,,B,", ["A", "B"]),
        ("C_*,!C_2", ["C_1"]),
        ("C_*, ! C_2", ["C_1"]),
        ("X=A,B", ["X", "B"]),
        ("X = A, B", ["X", "B"]),
        ("A # comment, B\nD", ["A", "D"]),
        ("# all commented, A\nB", ["B"]),
    ],
)
def test_commas_and_whitespace_separate_entries(spec: str, exported: list[str]) -> None:
    plan = build_plan(SECRETS, TARGET, spec=spec)
    assert sorted(item.name for item in plan.items) == sorted(exported)


def test_a_comma_list_is_not_one_missing_name() -> None:
    """Before: `--secrets A,B` looked for a secret named `A,B` and said it was not found."""
    with pytest.raises(NotFoundError) as info:
        build_plan(SECRETS, TARGET, spec="A,NOPE")
    assert info.value.message == "Secret(s) not found in this environment: NOPE."


def test_entries_keep_their_line_numbers_for_errors() -> None:
    assert spec_entries("A, B\n\nC = D, !E") == [(1, "A"), (1, "B"), (3, "C=D"), (3, "!E")]
    with pytest.raises(UsageError, match=r"line 2: '=B'") as info:
        parse_spec("A\nC,=B")
    assert info.value.hint is not None and "commas or spaces" in info.value.hint


def test_cli_flag_with_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENKRYPTIFY_TOKEN", "ek_live_x")
    args = cli.parse_args(["check", "--env", "production", "--secrets", "A,B", "--secrets", "C_*"])
    rules = parse_spec(cli.settings_from_args(args).secrets)
    assert [(r.kind, r.pattern) for r in rules] == [("name", "A"), ("name", "B"), ("glob", "C_*")]


# ----------------------------------------------------------------------------- write errors carry a hint
def test_a_folder_as_output_says_so_and_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as info:
        write_private_file(tmp_path, "A='1'\n")
    assert info.value.message == f"Cannot write {tmp_path}: it is a folder."
    assert info.value.hint == f"That path is a folder: name a file in it, such as {tmp_path}/secrets.env."
    assert os.listdir(tmp_path) == []  # nothing was tried in the parent or left behind


def test_cli_output_to_a_folder_exits_7_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fake_api.app import FakeEnkryptify
    from tests.fake_api.fixtures import DEMO_TOKEN
    from tests.fake_api.server import serve_fake

    with serve_fake(FakeEnkryptify.demo()) as url:
        monkeypatch.setenv("ENKRYPTIFY_TOKEN", DEMO_TOKEN)
        monkeypatch.setenv("ENKRYPTIFY_API_URL", url)
        code = cli.main(["pull", "--workspace", "acme", "--project", "web-app", "--env", "production", "-o", "/tmp"])
    err = capsys.readouterr().err
    assert code == 7
    assert "error: Cannot write /tmp: it is a folder." in err
    assert "hint: That path is a folder: name a file in it, such as /tmp/secrets.env." in err


def test_a_missing_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as info:
        write_private_file(tmp_path / "nope" / "out.env", "x")
    assert (
        info.value.hint
        == f"The folder {tmp_path / 'nope'} does not exist: create it first, or name a file in an existing folder."
    )


@pytest.mark.parametrize("code", sorted(WRITE_HINTS))
def test_every_errno_has_a_filled_in_hint(code: int) -> None:
    hint = write_hint(Path("/srv/out/.env"), code)
    assert "{" not in hint and hint.endswith(".")
    assert write_hint(Path("x.env"), errno.EIO) == "Check the folder exists and is writable."


# ----------------------------------------------------------------------------- a mistyped subcommand flag
@pytest.mark.parametrize(
    ("argv", "usage", "suggestion"),
    [
        (["pull", "--formt", "json"], "usage: enkryptify-fetch pull ", "(did you mean --format?)"),
        (["check", "--secretz=A"], "usage: enkryptify-fetch check ", "(did you mean --secrets?)"),
        (["run", "--envirnment", "x", "--", "true"], "usage: enkryptify-fetch run ", "(did you mean --environment?)"),
        (["check", "--export-env"], "usage: enkryptify-fetch check ", ""),
    ],
)
def test_unknown_flag_shows_the_subcommands_usage(
    argv: list[str], usage: str, suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(usage)  # before: the top-level `usage: enkryptify-fetch [-h] [--version] COMMAND ...`
    prog = usage.removeprefix("usage: ").strip()
    assert f"{prog}: error: unrecognized arguments: {argv[1]}" in err
    assert suggestion in err


# ----------------------------------------------------------------------------- branch mapping names its sources
@pytest.mark.parametrize(
    ("environ", "read"),
    [
        ({}, "GITHUB_REF_NAME unset; CI_COMMIT_REF_NAME unset"),
        ({"GITHUB_REF_NAME": "feature/x"}, "GITHUB_REF_NAME='feature/x'; CI_COMMIT_REF_NAME unset"),
        ({"GITHUB_REF_NAME": "", "CI_COMMIT_REF_NAME": "dev"}, "GITHUB_REF_NAME empty; CI_COMMIT_REF_NAME='dev'"),
    ],
)
def test_branch_mapping_error_names_the_variables_it_read(tmp_path: Path, environ: dict[str, str], read: str) -> None:
    (tmp_path / ".enkryptify.yml").write_text("environments:\n  main: production\n  release/*: staging\n")
    with pytest.raises(UsageError) as info:
        resolve_settings(flags={}, environ={"ENKRYPTIFY_TOKEN": "ek_live_x", **environ}, cwd=tmp_path)
    assert info.value.message.endswith(f"matches none of: main, release/* (read the branch from {read}).")
