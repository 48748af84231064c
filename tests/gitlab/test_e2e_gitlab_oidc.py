"""The component with ``auth: oidc`` end to end, with gitlab-ci-local: the README's tokenless pipeline.

gitlab-ci-local validates ``id_tokens:`` but does not mint ID tokens, so the ID token a GitLab server would
put in ``ENKRYPTIFY_ID_TOKEN`` (issuer https://gitlab.com, the block's ``aud``, a ``project_path:…`` subject)
is minted by the fake API's issuer and given as a CI/CD variable of that name: what the job sees is the same.
No ENKRYPTIFY_TOKEN exists in these pipelines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.oidc import GITLAB_ISSUER
from tests.fake_api.server import serve_fake
from tests.gitlab.gcl import PipelineRun, make_repo, run_pipeline
from tests.gitlab.test_e2e_gitlab_ci_local import CHECKER, PUBLISHED_REF, REF_UNDER_TEST, leaked, readme_block
from tests.required_tools import needs

pytestmark = needs("gitlab-ci-local")

SUBJECT = "project_path:acme/web-app:ref_type:branch:ref:main"
VALUES = {"DB_PASSWORD": "oidc-pa$word-value", "API_KEY": "sk-oidc-gitlab-value-42"}


def pipeline_text() -> str:
    block = readme_block("oidc-pipeline")
    assert block.count(PUBLISHED_REF) == 1
    return block.replace(PUBLISHED_REF, REF_UNDER_TEST)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeEnkryptify, str]]:
    inputs = yaml.safe_load(pipeline_text())["include"][0]["inputs"]
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme", id=inputs["workspace"])
    prj = fake.add_project(ws, "My Project", slug=inputs["project"], environments=[inputs["environment"]])
    for name, value in VALUES.items():
        fake.add_secret(prj, name, {inputs["environment"]: value})
    fake.oidc.register(ws, issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    with serve_fake(fake) as url:
        yield fake, url


def run(work: Path, name: str, served: tuple[FakeEnkryptify, str], id_token: str | None) -> PipelineRun:
    _fake, url = served
    # The component passes its api-url input (default: the real API) over ENKRYPTIFY_API_URL: point it here.
    pipeline = pipeline_text().replace("      auth: oidc\n", f"      auth: oidc\n      api-url: {url}\n", 1)
    assert f"api-url: {url}" in pipeline
    files = {".gitlab-ci.yml": pipeline, "deploy.sh": CHECKER, "expected.json": json.dumps(VALUES)}
    variables: dict[str, str] = {}
    if id_token is not None:
        variables["ENKRYPTIFY_ID_TOKEN"] = id_token
    return run_pipeline(make_repo(work / name, files), variables=variables)


def secrets_of(fake: FakeEnkryptify) -> list[str]:
    return [*fake.oidc.id_tokens, *fake.jwts]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gitlab-oidc")


def test_tokenless_pipeline_delivers_every_value(work: Path, served: tuple[FakeEnkryptify, str]) -> None:
    fake = served[0]
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=SUBJECT)
    result = run(work, "ok", served, id_token)
    checked = sorted(line.split()[-1] for line in result.job_lines("deploy") if line.split()[-2:-1] == ["ok"])
    assert checked == sorted(VALUES), "\n".join(result.output.splitlines()[-30:])
    assert result.returncode == 0
    assert "is empty or unset" not in result.output  # no complaint about a token that oidc does not need
    assert not leaked(result, VALUES)
    assert not any(secret in result.output for secret in secrets_of(fake)), "the ID token or JWT is in the log"
    exchanges = [e for e in fake.oidc.exchanges if e.status == 200]
    assert exchanges and exchanges[-1].claims is not None and exchanges[-1].claims["sub"] == SUBJECT


def test_without_id_tokens_the_job_fails_with_the_snippet(work: Path, served: tuple[FakeEnkryptify, str]) -> None:
    result = run(work, "missing", served, None)
    log = "\n".join(result.job_lines("enkryptify-secrets"))
    assert result.returncode != 0 and "FAIL  enkryptify-secrets" in result.output
    assert "needs an ID token in ENKRYPTIFY_ID_TOKEN" in log
    assert "id_tokens:" in log and "aud: enkryptify" in log
    assert not result.job_lines("deploy") or "starting" not in "\n".join(result.job_lines("deploy"))


def test_a_refused_id_token_names_its_subject(work: Path, served: tuple[FakeEnkryptify, str]) -> None:
    fake = served[0]
    tag = "project_path:acme/web-app:ref_type:tag:ref:v1.2.3"
    id_token = fake.oidc.mint(issuer=GITLAB_ISSUER, audience="enkryptify", subject=tag)
    result = run(work, "refused", served, id_token)
    log = "\n".join(result.job_lines("enkryptify-secrets"))
    assert result.returncode != 0
    assert f"issuer '{GITLAB_ISSUER}', audience 'enkryptify', subject '{tag}'" in log
    assert id_token not in result.output
