"""The runner emulation itself, on vectors from actions/runner 258d6c8.

Command-parser rows are the cases of src/Test/L0/Worker/ActionCommandL0.cs (CommandParserTest,
CommandParserV2Test); stop-commands and echo rows are ActionCommandManagerL0.cs; file-command rows
are SetEnvFileCommandL0.cs / SetOutputFileCommandL0.cs; encoder and translation rows follow
ValueEncoders.cs and ContainerInfo.cs (each row says the rule it checks).
"""

from __future__ import annotations

import pytest

from tests.github.action_harness import RunCapture, RunnerDirs, assert_action_run, assert_only_our_commands
from tests.github.runner_emulation import (
    CommandProcessor,
    FileCommandError,
    LogMasker,
    Registered,
    RunnerEnv,
    RunnerOutputs,
    base64_escape,
    base64_shift,
    decode_file,
    encoded_variants,
    json_escape,
    net_is_null_or_whitespace,
    net_trim,
    parse_command,
    parse_file_command,
    parse_legacy,
    parse_v2,
    powershell_post_ampersand,
    powershell_pre_ampersand,
    replay_log,
    translate_to_container_path,
    trim_double_quotes,
    uri_escape,
    xml_escape,
)

DO = Registered({"do-something"})

# --- ActionCommandL0.CommandParserTest (legacy ##[...]) ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "properties", "data"),
    [
        ("##[do-something k1=v1;]msg", {"k1": "v1"}, "msg"),
        ("##[do-something]", {}, ""),
        ("##[do-something k1=%3B=%0D=%0A=%5D;]%3B-%0D-%0A-%5D", {"k1": ";=\r=\n=]"}, ";-\r-\n-]"),
        (
            "##[do-something k1=%253B=%250D=%250A=%255D;]%253B-%250D-%250A-%255D",
            {"k1": "%3B=%0D=%0A=%5D"},
            "%3B-%0D-%0A-%5D",
        ),
        ("##[do-something k1=;k2=;]", {}, ""),
        (">>>   ##[do-something k1=v1;]msg", {"k1": "v1"}, "msg"),  # anywhere in the line
    ],
)
def test_legacy_parser_vectors(line: str, properties: dict[str, str], data: str) -> None:
    command = parse_legacy(line, DO)
    assert command is not None and command.legacy
    assert (command.name, command.properties, command.data) == ("do-something", properties, data)


# --- ActionCommandL0.CommandParserV2Test (::...::) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "properties", "data"),
    [
        ("::do-something k1=v1,::msg", {"k1": "v1"}, "msg"),
        ("::do-something::", {}, ""),
        ("::do-something k1=;=%2C=%0D=%0A=]=%3A,::;-%0D-%0A-]-:-,", {"k1": ";=,=\r=\n=]=:"}, ";-\r-\n-]-:-,"),
        (
            "::do-something k1=;=%252C=%250D=%250A=]=%253A,::;-%250D-%250A-]-:-,",
            {"k1": ";=%2C=%0D=%0A=]=%3A"},
            ";-%0D-%0A-]-:-,",
        ),
        ("::do-something k1=,k2=,::", {}, ""),
        ("::do-something k1=v1::", {"k1": "v1"}, ""),
        ("   ::do-something k1=v1,::msg", {"k1": "v1"}, "msg"),
        ("\u3000\x85::do-something::msg", {}, "msg"),  # TrimStart is .NET whitespace
    ],
)
def test_v2_parser_vectors(line: str, properties: dict[str, str], data: str) -> None:
    command = parse_v2(line, DO)
    assert command is not None and not command.legacy
    assert (command.name, command.properties, command.data) == ("do-something", properties, data)


@pytest.mark.parametrize(
    "line",
    [
        "   >>>   ::do-something k1=v1,::msg",  # V2 only at the start (ActionCommandL0)
        "\x1c::do-something::msg",  # U+001C is no .NET whitespace: not trimmed
        "::do-something",  # no closing ::
        "##[do-something",  # no ]
        "::do-somethingelse::x",
        "##[other]x ##[do-something]y",  # only the first ##[ is looked at
    ],
)
def test_lines_that_are_not_commands(line: str) -> None:
    assert parse_command(line, DO) is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("::ADD-MASK::x", "add-mask"),
        ("::add-mask ::x", "add-mask"),  # the name ends at the first space
        ("##[Set-Output name=x]y", "set-output"),
        ("a secret ##[sAvE-sTaTe name=s]v", "save-state"),
        ("x ##[STOP-COMMANDS]tok", "stop-commands"),
    ],
)
def test_registered_names_match_ignoring_case(line: str, key: str) -> None:
    command = parse_command(line)
    assert command is not None and command.key == key


