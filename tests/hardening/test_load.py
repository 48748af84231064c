"""Load: 50 concurrent real CLI runs against one served fake with the real rate limits.

The fake keeps the API's limits: 200 requests/min per client (every loopback run shares one budget, as
jobs behind one NAT would) and 10 token exchanges/min per token. A run with workspace, project and
environment named makes 3 requests (exchange, environment list, secrets), so 50 runs make 150: within the
per-client budget. 40 of the 50 exchanges are refused with 429, and those runs fall back to the API token
as Bearer (documented), so every run must succeed without waiting for a rate-limit window.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.e2e.cli_helpers import REPO, base_env
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.hardening import leakscan

RUNS = 50
TOKEN = "ek_live_load_test_0123456789abcdef"
SECRETS = {f"SECRET_{i:02d}": f"load-value-{i:02d}-{'x' * 24}" for i in range(20)}
DEADLINE = 120.0  # fail rather than hang


def test_fifty_concurrent_runs_all_succeed(tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    fake = FakeEnkryptify()
    assert fake.rate_limits and fake.per_client_limit == 200 and fake.exchange_limit == 10
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    for name, value in SECRETS.items():
        fake.add_secret(prj, name, {"production": value})
    fake.add_token(TOKEN)

    with serve_fake(fake) as url:
        env = base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url, ENKRYPTIFY_DEBUG="1")
        args = ["pull", "--workspace", "acme", "--project", "web-app", "--env", "production", "--format", "json"]
        started = time.monotonic()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "enkryptify_action", *args, "--output", str(tmp_path / f"run-{i}.json")],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(RUNS)
        ]
        results = []
        try:
            for proc in procs:
                remaining = max(1.0, DEADLINE - (time.monotonic() - started))
                out, err = proc.communicate(timeout=remaining)
                results.append((proc.returncode, out, err))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        wall = time.monotonic() - started

    counted = [re.search(r"(\d+) request\(s\), (\d+) retried", err) for _, _, err in results]
    statuses = Counter((r.path.rsplit("/", 1)[-1], r.status) for r in fake.requests)
    figures = {
        "runs": RUNS,
        "succeeded": sum(code == 0 for code, _, _ in results),
        "requests": len(fake.requests),
        "client attempts": sum(int(m.group(1)) for m in counted if m),
        "client retries": sum(int(m.group(2)) for m in counted if m),
        "429 answers": sum(1 for r in fake.requests if r.status == 429),
        "exchanges ok / rate-limited": f"{statuses[('exchange', 200)]} / {statuses[('exchange', 429)]}",
        "direct Bearer runs": sum("using the API token directly" in err for _, _, err in results),
        "wall seconds": round(wall, 2),
    }
    for key, value in figures.items():
        record_property(key, value)
    (tmp_path / "load-figures.json").write_text(json.dumps(figures, indent=2))
    print("load figures:", json.dumps(figures))  # shown with -s or -rA

    failed = [(code, err[-300:]) for code, _, err in results if code != 0]
    assert not failed, f"{len(failed)} run(s) failed: {failed[:3]}"
    for i in range(RUNS):
        data = json.loads((tmp_path / f"run-{i}.json").read_text())
        same = data == SECRETS
        assert same, f"run {i} exported different values"
    for _code, out, err in results:  # debug output included: names and counts only
        leakscan.observe_cli([*args, "--output", "FILE"], out, err)
    assert statuses[("exchange", 200)] == 10 and statuses[("exchange", 429)] == RUNS - 10
    assert len(fake.requests) == 3 * RUNS, "each run makes exactly 3 requests"
    assert wall < DEADLINE
