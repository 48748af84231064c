"""The export file in-process: recorded before it is written, owned like its folder, removed by the post step.

Real files in a temporary folder; GITHUB_STATE is a real file that ``write_exports`` appends to, read back
with the runner emulation's parser; the post step (post.py) runs in-process and its log is captured.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from enkryptify_action.errors import ExportError
from enkryptify_action.files import MARK_ATTRIBUTE, file_mark, write_private_file
from enkryptify_action.github import post
from enkryptify_action.github.action import STATE_EXPORT_FILE, _remember_file
from enkryptify_action.github.exports import Exports, write_exports
from tests.github.runner_emulation import parse_file_command

RUNNER_UID = 1001  # the runner user on GitHub-hosted runners
TEXT = "A_SECRET='value-of-a'\n"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    for name in ("GITHUB_STATE", "GITHUB_OUTPUT", "GITHUB_ENV"):
        (tmp_path / name).write_text("")
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(folder))
    monkeypatch.chdir(folder)
    return folder


def export(path: Path) -> dict[str, str]:
    """``write_exports`` of one dotenv file; the post step's environment (STATE_* from GITHUB_STATE)."""
    exports = Exports(env_text=None, output_text="count<<d\n1\nd\n", file_path=path, file_text=TEXT)
    write_exports(exports, os.environ, remember_file=_remember_file)
    state = dict(parse_file_command(Path(os.environ["GITHUB_STATE"]).read_text()))
    return {**os.environ, **{f"STATE_{key}": value for key, value in state.items()}}


def run_post(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> str:
    assert post.run_post(env) == 0
    return capsys.readouterr().out


def test_the_state_names_both_paths_and_the_inode_before_the_rename(workspace: Path) -> None:
    path = workspace / ".env.ci"
    env = export(path)
    state = json.loads(env[f"STATE_{STATE_EXPORT_FILE}"])
    info = path.lstat()
    assert state["path"] == str(path) and Path(state["temp"]).parent == workspace
    assert Path(state["temp"]).name.startswith(".enkryptify-") and not Path(state["temp"]).exists()
    assert (state["dev"], state["ino"]) == (info.st_dev, info.st_ino)


def test_a_file_a_later_step_appended_to_is_still_removed(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workspace / ".env.ci"
    env = export(path)
    with path.open("a") as later_step:  # size and mtime change, the inode does not
        later_step.write("EXTRA=1\n")
    log = run_post(env, capsys)
    assert not path.exists()
    assert f"Removed the export file {path}." in log and "::warning" not in log


def test_a_file_that_replaced_ours_is_kept(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workspace / ".env.ci"
    env = export(path)
    path.unlink()
    path.write_text("the user's own file\n")
    log = run_post(env, capsys)
    assert path.read_text() == "the user's own file\n"
    assert "::warning ::Not removing" in log and "it is not the file this action wrote" in log


def test_a_file_with_our_inode_number_but_not_our_mark_is_kept(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """File systems hand a freed inode number to the next new file: ext4 and tmpfs do it at once."""
    path = workspace / ".env.ci"
    env = export(path)
    assert file_mark(path) == json.loads(env[f"STATE_{STATE_EXPORT_FILE}"])["mark"] is not None
    os.removexattr(path, MARK_ATTRIBUTE)  # what a new file on our inode number looks like
    log = run_post(env, capsys)
    assert path.exists() and "it is not the file this action wrote" in log


def test_a_symlink_or_folder_in_its_place_is_kept(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workspace / ".env.ci"
    env = export(path)
    moved = workspace / "moved"
    path.rename(moved)
    path.symlink_to(moved)  # a link to our very inode is still not a regular file at that path
    log = run_post(env, capsys)
    assert path.is_symlink() and moved.exists() and "::warning ::Not removing" in log


def test_when_it_cannot_delete_the_warning_says_the_file_still_holds_secrets(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workspace / ".env.ci"
    env = export(path)

    def refuse(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "unlink", refuse)
    log = run_post(env, capsys)
    assert path.exists()
    assert "::warning ::Could not remove" in log and "It still holds the secrets this action wrote" in log


def test_an_unusable_state_warns_that_a_written_file_holds_secrets(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = run_post({**os.environ, f"STATE_{STATE_EXPORT_FILE}": "{not json"}, capsys)
    assert "::warning ::Not removing the export file" in log and "it still holds secrets" in log


def test_a_failed_state_write_leaves_no_file(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exports = Exports(env_text=None, output_text="count<<d\n1\nd\n", file_path=workspace / "x.env", file_text=TEXT)
    monkeypatch.delenv("GITHUB_STATE")
    with pytest.raises(ExportError, match="Cannot record the export file"):
        write_exports(exports, os.environ, remember_file=_remember_file)
    assert list(workspace.iterdir()) == []


# --- ownership: run as root, the files belong to the folder's owner -----------------------------------


@pytest.fixture
def as_root() -> None:
    """Never skipped: CI, the developers' machines and the container action run as root (chown needs it)."""
    if os.geteuid() != 0:
        pytest.fail("the ownership tests need root, as CI and the container action run", pytrace=False)


def test_as_root_the_export_file_and_new_folders_get_the_workspace_owner(workspace: Path, as_root: None) -> None:
    os.chown(workspace, RUNNER_UID, RUNNER_UID)
    seen: list[os.stat_result] = []

    def remember(final: Path, temp: Path, fd: int) -> None:
        seen.append(os.fstat(fd))  # the temp file, before its first byte and before the rename

    exports = Exports(env_text=None, output_text="count<<d\n1\nd\n", file_path=workspace / "a" / "b" / "x.env",
                      file_text=TEXT)  # fmt: skip
    write_exports(exports, os.environ, remember_file=remember)
    for path in (workspace / "a", workspace / "a" / "b", workspace / "a" / "b" / "x.env"):
        info = path.stat()
        assert (info.st_uid, info.st_gid) == (RUNNER_UID, RUNNER_UID), path
    assert stat.S_IMODE((workspace / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((workspace / "a" / "b" / "x.env").stat().st_mode) == 0o600
    assert (seen[0].st_uid, seen[0].st_gid) == (RUNNER_UID, RUNNER_UID), "owned only after it was moved into place"


def test_as_root_a_root_owned_folder_keeps_root_files(tmp_path: Path, as_root: None) -> None:
    write_private_file(tmp_path / "x.env", TEXT)
    assert (tmp_path / "x.env").stat().st_uid == 0


def test_a_failed_chown_is_an_export_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_root: None
) -> None:
    os.chown(tmp_path, RUNNER_UID, RUNNER_UID)

    def refuse(*_args: object) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "chown", refuse)
    with pytest.raises(ExportError, match=r"Cannot give .* to the owner of its folder \(uid 1001, gid 1001\)"):
        write_private_file(tmp_path / "x.env", TEXT)
    assert list(tmp_path.iterdir()) == []
