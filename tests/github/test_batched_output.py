"""The batched log and file-command writers: the library's formats, one write each, and the caps."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from types import SimpleNamespace

import github_action_utils as gau
import pytest
from github_action_utils import _files as gau_files
from hypothesis import given
from hypothesis import strategies as st

from enkryptify_action.errors import ValidationError
from enkryptify_action.github import action as gh_action
from enkryptify_action.github import exports
from enkryptify_action.github.exports import file_command_block
from enkryptify_action.github.summary import SUMMARY_MAX_CHARS, SUMMARY_MAX_ROWS, md, render_summary
from enkryptify_action.plan import ExportItem, ExportPlan, Note, Target
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunnerDirs, assert_action_run, run_entrypoint
from tests.github.runner_emulation import parse_command, parse_file_command, replay_log, split_log_lines

TARGET = Target(workspace="acme", project="web-app", environment="production", environment_id="e1")
TRICKY = ["plain", "100%25 %0A%0D", "a\r\nb\nc\rd", "::add-mask::x", "pässwörd-🔐\u2028", " padded ", "%"]


class CountingBinary(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes += 1
        return super().write(data)


class FakeStdout:
    """A stdout with a binary buffer, as in a container; counts every write and flush."""

    def __init__(self) -> None:
        self.buffer = CountingBinary()
        self.text = io.StringIO()
        self.writes = 0
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return self.text.write(text)

    def flush(self) -> None:
        self.flushes += 1

    def getvalue(self) -> str:
        return self.buffer.getvalue().decode("utf-8") + self.text.getvalue()


@pytest.fixture
def stdout(monkeypatch: pytest.MonkeyPatch) -> FakeStdout:
    """A fake stdout under the runner; tests enter ``redirect_stdout`` themselves (pytest swaps it per phase)."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    return FakeStdout()


