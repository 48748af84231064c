"""What the README tells a newcomer to run or copy works: commands, YAML, quoted figures, action refs."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from enkryptify_action import __version__
from enkryptify_action.github import action_yml
from tests.docs.gen_docs_script import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def yaml_blocks(text: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.DOTALL | re.MULTILINE)
    assert match is not None, f"README has no section {title!r}"
    return match.group(1)


def test_make_targets_named_in_the_readme_exist() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)`", README)) | set(re.findall(r"^make ([a-z-]+)", README, re.M))
    assert {"demo", "test", "docs"} <= named
    assert named <= targets, f"README names make targets the Makefile lacks: {named - targets}"
    phony = {t for line in re.findall(r"^\.PHONY:(.*)$", MAKEFILE, re.MULTILINE) for t in line.split()}
    assert named <= phony


def test_github_quick_start_uses_only_declared_inputs() -> None:
    declared = set(yaml.safe_load(action_yml.render())["inputs"])
    steps = [s for block in yaml_blocks(section("GitHub Actions quick start")) for s in yaml.safe_load(block)]
    ours = [s for s in steps if str(s.get("uses", "")).startswith("enkryptify/fetch-secrets@")]
    assert len(ours) == 1
    assert set(ours[0]["with"]) <= declared
    assert ours[0]["env"] == {"ENKRYPTIFY_TOKEN": "${{ secrets.ENKRYPTIFY_TOKEN }}"}
    assert any("run" in s for s in steps)


def test_action_refs_name_this_major_version() -> None:
    """The release moves vX to every X.Y.Z (release.yml): a README ref to another major does not exist."""
    major = __version__.split(".")[0]
    paths = [ROOT / "README.md", ROOT / "examples" / "github" / "config-branch-mapping.yml"]
    for path in paths:
        refs = re.findall(r"enkryptify/fetch-secrets@(v[0-9][0-9.]*)", path.read_text(encoding="utf-8"))
        assert refs, path
        for ref in refs:
            assert ref in (f"v{major}", f"v{__version__}"), f"{path.name}: {ref} (version {__version__})"


def test_every_yaml_block_parses() -> None:
    for block in yaml_blocks(README):
        yaml.safe_load(block)


def test_linked_files_exist() -> None:
    for target in re.findall(r"\]\(([^)#:]+)\)", README):
        assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


def test_pipx_and_image_commands_name_the_real_package() -> None:
    assert "pipx run --spec enkryptify-action enkryptify-fetch " in README
    assert f"ghcr.io/enkryptify/fetch-secrets:{__version__} " in README
    scripts = re.search(r"\[project\.scripts\]\n(.*?)\n\n", (ROOT / "pyproject.toml").read_text(), re.DOTALL)
    assert scripts is not None and 'enkryptify-fetch = "enkryptify_action.cli:main"' in scripts.group(1)
    assert 'name = "enkryptify-action"' in (ROOT / "pyproject.toml").read_text()


def test_performance_figures_are_quoted_from_the_benchmark() -> None:
    results = (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    text = section("Performance")
    date = re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", text)
    assert date is not None and f"Date: {date.group(0)}" in results, "quote the date of the run in bench/RESULTS.md"
    figures = re.findall(r"\d[\d,.]*(?= ?(?:ms|s|MB|x)\b)", text)
    assert len(figures) >= 8
    for figure in figures:
        assert figure in results, f"README quotes {figure}, which bench/RESULTS.md does not contain"


def test_reliability_section_is_present() -> None:
    text = section("Reliability")
    assert "tests/hardening/" in text and "make fuzz" in text


def test_make_demo_script_runs_and_reads_like_a_runner_log() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "::add-mask::" in out and "commands registered first" in out  # masks, counted, never echoed
    assert "▼ Enkryptify: exporting" in out  # the log group
    assert "Step summary (rendered" in out and "─────" in out  # the summary as a text table
    assert "(exit code 4)" in out and "hint:" in out  # the mistake, with its hint
    assert "DATABASE_URL='***'" in out  # values masked
