"""Running pipelines with gitlab-ci-local (pinned; installed by scripts/setup-gitlab-ci-local.sh, which
`make test` runs first): build a throwaway repo, run, collect output.

Jobs run in the host shell (`--force-shell-executor`: no Docker here), so `image:` is ignored and the
job finds `enkryptify-fetch` on PATH (this test environment's venv). CI/CD variables such as the token
go in `.gitlab-ci-local-variables.yml` (0600, not committed), never on a command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPONENT_DIR = REPO_ROOT / "gitlab-component"
GCL_HOME = Path(os.environ.get("GITLAB_CI_LOCAL_HOME", REPO_ROOT / ".cache" / "gitlab-ci-local"))
GCL = GCL_HOME / "bin" / "gitlab-ci-local"

# Variables of the test process that must not reach gitlab-ci-local or its jobs.
_DROP_PREFIXES = ("CI_", "GITLAB_", "ENKRYPTIFY_", "GCL_", "INPUT_", "GITHUB_", "RUNNER_")
_DROP_NAMES = {"CI", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy"}


def make_repo(path: Path, files: dict[str, str]) -> Path:
    """A git repo holding the component's templates/ plus ``files``, with one commit (HEAD must exist)."""
    path.mkdir(parents=True)
    shutil.copytree(COMPONENT_DIR / "templates", path / "templates")
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if name.endswith(".sh"):
            target.chmod(0o755)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pipeline under test"]):
        subprocess.run([*git, *args], cwd=path, check=True, capture_output=True, timeout=60)
    return path


@dataclass(frozen=True)
class PipelineRun:
    returncode: int
    output: str  # stdout and stderr, interleaved

    def job_lines(self, job: str) -> list[str]:
        return [line for line in self.output.splitlines() if line.startswith(job + " ")]


def run_pipeline(repo: Path, *, variables: dict[str, str], timeout: float = 180) -> PipelineRun:
    """Run the whole pipeline of ``repo`` once; ``variables`` act as project CI/CD variables."""
    variables_file = repo / ".gitlab-ci-local-variables.yml"
    variables_file.touch(mode=0o600)
    variables_file.write_text(json.dumps(variables), encoding="utf-8")  # JSON is YAML
    home = repo.parent / f"{repo.name}-home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES) and k not in _DROP_NAMES}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env["NO_COLOR"] = "1"
    env["FORCE_COLOR"] = "0"
    result = subprocess.run(
        [str(GCL), "--force-shell-executor", "--no-artifacts-to-source", "--home", str(home)],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PipelineRun(result.returncode, result.stdout)


def dotenv_report(repo: Path, job: str, file_name: str) -> bytes:
    """The dotenv report of ``job`` as gitlab-ci-local stored it (what GitLab would receive)."""
    return (repo / ".gitlab-ci-local" / "artifacts" / job / ".gitlab-ci-reports" / "dotenv" / file_name).read_bytes()
