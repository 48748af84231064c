"""Fetch Enkryptify secrets into CI: a GitHub Action, a GitLab CI/CD component and a CLI."""

__version__ = "0.1.0"
