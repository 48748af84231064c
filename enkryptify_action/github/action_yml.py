"""Generate action.yml from the options table: ``python -m enkryptify_action.github.action_yml > action.yml``.

A test regenerates it and fails when the committed file differs, so inputs cannot drift from the
options the code reads.
"""

from __future__ import annotations

import json
import sys

from ..options import GITHUB, WORKFLOW_ONLY_NOTE, Option, for_platform

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


def render() -> str:
    lines = [HEADER.rstrip("\n"), "inputs:"]
    for option in for_platform(GITHUB):
        lines += [
            f"  {option.name}:",
            f"    description: {_quote(input_description(option))}",
            "    required: false",
            f"    default: {_quote(input_default(option))}",
        ]
    lines.append("outputs:")
    for name, description in OUTPUTS.items():
        lines += [f"  {name}:", f"    description: {_quote(description)}"]
    return "\n".join(lines) + "\n" + RUNS


if __name__ == "__main__":
    sys.stdout.write(render())
