"""Run the action the way the GitHub runner does, and check a run against the runner's rules.

Reusable by the container test: build the environment with ``RunnerDirs.environ`` (passing the
container paths), run the program however you like, collect a ``RunCapture`` with
``RunnerDirs.capture``, then call ``assert_action_run``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.github.runner_emulation import (
    RunnerEnv,
    RunnerOutputs,
    parse_command,
    parse_file_command,
    replay_log,
    split_log_lines,
)
from tests.hardening import leakscan

REPO = Path(__file__).resolve().parents[2]
AUDIT_SITE = Path(__file__).resolve().parent / "audit_site"
WRITE_MARKER = "##enkryptify-test-write## "
FILE_COMMANDS = {
    "GITHUB_ENV": "set_env",
    "GITHUB_OUTPUT": "set_output",
    "GITHUB_STATE": "save_state",
    "GITHUB_PATH": "add_path",
    "GITHUB_STEP_SUMMARY": "step_summary",
}


def action_input_defaults() -> dict[str, str]:
    """Input name → default, from the committed action.yml (the runner fills these in)."""
    manifest = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return {name: str(spec.get("default", "")) for name, spec in manifest["inputs"].items()}


def input_env(inputs: Mapping[str, str]) -> dict[str, str]:
    """INPUT_* as the runner sets them: action.yml defaults filled in, hyphens kept, upper case."""
    values = action_input_defaults()
    values.update(inputs)
    return {"INPUT_" + name.replace(" ", "_").upper(): value for name, value in values.items()}


def capture_files(*, stdout: str, stderr: str, exit_code: int, files: Mapping[str, Path]) -> RunCapture:
    """A ``RunCapture`` from host paths of the file commands (for the container test: ``GITHUB_ENV`` → host file)."""
    run = RunCapture(
        stdout=stdout, stderr=stderr, exit_code=exit_code, files={var: _read(path) for var, path in files.items()}
    )
    leakscan.observe_action(run)  # no token, JWT or value in the log, stderr, summary or state
    return run


@dataclass
class RunnerDirs:
    """The runner's layout for one step: workspace, temp, HOME, and fresh file-command files."""

    root: Path
    workspace: Path = field(init=False)
    temp: Path = field(init=False)
    home: Path = field(init=False)
    files: dict[str, Path] = field(init=False)

    def __post_init__(self) -> None:
        self.workspace = self.root / "workspace"
        self.temp = self.root / "temp"
        self.home = self.temp / "_github_home"
        commands = self.temp / "_runner_file_commands"
        for folder in (self.workspace, self.home, commands, self.temp / "_github_workflow"):
            folder.mkdir(parents=True, exist_ok=True)
        step = uuid.uuid4()
        self.files = {var: commands / f"{prefix}_{step}" for var, prefix in FILE_COMMANDS.items()}
        for path in self.files.values():
            path.write_bytes(b"")  # InitializeFiles creates them empty

    def environ(
        self,
        inputs: Mapping[str, str],
        *,
        extra: Mapping[str, str] | None = None,
        translate: Mapping[Path, str] | None = None,
        state: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The step environment: INPUT_* (hyphens kept, action.yml defaults filled in), GITHUB_*, RUNNER_*.

        ``translate`` maps host folders to the paths the program sees (the container's /github/...).
        """
        mapping = dict(translate or {})

        def seen(path: Path) -> str:
            for host, inside in mapping.items():
                if path == host or path.is_relative_to(host):
                    return inside + "/" + path.relative_to(host).as_posix() if path != host else inside
            return str(path)

        env = {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "HOME": seen(self.home),
            "RUNNER_TEMP": seen(self.temp),
            "GITHUB_WORKSPACE": seen(self.workspace),
            "GITHUB_REF_NAME": "main",
            "GITHUB_REPOSITORY": "acme/web-app",
            "RUNNER_OS": "Linux",
        }
        env.update({var: seen(path) for var, path in self.files.items()})
        env.update(input_env(inputs))
        env.update({f"STATE_{key}": value for key, value in (state or {}).items()})
        env.update(extra or {})
        return env

    def capture(self, *, stdout: str, stderr: str, exit_code: int) -> RunCapture:
        return RunCapture(
            stdout=stdout,
            stderr=stderr,
            exit_code=exit_code,
            files={var: _read(path) for var, path in self.files.items()},
        )


@dataclass
class RunCapture:
    """What a step left behind: its log streams, exit code and file-command files."""

    stdout: str = field(repr=False)  # reprs never show captured text: it may hold values
    stderr: str = field(repr=False)
    exit_code: int
    files: dict[str, str] = field(repr=False)

    @property
    def env(self) -> RunnerEnv:
        return RunnerEnv.from_text(self.files["GITHUB_ENV"])

    @property
    def outputs(self) -> RunnerOutputs:
        return RunnerOutputs.from_text(self.files["GITHUB_OUTPUT"])

    @property
    def state(self) -> dict[str, str]:
        return dict(parse_file_command(self.files["GITHUB_STATE"]))

    @property
    def log(self) -> str:
        """stdout without the test's write markers, masked as the runner would show it."""
        return replay_log(self._clean_stdout()).text

    def annotations(self, kind: str) -> list[str]:
        return [c.data for c in replay_log(self._clean_stdout()).commands if c.name == kind]

    def _clean_stdout(self) -> str:
        return "\n".join(line for line in split_log_lines(self.stdout) if not line.startswith(WRITE_MARKER))


def run_entrypoint(env: Mapping[str, str], *, cwd: Path, module: str | None = None, timeout: float = 60) -> RunCapture:
    """``python entrypoint.py`` (or ``-m module``) with the runner's environment, in the workspace."""
    child = dict(env)
    child["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    child["PYTHONPATH"] = os.pathsep.join([str(AUDIT_SITE), str(REPO)])
    child["PYTHONDONTWRITEBYTECODE"] = "1"  # so the only files written are the program's own
    argv = [sys.executable, "-m", module] if module else [sys.executable, str(REPO / "entrypoint.py")]
    started = time.monotonic()
    result = subprocess.run(argv, env=child, cwd=cwd, capture_output=True, timeout=timeout, check=False)
    dirs_files = {var: Path(env[var]) for var in FILE_COMMANDS if var in env}
    run = RunCapture(
        stdout=result.stdout.decode("utf-8"),
        stderr=result.stderr.decode("utf-8"),
        exit_code=result.returncode,
        files={var: _read(path) for var, path in dirs_files.items()},
    )
    leakscan.observe_action(run, since=started)  # no token, JWT or value in the log, stderr, summary or state
    return run


def assert_action_run(
    run: RunCapture,
    *,
    secrets: Mapping[str, str],
    expected_env: Mapping[str, str] | None,
    expected_outputs: Mapping[str, str] | None,
    credentials: Mapping[str, str] | None = None,
    require_write_markers: bool = True,
    file_paths: frozenset[str] = frozenset(),
) -> None:
    """Every check of the issue, in terms of what the runner would do with this run.

    ``secrets`` maps a label to every value that must never show in clear (failure messages name
    the label, never the value). ``expected_env``/``expected_outputs`` are the exact parsed
    GITHUB_ENV/GITHUB_OUTPUT, or ``None`` for "refused: nothing written". ``require_write_markers``
    needs the audit hook (``run_entrypoint``); a container run without it passes ``False``.
    ``file_paths`` names exported variables that hold a secret file's path (``files``), not a value.
    """
    raw_lines = split_log_lines(run.stdout)
    mask_at = [i for i, line in enumerate(raw_lines) if _is_add_mask(line)]
    write_at = [i for i, line in enumerate(raw_lines) if line.startswith(WRITE_MARKER)]
    clean = [line for line in raw_lines if not line.startswith(WRITE_MARKER)]
    replay = replay_log("\n".join(clean))

    # 1. The log opens with masks only; the first is the token's.
    first_other = next((i for i, line in enumerate(clean) if not _is_add_mask(line)), len(clean))
    assert all(_is_add_mask(line) for line in clean[:first_other])
    later_masks = [i for i, line in enumerate(clean) if _is_add_mask(line) and i > first_other]
    assert not later_masks, "an ::add-mask:: came after other output"
    for label, value in (credentials or {}).items():
        first = replay.masker.registered[:1] == [value]
        registered = value in replay.masker.registered
        assert first or label != "token", "the token is not the first mask"
        assert registered, f"{label} was never masked"

    # 2. Every mask precedes the first byte written to any file.
    if require_write_markers and (run.files.get("GITHUB_ENV") or run.files.get("GITHUB_OUTPUT")):
        assert write_at, "no write markers: was the audit hook loaded?"
    if mask_at and write_at:
        assert max(mask_at) < min(write_at), "a file was opened for writing before every mask was registered"

    # 3. No value, nor any line of 4+ characters of it, shows in clear anywhere.
    log = replay.text
    # (Booleans first: pytest would otherwise print the compared texts, values included.)
    summary = run.files.get("GITHUB_STEP_SUMMARY", "")
    state = "\n".join(f"{key}={value}" for key, value in parse_file_command(run.files.get("GITHUB_STATE", "")))
    for label, value in secrets.items():
        on_stderr = bool(value.strip()) and value in run.stderr
        assert not on_stderr, f"{label} appeared on stderr"
        for part in _must_hide(value):
            in_log, in_summary, in_state = part in log, part in summary, part in state
            assert not in_log, f"{label} (or one of its lines) appears unmasked in the log"
            assert not in_summary, f"{label} appears in the step summary"
            assert not in_state, f"{label} appears in GITHUB_STATE"

    # 4. Exports exactly as expected, or nothing at all.
    env = run.env
    assert not env.errors, f"the runner would refuse: {env.errors}"
    if expected_env is None:
        wrote_env = run.files["GITHUB_ENV"] != ""
        assert not wrote_env, "a refused run wrote GITHUB_ENV"
    else:
        assert set(env.values) == set(expected_env), "GITHUB_ENV names differ"
        for name, value in expected_env.items():
            same = env.values[name] == value
            assert same, f"GITHUB_ENV {name} differs from the secret"
    if expected_outputs is None:
        wrote_output = run.files["GITHUB_OUTPUT"] != ""
        assert not wrote_output, "a refused run wrote GITHUB_OUTPUT"
    else:
        outputs = run.outputs.as_dict()
        assert set(outputs) == set(expected_outputs), "GITHUB_OUTPUT names differ"
        for name, value in expected_outputs.items():
            same = outputs[name] == value
            assert same, f"output {name} differs"

    # 5. Every exported value is registered (so later steps' logs hide it too).
    exported = list((expected_env or {}).items()) + list((expected_outputs or {}).items())
    for name, value in exported:
        if value.strip() and name not in ("names", "count") and name not in file_paths:
            masked = replay.masker.is_masked(value)
            assert masked, f"the value of {name} was exported without a mask"


def _read(path: Path) -> str:
    """Bytes decoded as UTF-8, with no newline translation (a CR in a value is data)."""
    return path.read_bytes().decode("utf-8")


def _is_add_mask(line: str) -> bool:
    command = parse_command(line)
    return command is not None and command.name == "add-mask"


def _must_hide(value: str) -> list[str]:
    parts = [value] if len(value.strip()) >= 4 else []
    parts += [line.strip() for line in value.replace("\r", "\n").split("\n") if len(line.strip()) >= 4]
    return parts
