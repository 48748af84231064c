"""Unit tests of the GitHub modules: inputs, masking, exports, summary, action.yml."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from enkryptify_action.config import resolve_settings
from enkryptify_action.errors import UsageError, ValidationError
from enkryptify_action.github import action_yml, host_paths
from enkryptify_action.github.exports import export_file_path, file_command_block, output_pairs
from enkryptify_action.github.inputs import raw_token_candidates, read_inputs
from enkryptify_action.github.masking import is_blank, mask_parts, net_trim, plan_masks
from enkryptify_action.github.summary import md, render_error_summary, render_summary
from enkryptify_action.options import GITHUB, for_platform
from enkryptify_action.plan import ExportItem, ExportPlan, Note, Target
from tests.github.runner_emulation import parse_file_command

REPO = Path(__file__).resolve().parents[2]
TARGET = Target(workspace="acme", project="web-app", environment="production", environment_id="e1")


def plan_of(**values: str) -> ExportPlan:
    return ExportPlan(target=TARGET, items=tuple(ExportItem(n, v, n) for n, v in values.items()))


# --- inputs -----------------------------------------------------------------------------------


def test_inputs_keep_hyphens_and_feed_settings_with_strict_booleans(tmp_path: Path) -> None:
    environ = {"INPUT_NAME-CASE": "upper", "INPUT_EXPORT-OUTPUTS": "true", "INPUT_TOKEN": " ek_live_abc "}
    inputs = read_inputs(environ)
    assert set(inputs) == {o.name for o in for_platform(GITHUB)}
    assert inputs["name-case"] == "upper" and inputs["project"] == ""
    settings = resolve_settings(inputs=inputs, environ={}, cwd=tmp_path)
    assert settings.name_case == "upper" and settings.export_outputs is True and settings.token == "ek_live_abc"
    with pytest.raises(UsageError, match="export-env"):
        resolve_settings(inputs=read_inputs({"INPUT_EXPORT-ENV": "ja"}), environ={}, cwd=tmp_path)


def test_empty_inputs_fall_back_to_enkryptify_env(tmp_path: Path) -> None:
    settings = resolve_settings(
        inputs=read_inputs({"INPUT_PROJECT": ""}), environ={"ENKRYPTIFY_PROJECT": "from-env"}, cwd=tmp_path
    )
    assert settings.project == "from-env"


def test_token_candidates_are_trimmed_and_skip_blanks() -> None:
    assert raw_token_candidates({"INPUT_TOKEN": "  ", "ENKRYPTIFY_TOKEN": " ek_live_x\n"}) == ["ek_live_x"]


# --- masking ----------------------------------------------------------------------------------


def test_mask_parts_whole_value_only_the_runner_splits_lines_itself() -> None:
    assert mask_parts("first line\r\nab\n  third  \n") == ["first line\r\nab\n  third  \n"]
    assert mask_parts("") == [] and mask_parts(" \n ") == [] and mask_parts("\u3000\x85\u2029") == []
    assert mask_parts("x") == ["x"]


@pytest.mark.parametrize("value", ["\x1c", "\x1d\x1e\x1f", " \x1f "])
def test_values_of_separator_controls_are_not_blank_to_the_runner(value: str) -> None:
    """Python's strip() drops U+001C..U+001F, .NET's IsNullOrWhiteSpace does not: they must be masked."""
    assert not is_blank(value) and mask_parts(value) == [value]
    assert net_trim(" \x1cx\x1f\u2028") == "\x1cx\x1f"


def test_mask_parts_json_leaves_as_written_and_normalized() -> None:
    parts = mask_parts('{"user": "admin", "n": 1.50, "deep": [{"k": "multi\\nline-two"}], "ok": true, "s": "ab"}')
    assert {"admin", "1.50", "multi\nline-two"} <= set(parts)
    assert "1.5" not in parts  # shorter than 4
    assert "true" not in parts and "ab" not in parts


def test_plan_masks_are_unique_and_in_order() -> None:
    assert plan_masks(plan_of(A="same-value", B="same-value", C="other-value")) == ["same-value", "other-value"]


# --- exports ----------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True), st.text()), max_size=6))
def test_file_command_block_round_trips_through_the_runner_parser(pairs: list[tuple[str, str]]) -> None:
    assert parse_file_command(file_command_block(pairs)) == pairs


def test_file_command_block_survives_values_that_look_like_records() -> None:
    tricky = "x\nghadelimiter_0\nEOF\nB=2\nC<<D\n"
    assert parse_file_command(file_command_block([("A", tricky)])) == [("A", tricky)]


@pytest.mark.parametrize("name", ["A=B", "A<<B", "A\nB", ""])
def test_file_command_block_refuses_unframable_names(name: str) -> None:
    with pytest.raises(ValidationError):
        file_command_block([(name, "v")])


def test_outputs_refuse_case_insensitive_clashes() -> None:
    with pytest.raises(ValidationError, match="Count"):
        output_pairs(plan_of(Count="1"), per_secret=True)
    with pytest.raises(ValidationError, match="Api and API"):
        output_pairs(plan_of(Api="1", API="2"), per_secret=True)
    assert output_pairs(plan_of(Count="1"), per_secret=False) == [("names", '["Count"]'), ("count", "1")]


def test_export_file_path_must_stay_under_workspace_or_runner_temp(tmp_path: Path) -> None:
    ws, temp = tmp_path / "ws", tmp_path / "temp"
    ws.mkdir()
    temp.mkdir()
    (ws / "link").symlink_to(tmp_path)
    env = {"GITHUB_WORKSPACE": str(ws), "RUNNER_TEMP": str(temp)}
    assert export_file_path(".env", env, tmp_path) == ws.resolve() / ".env"
    assert export_file_path(str(temp / "a.env"), env, tmp_path) == temp.resolve() / "a.env"
    for bad in ("../x.env", "/etc/x.env", "link/x.env", ".", str(temp)):
        with pytest.raises(UsageError):
            export_file_path(bad, env, tmp_path)


# --- summary ----------------------------------------------------------------------------------


def test_summary_lists_names_and_notes_escaped_and_never_values() -> None:
    plan = ExportPlan(
        target=TARGET,
        items=(ExportItem("A_B", "value-one", "a|b`c"),),
        renamed=(Note("a|b`c", "A_B", "sanitized"),),
        skipped=(Note("<x>", None, "not valid"),),
    )
    text = render_summary(plan, destinations=["environment variables"], dry_run=False)
    assert "value-one" not in text
    assert "| `A_B` | `a`\\|``b`c`` | `web-app` | `production` |" in text
    assert "- `<x>`: not valid" in text and "**Skipped:**" in text
    assert md("a\nb|c") == "a b\\|c"
    error = render_error_summary(ValidationError("Bad name X.", hint="Rename it."))
    assert "Secrets refused" in error and "**Hint:** Rename it." in error


# --- action.yml -------------------------------------------------------------------------------


def test_committed_action_yml_is_the_generated_one() -> None:
    committed = (REPO / "action.yml").read_text(encoding="utf-8")
    assert committed == action_yml.render(), "run: python -m enkryptify_action.github.action_yml > action.yml"


def test_action_yml_inputs_match_the_options_table() -> None:
    manifest = yaml.safe_load(action_yml.render())
    assert list(manifest["inputs"]) == [o.name for o in for_platform(GITHUB)] + [host_paths.INPUT]
    defaults = {name: spec["default"] for name, spec in manifest["inputs"].items()}
    assert defaults["export-env"] == "true" and defaults["export-outputs"] == "false"
    assert defaults["summary"] == "true" and defaults["export-file"] == ""
    assert all(defaults[o.name] == "" for o in for_platform(GITHUB) if o.name not in action_yml.GITHUB_ONLY_DEFAULTS)
    assert all(spec["description"] for spec in manifest["inputs"].values())
    runs = manifest["runs"]
    assert runs["using"] == "docker" and runs["args"] == [] and runs["post-entrypoint"]


def test_action_yml_entrypoints_are_console_scripts() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert project[action_yml.ENTRYPOINT] == "enkryptify_action.cli:main"
    assert project[action_yml.POST_ENTRYPOINT] == "enkryptify_action.github.post:main"


def test_action_yml_passes_the_schema_store_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_examples_are_valid_workflows_using_only_declared_inputs() -> None:
    examples = sorted((REPO / "examples" / "github").glob("*.yml"))
    assert examples
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, examples)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    declared = set(yaml.safe_load(action_yml.render())["inputs"])
    for path in examples:
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("enkryptify/fetch-secrets@"):
                    assert set(step.get("with", {})) <= declared, path.name
                    if step.get("with", {}).get("auth") == "oidc":  # tokenless: no token anywhere
                        assert "ENKRYPTIFY_TOKEN" not in step.get("env", {}), path.name
                        assert job.get("permissions", {}).get("id-token") == "write" or (
                            yaml.safe_load(path.read_text(encoding="utf-8"))["permissions"]["id-token"] == "write"
                        ), path.name
                    else:
                        assert step["env"]["ENKRYPTIFY_TOKEN"] == "${{ secrets.ENKRYPTIFY_TOKEN }}", path.name


def test_mask_parts_of_a_json_string_literal_include_its_text() -> None:
    """Long-profile fuzz (issue 13 work): ``"0000"`` is printed as ``0000`` by ``jq -r .``; the runner's own
    TrimDoubleQuotes only covers values longer than 8 characters."""
    assert mask_parts('"0000"') == ['"0000"', "0000"]
    assert mask_parts('"abc"') == ['"abc"']  # shorter than MIN_PART_LENGTH
    assert mask_parts('"not json') == ['"not json']


# --- host paths (github/host_paths.py) ----------------------------------------------------------

HOST_PATH_VECTORS = [
    # (INPUT_RUNNER-PATHS, GITHUB_WORKSPACE, RUNNER_TEMP, path the program wrote, path later steps see)
    (
        "workspace=/home/runner/_work/app/app\ntemp=/home/runner/_work/_temp",
        "/github/workspace",
        "/github/runner_temp",
        "/github/runner_temp/tls/key.pem",
        "/home/runner/_work/_temp/tls/key.pem",
    ),
    (
        "workspace=/home/runner/_work/app/app\ntemp=/home/runner/_work/_temp",
        "/github/workspace",
        "/github/runner_temp",
        "/github/workspace/certs/a.pem",
        "/home/runner/_work/app/app/certs/a.pem",
    ),
    # Outside a container (composite action, CLI): the same on both sides.
    (
        "",
        "/home/runner/_work/app/app",
        "/home/runner/_work/_temp",
        "/home/runner/_work/_temp/k",
        "/home/runner/_work/_temp/k",
    ),
    # Unevaluated defaults or relative values are ignored.
    ("workspace=${{ github.workspace }}", "/github/workspace", "", "/github/workspace/a", "/github/workspace/a"),
    ("workspace=relative/path", "/github/workspace", "", "/github/workspace/a", "/github/workspace/a"),
    # A path outside both roots is left alone.
    ("temp=/home/runner/_work/_temp", "/github/workspace", "/github/runner_temp", "/other/x", "/other/x"),
]


@pytest.mark.parametrize(("given", "workspace", "temp", "written", "seen"), HOST_PATH_VECTORS)
def test_host_path_mapper(given: str, workspace: str, temp: str, written: str, seen: str) -> None:
    env = {"INPUT_RUNNER-PATHS": given, "GITHUB_WORKSPACE": workspace, "RUNNER_TEMP": temp}
    env = {k: v for k, v in env.items() if v}
    assert host_paths.host_path_mapper(env)(Path(written)) == seen
