"""Generate both action manifests from the options table.

    python -m enkryptify_action.github.action_yml > action.yml                         # the container action
    python -m enkryptify_action.github.action_yml --composite > any-runner/action.yml  # the composite action

Tests regenerate them and fail when a committed file differs, so inputs cannot drift from the
options the code reads, and the two actions cannot drift from each other.
"""

from __future__ import annotations

import json
import sys

from ..options import GITHUB, WORKFLOW_ONLY_NOTE, Option, for_platform
from . import host_paths
from .composite import COMPOSITE, RUNTIME_VAR

# Export toggles exist only as action inputs, so action.yml carries their real defaults. Every other
# option may also come from ENKRYPTIFY_* or the config file; an input default would hide those
# (an empty input means "not given"), so its default is empty and the description states the effective one.
GITHUB_ONLY_DEFAULTS = frozenset({"export-env", "export-outputs", "export-file", "summary"})

# Console scripts installed in the image (pyproject [project.scripts]). The post step needs its own
# executable: the runner passes the same `args` to every stage (ContainerActionHandler.cs).
ENTRYPOINT = "enkryptify-fetch"
POST_ENTRYPOINT = "enkryptify-fetch-github-post"

HEADER = """\
# Generated from enkryptify_action/options.py by `python -m enkryptify_action.github.action_yml > action.yml`.
# Do not edit by hand: tests/github/test_action_yml.py fails when this file is out of date.
name: Enkryptify fetch secrets
description: Fetch secrets from Enkryptify into masked environment variables, step outputs or a dotenv file.
author: Enkryptify
branding:
  icon: lock
  color: blue
"""

OUTPUTS = {
    "names": 'JSON array of the exported variable names (never values), e.g. ["API_KEY","DB_URL"].',
    "count": "Number of exported secrets.",
}

RUNS = f"""\
runs:
  using: docker
  image: Dockerfile
  # Inputs reach the program as INPUT_* variables; args stay empty so no secret is ever on a command line.
  entrypoint: {ENTRYPOINT}
  args: []
  # Deletes the export-file dotenv file when the job ends (post-if defaults to always()).
  post-entrypoint: {POST_ENTRYPOINT}
"""


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def input_default(option: Option) -> str:
    return option.default_text() if option.name in GITHUB_ONLY_DEFAULTS else ""


def input_description(option: Option) -> str:
    note = f" {WORKFLOW_ONLY_NOTE}" if option.workflow_only else ""
    if option.name in GITHUB_ONLY_DEFAULTS or option.name == "token":
        return option.description + note
    sources = option.env_var if option.workflow_only else f"{option.env_var} or the config file"
    parts = [option.description]
    if option.choices:
        parts.append("One of: " + ", ".join(option.choices) + ".")
    default = option.default_text()
    if default or "Empty:" not in option.description:
        parts.append(f"Default: {default or 'empty'}.")
    parts.append(f"An empty input falls back to {sources}.")
    return " ".join(parts) + note


def _inputs_and_outputs(header: str, *, output_values: bool) -> list[str]:
    lines = [header.rstrip("\n"), "inputs:"]
    for option in for_platform(GITHUB):
        lines += [
            f"  {option.name}:",
            f"    description: {_quote(input_description(option))}",
            "    required: false",
            f"    default: {_quote(input_default(option))}",
        ]
    lines += [  # not an option: the runner fills it in (github/host_paths.py)
        f"  {host_paths.INPUT}:",
        f"    description: {_quote(host_paths.DESCRIPTION)}",
        "    required: false",
        f"    default: {_quote(host_paths.DEFAULT)}",
    ]
    lines.append("outputs:")
    for name, description in OUTPUTS.items():
        lines += [f"  {name}:", f"    description: {_quote(description)}"]
        if output_values:
            lines.append(f"    value: ${{{{ steps.{FETCH_STEP}.outputs.{name} }}}}")
    return lines


def render() -> str:
    """action.yml: the container action."""
    return "\n".join(_inputs_and_outputs(HEADER, output_values=False)) + "\n" + RUNS


# --- the composite action (any-runner/action.yml) ----------------------------------------------

COMPOSITE_DIR = "any-runner"
# actions/setup-python v5.6.0 (the v5 tag's commit; verified in the actions/setup-python repository).
# Dependabot updates the pin in any-runner/action.yml (.github/dependabot.yml); copy it here in that PR.
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"
SETUP_PYTHON_VERSION = "v5.6.0"
PYTHON_VERSION = "3.12"
VENV_DIR = "enkryptify-fetch-secrets-venv"
FETCH_STEP = "fetch"

