"""Property tests of the GitHub export path against the runner emulation (tests/github/runner_emulation.py).

Every value either round-trips exactly through the runner's file-command parser or is refused before
anything is written, and the masker emulation finds no value, nor any 4+ character line of one, in the log.
In-process (the long profile runs 10,000 examples per property): ``make fuzz``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enkryptify_action.errors import EnkryptifyError, ValidationError
from enkryptify_action.formats import printable, render_dotenv
from enkryptify_action.github import action as gh_action
from enkryptify_action.github.exports import env_pairs, file_command_block, output_pairs
from enkryptify_action.github.masking import plan_masks
from enkryptify_action.github.summary import render_error_summary, render_summary
from enkryptify_action.plan import ExportPlan, Secret, Target
from enkryptify_action.select import build_plan
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.transport import MOCK_BASE_URL, mock_transport
from tests.github.action_harness import (
    OUR_COMMANDS,
    RunCapture,
    RunnerDirs,
    assert_action_run,
    assert_only_our_commands,
)
from tests.github.runner_emulation import (
    RunnerEnv,
    RunnerOutputs,
    lines_of,
    net_trim,
    parse_file_command,
    replay_log,
)
from tests.hardening import strategies as hs
from tests.hardening.profiles import FUZZ

TARGET = Target("acme", "web-app", "production", "env-1")
TOKEN = "ek_live_fuzz_github_0123456789abcdef"
# Text of every log no matter the secrets: our commands as written and the runner's display of them
# (a value line such as "erro" is then public, not a leak; the long profile found that false positive).
COMMAND_TEXT = " ".join(f"::{name} :: ##[{name}]" for name in sorted(OUR_COMMANDS)) + " title="

plan_options = st.fixed_dictionaries(
    {
        "prefix": st.sampled_from(["", "APP_", "x"]),
        "name_case": st.sampled_from(["preserve", "upper", "lower"]),
        "invalid_names": st.sampled_from(["sanitize", "skip", "error"]),
        "allow_dangerous_names": st.booleans(),
        "parse_json": st.booleans(),
    }
)


def plan_or_refusal(secrets: dict[str, str], options: dict[str, Any]) -> ExportPlan | EnkryptifyError:
    try:
        return build_plan([Secret(n, v) for n, v in secrets.items()], TARGET, **options)
    except ValidationError as exc:
        return exc


def exported_from_secrets(plan: ExportPlan, secrets: dict[str, str]) -> None:
    """Each item carries its secret's value unchanged (flattened JSON leaves come from the parsed value)."""
    for item in plan.items:
        if item.source in secrets:
            same = item.value == secrets[item.source]
            assert same, f"{item.name}: the plan altered the value"


@FUZZ
@given(st.lists(st.tuples(hs.names, hs.values), max_size=6))
def test_file_command_records_round_trip_or_are_refused(pairs: list[tuple[str, str]]) -> None:
    """Any name and value: the record block parses back to exactly the pairs, or it is refused whole."""
    try:
        text = file_command_block(pairs)
    except ValidationError:
        bad = [n for n, v in pairs if not n or n.endswith("<") or any(p in n for p in ("=", "<<", "\r", "\n", "\0"))]
        unencodable = [v for n, v in pairs if not (n + v).isascii() and _unencodable(n + v)]
        assert bad or unencodable, "a representable record was refused"
        return
    assert parse_file_command(text) == pairs


