"""scripts/release.py on temporary trees: version bump, digest pin, checks, notes and the GitLab tree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.release.release_script import DIGEST, OTHER_DIGEST, ROOT, make_tree, release

ReleaseError = release.ReleaseError


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file()}


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release.py"), "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
    )


# --- check ---------------------------------------------------------------------------------------------------


def test_check_finds_every_kind_of_source(tmp_path):
    root = make_tree(tmp_path)
    assert release.check(root) == "1.2.3"
    where = sorted(s.describe(root).split(":")[0] for s in release.find_sources(root))
    assert where == [
        "Dockerfile",
        "README.md",
        "enkryptify_action/__init__.py",
        "gitlab-component/.gitlab-ci.yml",
        "gitlab-component/README.md",
        "gitlab-component/README.md",
        "gitlab-component/templates/fetch-secrets.yml",
        "pyproject.toml",
    ]


def test_check_names_each_disagreeing_source(tmp_path):
    root = make_tree(tmp_path, component="1.0.0")
    with pytest.raises(ReleaseError) as info:
        release.check(root)
    message = str(info.value)
    assert "pyproject.toml:3=1.2.3" in message
    assert "gitlab-component/templates/fetch-secrets.yml:4=1.0.0" in message
    assert "release.py bump X.Y.Z" in message


def test_check_catches_a_latest_tag(tmp_path):
    root = make_tree(tmp_path)
    ci = root / "gitlab-component/.gitlab-ci.yml"
    ci.write_text(ci.read_text().replace(":1.2.3", ":latest"))
    with pytest.raises(ReleaseError, match=r"\.gitlab-ci\.yml:3=latest"):
        release.check(root)


def test_check_with_tag(tmp_path):
    root = make_tree(tmp_path, released=True)
    assert release.check(root, "v1.2.3") == "1.2.3"
    with pytest.raises(ReleaseError, match=r"tag v1\.2\.4 does not match the version in the tree \(1\.2\.3\)"):
        release.check(root, "v1.2.4")
    for bad in ("1.2.3", "v1.2", "v1.2.3-rc1", "v01.2.3", "release-1.2.3", "v1.2.3\n"):
        with pytest.raises(ReleaseError, match="bad release tag"):
            release.check(root, bad)


def test_check_with_tag_needs_a_changelog_section(tmp_path):
    root = make_tree(tmp_path, released=False)
    with pytest.raises(ReleaseError, match=r"no non-empty '## \[1\.2\.3\] - <date>' section"):
        release.check(root, "v1.2.3")


def test_check_refuses_a_changelog_ahead_of_the_version(tmp_path):
    root = make_tree(tmp_path, released=True)
    changelog = root / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("## [1.2.3]", "## [1.3.0]"))
    with pytest.raises(ReleaseError, match=r"newest release section is 1\.3\.0, but the version is 1\.2\.3"):
        release.check(root)


# --- bump ----------------------------------------------------------------------------------------------------


def test_bump_writes_every_source_and_opens_the_changelog_section(tmp_path):
    root = make_tree(tmp_path, released=True)
    written = release.bump(root, "1.3.0", "2026-11-27")
    assert {str(p.relative_to(root)) for p in written} == {
        "pyproject.toml",
        "enkryptify_action/__init__.py",
        "Dockerfile",
        "gitlab-component/templates/fetch-secrets.yml",
        "gitlab-component/.gitlab-ci.yml",
        "gitlab-component/README.md",
        "README.md",
        "CHANGELOG.md",
    }
    assert {s.version for s in release.find_sources(root)} == {"1.3.0"}
    assert release.check(root, "v1.3.0") == "1.3.0"
    changelog = (root / "CHANGELOG.md").read_text()
    assert "## [Unreleased]\n\n## [1.3.0] - 2026-11-27\n\n### Added\n\n- Something new.\n\n## [1.2.3]" in changelog
    assert changelog.endswith(
        "[Unreleased]: https://github.com/enkryptify/fetch-secrets/compare/v1.3.0...HEAD\n"
        "[1.3.0]: https://github.com/enkryptify/fetch-secrets/compare/v1.2.3...v1.3.0\n"
    )
    # The action's major ref stays v1 within 1.x; the SHA-pinned include is not a version source.
    readme = (root / "README.md").read_text()
    assert "enkryptify/fetch-secrets@v1\n" in readme
    assert "fetch-secrets@4f58ea79222b3b9dc2c8bbdd6debcef730109a75" in (root / "gitlab-component/README.md").read_text()


def test_bump_to_a_new_major_moves_the_action_ref(tmp_path):
    root = make_tree(tmp_path)
    (root / "examples/github").mkdir(parents=True)
    (root / "examples/github/basic.yml").write_text("steps:\n  - uses: enkryptify/fetch-secrets@v1\n")
    release.bump(root, "2.0.0", "2026-11-27")
    assert "enkryptify/fetch-secrets@v2\n" in (root / "README.md").read_text()
    assert "enkryptify/fetch-secrets@v2\n" in (root / "examples/github/basic.yml").read_text()


def test_check_refuses_a_stale_action_major(tmp_path):
    root = make_tree(tmp_path)
    (root / "README.md").write_text("- uses: enkryptify/fetch-secrets@v0\n")
    with pytest.raises(release.ReleaseError, match=r"README.md:1=v0"):
        release.check(root)


def test_bump_is_idempotent(tmp_path):
    root = make_tree(tmp_path)
    assert release.bump(root, "2.0.0", "2026-11-27")
    before = _snapshot(root)
    assert release.bump(root, "2.0.0", "2026-12-31") == []
    assert _snapshot(root) == before


def test_bump_to_the_current_version_adds_the_first_release_section(tmp_path):
    root = make_tree(tmp_path, component="1.0.0")  # the copies may even be ahead: pyproject.toml decides
    written = release.bump(root, "1.2.3", "2026-11-27")
    assert "pyproject.toml" not in {p.name for p in written}
    changelog = (root / "CHANGELOG.md").read_text()
    assert "## [1.2.3] - 2026-11-27" in changelog
    assert "[1.2.3]: https://github.com/enkryptify/fetch-secrets/releases/tag/v1.2.3" in changelog
    assert release.check(root, "v1.2.3") == "1.2.3"


@pytest.mark.parametrize(
    ("version", "hint"),
    [
        ("v1.3.0", "without the leading 'v'"),
        ("1.3", "expected MAJOR.MINOR.PATCH"),
        ("01.3.0", "expected MAJOR.MINOR.PATCH"),
        ("1.3.0-rc1", "expected MAJOR.MINOR.PATCH"),
        ("1.3.0\n", "expected MAJOR.MINOR.PATCH"),
        ("", "expected MAJOR.MINOR.PATCH"),
    ],
)
def test_bump_refuses_bad_versions(tmp_path, version, hint):
    root = make_tree(tmp_path)
    before = _snapshot(root)
    with pytest.raises(ReleaseError, match=f"bad version .*{hint}"):
        release.bump(root, version)
    assert _snapshot(root) == before


def test_bump_refuses_to_go_back(tmp_path):
    root = make_tree(tmp_path)
    with pytest.raises(ReleaseError, match=r"refusing to go back from 1\.2\.3 \(pyproject\.toml:3\) to 1\.2\.2"):
        release.bump(root, "1.2.2")
    with pytest.raises(ReleaseError, match="refusing to go back"):
        release.bump(root, "0.99.99")


def test_bump_refuses_an_empty_unreleased_section(tmp_path):
    root = make_tree(tmp_path, released=True)
    changelog = root / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("### Added\n\n- Something new.\n\n", ""))
    before = _snapshot(root)
    with pytest.raises(ReleaseError, match=r"Unreleased section is empty; describe what 1\.2\.4 changes first"):
        release.bump(root, "1.2.4")
    assert _snapshot(root) == before


def test_bump_compares_versions_numerically(tmp_path):
    root = make_tree(tmp_path, "1.9.0")
    release.bump(root, "1.10.0", "2026-11-27")
    assert release.check(root) == "1.10.0"


def test_bump_refuses_a_bad_date(tmp_path):
    root = make_tree(tmp_path)
    with pytest.raises(ReleaseError, match="bad date"):
        release.bump(root, "1.3.0", "27/11/2026")


# --- pin-image -----------------------------------------------------------------------------------------------


def test_pin_image_changes_only_the_image_line(tmp_path):
    root = make_tree(tmp_path)
    original = (root / "action.yml").read_text()
    assert release.pin_image(root, DIGEST) is True
    pinned = (root / "action.yml").read_text()
    changed = [(a, b) for a, b in zip(original.splitlines(), pinned.splitlines(), strict=True) if a != b]
    assert changed == [("  image: Dockerfile", f"  image: docker://ghcr.io/enkryptify/fetch-secrets@{DIGEST}")]
    assert yaml.safe_load(pinned)["runs"]["image"] == f"docker://ghcr.io/enkryptify/fetch-secrets@{DIGEST}"


def test_pin_image_is_idempotent_and_repins(tmp_path):
    root = make_tree(tmp_path)
    release.pin_image(root, DIGEST)
    once = (root / "action.yml").read_text()
    assert release.pin_image(root, DIGEST) is False
    assert (root / "action.yml").read_text() == once
    assert release.pin_image(root, OTHER_DIGEST) is True
    assert yaml.safe_load((root / "action.yml").read_text())["runs"]["image"].endswith(OTHER_DIGEST)


def test_pinned_action_yml_is_a_valid_action(tmp_path):
    root = make_tree(tmp_path)
    release.pin_image(root, DIGEST)
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("digest", "message"),
    [
        ("0123456789abcdef" * 4, "add the algorithm prefix, sha256:0123"),
        ("sha256:" + "A" * 64, "64 lowercase hex"),
        ("sha256:" + "a" * 63, "64 lowercase hex"),
        ("sha256:" + "a" * 65, "64 lowercase hex"),
        ("sha512:" + "a" * 64, "64 lowercase hex"),
        ("sha256:" + "g" * 64, "64 lowercase hex"),
        (f"{DIGEST}\nimage: evil", "64 lowercase hex"),
        (f"{DIGEST}\n", "64 lowercase hex"),
        ("", "64 lowercase hex"),
    ],
)
def test_pin_image_refuses_bad_digests(tmp_path, digest, message):
    root = make_tree(tmp_path)
    before = _snapshot(root)
    with pytest.raises(ReleaseError, match=f"bad image digest .*{message}"):
        release.pin_image(root, digest)
    assert _snapshot(root) == before


def test_pin_image_needs_one_runs_image(tmp_path):
    root = make_tree(tmp_path)
    (root / "action.yml").write_text("name: x\ndescription: y\nruns:\n  using: node20\n  main: index.js\n")
    with pytest.raises(ReleaseError, match=r"no `runs\.image`"):
        release.pin_image(root, DIGEST)
    (root / "action.yml").unlink()
    with pytest.raises(ReleaseError, match=r"action\.yml is missing"):
        release.pin_image(root, DIGEST)


def test_pin_image_ignores_image_keys_outside_runs(tmp_path):
    root = make_tree(tmp_path)
    for name in ("action.yml", "any-runner/action.yml"):  # the composite stays a drop-in
        text = (root / name).read_text().replace("inputs:\n", "inputs:\n  image:\n    description: x\n", 1)
        (root / name).write_text(text)
    release.pin_image(root, DIGEST)
    data = yaml.safe_load((root / "action.yml").read_text())
    assert data["inputs"]["image"] == {"description": "x"}
    assert data["runs"]["image"].endswith(DIGEST)


# --- the composite action ---------------------------------------------------------------------------------


def test_the_composite_folder_is_the_generated_one():
    from enkryptify_action.github import action_yml

    assert release.COMPOSITE_DIR == action_yml.COMPOSITE_DIR
    assert (ROOT / release.COMPOSITE_ACTION).is_file()


def test_bump_to_a_new_major_moves_the_composite_action_ref_too(tmp_path):
    root = make_tree(tmp_path)
    (root / "examples/github").mkdir(parents=True)
    (root / "examples/github/macos.yml").write_text("steps:\n  - uses: enkryptify/fetch-secrets/any-runner@v1\n")
    release.bump(root, "2.0.0", "2026-11-27")
    assert "enkryptify/fetch-secrets/any-runner@v2\n" in (root / "examples/github/macos.yml").read_text()


def test_check_refuses_a_stale_composite_action_major(tmp_path):
    root = make_tree(tmp_path)
    (root / "README.md").write_text("- uses: enkryptify/fetch-secrets/any-runner@v0\n")
    with pytest.raises(ReleaseError, match=r"README.md:1=v0"):
        release.check(root)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("  token:\n", "  tokn:\n", 1), "other inputs or outputs than action.yml"),
        (lambda t: t.replace("  count:\n", "  total:\n", 1), "other inputs or outputs than action.yml"),
        (lambda t: t.replace("using: composite", "using: node20", 1), "runs.using is not 'composite'"),
        (lambda t: re.sub(r"setup-python@[0-9a-f]{40}", "setup-python@v5", t), "not pinned by a 40-hex"),
        (lambda t: t + "  - [\n", "not valid YAML"),
    ],
)
def test_check_and_pin_image_refuse_a_composite_that_is_no_longer_a_drop_in(tmp_path, edit, message):
    root = make_tree(tmp_path)
    path = root / "any-runner/action.yml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(ReleaseError, match=re.escape(message)):
        release.check(root)
    before = (root / "action.yml").read_text()
    with pytest.raises(ReleaseError, match=re.escape(message)):
        release.pin_image(root, DIGEST)
    assert (root / "action.yml").read_text() == before, "nothing pinned"


def test_check_requires_the_composite_action(tmp_path):
    root = make_tree(tmp_path)
    (root / "any-runner/action.yml").unlink()
    with pytest.raises(ReleaseError, match=r"any-runner/action\.yml is missing"):
        release.check(root)


# --- notes and the GitLab tree -------------------------------------------------------------------------------


def test_notes_print_the_release_section(tmp_path):
    root = make_tree(tmp_path, released=True)
    assert release.notes(root, "1.2.3") == "- First.\n"
    with pytest.raises(ReleaseError, match=r"no non-empty section for 9\.9\.9"):
        release.notes(root, "9.9.9")


def test_gitlab_tree_replaces_the_clone_and_keeps_git(tmp_path):
    root = make_tree(tmp_path / "repo")
    (root / "LICENSE").write_text("MIT\n")
    dest = tmp_path / "clone"
    (dest / ".git").mkdir(parents=True)
    (dest / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (dest / "stale.yml").write_text("old\n")
    (dest / "templates").mkdir()
    (dest / "templates" / "removed.yml").write_text("old\n")
    assert release.gitlab_tree(root, dest) == ["templates/fetch-secrets.yml"]
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == [
        ".git/HEAD",
        ".gitlab-ci.yml",
        "CHANGELOG.md",
        "LICENSE",
        "README.md",
        "templates/fetch-secrets.yml",
    ]
    before = _snapshot(dest)
    release.gitlab_tree(root, dest)
    assert _snapshot(dest) == before


def test_gitlab_tree_refuses_what_the_catalog_would_refuse(tmp_path):
    root = make_tree(tmp_path / "repo")
    dest = tmp_path / "clone"
    dest.mkdir()
    (root / "gitlab-component/templates/fetch-secrets.yml").rename(root / "gitlab-component/templates/bad.yaml")
    with pytest.raises(ReleaseError, match="holds no component"):
        release.gitlab_tree(root, dest)
    (root / "gitlab-component/README.md").unlink()
    with pytest.raises(ReleaseError, match=r"requires a README\.md"):
        release.gitlab_tree(root, dest)


# --- CLI -----------------------------------------------------------------------------------------------------


def test_cli_round_trip(tmp_path):
    root = make_tree(tmp_path)
    result = _cli(root, "bump", "1.3.0", "--date", "2026-11-27")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("version 1.3.0: updated ")
    assert _cli(root, "bump", "1.3.0").stdout == "version 1.3.0: updated nothing (already at this version)\n"
    result = _cli(root, "check", "--tag", "v1.3.0")
    assert (result.returncode, result.stdout) == (0, "version 1.3.0: all 8 version sources and CHANGELOG.md agree\n")
    assert _cli(root, "pin-image", DIGEST).returncode == 0
    assert _cli(root, "pin-image", DIGEST).stdout.endswith("(unchanged)\n")
    assert _cli(root, "notes", "1.3.0").stdout == "### Added\n\n- Something new.\n"


def test_cli_errors_are_one_line_with_exit_1(tmp_path):
    root = make_tree(tmp_path)
    result = _cli(root, "pin-image", "latest")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("release.py: error: bad image digest 'latest'")
    assert result.stderr.count("\n") == 1


def test_cli_usage_errors_exit_2(tmp_path):
    assert _cli(tmp_path).returncode == 2
    assert _cli(tmp_path, "bump").returncode == 2