def library_output(monkeypatch: pytest.MonkeyPatch, call: object) -> str:
    """What github-action-utils itself prints (text stream, GITHUB_ACTIONS unset)."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        call()  # type: ignore[operator]
    return out.getvalue()


def plan_of(n: int, **extra: tuple[Note, ...]) -> ExportPlan:
    items = tuple(ExportItem(f"SECRET_{i:05d}", f"value-{i}", f"SECRET_{i:05d}") for i in range(n))
    return ExportPlan(target=TARGET, items=items, **extra)


# --- stdout: the library's command format, one write --------------------------------------------


@pytest.mark.parametrize("value", TRICKY)
def test_command_lines_are_exactly_what_the_library_prints(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert gh_action.command_line("add-mask", value) + "\n" == library_output(monkeypatch, lambda: gau.add_mask(value))
    assert gh_action.command_line("group", value) + "\n" == library_output(monkeypatch, lambda: gau.start_group(value))
    assert "::endgroup::\n" == library_output(monkeypatch, gau.end_group)


def test_masks_are_one_binary_write_flushed_in_order_without_duplicates_or_blanks(stdout: FakeStdout) -> None:
    masker = gh_action.Masker()
    values = [f"value-{i}" for i in range(1000)] + TRICKY + ["value-1", "", "  \n "]
    with contextlib.redirect_stdout(stdout):
        masker.register(values)
    assert stdout.buffer.writes == 1 and stdout.writes == 0
    assert stdout.flushes >= 1
    registered = replay_log(stdout.getvalue()).masker.registered
    assert registered == [f"value-{i}" for i in range(1000)] + TRICKY
    with contextlib.redirect_stdout(stdout):
        masker.register(["value-2", "new-one"])  # already registered values are not sent again
    assert stdout.buffer.writes == 2
    assert replay_log(stdout.getvalue()).masker.registered[-1:] == ["new-one"]
    with contextlib.redirect_stdout(stdout):
        masker.register(["value-3"])
    assert stdout.buffer.writes == 2, "nothing new: nothing written"


def test_outside_the_runner_masks_go_through_the_text_stream_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeStdout()
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    with contextlib.redirect_stdout(fake):
        gh_action.Masker().register(TRICKY)
    assert fake.writes == 1 and fake.buffer.writes == 0 and fake.flushes >= 1
    assert replay_log(fake.getvalue()).masker.registered == TRICKY


def test_a_value_that_cannot_be_encoded_prints_no_mask_at_all(stdout: FakeStdout) -> None:
    with pytest.raises(UnicodeEncodeError), contextlib.redirect_stdout(stdout):
        gh_action.Masker().register(["fine-value", "bad-\ud800"])
    assert stdout.getvalue() == ""


def test_log_plan_is_one_group_in_one_write_capped_with_every_note(stdout: FakeStdout) -> None:
    renamed = tuple(Note(f"src-{i}", f"SRC_{i}", "sanitized") for i in range(300))
    skipped = (Note("bad\nname", None, "not valid"),)
    plan = plan_of(gh_action.LOG_MAX_NAMES + 50, renamed=renamed, skipped=skipped)
    with contextlib.redirect_stdout(stdout):
        gh_action._log_plan(plan, SimpleNamespace(dry_run=False, environment_source="option"))  # type: ignore[arg-type]
    assert stdout.buffer.writes == 1
    lines = split_log_lines(stdout.getvalue())
    first, last = parse_command(lines[0]), parse_command(lines[-1])
    assert first is not None and first.name == "group" and f"exporting {len(plan.items)} secret(s)" in first.data
    assert last is not None and last.name == "endgroup"
    names = [line for line in lines if line.startswith("SECRET_")]
    assert names == [f"SECRET_{i:05d}" for i in range(gh_action.LOG_MAX_NAMES)]
    assert "… and 50 more (the `names` output lists them all)" in lines
    assert sum(line.startswith("renamed ") for line in lines) == 300
    assert "skipped bad?name: not valid" in lines
    assert all(parse_command(line) is None for line in lines[1:-1])


def test_log_plan_lists_a_small_plan_completely(stdout: FakeStdout) -> None:
    settings = SimpleNamespace(dry_run=True, environment_source="branch main")
    with contextlib.redirect_stdout(stdout):
        gh_action._log_plan(plan_of(3), settings)  # type: ignore[arg-type]
    lines = split_log_lines(stdout.getvalue())
    assert lines[1:-1] == [
        "SECRET_00000",
        "SECRET_00001",
        "SECRET_00002",
        "environment chosen because branch main",
    ]
    assert "would export 3 secret(s)" in lines[0]


# --- file commands: one delimiter per block -------------------------------------------------------


def delimiters(text: str) -> set[str]:
    return {line.split("<<", 1)[1] for line in text.split("\n") if "<<ghadelimiter_" in line}


def test_one_delimiter_per_block_in_the_library_format() -> None:
    pairs = [(f"N{i}", f"v{i}") for i in range(100)]
    text = file_command_block(pairs)
    [delimiter] = delimiters(text)
    assert delimiter.startswith("ghadelimiter_") and len(delimiter) == len("ghadelimiter_") + 32
    assert parse_file_command(text) == pairs
    assert file_command_block([]) == ""


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("A", "x\nghadelimiter_first\nB=2\n"), ("LAST", "ghadelimiter_secon")], "ghadelimiter_second"),
        ([("A_ghadelimiter_first", "ok"), ("LAST", "z")], "ghadelimiter_second"),
        (
            [("FIRST", "plain"), ("A_ghadelimiter_first", "v"), ("LAST", "..ghadelimiter_second..")],
            "ghadelimiter_third",
        ),
    ],
    ids=["in-a-value", "in-a-name", "in-any-pair"],
)
def test_a_name_or_value_holding_the_delimiter_forces_a_new_one(
    monkeypatch: pytest.MonkeyPatch, pairs: list[tuple[str, str]], expected: str
) -> None:
    drawn = iter(["ghadelimiter_first", "ghadelimiter_second", "ghadelimiter_third"])
    monkeypatch.setattr(exports, "new_delimiter", lambda: next(drawn))
    text = file_command_block(pairs)
    assert delimiters(text) == {expected}
    assert parse_file_command(text) == pairs


def test_the_framing_is_checked_again_after_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defense in depth: were the regeneration check bypassed, the count check still refuses."""
    monkeypatch.setattr(exports, "new_delimiter", lambda: "ghadelimiter_fixed")
    monkeypatch.setattr(exports, "any", lambda _found: False, raising=False)
    with pytest.raises(ValidationError, match="frame"):
        file_command_block([("A", "x\nghadelimiter_fixed\nB=evil\n")])


def test_records_match_the_library_record_byte_for_byte() -> None:
    for name, value in [("A", "v"), ("\ufeffBOM", "x\n"), ("B", ""), ("C", "a\r\nb")]:
        ours = file_command_block([(name, value)])
        [delimiter] = delimiters(ours)
        theirs = gau_files._build_file_input(name, value).decode("utf-8")
        [their_delimiter] = delimiters(theirs)
        assert ours == theirs.replace(their_delimiter, delimiter)


