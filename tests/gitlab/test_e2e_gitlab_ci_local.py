"""The GitLab component end to end, with gitlab-ci-local (pinned, installed by scripts/setup-gitlab-ci-local.sh).

Each pipeline runs once (module fixtures); the tests assert on its result. The pipelines are the README's
own examples (the component reference pointed at the commit under test) and the component project's
.gitlab-ci.yml, against a fake Enkryptify API on loopback. Job 2 of each pipeline is a checker that
compares every variable with the expected value and prints names only. Assertion messages name
variables, never values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from enkryptify_action import __version__
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.gitlab.dotenv_emulation import delivered_variables
from tests.gitlab.gcl import COMPONENT_DIR, PipelineRun, dotenv_report, make_repo, run_pipeline
from tests.required_tools import needs

TOKEN = "ek_live_gitlab_e2e_7c1d0e9f3b2a4c5d"
PUBLISHED_REF = f"$CI_SERVER_FQDN/enkryptify/fetch-secrets/fetch-secrets@{__version__}"  # README's reference
REF_UNDER_TEST = "$CI_SERVER_FQDN/$CI_PROJECT_PATH/fetch-secrets@$CI_COMMIT_SHA"
SELFTEST = "selftest value = 42 #hash 'q'"

pytestmark = needs("gitlab-ci-local")

# Every value carries a distinctive marker so the log scan below can tell if one leaked.
PRODUCTION = {
    "DB_PASSWORD": "pa$word-$HOME-${CI_JOB_ID}-$$-$1-${-end$",
    "HASH_VALUE": "p#ss # not-a-comment #tag",
    "QUOTED": '"double-quoted-value"',
    "SINGLE_QUOTED": "'single-quoted-value'",
    "MIXED_QUOTES": 'it\'s "mixed-quotes" value',
    "EQUALS": "base64=dGVzdA==&a=b",
    "SPACES": "inner  spaces\tand-tab value",
    "UNICODE": "héllo ☃ 日本語 🔐 unicode-value",
    "BACKSLASHES": r"C:\temp\new-value\$HOME",
    "JSONISH": '{"k": "v$x-json", "n": [1, 2]}',
    "EXPORT_LIKE": "export NOT_A_KEY=export-value",
    "SELFTEST_VALUE": SELFTEST,
}
MULTI_LINE = "-----BEGIN PRIVATE KEY-----\nMIIEvQ-multi-line-value\n-----END PRIVATE KEY-----\n"
STAGING = PRODUCTION | {"TLS_KEY": MULTI_LINE, "PADDED": "  padded-value  "}

# Large reports (project big-project): about 17 KB of ordinary configuration, accepted because GitLab
# measures the gzip; and random tokens whose gzip is over the 5120-byte limit, refused.
_URL = "https://service-{}.internal.example.com:8443/api/v1?region=eu-west-1&timeout=30&retry=3"
LARGE = {f"SERVICE_{i}_URL": _URL.format(i) for i in range(160)}
LARGE |= {f"FEATURE_{i}_ENABLED": "true" if i % 3 else "false" for i in range(30)}
LARGE |= {"RATIO": "50%", "LITERAL_PERCENT": "%%NOT_A_REF%%", "INNER_CR": "a\rb-inner-cr"}
HUGE = {
    f"TOKEN_{i:02d}": base64.b64encode(hashlib.sha512(b"%d" % i).digest() + hashlib.sha256(b"%d" % i).digest()).decode()
    for i in range(60)
}

CHECKER = '''#!/usr/bin/env python3
"""Checker job: every expected variable arrived with exactly the expected value. Prints names only."""
import json, os, sys
expected = json.load(open("expected.json", encoding="utf-8"))
bad = sorted(name for name, value in expected.items() if os.environ.get(name) != value)
for name in sorted(expected):
    print(("MISMATCH " if name in bad else "ok ") + name)
sys.exit(1 if bad else 0)
'''


def readme_block(marker: str) -> str:
    """The ```yaml block that follows ``<!-- e2e: marker`` in gitlab-component/README.md."""
    text = (COMPONENT_DIR / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- e2e: {re.escape(marker)}\b[^\n]*-->\n```yaml\n(.*?)```", text, re.DOTALL)
    assert match is not None, f"README has no yaml block marked e2e: {marker}"
    return match.group(1)


def consumer_pipeline(*, environment: str = "environment: production", api_url: str, extra: str = "") -> str:
    """The README's pipeline, pointed at the commit under test and (by an input: it wins) the fake API."""
    block = readme_block("consumer-pipeline")
    assert block.count(PUBLISHED_REF) == 1 and block.count("environment: production") == 1
    inputs = f"{environment}\n      api-url: {api_url}" + "".join(f"\n      {line}" for line in extra.splitlines())
    return block.replace(PUBLISHED_REF, REF_UNDER_TEST).replace("environment: production", inputs)


def leaked(run: PipelineRun, values: dict[str, str]) -> list[str]:
    """Names of secrets whose value (or any line of it) shows up in the pipeline output."""
    pieces = {name: [p.strip() for p in value.splitlines() if len(p.strip()) >= 8] for name, value in values.items()}
    return sorted(name for name, parts in pieces.items() if any(part in run.output for part in parts))


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    fake = FakeEnkryptify()
    workspace = fake.add_workspace("Acme", slug="acme")
    project = fake.add_project(workspace, "My Project", slug="my-project", environments=["production", "staging"])
    for name in STAGING:
        values = {"staging": STAGING[name]}
        if name in PRODUCTION:
            values["production"] = PRODUCTION[name]
        fake.add_secret(project, name, values)
    big = fake.add_project(workspace, "Big Project", slug="big-project", environments=["large", "huge"])
    for name, value in LARGE.items():
        fake.add_secret(big, name, {"large": value})
    for name, value in HUGE.items():
        fake.add_secret(big, name, {"huge": value})
    fake.add_token(TOKEN)
    with serve_fake(fake) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def variables(api_url: str) -> dict[str, str]:
    """The consumer project's CI/CD variables (the same-job recipe reads the API URL from them)."""
    return {"ENKRYPTIFY_TOKEN": TOKEN, "ENKRYPTIFY_API_URL": api_url}


@pytest.fixture(scope="module")
def component_variables(variables: dict[str, str]) -> dict[str, str]:
    """For pipelines that include the component: an ENKRYPTIFY_API_URL that must lose to the api-url input."""
    return variables | {"ENKRYPTIFY_API_URL": "https://unreachable.invalid"}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gitlab-e2e")


# --------------------------------------------------------------------------- the README's pipeline
@pytest.fixture(scope="module")
def handoff(work: Path, component_variables: dict[str, str], api_url: str) -> tuple[Path, PipelineRun]:
    files = {
        ".gitlab-ci.yml": consumer_pipeline(api_url=api_url),
        "deploy.sh": CHECKER,
        "expected.json": json.dumps(PRODUCTION),
    }
    repo = make_repo(work / "handoff", files)
    return repo, run_pipeline(repo, variables=component_variables)


def test_readme_pipeline_delivers_every_value_exactly(handoff: tuple[Path, PipelineRun]) -> None:
    _, run = handoff
    checked = [line.split()[-1] for line in run.job_lines("deploy") if line.split()[-2:-1] == ["ok"]]
    mismatched = [line.split()[-1] for line in run.job_lines("deploy") if "MISMATCH" in line]
    assert not mismatched, f"altered on the way to the deploy job: {mismatched}"
    assert sorted(checked) == sorted(PRODUCTION), "the checker job did not check every variable"
    assert run.returncode == 0, "pipeline failed:\n" + "\n".join(run.output.splitlines()[-30:])


def test_fetch_job_logs_names_never_values(handoff: tuple[Path, PipelineRun]) -> None:
    _, run = handoff
    fetch_log = "\n".join(run.job_lines("enkryptify-secrets"))
    assert all(name in fetch_log for name in PRODUCTION), "the fetch job does not list the exported names"
    assert not leaked(run, PRODUCTION), f"values in the log: {leaked(run, PRODUCTION)}"
    assert TOKEN not in run.output
    assert "enkryptify_fetch" in fetch_log  # the collapsible section gitlab-ci-local recognised


def test_report_is_gitlab_valid_private_and_escaped(handoff: tuple[Path, PipelineRun]) -> None:
    repo, _ = handoff
    report = dotenv_report(repo, "enkryptify-secrets", "enkryptify-secrets.env")
    got = delivered_variables(report, job_variables={"HOME": "/root", "CI_JOB_ID": "7"})
    wrong = sorted(name for name in PRODUCTION if got.get(name) != PRODUCTION[name])
    assert not wrong, f"GitLab (emulated) would deliver these differently: {wrong}"
    assert b"pa$$word" in report  # `$` doubled: GitLab Runner turns `$$` back into `$`
    written = repo / "enkryptify-secrets.env"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


# --------------------------------------------------------------------- refusals: job and pipeline
@pytest.fixture(scope="module")
def multiline(work: Path, component_variables: dict[str, str], api_url: str) -> tuple[Path, PipelineRun]:
    files = {
        ".gitlab-ci.yml": consumer_pipeline(environment="environment: staging", api_url=api_url),
        "deploy.sh": CHECKER,
        "expected.json": json.dumps(STAGING),
    }
    repo = make_repo(work / "multiline", files)
    return repo, run_pipeline(repo, variables=component_variables)


def test_multiline_secret_fails_the_fetch_job_clearly(multiline: tuple[Path, PipelineRun]) -> None:
    repo, run = multiline
    fetch_log = "\n".join(run.job_lines("enkryptify-secrets"))
    assert run.returncode != 0
    assert "FAIL  enkryptify-secrets" in run.output
    assert "TLS_KEY: multi-line value" in fetch_log
    assert "PADDED: starts or ends with whitespace" in fetch_log
    assert "enkryptify-fetch run --" in fetch_log  # the way out: same-job mode
    assert not run.job_lines("deploy") or "starting" not in "\n".join(run.job_lines("deploy"))
    assert not (repo / "enkryptify-secrets.env").exists(), "a report was written despite the refusal"
    assert not leaked(run, STAGING), f"values in the log: {leaked(run, STAGING)}"


def test_invalid_input_fails_at_pipeline_creation(
    work: Path, component_variables: dict[str, str], api_url: str
) -> None:
    pipeline = consumer_pipeline(environment='environment: "production "', api_url=api_url)
    files = {".gitlab-ci.yml": pipeline, "deploy.sh": CHECKER}
    run = run_pipeline(make_repo(work / "invalid-input", files), variables=component_variables)
    assert run.returncode != 0
    assert "starting shell" not in run.output, "a job ran although the pipeline is invalid"
    assert re.search(r"`environment` input: .* does not match required regex", run.output), run.output[-1500:]


# ------------------------------------------------------------------- large reports: the gzip rule
def big_pipeline(work: Path, name: str, environment: str, api_url: str, variables: dict[str, str]) -> PipelineRun:
    expected = LARGE if environment == "large" else HUGE
    pipeline = consumer_pipeline(
        environment=f"environment: {environment}", api_url=api_url, extra="max-variables: 250"
    ).replace("project: my-project", "project: big-project")
    files = {".gitlab-ci.yml": pipeline, "deploy.sh": CHECKER, "expected.json": json.dumps(expected)}
    return run_pipeline(make_repo(work / name, files), variables=variables)


def test_large_report_of_ordinary_configuration_is_delivered(
    work: Path, component_variables: dict[str, str], api_url: str
) -> None:
    """About 17 KB of text: over 5120 bytes as text, under it gzipped, so GitLab takes it."""
    run = big_pipeline(work, "large", "large", api_url, component_variables)
    assert run.returncode == 0, "pipeline failed:\n" + "\n".join(run.output.splitlines()[-30:])
    report = dotenv_report(work / "large", "enkryptify-secrets", "enkryptify-secrets.env")
    assert len(report) > 15_000
    assert delivered_variables(report, variable_limit=250) == LARGE  # the gzip passes the emulated upload
    lines = run.job_lines("deploy")
    assert not [line for line in lines if "MISMATCH" in line]
    assert sum(1 for line in lines if " ok " in f" {line} ") == len(LARGE)


def test_large_report_of_random_tokens_is_refused_with_both_sizes(
    work: Path, component_variables: dict[str, str], api_url: str
) -> None:
    run = big_pipeline(work, "huge", "huge", api_url, component_variables)
    fetch_log = "\n".join(run.job_lines("enkryptify-secrets"))
    assert run.returncode != 0
    assert "FAIL  enkryptify-secrets" in run.output
    assert re.search(r"the report would be \d+ bytes, about \d+ bytes gzipped", fetch_log), fetch_log[-1500:]
    assert "less than max-size (5120 bytes gzipped" in fetch_log
    assert not (work / "huge" / "enkryptify-secrets.env").exists(), "a report was written despite the refusal"
    assert not leaked(run, HUGE), f"values in the log: {leaked(run, HUGE)}"


# ------------------------------------------------------------------------------- same-job recipe
def test_same_job_recipe_carries_multiline_values(work: Path, variables: dict[str, str]) -> None:
    block = readme_block("same-job")
    assert block.count("ENKRYPTIFY_ENVIRONMENT: production") == 1
    files = {
        ".gitlab-ci.yml": block.replace("ENKRYPTIFY_ENVIRONMENT: production", "ENKRYPTIFY_ENVIRONMENT: staging"),
        "deploy.sh": CHECKER,
        "expected.json": json.dumps(STAGING),
    }
    run = run_pipeline(make_repo(work / "same-job", files), variables=variables)
    lines = run.job_lines("deploy")
    mismatched = [line.split()[-1] for line in lines if "MISMATCH" in line]
    assert not mismatched, f"altered in same-job mode: {mismatched}"
    # The recipe runs the checker twice: under `run --`, then after `eval`.
    assert sum(1 for line in lines if line.endswith(" ok TLS_KEY")) == 2
    assert run.returncode == 0, "pipeline failed:\n" + "\n".join(run.output.splitlines()[-30:])
    assert not leaked(run, STAGING), f"values in the log: {leaked(run, STAGING)}"


# ------------------------------------------------------------ the component project's own CI
def test_component_project_pipeline(work: Path, variables: dict[str, str]) -> None:
    ci = (COMPONENT_DIR / ".gitlab-ci.yml").read_text(encoding="utf-8")
    repo = make_repo(work / "component-ci", {".gitlab-ci.yml": ci})
    project_variables = variables | {
        "ENKRYPTIFY_TEST_API_URL": variables["ENKRYPTIFY_API_URL"],
        "ENKRYPTIFY_TEST_PROJECT": "my-project",
        "ENKRYPTIFY_TEST_ENVIRONMENT": "production",
        "ENKRYPTIFY_TEST_EXPECTED": SELFTEST,
    }
    run = run_pipeline(repo, variables=project_variables)
    assert run.returncode == 0, "pipeline failed:\n" + "\n".join(run.output.splitlines()[-30:])
    for job in ("test-fetch-secrets", "test-dotenv-handoff", "test-same-job"):
        assert f"PASS  {job}" in run.output, f"{job} did not pass"
    assert "create-release" not in run.output  # only on semver tags


# ------------------------------------------------------------------------------- several sources
def test_sources_merge_two_projects_into_one_report(work: Path, component_variables: dict[str, str], api_url: str):
    """The component's ``sources`` input (issue 18): big-project/large then my-project/production, merged."""
    pipeline = consumer_pipeline(
        environment='sources: "big-project/large\\nmy-project/production"', api_url=api_url, extra="max-variables: 250"
    ).replace("      project: my-project\n", "")
    expected = LARGE | PRODUCTION
    files = {".gitlab-ci.yml": pipeline, "deploy.sh": CHECKER, "expected.json": json.dumps(expected)}
    run = run_pipeline(make_repo(work / "sources", files), variables=component_variables)
    assert run.returncode == 0, "pipeline failed:\n" + "\n".join(run.output.splitlines()[-30:])
    lines = run.job_lines("deploy")
    assert not [line for line in lines if "MISMATCH" in line]
    assert sum(1 for line in lines if " ok " in f" {line} ") == len(expected)
    assert not leaked(run, PRODUCTION)
