"""Hypothesis profiles for the hardening suite, chosen with ``HYPOTHESIS_PROFILE`` (default ``bounded``).

* ``bounded``: what ``make test`` runs; a few seconds in all.
* ``long``: ``make fuzz``; at least 10,000 examples for every in-process property.

The profiles are applied with ``@FUZZ`` on this suite's tests only, so loading this module never changes
the settings of other suites.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "bounded")
LONG_EXAMPLES = 10_000
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)  # no slow "explain"

settings.register_profile(
    "bounded", max_examples=60, deadline=None, suppress_health_check=_QUIET, print_blob=True, phases=_PHASES
)
settings.register_profile(
    "long", max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=_QUIET, print_blob=True, phases=_PHASES
)
if PROFILE not in ("bounded", "long"):
    raise RuntimeError(f"HYPOTHESIS_PROFILE must be bounded or long, not {PROFILE!r}")

FUZZ = settings.get_profile(PROFILE)


def scaled(bounded: int, long: int) -> settings:
    """Settings for a costly property (real subprocesses): ``bounded`` or ``long`` examples."""
    return settings(FUZZ, max_examples=long if PROFILE == "long" else bounded)