def test_v2_is_tried_before_legacy_so_command_data_is_never_reparsed() -> None:
    command = parse_command("::warning ::text ##[set-output name=x]y")
    assert command is not None and (command.key, command.data) == ("warning", "text ##[set-output name=x]y")


# --- ActionCommandManagerL0: stop-commands, echo; AddMaskCommandExtension ------------------------------------


def test_stop_commands_pauses_until_the_token_in_either_syntax_and_any_case() -> None:
    processor = CommandProcessor()
    for line in ["##[stop-commands]stopToken", "##[set-output name=a]1", "::STOPTOKEN::", "##[set-output name=b]2"]:
        processor.feed(line)
    log = processor.log
    assert log.outputs.as_dict() == {"b": "2"} and log.stopped_by is None
    assert "##[set-output name=a]1" in log.plain  # shown as text while stopped
    assert log.masker.is_masked("stopToken")  # a token longer than 6 characters is masked for the run


@pytest.mark.parametrize("token", ["", "set-env", "stop-commands", "Pause-Logging"])
def test_invalid_stop_tokens_fail_the_step(token: str) -> None:
    processor = CommandProcessor()
    processor.feed(f"::stop-commands::{token}")
    assert processor.log.errors and processor.log.stopped_by is None


def test_echo_and_step_debug_show_processed_commands_and_the_add_mask_placeholder() -> None:
    quiet = replay_log("::add-mask::hunter22\n::group::G\n::endgroup::\n::debug::d\n")
    assert quiet.lines == ["##[group]G", "##[endgroup]"]
    loud = replay_log("::add-mask::hunter22\n::group::G\n::debug::d\n", step_debug=True)
    assert loud.lines == ["::add-mask::***", "::group::G", "##[group]G", "##[debug]d"]
    echoed = replay_log("::echo::ON\n::set-output name=o::v\n::echo::Off   \n::set-output name=p::w\n")
    assert echoed.lines == ["::set-output name=o::v", "::echo::Off   "] and echoed.outputs.as_dict() == {
        "o": "v",
        "p": "w",
    }


def test_stderr_is_processed_like_stdout() -> None:
    log = replay_log("", stderr="prog: error: a ##[set-output name=x]pwned\n")
    assert log.outputs.get("X") == "pwned" and log.commands[0].legacy


def test_disabled_commands_and_missing_names_fail_the_step() -> None:
    assert replay_log("::set-env name=A::b\n").errors
    assert replay_log("##[add-path]/x\n").errors
    assert replay_log("::set-output::v\n").errors


def test_add_mask_registers_the_value_and_each_trimmed_line_without_minimum() -> None:
    masker = LogMasker()
    masker.add_mask('{\n  "password": "hunter22"\n}')
    assert masker.mask("{") == "***" and masker.mask("}") == "***"  # what the runner itself registers
    assert masker.mask('"password": "hunter22"') == "***"


@pytest.mark.parametrize("blank", ["", " ", "\t\r\n", "\u3000\x85\u2028\u2029\xa0\u202f\u205f\u1680"])
def test_add_mask_refuses_dotnet_whitespace(blank: str) -> None:
    masker = LogMasker()
    masker.add_mask(blank)
    assert masker.warnings and not masker.registered


@pytest.mark.parametrize("value", ["\x1c", "\x1d\x1e", "\x1f \x1f"])
def test_separator_controls_are_no_dotnet_whitespace(value: str) -> None:
    """Python's str.isspace() says yes, Char.IsWhiteSpace says no: the runner masks these."""
    assert value.strip() == "" or value.strip(" ") != ""
    assert not net_is_null_or_whitespace(value) and net_trim(value) == value.strip(" ")
    masker = LogMasker()
    masker.add_mask(value)
    assert masker.registered == [value] and masker.is_masked(value)


def test_masker_is_not_retroactive_and_masks_lines_and_variants() -> None:
    log = replay_log(
        "before secret-one\n::add-mask::secret-one%0Aline-two\nafter secret-one and line-two\nc2VjcmV0LW9uZQ==\n"
    )
    assert log.lines == ["before secret-one", "after *** and ***", "***"]
    assert log.mask_line_numbers == [1]


def test_masker_merges_overlapping_hits() -> None:
    masker = LogMasker()
    masker.add_mask("abcd")
    masker.add_mask("cdef")
    assert masker.mask("xabcdefx") == "x***x"


