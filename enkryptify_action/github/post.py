"""The action's ``post-entrypoint``: ``enkryptify-fetch-github-post`` / ``python -m enkryptify_action.github.post``."""

from __future__ import annotations

import sys

from .action import run_post


def main() -> int:
    return run_post()


if __name__ == "__main__":
    sys.exit(main())
