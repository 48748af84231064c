"""Podman helpers for the container tests: set-up, image build, and `podman run` the way GitHub does.

The GitHub runner runs a container action roughly as (runner: DockerCommandManager.cs)

    docker run --name … --label … --workdir /github/workspace --rm -e NAME … \
        -v <temp>/_github_home:/github/home -v <temp>/_github_workflow:/github/workflow \
        -v <temp>/_runner_file_commands:/github/file_commands -v <workspace>:/github/workspace \
        -v <temp>:/github/runner_temp  IMAGE ARGS…

with every env value passed through the CLI's own environment (`-e NAME`), never in argv.
`run_action` does the same with podman, plus `--network host` so that the container reaches a fake
API server that a test starts on host loopback (the runner uses a job network instead).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.github.runner_emulation import CONTAINER_MOUNTS, translate_environment

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTAINERS_CONF = REPO_ROOT / ".cache" / "podman" / "containers.conf"
BASE_IMAGE = "localhost/enkryptify-base:bookworm"
TEST_IMAGE = "localhost/enkryptify-fetch-secrets:test"

# Where the host CA bundle is mounted during `podman build` (never copied into a layer).
BUILD_CA_PATH = "/run/host-ca.pem"


class PodmanSetupError(RuntimeError):
    """Podman, its configuration or the base image is missing or broken."""


def podman_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a podman process: ours, with CONTAINERS_CONF and `extra` on top."""
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
    if extra:
        env.update(extra)
    return env