@given(st.text(max_size=12))
def test_name_checks_agree_with_the_library(name: str) -> None:
    """Ours are the library's checks plus one: a name ending in ``<`` is refused (hardening finding 4)."""
    try:
        gau_files._build_file_input(name, "v")
        library_ok = not name.endswith("<")
    except ValueError:
        library_ok = False
    try:
        file_command_block([(name, "v")])
        ours_ok = True
    except ValidationError:
        ours_ok = False
    assert ours_ok == library_ok


def test_a_value_that_is_not_unicode_text_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match=r"'B'.*not valid Unicode"):
        file_command_block([("A", "fine"), ("B", "bad-\udc80")])


# --- step summary -----------------------------------------------------------------------------------


def test_md_examples() -> None:
    assert md("<a&b>|`x`\r\ny\u2028z") == "&lt;a&amp;b&gt;\\|\\`x\\` y z"


def test_a_small_summary_lists_everything() -> None:
    text = render_summary(plan_of(3), destinations=["environment variables"], dry_run=False)
    assert text.count("| `web-app` | `production` |") == 3 and "more names" not in text


def test_a_large_summary_is_capped_and_says_where_the_rest_is() -> None:
    renamed = tuple(Note(f"src-{i}", f"SRC_{i}", "sanitized") for i in range(1500))
    text = render_summary(plan_of(10_000, renamed=renamed), destinations=["environment variables"], dry_run=False)
    rows = [line for line in text.split("\n") if line.startswith("| `SECRET_")]
    assert len(rows) == SUMMARY_MAX_ROWS
    assert rows[-1].startswith(f"| `SECRET_{SUMMARY_MAX_ROWS - 1:05d}` |")
    assert f"\n\n… {10_000 - SUMMARY_MAX_ROWS} more names, see the `names` output.\n" in text
    assert "- … 500 more, listed in the step's log." in text
    assert "### Enkryptify: 10000 secret(s)" in text
    assert len(text.encode("utf-8")) < 256 * 1024


def test_long_names_are_capped_by_size_well_under_the_1_mib_limit() -> None:
    long = tuple(ExportItem("N" * 5000 + f"_{i}", "v", "🔐" * 5000) for i in range(500))
    skipped = tuple(Note("🔐" * 5000, None, "not valid") for _ in range(500))
    plan = ExportPlan(target=TARGET, items=long, skipped=skipped)
    text = render_summary(plan, destinations=[], dry_run=True)
    assert len(text) < SUMMARY_MAX_CHARS + 2000
    assert len(text.encode("utf-8")) < 1024 * 1024 // 2
    assert "more names, see the `names` output." in text and "more, listed in the step's log." in text


# --- end to end: more secrets than the log lists ---------------------------------------------------

TOKEN = "ek_live_batched_0123456789abcdefABCDEF"


def test_many_secrets_end_to_end_masks_first_exact_exports_capped_log(tmp_path: Path) -> None:
    secrets = {
        f"SECRET_{i:04d}": f"value-{i:04d}-" + "x" * (i % 7) + ("\nline two" if i % 50 == 0 else "") for i in range(600)
    }
    secrets["DELIMITER_LIKE"] = "ghadelimiter_" + "0" * 32 + "\nghadelimiter_\n"
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    for name, value in secrets.items():
        fake.add_secret(prj, name, {"production": value})
    fake.add_token(TOKEN)
    dirs = RunnerDirs(tmp_path)
    with serve_fake(fake) as url:
        inputs = {"project": "web-app", "environment": "production", "api-url": url, "export-outputs": "true"}
        env = dirs.environ(inputs, extra={"ENKRYPTIFY_TOKEN": TOKEN})
        run = run_entrypoint(env, cwd=dirs.workspace)

    assert run.exit_code == 0, run.annotations("error")
    creds = {"token": TOKEN} | {f"jwt {i}": jwt for i, jwt in enumerate(fake.jwts)}
    outputs = {"names": json.dumps(list(secrets)), "count": str(len(secrets))} | secrets
    assert_action_run(run, secrets=secrets | creds, expected_env=secrets, expected_outputs=outputs, credentials=creds)
    assert run.stderr == ""
    assert len(delimiters(run.files["GITHUB_ENV"])) == 1 and len(delimiters(run.files["GITHUB_OUTPUT"])) == 1
    log = run.log.split("\n")
    assert sum(line.startswith("SECRET_") for line in log) == gh_action.LOG_MAX_NAMES
    assert f"… and {len(secrets) - gh_action.LOG_MAX_NAMES} more (the `names` output lists them all)" in log
    assert os.linesep == "\n"