# --- ValueEncoders.cs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoder", "value", "encoded"),
    [
        (base64_escape, "secret-one", "c2VjcmV0LW9uZQ=="),  # Convert.ToBase64String keeps the padding
        (lambda v: base64_shift(v, 1), "secret-one", "ZWNyZXQtb25l"),  # the bytes after the first
        (lambda v: base64_shift(v, 2), "secret-one", "Y3JldC1vbmU="),  # the bytes after the second
        (lambda v: base64_shift(v, 2), "ab", "YWI="),  # too short to shift: the whole value
        (json_escape, 'a"b\\c\n\x01', 'a\\"b\\\\c\\n\\u0001'),
        (json_escape, "x\x85\u2028\u2029y", "x\\u0085\\u2028\\u2029y"),  # Newtonsoft escapes these three
        (json_escape, "é'<", "é'<"),  # and nothing else
        (uri_escape, "a b/é~", "a%20b%2F%C3%A9~"),
        (xml_escape, "<'&\">", "&lt;&apos;&amp;&quot;&gt;"),
        (trim_double_quotes, '"12345678"', "12345678"),
        (trim_double_quotes, '"123456"', ""),  # only longer than 8
        (powershell_pre_ampersand, "secretpart1&secretpart2&secretpart3", "secretpart1&secretpart2&"),
        (powershell_post_ampersand, "secretpart1&secretpart2&secretpart3", "secretpart3"),
        (powershell_pre_ampersand, "secretpart1&+secretpart2&secretpart3", "secretpart1&+"),
        (powershell_post_ampersand, "secretpart1&+secretpart2&secretpart3", "ecretpart2&secretpart3"),
        (powershell_pre_ampersand, "ab&cdefgh", ""),  # "ab&" is shorter than 6
        (powershell_post_ampersand, "abcdefg&xy", ""),
    ],
)
def test_encoder_vectors(encoder: object, value: str, encoded: str) -> None:
    assert callable(encoder) and encoder(value) == encoded


def test_every_encoding_of_a_registered_value_is_masked() -> None:
    masker = LogMasker()
    masker.add_mask("p'a\"ss&word\u2028")
    for variant in encoded_variants("p'a\"ss&word\u2028"):
        assert masker.mask(f"[{variant}]") == "[***]"


# --- FileCommandManager.cs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "records"),
    [
        ("A=B<<C\n", [("A", "B<<C")]),
        ("D<<E=F\nvalue\nE=F\n", [("D", "value")]),
        ("A = b\n", [("A ", " b")]),
        ("A=\n", [("A", "")]),
        ("\n\nA=1\n\nB=2", [("A", "1"), ("B", "2")]),
        (
            "MY_ENV==abc\nMY_ENV_2=def=ghi\nMY_ENV_3=jkl=\n",
            [("MY_ENV", "=abc"), ("MY_ENV_2", "def=ghi"), ("MY_ENV_3", "jkl=")],
        ),
        ("X<<EOF\nhello\n\nthree\n\nEOF\n", [("X", "hello\n\nthree\n")]),
        ("X<<EOF\nEOF\n", [("X", "")]),
        ("X<<EOF\nlast\nEOF", [("X", "last")]),
        ("X<<EOF\r\nx\r\ny\r\nEOF\r\n", [("X", "x\r\ny\r")]),
        ("A=1\nA=2\n", [("A", "1"), ("A", "2")]),
        ("=value\n", [("", "value")]),  # the parser checks the line, not the name
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
    ],
)
def test_file_command_errors(text: str, message: str) -> None:
    with pytest.raises(FileCommandError, match=message):
        parse_file_command(text)


def test_records_before_an_error_are_already_applied() -> None:
    with pytest.raises(FileCommandError) as caught:
        parse_file_command("A=1\nbroken\nB=2\n")
    assert caught.value.applied == [("A", "1")]  # type: ignore[attr-defined]
    env = RunnerEnv.from_text("A=1\nbroken\nB=2\n")
    assert env.values == {"A": "1"} and env.errors


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\xef\xbb\xbfA=1\n", "A=1\n"),
        (b"\xff\xfeA\x00=\x001\x00", "A=1"),
        (b"\xfe\xff\x00A\x00=\x001", "A=1"),
        (b"\xff\xfe\x00\x00A\x00\x00\x00", "A"),
        (b"\x00\x00\xfe\xff\x00\x00\x00A", "A"),
        (b"A=\xff\xc3(\n", "A=\ufffd\ufffd(\n"),  # invalid UTF-8: U+FFFD, processing goes on
        (b"\xef\xbb\xbf\xef\xbb\xbfA=1", "\ufeffA=1"),  # one BOM is dropped, the next is text
    ],
)
def test_file_decoding_vectors(data: bytes, text: str) -> None:
    assert decode_file(data) == text