def podman(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `podman ARGS` with the project's containers.conf; raise with its stderr on failure."""
    proc = subprocess.run(
        ["podman", *args],
        env=podman_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and proc.returncode != 0:
        raise PodmanSetupError(f"podman {' '.join(args[:3])} … exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return proc


def host_ca_bundle() -> Path | None:
    """The CA bundle this machine's pip uses, if one is configured (e.g. a TLS-intercepting proxy's).

    Looks at PIP_CERT, then pip's own config (`global.cert`), then SSL_CERT_FILE and REQUESTS_CA_BUNDLE.
    """
    candidates = [os.environ.get("PIP_CERT", "")]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.cert"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode == 0:
        candidates.append(proc.stdout.strip())
    candidates += [os.environ.get("SSL_CERT_FILE", ""), os.environ.get("REQUESTS_CA_BUNDLE", "")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    return None


@dataclasses.dataclass(frozen=True)
class BuildResult:
    image: str
    seconds: float


def build_image(
    tag: str = TEST_IMAGE,
    base_image: str = BASE_IMAGE,
    context: Path = REPO_ROOT,
    build_args: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> BuildResult:
    """`podman build` the repository's Dockerfile on `base_image`, reusing podman's layer cache.

    pip inside the build reaches PyPI through this machine's network; when the host pip trusts an
    extra CA bundle, the bundle is bind-mounted for the build only and named by the PIP_CERT build arg.
    """
    args = ["build", "--network", "host", "--layers", "--pull=never", "-t", tag]
    args += ["--build-arg", f"BASE_IMAGE={base_image}"]
    bundle = host_ca_bundle()
    if bundle is not None:
        args += ["--volume", f"{bundle}:{BUILD_CA_PATH}:ro", "--build-arg", f"PIP_CERT={BUILD_CA_PATH}"]
    for name, value in (build_args or {}).items():
        args += ["--build-arg", f"{name}={value}"]
    args += ["-f", str(context / "Dockerfile"), str(context)]
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        iidfile = Path(scratch) / "iid"
        podman(*args[:1], "--iidfile", str(iidfile), *args[1:], timeout=timeout)
        image_id = iidfile.read_text(encoding="utf-8").strip()
    # The image's ID, not the tag: a concurrent build of another checkout may move the tag meanwhile.
    return BuildResult(image=image_id, seconds=time.monotonic() - started)


def inspect_image(image: str) -> dict[str, object]:
    """`podman image inspect` of one image, as a dict."""
    data = json.loads(podman("image", "inspect", image).stdout)
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
        raise PodmanSetupError(f"unexpected `podman image inspect` output for {image}")
    return data[0]


@dataclasses.dataclass(frozen=True)
class RunnerDirs:
    """Host directories laid out and mounted the way the GitHub runner mounts them into a container action
    (ContainerActionHandler.cs, actions/runner 258d6c8): the job's temp folder holds the file-command, home
    and workflow folders; the workspace is elsewhere."""

    root: Path

    @property
    def runner_temp(self) -> Path:
        return self.root / "_temp"

    @property
    def file_commands(self) -> Path:
        return self.runner_temp / "_runner_file_commands"

    @property
    def workspace(self) -> Path:
        return self.root / "web-app" / "web-app"

    @property
    def home(self) -> Path:
        return self.runner_temp / "_github_home"

    @property
    def workflow(self) -> Path:
        return self.runner_temp / "_github_workflow"

    def create(self) -> RunnerDirs:
        for path in (self.file_commands, self.workspace, self.home, self.workflow, self.runner_temp):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def _hosts(self) -> dict[str, Path]:
        return {
            "workspace": self.workspace,
            "file_commands": self.file_commands,
            "workflow": self.workflow,
            "home": self.home,
            "temp": self.runner_temp,
        }

    def volumes(self) -> list[tuple[Path, str]]:
        hosts = self._hosts()
        return [(hosts[key], target) for key, target in CONTAINER_MOUNTS]

    def mappings(self) -> list[tuple[str, str]]:
        """host → container prefixes, in the order TranslateToContainerPath tries them."""
        return [(str(host), target) for host, target in self.volumes()]

    def runner_env(
        self, event: Mapping[str, object] | None = None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The file-command files and the GITHUB_*/RUNNER_* variables the runner gives a container step, plus
        ``extra`` (INPUT_* ...), written in host terms and translated like every container step's variables:
        the container sees ``/github/...`` paths only. The host files are `self.file_commands / <basename>`.
        """
        guid = uuid.uuid4()
        files = {
            "GITHUB_ENV": f"set_env_{guid}",
            "GITHUB_OUTPUT": f"set_output_{guid}",
            "GITHUB_STATE": f"save_state_{guid}",
            "GITHUB_PATH": f"add_path_{guid}",
            "GITHUB_STEP_SUMMARY": f"step_summary_{guid}",
        }
        env = {}
        for name, basename in files.items():
            (self.file_commands / basename).touch()
            env[name] = str(self.file_commands / basename)
        (self.workflow / "event.json").write_text(json.dumps(dict(event or {})), encoding="utf-8")
        env.update(
            {
                "HOME": str(self.home),
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_EVENT_PATH": str(self.workflow / "event.json"),
                "RUNNER_TEMP": str(self.runner_temp),
                "RUNNER_OS": "Linux",
            }
        )
        env.update(extra or {})
        return translate_environment(env, self.mappings())

    def host_file(self, container_path: str) -> Path:
        """The host path of a file under one of the mounted container directories."""
        for host, target in self.volumes():
            if container_path == target or container_path.startswith(target + "/"):
                return host / container_path[len(target) :].lstrip("/")
        raise ValueError(f"{container_path} is not under a mounted runner directory")


def run_action(
    image: str,
    dirs: RunnerDirs,
    env: Mapping[str, str],
    args: Sequence[str] = (),
    entrypoint: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`podman run` the image like the GitHub runner runs a container action; never raises on exit code.

    `env` values reach the container by name only (`-e NAME`): podman reads them from its own
    environment, so secrets never appear in argv.
    """
    argv = ["run", "--rm", "--network", "host", "--workdir", "/github/workspace"]
    argv += ["--label", "enkryptify-test"]
    for name in env:
        argv += ["-e", name]
    for host, target in dirs.volumes():
        argv += ["-v", f"{host}:{target}"]
    if entrypoint is not None:
        argv += ["--entrypoint", entrypoint]
    argv += [image, *args]
    return podman(*argv, env=env, timeout=timeout, check=False)
