"""Hardening suite: Hypothesis profiles (``HYPOTHESIS_PROFILE=bounded|long``, see profiles.py)."""

from tests.hardening import profiles  # noqa: F401  (registers the profiles)