@pytest.mark.parametrize("name", ["A<", "<", "\ufeffA<"])
def test_a_name_touching_the_heredoc_marker_is_refused(name: str) -> None:
    """Finding 4 (fixed): a trailing '<' would meet the delimiter's '<<' and the runner would misparse it."""
    with pytest.raises(ValidationError):
        file_command_block([(name, "value"), ("NEXT", "next")])


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@FUZZ
@given(hs.secrets, plan_options)
def test_plan_exports_round_trip_through_the_runner(secrets: dict[str, str], options: dict[str, Any]) -> None:
    """Fetched secrets → plan → GITHUB_ENV and GITHUB_OUTPUT texts → the runner's view: exact, or refused."""
    plan = plan_or_refusal(secrets, options)
    if isinstance(plan, EnkryptifyError):
        return
    exported_from_secrets(plan, secrets)
    try:
        env_text = file_command_block(env_pairs(plan))
        output_text = file_command_block(output_pairs(plan, per_secret=True))
    except ValidationError:
        upper = [n.upper() for n in plan.names]
        lower = [n.lower() for n in plan.names] + ["names", "count"]
        assert "NODE_OPTIONS" in upper or len(set(lower)) < len(lower), "refused without a reason"
        return
    env = RunnerEnv.from_text(env_text)
    assert not env.errors
    assert env.values == plan.as_dict()
    outputs = RunnerOutputs.from_text(output_text).as_dict()
    assert outputs == {"names": json.dumps(plan.names), "count": str(len(plan.items)), **plan.as_dict()}


@FUZZ
@given(hs.secrets, st.booleans())
def test_masks_hide_every_value_and_every_line_a_later_step_prints(secrets: dict[str, str], parse_json: bool) -> None:
    """Replay the action's add-masks, then log what the action and a later step would print."""
    plan = plan_or_refusal(secrets, {"parse_json": parse_json, "allow_dangerous_names": True})
    if isinstance(plan, EnkryptifyError):
        return
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        gh_action.Masker().register(plan_masks(plan))
        gh_action._log_plan(plan, SimpleNamespace(dry_run=False, environment_source="option"))  # type: ignore[arg-type]
    assert_only_our_commands(replay_log(out.getvalue()))  # no name forms a command under either syntax
    later = []  # `echo "$NAME"`, `echo "$JSON" | jq -r .field` in a later step
    for item in plan.items:
        later.append(item.value)
        with contextlib.suppress(ValueError, RecursionError):
            later.extend(_json_strings(json.loads(item.value)))
    log = replay_log(out.getvalue() + "\n".join(later) + "\n").text
    for item in plan.items:
        for part in [item.value, *lines_of(item.value)]:
            if len(net_trim(part)) >= 4:
                shown = part in log
                assert not shown, f"{item.name}: a value or line of 4+ characters is unmasked"
    for item in plan.items:
        with contextlib.suppress(ValueError, RecursionError):
            for leaf in _json_strings(json.loads(item.value)):
                for part in [leaf, *lines_of(leaf)]:
                    if len(net_trim(part)) >= 4:
                        shown = part in log
                        assert not shown, f"{item.name}: a JSON field is unmasked"


def _json_strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for child in node.values() for s in _json_strings(child)]
    if isinstance(node, list):
        return [s for child in node for s in _json_strings(child)]
    return [node] if isinstance(node, str) else []


# --- the whole action in-process: fetch over the mock transport, mask, write, summary ---------


@contextlib.contextmanager
def captured_streams() -> Iterator[tuple[io.BytesIO, io.BytesIO]]:
    """stdout/stderr as in a container (UTF-8, strict, with a .buffer the action writes bytes to)."""
    raw_out, raw_err = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(raw_out, encoding="utf-8", errors="strict", newline="\n", write_through=True)
    err = io.TextIOWrapper(raw_err, encoding="utf-8", errors="backslashreplace", newline="\n", write_through=True)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield raw_out, raw_err
    finally:
        out.flush()
        err.flush()
        out.detach()
        err.detach()


def fake_with(secrets: dict[str, str]) -> FakeEnkryptify:
    fake = FakeEnkryptify()
    fake.rate_limits = False
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production", "staging"))
    for number, (name, value) in enumerate(secrets.items()):
        fake.add_secret(prj, name, {"production": value, "staging": f"staging-only-{number}"})
    fake.add_token(TOKEN)
    return fake


def run_in_process(fake: FakeEnkryptify, dirs: RunnerDirs, inputs: dict[str, str]) -> RunCapture:
    env = dirs.environ(
        {"workspace": "acme", "project": "web-app", "environment": "production", "api-url": MOCK_BASE_URL, **inputs},
        extra={"ENKRYPTIFY_TOKEN": TOKEN},
    )
    with mock.patch.dict(os.environ, env), captured_streams() as (out, err):
        code = gh_action.run_action(env, transport=mock_transport(fake))
    return dirs.capture(stdout=out.getvalue().decode("utf-8"), stderr=err.getvalue().decode("utf-8"), exit_code=code)


