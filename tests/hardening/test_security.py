"""The security rules of issue 5, one test (or more) each. See SECURITY.md for the threat model."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from enkryptify_action import files
from enkryptify_action.config import validate_api_url
from enkryptify_action.errors import ExportError, UsageError
from tests.e2e.cli_helpers import REPO, base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.hardening import leakscan

PACKAGE = REPO / "enkryptify_action"
TOKEN = "ek_live_security_0123456789abcdef"
VALUES = {"DB_PASSWORD": "correct-horse-battery-staple", "API_KEY": "sk_live_0123456789abcdef"}
WHERE = ["--workspace", "acme", "--project", "web-app", "--env", "production"]


@pytest.fixture
def served() -> Iterator[tuple[FakeEnkryptify, dict[str, str]]]:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    for name, value in VALUES.items():
        fake.add_secret(prj, name, {"production": value})
    fake.add_token(TOKEN)
    with serve_fake(fake) as url:
        yield fake, base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url)


# --- TLS and plain http ------------------------------------------------------------------------

TLS_OFF = [
    r"verify\s*=\s*False",
    r"CERT_NONE",
    r"check_hostname\s*=\s*False",
    r"_create_unverified_context",
    r"PYTHONHTTPSVERIFY",
    r"verify_mode\s*=",
    r"HTTPX_SSL|SSL_VERIFY|INSECURE|insecure",
]


def test_no_code_path_disables_tls_verification() -> None:
    # dangerous.py lists variable names it refuses to export (GOINSECURE, *_SKIP_VERIFY): names, not code paths
    sources = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "dangerous.py")
    assert len(sources) > 10
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for pattern in TLS_OFF
        if re.search(pattern, line)
    ]
    assert not found, "TLS verification could be turned off:\n" + "\n".join(found)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9", "http://127.8.9.10"])
def test_plain_http_is_allowed_to_loopback(url: str) -> None:
    assert validate_api_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.enkryptify.com",
        "http://127.0.0.1.nip.io",
        "http://localhost.evil.example",
        "http://10.0.0.1",
        "http://[::ffff:8.8.8.8]",
        "ftp://127.0.0.1",
        "https://user:pass@api.enkryptify.com",
    ],
)
def test_plain_http_elsewhere_and_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError):
        validate_api_url(url)


# --- argv -----------------------------------------------------------------------------------------


def test_run_passes_secrets_through_the_environment_never_argv(served, tmp_path: Path) -> None:
    _fake, env = served
    probe = (
        "import json, os, sys; "
        "cmdline = open('/proc/self/cmdline', 'rb').read().decode(); "
        "json.dump({'argv': sys.argv, 'cmdline': cmdline, 'env': dict(os.environ)}, open(sys.argv[1], 'w'))"
    )
    seen = tmp_path / "seen.json"
    result = run_cli(["run", *WHERE, "--", sys.executable, "-c", probe, str(seen)], env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(seen.read_text())
    for name, value in VALUES.items():
        assert data["env"][name] == value
        in_argv = value in " ".join(data["argv"]) or value in data["cmdline"]
        assert not in_argv, f"{name} is on the command line"
    assert TOKEN not in data["cmdline"]


def test_the_action_and_the_gitlab_component_never_put_the_token_on_a_command_line() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["args"] == []
    template = (REPO / "gitlab-component" / "templates" / "fetch-secrets.yml").read_text()
    command_lines = [line for line in template.splitlines() if "enkryptify-fetch" in line and "TOKEN" in line]
    assert not command_lines, command_lines


# --- files: 0600, atomic, temporary files cleaned on error -------------------------------------


def test_private_file_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        files.write_private_file(tmp_path / "out.env", "A='b'\n")
    finally:
        os.umask(old)
    assert (tmp_path / "out.env").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    target = tmp_path / "out.env"
    target.write_text("OLD=1\n")

    def broken_replace(*_args: object) -> None:
        raise failure

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ExportError if isinstance(failure, OSError) else KeyboardInterrupt):
        files.write_private_file(target, "NEW='secret-value'\n")
    assert target.read_text() == "OLD=1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.env"]


def test_the_action_removes_its_export_file_when_a_later_write_fails(tmp_path: Path) -> None:
    from enkryptify_action.github.exports import Exports, write_exports

    exports = Exports(env_text="A<<d\nb\nd\n", output_text="count<<d\n1\nd\n", file_path=tmp_path / "x.env",
                      file_text="A='b'\n")  # fmt: skip
    environ = {"GITHUB_OUTPUT": str(tmp_path / "missing-folder" / "output"), "GITHUB_ENV": str(tmp_path / "env")}
    with pytest.raises(ExportError):
        write_exports(exports, environ, remember_file=lambda *_args: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "the dotenv file or a temporary file was left"


# --- debug output: names and counts only --------------------------------------------------------


def test_cli_debug_output_holds_names_and_counts_only(served) -> None:
    _fake, env = served
    env["ENKRYPTIFY_DEBUG"] = "1"
    result = run_cli(["check", *WHERE], env=env)  # the leak scan checks stdout and stderr
    assert result.returncode == 0
    assert re.search(r"debug: fetched 2 secret\(s\), exporting 2; \d+ request\(s\), 0 retried", result.stderr)


def test_cli_debug_traceback_of_an_internal_error_shows_code_not_values(served, monkeypatch) -> None:
    _fake, env = served
    env["ENKRYPTIFY_DEBUG"] = "1"
    env["PYTHONPATH"] = f"{Path(__file__).parent / 'crash_site'}{os.pathsep}{env['PYTHONPATH']}"
    result = run_cli(["pull", *WHERE, "--output", "-"], env=env)
    assert result.returncode == 1
    assert "internal error (RuntimeError); please report it" in result.stderr
    assert "File " in result.stderr  # the traceback: code locations only


# --- the leak scan itself ------------------------------------------------------------------------


def test_leak_scan_finds_tokens_jwts_and_values_and_names_only_the_kind(served) -> None:
    fake, _env = served
    leakscan.watch(fake)
    with pytest.raises(leakscan.LeakError, match=r"^token appeared in stderr$"):
        leakscan.observe_cli(["check"], "", f"oops {TOKEN}")
    with pytest.raises(leakscan.LeakError, match=r"^value of API_KEY appeared in stdout$"):
        leakscan.observe_cli(["check"], f"x {VALUES['API_KEY']} y", "")
    leakscan.observe_cli(["pull", "--format", "json"], json.dumps(VALUES), "")  # values on stdout by design
    with pytest.raises(leakscan.LeakError):
        leakscan.observe_cli(["pull", "--output", "f.env"], json.dumps(VALUES), "")
