"""`enkryptify-fetch pull --format gitlab` in-process over loopback HTTP: the max-size option and the
report's path in the size estimate. Messages name secrets and sizes, never values."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from enkryptify_action import cli
from enkryptify_action.errors import EXIT_OK, EXIT_USAGE, EXIT_VALIDATION
from enkryptify_action.sinks.gitlab import gzip_size
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.gitlab.dotenv_emulation import delivered_variables

TOKEN = "ek_live_cli_gitlab_0123456789abcdef"
SECRETS = {"DB_URL": "postgres://app@db:5432/app?sslmode=require", "RATIO": "50%", "CR": "a\rb"}
ARGS = ["pull", "--workspace", "acme", "--project", "web", "--env", "production", "--format", "gitlab"]


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    fake = FakeEnkryptify()
    fake.rate_limits = False
    ws = fake.add_workspace("acme")
    project = fake.add_project(ws, "web", environments=("production",))
    for name, value in SECRETS.items():
        fake.add_secret(project, name, {"production": value})
    fake.add_token(TOKEN)
    with serve_fake(fake) as url:
        yield url


def pull(api_url: str, *args: str, **env: str) -> tuple[int, str]:
    err = io.StringIO()
    environ = {"ENKRYPTIFY_TOKEN": TOKEN, "ENKRYPTIFY_API_URL": api_url, **env}
    with mock.patch.dict(os.environ, environ), contextlib.redirect_stdout(io.StringIO()):
        with contextlib.redirect_stderr(err):
            code = cli.main([*ARGS, *args])
    return code, err.getvalue()


def test_report_is_delivered_exactly(api_url: str, tmp_path: Path) -> None:
    out = tmp_path / "secrets.env"
    code, log = pull(api_url, "--output", str(out))
    assert code == EXIT_OK, log
    assert delivered_variables(out.read_bytes(), path=str(out)) == SECRETS


def test_max_size_flag_and_variable(api_url: str, tmp_path: Path) -> None:
    out = tmp_path / "secrets.env"
    text = "".join(f"{k}={v}\n" for k, v in SECRETS.items()).encode()
    needed = gzip_size(text, str(out))
    code, log = pull(api_url, "--output", str(out), "--max-size", str(needed))
    assert code == EXIT_VALIDATION and not out.exists()
    assert f"would be {len(text)} bytes, about {needed} bytes gzipped" in log
    assert f"less than max-size ({needed} bytes gzipped" in log
    assert not [name for name, value in SECRETS.items() if len(value) > 3 and value in log]
    code, log = pull(api_url, "--output", str(out), ENKRYPTIFY_MAX_SIZE=str(needed + 1))
    assert code == EXIT_OK, log


def test_the_output_path_is_part_of_the_estimate(api_url: str, tmp_path: Path) -> None:
    """The runner writes the file's name and path into the gzip header: a longer path costs bytes."""
    short, long = tmp_path / "s.env", tmp_path / ("x" * 120 + ".env")
    text = "".join(f"{k}={v}\n" for k, v in SECRETS.items()).encode()
    limit = gzip_size(text, str(short)) + 1
    assert pull(api_url, "--output", str(short), "--max-size", str(limit))[0] == EXIT_OK
    assert pull(api_url, "--output", str(long), "--max-size", str(limit))[0] == EXIT_VALIDATION


@pytest.mark.parametrize("bad", ["0", "-5", "big"])
def test_bad_max_size_is_a_usage_error(api_url: str, tmp_path: Path, bad: str) -> None:
    code, log = pull(api_url, "--output", str(tmp_path / "x.env"), "--max-size", bad)
    assert code == EXIT_USAGE
    assert "max-size" in log
