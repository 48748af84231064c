"""The runner emulation itself, against the vectors in github-runner.md (and SetEnvFileCommandL0.cs)."""

from __future__ import annotations

import pytest

from tests.github.action_harness import RunCapture, assert_action_run
from tests.github.runner_emulation import (
    FileCommandError,
    LogMasker,
    RunnerEnv,
    RunnerOutputs,
    parse_command,
    parse_file_command,
    replay_log,
)


@pytest.mark.parametrize(
    ("text", "records"),
    [
        ("A=B<<C\n", [("A", "B<<C")]),
        ("D<<E=F\nvalue\nE=F\n", [("D", "value")]),
        ("A = b\n", [("A ", " b")]),
        ("A=\n", [("A", "")]),
        ("\n\nA=1\n\nB=2", [("A", "1"), ("B", "2")]),
        ("X<<EOF\nhello\n\nthree\n\nEOF\n", [("X", "hello\n\nthree\n")]),
        ("X<<EOF\nEOF\n", [("X", "")]),
        ("X<<EOF\nlast\nEOF", [("X", "last")]),
        ("X<<EOF\r\nx\r\ny\r\nEOF\r\n", [("X", "x\r\ny\r")]),
        ("\ufeffA=1\n", [("A", "1")]),
        ("A=1\nA=2\n", [("A", "1"), ("A", "2")]),
    ],
)
def test_file_command_vectors(text: str, records: list[tuple[str, str]]) -> None:
    assert parse_file_command(text) == records


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("X<<EOF\nvalue\n EOF\n", "Matching delimiter not found 'EOF'"),
        ("X<<EOF\nvalue", "EOF marker missing new line"),
        ("<<EOF\nEOF\n", "Name must not be empty"),
        ("X<<\n", "Name must not be empty"),
        ("just text\n", "Invalid format 'just text'"),
        ("   \n", "Invalid format"),
        ("=value\n", "key"),
    ],
)
def test_file_command_errors(text: str, message: str) -> None:
    with pytest.raises(FileCommandError, match=message):
        parse_file_command(text)


def test_records_before_an_error_are_already_applied() -> None:
    with pytest.raises(FileCommandError) as caught:
        parse_file_command("A=1\nbroken\nB=2\n")
    assert caught.value.applied == [("A", "1")]  # type: ignore[attr-defined]


def test_env_refuses_node_options_in_any_case_and_outputs_ignore_case() -> None:
    env = RunnerEnv.from_text("node_options=x\nPATH_X=y\n")
    assert env.values == {"PATH_X": "y"} and len(env.errors) == 1
    outputs = RunnerOutputs.from_text("Out=1\nout=2\n")
    assert outputs.get("OUT") == "2" and len(outputs.as_dict()) == 1


def test_commands_are_parsed_after_leading_whitespace_and_unescaped_in_order() -> None:
    command = parse_command("   ::add-mask ::a%250Ab%0Ac%0D")
    assert command is not None
    assert (command.name, command.data) == ("add-mask", "a%0Ab\nc\r")
    assert parse_command("text ::add-mask::x") is None


def test_masker_is_not_retroactive_and_masks_lines_and_variants() -> None:
    log = replay_log(
        "before secret-one\n::add-mask::secret-one%0Aline-two\nafter secret-one and line-two\nc2VjcmV0LW9uZQ\n"
    )
    assert log.lines == ["before secret-one", "after *** and ***", "***"]
    assert log.mask_line_numbers == [1]


def test_masker_merges_overlapping_hits_and_warns_on_blank() -> None:
    masker = LogMasker()
    masker.add_mask("abcd")
    masker.add_mask("cdef")
    masker.add_mask("   ")
    assert masker.mask("xabcdefx") == "x***x"
    assert masker.warnings


def _capture(stdout: str, env: str = "", outputs: str = "") -> RunCapture:
    files = {"GITHUB_ENV": env, "GITHUB_OUTPUT": outputs, "GITHUB_STATE": "", "GITHUB_STEP_SUMMARY": ""}
    return RunCapture(stdout=stdout, stderr="", exit_code=0, files=files)


def test_the_harness_catches_a_value_logged_before_its_mask() -> None:
    run = _capture("value is hunter22\n::add-mask::hunter22\n", env="A=hunter22\n")
    with pytest.raises(AssertionError, match=r"appears unmasked|came after other output"):
        assert_action_run(run, secrets={"A": "hunter22"}, expected_env={"A": "hunter22"}, expected_outputs=None)


def test_the_harness_catches_a_write_before_the_last_mask() -> None:
    stdout = "::add-mask::tok-en\n##enkryptify-test-write## /x/set_env\n::add-mask::hunter22\n"
    run = _capture(stdout, env="A=hunter22\n")
    with pytest.raises(AssertionError, match="before every mask"):
        assert_action_run(run, secrets={"A": "hunter22"}, expected_env={"A": "hunter22"}, expected_outputs=None)


def test_the_harness_catches_an_exported_value_without_a_mask() -> None:
    run = _capture("::add-mask::other-value\n", env="A=hunter22\n")
    with pytest.raises(AssertionError, match="exported without a mask"):
        assert_action_run(
            run,
            secrets={},
            expected_env={"A": "hunter22"},
            expected_outputs=None,
            require_write_markers=False,
        )


def test_the_harness_catches_a_wrong_value() -> None:
    run = _capture("::add-mask::hunter22\n", env="A=hunter2\n")
    with pytest.raises(AssertionError, match="GITHUB_ENV A differs"):
        assert_action_run(
            run, secrets={}, expected_env={"A": "hunter22"}, expected_outputs=None, require_write_markers=False
        )
