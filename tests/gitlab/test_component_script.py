"""The fetch job's shell script, run with `sh` and a stub `enkryptify-fetch` that records its arguments.

Fast and without gitlab-ci-local: which inputs become which flags. The variables are what GitLab sets
from the inputs (EK_INPUT_*); booleans and numbers arrive as text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from enkryptify_action.options import GITLAB, for_platform
from tests.gitlab.gcl import COMPONENT_DIR

TEMPLATE = COMPONENT_DIR / "templates" / "fetch-secrets.yml"

STUB = f"""#!{sys.executable}
import json, os, sys
json.dump({{"argv": sys.argv[1:], "token": os.environ.get("ENKRYPTIFY_TOKEN")}}, open(os.environ["STUB_OUT"], "w"))
sys.exit(int(os.environ.get("STUB_EXIT", "0")))
"""


def defaults() -> dict[str, str]:
    """EK_INPUT_* as GitLab renders the inputs' defaults (gitlab-ci-local prints 10.0 as 10)."""
    env = {}
    for option in for_platform(GITLAB):
        text = option.default_text()
        env["EK_INPUT_" + option.dest.upper()] = text.removesuffix(".0")
    return env


def run_script(tmp_path: Path, **overrides: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_script_no_call(tmp_path, **overrides)
    call = json.loads((tmp_path / "call.json").read_text(encoding="utf-8"))
    return result, call


def run_script_no_call(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    _header, body = yaml.safe_load_all(TEMPLATE.read_text(encoding="utf-8"))
    script = body["$[[ inputs.job-name ]]"]["script"][0]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "enkryptify-fetch"
    stub.write_text(STUB, encoding="utf-8")
    stub.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STUB_OUT": str(tmp_path / "call.json"),
        "ENKRYPTIFY_TOKEN_VARIABLE": "ENKRYPTIFY_TOKEN",
        "ENKRYPTIFY_DOTENV_FILE": "out.env",
        "ENKRYPTIFY_TOKEN": "ek_live_stub",
        **defaults(),
        **overrides,
    }
    return subprocess.run(
        ["sh", "-eu", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30, check=False
    )


DEFAULT_FLAGS = [
    "--name-case", "preserve", "--invalid-names", "sanitize", "--no-allow-dangerous-names", "--no-parse-json",
    "--no-personal-values", "--auth", "exchange", "--api-url", "https://api.enkryptify.com", "--timeout", "10",
    "--retries", "4", "--no-dry-run", "--max-variables", "20", "--max-size", "5120",
]  # fmt: skip


def test_defaults_are_passed_too(tmp_path: Path) -> None:
    """An input at its default is still an input: it wins over .enkryptify.yml and ENKRYPTIFY_* variables."""
    result, call = run_script(tmp_path)
    assert result.returncode == 0, result.stderr
    assert call["argv"] == ["pull", "--format", "gitlab", "--output", "out.env", *DEFAULT_FLAGS]
    assert call["token"] == "ek_live_stub"


def test_explicit_default_api_url_is_pinned(tmp_path: Path) -> None:
    """`api-url: https://api.enkryptify.com` in `include: inputs:` reaches the CLI as a flag (issue 11)."""
    _, call = run_script(tmp_path, EK_INPUT_API_URL="https://api.enkryptify.com")
    argv = call["argv"]
    assert argv[argv.index("--api-url") + 1] == "https://api.enkryptify.com"


def test_empty_inputs_are_not_passed(tmp_path: Path) -> None:
    _, call = run_script(tmp_path, EK_INPUT_API_URL="", EK_INPUT_TIMEOUT="")
    assert "--api-url" not in call["argv"] and "--timeout" not in call["argv"]


def test_float_input_is_passed_as_written(tmp_path: Path) -> None:
    _, call = run_script(tmp_path, EK_INPUT_TIMEOUT="10.0")
    assert call["argv"][call["argv"].index("--timeout") + 1] == "10.0"


def test_bad_boolean_stops_before_the_cli(tmp_path: Path) -> None:
    result = run_script_no_call(tmp_path, EK_INPUT_PARSE_JSON="maybe")
    assert result.returncode == 2
    assert "The input parse-json must be true or false." in result.stderr


def test_inputs_become_flags(tmp_path: Path) -> None:
    _, call = run_script(
        tmp_path,
        EK_INPUT_PROJECT="my project",
        EK_INPUT_SECRETS="DB_*\n!DB_ADMIN\nAPI=API_KEY",
        EK_INPUT_NAME_CASE="upper",
        EK_INPUT_PARSE_JSON="true",
        EK_INPUT_TIMEOUT="2.5",
        EK_INPUT_MAX_VARIABLES="50",
        EK_INPUT_MAX_SIZE="20000",
    )
    assert call["argv"][5:] == [
        "--project",
        "my project",
        "--secrets",
        "DB_*\n!DB_ADMIN\nAPI=API_KEY",
        "--name-case",
        "upper",
        "--invalid-names",
        "sanitize",
        "--no-allow-dangerous-names",
        "--parse-json",
        "--no-personal-values",
        "--auth",
        "exchange",
        "--api-url",
        "https://api.enkryptify.com",
        "--timeout",
        "2.5",
        "--retries",
        "4",
        "--no-dry-run",
        "--max-variables",
        "50",
        "--max-size",
        "20000",
    ]


def test_token_from_another_variable(tmp_path: Path) -> None:
    _, call = run_script(
        tmp_path, ENKRYPTIFY_TOKEN_VARIABLE="ENKRYPTIFY_TOKEN_PRODUCTION", ENKRYPTIFY_TOKEN_PRODUCTION="ek_live_prod"
    )
    assert call["token"] == "ek_live_prod"


@pytest.mark.parametrize("exit_code", ["0", "6"])
def test_exit_code_and_missing_token_hint(tmp_path: Path, exit_code: str) -> None:
    result, call = run_script(tmp_path, ENKRYPTIFY_TOKEN_VARIABLE="UNSET_TOKEN_VAR", STUB_EXIT=exit_code)
    assert result.returncode == int(exit_code)
    assert call["token"] == ""
    assert "The CI/CD variable UNSET_TOKEN_VAR is empty or unset" in result.stderr
    assert "section_end:" in result.stdout
