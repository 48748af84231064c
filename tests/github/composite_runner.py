"""Run a composite action's steps the way the GitHub runner does, on this machine (Linux).

Emulated from actions/runner @258d6c85:

* src/Runner.Worker/Handlers/CompositeActionHandler.cs: the steps run in order with their own
  ``steps`` scope; ``github.action_path`` is the action's folder; the first failing step stops the
  rest (their default ``if:`` is ``success()``); the action's ``outputs.*.value`` are evaluated
  against that scope at the end (``ProcessOutputs``), and only those reach the workflow.
* src/Runner.Worker/Handlers/ScriptHandlerHelpers.cs: ``shell: bash`` runs
  ``bash --noprofile --norc -e -o pipefail <file>.sh``.
* src/Runner.Worker/FileCommandManager.cs: every step gets fresh, empty file-command files; its
  GITHUB_OUTPUT becomes ``steps.<id>.outputs``.
* The runner sets no ``INPUT_*`` for composite steps: they only see ``${{ inputs.* }}``.

Only the expressions the composite action uses are evaluated (``inputs.*``, ``github.action_path``,
``runner.temp``, ``steps.<id>.outputs.<name>``); anything else raises, so a new expression in the
action fails the tests until the emulation knows it. ``actions/setup-python`` is not run: its
``python-path`` output is this machine's base Python.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.github.action_harness import FILE_COMMANDS, REPO, RunCapture, RunnerDirs, capture_files
from tests.github.runner_emulation import RunnerOutputs

COMPOSITE = REPO / "any-runner"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
BASH = ("bash", "--noprofile", "--norc", "-e", "-o", "pipefail")
# What the emulation implements; `if:`, `working-directory:`, `continue-on-error:` ... would need more.
STEP_KEYS = frozenset({"name", "id", "uses", "with", "shell", "env", "run"})


class UnsupportedExpression(Exception):
    """The composite action uses an expression this emulation does not evaluate."""


def base_python() -> str:
    """The interpreter a venv of this test run is based on (setup-python's python-path stand-in)."""
    return str(getattr(sys, "_base_executable", sys.executable))


def load_manifest(folder: Path = COMPOSITE) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((folder / "action.yml").read_text(encoding="utf-8"))
    return manifest


def evaluate(text: str, contexts: Mapping[str, Any]) -> str:
    """Replace each ``${{ a.b.c }}`` by its value (missing → empty string, as the runner does)."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+", expression):
            raise UnsupportedExpression(expression)
        head, *path = expression.split(".")
        if head not in contexts:
            raise UnsupportedExpression(expression)
        current: Any = contexts[head]
        for part in path:
            current = current.get(part, "") if isinstance(current, Mapping) else ""
        return str(current)

    return EXPRESSION.sub(value, text)


@dataclass
class CompositeRun:
    """What the composite action left: each run step's capture, the action's outputs, its exit code."""

    steps: dict[str, RunCapture] = field(repr=False)
    outputs: dict[str, str] = field(repr=False)
    exit_code: int
    failed_step: str | None
    setup_python: dict[str, str] = field(default_factory=dict)

    @property
    def fetch(self) -> RunCapture:
        return self.steps["fetch"]


def run_composite(
    dirs: RunnerDirs,
    inputs: Mapping[str, str],
    *,
    job_env: Mapping[str, str] | None = None,
    folder: Path = COMPOSITE,
    timeout: float = 180,
) -> CompositeRun:
    """Run every step of ``folder/action.yml`` with ``inputs`` (defaults filled in) in ``dirs``."""
    manifest = load_manifest(folder)
    assert manifest["runs"]["using"] == "composite"
    declared = manifest["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"undeclared inputs {sorted(unknown)}"
    input_values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    input_values.update(inputs)
    base_env = {key: value for key, value in dirs.host_environ({}).items() if not key.startswith("INPUT_")}
    base_env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    base_env.update(job_env or {})
    steps_context: dict[str, dict[str, dict[str, str]]] = {}
    contexts: dict[str, Any] = {
        "inputs": input_values,
        "github": {"action_path": str(folder)},
        "runner": {"temp": str(dirs.temp)},
        "steps": steps_context,
    }
    captures: dict[str, RunCapture] = {}
    setup_python: dict[str, str] = {}
    for index, step in enumerate(manifest["runs"]["steps"]):
        step_id = step.get("id", f"__step{index}")
        unknown_keys = set(step) - STEP_KEYS
        assert not unknown_keys, f"step {step_id}: the emulation does not know {sorted(unknown_keys)}"
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@"), step["uses"]
            setup_python = {key: evaluate(str(value), contexts) for key, value in step.get("with", {}).items()}
            steps_context[step_id] = {"outputs": {"python-path": base_python(), "python-version": sys.version}}
            continue
        assert step.get("shell") == "bash", f"step {step_id} must say shell: bash"
        capture = _run_bash_step(dirs, step, contexts, base_env, timeout)
        captures[step_id] = capture
        steps_context[step_id] = {"outputs": RunnerOutputs.from_text(capture.files["GITHUB_OUTPUT"]).as_dict()}
        if capture.exit_code != 0:
            return CompositeRun(captures, {}, capture.exit_code, step_id, setup_python)
    outputs = {name: evaluate(str(spec.get("value", "")), contexts) for name, spec in manifest["outputs"].items()}
    return CompositeRun(captures, outputs, 0, None, setup_python)


def _run_bash_step(
    dirs: RunnerDirs, step: Mapping[str, Any], contexts: Mapping[str, Any], base_env: Mapping[str, str], timeout: float
) -> RunCapture:
    commands = dirs.temp / "_runner_file_commands"
    files = {var: commands / f"{prefix}_{uuid.uuid4()}" for var, prefix in FILE_COMMANDS.items()}
    for path in files.values():
        path.write_bytes(b"")
    env = dict(base_env)
    env.update({var: str(path) for var, path in files.items()})
    env.update({str(key): evaluate(str(value), contexts) for key, value in step.get("env", {}).items()})
    script = dirs.temp / f"{uuid.uuid4()}.sh"
    script.write_text(evaluate(step["run"], contexts), encoding="utf-8")
    result = subprocess.run(
        [*BASH, str(script)], env=env, cwd=dirs.workspace, capture_output=True, timeout=timeout, check=False
    )
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    return capture_files(stdout=stdout, stderr=stderr, exit_code=result.returncode, files=files)
