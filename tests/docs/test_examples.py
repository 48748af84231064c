"""The examples/ files: valid for their platform, using only real inputs, and doing what their comments say.

examples/github/config-branch-mapping.yml runs through the action (the real entry point, a runner-like step
environment) with examples/enkryptify.yml as the repository's .enkryptify.yml, against the fake API. The GitLab
examples are embedded in gitlab-component/README.md (`make docs`), whose blocks tests/gitlab/test_e2e_gitlab_ci_local.py
runs with gitlab-ci-local; here they are checked against GitLab's CI schema and compared with those blocks.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # installed with check-jsonschema (dev)
import pytest
import yaml

from enkryptify_action.config import load_config_file, resolve_settings
from enkryptify_action.github import action_yml
from tests.docs.gen_docs_script import ROOT
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunnerDirs, run_entrypoint

EXAMPLES = ROOT / "examples"
BRANCH_WORKFLOW = EXAMPLES / "github" / "config-branch-mapping.yml"
CONFIG = EXAMPLES / "enkryptify.yml"
GITLAB_EXAMPLES = {
    "consumer-pipeline": EXAMPLES / "gitlab" / "component.yml",
    "same-job": EXAMPLES / "gitlab" / "same-job.yml",
    "oidc-pipeline": EXAMPLES / "gitlab" / "oidc.yml",
}
OIDC_WORKFLOW = EXAMPLES / "github" / "oidc.yml"
TOKEN = "ek_live_docs_examples_3f9a1c7e5b"
ENVIRONMENTS = ("production", "staging", "development")
SECRETS = ("DATABASE_URL", "STRIPE_KEY", "STRIPE_TEST_KEY", "UNLISTED")


# --- GitHub ------------------------------------------------------------------------------------------------


def test_branch_mapping_workflow_passes_the_workflow_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(BRANCH_WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_branch_mapping_workflow_relies_on_the_config_file() -> None:
    workflow = yaml.safe_load(BRANCH_WORKFLOW.read_text(encoding="utf-8"))
    steps = workflow["jobs"]["deploy"]["steps"]
    ours = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("enkryptify/fetch-secrets@")]
    assert len(ours) == 1
    step = steps[ours[0]]
    assert set(step.get("with", {})) <= set(yaml.safe_load(action_yml.render())["inputs"])
    assert "environment" not in step.get("with", {}), "the branch mapping only applies without an environment"
    assert step["env"] == {"ENKRYPTIFY_TOKEN": "${{ secrets.ENKRYPTIFY_TOKEN }}"}
    assert any(str(s.get("uses", "")).startswith("actions/checkout@") for s in steps[: ours[0]]), "checkout first"
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as True
    assert triggers["push"]["branches"]


@pytest.mark.parametrize(
    ("branch", "environment"),
    [("main", "production"), ("release/1.4", "staging"), ("feature/login", "development")],
)
def test_config_file_maps_branches(branch: str, environment: str, tmp_path: Path) -> None:
    config = load_config_file(CONFIG)
    assert "token" not in config.values
    shutil.copy(CONFIG, tmp_path / ".enkryptify.yml")
    for ref_variable in ("GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"):
        settings = resolve_settings(environ={ref_variable: branch}, cwd=tmp_path)
        assert settings.environment == environment
        assert settings.project == "my-project"


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    fake = FakeEnkryptify()
    workspace = fake.add_workspace("Acme", slug="acme")
    project = fake.add_project(workspace, "My Project", slug="my-project", environments=list(ENVIRONMENTS))
    for name in SECRETS:
        fake.add_secret(project, name, {env: f"{name.lower()}-{env}-value" for env in ENVIRONMENTS})
    fake.add_token(TOKEN)
    with serve_fake(fake) as url:
        yield url


@pytest.mark.parametrize(("branch", "environment"), [("main", "production"), ("release/2.0", "staging")])
def test_branch_mapping_example_runs_through_the_action(
    branch: str, environment: str, api_url: str, tmp_path: Path
) -> None:
    dirs = RunnerDirs(tmp_path)
    shutil.copy(CONFIG, dirs.workspace / ".enkryptify.yml")  # what actions/checkout brings
    env = dirs.environ({}, extra={"ENKRYPTIFY_TOKEN": TOKEN, "ENKRYPTIFY_API_URL": api_url, "GITHUB_REF_NAME": branch})
    run = run_entrypoint(env, cwd=dirs.workspace)
    assert run.exit_code == 0, run.log[-2000:]
    expected = {name: f"{name.lower()}-{environment}-value" for name in ("DATABASE_URL", "STRIPE_KEY")}
    assert run.env.values == expected, "the config file's secrets, from the environment its mapping picks"
    assert json.loads(run.outputs.get("names") or "[]") == list(expected)


# --- GitLab ------------------------------------------------------------------------------------------------


def _gitlab_ci_schema() -> dict[str, Any]:
    text = (files("check_jsonschema") / "builtin_schemas" / "vendor" / "gitlab-ci.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@pytest.mark.parametrize("path", GITLAB_EXAMPLES.values(), ids=lambda p: p.name)
def test_gitlab_example_validates_against_gitlabs_schema(path: Path) -> None:
    pipeline = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(pipeline, dict) and "deploy" in pipeline
    jsonschema.validate(pipeline, _gitlab_ci_schema())


@pytest.mark.parametrize(("marker", "path"), GITLAB_EXAMPLES.items(), ids=list(GITLAB_EXAMPLES))
def test_gitlab_example_is_the_block_the_pipeline_tests_run(marker: str, path: Path) -> None:
    """tests/gitlab/test_e2e_gitlab_ci_local.py runs the README block that follows `<!-- e2e: marker`."""
    readme = (ROOT / "gitlab-component" / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- e2e: {re.escape(marker)}\b[^\n]*-->\n```yaml\n(.*?)```", readme, re.DOTALL)
    assert match is not None
    assert match.group(1) == path.read_text(encoding="utf-8")


def test_gitlab_quick_start_is_the_component_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```yaml\n" + GITLAB_EXAMPLES["consumer-pipeline"].read_text(encoding="utf-8") + "```" in readme


@pytest.mark.parametrize("marker", ["consumer-pipeline", "oidc-pipeline"])
def test_component_example_uses_declared_inputs(marker: str) -> None:
    header, _ = yaml.safe_load_all((ROOT / "gitlab-component" / "templates" / "fetch-secrets.yml").read_text())
    pipeline = yaml.safe_load(GITLAB_EXAMPLES[marker].read_text(encoding="utf-8"))
    (include,) = pipeline["include"]
    assert set(include["inputs"]) <= set(header["spec"]["inputs"])
    assert pipeline["deploy"]["needs"] == [header["spec"]["inputs"]["job-name"]["default"]]


def test_oidc_workflow_grants_the_id_token_and_stores_no_token() -> None:
    workflow = yaml.safe_load(OIDC_WORKFLOW.read_text(encoding="utf-8"))
    assert workflow["permissions"]["id-token"] == "write"
    (step,) = [s for s in workflow["jobs"]["deploy"]["steps"] if str(s.get("uses", "")).startswith("enkryptify/")]
    assert "env" not in step and step["with"]["auth"] == "oidc" and step["with"]["workspace"]
    assert set(step["with"]) <= set(yaml.safe_load(action_yml.render())["inputs"])


def test_oidc_pipeline_gives_the_component_job_an_id_token() -> None:
    header, _ = yaml.safe_load_all((ROOT / "gitlab-component" / "templates" / "fetch-secrets.yml").read_text())
    pipeline = yaml.safe_load(GITLAB_EXAMPLES["oidc-pipeline"].read_text(encoding="utf-8"))
    job = header["spec"]["inputs"]["job-name"]["default"]
    assert pipeline[job] == {"id_tokens": {"ENKRYPTIFY_ID_TOKEN": {"aud": "enkryptify"}}}
    assert pipeline["include"][0]["inputs"]["auth"] == "oidc"
