"""`make demo`: run the real CLI against the embedded fake Enkryptify API on loopback.

Shows what a CI user sees: the names that would be exported, a pull whose values are masked the
way a CI log masks them, and `run` handing secrets to a child process through its environment.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from enkryptify_action import __version__  # noqa: E402
from tests.fake_api.app import FakeEnkryptify  # noqa: E402
from tests.fake_api.fixtures import DEMO_TOKEN  # noqa: E402
from tests.fake_api.server import serve_fake  # noqa: E402
from tests.github.action_harness import WRITE_MARKER, RunnerDirs, run_entrypoint  # noqa: E402
from tests.github.runner_emulation import parse_command, replay_log  # noqa: E402

TARGET = ["--workspace", "acme", "--project", "web-app", "--environment", "production"]


def use_color(stream: TextIO | None = None, environ: Mapping[str, str] = os.environ) -> bool:
    """Bold headings only on a terminal (stdout by default), never with NO_COLOR set (no-color.org) or TERM=dumb."""
    return (stream or sys.stdout).isatty() and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``enkryptify-fetch ARGS`` (as ``python -m enkryptify_action``), after showing exactly that command."""
    print(f"  $ {shlex.join(['enkryptify-fetch', *args])}")
    return subprocess.run(
        [sys.executable, "-m", "enkryptify_action", *args], env=env, capture_output=True, text=True, check=False
    )


def masked(text: str, values: list[str]) -> str:
    """Replace every value (and each of its lines of 4+ characters) with ***, as a CI log masker does."""
    pieces = set(values) | {line.strip() for v in values for line in v.splitlines() if len(line.strip()) >= 4}
    for piece in sorted((p for p in pieces if p), key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


def section(title: str) -> None:
    print(f"\n\033[1m▶ {title}\033[0m" if use_color() else f"\n▶ {title}")


def show(result: subprocess.CompletedProcess[str], values: list[str]) -> None:
    for stream in (result.stdout, result.stderr):
        for line in masked(stream, values).splitlines():
            print(f"    {line}")


def summary_as_text(markdown: str, *, max_rows: int) -> list[str]:
    """The step summary as a reader sees it on the run page: headings, text, tables as aligned columns."""
    out: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if not rows:
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        shown = rows[: max_rows + 1]
        for number, row in enumerate(shown):
            out.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if number == 0:
                out.append("  ".join("─" * width for width in widths))
        if len(rows) > len(shown):
            out.append(f"… {len(rows) - len(shown)} more row(s)")
        rows.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [re.sub(r"\\(.)", r"\1", cell.strip()) for cell in line.strip().strip("|").split(" | ")]
            if not all(set(cell) <= {"-", ":", " "} for cell in cells):
                rows.append(cells)
            continue
        flush()
        text = re.sub(r"\*\*(.+?)\*\*", r"\1", line.lstrip("#").strip())
        if text:
            out.append(text)
    flush()
    return out


def github_step(url: str) -> None:
    """One `uses: enkryptify/fetch-secrets` step, its log shown the way the runner shows it."""
    import tempfile

    section("GitHub Actions: the step's log as the runner shows it (every value masked before anything is written)")
    inputs = {"workspace": "acme", "project": "web-app", "environment": "production", "parse-json": "true"}
    print(f"  - uses: enkryptify/fetch-secrets@v{__version__.split('.')[0]}")
    print("    env: {ENKRYPTIFY_TOKEN: ***, ENKRYPTIFY_API_URL: " + url + "}")
    print("    with: {" + ", ".join(f"{name}: {value}" for name, value in inputs.items()) + "}")
    with tempfile.TemporaryDirectory(prefix="enkryptify-demo-") as root:
        dirs = RunnerDirs(Path(root))
        env = dirs.environ(inputs, extra={"ENKRYPTIFY_TOKEN": DEMO_TOKEN, "ENKRYPTIFY_API_URL": url})
        run = run_entrypoint(env, cwd=dirs.workspace)
        replay = replay_log(run.stdout)
        masks = sum(1 for c in replay.commands if c.name == "add-mask")
        print(f"    ({masks} ::add-mask:: commands registered first; the runner does not echo them)")
        for line in replay.lines:
            if line.startswith(WRITE_MARKER):  # the test harness's own write-order markers
                continue
            command = parse_command(line)
            if command is None:
                print(f"    {line}")
            elif command.name == "group":
                print(f"    ▼ {command.data}")
            elif command.name in ("warning", "error", "notice"):
                print(f"    {command.name.capitalize()}: {command.data}")
        print(f"    (exit code {run.exit_code})")
        names = list(run.env.values)
        print(f"\n    Later steps see {len(names)} variables: {', '.join(f'{n}=***' for n in names[:4])}, ...")
        print(f"    Step outputs: names={run.outputs.get('names')!s:.70}... count={run.outputs.get('count')}")
        print("\n    Step summary (rendered; it holds names, never values):")
        for line in summary_as_text(run.files["GITHUB_STEP_SUMMARY"], max_rows=8):
            print(f"      {line}")


def demo_values(fake: FakeEnkryptify) -> list[str]:
    """Every value the fake API holds, and the token: what the output below masks."""
    values = [v.value for p in fake.projects.values() for secret in p.secrets.values() for v in secret.values]
    return [*values, DEMO_TOKEN]


def main() -> int:
    fake = FakeEnkryptify.demo()
    values = demo_values(fake)
    with serve_fake(fake) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ENKRYPTIFY_", "GITHUB_", "INPUT_"))}
        env.update(ENKRYPTIFY_TOKEN=DEMO_TOKEN, ENKRYPTIFY_API_URL=url, PYTHONPATH=str(REPO))
        print(f"Fake Enkryptify API on {url} (workspace acme, project web-app). Every command below runs with:")
        print(f"  $ export ENKRYPTIFY_TOKEN=*** ENKRYPTIFY_API_URL={url}")

        section("Which secrets would be exported?")
        show(cli(["check", *TARGET], env), values)

        section("Pull some of them as dotenv (values masked here, as a CI log would)")
        pick = "DATABASE_URL,STRIPE_*,FLAGS=FEATURE_FLAGS"  # commas, spaces or newlines separate entries
        show(cli(["pull", *TARGET, "--secrets", pick, "--output", "-"], env), values)

        section("Flatten a JSON secret")
        show(cli(["check", *TARGET, "--parse-json", "--secrets", "FEATURE_FLAGS"], env), values)

        section("Run a command with the secrets in its environment only")
        probe = 'echo "DATABASE_URL has ${#DATABASE_URL} characters; the Stripe key starts ${STRIPE_SECRET_KEY%%_*}_"'
        show(cli(["run", *TARGET, "--", "sh", "-c", probe], env), values)

        github_step(url)

        section("A mistake gets a clear error and exit code")
        bad = cli(["check", "--workspace", "acme", "--project", "web-app", "--environment", "prod"], env)
        show(bad, values)
        print(f"    (exit code {bad.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
