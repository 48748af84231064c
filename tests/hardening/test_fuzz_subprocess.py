"""A few generated cases through the real subprocess path: ``entrypoint.py`` against the fake on loopback.

The in-process properties (test_fuzz_github.py) carry the volume; these cross-check that the same cases
hold when the action runs as the runner runs it (its own process, UTF-8 pipes, the audit hook that proves
every mask precedes the first write). Few examples: each one costs a Python start-up.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunCapture, RunnerDirs, run_entrypoint
from tests.hardening import leakscan
from tests.hardening import strategies as hs
from tests.hardening.profiles import scaled
from tests.hardening.test_fuzz_github import TOKEN, check_action_run, plan_options


def run_subprocess(fake: FakeEnkryptify, dirs: RunnerDirs, inputs: dict[str, str]) -> RunCapture:
    with serve_fake(fake) as url:
        where = {"workspace": "acme", "project": "web-app", "environment": "production", "api-url": url}
        env = dirs.environ(where | inputs, extra={"ENKRYPTIFY_TOKEN": TOKEN})
        with leakscan.restricted([]):  # check_action_run does its own, name-aware leak checks
            return run_entrypoint(env, cwd=dirs.workspace)


@scaled(bounded=3, long=40)
@given(st.dictionaries(hs.names, hs.short_values, min_size=1, max_size=8), plan_options, st.booleans(), st.booleans())
def test_generated_secrets_through_the_real_action(
    secrets: dict[str, str], options: dict[str, Any], export_outputs: bool, export_file: bool
) -> None:
    check_action_run(secrets, options, export_outputs, export_file, run_subprocess)