COMPOSITE_HEADER = """\
# Generated from enkryptify_action/options.py by
# `python -m enkryptify_action.github.action_yml --composite > any-runner/action.yml`.
# Do not edit by hand: tests/github/test_composite_action.py fails when this file is out of date.
name: Enkryptify fetch secrets (any runner)
description: >-
  Fetch secrets from Enkryptify into masked environment variables, step outputs or a dotenv file; a composite
  action for macOS, Windows and Docker-less Linux runners.
author: Enkryptify
branding:
  icon: lock
  color: blue
"""

PTH_WRITER = (
    "import pathlib, sys, sysconfig; "
    'pathlib.Path(sysconfig.get_path("purelib"), "enkryptify_action.pth")'
    '.write_text(str(pathlib.Path(sys.argv[1]).resolve().parent) + "\\n", encoding="utf-8")'
)
# The runner runs each step as `bash --noprofile --norc -e -o pipefail <file>` (ScriptHandlerHelpers.cs).
# The venv is reused when it was built from this action folder and this lock file (a second use in a job).
INSTALL_SCRIPT = f"""\
if [ -z "$ENKRYPTIFY_BASE_PYTHON" ]; then
  echo "::error title=Enkryptify::actions/setup-python reported no python-path."
  exit 1
fi
# pip runs the venv's interpreter without -I: the job's PYTHONHOME, PYTHONPATH, ... must not reach it.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^PYTHON' || true)
lock="$ENKRYPTIFY_ACTION_PATH/../requirements/runtime.txt"
venv="$RUNNER_TEMP/{VENV_DIR}"
stamp="$venv/enkryptify-ready"
want="$(printf '%s\\n' "$ENKRYPTIFY_ACTION_PATH" "$ENKRYPTIFY_BASE_PYTHON"; cat "$lock")"
fresh=false
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  rm -rf "$venv"
  "$ENKRYPTIFY_BASE_PYTHON" -I -m venv --without-pip "$venv"
  fresh=true
fi
# Windows venvs keep the interpreter in Scripts\\, the others in bin/.
if [ -f "$venv/Scripts/python.exe" ]; then python="$venv/Scripts/python.exe"; else python="$venv/bin/python"; fi
if [ "$fresh" = true ]; then
  "$ENKRYPTIFY_BASE_PYTHON" -I -m pip --python "$python" install --quiet --disable-pip-version-check --no-input \\
    --require-hashes --only-binary=:all: --no-deps -r "$lock"
  # The program is this repository's enkryptify_action package, put on the venv's path by a .pth file.
  "$python" -I -c '{PTH_WRITER}' "$ENKRYPTIFY_ACTION_PATH"
  printf '%s' "$want" > "$stamp"
fi
echo "python=$python" >> "$GITHUB_OUTPUT"
"""

# -I: no PYTHON* variables, no user site, no working directory on sys.path (a repository cannot shadow a module).
FETCH_SCRIPT = '"$ENKRYPTIFY_PYTHON" -I -m enkryptify_action\n'


def _block(text: str, indent: str) -> list[str]:
    return [indent + line if line else "" for line in text.rstrip("\n").split("\n")]


def render_composite() -> str:
    """any-runner/action.yml: the same inputs and outputs, run by a Python from the runner's toolcache."""
    lines = _inputs_and_outputs(COMPOSITE_HEADER, output_values=True)
    lines += [
        "runs:",
        "  using: composite",
        "  steps:",
        "    # The toolcache's Python; update-environment: false leaves the job's own Python and PATH alone.",
        "    - name: Set up Python for Enkryptify",
        "      id: python",
        f"      uses: {SETUP_PYTHON} # {SETUP_PYTHON_VERSION}",
        "      with:",
        f'        python-version: "{PYTHON_VERSION}"',
        '        update-environment: "false"',
        "    # Only the hash-locked wheels of requirements/runtime.txt, into a virtual environment under RUNNER_TEMP.",
        "    - name: Install Enkryptify's dependencies",
        "      id: venv",
        "      shell: bash",
        "      env:",
        "        ENKRYPTIFY_BASE_PYTHON: ${{ steps.python.outputs.python-path }}",
        "        ENKRYPTIFY_ACTION_PATH: ${{ github.action_path }}",
        "      run: |",
        *_block(INSTALL_SCRIPT, "        "),
        "    # Inputs reach the program as the same INPUT_* variables the container action gets (hyphens kept).",
        "    - name: Fetch secrets from Enkryptify",
        f"      id: {FETCH_STEP}",
        "      shell: bash",
        "      env:",
        f"        {RUNTIME_VAR}: {COMPOSITE}",
        "        ENKRYPTIFY_PYTHON: ${{ steps.venv.outputs.python }}",
    ]
    lines += [f"        {option.github_input_var}: ${{{{ inputs.{option.name} }}}}" for option in for_platform(GITHUB)]
    lines += ["      run: |", *_block(FETCH_SCRIPT, "        ")]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_composite() if sys.argv[1:] == ["--composite"] else render())
