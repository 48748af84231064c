"""The CI job that runs the composite action on ubuntu, macOS and Windows: its shape, and its steps run here.

The job cannot run on this machine, so its `uses: ./any-runner` steps run under ``composite_runner``
with the job's own `with:`/`env:`, against the fake API started the way the job starts it, and the
job's final assertion script then runs with real bash on what those steps exported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.github.action_harness import REPO, RunnerDirs
from tests.github.composite_runner import BASH, evaluate, run_composite

JOB = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))["jobs"]["any-runner"]


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = JOB["steps"]
    return steps


def test_the_job_covers_every_hosted_os_and_runs_the_local_composite_action() -> None:
    assert JOB["strategy"]["matrix"]["os"] == ["ubuntu-latest", "macos-latest", "windows-latest"]
    assert JOB["strategy"]["fail-fast"] is False
    assert JOB["defaults"]["run"]["shell"] == "bash"
    uses = [step for step in _steps() if step.get("uses") == "./any-runner"]
    assert [step["id"] for step in uses] == ["fetch", "refused"]
    assert uses[1]["continue-on-error"] is True
    fake = next(step for step in _steps() if step.get("id") == "fake")
    assert "python -m tests.fake_api --seed tests/fake_api/seed_demo.yml --port 0 --no-rate-limits" in fake["run"]
    last = _steps()[-1]
    assert "$DATABASE_URL" in last["run"] and "steps.fetch.outputs.names" in last["env"]["NAMES"]


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[str]:
    """``python -m tests.fake_api`` as the job starts it; the first stdout line is the URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fake_api",
            "--seed",
            "tests/fake_api/seed_demo.yml",
            "--port",
            "0",
            "--no-rate-limits",
        ],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), "the fake API did not start"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_the_jobs_steps_pass_here_under_the_runner_emulation(fake_api: str, tmp_path: Path) -> None:
    dirs = RunnerDirs(tmp_path / "runner")
    contexts: dict[str, Any] = {"steps": {"fake": {"outputs": {"url": fake_api}}}, "runner": {"temp": str(dirs.temp)}}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)  # the job's own Python (its setup-python step)
    job_env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    job_python = subprocess.run(
        ["python", "-c", "import sys; print(sys.executable)"], env=job_env, capture_output=True, text=True, check=True
    )
    (dirs.temp / "job-python").write_text(job_python.stdout)

    exported: dict[str, str] = {}
    for step in (s for s in _steps() if s.get("uses") == "./any-runner"):
        inputs = {name: evaluate(str(value), contexts) for name, value in step["with"].items()}
        env = job_env | {key: evaluate(str(value), contexts) for key, value in step["env"].items()}
        run = run_composite(dirs, inputs, job_env=env)
        outcome = "success" if run.exit_code == 0 else "failure"
        contexts["steps"][step["id"]] = {"outputs": run.outputs, "outcome": outcome}
        if "fetch" in run.steps:
            exported.update(run.fetch.env.values)
    assert contexts["steps"]["fetch"]["outcome"] == "success"
    assert contexts["steps"]["refused"]["outcome"] == "failure"

    last = _steps()[-1]
    env = {**job_env, **exported, **{key: evaluate(str(value), contexts) for key, value in last["env"].items()}}
    env.update({"RUNNER_TEMP": str(dirs.temp), "HOME": str(dirs.home)})
    script = tmp_path / "assert.sh"
    script.write_text(last["run"], encoding="utf-8")
    result = subprocess.run([*BASH, str(script)], env=env, cwd=dirs.workspace, capture_output=True, check=False)
    assert result.returncode == 0, "the job's assertions fail on what the composite exported"
