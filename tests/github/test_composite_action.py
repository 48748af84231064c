"""The composite action (any-runner/action.yml): generated, drop-in, and run end to end.

The end-to-end tests run its steps under ``composite_runner`` (real bash, a real venv built from
requirements/runtime.txt by this machine's Python) against the fake API on loopback, and check the
fetch step with the same runner emulation (``assert_action_run``) as the container action's tests.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from enkryptify_action.formats import dotenv_problem, dotenv_value
from enkryptify_action.github import action_yml, host_paths
from enkryptify_action.github.composite import COMPOSITE, RUNTIME_VAR
from enkryptify_action.options import GITHUB, for_platform
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.github.action_harness import AUDIT_SITE, REPO, RunnerDirs, assert_action_run, run_entrypoint
from tests.github.composite_runner import (
    COMPOSITE as FOLDER,
)
from tests.github.composite_runner import (
    CompositeRun,
    UnsupportedExpression,
    base_python,
    evaluate,
    load_manifest,
    run_composite,
)
from tests.github.test_e2e_action import ADVERSARIAL, DANGEROUS, DOTENV_SAFE, EXPORTED, TOKEN, make_fake, outputs_for

MANIFEST = FOLDER / "action.yml"
VENV = action_yml.VENV_DIR

# --- the manifest -------------------------------------------------------------------------------


def test_committed_composite_action_yml_is_the_generated_one() -> None:
    committed = MANIFEST.read_text(encoding="utf-8")
    assert committed == action_yml.render_composite(), (
        "run: python -m enkryptify_action.github.action_yml --composite > any-runner/action.yml "
        "(a Dependabot update of setup-python: first copy its SHA and version into SETUP_PYTHON in action_yml.py)"
    )
    assert FOLDER.name == action_yml.COMPOSITE_DIR


def test_inputs_and_outputs_are_exactly_the_container_actions() -> None:
    main = yaml.safe_load(action_yml.render())
    composite = yaml.safe_load(action_yml.render_composite())
    assert composite["inputs"] == main["inputs"]
    assert list(composite["inputs"]) == [o.name for o in for_platform(GITHUB)] + [host_paths.INPUT]
    assert {name: spec["description"] for name, spec in composite["outputs"].items()} == {
        name: spec["description"] for name, spec in main["outputs"].items()
    }
    assert {name: spec["value"] for name, spec in composite["outputs"].items()} == {
        name: f"${{{{ steps.{action_yml.FETCH_STEP}.outputs.{name} }}}}" for name in main["outputs"]
    }


def test_composite_action_yml_passes_the_schema_store_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions", str(MANIFEST)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_steps_use_bash_a_pinned_setup_python_and_the_hash_locked_requirements() -> None:
    steps = load_manifest()["runs"]["steps"]
    [setup] = [step for step in steps if "uses" in step]
    assert re.fullmatch(r"actions/setup-python@[0-9a-f]{40}", setup["uses"]), "pin setup-python by commit SHA"
    assert setup["with"]["update-environment"] == "false", "the job's own Python and PATH must not change"
    version = setup["with"]["python-version"]
    assert re.fullmatch(r"3\.\d+", version), "a fixed Python version, not a range"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert requires == ">=3.11" and int(version.split(".")[1]) >= 11
    runs = [step for step in steps if "run" in step]
    assert runs and all(step["shell"] == "bash" for step in runs)
    install = next(step["run"] for step in runs if "pip" in step["run"])
    assert "--require-hashes" in install and "--only-binary=:all:" in install
    assert '"$ENKRYPTIFY_ACTION_PATH/../requirements/runtime.txt"' in install
    assert '"$RUNNER_TEMP/' in install and "Scripts/python.exe" in install and "bin/python" in install
    for step in runs:
        assert not re.search(r"(^|[\s\"'=])/(tmp|home|usr|opt|Users)\b", step["run"]), "paths from runner variables"


def test_the_fetch_step_passes_every_input_as_its_input_variable() -> None:
    fetch = next(s for s in load_manifest()["runs"]["steps"] if s.get("id") == action_yml.FETCH_STEP)
    env = fetch["env"]
    assert env[RUNTIME_VAR] == COMPOSITE
    inputs = {key: value for key, value in env.items() if key.startswith("INPUT_")}
    assert inputs == {o.github_input_var: f"${{{{ inputs.{o.name} }}}}" for o in for_platform(GITHUB)}
    assert "${{" not in fetch["run"], "no expression in the script: values reach it through env only"
    for step in load_manifest()["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"step {step.get('id')}: expressions go through env only"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${{ inputs.name-case }}", "upper"),
        ("a ${{inputs.missing}} b", "a  b"),
        ("${{ github.action_path }}/x", "/act/x"),
        ("${{ steps.venv.outputs.python }}", "/py"),
        ("${{ steps.nope.outputs.python }}", ""),
    ],
)
def test_the_emulation_evaluates_the_expressions_the_action_uses(text: str, expected: str) -> None:
    contexts = {
        "inputs": {"name-case": "upper"},
        "github": {"action_path": "/act"},
        "steps": {"venv": {"outputs": {"python": "/py"}}},
    }
    assert evaluate(text, contexts) == expected


@pytest.mark.parametrize("text", ["${{ secrets.X }}", "${{ format('{0}', inputs.a) }}", "${{ inputs.a || 'b' }}"])
def test_the_emulation_refuses_expressions_it_does_not_know(text: str) -> None:
    with pytest.raises(UnsupportedExpression):
        evaluate(text, {"inputs": {"a": "1"}})


def test_the_emulation_stops_at_the_first_failing_step_like_the_runner(tmp_path: Path) -> None:
    """CompositeActionHandler: later steps default to success(); outputs are evaluated only after all steps."""
    folder = tmp_path / "action"
    folder.mkdir()
    manifest = {
        "name": "t",
        "description": "t",
        "inputs": {"word": {"description": "w", "default": "dflt"}},
        "outputs": {"said": {"description": "s", "value": "${{ steps.one.outputs.said }}"}},
        "runs": {
            "using": "composite",
            "steps": [
                {
                    "id": "one",
                    "shell": "bash",
                    "env": {"W": "${{ inputs.word }}"},
                    "run": 'echo "said=$W" >> "$GITHUB_OUTPUT"',
                },
                {"id": "two", "shell": "bash", "run": 'false\necho "not reached" > "$RUNNER_TEMP/reached"'},
                {"id": "three", "shell": "bash", "run": 'echo ran > "$RUNNER_TEMP/three"'},
            ],
        },
    }
    (folder / "action.yml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    dirs = RunnerDirs(tmp_path / "runner")
    ok = run_composite(dirs, {}, folder=folder)
    assert (ok.exit_code, ok.failed_step) == (1, "two")  # bash -e: `false` ends the script
    assert not (dirs.temp / "reached").exists() and not (dirs.temp / "three").exists()
    assert ok.outputs == {} and ok.steps["one"].outputs.as_dict() == {"said": "dflt"}


# --- end to end ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def venv_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One venv built by the composite's own install step; tests copy it into their RUNNER_TEMP (a warm run)."""
    dirs = RunnerDirs(tmp_path_factory.mktemp("composite-template"))
    fake = make_fake({"WARM_UP": "warm-up-value"})
    with serve_fake(fake) as url:
        run = run_composite(dirs, {"project": "web-app", "environment": "production", "api-url": url}, job_env=_job())
    assert run.exit_code == 0, run.steps[run.failed_step or "fetch"].stderr[-2000:]
    return dirs.temp / VENV


