"""Property tests of the GitLab dotenv report against the GitLab emulation (tests/gitlab/dotenv_emulation.py).

The whole chain, rebuilt from GitLab's and GitLab Runner's source: the runner's gzip upload and Rails'
parse (size on the gzip, count before keys), Rails' expansion pass (``$``, ``${}``, ``%NAME%``, in
dependency order, cycles, undefined names kept), the runner's variable assembly (its feature flags
dropped, its own variables set last, one ``$`` pass) and real bash (``export K=<escaped>`` under errexit,
read back from the environment). A report is either delivered to the consuming job byte for byte, or
refused before anything is written, for a reason the real code gives.
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
from hypothesis import example, given
from hypothesis import strategies as st

from enkryptify_action import cli
from enkryptify_action.errors import EXIT_OK, EXIT_VALIDATION, ValidationError
from enkryptify_action.formats import render_dotenv
from enkryptify_action.plan import ExportItem, ExportPlan
from enkryptify_action.sinks.gitlab import (
    DEFAULT_REPORT_NAME,
    GITLAB_MAX_DOTENV_BYTES,
    KUBERNETES_OVERWRITE,
    RAILS_REFERENCE,
    escape_gitlab_value,
    gzip_size,
    name_problem,
    render_gitlab_dotenv,
)
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.gitlab.dotenv_emulation import (
    RUNNER_FEATURE_FLAGS,
    DotenvRejected,
    JobFailed,
    delivered_variables,
    runner_gzip,
)
from tests.hardening import strategies as hs
from tests.hardening.profiles import FUZZ
from tests.hardening.public_text import is_public
from tests.hardening.test_fuzz_github import plan_options, plan_or_refusal

TOKEN = "ek_live_fuzz_gitlab_0123456789abcdef"
MAX_VARIABLES = 50
SENTINEL = "SENTINEL=left-by-an-earlier-job\n"

# Names and value pieces GitLab treats specially, on top of the shared attack strategies.
RUNNER_NAMES = [
    "FF_USE_FASTZIP", "FF_SOME_LATER_FLAG", "CI_RUNNER_VERSION", "CI_RUNNER_X", "GITLAB_ENV", "_",
    "CI_DISPOSABLE_ENVIRONMENT", "RUNNER_TEMP_PROJECT_DIR", "RANDOM", "UID", "OPTIND", "1ABC",
    "KUBERNETES_NAMESPACE_OVERWRITE", "KUBERNETES_POD_LABELS_X", "KUBERNETES_CPU_LIMIT",
]  # fmt: skip
PERCENT = ("%CI_JOB_TOKEN%", "%A_B%", "%A%", "%1%", "%%", "50%", "%$A%", "%_%", "%x%")
gitlab_values = st.one_of(
    hs.values,
    st.lists(st.one_of(st.sampled_from(PERCENT), hs.fragment), max_size=8).map("".join),
)
gitlab_secrets = st.dictionaries(st.one_of(hs.names, st.sampled_from(RUNNER_NAMES)), gitlab_values, max_size=6)

# Variables the consuming job already has (lower precedence than dotenv): a `$NAME` or `%NAME%` in a value
# would expand to these. Every job has CI_JOB_TOKEN; the others are the names the value pieces refer to.
# Names bash or the runner own are left out of the random ones: they would stop or alter any job.
BASE_JOB_VARIABLES = {"CI_JOB_TOKEN": "job-token-1", "A": "a-1", "A_B": "ab-1", "x": "x-1", "HOME": "/root"}
job_variables = st.dictionaries(
    st.sampled_from(["HOME", "CI_JOB_TOKEN", "A_B", "A", "APP_A", "x", "_x"]) | hs.valid_names,
    hs.joined,
    max_size=4,
).map(lambda d: BASE_JOB_VARIABLES | {k: v for k, v in d.items() if _runner_neutral(k)})


def _runner_neutral(name: str) -> bool:
    return name_problem(name) is None and name not in ("PATH", "IFS")


def _delivers_exactly(item: ExportItem) -> bool:
    """Whether the emulated GitLab delivers this one variable exactly, with every name it refers to
    defined and every FF_ name known to the runner (a later runner version may add any)."""
    written = escape_gitlab_value(item.value)
    referenced = {m.group("percent") for m in RAILS_REFERENCE.finditer(written) if m.group("percent")}
    flags = dict(RUNNER_FEATURE_FLAGS) | ({item.name: False} if item.name.startswith("FF_") else {})
    try:
        data = f"{item.name}={written}\n".encode()
        got = delivered_variables(
            data,
            job_variables={name: f"defined-{name}" for name in referenced},
            feature_flags=flags,
            variable_limit=1,
            size_limit=10**9,
        )
    except (DotenvRejected, JobFailed, UnicodeEncodeError):
        return False
    return got.get(item.name) == item.value


def refusal_is_justified(plan: ExportPlan) -> bool:
    """Each refusal has a cause in the real code: a variable GitLab does not deliver exactly, too many
    variables (Rails' count), a gzip within our documented margin of the size limit, or a name in a
    namespace the runner owns (CI_RUNNER_*, Kubernetes overwrites) where the runner may add names."""
    for item in plan.items:
        if not _delivers_exactly(item):
            return True
        if item.name.startswith("CI_RUNNER_") or KUBERNETES_OVERWRITE.fullmatch(item.name):
            return True
    if len(plan.items) > MAX_VARIABLES:
        return True
    data = "".join(f"{i.name}={escape_gitlab_value(i.value)}\n" for i in plan.items).encode()
    uploaded = len(runner_gzip(data, DEFAULT_REPORT_NAME))
    estimate = gzip_size(data, DEFAULT_REPORT_NAME)
    return estimate >= GITLAB_MAX_DOTENV_BYTES and estimate <= uploaded * 1.06 + 64


NO_OPTIONS = {"prefix": "", "name_case": "preserve", "invalid_names": "error", "allow_dangerous_names": True}
NO_OPTIONS |= {"parse_json": False}


@FUZZ
@given(gitlab_secrets, plan_options, job_variables)
@example({"K": "a\rb"}, NO_OPTIONS, BASE_JOB_VARIABLES)  # an inner CR arrives: not refused
@example({"K": "pw-%CI_JOB_TOKEN%-end"}, NO_OPTIONS, BASE_JOB_VARIABLES)  # would carry the job token
@example({"K": "%1%A%"}, NO_OPTIONS, BASE_JOB_VARIABLES)  # Rails' scan finds %A% after "%1"
@example({"K": "%%A%% 50% %1% %$A%"}, NO_OPTIONS, BASE_JOB_VARIABLES)  # none of these is a reference
@example({"FF_USE_FASTZIP": "v", "K": "v"}, NO_OPTIONS, BASE_JOB_VARIABLES)  # dropped by the runner
@example({"CI_RUNNER_VERSION": "v"}, NO_OPTIONS, BASE_JOB_VARIABLES)  # the runner's value wins
@example({"RANDOM": "v"}, NO_OPTIONS, BASE_JOB_VARIABLES)  # bash computes it
@example({"K": "pa$A ${A} $$ $1 ${"}, NO_OPTIONS, BASE_JOB_VARIABLES)
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
@given(secrets=gitlab_secrets, fmt=st.sampled_from(["gitlab", "dotenv", "json"]), parse_json=st.booleans())
@example(secrets={"A": "0\r0"}, fmt="gitlab", parse_json=False)  # found by the long profile (a test bug)
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
        written = out.read_bytes().decode("utf-8")  # not read_text: it would turn a CR into a newline
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