def test_env_refuses_node_options_in_any_case_and_stops_at_an_empty_name() -> None:
    env = RunnerEnv.from_text("node_options=x\nPATH_X=y\n")
    assert env.values == {"PATH_X": "y"} and len(env.errors) == 1
    env = RunnerEnv.from_text("A=1\n=v\nB=2\n")
    assert env.values == {"A": "1", "": "v"} and env.errors


def test_outputs_ignore_case_keep_the_first_casing_and_refuse_an_empty_name() -> None:
    outputs = RunnerOutputs.from_text("O=1\no=2\n")
    assert outputs.as_dict() == {"O": "2"} and outputs.get("o") == "2"
    outputs = RunnerOutputs.from_text("A=1\n=v\nB=2\n")
    assert outputs.as_dict() == {"A": "1"} and outputs.errors


# --- ContainerInfo.TranslateToContainerPath ------------------------------------------------------------------

MAPPINGS = [
    ("/w/repo/repo", "/github/workspace"),
    ("/w/_temp/_runner_file_commands", "/github/file_commands"),
    ("/w/_temp", "/github/runner_temp"),
]


@pytest.mark.parametrize(
    ("value", "seen"),
    [
        ("/w/_temp", "/github/runner_temp"),
        ("/w/_temp/x.env", "/github/runner_temp/x.env"),
        ("/w/_temp/_runner_file_commands/set_env_1", "/github/file_commands/set_env_1"),  # first mapping wins
        ("/w/_tempx/y", "/w/_tempx/y"),  # a prefix only when followed by /
        ("/w/repo/repo/.env.ci", "/github/workspace/.env.ci"),
        ("x /w/_temp/y", "x /w/_temp/y"),  # only at the start of the value
        (".env.ci", ".env.ci"),
        ("", ""),
    ],
)
def test_path_translation_vectors(value: str, seen: str) -> None:
    assert translate_to_container_path(value, MAPPINGS) == seen


def test_the_harness_gives_the_program_container_paths_only(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    dirs = RunnerDirs(tmp_path)
    env = dirs.environ({"export-file": f"{dirs.temp}/x.env"}, extra={"OTHER": f"{dirs.workspace}/a"})
    assert env["INPUT_EXPORT-FILE"] == f"{dirs.cwd.parent / 'runner_temp'}/x.env"
    assert env["RUNNER_TEMP"] == str(dirs.cwd.parent / "runner_temp") and env["GITHUB_WORKSPACE"] == str(dirs.cwd)
    assert env["GITHUB_ENV"].startswith(str(dirs.cwd.parent / "file_commands") + "/")
    assert env["OTHER"] == f"{dirs.cwd}/a"
    # INPUT_RUNNER-PATHS holds the runner's own paths on purpose (github/host_paths.py): the runner leaves it
    # untranslated because it starts with "workspace=".
    assert env["INPUT_RUNNER-PATHS"] == f"workspace={dirs.workspace}\ntemp={dirs.temp}"
    host_paths = [v for k, v in env.items() if str(dirs.root / "runner") in v and k != "INPUT_RUNNER-PATHS"]
    assert not host_paths, "a host path reached the program"
    assert Path(env["GITHUB_ENV"]).resolve() == dirs.files["GITHUB_ENV"].resolve()


# --- the harness's own checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "API_KEY  (from a ##[set-output name=x]pwned)",
        "skipped b ##[SAVE-STATE name=s]v: reason",
        "renamed c ##[add-mask]e -> C: reason",
        "x ##[stop-commands]tok",
        "::Set-Output name=x::y",
        "   ::ADD-MASK::e",  # we write our commands in lower case (a lower-case one: see check 1)
        "##[error]shown as an error",
    ],
)
def test_the_harness_catches_a_command_or_marker_in_our_output(line: str) -> None:
    replay = replay_log(f"::add-mask::tok-en\n{line}\n")
    with pytest.raises(AssertionError):
        assert_only_our_commands(replay)


def test_the_harness_catches_a_command_on_stderr() -> None:
    with pytest.raises(AssertionError, match="stderr carries"):
        assert_only_our_commands(replay_log("", stderr="::warning::x\n"), stderr="::warning::x\n")


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