@FUZZ
@given(hs.secrets, plan_options, st.booleans(), st.booleans())
def test_the_action_in_process_exports_exactly_or_nothing_and_logs_no_value(
    secrets: dict[str, str], options: dict[str, Any], export_outputs: bool, export_file: bool
) -> None:
    check_action_run(secrets, options, export_outputs, export_file, run_in_process)


def action_inputs(options: dict[str, Any], export_outputs: bool, export_file: bool) -> dict[str, str]:
    inputs = {key.replace("_", "-"): str(v).lower() if isinstance(v, bool) else v for key, v in options.items()}
    return inputs | {"export-outputs": str(export_outputs).lower(), "export-file": ".env.ci" if export_file else ""}


def check_action_run(
    secrets: dict[str, str],
    options: dict[str, Any],
    export_outputs: bool,
    export_file: bool,
    runner: Callable[[FakeEnkryptify, RunnerDirs, dict[str, str]], RunCapture],
) -> None:
    """Run the action (in-process or as a subprocess) and hold the outcome to the plan the core builds."""
    fake = fake_with(secrets)
    with tempfile.TemporaryDirectory(prefix="ek-fuzz-") as root:
        dirs = RunnerDirs(Path(root))
        run = runner(fake, dirs, action_inputs(options, export_outputs, export_file))
        dotenv = dirs.workspace / ".env.ci"
        file_text = dotenv.read_text(encoding="utf-8") if dotenv.exists() else None
        file_mode = dotenv.stat().st_mode & 0o777 if dotenv.exists() else None
        leftovers = [p.name for p in dirs.workspace.iterdir() if p.name.startswith(".enkryptify-")]

    plan = plan_or_refusal(secrets, options)
    expected_env: dict[str, str] | None = None
    expected_outputs: dict[str, str] | None = None
    error: EnkryptifyError | None = plan if isinstance(plan, EnkryptifyError) else None
    if isinstance(plan, ExportPlan):
        try:
            env_pairs(plan)
            output_pairs(plan, per_secret=export_outputs)
            if export_file:
                render_dotenv(plan)  # refuses values no dotenv reader would read back exactly
        except ValidationError as exc:
            error = exc
    if error is None and isinstance(plan, ExportPlan):
        expected_env = plan.as_dict()
        expected_outputs = {"names": json.dumps(plan.names), "count": str(len(plan.items))}
        expected_outputs |= plan.as_dict() if export_outputs else {}
        destinations = ["environment variables"] + ["step outputs"] * export_outputs
        file_name = ".env.ci" if export_file else None
        summary = render_summary(plan, destinations=destinations, dry_run=False, export_file=file_name) + "\n"
        assert run.exit_code == 0, run.annotations("error")
        assert (file_text, file_mode) == ((render_dotenv(plan), 0o600) if export_file else (None, None))
    else:
        assert error is not None
        summary = render_error_summary(error) + "\n"
        assert run.exit_code == error.exit_code, run.annotations("error")
        assert file_text is None, "a refused run wrote the export file"
    assert not leftovers, "a temporary file was left behind"
    assert run.files["GITHUB_STEP_SUMMARY"] == summary, "the step summary differs (it must hold names only)"

    # Values that are also public text (a name, the target) are not leaks; everything else must stay hidden.
    public = summary + run.files["GITHUB_STATE"] + COMMAND_TEXT + "\n".join(map(printable, secrets))  # names
    hidden = {
        f"secret {i}": value
        for i, value in enumerate(secrets.values())
        if not any(part in public for part in [value, *lines_of(value)] if len(net_trim(part)) >= 4)
    }
    credentials = {"token": TOKEN} | {f"jwt {i}": jwt for i, jwt in enumerate(fake.jwts)}
    assert_action_run(
        run,
        secrets=hidden | credentials,
        expected_env=expected_env,
        expected_outputs=expected_outputs,
        credentials=credentials,
        require_write_markers=False,
    )
