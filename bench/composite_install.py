"""How long the composite action's dependency set-up takes: installing (what it does) vs vendoring.

    .venv/bin/python bench/composite_install.py              # 5 rounds, rewrites bench/COMPOSITE.md
    .venv/bin/python bench/composite_install.py --rounds 3 --print

Not part of `make test`; needs PyPI (or the index pip is configured for: PIP_CONFIG_FILE is set to
os.devnull so this machine's local wheel folders are not used, as on a hosted runner).

* **install (cold)**: the install step's own `run:` text from any-runner/action.yml, with real bash, a
  fresh RUNNER_TEMP and an empty pip cache (PIP_CACHE_DIR): `venv --without-pip`, then the base Python's
  pip with `--require-hashes --only-binary=:all:` from requirements/runtime.txt.
* **install (warm)**: the same with a fresh RUNNER_TEMP and the pip cache the cold run filled.
* **second use in the job**: the same step again on the same RUNNER_TEMP (the venv is reused).
* **vendored**: what the step would run if the release commit carried the wheels' contents (made once
  with `pip install --target --require-hashes`): checking every vendored file against the sha256 in its
  wheel's RECORD. The files are read cold (just copied) in every round.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ACTION = REPO / "any-runner"
LOCK = REPO / "requirements" / "runtime.txt"
OUT = REPO / "bench" / "COMPOSITE.md"
BASH = ("bash", "--noprofile", "--norc", "-e", "-o", "pipefail")
PIP_ENV = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def base_python() -> str:
    return str(getattr(sys, "_base_executable", sys.executable))


def install_script() -> str:
    manifest = yaml.safe_load((ACTION / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in manifest["runs"]["steps"] if s.get("id") == "venv")
    return str(step["run"])


def run_install(temp: Path, cache: Path) -> None:
    temp.mkdir(parents=True, exist_ok=True)
    output = temp / "github_output"
    output.write_text("")
    script = temp / "install.sh"
    script.write_text(install_script(), encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(temp),
        "RUNNER_TEMP": str(temp),
        "RUNNER_OS": "Linux",
        "GITHUB_OUTPUT": str(output),
        "ENKRYPTIFY_BASE_PYTHON": base_python(),
        "ENKRYPTIFY_ACTION_PATH": str(ACTION),
        "PIP_CACHE_DIR": str(cache),
        **PIP_ENV,
    }
    subprocess.run([*BASH, str(script)], env=env, check=True, capture_output=True)
    assert output.read_text().startswith("python="), "the install step gave no python output"


def make_vendor(dest: Path) -> None:
    hashed = ("--require-hashes", "--only-binary=:all:", "-r", str(LOCK))
    subprocess.run(
        [base_python(), "-m", "pip", "install", "--quiet", "--no-compile", "--no-deps", "--target", str(dest), *hashed],
        env={**os.environ, **PIP_ENV},
        check=True,
        capture_output=True,
    )


def verify_vendor(root: Path) -> int:
    """Every file a wheel RECORD lists (inside ``root``) has the recorded sha256; returns the count."""
    checked = 0
    for record in root.glob("*.dist-info/RECORD"):
        for row in csv.reader(record.read_text(encoding="utf-8").splitlines()):
            path, digest = row[0], row[1]
            target = (root / path).resolve()
            if not digest or not target.is_relative_to(root.resolve()):  # console scripts land outside
                continue
            want = digest.removeprefix("sha256=")
            got = base64.urlsafe_b64encode(hashlib.sha256(target.read_bytes()).digest()).rstrip(b"=").decode()
            if got != want:
                raise SystemExit(f"vendored file {path} does not match its wheel's RECORD")
            checked += 1
    return checked


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} ({min(samples):.2f}-{max(samples):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--print", action="store_true", help="print the report instead of writing it")
    args = parser.parse_args()
    results: dict[str, list[float]] = {"cold": [], "warm": [], "reuse": [], "vendored": []}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="composite-bench-") as scratch_name:
        scratch = Path(scratch_name)
        vendor = scratch / "vendor"
        release_time = timed(lambda: make_vendor(vendor))
        files = sum(1 for p in vendor.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in vendor.rglob("*") if p.is_file())
        binaries = sorted(p.name for p in vendor.rglob("*") if p.suffix in (".so", ".pyd", ".dylib"))
        for i in range(args.rounds):
            cold_cache = scratch / f"cache-{i}"
            results["cold"].append(timed(lambda: run_install(scratch / f"cold-{i}", cold_cache)))  # noqa: B023
            results["warm"].append(timed(lambda: run_install(scratch / f"warm-{i}", cold_cache)))  # noqa: B023
            results["reuse"].append(timed(lambda: run_install(scratch / f"warm-{i}", cold_cache)))  # noqa: B023
            copy = scratch / f"vendor-{i}"
            shutil.copytree(vendor, copy)
            results["vendored"].append(timed(lambda: verify_vendor(copy)))  # noqa: B023
        checked = verify_vendor(vendor)
    load = os.getloadavg()[0]
    lines = [
        "# Composite action: dependency set-up time",
        "",
        "Generated by `bench/composite_install.py`; what each row times is in its docstring.",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {args.rounds} rounds; "
        f"took {time.monotonic() - started:.0f} s; load average (1 min) at the end {load:.2f}",
        f"- Machine: {platform.system()} {platform.release()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()} ({base_python()})",
        f"- Vendored tree: made in {release_time:.1f} s, {files} files, {size / 1e6:.1f} MB, "
        f"{checked} hashed files; platform-specific files: {', '.join(binaries) or 'none'}",
        "",
        "Seconds: median (min-max).",
        "",
        "| what the step runs | seconds |",
        "| --- | ---: |",
        f"| install, cold (empty pip cache, fresh RUNNER_TEMP) | {summary(results['cold'])} |",
        f"| install, warm (filled pip cache, fresh RUNNER_TEMP) | {summary(results['warm'])} |",
        f"| install, second use in the job (venv reused) | {summary(results['reuse'])} |",
        f"| vendored: verify every file against its wheel's RECORD | {summary(results['vendored'])} |",
        "",
    ]
    report = "\n".join(lines)
    if args.print:
        sys.stdout.write(report)
    else:
        OUT.write_text(report, encoding="utf-8")
        print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
