"""The generated regions of README.md and gitlab-component/README.md are up to date, and backed by the code."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from enkryptify_action import errors
from enkryptify_action.options import OPTIONS
from tests.docs.gen_docs_script import ROOT, gen_docs

README = ROOT / "README.md"
COMPONENT_README = ROOT / "gitlab-component" / "README.md"


def test_make_docs_has_nothing_to_change() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/gen_docs.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr + "\nRun `make docs` and commit the result."


@pytest.mark.parametrize("path", [README, COMPONENT_README], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_regions_are_well_formed(path) -> None:
    text = path.read_text(encoding="utf-8")
    begins = re.findall(r"<!-- BEGIN GENERATED: ([^>]+?) -->", text)
    ends = re.findall(r"<!-- END GENERATED: ([^>]+?) -->", text)
    assert begins and begins == ends, "every BEGIN GENERATED marker needs its END marker, in order"
    assert len(gen_docs.REGION.findall(text)) == len(begins)


def test_a_stale_region_is_detected_and_rewritten() -> None:
    stale = "before\n<!-- BEGIN GENERATED: exit-codes -->\n| 0 | old |\n<!-- END GENERATED: exit-codes -->\nafter\n"
    fresh = gen_docs.regenerate(stale)
    assert fresh != stale and fresh.startswith("before\n") and fresh.endswith("\nafter\n")
    assert gen_docs.regenerate(fresh) == fresh
    for code, meaning in errors.EXIT_CODES.items():
        assert f"| {int(code)} | {meaning} |" in fresh


def test_unknown_region_fails() -> None:
    with pytest.raises(SystemExit, match="unknown generated region"):
        gen_docs.regenerate("<!-- BEGIN GENERATED: nonsense -->\n<!-- END GENERATED: nonsense -->")


def test_options_table_lists_every_option_with_its_variable_and_default() -> None:
    text = README.read_text(encoding="utf-8")
    for option in OPTIONS:
        start = f"| `{option.name}` | `{option.env_var}`"
        row = next((line for line in text.splitlines() if line.startswith(start)), "")
        assert row, f"options table has no row for {option.name}"
        assert f"| `{option.default_text()}` |" in row or (option.default_text() == "" and '| `""` |' in row)


def test_component_table_is_generated_from_the_template() -> None:
    """tests/gitlab/test_component_template.py checks this table's defaults against the template too."""
    text = COMPONENT_README.read_text(encoding="utf-8")
    assert gen_docs.component_inputs_table() in text
