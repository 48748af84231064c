"""Tests of the container image, built with rootful podman (see scripts/setup-podman.sh)."""
