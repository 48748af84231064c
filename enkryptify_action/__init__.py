"""Fetch Enkryptify secrets into CI: a GitHub Action, a GitLab CI/CD component and a CLI."""

__version__ = "1.0.0"
