"""The first run of a newcomer (issue 17): the README's commands from a fresh checkout, `make demo`'s
output, how a missing test tool is reported, and that no test installs anything on the host.

The README's test command itself (`make test` on a fresh machine with only the listed prerequisites)
is proven by CI: `.ci/run` installs only those prerequisites, runs `make test`, then `make demo`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.script_loader import ROOT, load_script

README = (ROOT / "README.md").read_text(encoding="utf-8")


def fenced_block_after(text: str, marker: str) -> str:
    """The first ```sh block after ``marker`` in the README."""
    start = text.index(marker)
    match = re.search(r"^```sh\n(.*?)^```", text[start:], re.DOTALL | re.MULTILINE)
    assert match is not None, f"no sh block after {marker!r}"
    return match.group(1)


def commands_of(block: str) -> list[str]:
    """The commands of a shell block, comments and blank lines left out."""
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh checkout: the repository's tracked files only (no .venv, no .cache), as `git clone` gives.

    Copied from the work tree (not cloned from HEAD), so that uncommitted changes are what is tested;
    it is a git repository with one commit, so a git URL can point at it.
    """
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.split(b"\0")
    dest = tmp_path_factory.mktemp("checkout") / "fetch-secrets"
    for name in filter(None, (f.decode() for f in files)):
        source = ROOT / name
        if source.is_file():  # a file deleted in the work tree but not yet in the index is left out
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)  # keeps mtimes: pyproject.toml is not newer than the venv below
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "checkout"]):
        subprocess.run([*git, *args], cwd=dest, check=True, capture_output=True, timeout=60)
    return dest


# --------------------------------------------------------------------------- README: make demo
def test_readme_demo_command_runs_in_a_fresh_checkout(checkout: Path) -> None:
    """`make demo` as the README's Contributing section writes it, in the checkout.

    The checkout reuses this test run's virtual environment (`VENV=…`, `-o` so make does not rebuild
    it): building one costs about a minute, and `make test` in CI builds it from a fresh clone anyway.
    """
    commands = commands_of(fenced_block_after(README, "## Contributing"))
    assert commands[0] == "make demo", commands
    venv_dir = Path(sys.executable).parent.parent
    argv = [*shlex.split(commands[0]), f"VENV={venv_dir}", "-o", f"{venv_dir}/bin/python"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENKRYPTIFY_", "NO_COLOR"))}
    result = subprocess.run(argv, cwd=checkout, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"{venv_dir}/bin/python scripts/demo.py" in result.stdout  # make ran the checkout's own demo
    assert "(exit code 4)" in result.stdout and "DATABASE_URL='***'" in result.stdout
    assert "\x1b" not in result.stdout  # not a terminal: no escape codes


# --------------------------------------------------------------------------- README: install before PyPI
def test_readme_install_for_now_works_from_a_git_url(checkout: Path, tmp_path: Path) -> None:
    """The README's "for now" install is `pipx install git+https://…`; pipx makes a venv and pip-installs
    the spec into it, which is what this does with the checkout's git URL."""
    section = README[README.index("## Any other CI") :]
    block = fenced_block_after(section, "For now")
    steps = [step.strip() for command in commands_of(block) for step in command.split("&&")]
    installs = [step for step in steps if step.startswith("pipx install ")]
    assert "pipx install git+https://github.com/enkryptify/fetch-secrets" in installs, block
    assert "pipx install ./fetch-secrets" in installs, block  # from a checkout
    target = tmp_path / "pipx-like"
    venv.EnvBuilder(with_pip=True).create(target)
    spec = installs[0].split()[2].replace("https://github.com/enkryptify/fetch-secrets", checkout.as_uri())
    pip = subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", spec],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    version = subprocess.run(
        [str(target / "bin" / "enkryptify-fetch"), "--version"], capture_output=True, text=True, timeout=60
    )
    from enkryptify_action import __version__

    assert version.stdout.strip() == f"enkryptify-fetch {__version__}"


# --------------------------------------------------------------------------- make demo shows what it runs
@pytest.fixture(scope="module")
def demo() -> Any:
    return load_script("demo.py", "demo_under_test")


