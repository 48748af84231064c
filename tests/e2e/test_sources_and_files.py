"""Several sources in one run, and secrets delivered as files: the real CLI and the real action over loopback."""

from __future__ import annotations

import base64
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_helpers import base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunnerDirs, assert_action_run, run_entrypoint

TOKEN = "ek_live_sources_files_0123456789abcdefXYZ"
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7sourcesfiles\n"
    "c291cmNlcy1hbmQtZmlsZXMtbXVsdGktbGluZS1wZW0tdmFsdWU=\n"
    "-----END PRIVATE KEY-----\n"
)
BINARY = bytes(range(256)) + b"\x00\xff\r\n\x00end"
SHARED = {
    "DATABASE_URL": "postgres://shared:shared-pass@db.shared.internal/app",
    "LOG_LEVEL": "info-shared-level",
    "TLS_KEY": PEM,
    "KEYSTORE": base64.b64encode(BINARY).decode("ascii"),
    "NOT_BASE64": "this is *not* base64 at all!",
}
APP = {
    "DATABASE_URL": "postgres://app:app-pass@db.app.internal/app",
    "API_KEY": "app-api-key-0123456789",
}
SECRETS = {f"shared {k}": v for k, v in SHARED.items()} | {f"app {k}": v for k, v in APP.items()}


def make_fake() -> FakeEnkryptify:
    fake = FakeEnkryptify()
    fake.exchange_mode = "header"
    ws = fake.add_workspace("acme")
    shared = fake.add_project(ws, "shared", environments=("production",))
    for name, value in SHARED.items():
        fake.add_secret(shared, name, {"production": value})
    app = fake.add_project(ws, "web-app", environments=("production",))
    for name, value in APP.items():
        fake.add_secret(app, name, {"production": value})
    fake.add_token(TOKEN)
    return fake


@pytest.fixture
def server() -> Iterator[tuple[FakeEnkryptify, dict[str, str]]]:
    fake = make_fake()
    with serve_fake(fake) as url:
        yield fake, base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url, ENKRYPTIFY_WORKSPACE="acme")


BOTH = ["--sources", "shared/production", "--sources", "web-app/production"]


def assert_quiet(result: subprocess.CompletedProcess[str]) -> None:
    for label, value in SECRETS.items():
        for line in value.splitlines():
            shown = len(line) >= 8 and line in result.stderr
            assert not shown, f"{label} leaked to stderr"


# ----------------------------------------------------------------------------------------- sources


def test_sources_merge_in_order_and_each_replacement_is_listed(server) -> None:
    fake, env = server
    result = run_cli(["pull", *BOTH, "--format", "json"], env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["DATABASE_URL"] == APP["DATABASE_URL"], "the later source must win"
    assert data["LOG_LEVEL"] == SHARED["LOG_LEVEL"] and data["API_KEY"] == APP["API_KEY"]
    assert next(iter(data)) == "DATABASE_URL", "a replaced secret keeps its place"
    assert "DATABASE_URL: web-app/production replaces shared/production" in result.stderr
    assert "acme: shared/production, web-app/production" in result.stderr
    assert_quiet(result)
    # One exchange, then per source one environment lookup (names) and one list call.
    paths = [r.path for r in fake.requests]
    assert paths[0] == "/v1/auth/exchange"
    assert sum("/secret" in p for p in paths) == 2 and len(paths) == 5, paths


def test_sources_selection_and_checks_run_on_the_merged_set(server) -> None:
    _fake, env = server
    result = run_cli(["pull", *BOTH, "--format", "json", "--secrets", "DB=DATABASE_URL", "--prefix", "X_"], env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"X_DB": APP["DATABASE_URL"]}


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--project", "web-app"], "project must be empty"),
        (["--environment", "production"], "environment must be empty"),
    ],
)
def test_sources_with_project_or_environment_is_a_usage_error_before_any_request(server, extra, needle) -> None:
    fake, env = server
    result = run_cli(["pull", *BOTH, *extra, "--format", "json"], env=env)
    assert result.returncode == 2 and needle in result.stderr
    assert fake.requests == []


@pytest.mark.parametrize("line", ["web-app", "/production", "web-app/", "shared/production\nshared/production"])
def test_a_bad_sources_line_is_a_usage_error(server, line: str) -> None:
    fake, env = server
    result = run_cli(["pull", "--sources", line, "--format", "json"], env=env)
    assert result.returncode == 2 and "sources" in result.stderr
    assert fake.requests == []


