"""Benchmark: the real action end to end against the fake API, next to a curl+jq baseline.

    .venv/bin/python bench/run.py              # full run (make bench), writes bench/RESULTS.md
    .venv/bin/python bench/run.py --quick      # fewer runs, no container part, prints only

What one sample is: process start → the process has exited with GITHUB_ENV and GITHUB_OUTPUT written,
measured with ``os.wait4`` (wall time, user+sys CPU of the process tree, peak RSS of its largest
process). Every sample's files are then checked (parsed the way the runner parses them), outside the
timed region. Ours and the baseline alternate within each round (ABBA order), and ratios are taken per
round, so load from other processes on the machine hits both sides alike. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import yaml  # noqa: E402  (dev dependency of the repo, used to read action.yml)

from tests.fake_api.app import LARGE_TOKEN, FakeEnkryptify, FakeRequest, FakeResponse  # noqa: E402
from tests.fake_api.model import Project  # noqa: E402
from tests.fake_api.server import serve_fake  # noqa: E402

BENCH = REPO / "bench"
BASELINE = BENCH / "baseline.sh"
RESULTS = BENCH / "RESULTS.md"
CACHE = REPO / ".cache" / "bench"
NOTES_MARKER = "<!-- notes: everything below this line is kept when bench/run.py rewrites the file -->"
SIZES = (1, 100, 1_000, 10_000)
ENV_NAME = "production"


# --------------------------------------------------------------------------------------------------
# the fake API, with its own cost kept out of the way


class BenchFake(FakeEnkryptify):
    """The fake API with the secret list memoized (the data never changes during a benchmark).

    Serializing 10,000 secrets is the fake's cost, not the client's, and would land in both sides'
    wall time; with the memo a request costs the server a dict lookup and a socket write. The time
    spent in ``handle`` is summed so the report can show it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rate_limits = False  # hundreds of runs per minute, many exchanges per token
        self.server_seconds = 0.0
        self._memo: dict[tuple[object, ...], FakeResponse] = {}

    def handle(self, req: FakeRequest) -> FakeResponse:
        started = time.perf_counter()
        try:
            return super().handle(req)
        finally:
            self.server_seconds += time.perf_counter() - started

    def _secrets(self, req: FakeRequest, prj: Project, visible: set[str], name: str | None) -> FakeResponse:
        key = (prj.id, frozenset(visible), name, tuple(sorted((k, tuple(v)) for k, v in req.query.items())))
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = super()._secrets(req, prj, visible, name)
        return FakeResponse(cached.status, dict(cached.headers), cached.body)


@dataclass
class Target:
    """One fake API with N secrets, served on loopback."""

    n: int
    fake: BenchFake
    url: str
    workspace: str
    project: str
    env_id: str
    expected: dict[str, str] = field(repr=False)


def make_target(n: int, stack: contextlib.ExitStack) -> Target:
    fake = BenchFake.large(n)
    assert isinstance(fake, BenchFake)
    ws = fake.find_workspace("bench")
    assert ws is not None
    prj = fake.find_project(ws, "big")
    assert prj is not None
    env_id = next(e.id for e in prj.environments.values() if e.name == ENV_NAME)
    expected = {f"SECRET_{i:05d}": f"{ENV_NAME}-value-{i}" for i in range(n)}
    url = stack.enter_context(serve_fake(fake))
    return Target(n, fake, url, ws.slug, prj.slug, env_id, expected)


# --------------------------------------------------------------------------------------------------
# one process, measured


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, fork/exec to reaped
    cpu: float  # seconds, user+sys of the process and the children it waited for
    rss_mb: float  # peak RSS of the largest process in the tree
    requests: int  # HTTP requests the fake API saw
    server: float  # seconds the fake spent in handle()


@dataclass
class RunDir:
    """A fresh GitHub-runner-like file-command directory for one sample."""

    root: Path

    def __post_init__(self) -> None:
        for sub in ("file_commands", "workspace", "temp", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for name in ("env", "output", "state", "summary"):
            self.file(name).touch()

    def file(self, name: str) -> Path:
        return self.root / "file_commands" / name

    def runner_env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ENV": str(self.file("env")),
            "GITHUB_OUTPUT": str(self.file("output")),
            "GITHUB_STATE": str(self.file("state")),
            "GITHUB_STEP_SUMMARY": str(self.file("summary")),
            "GITHUB_WORKSPACE": str(self.root / "workspace"),
            "RUNNER_TEMP": str(self.root / "temp"),
        }


GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def measure(argv: Sequence[str], env: Mapping[str, str], cwd: Path, target: Target) -> tuple[Sample, int, Path]:
    """Run ``argv`` once; return the sample, its exit code and the file holding its stdout+stderr.

    Peak RSS comes from GNU time (``%M``) when installed: on Linux a process's peak RSS starts at the
    size of the process it was exec'd from, so ``wait4`` on a direct child of this (large) process
    reports at least this process's RSS. GNU time is a ~1 MB process, so its child's figure is clean.
    Wall and CPU come from ``wait4`` on the whole tree (GNU time's ~1 ms counts on both sides).
    """
    log = cwd.parent / "stdout.log"
    rss_file = cwd.parent / "rss.txt"
    launcher = [GNU_TIME, "-f", "%M", "-o", str(rss_file)] if GNU_TIME else []
    before = len(target.fake.requests)
    server_before = target.fake.server_seconds
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*launcher, *argv], env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss_mb = float("nan")
    if GNU_TIME:
        with contextlib.suppress(OSError, ValueError, IndexError):
            rss_mb = int(rss_file.read_text().split()[-1]) / 1024
    sample = Sample(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_mb=rss_mb,
        requests=len(target.fake.requests) - before,
        server=target.fake.server_seconds - server_before,
    )
    return sample, proc.returncode, log


# --------------------------------------------------------------------------------------------------
# what runs: ours (the action, or the CLI) and the baseline


def action_inputs() -> dict[str, str]:
    """``INPUT_*`` for every input with a default in action.yml, the way the runner fills them in."""
    data = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    inputs: dict[str, dict[str, object]] = data.get("inputs") or {}
    return {f"INPUT_{name.upper()}": str(spec.get("default", "")) for name, spec in inputs.items()}


def has_action_mode() -> bool:
    return (REPO / "enkryptify_action" / "github" / "action.py").is_file() and (REPO / "action.yml").is_file()


@dataclass(frozen=True)
class Variant:
    label: str
    build: Build


Build = Callable[[Target, RunDir], tuple[list[str], dict[str, str]]]


def ours_action(
    python: Path,
    *,
    auth: str = "exchange",
    environment: str | None = None,
    discover: bool = False,
    extra: Sequence[str] = (),
    tree: Path = REPO,
) -> Build:
    def build(target: Target, run: RunDir) -> tuple[list[str], dict[str, str]]:
        env = run.runner_env() | action_inputs()
        env |= {
            "ENKRYPTIFY_TOKEN": LARGE_TOKEN,
            "INPUT_API-URL": target.url,
            "INPUT_WORKSPACE": "" if discover else target.workspace,
            "INPUT_PROJECT": "" if discover else target.project,
            "INPUT_ENVIRONMENT": target.env_id if environment is None else environment,
            "INPUT_AUTH": auth,
        }
        return [str(python), *extra, str(tree / "entrypoint.py")], env

    return build


def ours_cli(python: Path) -> Build:
    """Before the action mode existed: ``pull --format dotenv --output GITHUB_ENV`` (no heredocs)."""

    def build(target: Target, run: RunDir) -> tuple[list[str], dict[str, str]]:
        env = run.runner_env()
        env.pop("GITHUB_ACTIONS")
        env |= {
            "ENKRYPTIFY_TOKEN": LARGE_TOKEN,
            "ENKRYPTIFY_API_URL": target.url,
            "ENKRYPTIFY_WORKSPACE": target.workspace,
            "ENKRYPTIFY_PROJECT": target.project,
            "ENKRYPTIFY_ENVIRONMENT": target.env_id,
        }
        argv = [str(python), str(REPO / "entrypoint.py"), "pull", "--format", "dotenv", "--output", env["GITHUB_ENV"]]
        return argv, env

    return build


def baseline(target: Target, run: RunDir) -> tuple[list[str], dict[str, str]]:
    env = run.runner_env()
    env |= {
        "ENKRYPTIFY_TOKEN": LARGE_TOKEN,
        "ENKRYPTIFY_API_URL": target.url,
        "ENKRYPTIFY_WORKSPACE": target.workspace,
        "ENKRYPTIFY_PROJECT": target.project,
        "ENKRYPTIFY_ENVIRONMENT_ID": target.env_id,
    }
    return ["bash", str(BASELINE)], env


# --------------------------------------------------------------------------------------------------
# checking what a sample wrote (the runner's parser, FileCommandManager.cs EnvFileKeyValuePairs)


