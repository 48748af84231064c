"""Run the action the way the GitHub runner runs a container action, and check a run against its rules.

``RunnerDirs`` lays out what the runner and the container each see: the runner's host folders
(``_work/web-app/web-app``, ``_work/_temp``, ``_temp/_runner_file_commands`` ...) and the container's
mounts (``github/workspace``, ``github/runner_temp``, ``github/file_commands``, ``github/home``,
``github/workflow`` under ``container/``). The host folders are links to the mounted ones, so a file the
program writes is where the runner reads it. ``RunnerDirs.environ`` builds the step's variables from
*host* paths (what ``${{ runner.temp }}`` expands to) and translates every value, INPUT_* included,
like ``ContainerInfo.TranslateToContainerPath`` (runner_emulation.translate_environment): the program
only ever sees container paths, as in the real container. The podman test (tests/container) uses the
same translation with the real ``/github/...`` mounts.

Then run the program however you like, collect a ``RunCapture``, and call ``assert_action_run``: it
replays stdout and stderr through the runner emulation and checks masks, exports, and that nothing but
our own workflow commands was processed.
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
    CONTAINER_MOUNTS,
    ReplayedLog,
    RunnerEnv,
    RunnerOutputs,
    decode_file,
    net_is_null_or_whitespace,
    net_trim,
    parse_command,
    parse_file_command,
    replay_log,
    split_log_lines,
    translate_environment,
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


def input_env(inputs: Mapping[str, str], contexts: Mapping[str, str] | None = None) -> dict[str, str]:
    """INPUT_* as the runner sets them: action.yml defaults filled in (their ``${{ github.workspace }}`` and
    ``${{ runner.temp }}`` evaluated from ``contexts``, as the runner evaluates them on the host), hyphens
    kept, upper case."""
    values = action_input_defaults()
    for name, value in values.items():
        for key, text in (contexts or {}).items():
            value = value.replace("${{ " + key + " }}", text)
        values[name] = value
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
    """One step's folders: ``workspace``, ``temp``, ``home`` and ``files`` are the runner's (host) paths;
    ``container_paths`` maps each mounted host folder to the folder the program sees."""

    root: Path
    workspace: Path = field(init=False)
    temp: Path = field(init=False)
    home: Path = field(init=False)
    files: dict[str, Path] = field(init=False)
    container_paths: dict[str, Path] = field(init=False)
    mappings: list[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        inside = self.root / "container" / "github"
        mounted = {
            "workspace": inside / "workspace",
            "temp": inside / "runner_temp",
            "file_commands": inside / "file_commands",
            "home": inside / "home",
            "workflow": inside / "workflow",
        }
        for folder in mounted.values():
            folder.mkdir(parents=True, exist_ok=True)
        work = self.root / "runner" / "_work"
        (work / "web-app").mkdir(parents=True, exist_ok=True)
        self.workspace = work / "web-app" / "web-app"
        self.temp = work / "_temp"
        self.workspace.symlink_to(mounted["workspace"], target_is_directory=True)
        self.temp.symlink_to(mounted["temp"], target_is_directory=True)
        # Inside the runner's temp folder, as on the host: the file-command, home and workflow folders.
        host = {"workspace": self.workspace, "temp": self.temp}
        in_temp = {"file_commands": "_runner_file_commands", "home": "_github_home", "workflow": "_github_workflow"}
        for key, name in in_temp.items():
            (mounted["temp"] / name).symlink_to(mounted[key], target_is_directory=True)
            host[key] = self.temp / name
        self.home = host["home"]
        self.container_paths = {str(host[key]): mounted[key] for key in mounted}
        self.mappings = [(str(host[key]), str(mounted[key])) for key, _ in CONTAINER_MOUNTS]
        step = uuid.uuid4()
        self.files = {var: host["file_commands"] / f"{prefix}_{step}" for var, prefix in FILE_COMMANDS.items()}
        for path in self.files.values():
            path.write_bytes(b"")  # InitializeFiles creates them empty

    @property
    def cwd(self) -> Path:
        """The container's working directory (``/github/workspace``)."""
        return self.container_paths[str(self.workspace)]

    def environ(
        self,
        inputs: Mapping[str, str],
        *,
        extra: Mapping[str, str] | None = None,
        state: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The step environment as the container sees it: INPUT_* (hyphens kept, action.yml defaults filled
        in), GITHUB_*, RUNNER_*, STATE_*, ``extra``; every value given in host terms and translated."""
        return translate_environment(self.host_environ(inputs, extra=extra, state=state), self.mappings)

    def host_environ(
        self,
        inputs: Mapping[str, str],
        *,
        extra: Mapping[str, str] | None = None,
        state: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The same environment in host terms: what a step that runs on the runner itself (``run:``, a
        composite action) sees."""
        env = {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "HOME": str(self.home),
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REF_NAME": "main",
            "GITHUB_REPOSITORY": "acme/web-app",
            "RUNNER_OS": "Linux",
        }
        env.update({var: str(path) for var, path in self.files.items()})
        env.update(input_env(inputs, {"github.workspace": str(self.workspace), "runner.temp": str(self.temp)}))
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

    def replay(self, *, step_debug: bool = False) -> ReplayedLog:
        """stdout (without the test's write markers), then stderr, through the runner emulation."""
        return replay_log(self._clean_stdout(), stderr=self.stderr, step_debug=step_debug)

    @property
    def log(self) -> str:
        """The log as the runner would show it: masked, commands processed."""
        return self.replay().text

    def annotations(self, kind: str) -> list[str]:
        return [c.data for c in self.replay().commands if c.key == kind]

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
        stdout=result.stdout.decode("utf-8", errors="replace"),  # the runner decodes UTF-8 the same way
        stderr=result.stderr.decode("utf-8", errors="replace"),
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
    replay = replay_log("\n".join(clean), stderr=run.stderr)

    # 0. The runner processed our own workflow commands only: none from a name or message we printed.
    assert_only_our_commands(replay, stderr=run.stderr)

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
        on_stderr = not net_is_null_or_whitespace(value) and value in run.stderr
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
        if not net_is_null_or_whitespace(value) and name not in ("names", "count") and name not in file_paths:
            masked = replay.masker.is_masked(value)
            assert masked, f"the value of {name} was exported without a mask"


# The workflow commands the action itself writes (V2 syntax, stdout only).
OUR_COMMANDS = frozenset({"add-mask", "group", "endgroup", "error", "warning", "debug"})


def assert_only_our_commands(replay: ReplayedLog, *, stderr: str = "") -> None:
    """No command under either syntax came from text we did not write: every processed command is one
    of ours in the ``::`` syntax, nothing set an output or state or stopped processing, groups are
    balanced, no plain line shows a ``##[`` display marker, and stderr holds no command at all."""
    foreign = sorted({c.name for c in replay.commands if c.legacy or c.key not in OUR_COMMANDS or c.name != c.key})
    assert not foreign, f"the runner would process foreign workflow commands: {foreign}"
    assert replay.stopped_by is None, "command processing was stopped (::stop-commands::/##[stop-commands])"
    assert not replay.outputs.as_dict(), f"a logged line set step outputs {sorted(replay.outputs.as_dict())}"
    assert not replay.state, f"a logged line saved state {sorted(replay.state)}"
    assert not replay.errors, f"the runner would fail the step: {replay.errors}"
    keys = [c.key for c in replay.commands]
    assert keys.count("group") == keys.count("endgroup"), "unbalanced ::group::/::endgroup::"
    markers = [line for line in replay.plain if "##[" in line]
    assert not markers, f"{len(markers)} plain log line(s) carry a ##[ marker"
    on_stderr = replay_log("", stderr=stderr).commands
    assert not on_stderr, f"stderr carries workflow commands: {sorted({c.name for c in on_stderr})}"


def _read(path: Path) -> str:
    """The file as ``File.ReadAllText`` reads it (BOMs, invalid UTF-8 as U+FFFD), no newline translation."""
    return decode_file(path.read_bytes())


def _is_add_mask(line: str) -> bool:
    command = parse_command(line)
    return command is not None and command.key == "add-mask" and not command.legacy


def _must_hide(value: str) -> list[str]:
    parts = [value] if len(net_trim(value)) >= 4 else []
    parts += [net_trim(line) for line in value.replace("\r", "\n").split("\n") if len(net_trim(line)) >= 4]
    return parts
