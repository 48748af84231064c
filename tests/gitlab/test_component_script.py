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
    result = subprocess.run(
        ["sh", "-eu", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30, check=False
    )
    call = json.loads((tmp_path / "call.json").read_text(encoding="utf-8"))
    return result, call


def test_defaults_pass_no_option_flags(tmp_path: Path) -> None:
    result, call = run_script(tmp_path)
    assert result.returncode == 0, result.stderr
    assert call["argv"] == ["pull", "--format", "gitlab", "--output", "out.env"]
    assert call["token"] == "ek_live_stub"


def test_float_default_written_by_gitlab_is_still_a_default(tmp_path: Path) -> None:
    _, call = run_script(tmp_path, EK_INPUT_TIMEOUT="10.0")
    assert "--timeout" not in call["argv"]


def test_non_defaults_become_flags(tmp_path: Path) -> None:
    _, call = run_script(
        tmp_path,
        EK_INPUT_PROJECT="my project",
        EK_INPUT_SECRETS="DB_*\n!DB_ADMIN\nAPI=API_KEY",
        EK_INPUT_NAME_CASE="upper",
        EK_INPUT_PARSE_JSON="true",
        EK_INPUT_TIMEOUT="2.5",
        EK_INPUT_MAX_VARIABLES="50",
    )
    assert call["argv"][5:] == [
        "--project",
        "my project",
        "--secrets",
        "DB_*\n!DB_ADMIN\nAPI=API_KEY",
        "--name-case",
        "upper",
        "--parse-json",
        "--timeout",
        "2.5",
        "--max-variables",
        "50",
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
