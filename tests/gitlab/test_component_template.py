"""The component template against the options table, GitLab's spec rules, and the README.

The template is hand-written YAML (it is what the catalog publishes); these tests keep it in step with
``enkryptify_action.options.OPTIONS``: same names, descriptions, defaults, types and choices.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # installed with check-jsonschema (dev)
import pytest
import yaml

from enkryptify_action import __version__
from enkryptify_action.options import GITLAB, Kind, Option, for_platform
from enkryptify_action.sinks.gitlab import GITLAB_DEFAULT_MAX_VARIABLES
from tests.gitlab.gcl import COMPONENT_DIR

TEMPLATE = COMPONENT_DIR / "templates" / "fetch-secrets.yml"
GITLAB_ONLY = {"job-name", "stage", "image", "token-variable", "dotenv-file", "expire-in", "access"}
OPTIONS = for_platform(GITLAB)


def re2_search(pattern: str, text: str) -> bool:
    """`$` is end of text in RE2 (GitLab) and JavaScript (gitlab-ci-local); Python also matches before a final \\n."""
    return re.search(re.sub(r"(?<!\\)\$$", r"\\Z", pattern), text) is not None


def load_template(path: Path = TEMPLATE) -> tuple[dict[str, Any], dict[str, Any]]:
    header, body = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    return header, body


@pytest.fixture(scope="module")
def inputs() -> dict[str, dict[str, Any]]:
    header, _ = load_template()
    assert set(header) == {"spec"} and set(header["spec"]) == {"inputs"}, "older GitLab accepts only spec:inputs"
    result: dict[str, dict[str, Any]] = header["spec"]["inputs"]
    return result


@pytest.fixture(scope="module")
def job() -> dict[str, Any]:
    _, body = load_template()
    assert list(body) == ["$[[ inputs.job-name ]]"], "the template defines one job, named by an input"
    result: dict[str, Any] = body["$[[ inputs.job-name ]]"]
    return result


def test_component_paths_are_valid_catalog_paths() -> None:
    templates = sorted(p.relative_to(COMPONENT_DIR).as_posix() for p in (COMPONENT_DIR / "templates").rglob("*"))
    assert templates == ["templates/fetch-secrets.yml"]
    assert all(re.fullmatch(r"templates/[\w-]+(?:/template)?\.yml", p) for p in templates)
    assert (COMPONENT_DIR / "README.md").is_file()


def test_inputs_are_the_gitlab_options_plus_gitlab_ones(inputs: dict[str, dict[str, Any]]) -> None:
    assert set(inputs) == {o.name for o in OPTIONS} | GITLAB_ONLY
    assert "token" not in inputs  # the token comes from a masked CI/CD variable, never an input


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_input_mirrors_option(option: Option, inputs: dict[str, dict[str, Any]]) -> None:
    spec = inputs[option.name]
    assert spec["description"] == option.description
    expected_type = {Kind.BOOL: "boolean", Kind.INT: "number", Kind.FLOAT: "number"}.get(option.kind, "string")
    assert spec.get("type", "string") == expected_type
    assert spec["default"] == option.default and type(spec["default"]) is type(option.default)
    assert tuple(spec.get("options", ())) == option.choices


def test_gitlab_only_defaults(inputs: dict[str, dict[str, Any]]) -> None:
    assert inputs["stage"]["default"] == ".pre"
    assert inputs["job-name"]["default"] == "enkryptify-secrets"
    assert inputs["access"]["default"] == "none" and inputs["access"]["options"][0] == "none"
    assert inputs["token-variable"]["default"] == "ENKRYPTIFY_TOKEN"
    assert inputs["max-variables"]["default"] == GITLAB_DEFAULT_MAX_VARIABLES


def test_image_default_is_this_version(inputs: dict[str, dict[str, Any]]) -> None:
    """A component cannot see its own version (gitlab-org/gitlab#438275): the image tag is written out, set by
    scripts/release.py with every other version, and the release job refuses a tag it does not match."""
    assert inputs["image"]["default"] == f"ghcr.io/enkryptify/fetch-secrets:{__version__}"
    ci = (COMPONENT_DIR / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert 'grep -q "default. ghcr.io/enkryptify/fetch-secrets:$CI_COMMIT_TAG\\$" templates/fetch-secrets.yml' in ci
    line = next(x for x in TEMPLATE.read_text(encoding="utf-8").splitlines() if "default: ghcr.io/" in x)
    assert re.search(rf"default. ghcr.io/enkryptify/fetch-secrets:{re.escape(__version__)}$", line)


@pytest.mark.parametrize("name", sorted({o.name for o in OPTIONS} | GITLAB_ONLY))
def test_input_follows_gitlab_spec_rules(name: str, inputs: dict[str, dict[str, Any]]) -> None:
    spec = inputs[name]
    assert set(spec) <= {"default", "description", "options", "regex", "type"}
    assert "default" in spec, "every input is optional"
    assert 0 < len(spec["description"]) <= 1024
    if "options" in spec:
        assert spec.get("type", "string") != "boolean" and len(spec["options"]) <= 50
        assert spec["default"] in spec["options"]
    if "regex" in spec:
        assert spec.get("type", "string") == "string", "regex only applies to string inputs"
        assert re2_search(spec["regex"], str(spec["default"])), "the default must match its own regex"


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("environment", "production "),
        ("environment", "production\n"),
        ("project", " my-project"),
        ("prefix", "APP-"),
        ("token-variable", "1TOKEN"),
        ("token-variable", "TOKEN; rm -rf /"),
        ("dotenv-file", "/etc/passwd"),
        ("job-name", ".hidden"),
    ],
)
def test_regexes_refuse_typical_mistakes(name: str, bad: str, inputs: dict[str, dict[str, Any]]) -> None:
    assert not re2_search(inputs[name]["regex"], bad)


def test_every_input_is_used_by_the_job(job: dict[str, Any]) -> None:
    text = TEMPLATE.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    used = set(re.findall(r"\$\[\[ inputs\.([a-z-]+) \]\]", text))
    assert used == {o.name for o in OPTIONS} | GITLAB_ONLY
    for option in OPTIONS:
        var = "EK_INPUT_" + option.dest.upper()
        assert job["variables"][var] == f"$[[ inputs.{option.name} ]]"


def test_script_passes_every_option(job: dict[str, Any]) -> None:
    """The script's `for option in name=default ...` list matches the options table, in order."""
    script = job["script"][0]
    loop = re.search(r"for option in (.*?)\n\s*do\n", script, re.DOTALL)
    assert loop is not None
    pairs = shlex.split(loop.group(1).replace("\\\n", " "))
    assert pairs == [f"{o.name}={o.default_text()}" for o in OPTIONS]
    assert "--format gitlab" in script
    for option in OPTIONS:  # the script tells booleans by their default
        assert (option.kind is Kind.BOOL) == (option.default_text() in ("true", "false")), option.name


def test_job_settings(job: dict[str, Any]) -> None:
    assert job["image"] == {"name": "$[[ inputs.image ]]", "entrypoint": [""]}
    assert job["artifacts"] == {
        "access": "$[[ inputs.access ]]",
        "expire_in": "$[[ inputs.expire-in ]]",
        "reports": {"dotenv": "$[[ inputs.dotenv-file ]]"},
    }
    assert job["needs"] == []
    assert "section_start:" in job["script"][0] and "section_end:" in job["script"][0]


def test_readme_inputs_table_matches_the_template(inputs: dict[str, dict[str, Any]]) -> None:
    readme = (COMPONENT_DIR / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| `([^`]*)` \|", readme, re.MULTILINE))
    assert set(rows) == set(inputs), "README inputs table and template inputs differ"
    for name, spec in inputs.items():
        default = spec["default"]
        text = ("true" if default else "false") if isinstance(default, bool) else str(default)
        assert rows[name] == (text or '""'), f"README default of {name}"


def _gitlab_ci_schema() -> dict[str, Any]:
    from importlib.resources import files

    text = (files("check_jsonschema") / "builtin_schemas" / "vendor" / "gitlab-ci.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_template_header_validates_against_gitlabs_schema() -> None:
    """The header alone (check-jsonschema cannot read the two-document file, issue #561)."""
    header, _ = load_template()
    jsonschema.validate(header, _gitlab_ci_schema())


def test_component_project_ci_validates_against_gitlabs_schema() -> None:
    ci = yaml.safe_load((COMPONENT_DIR / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    jsonschema.validate(ci, _gitlab_ci_schema())