def test_the_config_file_may_hold_sources(server, tmp_path: Path) -> None:
    _fake, env = server
    (tmp_path / ".enkryptify.yml").write_text("sources: |\n  shared/production\n  web-app/production\n")
    result = run_cli(["pull", "--format", "json"], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["DATABASE_URL"] == APP["DATABASE_URL"]


def test_an_unknown_source_environment_is_not_found(server) -> None:
    _fake, env = server
    result = run_cli(["pull", "--sources", "shared/nope", "--format", "json"], env=env)
    assert result.returncode == 4 and "nope" in result.stderr


# ----------------------------------------------------------------------------------------- files with run

CHILD = textwrap.dedent(
    """
    import os, stat, sys, json
    out = {}
    for name in ("TLS_KEY", "KEYSTORE"):
        path = os.environ[name]
        mode = stat.S_IMODE(os.stat(path).st_mode)
        out[name] = {"path": path, "absolute": os.path.isabs(path), "mode": mode,
                     "data": open(path, "rb").read().hex()}
    out["folder_mode"] = stat.S_IMODE(os.stat(os.path.dirname(os.environ["TLS_KEY"])).st_mode)
    out["API_KEY"] = os.environ["API_KEY"] == sys.argv[1]
    print(json.dumps(out))
    sys.exit(7 if out["API_KEY"] else 9)
    """
)


def test_run_writes_files_for_the_child_only_while_it_runs(server) -> None:
    _fake, env = server
    argv = [*BOTH, "--files", "TLS_KEY=tls/key.pem", "--files", "KEYSTORE:base64=keystore.p12"]
    result = run_cli(["run", *argv, "--", sys.executable, "-c", CHILD, APP["API_KEY"]], env=env)
    assert result.returncode == 7, result.stderr  # the child's own exit code
    seen = json.loads(result.stdout)
    assert bytes.fromhex(seen["TLS_KEY"]["data"]) == PEM.encode(), "the PEM file differs (newlines kept?)"
    assert bytes.fromhex(seen["KEYSTORE"]["data"]) == BINARY, "the decoded binary file differs"
    for name in ("TLS_KEY", "KEYSTORE"):
        assert seen[name]["absolute"] and seen[name]["mode"] == 0o600
        assert not Path(seen[name]["path"]).exists(), f"{name}'s file outlived the child"
    assert seen["folder_mode"] == 0o700
    assert not Path(seen["TLS_KEY"]["path"]).parent.parent.exists(), "the private folder outlived the child"
    assert_quiet(result)


def test_run_removes_the_files_when_it_is_terminated(server, tmp_path: Path) -> None:
    _fake, env = server
    ready = tmp_path / "ready"
    os.mkfifo(ready)
    child = "import os, signal; open(os.environ['READY'], 'w').write(os.environ['TLS_KEY'] + '\\n'); signal.pause()"
    argv = [sys.executable, "-m", "enkryptify_action", "run", *BOTH, "--files", "TLS_KEY=key.pem"]
    process = subprocess.Popen(
        [*argv, "--", sys.executable, "-c", child],
        env={**env, "READY": str(ready)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with open(ready, encoding="utf-8") as pipe:  # blocks until the child has the file
            path = Path(pipe.readline().strip())
        assert path.exists()
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, err
    assert not path.exists() and not path.parent.exists(), "SIGTERM left the secret file behind"


@pytest.mark.parametrize("path", ["/tmp/abs.pem", "../escape.pem", "dir/"])
def test_run_files_must_be_relative_inside_the_private_folder(server, path: str) -> None:
    _fake, env = server
    result = run_cli(["run", *BOTH, "--files", f"TLS_KEY={path}", "--", "true"], env=env)
    assert result.returncode == 2 and "relative path" in result.stderr


# ----------------------------------------------------------------------------------------- files with pull


def test_pull_writes_files_and_the_variable_holds_the_path(server, tmp_path: Path) -> None:
    _fake, env = server
    args = ["pull", *BOTH, "--files", "TLS_KEY=certs/tls.pem", "--format", "json", "--output", "out.json"]
    result = run_cli(args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    pem = tmp_path / "certs" / "tls.pem"
    assert data["TLS_KEY"] == str(pem) and pem.read_bytes() == PEM.encode()
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600


def test_pull_gitlab_refuses_files_before_any_request(server) -> None:
    fake, env = server
    result = run_cli(["pull", *BOTH, "--files", "TLS_KEY=tls.pem", "--format", "gitlab"], env=env)
    assert result.returncode == 2 and "same-job" in result.stderr
    assert fake.requests == []


def test_bad_base64_names_the_secret_and_writes_nothing(server, tmp_path: Path) -> None:
    _fake, env = server
    args = ["pull", *BOTH, "--files", "TLS_KEY=a.pem", "--files", "NOT_BASE64:base64=b.bin", "-o", "out.env"]
    result = run_cli(args, env=env, cwd=tmp_path)
    assert result.returncode == 6 and "NOT_BASE64" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_one_file_that_cannot_be_written_leaves_none_behind(server, tmp_path: Path) -> None:
    _fake, env = server
    (tmp_path / "blocker").write_text("a regular file, not a folder")
    args = ["pull", *BOTH, "--files", "TLS_KEY=a.pem", "--files", "KEYSTORE:base64=blocker/ks.bin", "-o", "out.env"]
    result = run_cli(args, env=env, cwd=tmp_path)
    assert result.returncode == 7, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"], "a half export was left behind"


@pytest.mark.parametrize(
    ("spec", "code", "needle"),
    [
        ("MISSING=a.pem", 4, "MISSING"),
        ("TLS_KEY:gzip=a.pem", 2, "unknown encoding"),
        ("TLS_KEY", 2, "NAME=PATH"),
    ],
)
def test_files_errors(server, tmp_path: Path, spec: str, code: int, needle: str) -> None:
    _fake, env = server
    result = run_cli(["pull", *BOTH, "--files", spec, "-o", "out.env"], env=env, cwd=tmp_path)
    assert result.returncode == code and needle in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_files_is_workflow_only(server, tmp_path: Path) -> None:
    _fake, env = server
    (tmp_path / ".enkryptify.yml").write_text("files: TLS_KEY=/tmp/stolen.pem\n")
    result = run_cli(["pull", *BOTH, "--format", "json"], env=env, cwd=tmp_path)
    assert result.returncode == 2 and "files" in result.stderr


# ----------------------------------------------------------------------------------------- the GitHub Action


@pytest.fixture
def action_server() -> Iterator[tuple[FakeEnkryptify, str]]:
    fake = make_fake()
    with serve_fake(fake) as url:
        yield fake, url


def test_action_sources_and_files_export_paths_mask_values_and_the_post_step_removes_them(
    action_server, tmp_path: Path
) -> None:
    fake, url = action_server
    dirs = RunnerDirs(tmp_path)
    inputs = {
        "api-url": url,
        "workspace": "acme",
        "sources": "shared/production\nweb-app/production",
        "secrets": "!NOT_BASE64",
        "files": f"TLS_KEY=certs/tls.pem\nKEYSTORE:base64={dirs.temp}/ks.p12",
    }
    run = run_entrypoint(dirs.environ(inputs, extra={"ENKRYPTIFY_TOKEN": TOKEN}), cwd=dirs.workspace)
    assert run.exit_code == 0, run.annotations("error")
    pem, keystore = dirs.workspace / "certs" / "tls.pem", dirs.temp / "ks.p12"
    expected = {
        "DATABASE_URL": APP["DATABASE_URL"],
        "LOG_LEVEL": SHARED["LOG_LEVEL"],
        "TLS_KEY": str(pem),
        "KEYSTORE": str(keystore),
        "API_KEY": APP["API_KEY"],
    }
    outputs = {"names": json.dumps(list(expected)), "count": "5"}
    secrets = {k: v for k, v in SECRETS.items() if "NOT_BASE64" not in k} | {"token": TOKEN}
    paths = frozenset({"TLS_KEY", "KEYSTORE"})
    assert_action_run(run, secrets=secrets, expected_env=expected, expected_outputs=outputs, file_paths=paths)
    assert pem.read_bytes() == PEM.encode() and keystore.read_bytes() == BINARY
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600 == stat.S_IMODE(keystore.stat().st_mode)
    assert "replaced DATABASE_URL: web-app/production replaces shared/production" in run.log
    assert fake.requests, "no request was made"

    post = run_entrypoint(dirs.environ({}, state=run.state), cwd=dirs.workspace, module="enkryptify_action.github.post")
    assert post.exit_code == 0
    assert not pem.exists() and not keystore.exists(), "the post step left a secret file behind"


@pytest.mark.parametrize("where", ["/etc/tls.pem", "../outside.pem"])
def test_action_files_outside_workspace_and_runner_temp_are_refused(action_server, tmp_path: Path, where) -> None:
    _fake, url = action_server
    dirs = RunnerDirs(tmp_path)
    inputs = {"api-url": url, "workspace": "acme", "sources": "shared/production", "files": f"TLS_KEY={where}"}
    run = run_entrypoint(dirs.environ(inputs, extra={"ENKRYPTIFY_TOKEN": TOKEN}), cwd=dirs.workspace)
    assert run.exit_code == 2
    assert_action_run(run, secrets=SECRETS, expected_env=None, expected_outputs=None)
    [error] = run.annotations("error")
    assert "outside the workspace" in error


def test_action_one_unwritable_file_exports_nothing(action_server, tmp_path: Path) -> None:
    _fake, url = action_server
    dirs = RunnerDirs(tmp_path)
    (dirs.workspace / "blocker").write_text("not a folder")
    inputs = {
        "api-url": url,
        "workspace": "acme",
        "sources": "shared/production",
        "files": "TLS_KEY=tls.pem\nKEYSTORE:base64=blocker/ks.p12",
    }
    run = run_entrypoint(dirs.environ(inputs, extra={"ENKRYPTIFY_TOKEN": TOKEN}), cwd=dirs.workspace)
    assert run.exit_code == 7
    assert_action_run(run, secrets=SECRETS, expected_env=None, expected_outputs=None)
    assert not (dirs.workspace / "tls.pem").exists()


COUNTING_CHILD = """
import os, signal, sys
count = 0
def on_int(signum, frame):
    global count
    count += 1
    if count == 1:
        with open(os.environ["READY"], "w") as pipe:
            pipe.write("got SIGINT\\n")
def on_term(signum, frame):
    with open(os.environ["RESULT"], "w") as out:
        out.write(str(count))
    sys.exit(0)
signal.signal(signal.SIGINT, on_int)
signal.signal(signal.SIGTERM, on_term)
with open(os.environ["READY"], "w") as pipe:
    pipe.write("started\\n")
while True:
    signal.pause()
"""


def test_the_terminal_check_sees_a_foreground_ctrl_c(tmp_path: Path) -> None:
    """``child._terminal_sent_it`` is true for the session leader of a real pseudo-terminal, false without one."""
    import fcntl
    import pty
    import termios

    code = "from enkryptify_action.child import _terminal_sent_it as t; print(t())"
    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    out = tmp_path / "out"
    with open(out, "w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=slave, stdout=handle, preexec_fn=controlling_terminal, env=base_env()
        )
        assert process.wait(timeout=30) == 0
    os.close(slave)
    os.close(master)
    assert out.read_text().strip() == "True"
    plain = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert plain.stdout.strip() == "False"


def test_run_with_files_passes_one_ctrl_c_to_the_child_once(server, tmp_path: Path) -> None:
    """Ctrl-C on a terminal reaches the whole foreground group: ``run`` must not forward a second SIGINT.

    The CLI runs as the session leader of a real pseudo-terminal; the test types Ctrl-C (0x03) into it,
    then sends SIGTERM, which the CLI forwards after any SIGINT it would forward (signals are handled in
    number order), so the child's count is final when SIGTERM arrives.
    """
    import fcntl
    import pty
    import termios

    _fake, env = server
    ready, result = tmp_path / "ready", tmp_path / "result"
    os.mkfifo(ready)
    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    argv = [sys.executable, "-m", "enkryptify_action", "run", *BOTH, "--files", "TLS_KEY=key.pem"]
    process = subprocess.Popen(
        [*argv, "--", sys.executable, "-c", COUNTING_CHILD],
        env={**env, "READY": str(ready), "RESULT": str(result)},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=controlling_terminal,
    )
    os.close(slave)
    try:
        with open(ready, encoding="utf-8") as pipe:
            assert pipe.readline() == "started\n"
        os.write(master, b"\x03")  # Ctrl-C: the terminal signals the foreground process group
        with open(ready, encoding="utf-8") as pipe:
            assert pipe.readline() == "got SIGINT\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    assert result.read_text() == "1", "the child received Ctrl-C twice"


@pytest.mark.parametrize("option", ["files", "export-file"])
def test_action_refuses_a_path_through_a_symlinked_folder_of_the_repository(action_server, tmp_path: Path, option):
    """A committed ``certs -> site/public`` link must not move secret files into a published folder."""
    _fake, url = action_server
    dirs = RunnerDirs(tmp_path)
    (dirs.workspace / "site" / "public").mkdir(parents=True)
    (dirs.workspace / "certs").symlink_to("site/public", target_is_directory=True)
    value = "TLS_KEY=certs/key.pem" if option == "files" else "certs/secrets.env"
    inputs = {"api-url": url, "workspace": "acme", "sources": "shared/production", "secrets": "!NOT_BASE64"}
    run = run_entrypoint(dirs.environ(inputs | {option: value}, extra={"ENKRYPTIFY_TOKEN": TOKEN}), cwd=dirs.workspace)
    assert run.exit_code == 2
    [error] = run.annotations("error")
    assert "symbolic link" in error
    assert list((dirs.workspace / "site" / "public").iterdir()) == []


def test_cli_in_a_github_step_masks_the_jwt_it_obtains_before_anything_else(server) -> None:
    fake, env = server
    result = run_cli(["check", *BOTH], env={**env, "GITHUB_ACTIONS": "true"})
    assert result.returncode == 0, result.stderr
    [jwt] = list(fake.jwts)
    first, second = result.stderr.splitlines()[:2]
    assert first == f"::add-mask ::{TOKEN}" and second == f"::add-mask ::{jwt}", "masks come before any other line"
    plain = run_cli(["check", *BOTH], env=env)
    assert "::add-mask" not in plain.stderr, "outside GitHub Actions nothing is registered"
