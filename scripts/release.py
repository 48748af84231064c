#!/usr/bin/env python3
"""Release helper: one version everywhere, and action.yml pinned to the released image by digest.

Two actions ship from one commit: action.yml (the container action) and any-runner/action.yml (the
composite one, running this commit's package code). `check` and `pin-image` prove the composite is still
a drop-in (same inputs and outputs, every `uses:` pinned by SHA); the moving major tag covers both, and
copy-paste refs to either (`enkryptify/fetch-secrets@v1`, `enkryptify/fetch-secrets/any-runner@v1`) are
major-tag sources.

The version lives in several files (package, image label, GitLab component image, docs examples,
CHANGELOG). This script is the only thing that writes them, and `check` proves they agree:

    python scripts/release.py check                     # every version source agrees (run by the tests)
    python scripts/release.py check --tag v1.2.3        # ... and equals the tag, with a CHANGELOG section
    python scripts/release.py bump 1.2.3                # set 1.2.3 everywhere, Unreleased -> [1.2.3] - today
    python scripts/release.py pin-image sha256:<64 hex> # action.yml image: docker://ghcr.io/...@sha256:<hex>
    python scripts/release.py notes 1.2.3               # print the CHANGELOG section of 1.2.3
    python scripts/release.py gitlab-tree DIR           # make DIR (a GitLab clone) the component project

Every command is idempotent: running it again with the same arguments changes nothing. Errors exit 1 with
one line that says what is wrong; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

IMAGE = "ghcr.io/enkryptify/fetch-secrets"
REPO_URL = "https://github.com/enkryptify/fetch-secrets"
ROOT = Path(__file__).resolve().parent.parent

_SEMVER = r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
SEMVER_RE = re.compile(_SEMVER)  # always used with fullmatch: `$` would accept a trailing newline
TAG_RE = re.compile(rf"v({_SEMVER})")
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
_HEADING_RE = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\S+))?[ \t]*$", re.MULTILINE)


class ReleaseError(Exception):
    """A user-facing failure: the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Pattern:
    """Where a version is written: files (globs under the root) and a regex whose group `v` is the version."""

    globs: tuple[str, ...]
    regex: re.Pattern[str]
    required: bool  # the first glob must exist and hold at least one match


# Any version-looking text is captured (not only valid semver) so that a malformed value is reported, not missed.
_ANY = r"(?P<v>[0-9A-Za-z_+-]+(?:\.[0-9A-Za-z_+-]+)*)"
PATTERNS: tuple[Pattern, ...] = (
    Pattern(("pyproject.toml",), re.compile(rf'^version = "{_ANY}"$', re.MULTILINE), required=True),
    Pattern(("enkryptify_action/__init__.py",), re.compile(rf'^__version__ = "{_ANY}"$', re.MULTILINE), required=True),
    # The image's org.opencontainers.image.version label for local builds (CI passes --build-arg VERSION).
    Pattern(("Dockerfile",), re.compile(rf"^ARG VERSION={_ANY}$", re.MULTILINE), required=False),
    # A component cannot see its own version (gitlab-org/gitlab#438275), so its image tag is written out.
    Pattern(
        ("gitlab-component/**/*.yml", "gitlab-component/**/*.md", "README.md", "examples/**/*.yml"),
        re.compile(rf"{re.escape(IMAGE)}:{_ANY}(?=$|[\s\"'`@|).,;])", re.MULTILINE),
        required=False,
    ),
    # Copy-paste examples of the component include (`.../fetch-secrets@1.2.3`); SHA and `~latest` refs are left alone.
    Pattern(
        ("gitlab-component/**/*.md", "README.md", "examples/**/*.yml"),
        re.compile(rf"/fetch-secrets/fetch-secrets@(?=[0-9]+\.[0-9]){_ANY}(?=$|[\s\"'`|).,;])", re.MULTILINE),
        required=False,
    ),
)


# The composite action's folder (enkryptify_action/github/action_yml.py COMPOSITE_DIR generates it).
COMPOSITE_DIR = "any-runner"
COMPOSITE_ACTION = f"{COMPOSITE_DIR}/action.yml"

# Copy-paste examples of the actions (`uses: enkryptify/fetch-secrets@v1`, `.../any-runner@v1`) name the
# moving major tag only.
MAJOR_REF = Pattern(
    ("README.md", "examples/**/*.yml", "gitlab-component/**/*.md"),
    re.compile(rf"enkryptify/fetch-secrets(?:/{COMPOSITE_DIR})?@v(?P<v>[0-9]+)(?![0-9.])"),
    required=False,
)
_PINNED_USES_RE = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")


@dataclass(frozen=True)
class Source:
    """One place that holds the version."""

    path: Path
    line: int
    version: str

    def describe(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}"


def _files(root: Path, pattern: Pattern, *, strict: bool = True) -> list[Path]:
    found: set[Path] = set()
    for glob in pattern.globs:
        found.update(p for p in root.glob(glob) if p.is_file())
    if strict and pattern.required and not (root / pattern.globs[0]).is_file():
        raise ReleaseError(f"{pattern.globs[0]} is missing under {root}")
    return sorted(found)


def find_sources(root: Path, *, strict: bool = True) -> list[Source]:
    """Every place under `root` that holds the version, CHANGELOG excluded (see `changelog_releases`).

    Not `strict`: the package files may be absent (a tree that holds only the GitLab component).
    """
    sources: list[Source] = []
    for pattern in PATTERNS:
        for path in _files(root, pattern, strict=strict):
            text = path.read_text(encoding="utf-8")
            matches = list(pattern.regex.finditer(text))
            if strict and pattern.required and not matches:
                raise ReleaseError(f"{path.relative_to(root)}: no version found (expected {pattern.regex.pattern!r})")
            for m in matches:
                sources.append(Source(path, text.count("\n", 0, m.start()) + 1, m.group("v")))
    return sources


def validate_version(version: str) -> str:
    if SEMVER_RE.fullmatch(version):
        return version
    hint = " (without the leading 'v'; the git tag is v<version>)" if version.startswith("v") else ""
    raise ReleaseError(f"bad version {version!r}: expected MAJOR.MINOR.PATCH, e.g. 1.2.3{hint}")


def validate_tag(tag: str) -> str:
    """Return the version of a release tag `vX.Y.Z`."""
    m = TAG_RE.fullmatch(tag)
    if not m:
        raise ReleaseError(f"bad release tag {tag!r}: expected vMAJOR.MINOR.PATCH, e.g. v1.2.3")
    return m.group(1)


def validate_digest(digest: str) -> str:
    if DIGEST_RE.fullmatch(digest):
        return digest
    if re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise ReleaseError(f"bad image digest {digest!r}: add the algorithm prefix, sha256:{digest.lower()}")
    raise ReleaseError(f"bad image digest {digest!r}: expected sha256: followed by 64 lowercase hex digits")


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def current_version(root: Path) -> str:
    """The version every source agrees on; a ReleaseError lists the sources when they disagree."""
    sources = find_sources(root)
    versions = {s.version for s in sources}
    if len(versions) != 1:
        listing = ", ".join(f"{s.describe(root)}={s.version}" for s in sources)
        raise ReleaseError(
            f"the version sources disagree: {listing}. Set one version with: python scripts/release.py bump X.Y.Z"
        )
    version = versions.pop()
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    if pyproject.get("project", {}).get("version") != version:
        raise ReleaseError("pyproject.toml: the version line found is not [project].version")
    validate_version(version)
    return version


# --- CHANGELOG ---------------------------------------------------------------------------------------------


def _changelog(root: Path) -> str:
    path = root / "CHANGELOG.md"
    if not path.is_file():
        raise ReleaseError(f"CHANGELOG.md is missing under {root}")
    return path.read_text(encoding="utf-8")


def changelog_releases(text: str) -> list[str]:
    """Released versions in the order of their headings (newest first), `Unreleased` excluded."""
    return [m.group("name") for m in _HEADING_RE.finditer(text) if m.group("name") != "Unreleased"]


def changelog_section(text: str, name: str) -> str | None:
    """The body of `## [name]` (without its heading), or None when there is no such heading."""
    headings = list(_HEADING_RE.finditer(text))
    for i, m in enumerate(headings):
        if m.group("name") == name:
            end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
            body = text[m.end() : end]
            return re.split(r"^\[[^\]]+\]: ", body, maxsplit=1, flags=re.MULTILINE)[0].strip("\n")
    return None


def _changelog_bump(text: str, version: str, date: str) -> str:
    if version in changelog_releases(text):
        return text
    unreleased = changelog_section(text, "Unreleased")
    if unreleased is None:
        raise ReleaseError("CHANGELOG.md: no '## [Unreleased]' heading to turn into the release section")
    if not unreleased.strip():
        raise ReleaseError(f"CHANGELOG.md: the Unreleased section is empty; describe what {version} changes first")
    previous = changelog_releases(text)
    text = re.sub(
        r"^## \[Unreleased\][ \t]*$", f"## [Unreleased]\n\n## [{version}] - {date}", text, count=1, flags=re.MULTILINE
    )
    # Keep a Changelog link references: Unreleased compares from the new tag, the new version from the previous one.
    link = f"{REPO_URL}/compare/v{previous[0]}...v{version}" if previous else f"{REPO_URL}/releases/tag/v{version}"
    ref = re.compile(r"^\[Unreleased\]: .*$", re.MULTILINE)
    new_refs = f"[Unreleased]: {REPO_URL}/compare/v{version}...HEAD\n[{version}]: {link}"
    if ref.search(text):
        text = ref.sub(lambda _: new_refs, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + new_refs + "\n"
    return text


# --- commands ----------------------------------------------------------------------------------------------


def check(root: Path, tag: str | None = None) -> str:
    """Verify that every version source agrees (and, given a tag, equals it and has a CHANGELOG section)."""
    version = current_version(root)
    releases = changelog_releases(_changelog(root))
    if tag is not None:
        wanted = validate_tag(tag)
        if wanted != version:
            raise ReleaseError(
                f"tag {tag} does not match the version in the tree ({version}); "
                f"run `python scripts/release.py bump {wanted}`, merge it, and tag that commit"
            )
        body = changelog_section(_changelog(root), version)
        if not body or not body.strip():
            raise ReleaseError(f"CHANGELOG.md has no non-empty '## [{version}] - <date>' section")
    if releases and releases[0] != version:
        raise ReleaseError(f"CHANGELOG.md: the newest release section is {releases[0]}, but the version is {version}")
    check_actions(root)
    major = version.split(".")[0]
    stale = [f"{s.describe(root)}=v{s.version}" for s in _major_refs(root) if s.version != major]
    if stale:
        raise ReleaseError(
            f"action examples name another major tag than v{major}: {', '.join(stale)}. "
            f"Fix with: python scripts/release.py bump {version}"
        )
    return version


def check_actions(root: Path) -> None:
    """The composite action is a drop-in for action.yml: same inputs and outputs, steps pinned by SHA.

    Trees without action.yml (a GitLab component tree) have nothing to check.
    """
    main_path, composite_path = root / "action.yml", root / COMPOSITE_ACTION
    if not main_path.is_file():
        return
    if not composite_path.is_file():
        raise ReleaseError(f"{COMPOSITE_ACTION} is missing under {root}: both actions ship in every release")
    main = _load_action(main_path.read_text(encoding="utf-8"))
    try:
        composite = yaml.safe_load(composite_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ReleaseError(f"{COMPOSITE_ACTION} is not valid YAML: {exc}") from exc
    runs = composite.get("runs") if isinstance(composite, dict) else None
    if not isinstance(runs, dict) or runs.get("using") != "composite":
        raise ReleaseError(f"{COMPOSITE_ACTION}: runs.using is not 'composite'")
    if composite.get("inputs") != main.get("inputs") or list(composite.get("outputs") or {}) != list(
        main.get("outputs") or {}
    ):
        raise ReleaseError(
            f"{COMPOSITE_ACTION} declares other inputs or outputs than action.yml; regenerate it: "
            f"python -m enkryptify_action.github.action_yml --composite > {COMPOSITE_ACTION}"
        )
    for step in runs.get("steps") or []:
        uses = step.get("uses") if isinstance(step, dict) else None
        if uses is not None and not _PINNED_USES_RE.fullmatch(str(uses)):
            raise ReleaseError(f"{COMPOSITE_ACTION}: `uses: {uses}` is not pinned by a 40-hex commit SHA")


def _major_refs(root: Path) -> list[Source]:
    refs: list[Source] = []
    for path in _files(root, MAJOR_REF, strict=False):
        text = path.read_text(encoding="utf-8")
        for m in MAJOR_REF.regex.finditer(text):
            refs.append(Source(path, text.count("\n", 0, m.start()) + 1, m.group("v")))
    return refs


def bump(root: Path, version: str, date: str | None = None) -> list[Path]:
    """Write `version` into every source and open its CHANGELOG section; returns the files changed."""
    validate_version(version)
    # pyproject.toml is the authority; the other sources are copies that bump may correct in either direction.
    package = find_sources(root)[0]
    if SEMVER_RE.fullmatch(package.version) and _key(package.version) > _key(version):
        raise ReleaseError(f"refusing to go back from {package.version} ({package.describe(root)}) to {version}")
    changed: dict[Path, str] = {}
    for pattern in PATTERNS:
        for path in _files(root, pattern):
            text = changed.get(path, path.read_text(encoding="utf-8"))
            changed[path] = pattern.regex.sub(lambda m: _replace_group(m, version), text)
    major = version.split(".")[0]
    for path in _files(root, MAJOR_REF, strict=False):
        text = changed.get(path, path.read_text(encoding="utf-8"))
        changed[path] = MAJOR_REF.regex.sub(lambda m: _replace_group(m, major), text)
    day = date or dt.date.today().isoformat()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise ReleaseError(f"bad date {day!r}: expected YYYY-MM-DD")
    changelog = root / "CHANGELOG.md"
    changed[changelog] = _changelog_bump(_changelog(root), version, day)
    written = [path for path, text in changed.items() if _write_if_changed(path, text)]
    check(root)
    return written


def _replace_group(m: re.Match[str], value: str) -> str:
    start, end = m.span("v")
    return m.group(0)[: start - m.start()] + value + m.group(0)[end - m.start() :]


def pin_image(root: Path, digest: str) -> bool:
    """Point action.yml's `runs.image` at the released image by digest; True when the file changed."""
    validate_digest(digest)
    path = root / "action.yml"
    if not path.is_file():
        raise ReleaseError(f"action.yml is missing under {root}")
    check_actions(root)  # the release commit carries both actions
    text = path.read_text(encoding="utf-8")
    before = _load_action(text)
    want = f"docker://{IMAGE}@{digest}"
    lines = text.splitlines(keepends=True)
    spots = _runs_image_lines(lines)
    if len(spots) != 1:
        raise ReleaseError(f"action.yml: expected exactly one `image:` under `runs:`, found {len(spots)}")
    i = spots[0]
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines[i] = f"{indent}image: {want}\n"
    new = "".join(lines)
    after = _load_action(new)
    before["runs"]["image"] = want
    if after != before:
        raise ReleaseError("action.yml: rewriting `runs.image` changed more than the image; edit it by hand")
    return _write_if_changed(path, new)


def _load_action(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ReleaseError(f"action.yml is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("runs"), dict) or "image" not in data["runs"]:
        raise ReleaseError("action.yml has no `runs.image` (is it a Docker container action?)")
    if data["runs"].get("using") != "docker":
        raise ReleaseError(f"action.yml: runs.using is {data['runs'].get('using')!r}, not 'docker'")
    return data


def _runs_image_lines(lines: Sequence[str]) -> list[int]:
    """Indexes of the `image:` lines that are direct children of the top-level `runs:` mapping."""
    found: list[int] = []
    in_runs = False
    indent: str | None = None
    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            in_runs, indent = line.rstrip() == "runs:", None
        elif in_runs:
            indent = indent or line[: len(line) - len(line.lstrip())]
            if re.match(rf"^{indent}image:", line):
                found.append(i)
    return found


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def notes(root: Path, version: str) -> str:
    validate_version(version)
    body = changelog_section(_changelog(root), version)
    if body is None or not body.strip():
        raise ReleaseError(f"CHANGELOG.md has no non-empty section for {version}")
    return body.strip() + "\n"


# GitLab CI/CD Catalog rules (gitlab.md: app/models/ci/catalog/components_project.rb).
_COMPONENT_PATH_RE = re.compile(r"templates/[\w-]+(?:/template)?\.yml")
_COMPONENTS_LIMIT = 30


def gitlab_tree(root: Path, dest: Path) -> list[str]:
    """Make `dest` hold exactly what the GitLab component project publishes; returns the component paths.

    `dest` is a clone of the GitLab project: everything in it but `.git` is replaced by `gitlab-component/`,
    plus LICENSE and CHANGELOG.md from this repository when the component has none of its own.
    """
    version = check(root)
    source = root / "gitlab-component"
    if not (source / "README.md").is_file():
        raise ReleaseError("gitlab-component/README.md is missing: the CI/CD Catalog requires a README.md")
    components = sorted(
        rel
        for p in source.glob("templates/**/*.yml")
        if _COMPONENT_PATH_RE.fullmatch(rel := p.relative_to(source).as_posix())
    )
    if not components:
        raise ReleaseError("gitlab-component/templates/ holds no component (templates/<name>.yml)")
    if len(components) > _COMPONENTS_LIMIT:
        raise ReleaseError(f"{len(components)} components: the CI/CD Catalog allows {_COMPONENTS_LIMIT}")
    if not dest.is_dir():
        raise ReleaseError(f"{dest} is not a directory (clone the GitLab project there first)")
    for child in dest.iterdir():
        if child.name == ".git":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(source, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))
    for name in ("LICENSE", "CHANGELOG.md"):
        if (root / name).is_file() and not (dest / name).exists():
            shutil.copy2(root / name, dest / name)
    staged = [s for s in find_sources(dest, strict=False) if s.version != version]
    if staged:
        raise ReleaseError(f"{staged[0].describe(dest)} names version {staged[0].version}, not {version}")
    return components


# --- CLI ---------------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="release.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="verify that every version source agrees")
    c.add_argument("--tag", help="also require this release tag (vX.Y.Z) to match, with a CHANGELOG section")
    b = sub.add_parser("bump", help="set the version everywhere and open its CHANGELOG section")
    b.add_argument("version", help="MAJOR.MINOR.PATCH, without a leading v")
    b.add_argument("--date", help="release date for the CHANGELOG heading (default: today, YYYY-MM-DD)")
    i = sub.add_parser("pin-image", help=f"point action.yml at docker://{IMAGE}@<digest>")
    i.add_argument("digest", help="sha256:<64 lowercase hex> of the pushed multi-arch image index")
    n = sub.add_parser("notes", help="print the CHANGELOG section of a version (release notes)")
    n.add_argument("version")
    g = sub.add_parser("gitlab-tree", help="replace DIR's files (a GitLab clone) with the component project")
    g.add_argument("dest", type=Path, metavar="DIR")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root: Path = args.root.resolve()
    try:
        if args.command == "check":
            version = check(root, args.tag)
            print(f"version {version}: all {len(find_sources(root))} version sources and CHANGELOG.md agree")
        elif args.command == "bump":
            written = bump(root, args.version, args.date)
            names = ", ".join(str(p.relative_to(root)) for p in written) or "nothing (already at this version)"
            print(f"version {args.version}: updated {names}")
        elif args.command == "pin-image":
            changed = pin_image(root, args.digest)
            print(f"action.yml: image docker://{IMAGE}@{args.digest}" + ("" if changed else " (unchanged)"))
        elif args.command == "notes":
            sys.stdout.write(notes(root, args.version))
        else:
            components = gitlab_tree(root, args.dest)
            print(f"{args.dest}: component project with {', '.join(components)}")
    except ReleaseError as exc:
        print(f"release.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
