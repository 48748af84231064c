"""cli.main in-process: dispatch, argparse exits and the internal-error guard."""

from __future__ import annotations

import pytest

from enkryptify_action import cli
from enkryptify_action.errors import EXIT_INTERNAL, EXIT_USAGE


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert "enkryptify-fetch" in capsys.readouterr().out
    assert cli.main(["pull", "--help"]) == 0
    assert "--max-variables" in capsys.readouterr().out


def test_unknown_command_exits_2() -> None:
    assert cli.main(["fetch"]) == EXIT_USAGE
    assert cli.main([]) == EXIT_USAGE  # outside GitHub Actions a command is required


def test_internal_error_hides_the_exception_text(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def boom(_settings: object) -> None:
        raise RuntimeError("value-that-must-not-leak")

    monkeypatch.setattr(cli, "_fetch", boom)
    monkeypatch.setenv("ENKRYPTIFY_TOKEN", "ek_live_x")
    assert cli.main(["check", "--env", "production"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error (RuntimeError)" in err and "value-that-must-not-leak" not in err


def test_github_only_options_are_not_cli_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "--export-env"]) == EXIT_USAGE
    assert "unrecognized arguments: --export-env" in capsys.readouterr().err


def test_token_flag_warns_about_argv(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(cli, "_fetch", lambda _settings: (_ for _ in ()).throw(KeyboardInterrupt))
    assert cli.main(["check", "--token", "ek_live_abc", "--env", "production"]) == 130
    err = capsys.readouterr().err
    assert "prefer the ENKRYPTIFY_TOKEN environment variable" in err and "ek_live_abc" not in err
