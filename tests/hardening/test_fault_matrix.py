"""Fault matrix: the real CLI and the real action (subprocesses) against the fake API on loopback.

One row per fault, each with the expected exit code and, for a failing row, the documented hint. Every
row runs through three paths: ``pull --format dotenv --output FILE``, ``pull --format gitlab --output FILE``
and the GitHub action (``entrypoint.py``, export-env + export-outputs + export-file). Export files are
pre-filled with sentinel content: a failing row must leave every one byte-identical (and no temporary
file behind); a passing row must export the secrets exactly. The whole matrix runs concurrently once per
session (a thread pool of subprocesses), then one test per row and path checks the recorded outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from enkryptify_action.client import HINTS, NETWORK_HINT
from enkryptify_action.formats import dotenv_value
from enkryptify_action.network import TIMEOUT_HINT
from tests.e2e.cli_helpers import base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.faults import Fault
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunnerDirs, run_entrypoint
from tests.github.runner_emulation import RunnerEnv, RunnerOutputs
from tests.gitlab.dotenv_emulation import delivered_variables

TOKEN = "ek_live_fault_matrix_0123456789abcdef"
SECRETS = {"DB_URL": "postgres://app:s3cr3t-pw@db.internal:5432/app", "API_KEY": "key-with-$dollar-and=equals"}
SECRETS_PATH = "/v1/workspace/*/project/*/secret"
EXCHANGE = "/v1/auth/exchange"
BAD_BODY_HINT = "Check api-url points at the Enkryptify API (not a proxy or login page); retry later."
SENTINEL_FILE = "SENTINEL=written-by-an-earlier-step\n"
SENTINEL_RECORD = "EARLIER_STEP<<ghadelimiter_sentinel\nkept\nghadelimiter_sentinel\n"
PATHS = ("cli-dotenv", "cli-gitlab", "action")


@dataclass(frozen=True)
class Row:
    id: str
    setup: Callable[[FakeEnkryptify], None]
    exit_code: int
    hint: str | None = None  # failing rows: the documented hint, exactly
    message: str = ""  # a fragment of the error (or, for a passing row, of a warning)
    options: dict[str, str] = field(default_factory=dict)
    check: Callable[[FakeEnkryptify], None] | None = None  # what the fake saw


def inject(method: str, path: str, *faults: Fault, sticky: bool = False) -> Callable[[FakeEnkryptify], None]:
    return lambda fake: fake.inject(method, path, list(faults), sticky=sticky)


def statuses(path_end: str, expected: list[int]) -> Callable[[FakeEnkryptify], None]:
    def check(fake: FakeEnkryptify) -> None:
        assert [r.status for r in fake.requests if r.path.endswith(path_end)] == expected

    return check


def two_exchanges(fake: FakeEnkryptify) -> None:
    assert [r.status for r in fake.requests if r.path == EXCHANGE] == [200, 200]
    assert [r.status for r in fake.requests if r.path.endswith("/secret")] == [401, 200]


def direct_bearer_after_429(fake: FakeEnkryptify) -> None:
    assert [r.status for r in fake.requests if r.path == EXCHANGE] == [429]
    assert {r.auth for r in fake.requests if r.path != EXCHANGE} == {"static"}


def revoke(fake: FakeEnkryptify) -> None:
    fake.revoke(TOKEN)


def scope_to_staging(fake: FakeEnkryptify) -> None:
    fake.add_token(TOKEN, environments=["staging"])


RETRY_2 = {"retries": "2"}
ROWS = [
    Row("500 twice then 200", inject("GET", SECRETS_PATH, Fault.status(500), Fault.status(500)), 0,
        check=statuses("/secret", [500, 500, 200])),
    Row("503 with Retry-After", inject("GET", SECRETS_PATH, Fault.status(503, headers={"Retry-After": "1"})), 0,
        check=statuses("/secret", [503, 200])),
    Row("429 with Retry-After", inject("GET", SECRETS_PATH, Fault.status(429, headers={"Retry-After": "1"})), 0,
        check=statuses("/secret", [429, 200])),
    Row("429 on every attempt", inject("GET", SECRETS_PATH, Fault.status(429, headers={"Retry-After": "1"}),
        sticky=True), 5, HINTS[429], "HTTP 429", RETRY_2),
    Row("connection reset mid-body, once", inject("GET", SECRETS_PATH, Fault.reset()), 0,
        check=statuses("/secret", [200, 200])),
    Row("connection reset mid-body, always", inject("GET", SECRETS_PATH, Fault.reset(), sticky=True), 5,
        NETWORK_HINT, "closed or reset mid-response", RETRY_2),
    Row("server slower than the timeout", inject("GET", SECRETS_PATH, Fault.delay(2), sticky=True), 5,
        TIMEOUT_HINT, "timed out after 2 attempt(s)", {"timeout": "0.5", "retries": "2"}),
    Row("invalid JSON", inject("GET", SECRETS_PATH, Fault.invalid_json()), 5, BAD_BODY_HINT,
        "invalid or truncated JSON"),
    Row("truncated JSON", inject("GET", SECRETS_PATH, Fault.truncated_json()), 5, BAD_BODY_HINT,
        "invalid or truncated JSON"),
    Row("HTML error page (502)", inject("GET", SECRETS_PATH, Fault.html(502), sticky=True), 5, HINTS[500],
        "HTTP 502", RETRY_2),
    Row("HTML login page (200)", inject("GET", SECRETS_PATH, Fault.html(200)), 5, BAD_BODY_HINT, "with HTML"),
    Row("wrong content type on a JSON body", inject("GET", SECRETS_PATH, Fault.content_type("text/plain")), 0),
    Row("10 MB body", inject("GET", SECRETS_PATH, Fault.huge_body()), 5, BAD_BODY_HINT,
        "invalid or truncated JSON"),
    Row("JWT expiring mid-run (401, one re-exchange)", inject("GET", SECRETS_PATH, Fault.status(401)), 0,
        check=two_exchanges),
    Row("exchange rate-limited: direct Bearer", inject("POST", EXCHANGE,
        Fault.status(429, headers={"Retry-After": "60"})), 0, message="used the API token directly",
        check=direct_bearer_after_429),
    Row("revoked token", revoke, 3, HINTS[401], "HTTP 401"),
    Row("token scoped to another environment (404)", scope_to_staging, 4, "Available environments: staging.",
        "Environment 'production' not found"),
    Row("token lacking permission (403)", inject("GET", SECRETS_PATH, Fault.status(403), sticky=True), 3,
        HINTS[403], "HTTP 403"),
]  # fmt: skip


def make_fake() -> FakeEnkryptify:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production", "staging"))
    for name, value in SECRETS.items():
        fake.add_secret(prj, name, {"production": value, "staging": "staging-" + value})
    fake.add_token(TOKEN)
    return fake


@dataclass
class Outcome:
    exit_code: int
    error_text: str  # CLI stderr, or the action's error annotations
    warning_text: str
    untouched: bool  # every export file byte-identical to its sentinel
    leftovers: list[str]
    exported: dict[str, Any] | None  # what a consumer would see, for a passing run
    seconds: float
    fake: FakeEnkryptify = field(repr=False)


def run_path(row: Row, path: str, root: Path) -> Outcome:
    fake = make_fake()
    row.setup(fake)
    root.mkdir(parents=True)
    started = time.monotonic()
    with serve_fake(fake) as url:
        if path == "action":
            outcome = _run_action(row, url, root)
        else:
            outcome = _run_cli(row, path.removeprefix("cli-"), url, root)
    outcome.seconds = time.monotonic() - started
    outcome.fake = fake
    return outcome


def _run_cli(row: Row, fmt: str, url: str, root: Path) -> Outcome:
    out = root / "secrets.env"
    out.write_text(SENTINEL_FILE)
    flags = [part for name, value in row.options.items() for part in (f"--{name}", value)]
    args = ["pull", "--workspace", "acme", "--project", "web-app", "--env", "production", "--format", fmt]
    result = run_cli(
        [*args, *flags, "--output", str(out)], env=base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url)
    )
    text = out.read_text(encoding="utf-8")
    exported: dict[str, Any] | None = None
    if result.returncode == 0:
        exported = delivered_variables(text.encode()) if fmt == "gitlab" else ({"dotenv": text})
    return Outcome(
        exit_code=result.returncode,
        error_text=result.stderr,
        warning_text=result.stderr,
        untouched=text == SENTINEL_FILE,
        leftovers=[p.name for p in root.iterdir() if p != out],
        exported=exported,
        seconds=0.0,
        fake=None,  # type: ignore[arg-type]
    )


def _run_action(row: Row, url: str, root: Path) -> Outcome:
    dirs = RunnerDirs(root)
    for var in ("GITHUB_ENV", "GITHUB_OUTPUT"):
        dirs.files[var].write_text(SENTINEL_RECORD)
    export_file = dirs.workspace / ".env.ci"
    export_file.write_text(SENTINEL_FILE)
    inputs = {"workspace": "acme", "project": "web-app", "environment": "production", "api-url": url}
    inputs |= {"export-outputs": "true", "export-file": ".env.ci", **row.options}
    run = run_entrypoint(dirs.environ(inputs, extra={"ENKRYPTIFY_TOKEN": TOKEN}), cwd=dirs.workspace)
    files_same = all(run.files[var] == SENTINEL_RECORD for var in ("GITHUB_ENV", "GITHUB_OUTPUT"))
    file_text = export_file.read_text(encoding="utf-8")
    exported: dict[str, Any] | None = None
    if run.exit_code == 0:
        env = RunnerEnv.from_text(run.files["GITHUB_ENV"]).values
        outputs = RunnerOutputs.from_text(run.files["GITHUB_OUTPUT"]).as_dict()
        exported = {"env": env, "outputs": outputs, "dotenv": file_text}
    return Outcome(
        exit_code=run.exit_code,
        error_text="\n".join(run.annotations("error")),
        warning_text="\n".join(run.annotations("warning")),
        untouched=files_same and file_text == SENTINEL_FILE and run.files["GITHUB_STATE"] == "",
        leftovers=[p.name for p in dirs.workspace.iterdir() if p != export_file],
        exported=exported,
        seconds=0.0,
        fake=None,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Outcome | BaseException]:
    """Every row through every path, six subprocesses at a time."""
    root = tmp_path_factory.mktemp("faults")
    jobs = {(row.id, path): (row, path, root / f"{index}-{path}") for index, row in enumerate(ROWS) for path in PATHS}
    results: dict[tuple[str, str], Outcome | BaseException] = {}
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {key: pool.submit(run_path, *job) for key, job in jobs.items()}
        for key, future in futures.items():
            try:
                results[key] = future.result(timeout=120)
            except BaseException as exc:  # reported by the row's test
                results[key] = exc
    return results


DOTENV = "".join(f"{name}={dotenv_value(value)}\n" for name, value in SECRETS.items())


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_fault(matrix: dict[tuple[str, str], Outcome | BaseException], row: Row, path: str) -> None:
    outcome = matrix[(row.id, path)]
    if isinstance(outcome, BaseException):
        raise outcome
    assert outcome.exit_code == row.exit_code, outcome.error_text
    assert not outcome.leftovers, f"temporary files left behind: {outcome.leftovers}"
    assert "Traceback" not in outcome.error_text and "please report it" not in outcome.error_text
    if row.exit_code != 0:
        assert outcome.untouched, "a failing run changed an export file"
        assert row.message in outcome.error_text
        assert row.hint is not None
        marker = "Hint: " if path == "action" else "hint: "
        assert marker + row.hint in outcome.error_text, "the documented hint is missing"
        return
    assert outcome.exported is not None
    if path == "cli-gitlab":
        assert outcome.exported == SECRETS
    elif path == "cli-dotenv":
        assert outcome.exported == {"dotenv": DOTENV}
    else:
        assert outcome.exported["env"] == {"EARLIER_STEP": "kept", **SECRETS}
        outputs = {"EARLIER_STEP": "kept", "names": '["DB_URL", "API_KEY"]', "count": "2", **SECRETS}
        assert outcome.exported["outputs"] == outputs
        assert outcome.exported["dotenv"] == DOTENV
    assert row.message in outcome.warning_text
    if row.check is not None:
        row.check(outcome.fake)
