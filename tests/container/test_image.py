"""The image built from the repository's Dockerfile: contents, metadata, and runner-like runs."""

from __future__ import annotations

import http.server
import json
import threading
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.container import podman
from tests.required_tools import needs

pytestmark = needs("podman")


def _config(image: str) -> dict[str, Any]:
    config = podman.inspect_image(image)["Config"]
    assert isinstance(config, dict)
    return config


def _sh(image: str, script: str) -> str:
    proc = podman.podman("run", "--rm", "--entrypoint", "/bin/sh", image, "-c", script, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_venv_python_imports_the_runtime_dependencies(image: str) -> None:
    code = (
        "import json, sys, httpx, yaml, github_action_utils, enkryptify_action.cli;"
        "print(json.dumps({'prefix': sys.prefix, 'exe': sys.executable, 'version': sys.version_info[:2],"
        " 'libyaml': yaml.__with_libyaml__,"
        " 'files': [m.__file__ for m in (httpx, yaml, github_action_utils, enkryptify_action.cli)]}))"
    )
    out = json.loads(_sh(image, f'python3 -c "{code}"'))
    assert out["prefix"] == "/opt/venv"
    assert out["exe"] == "/opt/venv/bin/python3"
    assert tuple(out["version"]) >= (3, 11)
    assert out["libyaml"] is True  # the binary wheel, not a pure-Python fallback
    assert all(path.startswith("/opt/venv/lib/") for path in out["files"]), out["files"]


def test_final_image_has_no_pip_cache_build_tools_or_sources(image: str) -> None:
    out = _sh(
        image,
        "for p in /root/.cache/pip /opt/build /src /tmp/dist /opt/venv/bin/pip; do"
        "  [ -e $p ] && echo present:$p; done;"
        "for t in gcc cc g++ make; do command -v $t >/dev/null && echo tool:$t; done;"
        'python3 -c \'import importlib.util as u; print("pip-module" if u.find_spec("pip") else "")\';'
        "find /opt /app /root /tmp /run \\( -name '*.whl' -o -name 'host-ca.pem' \\)",
    )
    assert out.split() == []


def test_oci_labels(image: str) -> None:
    with (podman.REPO_ROOT / "pyproject.toml").open("rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    labels = _config(image)["Labels"]
    assert labels["org.opencontainers.image.source"] == "https://github.com/enkryptify/fetch-secrets"
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.description"]


def test_exec_form_entrypoint_env_and_default_root_user(image: str) -> None:
    config = _config(image)
    assert config["Entrypoint"] == ["python3", "/app/entrypoint.py"]
    assert not config.get("Cmd")
    # GitHub writes file commands as the image's default user, which must stay root.
    assert config.get("User", "") in ("", "root", "0")
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PATH"].split(":")[0] == "/opt/venv/bin"


def test_has_a_posix_shell_for_gitlab_script(image: str) -> None:
    assert _sh(image, 'echo "$0 works" && command -v python3') == "/bin/sh works\n/opt/venv/bin/python3\n"


@pytest.fixture
def loopback_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"hello from the host"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_container_on_host_network_reaches_a_loopback_server(
    image: str, runner_dirs: podman.RunnerDirs, loopback_server: str
) -> None:
    proc = podman.run_action(
        image,
        runner_dirs,
        {"TARGET_URL": loopback_server},
        entrypoint="python3",
        args=["-c", "import os, urllib.request; print(urllib.request.urlopen(os.environ['TARGET_URL']).read())"],
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "b'hello from the host'\n"


def test_runs_like_the_github_runner(image: str, runner_dirs: podman.RunnerDirs) -> None:
    secret = "s3cr3t-value-not-in-argv"
    env = runner_dirs.runner_env({"ref": "refs/heads/main"}) | {"INPUT_SECRET-VALUE": secret}
    script = (
        "import json, os;"
        "open(os.environ['GITHUB_ENV'], 'a').write('FROM_CONTAINER=' + os.environ['INPUT_SECRET-VALUE'] + '\\n');"
        "open('marker.txt', 'w').write(json.dumps([os.getcwd(), os.getuid(), os.environ['HOME'],"
        " json.load(open(os.environ['GITHUB_EVENT_PATH']))['ref']]))"
    )
    proc = podman.run_action(image, runner_dirs, env, entrypoint="python3", args=["-c", script])
    assert proc.returncode == 0, proc.stderr
    assert secret not in " ".join(proc.args)  # passed as `-e NAME`, the value via podman's environment
    assert runner_dirs.host_file(env["GITHUB_ENV"]).read_text() == f"FROM_CONTAINER={secret}\n"
    marker = json.loads((runner_dirs.workspace / "marker.txt").read_text())
    assert marker == ["/github/workspace", 0, "/github/home", "refs/heads/main"]


def test_entrypoint_starts_the_cli(image: str, runner_dirs: podman.RunnerDirs) -> None:
    proc = podman.run_action(image, runner_dirs, runner_dirs.runner_env(), args=["--help"])
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout
