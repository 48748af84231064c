"""scripts/release.py loaded as a module (scripts/ is not a package), plus a tree builder for its tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.script_loader import ROOT as ROOT  # re-exported for the tests
from tests.script_loader import load_script

release = load_script("release.py", "release_script_under_test")

DIGEST = "sha256:" + "0123456789abcdef" * 4
OTHER_DIGEST = "sha256:" + "f" * 64

CHANGELOG = """\
# Changelog

## [Unreleased]

### Added

- Something new.

{previous}[Unreleased]: https://github.com/enkryptify/fetch-secrets/compare/v{version}...HEAD
"""


def make_tree(root: Path, version: str = "1.2.3", *, component: str | None = None, released: bool = False) -> Path:
    """A small tree with every kind of version source, all at `version` (the component at `component`)."""
    component = component or version
    files = {
        "pyproject.toml": f'[project]\nname = "enkryptify-action"\nversion = "{version}"\n',
        "enkryptify_action/__init__.py": f'"""Package."""\n\n__version__ = "{version}"\n',
        "Dockerfile": f"FROM scratch\nARG VERSION={version}\nLABEL version=${{VERSION}}\n",
        "gitlab-component/templates/fetch-secrets.yml": (
            f"spec:\n  inputs:\n    image:\n      default: ghcr.io/enkryptify/fetch-secrets:{component}\n"
            '---\njob:\n  image: $[[ inputs.image ]]\n  script: ["true"]\n'
        ),
        "gitlab-component/.gitlab-ci.yml": f"test:\n  image:\n    name: ghcr.io/enkryptify/fetch-secrets:{component}\n",
        "gitlab-component/README.md": (
            "# Component\n\n```yaml\ninclude:\n"
            f"  - component: $CI_SERVER_FQDN/enkryptify/fetch-secrets/fetch-secrets@{component}\n```\n\n"
            f"| `image` | `ghcr.io/enkryptify/fetch-secrets:{component}` | the image |\n"
            "Pin a SHA instead: `.../fetch-secrets/fetch-secrets@4f58ea79222b3b9dc2c8bbdd6debcef730109a75`.\n"
        ),
        "README.md": (
            "# Project\n\n- uses: enkryptify/fetch-secrets@v1\n"
            f"  - component: $CI_SERVER_FQDN/enkryptify/fetch-secrets/fetch-secrets@{component}\n"
        ),
        "CHANGELOG.md": CHANGELOG.format(
            version=version, previous=f"## [{version}] - 2026-01-02\n\n- First.\n\n" if released else ""
        ),
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    shutil.copy(ROOT / "action.yml", root / "action.yml")
    (root / "any-runner").mkdir(exist_ok=True)
    shutil.copy(ROOT / "any-runner" / "action.yml", root / "any-runner" / "action.yml")
    return root