def parse_file_commands(text: str) -> dict[str, str]:
    lines = text.split("\n")
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "":
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if eq >= 0 and (heredoc < 0 or eq < heredoc):
            out[line[:eq]] = line[eq + 1 :]
            continue
        if heredoc < 0:
            raise ValueError("invalid file-command line")
        name, delim = line[:heredoc], line[heredoc + 2 :]
        value: list[str] = []
        while i < len(lines) and lines[i] != delim:
            value.append(lines[i])
            i += 1
        if i >= len(lines):
            raise ValueError(f"delimiter not found for {name}")
        i += 1
        out[name] = "\n".join(value)
    return out


def dotenv_pairs(text: str) -> dict[str, str]:
    """The CLI's dotenv output (single-quoted values only, as in the benchmark data)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, _, quoted = line.partition("=")
        out[name] = quoted[1:-1]
    return out


_MASK = re.compile(r"^::add-mask( [^:\n]*)?::", re.M)  # github-action-utils writes "::add-mask ::VALUE"


def check(target: Target, run: RunDir, code: int, log: Path, *, cli: bool) -> str | None:
    """``None`` when the sample wrote exactly the expected exports, else what is wrong."""
    if code != 0:
        return f"exit code {code}: {log.read_text(errors='replace')[-500:]}"
    env_text = run.file("env").read_text(encoding="utf-8")
    got = dotenv_pairs(env_text) if cli else parse_file_commands(env_text)
    if got != target.expected:
        return (
            f"GITHUB_ENV holds {len(got)} variable(s), {sum(got.get(k) == v for k, v in target.expected.items())} right"
        )
    if cli:
        return None
    outputs = parse_file_commands(run.file("output").read_text(encoding="utf-8"))
    if outputs.get("count") != str(target.n) or json.loads(outputs.get("names", "[]")) != list(target.expected):
        return "GITHUB_OUTPUT lacks the right names/count"
    masks = len(_MASK.findall(log.read_text(encoding="utf-8")))
    if masks < target.n:
        return f"only {masks} ::add-mask:: line(s)"
    return None


# --------------------------------------------------------------------------------------------------
# a runtime-only interpreter: the packages the image has, nothing from the dev tools


def runtime_python(log: Callable[[str], None]) -> Path | None:
    """A venv whose site-packages links exactly requirements/runtime.txt's packages from .venv.

    The dev venv also has click and pygments (pytest, check-jsonschema), and ``import httpx`` then
    imports its optional CLI (``httpx._main``) with them: cost a real install does not pay. The
    links need no network; versions are checked against the lock file.
    """
    from importlib import metadata

    lock = REPO / "requirements" / "runtime.txt"
    if not lock.is_file():
        log("requirements/runtime.txt missing: benchmarking with the dev venv")
        return None
    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", lock.read_text(encoding="utf-8"), re.M))
    root = CACHE / "runtime-venv"
    stamp = root / "lock.stamp"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == lock.read_text(encoding="utf-8"):
        return root / "bin" / "python3"
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = next((root / "lib").glob("python3*/site-packages"))
    for name, version in pins.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            log(f"{name} is not installed in .venv: benchmarking with the dev venv")
            shutil.rmtree(root, ignore_errors=True)
            return None
        if dist.version != version:
            log(f"note: .venv has {name} {dist.version}, the lock file pins {version}")
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in sorted(tops):
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (site / top).exists():
                (site / top).symlink_to(source)
    (site / "enkryptify_action").symlink_to(REPO / "enkryptify_action")
    stamp.write_text(lock.read_text(encoding="utf-8"), encoding="utf-8")
    return root / "bin" / "python3"


# --------------------------------------------------------------------------------------------------
# statistics


@dataclass(frozen=True)
class Stat:
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def lo(self) -> float:
        return min(self.values)

    @property
    def hi(self) -> float:
        return max(self.values)

    def quartiles(self) -> tuple[float, float]:
        if len(self.values) < 4:
            return self.lo, self.hi
        q = statistics.quantiles(self.values, n=4, method="inclusive")
        return q[0], q[2]


def ms(stat: Stat) -> str:
    q1, q3 = stat.quartiles()
    return f"{stat.median * 1000:.0f} ({q1 * 1000:.0f}-{q3 * 1000:.0f})"


def ratio(stat: Stat) -> str:
    q1, q3 = stat.quartiles()
    return f"**{stat.median:.2f}** ({q1:.2f}-{q3:.2f})"


# --------------------------------------------------------------------------------------------------
# the main timing loop


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    def stat(self, pick: Callable[[Sample], float]) -> Stat:
        return Stat(tuple(pick(s) for s in self.samples))


def timing(
    targets: list[Target],
    ours: Variant,
    runs: Callable[[int], int],
    *,
    cli: bool,
    work: Path,
    log: Callable[[str], None],
    extras: Sequence[tuple[Variant, Sequence[int]]] = (),
) -> dict[tuple[str, int], Series]:
    """Interleaved rounds: per round and size, ours and baseline in alternating order (ABBA)."""
    variants = [ours, Variant("baseline", baseline)]
    series: dict[tuple[str, int], Series] = {}
    counter = 0

    def one(variant: Variant, target: Target, *, keep: bool) -> None:
        nonlocal counter
        counter += 1
        run = RunDir(work / f"s{counter}" / "run")
        argv, env = variant.build(target, run)
        sample, code, out = measure(argv, env, run.root / "workspace", target)
        problem = check(target, run, code, out, cli=cli and variant.label != "baseline")
        if problem is not None:
            raise SystemExit(f"bench: {variant.label} at N={target.n} wrote the wrong exports: {problem}")
        shutil.rmtree(run.root.parent, ignore_errors=True)
        if keep:
            series.setdefault((variant.label, target.n), Series()).samples.append(sample)

    for target in targets:  # warm-up: page cache, .pyc files, the server's memo
        for variant in variants + [v for v, sizes in extras if target.n in sizes]:
            one(variant, target, keep=False)
    rounds = max(runs(t.n) for t in targets)
    for r in range(rounds):
        for target in targets:
            if r >= runs(target.n):
                continue
            order = variants if r % 2 == 0 else variants[::-1]
            chosen = list(order) + [v for v, sizes in extras if target.n in sizes]
            for variant in chosen:
                one(variant, target, keep=True)
        log(f"round {r + 1}/{rounds} done")
    return series


def paired(series: dict[tuple[str, int], Series], a: str, b: str, n: int, pick: Callable[[Sample], float]) -> Stat:
    xs, ys = series[(a, n)].samples, series[(b, n)].samples
    return Stat(tuple(pick(x) / pick(y) for x, y in zip(xs, ys, strict=True)))


# --------------------------------------------------------------------------------------------------
# requests per run


@dataclass(frozen=True)
class FloorCase:
    label: str
    expected: int
    auth: str
    environment: str | None  # None: the environment ID
    discover: bool = False


FLOOR_CASES = (
    FloorCase("auth direct, environment ID", 1, "direct", None),
    FloorCase("auth exchange, environment ID", 2, "exchange", None),
    FloorCase("auth exchange, environment name", 3, "exchange", ENV_NAME),
    FloorCase("auth direct, environment name", 2, "direct", ENV_NAME),
    FloorCase("auth exchange, environment ID, no workspace/project", 4, "exchange", None, discover=True),
    FloorCase("auth exchange, environment name, no workspace/project", 5, "exchange", ENV_NAME, discover=True),
)


def request_floor(target: Target, python: Path, work: Path) -> list[tuple[FloorCase, list[str]]]:
    rows = []
    for i, case in enumerate(FLOOR_CASES):
        run = RunDir(work / f"floor{i}" / "run")
        argv, env = ours_action(python, auth=case.auth, environment=case.environment, discover=case.discover)(
            target, run
        )
        before = len(target.fake.requests)
        _, code, out = measure(argv, env, run.root / "workspace", target)
        problem = check(target, run, code, out, cli=False)
        if problem is not None:
            raise SystemExit(f"bench: request-floor case {case.label!r} failed: {problem}")
        seen = [f"{r.method} {_shape(r.path)}" for r in target.fake.requests[before:]]
        rows.append((case, seen))
    return rows


def _shape(path: str) -> str:
    return re.sub(r"/(workspace|project)/[^/]+", r"/\1/…", path)


# --------------------------------------------------------------------------------------------------
# import-time profile


def import_profile(target: Target, python: Path, work: Path, runs: int) -> tuple[list[tuple[str, float]], float]:
    """Import time of one action run by top-level package (sum of self times), median over ``runs``."""
    per_package: dict[str, list[float]] = {}
    totals: list[float] = []
    for i in range(runs):
        run = RunDir(work / f"imp{i}" / "run")
        argv, env = ours_action(python, extra=["-X", "importtime"])(target, run)
        _, code, out = measure(argv, env, run.root / "workspace", target)
        if code != 0:
            raise SystemExit(f"bench: the -X importtime run failed: {out.read_text(errors='replace')[-500:]}")
        sums: dict[str, int] = {}
        for m in re.finditer(r"^import time:\s+(\d+) \|\s+\d+ \| *([\w.]+)$", out.read_text(encoding="utf-8"), re.M):
            package = m[2].split(".")[0].lstrip("_") or m[2]
            sums[package] = sums.get(package, 0) + int(m[1])
        for package, us in sums.items():
            per_package.setdefault(package, []).append(us / 1000)
        totals.append(sum(sums.values()) / 1000)
    rows = [(name, statistics.median(vals + [0.0] * (runs - len(vals)))) for name, vals in per_package.items()]
    rows.sort(key=lambda row: -row[1])
    return rows, statistics.median(totals)


# --------------------------------------------------------------------------------------------------
# the container image (podman), when available


@dataclass
class ContainerReport:
    status: str
    base_mb: float = 0.0
    image_mb: float = 0.0
    layers: list[tuple[str, float]] = field(default_factory=list)  # (created_by, MB), our layers only
    contents: list[tuple[str, float]] = field(default_factory=list)  # (path, MiB) inside the venv
    first_run: float = 0.0
    runs: Stat | None = None
    floor: Stat | None = None


def container_part(target: Target, work: Path, runs: int, log: Callable[[str], None]) -> ContainerReport:
    try:
        from tests.container import podman as pm
    except ImportError as exc:
        return ContainerReport(f"skipped: tests/container/podman.py not importable ({exc})")
    if shutil.which("podman") is None:
        return ContainerReport("skipped: podman is not installed")
    from tests.required_tools import problems

    if found := problems(["podman"]):
        return ContainerReport(f"skipped: {found[0]} (`make tools` installs it)")
    try:
        log("building the image (podman layer cache)")
        image = "localhost/enkryptify-fetch-secrets:bench"
        pm.build_image(tag=image)
    except (pm.PodmanSetupError, subprocess.TimeoutExpired, OSError) as exc:
        return ContainerReport(f"skipped: {str(exc).splitlines()[0]}")

    def history(ref: str) -> list[dict[str, object]]:
        data = json.loads(pm.podman("history", "--format", "json", ref).stdout)
        return [row for row in data if isinstance(row, dict)]

    def size(ref: str) -> float:
        return float(str(pm.inspect_image(ref).get("Size", 0))) / 1e6

    ours_rows = history(image)[: len(history(image)) - len(history(pm.BASE_IMAGE))]
    layers = [(_layer_label(row), _mb(row)) for row in reversed(ours_rows)]
    report = ContainerReport("measured", base_mb=size(pm.BASE_IMAGE), image_mb=size(image), layers=layers)
    du = pm.podman(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
        "du -sk /opt/venv/lib/python3*/site-packages/* /app | sort -rn",
    ).stdout  # fmt: skip
    for line in du.splitlines():
        kb, _, path = line.partition("\t")
        if kb.strip().isdigit():
            report.contents.append((path.strip().split("/site-packages/")[-1], int(kb) / 1024))

    def action_run() -> float:
        dirs = pm.RunnerDirs(Path(tempfile.mkdtemp(dir=work))).create()
        env = dirs.runner_env() | action_inputs()
        env |= {
            "ENKRYPTIFY_TOKEN": LARGE_TOKEN,
            "INPUT_API-URL": target.url,
            "INPUT_WORKSPACE": target.workspace,
            "INPUT_PROJECT": target.project,
            "INPUT_ENVIRONMENT": target.env_id,
        }
        started = time.perf_counter()
        proc = pm.run_action(image, dirs, env)
        elapsed = time.perf_counter() - started
        written = dirs.host_file(env["GITHUB_ENV"]).read_text(encoding="utf-8")
        if proc.returncode != 0 or parse_file_commands(written) != target.expected:
            raise SystemExit(f"bench: the container run failed ({proc.returncode}): {proc.stderr[-500:]}")
        return elapsed

    def floor_run() -> float:
        started = time.perf_counter()
        pm.podman("run", "--rm", "--network", "host", "--entrypoint", "true", image)
        return time.perf_counter() - started

    report.first_run = action_run()
    actions, floors = [], []
    for _ in range(runs):
        floors.append(floor_run())
        actions.append(action_run())
    report.runs, report.floor = Stat(tuple(actions)), Stat(tuple(floors))
    return report


def _layer_label(row: Mapping[str, object]) -> str:
    text = re.sub(r"\s+", " ", str(row.get("created_by", row.get("CreatedBy", "")))).strip()
    text = re.sub(r"^/bin/sh -c (#\(nop\) )?", "", text)
    text = re.sub(r"\b(dir|file):[0-9a-f]{16,}", r"\1:…", text)
    return text if len(text) <= 90 else text[:89] + "…"


def _mb(row: Mapping[str, object]) -> float:
    raw = row.get("size", row.get("Size", 0))
    return float(raw) / 1e6 if isinstance(raw, int | float) else 0.0


# --------------------------------------------------------------------------------------------------
# the report


def machine() -> list[str]:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, IndexError):
        mem = f", {int(Path('/proc/meminfo').read_text().split()[1]) // 1024 // 1024} GiB RAM"

    def version(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.splitlines()[0].strip()
        except (OSError, IndexError):
            return "missing"

    return [
        f"- Machine: {platform.system()} {platform.release()}, {os.cpu_count()} x {cpu}{mem}",
        f"- Python {platform.python_version()}; {version(['curl', '--version'])[:40]}; {version(['jq', '--version'])}; "
        f"{version(['bash', '--version'])[:40]}",
    ]


def render(
    args: argparse.Namespace,
    mode: str,
    python_label: str,
    series: dict[tuple[str, int], Series],
    floor: list[tuple[FloorCase, list[str]]],
    imports: tuple[list[tuple[str, float]], float] | None,
    container: ContainerReport | None,
    loads: tuple[str, str],
    started: dt.datetime,
    seconds: float,
    comparisons: Sequence[tuple[str, str]],
) -> str:
    ours = "ours"
    sizes = sorted({n for _, n in series})
    lines = [
        "# Benchmark results",
        "",
        "Generated by `make bench` (`bench/run.py`); method and caveats in [bench/README.md](README.md).",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; the run took {seconds:.0f} s",
        *machine(),
        f"- Load average (1 min) at start / end: {loads[0]} / {loads[1]} — the machine was shared, so absolute "
        "times are noisy; the per-round ratios are the numbers to read",
        f"- Ours: {mode}, {python_label}",
        "- Baseline: `bench/baseline.sh` (bash + curl + jq: exchange, list, `::add-mask::` each value, heredoc "
        "records to GITHUB_ENV, names/count to GITHUB_OUTPUT)",
        "- Both talk to the same in-process fake API on loopback (its secret list memoized; time spent in the "
        "fake's handler is shown below); every sample's GITHUB_ENV/GITHUB_OUTPUT is checked after the run",
        "",
        "## End to end (process start → exports written)",
        "",
        "Milliseconds: median (interquartile range) over the rounds. Ratio = ours ÷ baseline, taken per "
        "round (the two ran back to back), median (IQR). CPU = user+sys of the whole process tree.",
        "",
        "| N | runs | ours wall ms | baseline wall ms | wall ratio | ours CPU ms | baseline CPU ms | CPU ratio "
        "| peak RSS ours / baseline | requests ours / baseline | fake API ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        o, b = series[(ours, n)], series[("baseline", n)]
        lines.append(
            f"| {n:,} | {len(o.samples)} | {ms(o.stat(lambda s: s.wall))} | {ms(b.stat(lambda s: s.wall))} "
            f"| {ratio(paired(series, ours, 'baseline', n, lambda s: s.wall))} "
            f"| {ms(o.stat(lambda s: s.cpu))} | {ms(b.stat(lambda s: s.cpu))} "
            f"| {ratio(paired(series, ours, 'baseline', n, lambda s: s.cpu))} "
            f"| {_rss(o)} / {_rss(b)} "
            f"| {_requests(o)} / {_requests(b)} | {o.stat(lambda s: s.server).median * 1000:.1f} |"
        )
    for label, note in comparisons:
        lines += ["", f"### {label}", "", note, ""]
        lines += ["| N | runs | wall ms | / ours (wall) | CPU ms | / ours (CPU) | peak RSS |"]
        lines += ["|---:|---:|---:|---:|---:|---:|---:|"]
        for n in sizes:
            if (label, n) not in series:
                continue
            other = series[(label, n)]
            lines.append(
                f"| {n:,} | {len(other.samples)} | {ms(other.stat(lambda s: s.wall))} "
                f"| {ratio(paired(series, label, ours, n, lambda s: s.wall))} | {ms(other.stat(lambda s: s.cpu))} "
                f"| {ratio(paired(series, label, ours, n, lambda s: s.cpu))} | {_rss(other)} |"
            )

    lines += ["", "## Targets", "", "| Target | Measured | Met |", "|---|---|---|"]
    checks: list[tuple[str, str, bool]] = []
    if 100 in sizes:
        r = paired(series, ours, "baseline", 100, lambda s: s.wall).median
        checks.append(("100 secrets: ≤ 3x the curl+jq baseline (wall)", f"{r:.2f}x", r <= 3))
        checks.append(("100 secrets, stretch: ≤ 2x", f"{r:.2f}x", r <= 2))
    if 10_000 in sizes:
        w = series[(ours, 10_000)].stat(lambda s: s.wall).median
        c = series[(ours, 10_000)].stat(lambda s: s.cpu).median
        rss = series[(ours, 10_000)].stat(lambda s: s.rss_mb).hi
        checks.append(("10,000 secrets: ≤ 1 s end to end (median wall)", f"{w:.2f} s", w <= 1))
        checks.append(("10,000 secrets: ≤ 1 s, as CPU time (median user+sys)", f"{c:.2f} s", c <= 1))
        checks.append(("10,000 secrets: peak RSS ≤ 100 MB (max over runs)", _rss(series[(ours, 10_000)]), rss <= 100))
        if 1_000 in sizes:
            k = w / series[(ours, 1_000)].stat(lambda s: s.wall).median
            checks.append(("time(10k) / time(1k) ≤ 12 (median wall)", f"{k:.2f}", k <= 12))
    for case, seen in floor:
        checks.append((f"requests: {case.label} = {case.expected}", str(len(seen)), len(seen) == case.expected))
    if container is not None and container.status == "measured":
        ours_mb = container.image_mb - container.base_mb
        checks.append(("our image layers ≤ 10 MB above the base", f"{ours_mb:.1f} MB", ours_mb <= 10))
    for text, value, met in checks:
        lines.append(f"| {text} | {value} | {'yes' if met else '**no**'} |")

    if floor:
        lines += ["", "## Requests per run (N = 100)", "", "| Case | Requests |", "|---|---|"]
        for case, seen in floor:
            lines.append(f"| {case.label} | {len(seen)}: {', '.join(f'`{s}`' for s in seen)} |")

    if imports is not None:
        rows, total = imports
        third_party = {"httpx", "httpcore", "h11", "anyio", "idna", "certifi", "sniffio", "yaml", "github_action_utils",
                       "typing_extensions", "enkryptify_action"}  # fmt: skip
        lines += [
            "",
            "## Import time (`python -X importtime`, action mode, N = 100)",
            "",
            f"Self time summed per top-level package (a leading `_` folded in: `_ssl` counts as `ssl`), median over "
            f"{args.import_runs} runs. All imports together: **{total:.0f} ms** — inflated by -X importtime itself "
            "and by the load; compare with the wall times above.",
            "",
            "| Package | ms | |",
            "|---|---:|---|",
        ]
        lines += [
            f"| `{name}` | {ms_:.1f} | {'dependency' if name in third_party else 'stdlib'} |"
            for name, ms_ in rows[: args.import_top]
        ]

    lines += ["", "## Container image", ""]
    if container is None:
        lines.append("Not measured (`--no-container`).")
    elif container.status != "measured":
        lines.append(f"Not measured: {container.status}.")
    else:
        assert container.runs is not None and container.floor is not None
        lines += [
            f"Built with `tests/container/podman.py` on `localhost/enkryptify-base:bookworm` (Debian bookworm minbase "
            f"+ python3): base {container.base_mb:.1f} MB, image {container.image_mb:.1f} MB, ours "
            f"**{container.image_mb - container.base_mb:.1f} MB**.",
            "",
            "| Our layer (newest last) | MB |",
            "|---|---:|",
        ]
        lines += [f"| `{created.replace('|', '¦')}` | {mb:.2f} |" for created, mb in container.layers]
        if container.contents:
            lines += ["", "Inside (`du -sk`, MiB, largest first):", ""]
            lines.append(", ".join(f"`{path}` {mib:.1f}" for path, mib in container.contents[:12]))
        lines += [
            "",
            f"`podman run` like the runner does (N = 100, --network host): first run after the build "
            f"{container.first_run * 1000:.0f} ms; then median {ms(container.runs)} ms over "
            f"{len(container.runs.values)} runs, against {ms(container.floor)} ms for "
            "`podman run … --entrypoint true` of the same image (container start-up alone).",
        ]
    return "\n".join(lines) + "\n"


def _rss(series: Series) -> str:
    peak = series.stat(lambda s: s.rss_mb).hi
    return "n/a" if peak != peak else f"{peak:.0f} MB"  # NaN: GNU time is not installed


def _requests(series: Series) -> str:
    counts = sorted({s.requests for s in series.samples})
    return "/".join(str(c) for c in counts)


def write_results(text: str, path: Path) -> None:
    notes = ""
    if path.is_file():
        old = path.read_text(encoding="utf-8")
        if NOTES_MARKER in old:
            notes = old.split(NOTES_MARKER, 1)[1]
    path.write_text(text + "\n" + NOTES_MARKER + (notes or "\n"), encoding="utf-8")


# --------------------------------------------------------------------------------------------------


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated N (default %(default)s)")
    parser.add_argument("--runs", type=int, default=11, help="timed rounds per size (default %(default)s)")
    parser.add_argument("--runs-10k", type=int, default=7, help="timed rounds at N ≥ 10,000 (default %(default)s)")
    parser.add_argument("--mode", choices=["auto", "action", "cli"], default="auto")
    parser.add_argument("--dev-venv", action="store_true", help="benchmark .venv's interpreter instead")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="DIR",
        help="also time another tree (DIR/entrypoint.py + DIR/enkryptify_action, e.g. a `git worktree` of an older "
        "commit) interleaved with ours at every size: the before/after of a change",
    )
    parser.add_argument("--compare-label", default="before", help="name of the --compare tree in the report")
    parser.add_argument("--import-runs", type=int, default=5)
    parser.add_argument("--import-top", type=int, default=15)
    parser.add_argument("--container-runs", type=int, default=5)
    parser.add_argument("--no-container", action="store_true")
    parser.add_argument("--quick", action="store_true", help="3 rounds, no container, print instead of writing")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results file ('-' prints it)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.runs_10k, args.import_runs, args.no_container = 3, 3, 2, True
        args.output = Path("-")

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    for tool in ("bash", "curl", "jq"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: {tool} is not installed (the baseline needs bash, curl and jq)")
    started, t0, load0 = dt.datetime.now(dt.UTC), time.monotonic(), loadavg()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    mode = ("action" if has_action_mode() else "cli") if args.mode == "auto" else args.mode
    dev_python = Path(sys.executable)
    runtime = None if args.dev_venv else runtime_python(log)
    python = runtime or dev_python
    python_label = (
        "runtime-only interpreter (`.cache/bench/runtime-venv`: exactly requirements/runtime.txt, linked from .venv)"
        if runtime
        else "the dev venv's interpreter (`.venv`)"
    )
    ours = Variant("ours", ours_action(python) if mode == "action" else ours_cli(python))
    extras: list[tuple[Variant, Sequence[int]]] = []
    comparisons: list[tuple[str, str]] = []
    if runtime is not None and 100 in sizes:
        extras.append(
            (Variant("dev venv", ours_action(dev_python) if mode == "action" else ours_cli(dev_python)), [100])
        )
        comparisons.append(
            (
                "dev venv",
                "The same run with `.venv`'s interpreter: there `import httpx` also imports its optional CLI "
                "(`httpx._main`), because the dev tools bring click and pygments.",
            )
        )
    if args.compare is not None:
        if mode != "action" or not (args.compare / "entrypoint.py").is_file():
            raise SystemExit("bench: --compare needs action mode and DIR/entrypoint.py")
        extras.append((Variant(args.compare_label, ours_action(python, tree=args.compare.resolve())), sizes))
        comparisons.append(
            (
                args.compare_label,
                f"The tree at `{args.compare}`, same interpreter, interleaved with ours in every round.",
            )
        )
    log(f"mode {mode}; sizes {sizes}; {args.runs} rounds ({args.runs_10k} at 10k); python {python}")

    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="enkryptify-bench-") as tmp:
        work = Path(tmp)
        targets = [make_target(n, stack) for n in sizes]
        series = timing(
            targets,
            ours,
            lambda n: args.runs_10k if n >= 10_000 else args.runs,
            cli=mode == "cli",
            work=work,
            log=log,
            extras=extras,
        )
        mid = next((t for t in targets if t.n == 100), targets[0])
        floor = request_floor(mid, python, work) if mode == "action" else []
        imports = import_profile(mid, python, work, args.import_runs) if mode == "action" else None
        container = (
            None if args.no_container or mode != "action" else container_part(mid, work, args.container_runs, log)
        )
    text = render(
        args,
        "the GitHub Action mode (`GITHUB_ACTIONS=true python entrypoint.py`, INPUT_* as the runner sets them, "
        "auth exchange, environment ID)"
        if mode == "action"
        else "the CLI (`entrypoint.py pull --format dotenv --output $GITHUB_ENV`)",
        python_label,
        series,
        floor,
        imports,
        container,
        (load0, loadavg()),
        started,
        time.monotonic() - t0,
        comparisons,
    )
    if str(args.output) == "-":
        print(text)
    else:
        write_results(text, args.output)
        log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
