"""Property tests of the GitLab dotenv report against the GitLab emulation (tests/gitlab/dotenv_emulation.py).

A report is either delivered to the consuming job exactly (GitLab's upload parser, then GitLab Runner's
one-pass ``$`` expansion against the job's other variables) or refused before anything is written.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enkryptify_action import cli
from enkryptify_action.errors import EXIT_OK, EXIT_VALIDATION, ValidationError
from enkryptify_action.formats import render_dotenv
from enkryptify_action.plan import ExportPlan
from enkryptify_action.sinks.gitlab import GITLAB_MAX_DOTENV_BYTES, name_problem, render_gitlab_dotenv, value_problem
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.gitlab.dotenv_emulation import delivered_variables
from tests.hardening import strategies as hs
from tests.hardening.profiles import FUZZ
from tests.hardening.public_text import is_public
from tests.hardening.test_fuzz_github import plan_options, plan_or_refusal

TOKEN = "ek_live_fuzz_gitlab_0123456789abcdef"
MAX_VARIABLES = 50
SENTINEL = "SENTINEL=left-by-an-earlier-job\n"

# Variables the consuming job already has: a `$NAME` in a value would expand to these if not escaped.
job_variables = st.dictionaries(
    st.sampled_from(["HOME", "CI_JOB_TOKEN", "A_B", "PATH", "A", "APP_A", "x"]) | hs.valid_names,
    hs.joined,
    max_size=4,
)


def refusal_is_justified(plan: ExportPlan) -> bool:
    text = "".join(f"{i.name}={i.value.replace('$', '$$')}\n" for i in plan.items)
    size = len(text.encode("utf-8", errors="replace"))
    problems = [name_problem(i.name) or value_problem(i.value) for i in plan.items]
    return any(problems) or len(plan.items) > MAX_VARIABLES or size >= GITLAB_MAX_DOTENV_BYTES


@FUZZ
@given(hs.secrets, plan_options, job_variables)
def test_gitlab_report_is_delivered_exactly_or_refused(
    secrets: dict[str, str], options: dict[str, Any], job_vars: dict[str, str]
) -> None:
    plan = plan_or_refusal(secrets, options)
    if not isinstance(plan, ExportPlan):
        return
    try:
        text = render_gitlab_dotenv(plan, max_variables=MAX_VARIABLES)
    except ValidationError as exc:
        assert refusal_is_justified(plan), "a report GitLab could carry was refused"
        names = [f"{i.name} {i.source}" for i in plan.items]
        shown = [i.value for i in plan.items if len(i.value) >= 4 and i.value in exc.message]
        assert all(is_public(v, *names) for v in shown), "a value in the message"
        return
    got = delivered_variables(text.encode("utf-8"), variable_limit=MAX_VARIABLES, job_variables=job_vars)
    assert got == plan.as_dict()


# --- the CLI in-process over real HTTP: `pull --format F --output FILE` -----------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeEnkryptify, str, str]]:
    fake = FakeEnkryptify()
    fake.rate_limits = False
    ws = fake.add_workspace("acme")
    project = fake.add_project(ws, "web-app", environments=("production",))
    fake.add_token(TOKEN)
    with serve_fake(fake) as url:
        yield fake, project, url


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        yield err


@FUZZ
@given(secrets=hs.secrets, fmt=st.sampled_from(["gitlab", "dotenv", "json"]), parse_json=st.booleans())
def test_cli_pull_writes_the_whole_file_or_leaves_it_untouched(
    served: tuple[FakeEnkryptify, str, str], secrets: dict[str, str], fmt: str, parse_json: bool
) -> None:
    fake, project, url = served
    fake.projects[project].secrets.clear()
    for name, value in secrets.items():
        fake.add_secret(project, name, {"production": value})
    plan = plan_or_refusal(secrets, {"parse_json": parse_json})
    environ = {"ENKRYPTIFY_TOKEN": TOKEN, "ENKRYPTIFY_API_URL": url, "ENKRYPTIFY_MAX_VARIABLES": str(MAX_VARIABLES)}
    args = ["pull", "--workspace", "acme", "--project", "web-app", "--env", "production", "--format", fmt]
    args += ["--parse-json"] if parse_json else []
    with tempfile.TemporaryDirectory(prefix="ek-fuzz-") as folder:
        out = Path(folder) / "secrets.env"
        out.write_text(SENTINEL)
        with mock.patch.dict(os.environ, environ), quiet() as err:
            code = cli.main([*args, "--output", str(out)])
        written = out.read_text(encoding="utf-8")
        mode = out.stat().st_mode & 0o777
        others = sorted(p.name for p in Path(folder).iterdir() if p != out)
    assert not others, "a temporary file was left behind"
    logged = err.getvalue()
    for value in secrets.values():
        leaked = len(value.strip()) >= 4 and value in logged and not is_public(value, *secrets, str(out))
        assert not leaked, "a value reached stderr"
    if not isinstance(plan, ExportPlan):
        assert code == EXIT_VALIDATION and written == SENTINEL
        return
    if fmt == "gitlab":
        try:
            render_gitlab_dotenv(plan, max_variables=MAX_VARIABLES)
        except ValidationError:
            assert code == EXIT_VALIDATION and written == SENTINEL
            return
        assert code == EXIT_OK, logged
        assert delivered_variables(written.encode("utf-8"), variable_limit=MAX_VARIABLES) == plan.as_dict()
    elif fmt == "json":
        assert code == EXIT_OK, logged
        assert json.loads(written) == plan.as_dict()
    else:
        try:
            expected = render_dotenv(plan)
        except ValidationError:  # a value no dotenv reader would read back exactly
            assert code == EXIT_VALIDATION and written == SENTINEL
            return
        assert code == EXIT_OK, logged
        assert written == expected
    assert mode == 0o600