def test_demo_shows_exactly_the_commands_it_runs(
    demo: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        if list(argv[1:3]) == ["-m", "enkryptify_action"]:
            ran.append(list(argv[3:]))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(demo.subprocess, "run", recording_run)
    assert demo.main() == 0
    out = capsys.readouterr().out
    shown = [
        line.removeprefix("  $ enkryptify-fetch ")
        for line in out.splitlines()
        if line.startswith("  $ enkryptify-fetch ")
    ]
    assert [shlex.split(line) for line in shown] == ran  # every command, as run, in order; nothing else
    assert len(ran) == 5
    assert any("--secrets" in args and "DATABASE_URL,STRIPE_*,FLAGS=FEATURE_FLAGS" in args for args in ran)
    assert "FLAGS='***'" in out  # the alias the shown command asks for
    assert "\x1b" not in out  # captured output is not a terminal


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("tty", "environ", "color"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: set and not empty
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_demo_colors_only_a_terminal_without_no_color(
    demo: Any, tty: bool, environ: dict[str, str], color: bool
) -> None:
    assert demo.use_color(_Stream(tty), environ) is color


def test_demo_heading_has_no_escape_codes_with_no_color(
    demo: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo.sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("NO_COLOR", "1")
    demo.section("Title")
    assert capsys.readouterr().out == "\n▶ Title\n"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.delenv("TERM", raising=False)
    demo.section("Title")
    assert capsys.readouterr().out == "\n\x1b[1m▶ Title\x1b[0m\n"


# --------------------------------------------------------------------------- a missing tool: one line
def test_a_missing_tool_stops_the_session_with_one_line(tmp_path: Path) -> None:
    """Before: every container test failed twice over ("During handling of the above exception")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["GITLAB_CI_LOCAL_HOME"] = str(tmp_path / "not-installed")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/gitlab/test_e2e_gitlab_ci_local.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 4, output  # pytest's usage error: no test ran
    errors = [line for line in output.splitlines() if "cannot run these tests" in line]
    where = tmp_path / "not-installed"
    assert errors == [
        f"ERROR: cannot run these tests: gitlab-ci-local (tests/gitlab) is not installed in {where}."
        " Install what is missing with `make tools` (as root)."
    ]
    assert "Traceback" not in output and "During handling" not in output


def test_tests_that_need_a_tool_are_marked() -> None:
    """The session check covers a test only if its module says what it needs."""
    from tests import required_tools

    assert set(required_tools.CHECKS) == {"openssl", "podman", "gitlab-ci-local"}
    for path, tool in [
        ("tests/container/test_image.py", "podman"),
        ("tests/container/test_action_container.py", "podman"),
        ("tests/gitlab/test_e2e_gitlab_ci_local.py", "gitlab-ci-local"),
        ("tests/e2e/test_cli_network.py", "openssl"),
    ]:
        assert f'pytestmark = needs("{tool}")' in (ROOT / path).read_text(encoding="utf-8"), path


# --------------------------------------------------------------------------- installs: announced, never by a test
def test_no_test_installs_anything() -> None:
    """Installing is `make tools`' job (scripts/setup-tools.sh); tests only check (tests/required_tools.py).

    Before: tests/gitlab/gcl.py ran scripts/setup-gitlab-ci-local.sh (apt-get rsync, npm install) and
    tests/container/podman.py ran scripts/setup-podman.sh (apt-get podman …) from inside the session.
    """
    installers = re.compile(r"""["'](?:apt-get|apt|npm|install|setup-[\w-]+\.sh)["']""")
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name == "test_first_run.py":  # this file names them to look for them
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if installers.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_make_test_installs_the_tools_first() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: .*\btools\b", makefile, re.MULTILINE)
    assert re.search(r"^tools:\n\tbash scripts/setup-tools\.sh$", makefile, re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert not re.search(r"^[^#]*scripts/setup-", ci, re.MULTILINE), "CI installs the prerequisites; make test the rest"
    assert "make test </dev/null" in ci and "make demo </dev/null" in ci


@pytest.fixture
def fake_apt(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A PATH whose dpkg-query says nothing is installed and whose apt-get records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")  # root, as CI and `make tools` are
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >>{shlex.quote(str(log))}\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    yield log, env


def _need(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    script = f'. {shlex.quote(str(ROOT / "scripts" / "setup-common.sh"))}; log_prefix=setup-x; need_packages "$@"'
    return subprocess.run(
        ["bash", "-c", script, "bash", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_every_install_is_announced_with_its_reason(fake_apt: tuple[Path, dict[str, str]]) -> None:
    log, env = fake_apt
    result = _need(env, "the tests need them", "pkg-a", "pkg-b")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "setup-x: installing pkg-a pkg-b with apt-get: the tests need them\n"
    calls = log.read_text().splitlines()
    assert calls[0] == "-o DPkg::Lock::Timeout=300 update -qq"
    assert calls[1] == "-o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends pkg-a pkg-b"


def test_nothing_missing_installs_nothing_and_says_nothing(fake_apt: tuple[Path, dict[str, str]]) -> None:
    log, env = fake_apt
    (Path(env["PATH"].split(":")[0]) / "dpkg-query").write_text("#!/bin/sh\necho 'install ok installed'\n")
    result = _need(env, "why", "pkg-a")
    assert (result.returncode, result.stderr) == (0, "")
    assert not log.exists()


# --------------------------------------------------------------------------- docs cite the repository only
def test_fake_api_readme_cites_only_paths_inside_the_repository() -> None:
    folder = ROOT / "tests" / "fake_api"
    text = (folder / "README.md").read_text(encoding="utf-8")
    cited = re.findall(r"`([\w./-]+\.(?:py|md|yml))`", text)
    assert cited
    for name in cited:
        assert not name.startswith("/"), name
        assert (folder / name).exists() or (ROOT / name).exists(), f"{name} is not in the repository"


def test_no_tracked_file_names_a_path_of_the_machine_it_was_written_on() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in files:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yml", ".sh", ".toml"} and path.is_file():
            if "/" + "work/" in path.read_text(encoding="utf-8", errors="replace"):
                offenders.append(name)
    assert offenders == [], textwrap.shorten(", ".join(offenders), 300)


def test_not_root_is_told_the_command_instead(fake_apt: tuple[Path, dict[str, str]]) -> None:
    log, env = fake_apt
    (Path(env["PATH"].split(":")[0]) / "id").write_text("#!/bin/sh\necho 1000\n")
    result = _need(env, "the tests need it", "pkg-a")
    assert result.returncode == 1
    assert result.stderr == (
        "setup-x: error: missing pkg-a (the tests need it): install them as root, e.g. 'sudo apt-get install pkg-a'\n"
    )
    assert not log.exists()
