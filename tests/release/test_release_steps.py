"""The shell steps of release.yml that move tags and publish the component, run against local git remotes.

Each step's `run:` text is taken from the workflow file itself and run the way the runner does
(`bash --noprofile --norc -eo pipefail`), with the step's `env:` filled in as GitHub would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.release.release_script import DIGEST, ROOT, make_tree

_GIT_ID = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"]


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *_GIT_ID, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def _step(job: str, name_start: str) -> dict[str, Any]:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"][job]["steps"]
    step = next(s for s in steps if s.get("name", "").startswith(name_start))
    assert isinstance(step, dict)
    return step


def _run_step(step: dict[str, Any], cwd: Path, env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    python = bin_dir / "python"
    if not python.exists():
        python.symlink_to(sys.executable)  # the runner's setup-python puts `python` on PATH
    full_env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "IMAGE": "ghcr.io/enkryptify/fetch-secrets",
        "GITHUB_REPOSITORY": "enkryptify/fetch-secrets",
        **env,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tagged(tmp_path: Path) -> dict[str, Path | str]:
    """A GitHub-side bare remote with main and the maintainer's tag v1.2.3, and a job checkout of that tag."""
    work = make_tree(tmp_path / "work", released=True)
    (work / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "release.py", work / "scripts" / "release.py")
    shutil.copytree(ROOT / "gitlab-component", work / "gitlab-component", dirs_exist_ok=True)
    # The component files of the tree under test, at the fixture's version.
    subprocess.run(
        [sys.executable, str(work / "scripts" / "release.py"), "--root", str(work), "bump", "1.2.3"],
        check=True,
        capture_output=True,
    )
    (work / "LICENSE").write_text("MIT License\n")
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "Release 1.2.3")
    _git(work, "tag", "v1.2.3")
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", str(origin))
    _git(work, "push", "-q", str(origin), "HEAD:refs/heads/main", "refs/tags/v1.2.3")
    job = tmp_path / "job"
    _git(tmp_path, "clone", "-q", str(origin), str(job))
    source_sha = _git(job, "rev-parse", "v1.2.3^{commit}")
    _git(job, "checkout", "-q", "--detach", source_sha)
    return {"origin": origin, "job": job, "sha": source_sha, "home": tmp_path / "home"}


def test_release_commit_step_pins_tags_and_moves_the_major_tag(tagged):
    job, origin, home = Path(tagged["job"]), Path(tagged["origin"]), Path(tagged["home"])
    output = home / "github_output"
    home.mkdir()
    env = {"TAG": "v1.2.3", "MAJOR_TAG": "v1", "DIGEST": DIGEST, "GITHUB_OUTPUT": str(output)}
    result = _run_step(_step("release-commit", "Commit action.yml pinned"), job, env, home)
    assert result.returncode == 0, result.stdout + result.stderr

    release_sha = _git(origin, "rev-parse", "v1.2.3^{commit}")
    assert release_sha != tagged["sha"]
    assert _git(origin, "rev-parse", f"{release_sha}^") == tagged["sha"]  # one commit on top of the tagged one
    assert _git(origin, "rev-parse", "v1^{commit}") == release_sha
    assert _git(origin, "rev-parse", "main") == tagged["sha"]  # main keeps `image: Dockerfile`
    assert _git(origin, "diff", "--name-only", str(tagged["sha"]), release_sha) == "action.yml"
    action = yaml.safe_load(_git(origin, "show", f"{release_sha}:action.yml"))
    assert action["runs"]["image"] == f"docker://ghcr.io/enkryptify/fetch-secrets@{DIGEST}"
    # The composite action ships in the release commit as it is on main (`.../any-runner@v1` follows v1).
    composite = _git(origin, "show", "v1:any-runner/action.yml")
    assert composite == _git(origin, "show", "main:any-runner/action.yml") != ""
    assert yaml.safe_load(composite)["runs"]["using"] == "composite"
    assert output.read_text() == f"sha={release_sha}\n"


def test_release_commit_step_refuses_a_bad_digest(tagged):
    job, origin, home = Path(tagged["job"]), Path(tagged["origin"]), Path(tagged["home"])
    home.mkdir()
    env = {"TAG": "v1.2.3", "MAJOR_TAG": "v1", "DIGEST": "", "GITHUB_OUTPUT": str(home / "out")}
    result = _run_step(_step("release-commit", "Commit action.yml pinned"), job, env, home)
    assert result.returncode == 1
    assert "bad image digest ''" in result.stderr
    assert _git(origin, "rev-parse", "v1.2.3^{commit}") == tagged["sha"]


FAKE_TOKEN = "glpat-test"  # a fake token for a local remote


def _gitlab_env(tmp_path: Path, token: str = FAKE_TOKEN) -> tuple[dict[str, str], Path]:
    project = tmp_path / "gitlab" / "enkryptify" / "fetch-secrets.git"
    project.parent.mkdir(parents=True)
    _git(tmp_path, "init", "-q", "--bare", str(project))
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "OLD.md").write_text("from an earlier release\n")
    _git(seed, "init", "-q")
    _git(seed, "add", "-A")
    _git(seed, "commit", "-qm", "seed")
    _git(seed, "push", "-q", str(project), "HEAD:refs/heads/main")
    runner_temp = tmp_path / "runner_temp"
    runner_temp.mkdir()
    env = {
        "GITLAB_PUSH_TOKEN": token,
        "GITLAB_URL": (tmp_path / "gitlab").as_uri(),
        "GITLAB_PROJECT": "enkryptify/fetch-secrets",
        "GITLAB_BRANCH": "main",
        "VERSION": "1.2.3",
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_SHA": "0" * 40,
    }
    return env, project


def test_gitlab_step_pushes_the_component_and_tags_it(tagged, tmp_path):
    job, home = Path(tagged["job"]), Path(tagged["home"])
    env, project = _gitlab_env(tmp_path)
    step = _step("gitlab", "Push gitlab-component/")
    result = _run_step(step, job, env, home)
    assert result.returncode == 0, result.stdout + result.stderr
    files = set(_git(project, "ls-tree", "-r", "--name-only", "1.2.3").splitlines())
    component = {
        str(p.relative_to(job / "gitlab-component")) for p in (job / "gitlab-component").rglob("*") if p.is_file()
    }
    assert files == component | {"CHANGELOG.md", "LICENSE"}
    assert {"README.md", "templates/fetch-secrets.yml"} <= files
    assert _git(project, "rev-parse", "main") == _git(project, "rev-parse", "1.2.3^{commit}")
    template = _git(project, "show", "1.2.3:templates/fetch-secrets.yml")
    assert "default: ghcr.io/enkryptify/fetch-secrets:1.2.3\n" in template
    # The token never lands in a file git keeps: only the credential helper reads it from the environment.
    assert FAKE_TOKEN not in (home / ".gitconfig").read_text()
    # A second run (a re-run of the workflow) finds the tag and publishes nothing.
    again = _run_step(step, job, env, home)
    assert again.returncode == 0, again.stderr
    assert "already has tag 1.2.3" in again.stdout


def test_gitlab_step_needs_the_token(tagged, tmp_path):
    env, project = _gitlab_env(tmp_path, token="")
    result = _run_step(_step("gitlab", "Push gitlab-component/"), Path(tagged["job"]), env, Path(tagged["home"]))
    assert result.returncode == 1
    assert "::error title=GITLAB_PUSH_TOKEN missing::" in result.stdout
    assert _git(project, "tag") == ""
