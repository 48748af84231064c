"""Container entry point for the GitHub Action (and the CLI in any other CI)."""

import sys

from enkryptify_action.cli import main

if __name__ == "__main__":
    sys.exit(main())