@pytest.fixture
def dirs(tmp_path: Path, venv_template: Path) -> RunnerDirs:
    found = RunnerDirs(tmp_path)
    shutil.copytree(venv_template, found.temp / VENV, symlinks=True)
    # Test instrumentation only: the audit hook that reports every file write (tests/github/audit_site).
    python = str(found.temp / VENV / "bin" / "python")
    purelib = subprocess.run(
        [python, "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "zz_enkryptify_test_audit.pth").write_text(str(AUDIT_SITE) + "\n", encoding="utf-8")
    return found


@pytest.fixture
def serve() -> Iterator[object]:
    stack: list[object] = []

    def start(secrets: dict[str, str]) -> tuple[FakeEnkryptify, str]:
        fake = make_fake(secrets)
        context = serve_fake(fake)
        url = context.__enter__()
        stack.append(context)
        return fake, url

    yield start
    for context in stack:
        context.__exit__(None, None, None)  # type: ignore[attr-defined]


def _job(token: str = TOKEN) -> dict[str, str]:
    return {"ENKRYPTIFY_TOKEN": token}


def _inputs(url: str, **inputs: str) -> dict[str, str]:
    base = {"project": "web-app", "environment": "production", "api-url": url}
    base.update({name.replace("_", "-"): value for name, value in inputs.items()})
    return base


def _credentials(fake: FakeEnkryptify) -> dict[str, str]:
    return {"token": TOKEN} | {f"jwt {i}": jwt for i, jwt in enumerate(fake.jwts)}


def _nothing_left_for_a_post_step(run: CompositeRun) -> None:
    assert run.fetch.files["GITHUB_STATE"] == "", "the composite has no post step: no state to save"


def test_cold_run_builds_its_venv_and_exports_exactly_like_the_container_action(serve, tmp_path: Path) -> None:
    fake, url = serve(ADVERSARIAL)
    dirs = RunnerDirs(tmp_path)
    (dirs.workspace / "enkryptify_action").mkdir()  # a repository cannot shadow the program (python -I)
    (dirs.workspace / "enkryptify_action" / "__init__.py").write_text("raise SystemExit(99)\n")
    (dirs.workspace / "httpx.py").write_text("raise SystemExit(98)\n")

    run = run_composite(dirs, _inputs(url, name_case="preserve"), job_env=_job())

    assert run.exit_code == 0, run.fetch.annotations("error")
    assert run.setup_python == {"python-version": action_yml.PYTHON_VERSION, "update-environment": "false"}
    install = run.steps["venv"]
    assert install.files["GITHUB_ENV"] == "" and install.files["GITHUB_PATH"] == "", "the job's PATH is left alone"
    venv = dirs.temp / VENV
    assert run.steps["venv"].outputs.as_dict() == {"python": str(venv / "bin" / "python")}
    assert (venv / "pyvenv.cfg").is_file() and not (venv / "bin" / "pip").exists(), "a venv without pip"
    assert_action_run(
        run.fetch,
        secrets=ADVERSARIAL | _credentials(fake),
        expected_env=EXPORTED,
        expected_outputs=outputs_for(EXPORTED, per_secret=False),
        credentials=_credentials(fake),
        require_write_markers=False,  # the audit hook is not in a freshly built venv
    )
    assert run.outputs == outputs_for(EXPORTED, per_secret=False)
    _nothing_left_for_a_post_step(run)


def test_same_exports_summary_and_log_as_the_container_program(serve, dirs: RunnerDirs, tmp_path: Path) -> None:
    fake, url = serve(ADVERSARIAL)
    run = run_composite(dirs, _inputs(url), job_env=_job())
    assert run.exit_code == 0
    assert_action_run(
        run.fetch,
        secrets=ADVERSARIAL | _credentials(fake),
        expected_env=EXPORTED,
        expected_outputs=outputs_for(EXPORTED, per_secret=False),
        credentials=_credentials(fake),
    )

    other = RunnerDirs(tmp_path / "container")
    container = run_entrypoint(other.environ(_inputs(url), extra=_job()), cwd=other.workspace)
    assert container.exit_code == 0
    assert run.fetch.env.values == container.env.values
    assert run.fetch.outputs.as_dict() == container.outputs.as_dict()
    same_summary = run.fetch.files["GITHUB_STEP_SUMMARY"] == container.files["GITHUB_STEP_SUMMARY"]
    assert same_summary
    assert [line for line in run.fetch.log.splitlines() if "add-mask" not in line] == [
        line for line in container.log.splitlines() if "add-mask" not in line
    ]


def test_a_second_use_in_the_job_reuses_the_venv_and_a_changed_stamp_rebuilds_it(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    sentinel = dirs.temp / VENV / "sentinel"
    sentinel.write_text("kept")
    first = run_composite(dirs, _inputs(url), job_env=_job())
    assert first.exit_code == 0 and sentinel.exists(), "the venv was rebuilt although nothing changed"

    (dirs.temp / VENV / "enkryptify-ready").write_text("another action version\n")
    second = run_composite(dirs, _inputs(url), job_env=_job())
    assert second.exit_code == 0 and not sentinel.exists(), "a stale venv was reused"
    assert second.fetch.env.values == {"A_SECRET": "value-of-a"}


def test_export_file_under_runner_temp_is_written_and_left_to_the_runner(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve(DOTENV_SAFE)
    path = dirs.temp / "secrets" / "enkryptify.env"
    run = run_composite(dirs, _inputs(url, export_file=str(path), export_env="false"), job_env=_job())

    assert run.exit_code == 0
    exported = {k: v for k, v in EXPORTED.items() if dotenv_problem(v) is None}
    assert_action_run(
        run.fetch, secrets=DOTENV_SAFE, expected_env={}, expected_outputs=outputs_for(exported, per_secret=False)
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    expected = "".join(f"{name}={dotenv_value(value)}\n" for name, value in exported.items())
    assert path.read_text(encoding="utf-8") == expected, "the dotenv file differs from the secrets"
    _nothing_left_for_a_post_step(run)


@pytest.mark.parametrize("where", [".env.ci", "secrets/.env.ci", "/etc/enkryptify.env"])
def test_export_file_outside_runner_temp_is_refused_before_any_request(serve, dirs: RunnerDirs, where: str) -> None:
    fake, url = serve({"A_SECRET": "value-of-a"})
    run = run_composite(dirs, _inputs(url, export_file=where), job_env=_job())

    assert run.exit_code == 2 and run.failed_step == "fetch"
    assert_action_run(run.fetch, secrets={"A_SECRET": "value-of-a"}, expected_env=None, expected_outputs=None)
    [error] = run.fetch.annotations("error")
    assert "outside RUNNER_TEMP" in error and "no post step" in error and "Hint:" in error
    assert not (dirs.workspace / ".env.ci").exists() and not (dirs.workspace / "secrets").exists()
    assert not fake.jwts, "refused before the token was used"
    assert run.outputs == {}


def test_secret_files_outside_runner_temp_are_refused_and_inside_are_written(serve, dirs: RunnerDirs) -> None:
    fake, url = serve({"A_SECRET": "value-of-a"})
    run = run_composite(dirs, _inputs(url, files="A_SECRET=certs/a.pem"), job_env=_job())
    assert run.exit_code == 2 and run.failed_step == "fetch"
    [error] = run.fetch.annotations("error")
    assert "files 'certs/a.pem' is outside RUNNER_TEMP" in error
    assert not fake.jwts and not (dirs.workspace / "certs").exists()

    inside = dirs.temp / "certs" / "a.pem"
    run = run_composite(dirs, _inputs(url, files=f"A_SECRET={inside}"), job_env=_job())
    assert run.exit_code == 0
    assert inside.read_text() == "value-of-a" and run.fetch.env.values == {"A_SECRET": str(inside)}
    _nothing_left_for_a_post_step(run)


def test_the_container_action_still_accepts_an_export_file_in_the_workspace(serve, dirs: RunnerDirs) -> None:
    """The refusal is the composite's alone: without its variable the same inputs export the file."""
    _fake, url = serve({"A_SECRET": "value-of-a"})
    run = run_entrypoint(dirs.environ(_inputs(url, export_file=".env.ci"), extra=_job()), cwd=dirs.workspace)
    assert run.exit_code == 0
    assert (dirs.workspace / ".env.ci").read_text() == "A_SECRET='value-of-a'\n"
    assert run.state, "the container action records the file for its post step"


def test_export_outputs_is_refused_because_a_composite_passes_on_declared_outputs_only(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    run = run_composite(dirs, _inputs(url, export_outputs="true"), job_env=_job())

    assert run.exit_code == 2
    assert_action_run(run.fetch, secrets={"A_SECRET": "value-of-a"}, expected_env=None, expected_outputs=None)
    [error] = run.fetch.annotations("error")
    assert "export-outputs" in error and "names, count" in error


def test_dangerous_names_are_refused_with_the_same_code_and_message(serve, dirs: RunnerDirs, tmp_path: Path) -> None:
    fake, url = serve(DANGEROUS)
    run = run_composite(dirs, _inputs(url), job_env=_job())
    assert run.exit_code == 6
    assert_action_run(
        run.fetch, secrets=DANGEROUS, expected_env=None, expected_outputs=None, credentials=_credentials(fake)
    )
    other = RunnerDirs(tmp_path / "container")
    container = run_entrypoint(other.environ(_inputs(url), extra=_job()), cwd=other.workspace)
    assert container.exit_code == 6
    assert run.fetch.annotations("error") == container.annotations("error")


def test_bad_token_fails_with_exit_3_an_annotation_and_a_hint(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    bad = "ek_live_revoked_or_unknown_token_value"
    run = run_composite(dirs, _inputs(url, token=bad), job_env=_job())

    assert run.exit_code == 3
    assert_action_run(
        run.fetch, secrets={"token": bad}, expected_env=None, expected_outputs=None, credentials={"token": bad}
    )
    [error] = run.fetch.annotations("error")
    assert "Hint:" in error and "title=Authentication failed" in run.fetch.stdout


def test_hyphenated_inputs_reach_the_program_through_bash(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"lower_secret": "value-of-lower"})
    run = run_composite(dirs, _inputs(url, name_case="upper", summary="false"), job_env=_job())
    assert run.exit_code == 0
    assert run.fetch.env.values == {"LOWER_SECRET": "value-of-lower"}
    assert run.fetch.files["GITHUB_STEP_SUMMARY"] == ""
    assert run.outputs == {"names": '["LOWER_SECRET"]', "count": "1"}


def test_the_job_python_and_pythonpath_do_not_reach_the_program(serve, dirs: RunnerDirs, tmp_path: Path) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "sitecustomize.py").write_text("raise SystemExit(97)\n")
    (hostile / "httpx.py").write_text("raise SystemExit(96)\n")
    job = _job() | {"PYTHONPATH": str(hostile), "PYTHONHOME": str(hostile), "PYTHONSTARTUP": str(hostile / "x.py")}
    run = run_composite(dirs, _inputs(url), job_env=job)
    assert run.exit_code == 0, run.fetch.stderr[-500:]
    assert run.fetch.env.values == {"A_SECRET": "value-of-a"}


def test_a_cold_install_ignores_the_jobs_python_variables(serve, tmp_path: Path) -> None:
    """Regression: pip runs the venv's interpreter without -I, so a job-wide PYTHONHOME broke the install."""
    _fake, url = serve({"A_SECRET": "value-of-a"})
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "sitecustomize.py").write_text("raise SystemExit(97)\n")
    dirs = RunnerDirs(tmp_path / "runner")
    job = _job() | {"PYTHONHOME": str(hostile), "PYTHONPATH": str(hostile), "PYTHONSAFEPATH": "1"}
    run = run_composite(dirs, _inputs(url), job_env=job)
    assert run.exit_code == 0, run.steps[run.failed_step or "fetch"].stderr[-500:]
    assert run.fetch.env.values == {"A_SECRET": "value-of-a"}


@pytest.mark.parametrize(("runner_os", "code"), [("Windows", 6), ("Linux", 0), ("macOS", 0)])
def test_names_differing_only_in_case_are_refused_on_windows(
    serve, dirs: RunnerDirs, runner_os: str, code: int
) -> None:
    """Windows env names are case-insensitive (VarUtil.cs): the runner would silently keep one of the two."""
    secrets = {"api_key": "lower-value", "API_KEY": "upper-value"}
    _fake, url = serve(secrets)
    extra = _job() | {RUNTIME_VAR: COMPOSITE, "RUNNER_OS": runner_os}
    run = run_entrypoint(dirs.environ(_inputs(url), extra=extra), cwd=dirs.workspace)

    assert run.exit_code == code
    if code:
        assert_action_run(run, secrets=secrets, expected_env=None, expected_outputs=None)
        [error] = run.annotations("error")
        assert "case-insensitive on Windows" in error and "api_key and API_KEY" in error
    else:
        assert run.env.values == secrets


def test_the_install_step_finds_a_windows_venvs_interpreter_in_scripts(serve, dirs: RunnerDirs) -> None:
    _fake, url = serve({"A_SECRET": "value-of-a"})
    venv = dirs.temp / VENV
    (venv / "Scripts").mkdir()
    (venv / "Scripts" / "python.exe").symlink_to(venv / "bin" / "python")  # the layout `venv` makes on Windows
    run = run_composite(dirs, _inputs(url), job_env=_job())
    assert run.steps["venv"].outputs.as_dict() == {"python": str(venv / "Scripts" / "python.exe")}
    assert run.exit_code == 0 and run.fetch.env.values == {"A_SECRET": "value-of-a"}


def test_base_python_is_a_real_interpreter() -> None:
    assert Path(base_python()).is_file()


# --- examples -----------------------------------------------------------------------------------


def test_macos_and_windows_examples_use_the_composite_action_with_declared_inputs_only() -> None:
    declared = set(load_manifest()["inputs"])
    seen: set[str] = set()
    for path in sorted((REPO / "examples" / "github").glob("*.yml")):
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values():
            for step in job["steps"]:
                if not step.get("uses", "").startswith("enkryptify/fetch-secrets/any-runner@"):
                    continue
                seen.add(job["runs-on"])
                assert set(step.get("with", {})) <= declared, path.name
                assert step["env"]["ENKRYPTIFY_TOKEN"] == "${{ secrets.ENKRYPTIFY_TOKEN }}", path.name
                export_file = step.get("with", {}).get("export-file", "")
                assert not export_file or export_file.startswith("${{ runner.temp }}/"), path.name
                assert not step.get("with", {}).get("export-outputs"), path.name
    assert {"macos-latest", "windows-latest"} <= seen


def test_the_readme_shows_the_composite_with_declared_inputs_and_a_table_of_runners() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### macOS, Windows and Docker-less runners: `any-runner`", 1)[1].split("\n## ", 1)[0]
    for runner in ("Linux with Docker", "macOS", "Windows", "Linux without Docker"):
        assert f"| {runner}" in section
    [block] = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    [step] = [s for s in yaml.safe_load(block) if "uses" in s]
    assert step["uses"].startswith("enkryptify/fetch-secrets/any-runner@")
    assert set(step["with"]) <= set(load_manifest()["inputs"])
    assert "macos.yml" in section and "windows.yml" in section
